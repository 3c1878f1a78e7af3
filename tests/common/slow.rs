//! A provider that answers after a delay, so that calls overlap while it works.

use std::time::Duration;

use instructor::provider::{async_trait, Capabilities, EventStream, Provider, Request, Response};
use instructor::testing::ScriptedProvider;
use instructor::Error;

/// Answers as `inner` does, each answer (or stream) after `delay`.
#[derive(Debug, Clone)]
pub struct Slow {
    pub inner: ScriptedProvider,
    pub delay: Duration,
}

#[async_trait]
impl Provider for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        tokio::time::sleep(self.delay).await;
        self.inner.send(request).await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        tokio::time::sleep(self.delay).await;
        self.inner.stream(request).await
    }
}
