//! Pieces of the bulk extraction tests: a provider of every mode (JSON by default) made from
//! a test's own way of answering, the text a request carries and the answer to `n=7`.

use std::fmt;
use std::ops::Deref;

use instructor::provider::{async_trait, Capabilities, Provider, Request, Response};
use instructor::{Error, Mode, Role, Usage};

/// How a test provider answers one request; [`JsonMode`] makes it a provider.
#[async_trait]
pub trait Answer: fmt::Debug + Send + Sync {
    /// The provider's name.
    const NAME: &'static str;

    /// The answer to `request`.
    async fn answer(&self, request: &Request) -> Result<Response, Error>;
}

/// A provider of every mode, JSON by default, answering as `A` does (and reading as `A`, for
/// the test's counters and logs).
#[derive(Debug, Default)]
pub struct JsonMode<A>(pub A);

impl<A> Deref for JsonMode<A> {
    type Target = A;

    fn deref(&self) -> &A {
        &self.0
    }
}

#[async_trait]
impl<A: Answer> Provider for JsonMode<A> {
    fn name(&self) -> &str {
        A::NAME
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(Mode::ALL).with_default_mode(Mode::Json)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        self.0.answer(request).await
    }
}

/// The text of the request's first user message (empty without one).
pub fn user_text(request: &Request) -> String {
    request
        .messages
        .iter()
        .find(|m| m.role == Role::User)
        .map(|m| m.text())
        .unwrap_or_default()
}

/// The number an input `n=7` asks for (0 for any other text).
pub fn number(text: &str) -> u64 {
    text.strip_prefix("n=")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The answer to input `n={n}`: `{"name": "u{n}", "age": {n}}`, using 10 + 5 tokens.
pub fn user_answer(n: u64) -> Response {
    Response::text(format!(r#"{{"name": "u{n}", "age": {n}}}"#)).with_usage(Usage::new(10, 5))
}
