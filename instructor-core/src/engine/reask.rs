//! Re-asking: the model's failed answer and the error (with JSON paths) appended to the
//! conversation the way the mode needs: a tool result (marked as an error) answering each
//! tool call, or a user message after the assistant's text.

use super::modes::spec;
use crate::{Error, Message, Mode, Response};

/// How much of the previous answer the feedback quotes; the whole answer is in the
/// conversation already, as the assistant's turn.
const QUOTE: usize = 2000;

/// The feedback a model reads: what was wrong, where, and (the start of) what it said.
pub(crate) fn feedback(error: &Error, raw: &str) -> String {
    let what = match error {
        Error::Validation { errors, .. } => {
            format!("Your previous answer failed validation:\n{errors}")
        }
        Error::Parse { message, .. } => {
            format!("Your previous answer could not be parsed: {message}")
        }
        other => format!("Your previous answer could not be used: {other}"),
    };
    let mut end = raw.len().min(QUOTE);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    let more = if end < raw.len() { " […]" } else { "" };
    format!(
        "{what}\n\nPrevious answer:\n{}{more}\n\nCorrect the errors and answer again with data that conforms to the schema.",
        &raw[..end]
    )
}

/// Appends the failed answer (moved into the conversation) and the feedback. The caller's
/// own messages were copied into the request before the first attempt, so they are never
/// touched.
pub(crate) fn append(
    messages: &mut Vec<Message>,
    mode: Mode,
    response: Response,
    feedback: String,
) {
    if spec(mode).reask_as_tool_result && !response.tool_calls.is_empty() {
        let ids: Vec<String> = response.tool_calls.iter().map(|c| c.id.clone()).collect();
        messages.push(Message::assistant_tool_calls(response.tool_calls));
        for id in ids {
            messages.push(Message::tool_result(id, feedback.clone(), true));
        }
        return;
    }
    messages.push(Message::assistant(response.text.unwrap_or_default()));
    messages.push(Message::user(feedback));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feedback_quotes_a_bounded_excerpt() {
        let e = Error::Parse {
            raw: String::new(),
            message: "EOF".into(),
        };
        let big = "é".repeat(10_000);
        let f = feedback(&e, &big);
        assert!(f.len() < QUOTE + 300, "{}", f.len());
        assert!(f.contains("[…]"));
        assert!(feedback(&e, "short").contains("short\n"));
    }
}
