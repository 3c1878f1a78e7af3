//! A provider is a translator. [`Translate`] is what one HTTP API knows: its declared
//! capabilities (data), how a key travels, its URLs, its request body for a neutral
//! [`Request`], and how it reads answers, error replies and stream items. [`HttpProvider`] is
//! the one [`Provider`] over any translator: it holds the [`Endpoint`] (where to send, the
//! key, extra headers, the HTTP client, a default model), offers the setters every provider
//! shares, checks a request against what the translator declares before anything is built or
//! sent, and does the rest through the endpoint's one exchange.
//!
//! The public provider names are aliases of it (`OpenAi`, `Anthropic`, ...). The trait and
//! the translators are public only in name: their modules are private, so nothing outside
//! this crate can name, implement or call them.

use std::fmt;

use async_trait::async_trait;
use instructor_core::media::MediaRules;
use instructor_core::{Capabilities, Error, EventStream, Mode, Provider, Request, Response};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::endpoint::{Endpoint, Framing};
use crate::events::Mapped;
use crate::http::{auth_headers, status_error, Auth, Reply};
use crate::HttpOptions;

/// What a provider declares, as data: its name, where its API is and which variable holds
/// its key (for `new()`), the modes its server really honours and which media parts messages
/// may carry (images, documents, audio; by URL or as bytes; which types; how large). HTTP
/// providers all stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    /// The provider's name, for errors and traces.
    pub name: &'static str,
    /// The base URL `new()` sends to.
    pub base_url: &'static str,
    /// The environment variable `new()` reads the key from.
    pub key_var: Option<&'static str>,
    /// Whether a call without a key is a configuration error.
    pub key_required: bool,
    /// The modes it honours.
    pub modes: &'static [Mode],
    /// The mode used when neither the client nor the call names one.
    pub default_mode: Mode,
    /// Whether messages may carry images.
    pub images: bool,
    /// Whether messages may carry documents (PDFs).
    pub documents: bool,
    /// Whether messages may carry audio.
    pub audio: bool,
    /// How each media kind is taken (URLs or bytes only, media types, sizes).
    pub media: MediaRules,
}

impl Declared {
    /// The same as [`Capabilities`].
    pub fn capabilities(&self) -> Capabilities {
        Capabilities::new(self.modes)
            .with_default_mode(self.default_mode)
            .with_streaming(true)
            .with_images(self.images)
            .with_documents(self.documents)
            .with_audio(self.audio)
            .with_media_rules(self.media)
    }

    /// The error for a mode this provider does not honour.
    pub fn unsupported(&self, mode: Mode) -> Error {
        Error::UnsupportedMode {
            mode,
            provider: self.name.to_owned(),
            supported: self.modes.to_vec(),
        }
    }

    /// A request asking for what this provider does not declare (a mode, a media part of a
    /// kind, form, type or size it does not take) is an error before anything is built or
    /// sent.
    pub fn check(&self, request: &Request) -> Result<(), Error> {
        let mode = request.output.mode;
        if !self.modes.contains(&mode) {
            return Err(self.unsupported(mode));
        }
        let media = request.messages.iter().flat_map(|m| &m.content);
        if media.into_iter().any(|p| p.media_kind().is_some()) {
            instructor_core::media::check(&request.messages, self.name, &self.capabilities())?;
        }
        Ok(())
    }
}

/// One call as a translator sees it: the request, the model it goes to (the request's or the
/// provider's default) and whether the answer is streamed.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The neutral request.
    pub request: &'a Request,
    /// The model.
    pub model: &'a str,
    /// Whether the answer is streamed.
    pub stream: bool,
}

/// The per-API half of an HTTP provider: everything that differs between wire formats.
pub trait Translate: Clone + Send + Sync + 'static {
    /// The request body, borrowing from the request.
    type Body<'a>: Serialize
    where
        Self: 'a;

    /// What the stream mapping carries from one item to the next.
    type StreamState: Default + Send + 'static;

    /// How the key travels.
    const AUTH: Auth;

    /// Headers every request carries (after the caller's own).
    const HEADERS: &'static [(&'static str, &'static str)] = &[];

    /// How a streamed answer is framed.
    const FRAMING: Framing = Framing::Sse;

    /// The batch API this provider's server has, if any.
    const BATCH: Option<crate::batch::BatchWire> = None;

    /// The path calls go to, under the endpoint's base URL.
    const PATH: &'static str;

    /// The provider `new()` (and `Default`) builds: its translator and endpoint.
    fn standard() -> HttpProvider<Self>;

    /// What this provider declares.
    fn declared(&self) -> Declared;

    /// Where a call goes, from the endpoint's base URL: [`PATH`](Self::PATH) under it,
    /// unless the call changes it.
    fn url(&self, base: &str, _call: &Call<'_>) -> String {
        format!("{base}{}", Self::PATH)
    }

    /// The body of a call (the request's `extra` is merged over it afterwards).
    fn body<'a>(&'a self, call: &Call<'a>) -> Result<Self::Body<'a>, Error>;

    /// A success body → neutral response.
    fn response(body: String) -> Result<Response, Error>;

    /// An error reply → typed error (or, for a reply that is really an answer, the answer).
    fn error(reply: Reply) -> Result<Response, Error> {
        Err(status_error(reply, false, None))
    }

    /// One stream item (an SSE event's data, or an NDJSON line) → neutral events, and
    /// whether it was the end marker.
    fn event(item: &str, state: &mut Self::StreamState) -> Mapped;
}

/// An HTTP provider: the translator of one wire format and the endpoint it talks to. Each
/// provider is one of these under its own name ([`OpenAi`](crate::OpenAi),
/// [`Anthropic`](crate::Anthropic), [`Gemini`](crate::Gemini), [`Mistral`](crate::Mistral),
/// [`Cohere`](crate::Cohere), [`Ollama`](crate::Ollama)); the setters below are theirs, and
/// each implements [`Provider`] here, once for all, including
/// [`Provider::wire_body`].
///
/// ```
/// use instructor_providers::{Anthropic, HttpOptions};
/// let p = Anthropic::new()
///     .api_key("sk-ant-...")
///     .base_url("https://proxy.example/v1")
///     .default_model("claude-sonnet-4-5")
///     .header("x-team", "search")
///     .http_options(HttpOptions::default());
/// assert_eq!(p.url(), "https://proxy.example/v1");
/// ```
#[derive(Clone)]
pub struct HttpProvider<T> {
    pub(crate) translator: T,
    pub(crate) endpoint: Endpoint,
}

impl<T> fmt::Debug for HttpProvider<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint.fmt(f)
    }
}

impl<T: Translate> Default for HttpProvider<T> {
    fn default() -> Self {
        T::standard()
    }
}

impl<T: Translate> HttpProvider<T> {
    /// `translator` at the base URL it declares, its key read from the variable it names.
    pub(crate) fn build(translator: T) -> Self {
        let d = translator.declared();
        Self {
            translator,
            endpoint: Endpoint::new(d.name, d.base_url, d.key_var, d.key_required),
        }
    }

    /// The provider with its standard settings: the base URL and key variable its type's
    /// documentation names (a local server's default address where there is no key).
    ///
    /// ```
    /// let p = instructor_providers::Anthropic::new();
    /// assert_eq!(p.url(), "https://api.anthropic.com/v1");
    /// ```
    pub fn new() -> Self {
        T::standard()
    }

    /// The provider with its standard settings, failing now (not at the first call) when its
    /// key variable is required and not set.
    ///
    /// ```
    /// # std::env::remove_var("OPENAI_API_KEY");
    /// let err = instructor_providers::OpenAi::from_env().unwrap_err();
    /// assert!(err.to_string().contains("OPENAI_API_KEY"));
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        let p = Self::new();
        p.endpoint.ready()?;
        Ok(p)
    }

    /// Sets the API key (overriding the environment).
    ///
    /// ```
    /// let p = instructor_providers::Gemini::new().api_key("AIza...");
    /// assert!(!format!("{p:?}").contains("AIza"));
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.endpoint.key = Some(crate::ApiKey::new(key));
        self
    }

    /// Sets the base URL (a proxy, another region, or a mock server in tests).
    ///
    /// ```
    /// let p = instructor_providers::Cohere::new().base_url("http://127.0.0.1:9/v2/");
    /// assert_eq!(p.url(), "http://127.0.0.1:9/v2");
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The model used when neither the client nor the call names one.
    pub fn default_model(mut self, model: impl Into<String>) -> Self {
        self.endpoint.default_model = Some(model.into());
        self
    }

    /// Adds a header to every request (an invalid one is reported by the first call).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.endpoint.set_header(name, value);
        self
    }

    /// Timeouts and the response body limit.
    pub fn http_options(mut self, options: HttpOptions) -> Self {
        self.endpoint.set_http_options(options);
        self
    }

    /// Uses the caller's own `reqwest` client (its pool, proxy and TLS settings).
    ///
    /// Build it with redirects to other origins disabled (a
    /// `reqwest::redirect::Policy::custom` that stops when the origin changes, or
    /// `Policy::none()`): its policy cannot be changed from here, and `reqwest` strips
    /// only `Authorization` and cookies on such a redirect, so a key header
    /// (`x-api-key`, `x-goog-api-key`) and, on 307 and 308, the prompt would reach the
    /// other origin. An answer that came from another origin is still refused, as
    /// `Error::Redirect` (with status 0, since the redirect followed is not known).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint.http = crate::http::Http::with_client(client);
        self
    }

    /// The base URL requests go to.
    pub fn url(&self) -> &str {
        &self.endpoint.base_url
    }

    /// Checks the configuration as the first request would (missing key, bad header).
    pub(crate) fn check(&self) -> Result<(), Error> {
        self.endpoint.ready().map(|_| ())
    }

    /// A call of `request`, after checking it against what the translator declares.
    fn call<'a>(&'a self, request: &'a Request, stream: bool) -> Result<Call<'a>, Error> {
        self.translator.declared().check(request)?;
        let model = self.endpoint.model(request.model.as_deref())?;
        Ok(Call {
            request,
            model,
            stream,
        })
    }

    /// The body's bytes for a call.
    fn body(&self, call: &Call<'_>) -> Result<Vec<u8>, Error> {
        let body = self.translator.body(call)?;
        crate::body::serialize(&body, call.request)
    }

    /// The model and body of `request` as an online call would send them (whole, not
    /// streamed): one line of a batch.
    pub(crate) fn batch_body(&self, request: &Request) -> Result<(String, Vec<u8>), Error> {
        let call = self.call(request, false)?;
        Ok((call.model.to_owned(), self.body(&call)?))
    }

    /// Everything one call sends: url, headers (the key, the translator's own) and body.
    fn outgoing(&self, request: &Request, stream: bool) -> Result<Outgoing, Error> {
        let key = self.endpoint.ready()?;
        let mut headers = auth_headers(T::AUTH, key, &self.endpoint.headers)?;
        for (name, value) in T::HEADERS {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        let call = self.call(request, stream)?;
        Ok(Outgoing {
            url: self.translator.url(&self.endpoint.base_url, &call),
            headers,
            body: self.body(&call)?,
        })
    }
}

/// One call, ready to send.
struct Outgoing {
    url: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

#[async_trait]
impl<T: Translate> Provider for HttpProvider<T> {
    fn name(&self) -> &str {
        self.endpoint.name
    }

    /// The name and the endpoint, without credentials (userinfo and query values masked).
    fn cache_identity(&self) -> String {
        format!(
            "{} {}",
            self.endpoint.name,
            crate::scrub::redact_url(&self.endpoint.base_url)
        )
    }

    fn capabilities(&self) -> Capabilities {
        self.translator.declared().capabilities()
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let call = self.outgoing(request, false)?;
        self.endpoint
            .exchange(&call.url, &call.headers, call.body, T::response, T::error)
            .await
    }

    fn batch_api(&self) -> Option<&dyn instructor_core::batch::BatchApi> {
        T::BATCH.map(|_| self as &dyn instructor_core::batch::BatchApi)
    }

    fn wire_body(&self, request: &Request) -> Result<serde_json::Value, Error> {
        let body = self.body(&self.call(request, false)?)?;
        serde_json::from_slice(&body)
            .map_err(|e| Error::Config(format!("could not read back the request body: {e}")))
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let call = self.outgoing(request, true)?;
        let mut state = T::StreamState::default();
        self.endpoint
            .stream(
                &call.url,
                &call.headers,
                call.body,
                T::FRAMING,
                T::error,
                move |item| T::event(item, &mut state),
            )
            .await
    }
}
