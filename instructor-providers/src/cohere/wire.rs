//! Cohere v2 Chat wire types (providers.md §15).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body::Conversation;
use crate::shared::{AnsweredMessage, TextToolCall};

/// The model, then the conversation; the mode's members are `response_format`, or `tools`,
/// `tool_choice` and `strict_tools`.
#[derive(Serialize)]
pub struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    #[serde(flatten)]
    pub(crate) chat: Conversation<'a, WireMessage<'a>>,
}

/// A message: its text (left out for an assistant turn that only called tools).
#[derive(Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<TextToolCall<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChatResponse {
    pub finish_reason: Option<String>,
    /// Its content is a list of parts.
    pub message: AnsweredMessage<Vec<Value>>,
    pub usage: Option<WireUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct WireUsage {
    pub tokens: Option<Tokens>,
    pub billed_units: Option<Tokens>,
}

/// Token counts; Cohere writes them as numbers that may carry a fraction.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub(crate) struct Tokens {
    pub input_tokens: f64,
    pub output_tokens: f64,
}
