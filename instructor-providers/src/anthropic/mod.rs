//! Anthropic's Messages API: forced tools (`tool_use` blocks carry an object), strict tools,
//! JSON outputs (`output_config`), and re-asks as `tool_result` blocks with `is_error`.

mod convert;
mod schema;
mod wire;

use std::fmt;

use async_trait::async_trait;
use instructor_core::{Capabilities, Error, EventStream, Mode, Provider, Request, Response};
use reqwest::header::{HeaderName, HeaderValue};

use crate::endpoint::{endpoint_setters, Endpoint, Framing};
use crate::http::key_header;

const VERSION: &str = "2023-06-01";

/// Anthropic's Messages API (`ANTHROPIC_API_KEY`; `x-api-key` and `anthropic-version`
/// headers). Tools mode by default; `max_tokens` defaults to 1024 since the API requires it.
///
/// ```
/// use instructor_providers::Anthropic;
/// let p = Anthropic::new().api_key("sk-ant-...");
/// assert!(!format!("{p:?}").contains("sk-ant"));
/// ```
#[derive(Clone)]
pub struct Anthropic {
    endpoint: Endpoint,
    default_max_tokens: u32,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint.fmt(f)
    }
}

impl Default for Anthropic {
    fn default() -> Self {
        Self::new()
    }
}

impl Anthropic {
    /// The Messages API at `https://api.anthropic.com/v1`, key from `ANTHROPIC_API_KEY`.
    ///
    /// ```
    /// let p = instructor_providers::Anthropic::new();
    /// assert_eq!(p.url(), "https://api.anthropic.com/v1");
    /// ```
    pub fn new() -> Self {
        Self {
            endpoint: Endpoint::new(
                "anthropic",
                "https://api.anthropic.com/v1",
                Some("ANTHROPIC_API_KEY"),
                true,
            ),
            default_max_tokens: 1024,
        }
    }

    endpoint_setters!(endpoint);

    /// `max_tokens` when the call does not set one.
    ///
    /// ```
    /// let p = instructor_providers::Anthropic::new().default_max_tokens(4096);
    /// # let _ = p;
    /// ```
    pub fn default_max_tokens(mut self, n: u32) -> Self {
        self.default_max_tokens = n;
        self
    }

    fn body(&self, request: &Request, stream: bool) -> Result<Vec<u8>, Error> {
        let model = self.endpoint.model(request.model.as_deref())?;
        let f = schema::fragments(&request.output)?;
        let (system, messages) = convert::messages(request);
        let body = wire::MessagesRequest {
            model,
            max_tokens: request.max_tokens.unwrap_or(self.default_max_tokens),
            system,
            messages,
            temperature: request.temperature,
            top_p: request.top_p,
            stop_sequences: &request.stop,
            tools: f.tools,
            tool_choice: f.tool_choice,
            output_config: f.output_config,
            stream: stream.then_some(true),
        };
        crate::body::serialize(&body, request)
    }
}

#[async_trait]
impl Provider for Anthropic {
    fn name(&self) -> &str {
        "anthropic"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[
            Mode::Tools,
            Mode::ToolsStrict,
            Mode::JsonSchema,
            Mode::ParallelTools,
            Mode::Json,
            Mode::MdJson,
        ])
        .with_default_mode(Mode::Tools)
        .with_streaming(true)
        .with_images(true)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let headers = self.headers()?;
        let body = self.body(request, false)?;
        let url = format!("{}/messages", self.endpoint.base_url);
        self.endpoint
            .exchange(&url, &headers, body, convert::response, |r| {
                Err(convert::error(r))
            })
            .await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let headers = self.headers()?;
        let body = self.body(request, true)?;
        let url = format!("{}/messages", self.endpoint.base_url);
        let mut tools = Vec::new();
        self.endpoint
            .stream(
                &url,
                &headers,
                body,
                Framing::Sse,
                |r| Err(convert::error(r)),
                move |data| convert::stream_events(data, &mut tools),
            )
            .await
    }
}

impl Anthropic {
    fn headers(&self) -> Result<reqwest::header::HeaderMap, Error> {
        let key = self.endpoint.ready()?;
        let mut headers = self.endpoint.headers.clone();
        if let Some(key) = key {
            key_header(&mut headers, "x-api-key", key)?;
        }
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(VERSION),
        );
        Ok(headers)
    }
}
