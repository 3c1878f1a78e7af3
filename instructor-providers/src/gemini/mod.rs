//! Google Gemini `generateContent`: `responseMimeType` + `responseJsonSchema`, or function
//! declarations with forced calling. The key travels in the `x-goog-api-key` header, never
//! in the URL.

mod convert;
mod schema;
mod wire;

use std::fmt;

use async_trait::async_trait;
use instructor_core::{Capabilities, Error, EventStream, Mode, Provider, Request, Response};

use crate::endpoint::{endpoint_setters, Endpoint, Framing};
use crate::http::key_header;

/// Gemini's native API (`GEMINI_API_KEY`). JSON-schema mode by default.
///
/// ```
/// use instructor_providers::Gemini;
/// let p = Gemini::new().api_key("AIza...");
/// assert!(!format!("{p:?}").contains("AIza"));
/// ```
#[derive(Clone)]
pub struct Gemini {
    endpoint: Endpoint,
}

impl fmt::Debug for Gemini {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.endpoint.fmt(f)
    }
}

impl Default for Gemini {
    fn default() -> Self {
        Self::new()
    }
}

impl Gemini {
    /// `https://generativelanguage.googleapis.com/v1beta`, key from `GEMINI_API_KEY`.
    ///
    /// ```
    /// let p = instructor_providers::Gemini::new();
    /// assert!(p.url().ends_with("/v1beta"));
    /// ```
    pub fn new() -> Self {
        Self {
            endpoint: Endpoint::new(
                "gemini",
                "https://generativelanguage.googleapis.com/v1beta",
                Some("GEMINI_API_KEY"),
                true,
            ),
        }
    }

    endpoint_setters!(endpoint);

    fn body(&self, request: &Request) -> Result<Vec<u8>, Error> {
        let f = schema::fragments(&request.output)?;
        let (system_instruction, contents) = convert::contents(request);
        let body = wire::GenerateRequest {
            contents,
            system_instruction,
            generation_config: wire::GenerationConfig {
                response_mime_type: f.json_mime.then_some("application/json"),
                response_json_schema: f.response_json_schema,
                temperature: request.temperature,
                top_p: request.top_p,
                max_output_tokens: request.max_tokens,
                seed: request.seed,
                stop_sequences: &request.stop,
            },
            tools: f.tools,
            tool_config: f.tool_config,
        };
        crate::body::serialize(&body, request)
    }
}

#[async_trait]
impl Provider for Gemini {
    fn name(&self) -> &str {
        "gemini"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[
            Mode::JsonSchema,
            Mode::Tools,
            Mode::ParallelTools,
            Mode::Json,
            Mode::MdJson,
        ])
        .with_default_mode(Mode::JsonSchema)
        .with_streaming(true)
        .with_images(true)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let headers = self.headers()?;
        let model = self.endpoint.model(request.model.as_deref())?;
        let body = self.body(request)?;
        let url = format!("{}/models/{model}:generateContent", self.endpoint.base_url);
        self.endpoint
            .exchange(&url, &headers, body, convert::response, |r| {
                Err(convert::error(r))
            })
            .await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let headers = self.headers()?;
        let model = self.endpoint.model(request.model.as_deref())?;
        let body = self.body(request)?;
        let url = format!(
            "{}/models/{model}:streamGenerateContent?alt=sse",
            self.endpoint.base_url
        );
        let mut calls = 0;
        self.endpoint
            .stream(
                &url,
                &headers,
                body,
                Framing::Sse,
                |r| Err(convert::error(r)),
                move |data| convert::stream_events(data, &mut calls),
            )
            .await
    }
}

impl Gemini {
    fn headers(&self) -> Result<reqwest::header::HeaderMap, Error> {
        let key = self.endpoint.ready()?;
        let mut headers = self.endpoint.headers.clone();
        if let Some(key) = key {
            key_header(&mut headers, "x-goog-api-key", key)?;
        }
        Ok(headers)
    }
}
