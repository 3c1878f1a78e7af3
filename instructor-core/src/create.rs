//! The per-call builder, [`Create`]: the conversation and the call's overrides of the
//! client's settings, then `send` (or `prepare`, to drive the extraction yourself).

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::cache::CacheUse;
use crate::drive::cached::CacheSlot;
use crate::engine::Prepared;
use crate::settings::{Call, Settings};
use crate::{Client, Completion, Error, Instruct, Message};

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
    /// The client's settings, copied on the first override.
    settings: Arc<Settings>,
    limits: crate::json::Limits,
    context: Option<Arc<dyn Any + Send + Sync>>,
    /// A runtime schema asked for instead of `T`'s own (`T` is then `serde_json::Value`).
    target: Option<crate::provider::SchemaRef>,
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

#[cfg(feature = "dynamic")]
impl<'c, K> Create<'c, serde_json::Value, K> {
    /// An extraction of a `Value` checked against a runtime schema.
    pub(crate) fn dynamic(client: &'c Client, schema: crate::provider::SchemaRef) -> Self {
        let mut create = Self::new(client);
        create.target = Some(schema);
        create
    }
}

impl<'c, T: Instruct, K> Create<'c, T, K> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Self {
            client,
            messages: Vec::new(),
            settings: Arc::clone(client.settings()),
            limits: crate::json::Limits::default(),
            context: None,
            target: None,
            _target: PhantomData,
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(Arc::make_mut(&mut self.settings));
        self
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

    /// Neither reads nor stores this call's answer in the client's [cache](crate::cache).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<String>().no_cache();
    /// # let _ = call;
    /// ```
    pub fn no_cache(self) -> Self {
        self.with(|s| s.cache_use = CacheUse::Bypass)
    }

    /// Asks the provider even if the client's [cache](crate::cache) holds this call's
    /// answer, and stores the new answer in its place.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<String>().refresh_cache();
    /// # let _ = call;
    /// ```
    pub fn refresh_cache(self) -> Self {
        self.with(|s| s.cache_use = CacheUse::Refresh)
    }

    crate::settings::shared_setters!();

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
        let s = self.settings;
        if let Some(e) = &s.config_error {
            return Err(Error::Config(e.clone()));
        }
        let call = Call {
            stream_timeout: s
                .stream_timeout
                .or(s.timeout)
                .unwrap_or(DEFAULT_STREAM_TIMEOUT),
            idle_timeout: s.idle_timeout.or(s.timeout).unwrap_or(DEFAULT_IDLE_TIMEOUT),
            settings: s,
            limits: self.limits,
            context: self.context,
            target: self.target,
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
    pub fn stream_timeout(self, timeout: std::time::Duration) -> Self {
        self.with(|s| s.stream_timeout = Some(timeout))
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
    pub fn idle_timeout(self, timeout: std::time::Duration) -> Self {
        self.with(|s| s.idle_timeout = Some(timeout))
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
        let planned = self.into_call().and_then(|(client, call, messages)| {
            let prepared = client.prepare::<T>(&call, messages)?;
            let cache = CacheSlot::for_call(&call, &prepared);
            Ok((prepared, cache))
        });
        async move {
            let (prepared, cache) = planned?;
            crate::drive::once::run(client.ctx(), prepared, cache).await
        }
    }
}

/// How a bulk run or a batch shapes each item's call (their `.with(...)`).
pub(crate) type Shape<'c, T> =
    Arc<dyn for<'a> Fn(Create<'a, T>) -> Create<'a, T> + Send + Sync + 'c>;

/// An item's call: a fresh extraction of `T` by `client`, as `shape` has it, if given.
pub(crate) fn item_call<'a, T: Instruct>(
    client: &'a Client,
    shape: Option<&Shape<'_, T>>,
) -> Create<'a, T> {
    let call = client.create::<T>();
    match shape {
        Some(shape) => shape(call),
        None => call,
    }
}
