//! The provider families, each against a mock server: how to build one, and their answers
//! in each family's wire shape (whole, tool calls, streamed text and tool calls, cut short,
//! truncated, refused or filtered, error replies, with a late error). Each shape follows
//! /work/shared/reference/providers.md: OpenAI Chat §1 (Mistral §6), Anthropic §3, Gemini §4,
//! Cohere §15, Ollama native §0.

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use instructor::providers::{Anthropic, Cohere, Gemini, Mistral, Ollama, OpenAi};
use instructor::{Client, Mode, Provider, RetryPolicy};
use serde_json::{json, Value};

/// The provider families, each pointed at `url` (the server's root).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Family {
    OpenAi,
    Mistral,
    Anthropic,
    Gemini,
    Cohere,
    Ollama,
}

pub const FAMILIES: [Family; 6] = [
    Family::OpenAi,
    Family::Mistral,
    Family::Anthropic,
    Family::Gemini,
    Family::Cohere,
    Family::Ollama,
];

impl Family {
    pub fn provider(self, url: &str) -> Arc<dyn Provider> {
        const KEY: &str = "sk-test-key-0123456789";
        match self {
            Family::OpenAi => Arc::new(OpenAi::new().base_url(format!("{url}/v1")).api_key(KEY)),
            Family::Mistral => Arc::new(Mistral::new().base_url(format!("{url}/v1")).api_key(KEY)),
            Family::Anthropic => {
                Arc::new(Anthropic::new().base_url(format!("{url}/v1")).api_key(KEY))
            }
            Family::Gemini => {
                Arc::new(Gemini::new().base_url(format!("{url}/v1beta")).api_key(KEY))
            }
            Family::Cohere => Arc::new(Cohere::new().base_url(format!("{url}/v2")).api_key(KEY)),
            Family::Ollama => Arc::new(Ollama::new().base_url(url)),
        }
    }

    /// A client in a text mode every family has, so that one answer text fits all.
    pub fn client(self, url: &str) -> Client {
        Client::from_shared(self.provider(url))
            .model("m")
            .mode(Mode::Json)
            .max_retries(0)
            .transport_retries(RetryPolicy::none())
    }

    /// A complete streamed answer of `text`, with its end marker, as the family frames it.
    pub fn stream(self, text: &str) -> String {
        let t = serde_json::to_string(text).unwrap();
        match self {
            Family::OpenAi | Family::Mistral => format!(
                "data: {{\"choices\": [{{\"index\": 0, \"delta\": {{\"content\": {t}}}, \"finish_reason\": null}}]}}\n\n\
                 data: {{\"choices\": [{{\"index\": 0, \"delta\": {{}}, \"finish_reason\": \"stop\"}}]}}\n\n\
                 data: {{\"choices\": [], \"usage\": {{\"prompt_tokens\": 5, \"completion_tokens\": 9, \"total_tokens\": 14}}}}\n\n\
                 data: [DONE]\n\n"
            ),
            Family::Anthropic => format!(
                "event: message_start\ndata: {{\"type\": \"message_start\", \"message\": {{\"usage\": {{\"input_tokens\": 5, \"output_tokens\": 1}}}}}}\n\n\
                 event: content_block_delta\ndata: {{\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {{\"type\": \"text_delta\", \"text\": {t}}}}}\n\n\
                 event: message_delta\ndata: {{\"type\": \"message_delta\", \"delta\": {{\"stop_reason\": \"end_turn\"}}, \"usage\": {{\"output_tokens\": 9}}}}\n\n\
                 event: message_stop\ndata: {{\"type\": \"message_stop\"}}\n\n"
            ),
            Family::Gemini => format!(
                "data: {{\"candidates\": [{{\"content\": {{\"role\": \"model\", \"parts\": [{{\"text\": {t}}}]}}, \"index\": 0}}]}}\n\n\
                 data: {{\"candidates\": [{{\"content\": {{\"role\": \"model\", \"parts\": [{{\"text\": \"\"}}]}}, \"index\": 0, \"finishReason\": \"STOP\"}}], \"usageMetadata\": {{\"promptTokenCount\": 5, \"candidatesTokenCount\": 9, \"totalTokenCount\": 14}}}}\n\n"
            ),
            Family::Cohere => format!(
                "event: content-delta\ndata: {{\"type\": \"content-delta\", \"index\": 0, \"delta\": {{\"message\": {{\"content\": {{\"text\": {t}}}}}}}}}\n\n\
                 event: message-end\ndata: {{\"type\": \"message-end\", \"delta\": {{\"finish_reason\": \"COMPLETE\", \"usage\": {{\"tokens\": {{\"input_tokens\": 5, \"output_tokens\": 9}}}}}}}}\n\n"
            ),
            Family::Ollama => format!(
                "{{\"model\": \"m\", \"message\": {{\"role\": \"assistant\", \"content\": {t}}}, \"done\": false}}\n\
                 {{\"model\": \"m\", \"message\": {{\"role\": \"assistant\", \"content\": \"\"}}, \"done\": true, \"done_reason\": \"stop\", \"prompt_eval_count\": 5, \"eval_count\": 9}}\n"
            ),
        }
    }

    /// A complete streamed answer whose text arrives in `chunks`, one delta each.
    pub fn stream_chunks(self, chunks: &[&str]) -> String {
        let (sep, delta_at) = match self {
            Family::Ollama => ("\n", 0),
            // message_start comes first.
            Family::Anthropic => ("\n\n", 1),
            _ => ("\n\n", 0),
        };
        let events = |text: &str| -> Vec<String> {
            self.stream(text)
                .split_inclusive(sep)
                .map(str::to_owned)
                .collect()
        };
        let frame = events("");
        let mut out = frame[..delta_at].concat();
        for chunk in chunks {
            out += &events(chunk)[delta_at];
        }
        out + &frame[delta_at + 1..].concat()
    }

    /// The same answer cut off before its finish reason and end marker.
    pub fn truncated(self, text: &str) -> String {
        let whole = self.stream(text);
        let cut = match self {
            Family::Ollama => whole.find('\n').unwrap() + 1,
            _ => whole.find("\n\n").unwrap() + 2,
        };
        let first = &whole[..cut];
        match self {
            // Anthropic's first event is message_start; keep the text delta too.
            Family::Anthropic => {
                let second = whole[cut..].find("\n\n").unwrap() + 2;
                whole[..cut + second].to_owned()
            }
            _ => first.to_owned(),
        }
    }

    /// What the server sends after its end marker: an in-band error, or garbage.
    pub fn late_error(self) -> &'static str {
        match self {
            Family::OpenAi | Family::Mistral => {
                "data: {\"error\": {\"message\": \"late\", \"type\": \"server_error\", \"code\": 500}}\n\n"
            }
            Family::Anthropic => {
                "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"late\"}}\n\n"
            }
            Family::Gemini => "data: {\"error\": {\"code\": 500, \"message\": \"late\"}}\n\n",
            Family::Cohere => "data: not json at all\n\n",
            Family::Ollama => "{\"error\": \"late\"}\n",
        }
    }

    /// A whole, non-streamed answer of `text` in the family's shape.
    pub fn whole(self, text: &str) -> String {
        match self {
            Family::OpenAi | Family::Mistral => json!({
                "id": "c", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
            }),
            Family::Anthropic => json!({
                "id": "msg", "type": "message", "role": "assistant", "model": "m",
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "usage": {"input_tokens": 5, "output_tokens": 9}
            }),
            Family::Gemini => json!({
                "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9, "totalTokenCount": 14}
            }),
            Family::Cohere => json!({
                "id": "c", "finish_reason": "COMPLETE",
                "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
                "usage": {"tokens": {"input_tokens": 5, "output_tokens": 9}}
            }),
            Family::Ollama => json!({
                "model": "m", "message": {"role": "assistant", "content": text},
                "done": true, "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 9
            }),
        }
        .to_string()
    }
}

/// `data: <json>` SSE events, optionally named, each ended by a blank line.
fn sse(events: &[(Option<&str>, Value)]) -> String {
    events
        .iter()
        .map(|(name, data)| match name {
            Some(name) => format!("event: {name}\ndata: {data}\n\n"),
            None => format!("data: {data}\n\n"),
        })
        .collect()
}

/// A JSON text cut into three pieces (the way servers stream arguments).
fn pieces(text: &str) -> [&str; 3] {
    let a = text.len() / 3;
    let a = (0..=a).rev().find(|&i| text.is_char_boundary(i)).unwrap();
    let b = (a..=2 * text.len() / 3)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap();
    [&text[..a], &text[a..b], &text[b..]]
}

impl Family {
    /// A whole answer made of tool calls, each `(name, arguments as JSON text)`.
    pub fn tool_answer(self, calls: &[(&str, &str)]) -> String {
        let object = |args: &str| serde_json::from_str::<Value>(args).unwrap();
        match self {
            // §1: arguments are a JSON string; finish_reason tool_calls.
            Family::OpenAi | Family::Mistral => json!({
                "id": "c", "object": "chat.completion", "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
                    "tool_calls": calls.iter().enumerate().map(|(i, (name, args))| json!({
                        "id": format!("call_{i}"), "type": "function",
                        "function": {"name": name, "arguments": args}})).collect::<Vec<_>>()},
                    "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
            }),
            // §3: tool_use blocks carry `input` as an object.
            Family::Anthropic => json!({
                "id": "msg", "type": "message", "role": "assistant", "model": "m",
                "content": calls.iter().enumerate().map(|(i, (name, args))| json!({
                    "type": "tool_use", "id": format!("toolu_{i}"), "name": name,
                    "input": object(args)})).collect::<Vec<_>>(),
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 5, "output_tokens": 9}
            }),
            // §4: functionCall parts carry `args` as an object.
            Family::Gemini => json!({
                "candidates": [{"content": {"role": "model", "parts": calls.iter().map(|(name, args)| json!({
                    "functionCall": {"name": name, "args": object(args)}})).collect::<Vec<_>>()},
                    "finishReason": "STOP", "index": 0}],
                "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9, "totalTokenCount": 14}
            }),
            // §15: arguments are a JSON string; finish_reason TOOL_CALL.
            Family::Cohere => json!({
                "id": "c", "finish_reason": "TOOL_CALL",
                "message": {"role": "assistant", "tool_plan": "I will call the tool.",
                    "tool_calls": calls.iter().enumerate().map(|(i, (name, args))| json!({
                        "id": format!("call_{i}"), "type": "function",
                        "function": {"name": name, "arguments": args}})).collect::<Vec<_>>()},
                "usage": {"tokens": {"input_tokens": 5, "output_tokens": 9}}
            }),
            // §0: arguments are an object; no call ids.
            Family::Ollama => json!({
                "model": "m", "message": {"role": "assistant", "content": "",
                    "tool_calls": calls.iter().map(|(name, args)| json!({
                        "function": {"name": name, "arguments": object(args)}})).collect::<Vec<_>>()},
                "done": true, "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 9
            }),
        }
        .to_string()
    }

    /// One tool call streamed, its arguments in pieces where the family streams them.
    pub fn stream_tool(self, name: &str, args: &str) -> String {
        let [a, b, c] = pieces(args);
        match self {
            // §1: id and name on the first fragment of an index, then `arguments` pieces.
            Family::OpenAi | Family::Mistral => {
                let delta = |d: Value| json!({"choices": [{"index": 0, "delta": d, "finish_reason": null}]});
                let mut events = vec![(
                    None,
                    delta(json!({"role": "assistant", "tool_calls": [
                    {"index": 0, "id": "call_0", "type": "function", "function": {"name": name, "arguments": ""}}]})),
                )];
                for piece in [a, b, c] {
                    events.push((
                        None,
                        delta(
                            json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                        ),
                    ));
                }
                events.push((
                    None,
                    json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
                ));
                events.push((None, json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}})));
                sse(&events) + "data: [DONE]\n\n"
            }
            // §3: a tool_use block, then input_json_delta pieces for its index.
            Family::Anthropic => {
                let mut events = vec![
                    (
                        Some("message_start"),
                        json!({"type": "message_start", "message": {"usage": {"input_tokens": 5, "output_tokens": 1}}}),
                    ),
                    (
                        Some("content_block_start"),
                        json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "tool_use", "id": "toolu_0", "name": name, "input": {}}}),
                    ),
                ];
                for piece in [a, b, c] {
                    events.push((
                        Some("content_block_delta"),
                        json!({"type": "content_block_delta", "index": 0,
                        "delta": {"type": "input_json_delta", "partial_json": piece}}),
                    ));
                }
                events.push((
                    Some("content_block_stop"),
                    json!({"type": "content_block_stop", "index": 0}),
                ));
                events.push((
                    Some("message_delta"),
                    json!({"type": "message_delta",
                    "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
                ));
                events.push((Some("message_stop"), json!({"type": "message_stop"})));
                sse(&events)
            }
            // §4: a functionCall arrives whole; the last chunk has finishReason and usage.
            Family::Gemini => sse(&[
                (
                    None,
                    json!({"candidates": [{"content": {"role": "model", "parts": [
                    {"functionCall": {"name": name, "args": serde_json::from_str::<Value>(args).unwrap()}}]}, "index": 0}]}),
                ),
                (
                    None,
                    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "index": 0, "finishReason": "STOP"}],
                    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9, "totalTokenCount": 14}}),
                ),
            ]),
            // §15: tool-call-start with id and name, tool-call-delta pieces, message-end.
            Family::Cohere => {
                let mut events = vec![
                    (
                        None,
                        json!({"type": "message-start", "id": "c", "delta": {"message": {"role": "assistant"}}}),
                    ),
                    (
                        None,
                        json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {
                        "id": "call_0", "type": "function", "function": {"name": name, "arguments": ""}}}}}),
                    ),
                ];
                for piece in [a, b, c] {
                    events.push((
                        None,
                        json!({"type": "tool-call-delta", "index": 0,
                        "delta": {"message": {"tool_calls": {"function": {"arguments": piece}}}}}),
                    ));
                }
                events.push((None, json!({"type": "tool-call-end", "index": 0})));
                events.push((
                    None,
                    json!({"type": "message-end", "delta": {"finish_reason": "TOOL_CALL",
                    "usage": {"tokens": {"input_tokens": 5, "output_tokens": 9}}}}),
                ));
                sse(&events)
            }
            // §0: NDJSON; the call arrives whole, `done: true` ends.
            Family::Ollama => format!(
                "{}\n{}\n",
                json!({"model": "m", "message": {"role": "assistant", "content": "", "tool_calls": [
                    {"function": {"name": name, "arguments": serde_json::from_str::<Value>(args).unwrap()}}]}, "done": false}),
                json!({"model": "m", "message": {"role": "assistant", "content": ""}, "done": true,
                    "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 9})
            ),
        }
    }

    /// A whole answer that stopped at the token limit after `partial`.
    pub fn truncated_answer(self, partial: &str) -> String {
        let mut answer: Value = serde_json::from_str(&self.whole(partial)).unwrap();
        let (pointer, reason) = match self {
            Family::OpenAi | Family::Mistral => ("/choices/0/finish_reason", "length"),
            Family::Anthropic => ("/stop_reason", "max_tokens"),
            Family::Gemini => ("/candidates/0/finishReason", "MAX_TOKENS"),
            Family::Cohere => ("/finish_reason", "MAX_TOKENS"),
            Family::Ollama => ("/done_reason", "length"),
        };
        *answer.pointer_mut(pointer).unwrap() = json!(reason);
        answer.to_string()
    }

    /// The family's documented refusals and content filters: `(what, answer, refused)`,
    /// `refused` telling a refusal from a filter. Empty where the API has neither.
    pub fn withheld(self) -> Vec<(&'static str, String, bool)> {
        match self {
            // §1: `message.refusal` set and content null; finish_reason content_filter.
            Family::OpenAi => vec![
                ("refusal", json!({"id": "c", "model": "m", "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": null, "refusal": "I cannot help with that."},
                    "finish_reason": "stop"}], "usage": {"prompt_tokens": 5, "completion_tokens": 9}}).to_string(), true),
                ("content_filter", json!({"id": "c", "model": "m", "choices": [{"index": 0, "message": {
                    "role": "assistant", "content": ""}, "finish_reason": "content_filter"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 0}}).to_string(), false),
            ],
            // §3: stop_reason refusal, with stop_details.
            Family::Anthropic => vec![("refusal", json!({"id": "msg", "type": "message", "role": "assistant",
                "model": "m", "content": [], "stop_reason": "refusal",
                "stop_details": {"type": "refusal", "category": "cyber", "explanation": "no"},
                "usage": {"input_tokens": 5, "output_tokens": 0}}).to_string(), true)],
            // §4: finishReason SAFETY; a blocked prompt has no candidates.
            Family::Gemini => vec![
                ("SAFETY", json!({"candidates": [{"content": {"role": "model", "parts": []},
                    "finishReason": "SAFETY", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 0}}).to_string(), false),
                ("blockReason", json!({"promptFeedback": {"blockReason": "SAFETY"},
                    "usageMetadata": {"promptTokenCount": 5}}).to_string(), false),
            ],
            // Mistral (§6), Cohere (§15) and Ollama document neither.
            Family::Mistral | Family::Cohere | Family::Ollama => Vec::new(),
        }
    }

    /// An error reply's body for `status`, in the family's envelope.
    pub fn error_body(self, status: u16) -> String {
        let message = format!("error {status}");
        match self {
            // §1 ErrorResponse.
            Family::OpenAi | Family::Mistral => json!({"error": {"message": message,
                "type": if status == 401 { "authentication_error" } else { "invalid_request_error" },
                "param": null, "code": null}}),
            // §3.
            Family::Anthropic => json!({"type": "error", "error": {
                "type": match status { 401 => "authentication_error", 429 => "rate_limit_error",
                    529 => "overloaded_error", s if s >= 500 => "api_error", _ => "invalid_request_error" },
                "message": message}, "request_id": "req_1"}),
            // §4.
            Family::Gemini => json!({"error": {"code": status, "message": message,
                "status": match status { 401 => "UNAUTHENTICATED", 429 => "RESOURCE_EXHAUSTED",
                    s if s >= 500 => "UNAVAILABLE", _ => "INVALID_ARGUMENT" }}}),
            // §15 (envelope unverified: `message`).
            Family::Cohere => json!({"id": "e", "message": message}),
            Family::Ollama => json!({"error": message}),
        }
        .to_string()
    }
}
