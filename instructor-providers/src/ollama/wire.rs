//! Ollama native `/api/chat` wire types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fragments::Members;
use crate::shared::{AnsweredMessage, Sampling};

#[derive(Serialize)]
pub struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<WireMessage<'a>>,
    pub(crate) stream: bool,
    /// `format` or `tools`, as the mode asks.
    #[serde(flatten)]
    pub(crate) output: Members,
    #[serde(skip_serializing_if = "Sampling::is_empty")]
    pub(crate) options: Sampling<'a>,
}

#[derive(Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: String,
    /// Base64 images.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct WireToolCall<'a> {
    pub function: WireFunction<'a>,
}

#[derive(Serialize)]
pub(crate) struct WireFunction<'a> {
    pub name: &'a str,
    pub arguments: Value,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChatResponse {
    pub model: Option<String>,
    pub message: AnsweredMessage,
    pub done_reason: Option<String>,
    pub prompt_eval_count: u64,
    pub eval_count: u64,
}
