//! Neutral request → Chat Completions body, Chat Completions answer → neutral response, and
//! error bodies → typed errors, for every server of the OpenAI-compatible family.

use std::borrow::Cow;

use instructor_core::{
    Error, FinishReason, Image, Message, Part, Request, Response, Role, ToolArguments, ToolCall,
    Usage,
};
use serde_json::Value;

use super::wire::*;
use crate::events::Mapped;
use crate::http::{status_error, Reply};

/// An image as the `image_url` part expects it (a URL, or a `data:` URL for bytes).
pub(crate) fn image_url(image: &Image) -> Cow<'_, str> {
    match image {
        Image::Url(u) => Cow::Borrowed(u),
        Image::Base64 { media_type, data } => {
            Cow::Owned(format!("data:{media_type};base64,{data}"))
        }
        // `Image` is non-exhaustive upstream; nothing else exists today.
        #[allow(unreachable_patterns)]
        _ => Cow::Borrowed(""),
    }
}

fn content(m: &Message) -> Option<WireContent<'_>> {
    match m.content.as_slice() {
        [] => None,
        [Part::Text(t)] => Some(WireContent::Text(Cow::Borrowed(t))),
        parts if parts.iter().all(|p| matches!(p, Part::Text(_))) => {
            Some(WireContent::Text(Cow::Owned(m.text())))
        }
        parts => Some(WireContent::Parts(
            parts
                .iter()
                .filter_map(|p| match p {
                    Part::Text(text) => Some(WirePart::Text { text }),
                    Part::Image(image) => Some(WirePart::ImageUrl {
                        image_url: ImageUrl {
                            url: image_url(image),
                        },
                    }),
                    #[allow(unreachable_patterns)]
                    _ => None,
                })
                .collect(),
        )),
    }
}

fn role(r: Role) -> &'static str {
    match r {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        #[allow(unreachable_patterns)]
        _ => "user",
    }
}

/// The messages of a request in the family's shape.
pub(crate) fn messages(request: &Request) -> Vec<WireMessage<'_>> {
    request
        .messages
        .iter()
        .map(|m| WireMessage {
            role: role(m.role),
            content: content(m),
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

/// Maps a finish reason of this family (and its servers' extras).
pub(crate) fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("stop") | Some("eos") | Some("end_turn") => FinishReason::Stop,
        Some("length") | Some("model_length") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Unknown,
    }
}

pub(crate) fn usage(u: Option<WireUsage>) -> Usage {
    match u {
        Some(u) => Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
            total_tokens: u
                .total_tokens
                .unwrap_or(u.prompt_tokens.saturating_add(u.completion_tokens)),
            requests: 1,
        },
        None => Usage {
            requests: 1,
            ..Usage::default()
        },
    }
}

/// Text content given as a string or as a list of `{"type": "text", "text": ...}` chunks.
pub(crate) fn content_text(content: Option<Value>) -> Option<String> {
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

fn arguments(v: Value) -> ToolArguments {
    match v {
        Value::String(s) => ToolArguments::Text(s),
        Value::Null => ToolArguments::Text(String::new()),
        other => ToolArguments::Json(other),
    }
}

/// A successful body → neutral response.
pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: ChatResponse = match serde_json::from_str(&body) {
        Ok(p) => p,
        Err(e) => {
            return Err(Error::Protocol {
                message: format!("not a chat completion: {e}"),
                raw: Some(body),
            })
        }
    };
    let Some(choice) = parsed.choices.into_iter().next() else {
        return Err(Error::Protocol {
            message: "the chat completion has no choices".to_owned(),
            raw: Some(body),
        });
    };
    let tool_calls = choice
        .message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: c
                .id
                .filter(|id| !id.is_empty() && id != "null")
                .unwrap_or_else(|| format!("call_{i}")),
            name: c.function.name,
            arguments: arguments(c.function.arguments),
        })
        .collect::<Vec<_>>();
    let mut finish = finish_reason(choice.finish_reason.as_deref());
    if choice.message.refusal.is_some() {
        finish = FinishReason::Refusal;
    }
    Ok(Response {
        text: content_text(choice.message.content),
        tool_calls,
        refusal: choice.message.refusal,
        finish_reason: finish,
        usage: usage(parsed.usage),
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
pub(crate) fn in_band_error(v: &Value) -> Option<Error> {
    let error = v.get("error")?;
    let status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c));
    let body = error.to_string();
    Some(match status {
        Some(status) => Error::Http { status, body },
        None => Error::Protocol {
            message: "the server reported an error mid-stream".to_owned(),
            raw: Some(body),
        },
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

fn chunk_events(data: &str) -> Vec<Result<instructor_core::StreamEvent, Error>> {
    use instructor_core::StreamEvent;
    let v: Value = match serde_json::from_str(data) {
        Ok(v) => v,
        Err(e) => {
            return vec![Err(Error::Protocol {
                message: format!("a stream chunk is not JSON: {e}"),
                raw: Some(data.to_owned()),
            })]
        }
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
            out.push(Ok(StreamEvent::Finish(finish_reason(Some(reason)))));
        }
    }
    if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
        if let Ok(u) = serde_json::from_value::<WireUsage>(u.clone()) {
            out.push(Ok(StreamEvent::Usage(usage(Some(u)))));
        }
    }
    out
}
