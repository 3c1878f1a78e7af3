//! Cohere's v2 Chat API (providers.md §15): `response_format` `json_object` with a
//! `json_schema`, and tools (`tool_choice: REQUIRED`, `strict_tools` for the strict mode).
//! Text only: it declares no media parts, so a request with an image, a document or audio
//! fails (`Error::UnsupportedPart`) before it is sent.

mod convert;
mod schema;
mod wire;

use instructor_core::{Error, Mode, Response};

use crate::body::Conversation;
use crate::events::Mapped;
use crate::http::Auth;
use crate::shared::SamplingNames;
use crate::translate::{Call, Declared, HttpProvider, Translate};

/// The v2 Chat translator.
#[derive(Debug, Clone)]
pub struct CohereChat;

const DECLARED: Declared = Declared {
    name: "cohere",
    base_url: "https://api.cohere.com/v2",
    key_var: Some("CO_API_KEY"),
    key_required: true,
    modes: &[
        Mode::JsonSchema,
        Mode::Json,
        Mode::Tools,
        Mode::ToolsStrict,
        Mode::ParallelTools,
        Mode::MdJson,
    ],
    default_mode: Mode::JsonSchema,
    images: false,
    documents: false,
    audio: false,
    media: instructor_core::media::MediaRules::ANY,
};

const SAMPLING: SamplingNames = SamplingNames {
    top_p: "p",
    stop: "stop_sequences",
    ..SamplingNames::CHAT
};

impl Translate for CohereChat {
    type Body<'a> = wire::ChatRequest<'a>;
    type StreamState = ();
    const AUTH: Auth = Auth::Bearer;
    const PATH: &'static str = "/chat";

    fn standard() -> HttpProvider<Self> {
        HttpProvider::build(CohereChat)
    }

    fn declared(&self) -> Declared {
        DECLARED
    }

    fn body<'a>(&'a self, call: &Call<'a>) -> Result<wire::ChatRequest<'a>, Error> {
        let messages = convert::messages(call.request)?;
        let output = schema::members(&call.request.output, &DECLARED)?;
        Ok(wire::ChatRequest {
            model: call.model,
            chat: Conversation::new(call, messages, SAMPLING, output),
        })
    }

    fn response(body: String) -> Result<Response, Error> {
        convert::response(body)
    }

    fn event(item: &str, _state: &mut ()) -> Mapped {
        convert::stream_events(item)
    }
}

/// Cohere v2 (`CO_API_KEY`, `https://api.cohere.com/v2`). JSON-schema mode by default.
///
/// ```
/// use instructor_providers::Cohere;
/// let p = Cohere::new().api_key("co-...");
/// assert!(!format!("{p:?}").contains("co-."));
/// assert!(p.url().ends_with("/v2"));
/// ```
pub type Cohere = HttpProvider<CohereChat>;
