//! Neutral request → Messages body, Messages answer → neutral response, error bodies →
//! typed errors.

use instructor_core::{
    Error, FinishReason, Image, Part, Request, Response, Role, ToolArguments, ToolCall, Usage,
};
use serde_json::Value;

use super::wire::*;
use crate::events::Mapped;
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
    let input = u
        .input_tokens
        .saturating_add(u.cache_creation_input_tokens.unwrap_or(0))
        .saturating_add(u.cache_read_input_tokens.unwrap_or(0));
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

/// Anthropic's named SSE events → neutral events; `message_stop` is the end. `tools` maps
/// content-block indexes to tool-call indexes (text blocks take block indexes too).
pub(crate) fn stream_events(data: &str, tools: &mut Vec<usize>) -> Mapped {
    let v: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => {
            return Mapped::more(vec![Err(Error::Protocol {
                message: format!("a stream event is not JSON: {e}"),
                raw: Some(data.to_owned()),
            })])
        }
    };
    match v.get("type").and_then(Value::as_str) {
        Some("message_stop") => Mapped::end(Vec::new()),
        _ => Mapped::more(event(&v, data, tools)),
    }
}

fn event(
    v: &Value,
    data: &str,
    tools: &mut Vec<usize>,
) -> Vec<Result<instructor_core::StreamEvent, Error>> {
    use instructor_core::StreamEvent;
    let block = v.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
    let tool_index = |tools: &Vec<usize>| tools.iter().position(|&b| b == block);
    match v.get("type").and_then(Value::as_str).unwrap_or("") {
        "message_start" => {
            let u = v.pointer("/message/usage").cloned().unwrap_or(Value::Null);
            let input = [
                "input_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
            ]
            .iter()
            .filter_map(|k| u.get(*k).and_then(Value::as_u64))
            .fold(0u64, u64::saturating_add);
            vec![Ok(StreamEvent::Usage(Usage::new(input, 0)))]
        }
        "content_block_start" => {
            let cb = v.get("content_block").unwrap_or(&Value::Null);
            if cb.get("type").and_then(Value::as_str) != Some("tool_use") {
                return Vec::new();
            }
            tools.push(block);
            vec![Ok(StreamEvent::ToolCallDelta {
                index: tools.len() - 1,
                id: cb.get("id").and_then(Value::as_str).map(str::to_owned),
                name: cb.get("name").and_then(Value::as_str).map(str::to_owned),
                arguments: String::new(),
            })]
        }
        "content_block_delta" => {
            let d = v.get("delta").unwrap_or(&Value::Null);
            match d.get("type").and_then(Value::as_str) {
                Some("text_delta") => d
                    .get("text")
                    .and_then(Value::as_str)
                    .map(|t| vec![Ok(StreamEvent::TextDelta(t.to_owned()))])
                    .unwrap_or_default(),
                Some("input_json_delta") => match tool_index(tools) {
                    Some(index) => vec![Ok(StreamEvent::ToolCallDelta {
                        index,
                        id: None,
                        name: None,
                        arguments: d
                            .get("partial_json")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    })],
                    None => Vec::new(),
                },
                _ => Vec::new(),
            }
        }
        "message_delta" => {
            let mut out = Vec::new();
            if let Some(n) = v.pointer("/usage/output_tokens").and_then(Value::as_u64) {
                out.push(Ok(StreamEvent::Usage(Usage {
                    output_tokens: n,
                    total_tokens: n,
                    ..Usage::default()
                })));
            }
            if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                out.push(Ok(StreamEvent::Finish(finish_reason(Some(r)))));
            }
            out
        }
        "error" => vec![Err(Error::Protocol {
            message: "the server reported an error mid-stream".to_owned(),
            raw: Some(data.to_owned()),
        })],
        _ => Vec::new(),
    }
}
