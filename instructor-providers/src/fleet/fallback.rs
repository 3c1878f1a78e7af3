//! [`Fallback`]: one provider that tries several in order until one answers.

use std::sync::Arc;

use futures::future::BoxFuture;

use instructor_core::provider::{
    async_trait, Capabilities, EventStream, Provider, Request, Response,
};
use instructor_core::{Error, Mode};

/// A provider that tries its members in order: a local server first, a hosted API when it
/// is down.
///
/// - A call goes to the next member when one fails transiently
///   ([`Error::is_transient`]: connection errors, timeouts, 429, 5xx) or says it cannot do
///   what was asked ([`Error::UnsupportedMode`], [`Error::Unsupported`], a media part it
///   does not take: [`Error::UnsupportedPart`], [`Error::PartTooLarge`]).
/// - A member that does not declare the request's mode (or streaming, for a stream) is
///   skipped without being called.
/// - Any other error (400, 401, a malformed answer) is returned at once: another server
///   would not fix the request.
/// - When every member fails, the last member's error is returned.
/// - Each call starts again at the first member, so a re-ask or a transport retry tries the
///   primary again. A stream falls back only while opening; once events flow, an error in
///   it is the stream's.
/// - It declares what any member can do: the modes of all (the first member's default),
///   streaming if any streams, images, documents and audio if any takes them (a
///   member that does not refuses the part before sending, and the next one is tried).
///
/// ```
/// use instructor_core::{testing::ScriptedProvider, Client, Error};
/// use instructor_providers::Fallback;
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// let local = ScriptedProvider::new().with_error(Error::Timeout);
/// let hosted = ScriptedProvider::new().with_text("[7]");
/// let client = Client::new(Fallback::new(local).or(hosted.clone()));
/// let numbers: Vec<u8> = client.create().user("One number").send().await?;
/// assert_eq!(numbers, [7]);
/// assert_eq!(hosted.requests().len(), 1);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Fallback {
    members: Vec<Arc<dyn Provider>>,
}

impl Fallback {
    /// A fallback chain that starts with `primary`.
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// let chain = instructor_providers::Fallback::new(ScriptedProvider::new());
    /// # let _ = chain;
    /// ```
    pub fn new(primary: impl Provider + 'static) -> Self {
        Self::from_shared(Arc::new(primary))
    }

    /// A fallback chain that starts with a shared `primary`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instructor_core::testing::ScriptedProvider;
    /// let chain = instructor_providers::Fallback::from_shared(Arc::new(ScriptedProvider::new()));
    /// # let _ = chain;
    /// ```
    pub fn from_shared(primary: Arc<dyn Provider>) -> Self {
        Self {
            members: vec![primary],
        }
    }

    /// The same chain with `next` tried after the others.
    ///
    /// ```
    /// use instructor_core::testing::ScriptedProvider;
    /// use instructor_providers::Fallback;
    /// let chain = Fallback::new(ScriptedProvider::new()).or(ScriptedProvider::new());
    /// # let _ = chain;
    /// ```
    pub fn or(self, next: impl Provider + 'static) -> Self {
        self.or_shared(Arc::new(next))
    }

    /// The same chain with a shared `next` tried after the others.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instructor_core::testing::ScriptedProvider;
    /// use instructor_providers::Fallback;
    /// let chain = Fallback::new(ScriptedProvider::new()).or_shared(Arc::new(ScriptedProvider::new()));
    /// # let _ = chain;
    /// ```
    pub fn or_shared(mut self, next: Arc<dyn Provider>) -> Self {
        self.members.push(next);
        self
    }

    /// Why `member` is skipped for `request` without being called, if it is.
    fn skip(member: &dyn Provider, request: &Request, streamed: bool) -> Option<Error> {
        let capabilities = member.capabilities();
        let mode = request.output.mode;
        if !capabilities.supports(mode) {
            return Some(Error::UnsupportedMode {
                mode,
                provider: member.name().to_owned(),
                supported: capabilities.modes,
            });
        }
        (streamed && !capabilities.streaming).then(|| Error::Unsupported {
            what: format!("streaming with the {} provider", member.name()),
        })
    }

    /// What the first member to answer gives for `call` (a send, or the opening of a stream
    /// when `streamed`): a member that is skipped, or that fails so that the next may
    /// succeed, is passed over; when none answers, the last member's error.
    async fn first_answer<'a, T>(
        &'a self,
        request: &'a Request,
        streamed: bool,
        call: impl Fn(&'a dyn Provider, &'a Request) -> BoxFuture<'a, Result<T, Error>>,
    ) -> Result<T, Error> {
        let mut last = None;
        for member in &self.members {
            if let Some(skipped) = Self::skip(member.as_ref(), request, streamed) {
                last = Some(skipped);
                continue;
            }
            match call(member.as_ref(), request).await {
                Err(error) if falls_through(&error) => last = Some(error),
                done => return done,
            }
        }
        Err(last.unwrap_or_else(|| Error::Config("the fallback chain is empty".to_owned())))
    }
}

/// Whether the next member may succeed where one failed with `error`.
fn falls_through(error: &Error) -> bool {
    error.is_transient()
        || matches!(
            error,
            Error::UnsupportedMode { .. }
                | Error::Unsupported { .. }
                | Error::UnsupportedPart { .. }
                | Error::PartTooLarge { .. }
        )
}

#[async_trait]
impl Provider for Fallback {
    fn name(&self) -> &str {
        "fallback"
    }

    fn capabilities(&self) -> Capabilities {
        let all: Vec<Capabilities> = self.members.iter().map(|m| m.capabilities()).collect();
        let mut modes: Vec<Mode> = Vec::new();
        for mode in all.iter().flat_map(|c| c.modes.iter().copied()) {
            if !modes.contains(&mode) {
                modes.push(mode);
            }
        }
        let mut capabilities = Capabilities::new(&modes)
            .with_streaming(all.iter().any(|c| c.streaming))
            .with_images(all.iter().any(|c| c.images))
            .with_documents(all.iter().any(|c| c.documents))
            .with_audio(all.iter().any(|c| c.audio));
        if let Some(first) = all.first().filter(|c| modes.contains(&c.default_mode)) {
            capabilities = capabilities.with_default_mode(first.default_mode);
        }
        capabilities
    }

    /// `fallback[` and the members' identities, comma separated, then `]`.
    fn cache_identity(&self) -> String {
        let members: Vec<String> = self.members.iter().map(|m| m.cache_identity()).collect();
        format!("fallback[{}]", members.join(","))
    }

    /// The body of the first member that declares the request's mode.
    fn wire_body(&self, request: &Request) -> Result<serde_json::Value, Error> {
        let member = self
            .members
            .iter()
            .find(|m| m.capabilities().supports(request.output.mode))
            .or(self.members.first());
        match member {
            Some(member) => member.wire_body(request),
            None => Err(Error::Config("the fallback chain is empty".to_owned())),
        }
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        self.first_answer(request, false, |member, request| member.send(request))
            .await
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        self.first_answer(request, true, |member, request| member.stream(request))
            .await
    }
}
