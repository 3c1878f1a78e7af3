//! Bulk extraction: one type extracted from many inputs, with bounded concurrency, a
//! journal to resume from, progress as data and totals at the end.
//!
//! [`Client::extract_many`] (over an iterator) and [`Client::extract_many_stream`] (over a
//! stream) take `(key, text)` pairs and return a [`Bulk`] builder; [`Bulk::run`] returns a
//! [`BulkStream`] of `(key, Result<T, Error>)` as items finish.
//!
//! - **Bounded.** At most [`concurrency`](Bulk::concurrency) items (16 by default) run at
//!   once, and inputs are read only as slots free up, so memory is bounded by the
//!   concurrency, not by the number of inputs. In [`ordered`](Bulk::ordered) mode items
//!   come out in input order; a finished item waits for the ones before it, and those
//!   waiting count against the same limit.
//! - **Adaptive.** When the server pushes back (429, 503, 529, on any try of any item) the
//!   limit halves (down to 1) and every worker waits out the `Retry-After` before starting
//!   another item; after as many successes in a row as the limit, it grows by one, back up
//!   to the configured concurrency. [`Progress::limit`] shows it;
//!   [`adaptive(false)`](Bulk::adaptive) keeps it fixed.
//! - **Budgets.** [`requests_per_minute`](Bulk::requests_per_minute) and
//!   [`tokens_per_minute`](Bulk::tokens_per_minute) spread the run's items evenly over each
//!   minute (at most a second's worth at once), on top of the concurrency limit: an item
//!   first takes a slot, then waits for its share of each budget. An item reserves an
//!   estimate of its tokens and settles it with what it really used when it finishes.
//! - **Progress.** [`on_progress`](Bulk::on_progress) gets a [`Progress`] (done, failed, in
//!   flight, tokens, rate, ETA) as each item finishes; with the `progress-bar` feature,
//!   `progress_bar()` draws it on the terminal (the `indicatif` crate).
//! - **Journal.** With [`journal`](Bulk::journal), each finished item is appended to a file
//!   as one JSON line, in one write, flushed to the operating system before the item is
//!   yielded: a process killed (even with `SIGKILL`) loses only the items in flight. The
//!   file is synced to disk every [`sync_every`](Bulk::sync_every) items (by default only
//!   when the run ends or the stream is dropped): a power loss, unlike a kill, can lose the
//!   items since the last sync. Running again with the same journal skips every key it
//!   holds (failed ones too, unless [`retry_failed`](Bulk::retry_failed)): skipped items are
//!   not yielded again, only counted in [`Totals::skipped`]. A torn last line, left by a
//!   kill in mid-write, is cut away on resume (that item runs again). The keys read back
//!   are held in memory for the run.
//!
//! Each journal line is one object:
//!
//! ```text
//! {"key":"doc-17","ok":{"name":"Jason","age":30},"error":null,
//!  "usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15,"requests":1},"attempts":1}
//! {"key":"doc-18","ok":null,"error":{"kind":"Timeout","message":"the request timed out"},
//!  "usage":{...},"attempts":1}
//! ```
//!
//! `ok` is the JSON of the answer that passed validation, as the model wrote it (tool call
//! arguments, or the value found, and repaired if need be, in the text); `kind` is
//! [`error_kind`]; `attempts` counts the answers asked for (re-asks included, transport
//! retries not).
//!
//! ```
//! use futures::StreamExt;
//! use instructor_core::{Client, testing::ScriptedProvider};
//!
//! # async fn demo() -> Result<(), instructor_core::Error> {
//! let provider = ScriptedProvider::new().with_text(r#""RED""#).with_text(r#""GREEN""#);
//! let client = Client::new(provider);
//! let inputs = [("a", "Shout: red"), ("b", "Shout: green")];
//! let mut results = client
//!     .extract_many::<String>(inputs)
//!     .concurrency(8)
//!     .ordered(true)
//!     .with(|call| call.system("Answer in capitals."))
//!     .run()?;
//! while let Some((key, result)) = results.next().await {
//!     println!("{key}: {:?}", result?);
//! }
//! assert_eq!(results.totals().succeeded, 2);
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

mod budget;
mod journal;
mod limit;
mod outcome;
mod progress;
#[cfg(feature = "progress-bar")]
mod progress_bar;
mod stream;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::stream::BoxStream;
use futures::StreamExt;

use crate::create::{item_call, Shape};
use crate::{Client, Create, Error, Event, Instruct};
use journal::Journal;
use limit::{is_push_back, Limiter};
pub use outcome::error_kind;
use outcome::Done;
use progress::Tally;
pub use progress::{Progress, Totals};
#[cfg(feature = "progress-bar")]
pub use progress_bar::ProgressBar;
pub use stream::BulkStream;

/// How many items run at once unless [`Bulk::concurrency`] says otherwise.
///
/// ```
/// assert_eq!(instructor_core::bulk::DEFAULT_CONCURRENCY, 16);
/// ```
pub const DEFAULT_CONCURRENCY: usize = 16;

type Notify<'c> = Arc<dyn Fn(&Progress) + Send + Sync + 'c>;

/// A bulk extraction of `T`, to configure and then [`run`](Self::run); from
/// [`Client::extract_many`] or [`Client::extract_many_stream`]. See the
/// [module](crate::bulk).
///
/// ```
/// # use instructor_core::{Client, testing::ScriptedProvider};
/// # let client = Client::new(ScriptedProvider::new());
/// let bulk = client
///     .extract_many::<Vec<String>>((0..1000).map(|i| (format!("doc-{i}"), format!("Tags of doc {i}"))))
///     .concurrency(4)
///     .journal(std::env::temp_dir().join("tags.jsonl"));
/// # let _ = bulk;
/// ```
#[must_use = "a bulk extraction does nothing until `.run()` is called and its stream polled"]
pub struct Bulk<'c, T> {
    client: &'c Client,
    inputs: BoxStream<'c, (String, String)>,
    total: Option<u64>,
    concurrency: usize,
    adaptive: bool,
    ordered: bool,
    journal: Option<PathBuf>,
    sync_every: u32,
    retry_failed: bool,
    requests_per_minute: Option<u32>,
    tokens_per_minute: Option<u64>,
    build: Option<Shape<'c, T>>,
    on_progress: Option<Notify<'c>>,
    #[cfg(feature = "progress-bar")]
    bar: Option<ProgressBar>,
}

impl<T> std::fmt::Debug for Bulk<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bulk")
            .field("total", &self.total)
            .field("concurrency", &self.concurrency)
            .field("adaptive", &self.adaptive)
            .field("ordered", &self.ordered)
            .field("journal", &self.journal)
            .field("sync_every", &self.sync_every)
            .field("retry_failed", &self.retry_failed)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .finish_non_exhaustive()
    }
}

impl<'c, T: Instruct + Send> Bulk<'c, T> {
    pub(crate) fn new(
        client: &'c Client,
        inputs: BoxStream<'c, (String, String)>,
        total: Option<u64>,
    ) -> Self {
        Self {
            client,
            inputs,
            total,
            concurrency: DEFAULT_CONCURRENCY,
            adaptive: true,
            ordered: false,
            journal: None,
            sync_every: 0,
            retry_failed: false,
            requests_per_minute: None,
            tokens_per_minute: None,
            build: None,
            on_progress: None,
            #[cfg(feature = "progress-bar")]
            bar: None,
        }
    }

    /// How many items run at once (16 by default; 0 counts as 1).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).concurrency(32);
    /// # let _ = bulk;
    /// ```
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// Whether the limit adapts to the server (on by default): halved, with every worker
    /// waiting out the `Retry-After`, when a try meets a 429, 503 or 529, and grown back by
    /// one after as many successes in a row as the limit. Off, the
    /// [`concurrency`](Self::concurrency) is a fixed limit and each item's transport
    /// retries wait on their own.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).concurrency(64).adaptive(false);
    /// # let _ = bulk;
    /// ```
    pub fn adaptive(mut self, on: bool) -> Self {
        self.adaptive = on;
        self
    }

    /// Yields items in input order instead of as they finish (off by default). Memory
    /// stays bounded: an item waiting for earlier ones holds one of the
    /// [`concurrency`](Self::concurrency) slots, so one slow item can hold the run up.
    /// The journal is written as items finish either way.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).ordered(true);
    /// # let _ = bulk;
    /// ```
    pub fn ordered(mut self, on: bool) -> Self {
        self.ordered = on;
        self
    }

    /// Journals each finished item to the JSON-lines file at `path` (created if missing),
    /// and skips the keys it already holds; see the [module](crate::bulk) for the format
    /// and what survives a crash.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).journal("run.jsonl");
    /// # let _ = bulk;
    /// ```
    pub fn journal(mut self, path: impl Into<PathBuf>) -> Self {
        self.journal = Some(path.into());
        self
    }

    /// Syncs the journal to disk every `items` items (0, the default: only when the run
    /// ends or its stream is dropped). Every line is written to the operating system as
    /// its item finishes regardless, which is all that surviving a killed process needs;
    /// syncing guards against a power loss, at the cost of a disk flush each time.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).journal("run.jsonl").sync_every(100);
    /// # let _ = bulk;
    /// ```
    pub fn sync_every(mut self, items: u32) -> Self {
        self.sync_every = items;
        self
    }

    /// On resume, runs again the keys whose journal entry is a failure (off by default:
    /// every key in the journal is skipped). The new entry is appended; the last entry for
    /// a key is the one that counts.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client.extract_many::<String>([("a", "text")]).journal("run.jsonl").retry_failed(true);
    /// # let _ = bulk;
    /// ```
    pub fn retry_failed(mut self, on: bool) -> Self {
        self.retry_failed = on;
        self
    }

    /// How many inputs there are, for [`Progress::total`] and its ETA, when the inputs do
    /// not say (a stream, an iterator of unknown length).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let inputs = futures::stream::iter([("a", "text")]);
    /// let bulk = client.extract_many_stream::<String>(inputs).total(1);
    /// # let _ = bulk;
    /// ```
    pub fn total(mut self, inputs: u64) -> Self {
        self.total = Some(inputs);
        self
    }

    /// Shapes each item's call: `build` gets the call before the input's text is added
    /// (as the last user message), and may add a system prompt, examples, a mode, retries.
    ///
    /// ```
    /// # use instructor_core::{Client, Mode, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client
    ///     .extract_many::<String>([("a", "text")])
    ///     .with(|call| call.system("Summarise in five words.").mode(Mode::Json).max_retries(1));
    /// # let _ = bulk;
    /// ```
    pub fn with(
        mut self,
        build: impl for<'a> Fn(Create<'a, T>) -> Create<'a, T> + Send + Sync + 'c,
    ) -> Self {
        self.build = Some(Arc::new(build));
        self
    }

    /// Calls `f` with where the run stands each time an item finishes (on the task polling
    /// the stream; keep it quick).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client
    ///     .extract_many::<String>([("a", "text")])
    ///     .on_progress(|p| eprintln!("{} done, {} failed", p.done, p.failed));
    /// # let _ = bulk;
    /// ```
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'c) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }

    /// Opens the journal, if there is one (reading back its keys and cutting a torn last
    /// line), and returns the stream of results. Nothing runs until the stream is polled.
    ///
    /// Fails with [`Error::Journal`] if the journal cannot be opened or read, or holds a
    /// line that is not a journal entry (then the file is left untouched).
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let results = client.extract_many::<String>([("a", "text")]).run()?;
    /// # let _ = results;
    /// # Ok::<(), instructor_core::Error>(())
    /// ```
    pub fn run(self) -> Result<BulkStream<'c, T>, Error> {
        let (journal, skip) = match &self.journal {
            Some(path) => {
                let (journal, seen) = Journal::open(path, self.sync_every)?;
                let retry = self.retry_failed;
                let skip: HashSet<String> = seen
                    .into_iter()
                    .filter(|(_, ok)| *ok || !retry)
                    .map(|(key, _)| key)
                    .collect();
                (Some(Arc::new(journal)), skip)
            }
            None => (None, HashSet::new()),
        };
        let limiter = Arc::new(Limiter::new(self.concurrency, self.adaptive));
        let tally = Arc::new(Tally::new(self.total, Arc::clone(&limiter)));
        let client = Arc::new(if self.adaptive {
            // Told of every transport retry of this run's items, whichever worker meets it.
            let told = Arc::clone(&limiter);
            self.client.clone().hook(move |event: &Event<'_>| {
                if let Event::TransportRetry { error, delay, .. } = event {
                    if is_push_back(error) {
                        told.push_back(Some(*delay));
                    }
                }
            })
        } else {
            self.client.clone()
        });
        let budget = self.budget().map(Arc::new);
        let notify = self.notify();
        let build = self.build;
        #[cfg(feature = "progress-bar")]
        let bar = self.bar;
        let counted = Arc::clone(&tally);
        let todo = self.inputs.filter(move |(key, _)| {
            let keep = !skip.contains(key);
            if !keep {
                counted.skip();
            }
            futures::future::ready(keep)
        });
        let shared = (journal.clone(), Arc::clone(&tally));
        let calls = todo.map(move |(key, text)| {
            let (client, build) = (Arc::clone(&client), build.clone());
            let (journal, tally) = shared.clone();
            let (limiter, notify) = (Arc::clone(&limiter), notify.clone());
            let budget = budget.clone();
            async move {
                let slot = limiter.acquire().await;
                let ticket = match &budget {
                    Some(budget) => Some(budget.take(text.len()).await),
                    None => None,
                };
                let call = item_call(&client, build.as_ref());
                tally.start();
                let result = call.user(text).send_with_completion().await;
                limiter.finished(slot, &result);
                let budget = budget.as_deref().zip(ticket);
                let done = Done {
                    journal: journal.as_deref(),
                    tally: &tally,
                    notify: notify.as_deref(),
                    budget,
                };
                done.finish(key, result)
            }
        });
        let items = if self.ordered {
            calls.buffered(self.concurrency).boxed()
        } else {
            calls.buffer_unordered(self.concurrency).boxed()
        };
        Ok(BulkStream {
            items,
            tally,
            journal,
            #[cfg(feature = "progress-bar")]
            bar,
            ended: false,
        })
    }

    /// The callback told of each finished item.
    #[cfg(not(feature = "progress-bar"))]
    fn notify(&self) -> Option<Notify<'c>> {
        self.on_progress.clone()
    }
}

/// Locks `mutex`, taking its state over if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
