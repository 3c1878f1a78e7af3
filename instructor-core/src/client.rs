//! The [`Client`]: a provider plus defaults, cheap to clone and safe to share across tasks.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{Cache, CacheConfig};
use crate::drive::Ctx;
use crate::engine::Prepared;
use crate::settings::{Call, Settings};
use crate::{Create, Error, Extractor, Hook, Instruct, Message, Mode, Provider, RetryPolicy};

/// A provider with defaults. Cloning is cheap (two `Arc`s); a client can be used from many
/// tasks at once.
///
/// ```
/// use instructor_core::{Client, Mode, testing::ScriptedProvider};
/// let client = Client::new(ScriptedProvider::new())
///     .model("llama3.2")
///     .mode(Mode::Json)
///     .max_retries(3)
///     .temperature(0.0)
///     .max_tokens(256)
///     .timeout(std::time::Duration::from_secs(30));
/// let other = client.clone();
/// # let _ = other;
/// ```
#[derive(Clone)]
pub struct Client {
    provider: Arc<dyn Provider>,
    settings: Arc<Settings>,
    hooks: Arc<[Arc<dyn Hook>]>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("provider", &self.provider)
            .field("model", &self.settings.model)
            .field("mode", &self.settings.mode)
            .field("max_retries", &self.settings.max_retries)
            .field("hooks", &self.hooks.len())
            .finish()
    }
}

impl Client {
    /// A client for `provider` with default settings: the provider's default mode, two
    /// re-asks, transport retries per [`RetryPolicy::default`], repair on.
    ///
    /// ```
    /// let client = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// # let _ = client;
    /// ```
    pub fn new<P: Provider + 'static>(provider: P) -> Self {
        Self::from_shared(Arc::new(provider))
    }

    /// A client for a provider that is already shared.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use instructor_core::{Client, Provider, testing::ScriptedProvider};
    /// let provider: Arc<dyn Provider> = Arc::new(ScriptedProvider::new());
    /// let client = Client::from_shared(provider);
    /// # let _ = client;
    /// ```
    pub fn from_shared(provider: Arc<dyn Provider>) -> Self {
        Self {
            provider,
            settings: Arc::new(Settings::default()),
            hooks: Arc::from(Vec::new()),
        }
    }

    fn with(mut self, f: impl FnOnce(&mut Settings)) -> Self {
        f(Arc::make_mut(&mut self.settings));
        self
    }

    crate::settings::shared_setters!();

    /// A limit on each model call (each transport try); past it the call is
    /// [`Error::Timeout`](crate::Error::Timeout) and counts as transient.
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// let c = c.timeout(std::time::Duration::from_secs(20));
    /// # let _ = c;
    /// ```
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.timeout = Some(timeout))
    }

    /// The longest one streamed answer may take from the first byte to the last (each
    /// attempt of `create_partial` / `create_iterable`); past it the stream ends with
    /// [`Error::Timeout`](crate::Error::Timeout). Defaults to the [`timeout`](Self::timeout)
    /// if one is set, else 10 minutes.
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// let c = c.stream_timeout(std::time::Duration::from_secs(120));
    /// # let _ = c;
    /// ```
    pub fn stream_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.stream_timeout = Some(timeout))
    }

    /// The longest a stream may go without a new byte of the answer (keep-alives and pings
    /// do not count); past it the stream ends with [`Error::Timeout`](crate::Error::Timeout).
    /// Defaults to the [`timeout`](Self::timeout) if one is set, else 2 minutes.
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// let c = c.idle_timeout(std::time::Duration::from_secs(15));
    /// # let _ = c;
    /// ```
    pub fn idle_timeout(self, timeout: Duration) -> Self {
        self.with(|s| s.idle_timeout = Some(timeout))
    }

    /// How transient transport failures are retried.
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// let c = c.transport_retries(instructor_core::RetryPolicy::none());
    /// # let _ = c;
    /// ```
    pub fn transport_retries(self, policy: RetryPolicy) -> Self {
        self.with(|s| s.transport = policy)
    }

    /// Whether near-JSON is repaired before a parse is given up (on by default; what was
    /// repaired is listed in [`Completion::repairs`](crate::Completion::repairs)).
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// let c = c.repair(false);
    /// # let _ = c;
    /// ```
    pub fn repair(self, on: bool) -> Self {
        self.with(|s| s.repair = on)
    }

    /// Caches answers that pass in `store`: a later identical call (same provider and
    /// endpoint, model, mode, type schema, messages and sampling) returns the stored answer,
    /// validated again, with no provider call and no tokens; identical calls at the same
    /// time make one provider call. See the [`cache`](crate::cache) module.
    ///
    /// ```
    /// # #[cfg(feature = "memory-cache")] {
    /// use instructor_core::{cache::MemoryCache, Client, testing::ScriptedProvider};
    /// let client = Client::new(ScriptedProvider::new()).cache(MemoryCache::new(1000, 64 << 20));
    /// # let _ = client;
    /// # }
    /// ```
    pub fn cache(self, store: impl Cache) -> Self {
        let config = CacheConfig::new(Arc::new(store), &*self.provider);
        self.with(|s| s.cache = Some(config))
    }

    /// Adds a hook told about every step of every extraction.
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// let c = c.hook(|event: &instructor_core::Event<'_>| println!("{event:?}"));
    /// # let _ = c;
    /// ```
    pub fn hook(mut self, hook: impl Hook + 'static) -> Self {
        let mut hooks: Vec<Arc<dyn Hook>> = self.hooks.iter().cloned().collect();
        hooks.push(Arc::new(hook));
        self.hooks = Arc::from(hooks);
        self
    }

    /// Starts an extraction of `T` (see [`Create`]).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create::<Vec<String>>().user("List three colours.");
    /// # let _ = call;
    /// ```
    pub fn create<T: Instruct>(&self) -> Create<'_, T> {
        Create::new(self)
    }

    /// Starts a streamed extraction of `T`: `.send().await` returns a stream of partial
    /// values as the answer arrives, ending with the validated `T` (see
    /// [`crate::stream`]).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create_partial::<Vec<String>>().user("List three colours.");
    /// # let _ = call;
    /// ```
    pub fn create_partial<T: Instruct + Send>(&self) -> Create<'_, T, crate::create::Partials> {
        Create::new(self)
    }

    /// Starts a streamed extraction of a list of `T`: `.send().await` returns a stream
    /// yielding each element, validated, the moment it closes (see [`crate::stream`]).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let call = client.create_iterable::<String>().user("List three colours.");
    /// # let _ = call;
    /// ```
    pub fn create_iterable<T: Instruct + Send>(&self) -> Create<'_, T, crate::create::Items> {
        Create::new(self)
    }

    /// Starts a bulk extraction of `T`, one per `(key, text)` input: each text is the user
    /// message of its own call. Inputs are read lazily, as slots free up; configure the
    /// returned [`Bulk`](crate::bulk::Bulk) (concurrency, order, journal, progress) and
    /// [`run`](crate::bulk::Bulk::run) it. Keys name items in the results and the journal;
    /// make them unique. See [`crate::bulk`].
    ///
    /// ```
    /// use futures::StreamExt;
    /// use instructor_core::{Client, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let client = Client::new(ScriptedProvider::new().with_text("3").with_text("5"));
    /// let inputs = vec![("a", "Three"), ("b", "Five")];
    /// let mut results = client.extract_many::<u32>(inputs).concurrency(4).run()?;
    /// while let Some((key, n)) = results.next().await {
    ///     println!("{key}: {}", n?);
    /// }
    /// assert_eq!(results.totals().succeeded, 2);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn extract_many<'c, T: Instruct + Send>(
        &'c self,
        inputs: impl IntoIterator<Item = (impl Into<String>, impl Into<String>), IntoIter: Send + 'c>,
    ) -> crate::bulk::Bulk<'c, T> {
        let inputs = inputs.into_iter();
        let total = exact_len(inputs.size_hint());
        let inputs = futures::stream::iter(inputs.map(|(key, text)| (key.into(), text.into())));
        crate::bulk::Bulk::new(self, Box::pin(inputs), total)
    }

    /// Starts a provider batch of extractions of `T`, one per `(key, text)` input (the text
    /// becomes the user message): [`submit`](crate::batch::Batch::submit) sends them as one
    /// batch, at the provider's batch price, and returns a [`BatchJob`](crate::batch::BatchJob)
    /// to poll and read. See [`crate::batch`]. A provider without a batch API (the default)
    /// is [`Error::Unsupported`] at submission.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let batch = client.batch::<Vec<String>>([("doc-1", "red and green"), ("doc-2", "blue")]);
    /// # let _ = batch;
    /// ```
    pub fn batch<T: Instruct>(
        &self,
        inputs: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> crate::batch::Batch<'_, T> {
        let inputs = inputs
            .into_iter()
            .map(|(key, text)| (key.into(), text.into()))
            .collect();
        crate::batch::Batch::new(self, inputs)
    }

    /// [`extract_many`](Self::extract_many) over a stream of `(key, text)` inputs (lines of
    /// a file read asynchronously, rows of a query), polled only as slots free up.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use instructor_core::{Client, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let client = Client::new(ScriptedProvider::new().with_text("3"));
    /// let inputs = futures::stream::iter([("a".to_string(), "Three".to_string())]);
    /// let totals = client.extract_many_stream::<u32>(inputs).run()?.drain().await;
    /// assert_eq!(totals.succeeded, 1);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn extract_many_stream<'c, T: Instruct + Send>(
        &'c self,
        inputs: impl futures::Stream<Item = (impl Into<String>, impl Into<String>)> + Send + 'c,
    ) -> crate::bulk::Bulk<'c, T> {
        use futures::StreamExt;
        let total = exact_len(inputs.size_hint());
        let inputs = inputs.map(|(key, text)| (key.into(), text.into()));
        crate::bulk::Bulk::new(self, Box::pin(inputs), total)
    }

    /// The provider.
    ///
    /// ```
    /// # let c = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new());
    /// assert_eq!(c.provider().name(), "scripted");
    /// ```
    pub fn provider(&self) -> &dyn Provider {
        &*self.provider
    }

    pub(crate) fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    /// What a driver runs with.
    pub(crate) fn ctx(&self) -> Ctx<'_> {
        Ctx {
            provider: &*self.provider,
            settings: &self.settings,
        }
    }

    /// The call's mode, checked against what the provider declares.
    pub(crate) fn choose_mode(
        &self,
        requested: Option<Mode>,
        messages: &[Message],
    ) -> Result<Mode, Error> {
        let capabilities = self.provider.capabilities();
        crate::engine::choose_mode(&capabilities, self.provider.name(), requested, messages)
    }

    /// Plans an extraction of `T` for a call.
    pub(crate) fn prepare<T: Instruct>(
        &self,
        call: &Call,
        messages: Vec<Message>,
    ) -> Result<Prepared<T>, Error> {
        let mode = self.choose_mode(call.settings.mode, &messages)?;
        Prepared::new(
            mode,
            call,
            messages,
            self.settings.repair,
            self.hooks.clone(),
        )
    }
}

/// A length from a size hint, when it is exact.
fn exact_len((low, high): (usize, Option<usize>)) -> Option<u64> {
    (high == Some(low)).then_some(low as u64)
}

impl Extractor for Client {
    fn extract_one<T: Instruct>(
        &self,
        prompt: String,
    ) -> impl std::future::Future<Output = Result<T, Error>> + Send + '_ {
        self.create::<T>().user(prompt).send()
    }
}
