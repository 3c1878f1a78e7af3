//! Neutral request → Messages body, Messages answer → neutral response, error bodies →
//! typed errors.

use instructor_core::{
    Error, FinishReason, Image, Part, Request, Response, Role, ToolArguments, ToolCall, Usage,
};
use serde_json::Value;

use super::wire::*;
use crate::http::{status_error, Reply};

fn blocks(m: &instructor_core::Message) -> Vec<Block<'_>> {
    let mut out: Vec<Block<'_>> = m
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Text(text) if !text.is_empty() => Some(Block::Text { text }),
            Part::Image(Image::Url(url)) => Some(Block::Image {
                source: ImageSource::Url { url },
            }),
            Part::Image(Image::Base64 { media_type, data }) => Some(Block::Image {
                source: ImageSource::Base64 { media_type, data },
            }),
            _ => None,
        })
        .collect();
    for call in &m.tool_calls {
        let input = match &call.arguments {
            ToolArguments::Json(v) => v.clone(),
            ToolArguments::Text(t) => {
                serde_json::from_str(t).unwrap_or(Value::Object(Default::default()))
            }
        };
        out.push(Block::ToolUse {
            id: &call.id,
            name: &call.name,
            input,
        });
    }
    out
}

/// System text (top level) and the conversation, with tool results as `tool_result` blocks
/// in user turns (consecutive ones merged into one turn, as the API expects).
pub(crate) fn messages(request: &Request) -> (Option<String>, Vec<WireMessage<'_>>) {
    let mut system = Vec::new();
    let mut out: Vec<WireMessage<'_>> = Vec::new();
    for m in &request.messages {
        match m.role {
            Role::System => system.push(m.text()),
            Role::Tool => {
                let block = Block::ToolResult {
                    tool_use_id: m.tool_call_id.as_deref().unwrap_or_default(),
                    content: m.text(),
                    is_error: m.is_error,
                };
                match out.last_mut() {
                    Some(last)
                        if last.role == "user"
                            && matches!(last.content.first(), Some(Block::ToolResult { .. })) =>
                    {
                        last.content.push(block)
                    }
                    _ => out.push(WireMessage {
                        role: "user",
                        content: vec![block],
                    }),
                }
            }
            Role::Assistant => out.push(WireMessage {
                role: "assistant",
                content: blocks(m),
            }),
            _ => out.push(WireMessage {
                role: "user",
                content: blocks(m),
            }),
        }
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    (system, out)
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::Refusal,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Unknown,
    }
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: MessagesResponse = serde_json::from_str(&body).map_err(|e| Error::Protocol {
        message: format!("not a Messages response: {e}"),
        raw: Some(body.clone()),
    })?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in parsed.content {
        match block {
            RespBlock::Text { text: t } => text.push_str(&t),
            RespBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                name,
                arguments: ToolArguments::Json(input),
            }),
            RespBlock::Other => {}
        }
    }
    let u = parsed.usage;
    let input = u.input_tokens
        + u.cache_creation_input_tokens.unwrap_or(0)
        + u.cache_read_input_tokens.unwrap_or(0);
    Ok(Response {
        text: (!text.is_empty()).then_some(text),
        tool_calls,
        refusal: None,
        finish_reason: finish_reason(parsed.stop_reason.as_deref()),
        usage: Usage::new(input, u.output_tokens),
        model: parsed.model,
        raw: Some(body),
    })
}

pub(crate) fn error(reply: Reply) -> Error {
    let body: ErrorBody = serde_json::from_str(&reply.body).unwrap_or_default();
    let quota = body.error.kind == "billing_error";
    status_error(reply, quota, None)
}
