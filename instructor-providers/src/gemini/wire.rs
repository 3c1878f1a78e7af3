//! Gemini `generateContent` wire types (REST, camelCase; providers.md §4).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fragments::Members;
use crate::shared::Sampling;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateRequest<'a> {
    pub(crate) contents: Vec<Content<'a>>,
    /// Text parts, without a role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) system_instruction: Option<Content<'a>>,
    pub(crate) generation_config: GenerationConfig<'a>,
    /// `tools` and `toolConfig`, as the mode asks.
    #[serde(flatten)]
    pub(crate) output: Members,
}

/// A turn's parts, and its role (`user` or `model`; none for the system instruction).
#[derive(Serialize)]
pub(crate) struct Content<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    pub parts: Vec<WirePart<'a>>,
}

/// A part; the REST API names variants and their fields in camelCase (`inlineData` with
/// `mimeType`, `fileData` with `fileUri`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub(crate) enum WirePart<'a> {
    Text(Cow<'a, str>),
    InlineData { mime_type: &'a str, data: &'a str },
    FileData { file_uri: &'a str },
    FunctionCall { name: &'a str, args: Value },
    FunctionResponse { name: &'a str, response: Value },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GenerationConfig<'a> {
    /// `responseMimeType` and `responseJsonSchema`, as the mode asks.
    #[serde(flatten)]
    pub output: Members,
    #[serde(flatten)]
    pub sampling: Sampling<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct GenerateResponse {
    pub candidates: Vec<Candidate>,
    pub prompt_feedback: Option<PromptFeedback>,
    pub usage_metadata: UsageMetadata,
    pub model_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Candidate {
    pub content: Option<RespContent>,
    pub finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RespContent {
    pub parts: Vec<RespPart>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct RespPart {
    pub text: Option<String>,
    pub thought: Option<bool>,
    pub function_call: Option<FunctionCall>,
}

#[derive(Deserialize)]
pub(crate) struct FunctionCall {
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub args: Value,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct PromptFeedback {
    pub block_reason: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct UsageMetadata {
    pub prompt_token_count: u64,
    pub candidates_token_count: u64,
    pub thoughts_token_count: u64,
    pub total_token_count: Option<u64>,
}
