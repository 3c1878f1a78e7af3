//! Neutral request → Cohere v2 chat body, its answer → neutral response, its typed stream
//! events → neutral events (providers.md §15).

use instructor_core::{Error, Request, Response, StreamEvent, Usage};
use serde_json::Value;

use super::wire::*;
use crate::events::Mapped;
use crate::shared::{
    chat_role, finish_reason, parse_body, parse_event, text_only, text_tool_calls,
};

pub(crate) fn messages(request: &Request) -> Result<Vec<WireMessage<'_>>, Error> {
    request
        .messages
        .iter()
        .map(|m| {
            let text = text_only(m, "cohere")?;
            Ok(WireMessage {
                role: chat_role(m.role),
                content: (!text.is_empty() || m.tool_calls.is_empty()).then_some(text),
                tool_calls: text_tool_calls(m),
                tool_call_id: m.tool_call_id.as_deref(),
            })
        })
        .collect()
}

/// Token counts as Cohere writes them (numbers, possibly with a fraction), saturating.
fn tokens(input: f64, output: f64) -> Usage {
    Usage::new(input as u64, output as u64)
}

pub(crate) fn response(body: String) -> Result<Response, Error> {
    let parsed: ChatResponse = parse_body(&body, "a Cohere chat response")?;
    let text: String = parsed
        .message
        .content
        .iter()
        .filter_map(|c| c.get("text").and_then(Value::as_str))
        .collect();
    let tool_calls = crate::shared::tool_calls(parsed.message.tool_calls);
    let t = parsed
        .usage
        .and_then(|u| u.tokens.or(u.billed_units))
        .unwrap_or_default();
    Ok(Response {
        text: (!text.is_empty()).then_some(text),
        finish_reason: finish_reason(parsed.finish_reason.as_deref(), !tool_calls.is_empty()),
        tool_calls,
        refusal: None,
        usage: tokens(t.input_tokens, t.output_tokens),
        model: None,
        raw: Some(body),
    })
}

/// Cohere v2's typed stream events → neutral events; `message-end` is the end.
pub(crate) fn stream_events(data: &str) -> Mapped {
    let v = match parse_event(data) {
        Ok(v) => v,
        Err(e) => return Mapped::more(vec![Err(e)]),
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
            let t = v
                .pointer("/delta/usage/tokens")
                .or_else(|| v.pointer("/delta/usage/billed_units"))
                .unwrap_or(&Value::Null);
            let n = |k: &str| t.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            Mapped::end(vec![
                Ok(StreamEvent::Usage(tokens(
                    n("input_tokens"),
                    n("output_tokens"),
                ))),
                Ok(StreamEvent::Finish(finish_reason(
                    v.pointer("/delta/finish_reason").and_then(Value::as_str),
                    false,
                ))),
            ])
        }
        _ => Mapped::more(Vec::new()),
    }
}
