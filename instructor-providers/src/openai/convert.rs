//! Neutral request → Chat Completions messages, Chat Completions answer → neutral response,
//! and error bodies and stream chunks → typed errors and neutral events, for every server of
//! the OpenAI-compatible family (providers.md §1; Mistral §6, Groq §7).

use std::borrow::Cow;

use instructor_core::{Error, FinishReason, Message, Request, Response, StreamEvent};
use serde_json::Value;

use super::wire::*;
use super::Preset;
use crate::events::{mid_stream, Item, Mapped};
use crate::http::{status_error, Reply};
use crate::shared::{
    chat_role, finish_reason, parse_body, parse_event, pieces, text_tool_calls, usage, Piece,
};

fn content<'a>(m: &'a Message, preset: &Preset) -> Result<Option<WireContent<'a>>, Error> {
    let pieces = pieces(m, preset.name)?;
    Ok(match pieces.as_slice() {
        [] => None,
        [Piece::Text(t)] => Some(WireContent::Text(Cow::Borrowed(t))),
        all if all.iter().all(|p| matches!(p, Piece::Text(_))) => {
            Some(WireContent::Text(Cow::Owned(m.text())))
        }
        _ => Some(WireContent::Parts(
            pieces
                .into_iter()
                .map(|p| super::media::part(p, &preset.media, preset.name))
                .collect::<Result<_, _>>()?,
        )),
    })
}

/// The messages of a request in the family's shape, media parts in the preset's shapes.
pub(crate) fn messages<'a>(
    request: &'a Request,
    preset: &Preset,
) -> Result<Vec<WireMessage<'a>>, Error> {
    request
        .messages
        .iter()
        .map(|m| {
            Ok(WireMessage {
                role: chat_role(m.role),
                content: content(m, preset)?,
                tool_calls: text_tool_calls(m),
                tool_call_id: m.tool_call_id.as_deref(),
            })
        })
        .collect()
}

fn wire_usage(u: Option<WireUsage>) -> instructor_core::Usage {
    let u = u.unwrap_or_default();
    usage(u.prompt_tokens, u.completion_tokens, u.total_tokens)
}

/// Text content given as a string or as a list of `{"type": "text", "text": ...}` chunks.
fn content_text(content: Option<Value>) -> Option<String> {
    match content? {
        Value::String(s) => Some(s),
        Value::Array(chunks) => Some(
            chunks
                .iter()
                .filter_map(|c| c.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
        ),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// A successful body → neutral response.
pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: ChatResponse = parse_body(&body, "a chat completion")?;
    let Some(choice) = parsed.choices.into_iter().next() else {
        return Err(Error::Protocol {
            message: "the chat completion has no choices".to_owned(),
            raw: Some(body),
            source: None,
        });
    };
    let tool_calls = crate::shared::tool_calls(choice.message.tool_calls.unwrap_or_default());
    let finish = match choice.message.refusal {
        Some(_) => FinishReason::Refusal,
        None => finish_reason(choice.finish_reason.as_deref(), !tool_calls.is_empty()),
    };
    Ok(Response {
        text: content_text(choice.message.content),
        tool_calls,
        refusal: choice.message.refusal,
        finish_reason: finish,
        usage: wire_usage(parsed.usage),
        model: parsed.model,
        raw: Some(body),
    })
}

fn error_field<'a>(error: &'a Value, key: &str) -> Option<&'a str> {
    error.get(key).and_then(Value::as_str)
}

/// An error reply → typed error. Groq's `json_validate_failed` (the model's JSON failed the
/// server's check) becomes a normal answer holding `failed_generation`, so the core parses,
/// validates and re-asks as with any other bad answer.
pub(crate) fn error(reply: Reply) -> Result<Response, Error> {
    let body: ErrorBody = serde_json::from_str(&reply.body).unwrap_or_default();
    let error = body.error.unwrap_or(Value::Null);
    let code = error_field(&error, "code").unwrap_or("");
    if code == "json_validate_failed" {
        if let Some(generation) = error_field(&error, "failed_generation") {
            return Ok(Response::text(generation).with_finish_reason(FinishReason::Stop));
        }
    }
    let kind = error_field(&error, "type").unwrap_or("");
    let quota = code == "insufficient_quota" || kind == "insufficient_quota";
    Err(status_error(reply, quota, None))
}

/// An in-band error object in a stream (the status was already 200).
fn in_band_error(v: &Value) -> Option<Error> {
    let error = v.get("error")?;
    let status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c));
    let body = error.to_string();
    Some(match status {
        Some(status) => Error::Http { status, body },
        None => mid_stream(body),
    })
}

/// One SSE `data:` payload of a Chat Completions stream → neutral events; `[DONE]` is the
/// end.
pub(crate) fn stream_events(data: &str) -> Mapped {
    if data.trim() == "[DONE]" {
        return Mapped::end(Vec::new());
    }
    Mapped::more(chunk_events(data))
}

fn chunk_events(data: &str) -> Vec<Item> {
    let v = match parse_event(data) {
        Ok(v) => v,
        Err(e) => return vec![Err(e)],
    };
    if let Some(e) = in_band_error(&v) {
        return vec![Err(e)];
    }
    let mut out = Vec::new();
    if let Some(choice) = v.get("choices").and_then(|c| c.get(0)) {
        let delta = choice.get("delta").unwrap_or(&Value::Null);
        if let Some(text) = delta.get("content").and_then(Value::as_str) {
            if !text.is_empty() {
                out.push(Ok(StreamEvent::TextDelta(text.to_owned())));
            }
        }
        for (i, call) in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let function = call.get("function").unwrap_or(&Value::Null);
            let arguments = match function.get("arguments") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            out.push(Ok(StreamEvent::ToolCallDelta {
                index: call
                    .get("index")
                    .and_then(Value::as_u64)
                    .map_or(i, |n| n as usize),
                id: call.get("id").and_then(Value::as_str).map(str::to_owned),
                name: function
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                arguments,
            }));
        }
        if delta
            .get("refusal")
            .and_then(Value::as_str)
            .is_some_and(|r| !r.is_empty())
        {
            out.push(Ok(StreamEvent::Finish(FinishReason::Refusal)));
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            out.push(Ok(StreamEvent::Finish(finish_reason(Some(reason), false))));
        }
    }
    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
        if let Ok(u) = serde_json::from_value::<WireUsage>(u.clone()) {
            out.push(Ok(StreamEvent::Usage(wire_usage(Some(u)))));
        }
    }
    out
}
