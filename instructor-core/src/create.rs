//! The per-call builder, [`Create`]: the conversation and the call's overrides of the
//! client's settings, then `send` (or `prepare`, to drive the extraction yourself).

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::engine::Prepared;
use crate::settings::{Call, Sampling};
use crate::{Client, Completion, Error, Instruct, Message, Mode};

const DEFAULT_STREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// One extraction of `T`: the conversation and per-call overrides of the client's settings.
///
/// ```
/// use instructor_core::{Client, Mode, testing::ScriptedProvider};
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// let client = Client::new(ScriptedProvider::new().with_text(r#"["red", "green"]"#));
/// let colours: Vec<String> = client
///     .create::<Vec<String>>()
///     .system("You list things.")
///     .user("Two colours, please.")
///     .mode(Mode::Json)
///     .max_retries(1)
///     .send()
///     .await?;
/// assert_eq!(colours, ["red", "green"]);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[must_use = "an extraction does nothing until `.send()` is awaited"]
pub struct Create<'c, T, K = One> {
    client: &'c Client,
    messages: Vec<Message>,
    model: Option<String>,
    mode: Option<Mode>,
    max_retries: Option<u32>,
    temperature: Option<f32>,
    max_tokens: Option<u32>,
    top_p: Option<f32>,
    seed: Option<u64>,
    stop: Option<Vec<String>>,
    extra: Option<Result<serde_json::Map<String, serde_json::Value>, Error>>,
    limits: crate::json::Limits,
    stream_timeout: Option<std::time::Duration>,
    idle_timeout: Option<std::time::Duration>,
    context: Option<Arc<dyn Any + Send + Sync>>,
    _target: PhantomData<fn() -> (T, K)>,
}

/// [`Create`] returns one value.
#[derive(Debug)]
pub struct One;
/// [`Create`] returns a stream of partial values ([`Client::create_partial`]).
#[derive(Debug)]
pub struct Partials;
/// [`Create`] returns a stream of list items ([`Client::create_iterable`]).
#[derive(Debug)]
pub struct Items;

impl<'c, T: Instruct, K> Create<'c, T, K> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self {
            client,
            messages: Vec::new(),
            model: None,
            mode: None,
            max_retries: None,
            temperature: None,
            max_tokens: None,
            top_p: None,
            seed: None,
            stop: None,
            extra: None,
            limits: crate::json::Limits::default(),
            stream_timeout: None,
            idle_timeout: None,
            context: None,
            _target: PhantomData,
        }
    }

    /// Adds a system message.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::system(text));
        self
    }

    /// Adds a user message.
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages.push(Message::user(text));
        self
    }

    /// Adds one message of any kind.
    pub fn message(mut self, message: Message) -> Self {
        self.messages.push(message);
        self
    }

    /// Adds messages.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.messages.extend(messages);
        self
    }

    /// Adds a worked example: a user turn with `input` and an assistant turn answering with
    /// `output` as JSON. Small models follow one good example far better than a description.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client
    ///     .create::<Vec<String>>()
    ///     .example("Tag: red, blue", &["red", "blue"])
    ///     .user("Tag: green");
    /// # let _ = call;
    /// ```
    pub fn example(mut self, input: impl Into<String>, output: &impl serde::Serialize) -> Self {
        let answer = serde_json::to_string(output).unwrap_or_default();
        self.messages.push(Message::user(input));
        self.messages.push(Message::assistant(answer));
        self
    }

    /// The model for this call.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// The mode for this call.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Re-asks for this call.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// Temperature for this call.
    pub fn temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Token limit for this call.
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Nucleus sampling for this call.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<String>().top_p(0.5);
    /// # let _ = call;
    /// ```
    pub fn top_p(mut self, top_p: f32) -> Self {
        self.top_p = Some(top_p);
        self
    }

    /// A sampling seed for this call.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<String>().seed(7);
    /// # let _ = call;
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Stop sequences for this call (replacing the client's).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<String>().stop(["END"]);
    /// # let _ = call;
    /// ```
    pub fn stop<S: Into<String>>(mut self, stop: impl IntoIterator<Item = S>) -> Self {
        self.stop = Some(stop.into_iter().map(Into::into).collect());
        self
    }

    /// An object merged over this call's request body (replacing the client's `extra`); see
    /// [`Client::extra`].
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<String>().extra(serde_json::json!({"top_k": 20}));
    /// # let _ = call;
    /// ```
    pub fn extra(mut self, extra: serde_json::Value) -> Self {
        let mut sampling = Sampling::default();
        self.extra = Some(
            sampling
                .set_extra(extra)
                .map(|()| sampling.extra.unwrap_or_default()),
        );
        self
    }

    /// A value this call's validators can read with
    /// [`ValidationContext::value`](crate::ValidationContext::value) (Python instructor's
    /// `validation_context`): the source document, a list of allowed names, a threshold.
    /// Read it back under the same type; a second call replaces the first value.
    ///
    /// ```
    /// use instructor_core::{Client, testing::ScriptedProvider};
    /// struct Allowed(Vec<&'static str>);
    ///
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let client = Client::new(ScriptedProvider::new().with_text(r#""blue""#));
    /// let colour: String = client
    ///     .create::<String>()
    ///     .user("Pick a colour.")
    ///     .context(Allowed(vec!["red", "blue"]))
    ///     .send()
    ///     .await?;
    /// assert_eq!(colour, "blue");
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn context<C: Any + Send + Sync>(mut self, value: C) -> Self {
        self.context = Some(Arc::new(value));
        self
    }

    pub(crate) fn into_call(self) -> Result<(&'c Client, Call, Vec<Message>), Error> {
        let s = self.client.settings();
        if let Some(e) = &s.config_error {
            return Err(Error::Config(e.clone()));
        }
        let mut sampling = s.sampling.clone();
        if let Some(top_p) = self.top_p {
            sampling.top_p = Some(top_p);
        }
        if let Some(seed) = self.seed {
            sampling.seed = Some(seed);
        }
        if let Some(stop) = self.stop {
            sampling.stop = stop;
        }
        if let Some(extra) = self.extra {
            sampling.extra = Some(extra?);
        }
        let call = Call {
            sampling,
            model: self.model.or_else(|| s.model.clone()),
            mode: self.mode.or(s.mode),
            max_retries: self.max_retries.unwrap_or(s.max_retries),
            temperature: self.temperature.or(s.temperature),
            max_tokens: self.max_tokens.or(s.max_tokens),
            limits: self.limits,
            stream_timeout: self
                .stream_timeout
                .or(s.stream_timeout)
                .or(s.timeout)
                .unwrap_or(DEFAULT_STREAM_TIMEOUT),
            idle_timeout: self
                .idle_timeout
                .or(s.idle_timeout)
                .or(s.timeout)
                .unwrap_or(DEFAULT_IDLE_TIMEOUT),
            context: self.context,
        };
        Ok((self.client, call, self.messages))
    }
}

/// The builder kinds that stream ([`Partials`], [`Items`]).
pub trait Streamed: sealed::Sealed {}
impl Streamed for Partials {}
impl Streamed for Items {}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Partials {}
    impl Sealed for super::Items {}
}

impl<'c, T: Instruct, K: Streamed> Create<'c, T, K> {
    /// The longest this streamed answer may take, start to end (see
    /// [`Client::stream_timeout`]).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create_partial::<Vec<String>>().stream_timeout(std::time::Duration::from_secs(60));
    /// # let _ = call;
    /// ```
    pub fn stream_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.stream_timeout = Some(timeout);
        self
    }

    /// The longest this stream may go without a new byte of the answer (see
    /// [`Client::idle_timeout`]).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create_iterable::<String>().idle_timeout(std::time::Duration::from_secs(10));
    /// # let _ = call;
    /// ```
    pub fn idle_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Limits on the streamed answer (size, nesting depth); past them the stream ends with
    /// [`Error::LimitExceeded`].
    ///
    /// ```
    /// # use instructor_core::{Client, stream::Limits, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create_partial::<Vec<String>>().limits(Limits { max_bytes: 1 << 16, max_depth: 8 });
    /// # let _ = call;
    /// ```
    pub fn limits(mut self, limits: crate::json::Limits) -> Self {
        self.limits = limits;
        self
    }
}

impl<'c, T: Instruct> Create<'c, T, One> {
    /// Plans the extraction without sending anything: the provider-neutral request to
    /// send, and the engine that interprets each answer (see
    /// [`Prepared`](crate::engine::Prepared)). For a caller's own transport, queue or batch
    /// system; the provider's own body for the request is
    /// [`Provider::wire_body`](crate::Provider::wire_body).
    ///
    /// ```
    /// use instructor_core::{Client, Mode, Provider, testing::ScriptedProvider};
    /// let client = Client::new(ScriptedProvider::new()).mode(Mode::Tools);
    /// let prepared = client.create::<Vec<String>>().user("Three colours").prepare().unwrap();
    /// assert_eq!(prepared.request().output.tools[0].name, "Vec_String");
    /// ```
    pub fn prepare(self) -> Result<Prepared<T>, Error> {
        let (client, call, messages) = self.into_call()?;
        client.prepare(&call, messages)
    }

    /// Runs the extraction and returns the validated value.
    pub fn send(self) -> impl Future<Output = Result<T, Error>> + Send + 'c {
        let sent = self.send_with_completion();
        async move { sent.await.map(|(v, _)| v) }
    }

    /// Runs the extraction and returns the value with the [`Completion`]: the last raw
    /// response, the usage summed over every call, the failed attempts and the repairs.
    pub fn send_with_completion(
        self,
    ) -> impl Future<Output = Result<(T, Completion), Error>> + Send + 'c {
        let client = self.client;
        let prepared = self.prepare();
        async move { crate::drive::once::run(client.ctx(), prepared?).await }
    }
}
