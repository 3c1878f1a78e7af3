//! Anthropic Messages API wire types (providers.md §3).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body::Conversation;

/// The model, the (required) `max_tokens` and the system prompt, then the conversation;
/// the mode's members are `tools` and `tool_choice`, or `output_config`.
#[derive(Serialize)]
pub struct MessagesRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) system: Option<String>,
    #[serde(flatten)]
    pub(crate) chat: Conversation<'a, WireMessage<'a>>,
}

#[derive(Serialize)]
pub(crate) struct WireMessage<'a> {
    pub role: &'static str,
    pub content: Vec<Block<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block<'a> {
    Text {
        text: &'a str,
    },
    Image {
        source: Source<'a>,
    },
    Document {
        source: Source<'a>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
/// Where an `image` or `document` block's bytes are: inline base64, or a URL.
pub(crate) enum Source<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MessagesResponse {
    pub content: Vec<RespBlock>,
    pub stop_reason: Option<String>,
    /// `input_tokens`, `output_tokens` and the cache counts (read leniently).
    pub usage: Value,
    pub model: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum RespBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ErrorDetail {
    #[serde(rename = "type")]
    pub kind: String,
}
