//! Cohere v2 Chat wire types.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

#[derive(Serialize)]
pub(crate) struct ChatRequest<'a> {
    pub model: &'a str,
    pub messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_tools: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

#[derive(Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<WireToolCall<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
pub(crate) struct WireToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: WireFunction<'a>,
}

#[derive(Serialize)]
pub(crate) struct WireFunction<'a> {
    pub name: &'a str,
    pub arguments: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
pub(crate) struct ChatResponse {
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub message: RespMessage,
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RespMessage {
    #[serde(default)]
    pub content: Vec<Value>,
    #[serde(default)]
    pub tool_calls: Vec<RespToolCall>,
}

#[derive(Deserialize)]
pub(crate) struct RespToolCall {
    #[serde(default)]
    pub id: Option<String>,
    pub function: RespFunction,
}

#[derive(Deserialize)]
pub(crate) struct RespFunction {
    pub name: String,
    #[serde(default)]
    pub arguments: Value,
}

#[derive(Deserialize, Default)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub tokens: Option<Tokens>,
    #[serde(default)]
    pub billed_units: Option<Tokens>,
}

#[derive(Deserialize, Default, Clone, Copy)]
pub(crate) struct Tokens {
    #[serde(default)]
    pub input_tokens: f64,
    #[serde(default)]
    pub output_tokens: f64,
}
