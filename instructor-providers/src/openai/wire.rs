//! OpenAI Chat Completions wire types, as the OpenAI-compatible servers share them
//! (providers.md §1). Request types borrow from the neutral request; schema-bearing fields
//! are pre-serialized fragments. Response types are lenient: unknown fields are ignored,
//! missing ones default.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body::Conversation;
use crate::shared::{AnsweredCall, TextToolCall};

/// The model, the conversation, and the stream options when streaming; the mode's members
/// are `tools`, `tool_choice`, `parallel_tool_calls`, `response_format`, as it asks.
#[derive(Serialize)]
pub struct ChatRequest<'a> {
    pub(crate) model: &'a str,
    #[serde(flatten)]
    pub(crate) chat: Conversation<'a, WireMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

#[derive(Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: Option<WireContent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<TextToolCall<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum WireContent<'a> {
    Text(Cow<'a, str>),
    Parts(Vec<WirePart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WirePart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: ImageUrl<'a> },
    InputAudio { input_audio: InputAudio<'a> },
    File { file: FileData<'a> },
    DocumentUrl { document_url: Cow<'a, str> },
}

#[derive(Serialize)]
pub(crate) struct ImageUrl<'a> {
    pub url: Cow<'a, str>,
}

/// Base64 audio and its format (`wav` or `mp3`).
#[derive(Serialize)]
pub(crate) struct InputAudio<'a> {
    pub data: &'a str,
    pub format: &'static str,
}

/// A file's name and its bytes as a `data:` URL.
#[derive(Serialize)]
pub(crate) struct FileData<'a> {
    pub filename: &'static str,
    pub file_data: Cow<'a, str>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ChatResponse {
    pub choices: Vec<Choice>,
    pub usage: Option<WireUsage>,
    pub model: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Choice {
    pub message: RespMessage,
    pub finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RespMessage {
    /// A string, or (Mistral) a list of content chunks.
    pub content: Option<Value>,
    pub refusal: Option<String>,
    pub tool_calls: Option<Vec<AnsweredCall>>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub(crate) struct WireUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: Option<u64>,
}

/// `{"error": {...}}` or `{"error": "..."}`, as servers of this family send them.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub error: Option<Value>,
}
