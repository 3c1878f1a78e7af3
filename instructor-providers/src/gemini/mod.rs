//! Google Gemini `generateContent` (providers.md §4): `responseMimeType` +
//! `responseJsonSchema`, or function declarations with forced calling. The key travels in the
//! `x-goog-api-key` header, never in the URL.

mod convert;
mod schema;
mod wire;

use instructor_core::media::{MediaKind, MediaRules, PartRule};
use instructor_core::{Error, Mode, Response};

use crate::events::Mapped;
use crate::http::{Auth, Reply};
use crate::shared::{Sampling, SamplingNames};
use crate::translate::{Call, Declared, HttpProvider, Translate};

/// The `generateContent` translator.
#[derive(Debug, Clone)]
pub struct GenerateContent;

const DECLARED: Declared = Declared {
    name: "gemini",
    base_url: "https://generativelanguage.googleapis.com/v1beta",
    key_var: Some("GEMINI_API_KEY"),
    key_required: true,
    modes: &[
        Mode::JsonSchema,
        Mode::Tools,
        Mode::ParallelTools,
        Mode::Json,
        Mode::MdJson,
    ],
    default_mode: Mode::JsonSchema,
    images: true,
    documents: true,
    audio: true,
    media: MEDIA,
};

/// Every kind inline (`inlineData`) or by URI (`fileData`); inline bytes count against the
/// 20 MB request limit, so no one part may be larger (Gemini's file-input guide).
const INLINE_LIMIT: u64 = 20 * 1024 * 1024;
const MEDIA: MediaRules = MediaRules::ANY
    .with(MediaKind::Image, PartRule::ANY.max_bytes(INLINE_LIMIT))
    .with(
        MediaKind::Document,
        PartRule::ANY
            .media_types(&["application/pdf"])
            .max_bytes(INLINE_LIMIT),
    )
    .with(MediaKind::Audio, PartRule::ANY.max_bytes(INLINE_LIMIT));

const SAMPLING: SamplingNames = SamplingNames {
    temperature: "temperature",
    top_p: "topP",
    max_tokens: Some("maxOutputTokens"),
    seed: Some("seed"),
    stop: "stopSequences",
};

impl Translate for GenerateContent {
    type Body<'a> = wire::GenerateRequest<'a>;
    /// Tool calls numbered across chunks.
    type StreamState = usize;
    const AUTH: Auth = Auth::Header("x-goog-api-key");
    /// Followed by the model and its method.
    const PATH: &'static str = "/models";
    const BATCH: Option<crate::batch::BatchWire> = Some(crate::batch::BatchWire::Gemini);

    fn standard() -> HttpProvider<Self> {
        HttpProvider::build(GenerateContent)
    }

    fn declared(&self) -> Declared {
        DECLARED
    }

    /// The model's, under [`PATH`](Self::PATH), with the streaming method when streamed.
    fn url(&self, base: &str, call: &Call<'_>) -> String {
        let (path, model) = (Self::PATH, call.model);
        if call.stream {
            format!("{base}{path}/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}{path}/{model}:generateContent")
        }
    }

    fn body<'a>(&'a self, call: &Call<'a>) -> Result<wire::GenerateRequest<'a>, Error> {
        let request = call.request;
        let (top, config) = schema::members(&request.output, &DECLARED)?;
        let (system_instruction, contents) = convert::contents(request)?;
        Ok(wire::GenerateRequest {
            contents,
            system_instruction,
            generation_config: wire::GenerationConfig {
                output: config,
                sampling: Sampling::new(request, SAMPLING),
            },
            output: top,
        })
    }

    fn response(body: String) -> Result<Response, Error> {
        convert::response(body)
    }

    fn error(reply: Reply) -> Result<Response, Error> {
        Err(convert::error(reply))
    }

    fn event(item: &str, calls: &mut usize) -> Mapped {
        convert::stream_events(item, calls)
    }
}

/// Gemini's native API (`GEMINI_API_KEY`,
/// `https://generativelanguage.googleapis.com/v1beta`). JSON-schema mode by default.
///
/// ```
/// use instructor_providers::Gemini;
/// let p = Gemini::new().api_key("AIza...");
/// assert!(!format!("{p:?}").contains("AIza"));
/// assert!(p.url().ends_with("/v1beta"));
/// ```
pub type Gemini = HttpProvider<GenerateContent>;
