//! Anthropic's Messages API (providers.md §3): forced tools (`tool_use` blocks carry an
//! object), strict tools, JSON outputs (`output_config`), and re-asks as `tool_result`
//! blocks with `is_error`.

mod convert;
mod schema;
mod wire;

use instructor_core::media::{MediaKind, MediaRules, PartRule};
use instructor_core::{Error, Mode, Response};

use crate::body::Conversation;
use crate::events::Mapped;
use crate::http::{Auth, Reply};
use crate::shared::SamplingNames;
use crate::translate::{Call, Declared, HttpProvider, Translate};

/// The Messages API translator.
#[derive(Debug, Clone)]
pub struct Messages {
    default_max_tokens: u32,
}

const DECLARED: Declared = Declared {
    name: "anthropic",
    base_url: "https://api.anthropic.com/v1",
    key_var: Some("ANTHROPIC_API_KEY"),
    key_required: true,
    modes: &[
        Mode::Tools,
        Mode::ToolsStrict,
        Mode::JsonSchema,
        Mode::ParallelTools,
        Mode::Json,
        Mode::MdJson,
    ],
    default_mode: Mode::Tools,
    images: true,
    documents: true,
    audio: false,
    media: MEDIA,
};

/// Images: JPEG, PNG, GIF, WebP, at most 5 MB each; documents: PDF, within the 32 MB
/// request limit; both by URL or base64 (Anthropic's vision and PDF-support guides).
const MEDIA: MediaRules = MediaRules::ANY
    .with(
        MediaKind::Image,
        PartRule::ANY
            .media_types(&["image/jpeg", "image/png", "image/gif", "image/webp"])
            .max_bytes(5 * 1024 * 1024),
    )
    .with(
        MediaKind::Document,
        PartRule::ANY
            .media_types(&["application/pdf"])
            .max_bytes(32 * 1024 * 1024),
    );

/// No seed: the API has none. `max_tokens` is a member of its own (required).
const SAMPLING: SamplingNames = SamplingNames {
    temperature: "temperature",
    top_p: "top_p",
    max_tokens: None,
    seed: None,
    stop: "stop_sequences",
};

impl Translate for Messages {
    type Body<'a> = wire::MessagesRequest<'a>;
    type StreamState = Vec<usize>;
    const AUTH: Auth = Auth::Header("x-api-key");
    const HEADERS: &'static [(&'static str, &'static str)] = &[("anthropic-version", "2023-06-01")];
    const PATH: &'static str = "/messages";
    const BATCH: Option<crate::batch::BatchWire> = Some(crate::batch::BatchWire::Anthropic);

    fn standard() -> HttpProvider<Self> {
        HttpProvider::build(Messages {
            default_max_tokens: 1024,
        })
    }

    fn declared(&self) -> Declared {
        DECLARED
    }

    fn body<'a>(&'a self, call: &Call<'a>) -> Result<wire::MessagesRequest<'a>, Error> {
        let request = call.request;
        let (system, messages) = convert::messages(request)?;
        let output = schema::members(&request.output, &DECLARED)?;
        Ok(wire::MessagesRequest {
            model: call.model,
            max_tokens: request.max_tokens.unwrap_or(self.default_max_tokens),
            system,
            chat: Conversation::new(call, messages, SAMPLING, output),
        })
    }

    fn response(body: String) -> Result<Response, Error> {
        convert::response(body)
    }

    fn error(reply: Reply) -> Result<Response, Error> {
        Err(convert::error(reply))
    }

    fn event(item: &str, tools: &mut Vec<usize>) -> Mapped {
        convert::stream_events(item, tools)
    }
}

/// Anthropic's Messages API (`ANTHROPIC_API_KEY`, `https://api.anthropic.com/v1`; the key in
/// `x-api-key`, with `anthropic-version`). Tools mode by default; `max_tokens` defaults to
/// 1024 since the API requires it.
///
/// ```
/// use instructor_providers::Anthropic;
/// let p = Anthropic::new().api_key("sk-ant-...");
/// assert!(!format!("{p:?}").contains("sk-ant"));
/// ```
pub type Anthropic = HttpProvider<Messages>;

impl Anthropic {
    /// `max_tokens` when the call does not set one.
    ///
    /// ```
    /// let p = instructor_providers::Anthropic::new().default_max_tokens(4096);
    /// # let _ = p;
    /// ```
    pub fn default_max_tokens(mut self, n: u32) -> Self {
        self.translator.default_max_tokens = n;
        self
    }
}
