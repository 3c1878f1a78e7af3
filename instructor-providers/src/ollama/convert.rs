//! Neutral request → `/api/chat` body, its answer → neutral response.

use instructor_core::{
    Error, FinishReason, Image, Part, Request, Response, Role, ToolArguments, ToolCall, Usage,
};
use serde_json::Value;

use super::wire::*;
use crate::http::{status_error, Reply};

fn name_of<'a>(request: &'a Request, id: Option<&str>) -> Option<&'a str> {
    request
        .messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .find(|c| Some(c.id.as_str()) == id)
        .map(|c| c.name.as_str())
}

pub(crate) fn messages(request: &Request) -> Vec<WireMessage<'_>> {
    request
        .messages
        .iter()
        .map(|m| WireMessage {
            role: match m.role {
                Role::System => "system",
                Role::Assistant => "assistant",
                Role::Tool => "tool",
                _ => "user",
            },
            content: m.text(),
            images: m
                .content
                .iter()
                .filter_map(|p| match p {
                    Part::Image(Image::Base64 { data, .. }) => Some(data.as_str()),
                    _ => None,
                })
                .collect(),
            tool_calls: m
                .tool_calls
                .iter()
                .map(|c| WireToolCall {
                    function: WireFunction {
                        name: &c.name,
                        arguments: match &c.arguments {
                            ToolArguments::Json(v) => v.clone(),
                            ToolArguments::Text(t) => {
                                serde_json::from_str(t).unwrap_or(Value::Object(Default::default()))
                            }
                        },
                    },
                })
                .collect(),
            tool_name: if m.role == Role::Tool {
                name_of(request, m.tool_call_id.as_deref())
            } else {
                None
            },
        })
        .collect()
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: ChatResponse = serde_json::from_str(&body).map_err(|e| Error::Protocol {
        message: format!("not an Ollama chat response: {e}"),
        raw: Some(body.clone()),
    })?;
    let tool_calls: Vec<ToolCall> = parsed
        .message
        .tool_calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: c.id.unwrap_or_else(|| format!("call_{i}")),
            name: c.function.name,
            arguments: match c.function.arguments {
                Value::String(s) => ToolArguments::Text(s),
                other => ToolArguments::Json(other),
            },
        })
        .collect();
    let finish = match parsed.done_reason.as_deref() {
        Some("length") => FinishReason::Length,
        _ if !tool_calls.is_empty() => FinishReason::ToolCalls,
        Some("stop") => FinishReason::Stop,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Unknown,
    };
    Ok(Response {
        text: (!parsed.message.content.is_empty()).then_some(parsed.message.content),
        tool_calls,
        refusal: None,
        finish_reason: finish,
        usage: Usage::new(parsed.prompt_eval_count, parsed.eval_count),
        model: parsed.model,
        raw: Some(body),
    })
}

pub(crate) fn error(reply: Reply) -> Error {
    status_error(reply, false, None)
}

/// One NDJSON line of `/api/chat` → neutral events; `done: true` is the end. Tool calls
/// arrive whole.
pub(crate) fn stream_events(data: &str, calls: &mut usize) -> crate::events::Mapped {
    crate::events::fragment_events(data, calls, response, |line, _| {
        line.get("done").and_then(Value::as_bool) == Some(true)
    })
}
