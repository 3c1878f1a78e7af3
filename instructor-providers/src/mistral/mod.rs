//! Mistral's chat API. Its wire format is the OpenAI Chat Completions shape (documented as
//! such, providers.md §6), so this provider is that translator with Mistral's differences
//! declared as data: forced tools are `tool_choice: "any"`, the seed is `random_seed`, tool
//! arguments may come back as a string or an object, `response_format` takes
//! `json_object` and `json_schema`, and a PDF is a `document_url` part.

use instructor_core::Mode::*;

use crate::openai::{preset, Chat, ChatApi, Preset};
use crate::shared::SamplingNames;
use crate::translate::HttpProvider;

const MISTRAL: Preset = Preset {
    modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
    tool_choice: crate::openai::schema::ToolChoiceShape::Any,
    media: crate::openai::media::MISTRAL,
    sampling: SamplingNames {
        seed: Some("random_seed"),
        ..SamplingNames::CHAT
    },
    ..preset(
        "mistral",
        "https://api.mistral.ai/v1",
        Some("MISTRAL_API_KEY"),
    )
};

/// Mistral's API.
#[derive(Debug, Clone, Copy)]
pub enum MistralApi {}

impl ChatApi for MistralApi {
    const PRESET: Preset = MISTRAL;
}

/// Mistral (`MISTRAL_API_KEY`, `https://api.mistral.ai/v1`). Tools mode by default, as the
/// original `MISTRAL_TOOLS`.
///
/// ```
/// use instructor_providers::Mistral;
/// let p = Mistral::new().api_key("mst-...");
/// assert!(!format!("{p:?}").contains("mst-"));
/// assert_eq!(p.url(), "https://api.mistral.ai/v1");
/// ```
pub type Mistral = HttpProvider<Chat<MistralApi>>;
