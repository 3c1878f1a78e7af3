//! Neutral request → Messages body, Messages answer → neutral response, error bodies →
//! typed errors, named stream events → neutral events (providers.md §3).

use instructor_core::{Error, Message, Request, Response, Role, StreamEvent, ToolArguments};
use instructor_core::{ToolCall, Usage};
use serde_json::Value;

use super::wire::*;
use crate::events::{mid_stream, Item, Mapped};
use crate::http::{status_error, Reply};
use crate::shared::{
    arguments_object, finish_reason, parse_body, parse_event, piece_unsupported, pieces, Piece,
};
use instructor_core::media::MediaKind;

fn block(kind: MediaKind, source: Source<'_>) -> Result<Block<'_>, Error> {
    match kind {
        MediaKind::Image => Ok(Block::Image { source }),
        MediaKind::Document => Ok(Block::Document { source }),
        other => Err(piece_unsupported("anthropic", other, "at all")),
    }
}

fn blocks(m: &Message) -> Result<Vec<Block<'_>>, Error> {
    let mut out = Vec::new();
    for piece in pieces(m, "anthropic")? {
        out.push(match piece {
            // The API rejects empty text blocks; an empty part carries nothing.
            Piece::Text("") => continue,
            Piece::Text(text) => Block::Text { text },
            // An `image` or `document` block, its source inline base64 or a URL.
            Piece::Url { kind, url } => block(kind, Source::Url { url })?,
            Piece::Data {
                kind,
                media_type,
                data,
            } => block(kind, Source::Base64 { media_type, data })?,
        });
    }
    for call in &m.tool_calls {
        out.push(Block::ToolUse {
            id: &call.id,
            name: &call.name,
            input: arguments_object(&call.arguments),
        });
    }
    Ok(out)
}

/// System text (top level) and the conversation, with tool results as `tool_result` blocks
/// in user turns (consecutive ones merged into one turn, as the API expects).
pub(crate) fn messages(request: &Request) -> Result<(Option<String>, Vec<WireMessage<'_>>), Error> {
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
                content: blocks(m)?,
            }),
            _ => out.push(WireMessage {
                role: "user",
                content: blocks(m)?,
            }),
        }
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    Ok((system, out))
}

/// The input tokens of a usage object: fresh, cache writes and cache reads together.
fn input_tokens(u: &Value) -> u64 {
    [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .filter_map(|k| u.get(*k).and_then(Value::as_u64))
    .fold(0u64, u64::saturating_add)
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: MessagesResponse = parse_body(&body, "a Messages response")?;
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
    Ok(Response {
        text: (!text.is_empty()).then_some(text),
        finish_reason: finish_reason(parsed.stop_reason.as_deref(), !tool_calls.is_empty()),
        tool_calls,
        refusal: None,
        usage: Usage::new(input_tokens(&parsed.usage), output_tokens(&parsed.usage)),
        model: parsed.model,
        raw: Some(body),
    })
}

fn output_tokens(u: &Value) -> u64 {
    u.get("output_tokens").and_then(Value::as_u64).unwrap_or(0)
}

pub(crate) fn error(reply: Reply) -> Error {
    let body: ErrorBody = serde_json::from_str(&reply.body).unwrap_or_default();
    let quota = body.error.kind == "billing_error";
    status_error(reply, quota, None)
}

/// Anthropic's named SSE events → neutral events; `message_stop` is the end. `tools` maps
/// content-block indexes to tool-call indexes (text blocks take block indexes too).
pub(crate) fn stream_events(data: &str, tools: &mut Vec<usize>) -> Mapped {
    let v = match parse_event(data) {
        Ok(v) => v,
        Err(e) => return Mapped::more(vec![Err(e)]),
    };
    match v.get("type").and_then(Value::as_str) {
        Some("message_stop") => Mapped::end(Vec::new()),
        _ => Mapped::more(event(&v, data, tools)),
    }
}

fn event(v: &Value, data: &str, tools: &mut Vec<usize>) -> Vec<Item> {
    let block = v.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
    let tool_index = |tools: &Vec<usize>| tools.iter().position(|&b| b == block);
    match v.get("type").and_then(Value::as_str).unwrap_or("") {
        "message_start" => {
            let u = v.pointer("/message/usage").unwrap_or(&Value::Null);
            vec![Ok(StreamEvent::Usage(Usage::new(input_tokens(u), 0)))]
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
                    requests: 0,
                    ..Usage::new(0, n)
                })));
            }
            if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                out.push(Ok(StreamEvent::Finish(finish_reason(Some(r), false))));
            }
            out
        }
        "error" => vec![Err(mid_stream(data.to_owned()))],
        _ => Vec::new(),
    }
}
