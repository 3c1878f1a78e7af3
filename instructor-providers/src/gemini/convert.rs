//! Neutral request → `generateContent` body, its answer → neutral response, and Google's
//! error envelope → typed errors (with `RetryInfo.retryDelay` as the retry hint;
//! providers.md §4).

use instructor_core::ToolCall;
use instructor_core::{Error, FinishReason, Message, Request, Response, Role, ToolArguments};
use serde_json::{json, Value};

use super::wire::*;
use crate::http::{seconds_suffix, status_error, Reply};
use crate::shared::{
    arguments_object, call_id, called_name, finish_reason, parse_body, pieces, usage, Piece,
};

fn parts(m: &Message) -> Result<Vec<WirePart<'_>>, Error> {
    let mut out = Vec::new();
    for piece in pieces(m, "gemini")? {
        out.push(match piece {
            Piece::Text("") => continue,
            Piece::Text(t) => WirePart::Text(t.into()),
            // Any kind: bytes as `inlineData`, a URL as `fileData`.
            Piece::Data {
                media_type, data, ..
            } => WirePart::InlineData {
                mime_type: media_type,
                data,
            },
            Piece::Url { url, .. } => WirePart::FileData { file_uri: url },
        });
    }
    for call in &m.tool_calls {
        out.push(WirePart::FunctionCall {
            name: &call.name,
            args: arguments_object(&call.arguments),
        });
    }
    Ok(out)
}

pub(crate) fn contents(
    request: &Request,
) -> Result<(Option<Content<'_>>, Vec<Content<'_>>), Error> {
    let mut system = Vec::new();
    let mut out = Vec::new();
    for m in &request.messages {
        match m.role {
            Role::System => system.push(WirePart::Text(m.text().into())),
            Role::Assistant => out.push(Content {
                role: Some("model"),
                parts: parts(m)?,
            }),
            Role::Tool => {
                let key = if m.is_error { "error" } else { "result" };
                let name = called_name(&request.messages, m.tool_call_id.as_deref());
                out.push(Content {
                    role: Some("user"),
                    parts: vec![WirePart::FunctionResponse {
                        name: name.unwrap_or("tool"),
                        response: json!({ key: m.text() }),
                    }],
                })
            }
            _ => out.push(Content {
                role: Some("user"),
                parts: parts(m)?,
            }),
        }
    }
    Ok((
        (!system.is_empty()).then_some(Content {
            role: None,
            parts: system,
        }),
        out,
    ))
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: GenerateResponse = parse_body(&body, "a generateContent response")?;
    let u = parsed.usage_metadata;
    let output = u
        .candidates_token_count
        .saturating_add(u.thoughts_token_count);
    let usage = usage(u.prompt_token_count, output, u.total_token_count);
    let Some(candidate) = parsed.candidates.into_iter().next() else {
        if parsed
            .prompt_feedback
            .and_then(|f| f.block_reason)
            .is_some()
        {
            return Ok(Response::text("")
                .with_finish_reason(FinishReason::ContentFilter)
                .with_usage(usage));
        }
        return Err(Error::Protocol {
            message: "the response has no candidates".to_owned(),
            raw: Some(body),
            source: None,
        });
    };
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for (i, part) in candidate
        .content
        .unwrap_or_default()
        .parts
        .into_iter()
        .enumerate()
    {
        if part.thought == Some(true) {
            continue;
        }
        if let Some(t) = part.text {
            text.push_str(&t);
        }
        if let Some(call) = part.function_call {
            tool_calls.push(ToolCall {
                id: call_id(call.id, i),
                name: call.name,
                arguments: ToolArguments::Json(call.args),
            });
        }
    }
    Ok(Response {
        finish_reason: finish_reason(candidate.finish_reason.as_deref(), !tool_calls.is_empty()),
        text: (!text.is_empty()).then_some(text),
        tool_calls,
        refusal: None,
        usage,
        model: parsed.model_version,
        raw: Some(body),
    })
}

pub(crate) fn error(reply: Reply) -> Error {
    let body: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
    // Sometimes wrapped in a one-element array.
    let error = match &body {
        Value::Array(items) => items.first().and_then(|e| e.get("error")),
        other => other.get("error"),
    };
    let hint = error
        .and_then(|e| e.get("details"))
        .and_then(Value::as_array)
        .and_then(|details| {
            details.iter().find_map(|d| {
                d.get("retryDelay")
                    .and_then(Value::as_str)
                    .and_then(seconds_suffix)
            })
        });
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let quota = reply.status == 429 && message.contains("billing");
    status_error(reply, quota, hint)
}

/// One `alt=sse` chunk (a whole `GenerateContentResponse` fragment) → neutral events.
/// Usage is cumulative in every chunk, so it is taken from the one that finishes, which is
/// the end.
pub(crate) fn stream_events(data: &str, calls: &mut usize) -> crate::events::Mapped {
    crate::events::fragment_events(data, calls, response, |_, response| {
        response.finish_reason != FinishReason::Unknown
    })
}
