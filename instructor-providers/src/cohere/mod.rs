//! Cohere's v2 Chat API: `response_format` `json_object` with a `json_schema`, and tools
//! (`tool_choice: REQUIRED`, `strict_tools` for the strict mode).

mod convert;
mod schema;
mod wire;

use std::fmt;

use async_trait::async_trait;
use instructor_core::{Capabilities, Error, EventStream, Mode, Provider, Request, Response};

use crate::endpoint::{endpoint_setters, Endpoint, Framing};
use crate::http::bearer_headers;

/// Cohere v2 (`CO_API_KEY`). JSON-schema mode by default.
///
/// ```
/// use instructor_providers::Cohere;
/// let p = Cohere::new().api_key("co-...");
/// assert!(!format!("{p:?}").contains("co-."));
/// ```
#[derive(Clone)]
pub struct Cohere {
    endpoint: Endpoint,
}

impl fmt::Debug for Cohere {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint.fmt(f)
    }
}

impl Default for Cohere {
    fn default() -> Self {
        Self::new()
    }
}

impl Cohere {
    /// `https://api.cohere.com/v2`, key from `CO_API_KEY`.
    ///
    /// ```
    /// let p = instructor_providers::Cohere::new();
    /// assert!(p.url().ends_with("/v2"));
    /// ```
    pub fn new() -> Self {
        Self {
            endpoint: Endpoint::new(
                "cohere",
                "https://api.cohere.com/v2",
                Some("CO_API_KEY"),
                true,
            ),
        }
    }

    endpoint_setters!(endpoint);

    fn body(&self, request: &Request, stream: bool) -> Result<Vec<u8>, Error> {
        let f = schema::fragments(&request.output)?;
        let body = wire::ChatRequest {
            model: self.endpoint.model(request.model.as_deref())?,
            messages: convert::messages(request),
            temperature: request.temperature,
            p: request.top_p,
            max_tokens: request.max_tokens,
            seed: request.seed,
            stop_sequences: &request.stop,
            response_format: f.response_format,
            tools: f.tools,
            tool_choice: f.tool_choice,
            strict_tools: f.strict_tools,
            stream: stream.then_some(true),
        };
        crate::body::serialize(&body, request)
    }
}

#[async_trait]
impl Provider for Cohere {
    fn name(&self) -> &str {
        "cohere"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[
            Mode::JsonSchema,
            Mode::Json,
            Mode::Tools,
            Mode::ToolsStrict,
            Mode::ParallelTools,
            Mode::MdJson,
        ])
        .with_default_mode(Mode::JsonSchema)
        .with_streaming(true)
        .with_images(false)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let key = self.endpoint.ready()?;
        let headers = bearer_headers(key, &self.endpoint.headers)?;
        let body = self.body(request, false)?;
        let url = format!("{}/chat", self.endpoint.base_url);
        self.endpoint
            .exchange(&url, &headers, body, convert::response, |r| {
                Err(convert::error(r))
            })
            .await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let key = self.endpoint.ready()?;
        let headers = bearer_headers(key, &self.endpoint.headers)?;
        let body = self.body(request, true)?;
        let url = format!("{}/chat", self.endpoint.base_url);
        self.endpoint
            .stream(
                &url,
                &headers,
                body,
                Framing::Sse,
                |r| Err(convert::error(r)),
                convert::stream_events,
            )
            .await
    }
}
