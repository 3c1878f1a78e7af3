//! For provider authors: the [`Provider`] trait and the provider-neutral [`Request`],
//! [`Response`] and [`StreamEvent`]s, and the [`Capabilities`] a provider declares. A
//! provider translates these to and from one server's wire format (or runs a model in
//! process); the core decides everything else.

use std::fmt;
use std::pin::Pin;

use futures::Stream;

pub use crate::instruct::{ToolSpec, TypeSchema};
pub use crate::message::{ToolArguments, ToolCall};
pub use crate::schema_ref::{RuntimeCache, SchemaRef, ToolSet};
pub use async_trait::async_trait;

use crate::{Error, Message, Mode, Usage};

/// What the request asks the answer to be: the mode, the target's schema (object-rooted,
/// built once per type or per runtime schema) and, for tool modes, the tools offered. It
/// serializes as `{"mode", "name", "schema", "tools"}`. Cloning it allocates nothing.
///
/// ```
/// use instructor_core::{provider::OutputSpec, Instruct, Mode};
/// let output = OutputSpec::new(Mode::Tools, <Vec<String> as Instruct>::type_schema()).unwrap();
/// assert_eq!(output.tools.len(), 1);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OutputSpec {
    /// The mode.
    pub mode: Mode,
    /// The target's schemas (a type's, or a runtime schema's); it derefs to [`TypeSchema`].
    pub schema: SchemaRef,
    /// The tools offered (one for [`Mode::Tools`], several for [`Mode::ParallelTools`]);
    /// it derefs to `[ToolSpec]`.
    pub tools: ToolSet,
}

impl serde::Serialize for OutputSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("OutputSpec", 4)?;
        s.serialize_field("mode", &self.mode)?;
        s.serialize_field("name", &self.schema.name)?;
        s.serialize_field("schema", &self.schema.request_schema)?;
        s.serialize_field("tools", &self.tools)?;
        s.end()
    }
}

/// A provider-neutral request. It serializes to JSON (for logs, queues and batch files);
/// [`Provider::wire_body`] gives a provider's own body for it.
///
/// ```
/// use instructor_core::{Client, testing::ScriptedProvider};
/// let client = Client::new(ScriptedProvider::new());
/// let prepared = client.create::<Vec<String>>().user("Three colours").prepare().unwrap();
/// let json = serde_json::to_value(prepared.request()).unwrap();
/// assert_eq!(json["messages"][1]["content"][0]["text"], "Three colours");
/// assert_eq!(json["output"]["mode"], "json");
/// ```
#[derive(Debug, Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Request {
    /// The model name; `None` lets the provider use its default.
    pub model: Option<String>,
    /// The conversation, including what the core added for the mode and for re-asks.
    pub messages: Vec<Message>,
    /// What the answer must be.
    pub output: OutputSpec,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// The most tokens to generate.
    pub max_tokens: Option<u32>,
    /// A seed, for providers that take one.
    pub seed: Option<u64>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Members merged over the provider's request body, for parameters this request does
    /// not model (`{"logprobs": true}`, a server's own options). Providers without a request
    /// body reject a non-empty one.
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Request {
    /// A request for `messages` with `output`, and no model name, sampling settings, stop
    /// sequences or extra members; set the public fields for those. The core builds its own
    /// requests; this is for driving a [`Provider`] directly (tests, benchmarks, tools).
    ///
    /// ```
    /// use instructor_core::{provider::{OutputSpec, Request}, Instruct, Message, Mode};
    /// let output = OutputSpec::new(Mode::Json, <Vec<u32> as Instruct>::type_schema()).unwrap();
    /// let mut request = Request::new(vec![Message::user("Three primes")], output);
    /// request.max_tokens = Some(64);
    /// assert_eq!(serde_json::to_value(&request).unwrap()["max_tokens"], 64);
    /// ```
    pub fn new(messages: Vec<Message>, output: OutputSpec) -> Self {
        Self {
            model: None,
            messages,
            output,
            temperature: None,
            top_p: None,
            max_tokens: None,
            seed: None,
            stop: Vec::new(),
            extra: None,
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The token limit: the answer is probably incomplete.
    Length,
    /// The model called tools.
    ToolCalls,
    /// The provider's content filter withheld the answer.
    ContentFilter,
    /// The model refused.
    Refusal,
    /// Something else, as the provider named it.
    Other(String),
    /// The provider did not say.
    Unknown,
}

/// A provider-neutral response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The text content (may hold prose, fences, `<think>` blocks around the JSON).
    pub text: Option<String>,
    /// Tool calls.
    pub tool_calls: Vec<ToolCall>,
    /// A refusal message, for providers that report one apart from the content.
    pub refusal: Option<String>,
    /// Why the model stopped.
    pub finish_reason: FinishReason,
    /// Tokens used by this call.
    pub usage: Usage,
    /// The model that answered, if the provider says.
    pub model: Option<String>,
    /// The raw response body, for debugging.
    pub raw: Option<String>,
}

impl Response {
    /// A plain text answer that stopped normally.
    ///
    /// ```
    /// let r = instructor_core::Response::text(r#"{"a": 1}"#);
    /// assert_eq!(r.text.as_deref(), Some(r#"{"a": 1}"#));
    /// ```
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            tool_calls: Vec::new(),
            refusal: None,
            finish_reason: FinishReason::Stop,
            usage: Usage::default(),
            model: None,
            raw: None,
        }
    }

    /// An answer made of tool calls.
    ///
    /// ```
    /// use instructor_core::{Response, ToolCall, ToolArguments};
    /// let call = ToolCall { id: "c1".into(), name: "User".into(), arguments: ToolArguments::Text("{}".into()) };
    /// assert_eq!(Response::tool_calls(vec![call]).tool_calls.len(), 1);
    /// ```
    pub fn tool_calls(calls: Vec<ToolCall>) -> Self {
        Self {
            text: None,
            tool_calls: calls,
            refusal: None,
            finish_reason: FinishReason::ToolCalls,
            usage: Usage::default(),
            model: None,
            raw: None,
        }
    }

    /// The same response with `usage` set.
    ///
    /// ```
    /// let r = instructor_core::Response::text("{}").with_usage(instructor_core::Usage::new(5, 2));
    /// assert_eq!(r.usage.total_tokens, 7);
    /// ```
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = usage;
        self
    }

    /// The same response with `finish_reason` set.
    ///
    /// ```
    /// use instructor_core::{Response, FinishReason};
    /// let r = Response::text("{\"a\":").with_finish_reason(FinishReason::Length);
    /// assert_eq!(r.finish_reason, FinishReason::Length);
    /// ```
    pub fn with_finish_reason(mut self, reason: FinishReason) -> Self {
        self.finish_reason = reason;
        self
    }
}

/// One event of a streamed answer, provider-neutral.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// More text content.
    TextDelta(String),
    /// More of tool call `index`; the first delta of a call carries its id and name.
    ToolCallDelta {
        /// Which call (calls may interleave).
        index: usize,
        /// The call id, when this delta carries it.
        id: Option<String>,
        /// The tool name, when this delta carries it.
        name: Option<String>,
        /// A piece of the arguments' JSON text.
        arguments: String,
    },
    /// Token usage (usually once, near the end).
    Usage(Usage),
    /// Why the model stopped.
    Finish(FinishReason),
}

/// A stream of answer events.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, Error>> + Send>>;

/// What a provider can do, declared as data. Build it with [`Capabilities::new`] and the
/// `with_*` setters (fields may be added in any release).
///
/// ```
/// use instructor_core::{Capabilities, Mode};
/// let c = Capabilities::new(&[Mode::Tools, Mode::Json])
///     .with_default_mode(Mode::Json)
///     .with_streaming(true)
///     .with_images(true);
/// assert_eq!(c.default_mode, Mode::Json);
/// assert!(c.streaming && c.images);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The modes it honours.
    pub modes: Vec<Mode>,
    /// The mode used when neither the client nor the call names one.
    pub default_mode: Mode,
    /// Whether [`Provider::stream`] works.
    pub streaming: bool,
    /// Whether messages may carry images; when not, a request with one fails before it is
    /// sent instead of losing the image.
    pub images: bool,
    /// Whether messages may carry documents (PDFs).
    pub documents: bool,
    /// Whether messages may carry audio.
    pub audio: bool,
    /// How each media kind is taken: URLs or bytes only, which media types, how large.
    /// [`media::check`](crate::media::check) holds a request to it before anything is sent.
    pub media: crate::media::MediaRules,
}

impl Capabilities {
    /// Capabilities with these modes, the first one the default, streaming and images off.
    ///
    /// ```
    /// use instructor_core::{Capabilities, Mode};
    /// let c = Capabilities::new(&[Mode::Tools, Mode::Json]);
    /// assert_eq!(c.default_mode, Mode::Tools);
    /// assert!(c.supports(Mode::Json));
    /// assert!(!c.supports(Mode::Grammar));
    /// ```
    pub fn new(modes: &[Mode]) -> Self {
        Self {
            modes: modes.to_vec(),
            default_mode: modes.first().copied().unwrap_or(Mode::MdJson),
            streaming: false,
            images: false,
            documents: false,
            audio: false,
            media: crate::media::MediaRules::ANY,
        }
    }

    /// The same with `mode` as the default.
    ///
    /// ```
    /// # use instructor_core::{Capabilities, Mode};
    /// assert_eq!(Capabilities::new(Mode::ALL).with_default_mode(Mode::Json).default_mode, Mode::Json);
    /// ```
    pub fn with_default_mode(mut self, mode: Mode) -> Self {
        self.default_mode = mode;
        self
    }

    /// The same with streaming on or off.
    ///
    /// ```
    /// # use instructor_core::{Capabilities, Mode};
    /// assert!(Capabilities::new(Mode::ALL).with_streaming(true).streaming);
    /// ```
    pub fn with_streaming(mut self, on: bool) -> Self {
        self.streaming = on;
        self
    }

    /// The same with image inputs allowed or not.
    ///
    /// ```
    /// # use instructor_core::{Capabilities, Mode};
    /// assert!(Capabilities::new(Mode::ALL).with_images(true).images);
    /// ```
    pub fn with_images(mut self, on: bool) -> Self {
        self.images = on;
        self
    }

    /// The same with document (PDF) inputs allowed or not.
    ///
    /// ```
    /// # use instructor_core::{Capabilities, Mode};
    /// assert!(Capabilities::new(Mode::ALL).with_documents(true).documents);
    /// ```
    pub fn with_documents(mut self, on: bool) -> Self {
        self.documents = on;
        self
    }

    /// The same with audio inputs allowed or not.
    ///
    /// ```
    /// # use instructor_core::{Capabilities, Mode};
    /// assert!(Capabilities::new(Mode::ALL).with_audio(true).audio);
    /// ```
    pub fn with_audio(mut self, on: bool) -> Self {
        self.audio = on;
        self
    }

    /// The same with these rules for the media kinds taken (URLs, media types, sizes).
    ///
    /// ```
    /// use instructor_core::{media::{MediaKind, MediaRules, PartRule}, Capabilities, Mode};
    /// let rules = MediaRules::ANY.with(MediaKind::Image, PartRule::ANY.bytes_only());
    /// let c = Capabilities::new(Mode::ALL).with_images(true).with_media_rules(rules);
    /// assert!(!c.media.image.url);
    /// ```
    pub fn with_media_rules(mut self, rules: crate::media::MediaRules) -> Self {
        self.media = rules;
        self
    }

    /// Whether parts of `kind` are taken at all.
    ///
    /// ```
    /// use instructor_core::{media::MediaKind, Capabilities, Mode};
    /// let c = Capabilities::new(Mode::ALL).with_images(true);
    /// assert!(c.accepts(MediaKind::Image));
    /// assert!(!c.accepts(MediaKind::Audio));
    /// ```
    pub fn accepts(&self, kind: crate::media::MediaKind) -> bool {
        match kind {
            crate::media::MediaKind::Image => self.images,
            crate::media::MediaKind::Document => self.documents,
            crate::media::MediaKind::Audio => self.audio,
        }
    }

    /// Whether `mode` is honoured.
    ///
    /// ```
    /// # use instructor_core::{Capabilities, Mode};
    /// assert!(Capabilities::new(Mode::ALL).supports(Mode::Grammar));
    /// ```
    pub fn supports(&self, mode: Mode) -> bool {
        self.modes.contains(&mode)
    }
}

/// A model backend: translates a neutral [`Request`] to its wire format (or runs a model in
/// process) and translates the answer back. Retries, parsing, validation and re-asks are
/// the core's; a provider only reports what happened, as typed [`Error`]s.
///
/// ```
/// use instructor_core::{async_trait, Capabilities, Error, Mode, Provider, Request, Response};
///
/// /// Always answers the same JSON.
/// #[derive(Debug)]
/// struct Echo;
///
/// #[async_trait]
/// impl Provider for Echo {
///     fn name(&self) -> &str { "echo" }
///     fn capabilities(&self) -> Capabilities { Capabilities::new(&[Mode::Json]) }
///     async fn send(&self, _request: &Request) -> Result<Response, Error> {
///         Ok(Response::text(r#"{"name": "Jason", "age": 30}"#))
///     }
/// }
/// let client = instructor_core::Client::new(Echo);
/// # let _ = client;
/// ```
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// A short name for errors and traces (`openai`, `local`, ...).
    fn name(&self) -> &str;

    /// What this provider can do.
    fn capabilities(&self) -> Capabilities;

    /// Sends one request and returns the whole answer.
    async fn send(&self, request: &Request) -> Result<Response, Error>;

    /// Who answers, for cache keys: the name, plus for a server its endpoint (without
    /// credentials), so two servers never share cached answers. The default is the name.
    fn cache_identity(&self) -> String {
        self.name().to_owned()
    }

    /// The body this provider would send for `request`, as JSON, for callers that send it
    /// through their own transport, queue or batch API. Providers without a request body
    /// (an in-process model) keep the default, [`Error::Unsupported`].
    fn wire_body(&self, request: &Request) -> Result<serde_json::Value, Error> {
        let _ = request;
        Err(Error::Unsupported {
            what: format!("a wire body with the {} provider", self.name()),
        })
    }

    /// The provider's batch API ([`Client::batch`](crate::Client::batch)), for providers
    /// that have one; the default is none.
    fn batch_api(&self) -> Option<&dyn crate::batch::BatchApi> {
        None
    }

    /// Sends one request and returns the answer as a stream of events.
    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let _ = request;
        Err(Error::Unsupported {
            what: format!("streaming with the {} provider", self.name()),
        })
    }
}
