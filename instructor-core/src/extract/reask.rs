//! Re-asking: the model's failed answer and the error (with JSON paths) appended to the
//! conversation the way the mode needs: a tool result (marked as an error) answering each
//! tool call, or a user message after the assistant's text.

use crate::{Error, Message, Mode, Response};

/// The feedback a model reads: what was wrong, where, and what it said.
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
    format!(
        "{what}\n\nPrevious answer:\n{raw}\n\nCorrect the errors and answer again with data that conforms to the schema."
    )
}

/// Appends the failed answer and the feedback. The caller's own messages were copied into
/// the request before the first attempt, so they are never touched.
pub(crate) fn append(
    messages: &mut Vec<Message>,
    mode: Mode,
    response: &Response,
    feedback: String,
) {
    if mode.uses_tools() && !response.tool_calls.is_empty() {
        messages.push(Message::assistant_tool_calls(response.tool_calls.clone()));
        for call in &response.tool_calls {
            messages.push(Message::tool_result(
                call.id.clone(),
                feedback.clone(),
                true,
            ));
        }
        return;
    }
    messages.push(Message::assistant(
        response.text.clone().unwrap_or_default(),
    ));
    messages.push(Message::user(feedback));
}
