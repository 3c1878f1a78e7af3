//! A scripted in-memory provider for tests: it answers each request with the next scripted
//! response (or error) and records every request it was sent.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;

use crate::{
    Capabilities, Error, EventStream, Mode, Provider, Request, Response, StreamEvent,
    ToolArguments, ToolCall, Usage,
};

/// A provider that replays a script. When the script runs out it answers with an
/// [`Error::Config`], so a test that sends more requests than it scripted fails loudly.
///
/// ```
/// use instructor_core::{Client, Instruct, testing::ScriptedProvider};
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// let provider = ScriptedProvider::new().with_text("[1, 2, 3]");
/// let client = Client::new(provider.clone());
/// let numbers = Vec::<u8>::extract(&client, "Count to three").await?;
/// assert_eq!(numbers, [1, 2, 3]);
/// assert_eq!(provider.requests().len(), 1);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ScriptedProvider {
    inner: std::sync::Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    chunk: Mutex<usize>,
    script: Mutex<VecDeque<Result<Response, Error>>>,
    requests: Mutex<Vec<Request>>,
    capabilities: Mutex<Capabilities>,
}

impl Default for ScriptedProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl ScriptedProvider {
    /// An empty script; every mode supported, [`Mode::Json`] by default.
    ///
    /// ```
    /// let p = instructor_core::testing::ScriptedProvider::new();
    /// # let _ = p;
    /// ```
    pub fn new() -> Self {
        let mut capabilities = Capabilities::new(Mode::ALL);
        capabilities.default_mode = Mode::Json;
        capabilities.streaming = true;
        capabilities.images = true;
        Self {
            inner: std::sync::Arc::new(Inner {
                chunk: Mutex::new(16),
                script: Mutex::new(VecDeque::new()),
                requests: Mutex::new(Vec::new()),
                capabilities: Mutex::new(capabilities),
            }),
        }
    }

    /// Replaces the declared capabilities.
    ///
    /// ```
    /// use instructor_core::{Capabilities, Mode, testing::ScriptedProvider};
    /// let p = ScriptedProvider::new().with_capabilities(Capabilities::new(&[Mode::Tools]));
    /// # let _ = p;
    /// ```
    pub fn with_capabilities(self, capabilities: Capabilities) -> Self {
        *lock(&self.inner.capabilities) = capabilities;
        self
    }

    /// Streams answers in chunks of `bytes` (16 by default), cut anywhere, even inside a
    /// UTF-8 character.
    ///
    /// ```
    /// let p = instructor_core::testing::ScriptedProvider::new().with_chunk_size(3);
    /// # let _ = p;
    /// ```
    pub fn with_chunk_size(self, bytes: usize) -> Self {
        *lock(&self.inner.chunk) = bytes.max(1);
        self
    }

    /// Scripts a response.
    ///
    /// ```
    /// let p = instructor_core::testing::ScriptedProvider::new()
    ///     .with_response(instructor_core::Response::text("{}"));
    /// # let _ = p;
    /// ```
    pub fn with_response(self, response: Response) -> Self {
        lock(&self.inner.script).push_back(Ok(response));
        self
    }

    /// Scripts a text answer (10 input and 5 output tokens).
    ///
    /// ```
    /// let p = instructor_core::testing::ScriptedProvider::new().with_text("{}");
    /// # let _ = p;
    /// ```
    pub fn with_text(self, text: &str) -> Self {
        self.with_response(Response::text(text).with_usage(Usage::new(10, 5)))
    }

    /// Scripts one tool call (10 input and 5 output tokens).
    ///
    /// ```
    /// let p = instructor_core::testing::ScriptedProvider::new().with_tool_call("User", r#"{"name":"a"}"#);
    /// # let _ = p;
    /// ```
    pub fn with_tool_call(self, name: &str, arguments: &str) -> Self {
        let call = ToolCall {
            id: format!("call_{}", lock(&self.inner.script).len()),
            name: name.to_owned(),
            arguments: ToolArguments::Text(arguments.to_owned()),
        };
        self.with_response(Response::tool_calls(vec![call]).with_usage(Usage::new(10, 5)))
    }

    /// Scripts an error.
    ///
    /// ```
    /// let p = instructor_core::testing::ScriptedProvider::new().with_error(instructor_core::Error::Timeout);
    /// # let _ = p;
    /// ```
    pub fn with_error(self, error: Error) -> Self {
        lock(&self.inner.script).push_back(Err(error));
        self
    }

    /// Every request sent so far, in order.
    ///
    /// ```
    /// assert!(instructor_core::testing::ScriptedProvider::new().requests().is_empty());
    /// ```
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.inner.requests).clone()
    }

    /// How many scripted answers are left.
    ///
    /// ```
    /// assert_eq!(instructor_core::testing::ScriptedProvider::new().with_text("{}").remaining(), 1);
    /// ```
    pub fn remaining(&self) -> usize {
        lock(&self.inner.script).len()
    }
}

/// Locks a mutex, taking the data even if another test thread panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        "scripted"
    }

    fn capabilities(&self) -> Capabilities {
        lock(&self.inner.capabilities).clone()
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        lock(&self.inner.requests).push(request.clone());
        lock(&self.inner.script).pop_front().unwrap_or_else(|| {
            Err(Error::Config(
                "the scripted provider ran out of answers".to_owned(),
            ))
        })
    }

    /// The next scripted answer as a stream: its text (or first tool call's arguments) in
    /// chunks, then usage and the finish reason.
    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let response = self.send(request).await?;
        let size = *lock(&self.inner.chunk);
        let mut events = Vec::new();
        let (text, tool) = match response.tool_calls.first() {
            Some(call) => (call.arguments.to_text().into_owned(), Some(call)),
            None => (response.text.clone().unwrap_or_default(), None),
        };
        let mut rest = text.as_str();
        let mut first = true;
        while !rest.is_empty() {
            let mut cut = size.min(rest.len());
            while !rest.is_char_boundary(cut) {
                cut += 1;
            }
            let (chunk, tail) = rest.split_at(cut);
            rest = tail;
            events.push(Ok(match tool {
                Some(call) => StreamEvent::ToolCallDelta {
                    index: 0,
                    id: first.then(|| call.id.clone()),
                    name: first.then(|| call.name.clone()),
                    arguments: chunk.to_owned(),
                },
                None => StreamEvent::TextDelta(chunk.to_owned()),
            }));
            first = false;
        }
        events.push(Ok(StreamEvent::Usage(response.usage)));
        events.push(Ok(StreamEvent::Finish(response.finish_reason)));
        Ok(Box::pin(futures::stream::iter(events)))
    }
}
