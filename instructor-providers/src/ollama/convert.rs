//! Neutral request → `/api/chat` body, its answer → neutral response. Ollama takes images
//! as base64 only: one given by URL (or a document or audio) fails the declared check
//! (`Error::UnsupportedPart`) before anything is built or sent.

use instructor_core::{Error, Request, Response, Role, Usage};
use serde_json::Value;

use super::wire::*;
use crate::shared::{
    arguments_object, called_name, chat_role, finish_reason, parse_body, piece_unsupported, pieces,
    Piece,
};
use instructor_core::media::MediaKind;

pub(crate) fn messages(request: &Request) -> Result<Vec<WireMessage<'_>>, Error> {
    request
        .messages
        .iter()
        .map(|m| {
            let mut images = Vec::new();
            for piece in pieces(m, "ollama-native")? {
                match piece {
                    Piece::Text(_) => {}
                    Piece::Data {
                        kind: MediaKind::Image,
                        data,
                        ..
                    } => images.push(data),
                    Piece::Data { kind, .. } => {
                        return Err(piece_unsupported("ollama-native", kind, "as bytes"))
                    }
                    Piece::Url { kind, .. } => {
                        return Err(piece_unsupported("ollama-native", kind, "by URL"))
                    }
                }
            }
            Ok(WireMessage {
                role: chat_role(m.role),
                content: m.text(),
                images,
                tool_calls: m
                    .tool_calls
                    .iter()
                    .map(|c| WireToolCall {
                        function: WireFunction {
                            name: &c.name,
                            arguments: arguments_object(&c.arguments),
                        },
                    })
                    .collect(),
                tool_name: if m.role == Role::Tool {
                    called_name(&request.messages, m.tool_call_id.as_deref())
                } else {
                    None
                },
            })
        })
        .collect()
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: ChatResponse = parse_body(&body, "an Ollama chat response")?;
    let tool_calls = crate::shared::tool_calls(parsed.message.tool_calls);
    let content = parsed.message.content;
    Ok(Response {
        finish_reason: finish_reason(parsed.done_reason.as_deref(), !tool_calls.is_empty()),
        text: (!content.is_empty()).then_some(content),
        tool_calls,
        refusal: None,
        usage: Usage::new(parsed.prompt_eval_count, parsed.eval_count),
        model: parsed.model,
        raw: Some(body),
    })
}

/// One NDJSON line of `/api/chat` → neutral events; `done: true` is the end. Tool calls
/// arrive whole.
pub(crate) fn stream_events(data: &str, calls: &mut usize) -> crate::events::Mapped {
    crate::events::fragment_events(data, calls, response, |line, _| {
        line.get("done").and_then(Value::as_bool) == Some(true)
    })
}
