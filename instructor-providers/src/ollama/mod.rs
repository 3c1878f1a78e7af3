//! Ollama's native `/api/chat` (providers.md §0, §10): `format` set to the schema (with
//! `$ref`s inlined), tools whose arguments come back as objects, NDJSON streams. Images go
//! as base64 only; one given by URL is a typed error, not a dropped part.

mod convert;
mod schema;
mod wire;

use instructor_core::media::{MediaKind, MediaRules, PartRule};
use instructor_core::{Error, Mode, Response};

use crate::endpoint::Framing;
use crate::events::Mapped;
use crate::http::Auth;
use crate::shared::{Sampling, SamplingNames};
use crate::translate::{Call, Declared, HttpProvider, Translate};

/// The Ollama host: `OLLAMA_HOST` (with `http://` added when it has no scheme), else
/// `http://localhost:11434`.
pub(crate) fn host() -> String {
    match std::env::var("OLLAMA_HOST") {
        Ok(h) if !h.trim().is_empty() => {
            let h = h.trim().trim_end_matches('/');
            if h.starts_with("http://") || h.starts_with("https://") {
                h.to_owned()
            } else {
                format!("http://{h}")
            }
        }
        _ => "http://localhost:11434".to_owned(),
    }
}

/// The native `/api/chat` translator.
#[derive(Debug, Clone)]
pub struct OllamaChat;

const DECLARED: Declared = Declared {
    name: "ollama-native",
    base_url: "http://localhost:11434",
    key_var: Some("OLLAMA_API_KEY"),
    key_required: false,
    modes: &[
        Mode::JsonSchema,
        Mode::Json,
        Mode::Tools,
        Mode::ParallelTools,
        Mode::MdJson,
    ],
    default_mode: Mode::JsonSchema,
    images: true,
    documents: false,
    audio: false,
    media: MEDIA,
};

/// `images` is a list of base64 strings: no URLs (Ollama's `/api/chat` reference).
const MEDIA: MediaRules = MediaRules::ANY.with(MediaKind::Image, PartRule::ANY.bytes_only());

/// Under `options`.
const SAMPLING: SamplingNames = SamplingNames {
    max_tokens: Some("num_predict"),
    ..SamplingNames::CHAT
};

impl Translate for OllamaChat {
    type Body<'a> = wire::ChatRequest<'a>;
    /// Tool calls numbered across lines.
    type StreamState = usize;
    /// A key (`OLLAMA_API_KEY`) is only needed for ollama.com.
    const AUTH: Auth = Auth::Bearer;
    const FRAMING: Framing = Framing::Ndjson;
    const PATH: &'static str = "/api/chat";

    fn standard() -> HttpProvider<Self> {
        HttpProvider::build(OllamaChat).base_url(host())
    }

    fn declared(&self) -> Declared {
        DECLARED
    }

    fn body<'a>(&'a self, call: &Call<'a>) -> Result<wire::ChatRequest<'a>, Error> {
        let request = call.request;
        Ok(wire::ChatRequest {
            model: call.model,
            messages: convert::messages(request)?,
            stream: call.stream,
            output: schema::members(&request.output, &DECLARED)?,
            options: Sampling::new(request, SAMPLING),
        })
    }

    fn response(body: String) -> Result<Response, Error> {
        convert::response(body)
    }

    fn event(item: &str, calls: &mut usize) -> Mapped {
        convert::stream_events(item, calls)
    }
}

/// Ollama's native API at `OLLAMA_HOST` (default `http://localhost:11434`); a key
/// (`OLLAMA_API_KEY`) is sent when set, for ollama.com. JSON-schema mode by default.
///
/// ```
/// let p = instructor_providers::Ollama::new().default_model("llama3.2");
/// assert!(p.url().starts_with("http"));
/// ```
pub type Ollama = HttpProvider<OllamaChat>;
