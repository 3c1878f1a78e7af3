//! Ollama's native `/api/chat`: `format` set to the schema (with `$ref`s inlined), tools
//! whose arguments come back as objects.

mod convert;
mod schema;
mod wire;

use std::fmt;

use async_trait::async_trait;
use instructor_core::{Capabilities, Error, EventStream, Mode, Provider, Request, Response};

use crate::endpoint::{endpoint_setters, Endpoint, Framing};
use crate::http::bearer_headers;

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

/// Ollama's native API at `OLLAMA_HOST`; a key (`OLLAMA_API_KEY`) is sent when set, for
/// ollama.com. JSON-schema mode by default.
///
/// ```
/// let p = instructor_providers::Ollama::new();
/// assert!(p.url().starts_with("http"));
/// ```
#[derive(Clone)]
pub struct Ollama {
    endpoint: Endpoint,
}

impl fmt::Debug for Ollama {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint.fmt(f)
    }
}

impl Default for Ollama {
    fn default() -> Self {
        Self::new()
    }
}

impl Ollama {
    /// The native API at `OLLAMA_HOST` (default `http://localhost:11434`).
    ///
    /// ```
    /// let p = instructor_providers::Ollama::new().default_model("llama3.2");
    /// # let _ = p;
    /// ```
    pub fn new() -> Self {
        Self {
            endpoint: Endpoint::new("ollama-native", &host(), Some("OLLAMA_API_KEY"), false),
        }
    }

    endpoint_setters!(endpoint);

    fn body(&self, request: &Request, stream: bool) -> Result<Vec<u8>, Error> {
        let body = wire::ChatRequest {
            model: self.endpoint.model(request.model.as_deref())?,
            messages: convert::messages(request),
            stream,
            format: schema::format(&request.output)?,
            tools: schema::tools(&request.output)?,
            options: wire::Options {
                temperature: request.temperature,
                top_p: request.top_p,
                num_predict: request.max_tokens,
                seed: request.seed,
                stop: &request.stop,
            },
        };
        crate::body::serialize(&body, request)
    }
}

#[async_trait]
impl Provider for Ollama {
    fn name(&self) -> &str {
        "ollama-native"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[
            Mode::JsonSchema,
            Mode::Json,
            Mode::Tools,
            Mode::ParallelTools,
            Mode::MdJson,
        ])
        .with_default_mode(Mode::JsonSchema)
        .with_streaming(true)
        .with_images(true)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let key = self.endpoint.ready()?;
        let headers = bearer_headers(key, &self.endpoint.headers)?;
        let body = self.body(request, false)?;
        let url = format!("{}/api/chat", self.endpoint.base_url);
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
        let url = format!("{}/api/chat", self.endpoint.base_url);
        let mut calls = 0;
        self.endpoint
            .stream(
                &url,
                &headers,
                body,
                Framing::Ndjson,
                |r| Err(convert::error(r)),
                move |line| convert::stream_events(line, &mut calls),
            )
            .await
    }
}
