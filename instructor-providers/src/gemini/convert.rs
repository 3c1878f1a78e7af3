//! Neutral request → `generateContent` body, its answer → neutral response, and Google's
//! error envelope → typed errors (with `RetryInfo.retryDelay` as the retry hint).

use instructor_core::{
    Error, FinishReason, Image, Message, Part, Request, Response, Role, ToolArguments, ToolCall,
    Usage,
};
use serde_json::{json, Value};

use super::wire::*;
use crate::http::{seconds_suffix, status_error, Reply};

fn parts(m: &Message) -> Vec<WirePart<'_>> {
    let mut out: Vec<WirePart<'_>> = m
        .content
        .iter()
        .filter_map(|p| match p {
            Part::Text(t) if !t.is_empty() => Some(WirePart::Text(t)),
            Part::Image(Image::Base64 { media_type, data }) => Some(WirePart::InlineData {
                mime_type: media_type,
                data,
            }),
            Part::Image(Image::Url(url)) => Some(WirePart::FileData { file_uri: url }),
            _ => None,
        })
        .collect();
    for call in &m.tool_calls {
        let args = match &call.arguments {
            ToolArguments::Json(v) => v.clone(),
            ToolArguments::Text(t) => {
                serde_json::from_str(t).unwrap_or(Value::Object(Default::default()))
            }
        };
        out.push(WirePart::FunctionCall {
            name: &call.name,
            args,
        });
    }
    out
}

/// The name of the call a tool result answers (Gemini's `functionResponse` needs it).
fn call_name<'a>(messages: &'a [Message], id: Option<&str>) -> &'a str {
    messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .find(|c| Some(c.id.as_str()) == id)
        .map(|c| c.name.as_str())
        .unwrap_or("tool")
}

pub(crate) fn contents(request: &Request) -> (Option<SystemInstruction>, Vec<Content<'_>>) {
    let mut system = Vec::new();
    let mut out = Vec::new();
    for m in &request.messages {
        match m.role {
            Role::System => system.push(TextPart { text: m.text() }),
            Role::Assistant => out.push(Content {
                role: "model",
                parts: parts(m),
            }),
            Role::Tool => {
                let key = if m.is_error { "error" } else { "result" };
                out.push(Content {
                    role: "user",
                    parts: vec![WirePart::FunctionResponse {
                        name: call_name(&request.messages, m.tool_call_id.as_deref()),
                        response: json!({ key: m.text() }),
                    }],
                })
            }
            _ => out.push(Content {
                role: "user",
                parts: parts(m),
            }),
        }
    }
    (
        (!system.is_empty()).then_some(SystemInstruction { parts: system }),
        out,
    )
}

fn finish_reason(reason: Option<&str>, has_calls: bool) -> FinishReason {
    match reason {
        Some("STOP") if has_calls => FinishReason::ToolCalls,
        Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY" | "PROHIBITED_CONTENT" | "BLOCKLIST" | "SPII" | "RECITATION" | "IMAGE_SAFETY",
        ) => FinishReason::ContentFilter,
        Some(other) => FinishReason::Other(other.to_owned()),
        None => FinishReason::Unknown,
    }
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: GenerateResponse = serde_json::from_str(&body).map_err(|e| Error::Protocol {
        message: format!("not a generateContent response: {e}"),
        raw: Some(body.clone()),
    })?;
    let u = parsed.usage_metadata;
    let output = u
        .candidates_token_count
        .saturating_add(u.thoughts_token_count);
    let usage = Usage {
        input_tokens: u.prompt_token_count,
        output_tokens: output,
        total_tokens: u
            .total_token_count
            .unwrap_or(u.prompt_token_count.saturating_add(output)),
        requests: 1,
    };
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
                id: call.id.unwrap_or_else(|| format!("call_{i}")),
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
