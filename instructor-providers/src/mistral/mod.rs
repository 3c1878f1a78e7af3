//! Mistral's chat API. Its wire format is the OpenAI Chat Completions shape (documented as
//! such), so this provider reuses that translator with Mistral's differences declared as
//! data: forced tools are `tool_choice: "any"`, tool arguments may come back as a string or
//! an object, and `response_format` takes `json_object` and `json_schema`.

use std::fmt;

use async_trait::async_trait;
use instructor_core::{Capabilities, Error, EventStream, Provider, Request, Response};

use crate::endpoint::endpoint_setters;
use crate::OpenAi;

/// Mistral (`MISTRAL_API_KEY`). Tools mode by default, as the original `MISTRAL_TOOLS`.
///
/// ```
/// use instructor_providers::Mistral;
/// let p = Mistral::new().api_key("mst-...");
/// assert!(!format!("{p:?}").contains("mst-"));
/// ```
#[derive(Clone)]
pub struct Mistral {
    inner: OpenAi,
}

impl fmt::Debug for Mistral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Default for Mistral {
    fn default() -> Self {
        Self::new()
    }
}

impl Mistral {
    /// `https://api.mistral.ai/v1`, key from `MISTRAL_API_KEY`.
    ///
    /// ```
    /// let p = instructor_providers::Mistral::new();
    /// assert_eq!(p.url(), "https://api.mistral.ai/v1");
    /// ```
    pub fn new() -> Self {
        Self {
            inner: OpenAi::mistral_preset(),
        }
    }

    endpoint_setters!(inner.endpoint);
}

#[async_trait]
impl Provider for Mistral {
    fn name(&self) -> &str {
        "mistral"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        self.inner.send(request).await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        self.inner.stream(request).await
    }
}
