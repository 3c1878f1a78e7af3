//! The provider families, each against a mock server: how to build one, and their answers
//! in each family's wire shape (whole, streamed, cut short, with a late error).

#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;

use instructor::providers::{Anthropic, Cohere, Gemini, Mistral, Ollama, OpenAi};
use instructor::{Client, Mode, Provider, RetryPolicy};
use serde_json::json;

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
