//! Neutral request → Cohere v2 chat body, its answer → neutral response.

use instructor_core::{
    Error, FinishReason, Request, Response, Role, ToolArguments, ToolCall, Usage,
};
use serde_json::Value;

use super::wire::*;
use crate::events::Mapped;
use crate::http::{status_error, Reply};

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
            content: {
                let text = m.text();
                (!text.is_empty() || m.tool_calls.is_empty()).then_some(text)
            },
            tool_calls: (!m.tool_calls.is_empty()).then(|| {
                m.tool_calls
                    .iter()
                    .map(|c| WireToolCall {
                        id: &c.id,
                        kind: "function",
                        function: WireFunction {
                            name: &c.name,
                            arguments: c.arguments.to_text(),
                        },
                    })
                    .collect()
            }),
            tool_call_id: m.tool_call_id.as_deref(),
        })
        .collect()
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("COMPLETE") | Some("STOP_SEQUENCE") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some("TOOL_CALL") => FinishReason::ToolCalls,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Unknown,
    }
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: ChatResponse = serde_json::from_str(&body).map_err(|e| Error::Protocol {
        message: format!("not a Cohere chat response: {e}"),
        raw: Some(body.clone()),
    })?;
    let text: String = parsed
        .message
        .content
        .iter()
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect();
    let tool_calls = parsed
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
    let tokens = parsed
        .usage
        .and_then(|u| u.tokens.or(u.billed_units))
        .unwrap_or_default();
    Ok(Response {
        text: (!text.is_empty()).then_some(text),
        tool_calls,
        refusal: None,
        finish_reason: finish_reason(parsed.finish_reason.as_deref()),
        usage: Usage::new(tokens.input_tokens as u64, tokens.output_tokens as u64),
        model: None,
        raw: Some(body),
    })
}

pub(crate) fn error(reply: Reply) -> Error {
    status_error(reply, false, None)
}

/// Cohere v2's typed stream events → neutral events; `message-end` is the end.
pub(crate) fn stream_events(data: &str) -> Mapped {
    use instructor_core::StreamEvent;
    let v: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => {
            return Mapped::more(vec![Err(Error::Protocol {
                message: format!("a stream event is not JSON: {e}"),
                raw: Some(data.to_owned()),
            })])
        }
    };
    let index = v.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
    let text = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
    match v.get("type").and_then(Value::as_str).unwrap_or("") {
        "content-delta" => Mapped::more(
            text("/delta/message/content/text")
                .map(|t| vec![Ok(StreamEvent::TextDelta(t))])
                .unwrap_or_default(),
        ),
        "tool-call-start" | "tool-call-delta" => {
            Mapped::more(vec![Ok(StreamEvent::ToolCallDelta {
                index,
                id: text("/delta/message/tool_calls/id"),
                name: text("/delta/message/tool_calls/function/name"),
                arguments: text("/delta/message/tool_calls/function/arguments").unwrap_or_default(),
            })])
        }
        "message-end" => {
            let tokens = v
                .pointer("/delta/usage/tokens")
                .or_else(|| v.pointer("/delta/usage/billed_units"))
                .cloned()
                .unwrap_or(Value::Null);
            let n = |k: &str| tokens.get(k).and_then(Value::as_f64).unwrap_or(0.0) as u64;
            Mapped::end(vec![
                Ok(StreamEvent::Usage(Usage::new(
                    n("input_tokens"),
                    n("output_tokens"),
                ))),
                Ok(StreamEvent::Finish(finish_reason(
                    v.pointer("/delta/finish_reason").and_then(Value::as_str),
                ))),
            ])
        }
        _ => Mapped::more(Vec::new()),
    }
}
