//! A bulk run's counts: [`Progress`] while it runs, [`Totals`] at the end.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::limit::Limiter;
use crate::Usage;

/// Where a bulk run stands, given to the [`on_progress`](super::Bulk::on_progress) callback
/// each time an item finishes (and readable any time with
/// [`BulkStream::progress`](super::BulkStream::progress)).
///
/// ```
/// # use instructor_core::{Client, testing::ScriptedProvider};
/// # let client = Client::new(ScriptedProvider::new());
/// let bulk = client
///     .extract_many::<String>([("a", "Say hi")])
///     .on_progress(|p: &instructor_core::bulk::Progress| {
///         let eta = p.eta().map(|d| format!("{}s", d.as_secs())).unwrap_or_default();
///         eprintln!("{}/{:?} done, {} failed, {} running, {} tokens, {:.1}/s, eta {eta}",
///             p.done, p.total, p.failed, p.in_flight, p.usage.total_tokens, p.rate());
///     });
/// # let _ = bulk;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Progress {
    /// Items finished in this run, failed or not.
    pub done: u64,
    /// Of those, the ones that failed.
    pub failed: u64,
    /// Items started and not finished.
    pub in_flight: u64,
    /// Inputs skipped because the journal already held them.
    pub skipped: u64,
    /// How many inputs there are, when known (an iterator of known length, or
    /// [`Bulk::total`](super::Bulk::total)).
    pub total: Option<u64>,
    /// Tokens used so far in this run.
    pub usage: Usage,
    /// Time since the run started.
    pub elapsed: Duration,
    /// How many items may run at once now: the [`concurrency`](super::Bulk::concurrency),
    /// lower while the server pushes back (see [`adaptive`](super::Bulk::adaptive)).
    pub limit: usize,
}

impl Progress {
    /// Items finished per second in this run.
    ///
    /// ```
    /// # fn show(p: &instructor_core::bulk::Progress) {
    /// println!("{:.1} items/s", p.rate());
    /// # }
    /// ```
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        }
    }

    /// Tokens used per second in this run.
    ///
    /// ```
    /// # fn show(p: &instructor_core::bulk::Progress) {
    /// println!("{:.0} tokens/s", p.tokens_per_second());
    /// # }
    /// ```
    pub fn tokens_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.usage.total_tokens as f64 / secs
        } else {
            0.0
        }
    }

    /// Inputs left to finish, when the total is known.
    ///
    /// ```
    /// # fn show(p: &instructor_core::bulk::Progress) {
    /// if let Some(left) = p.remaining() { println!("{left} to go"); }
    /// # }
    /// ```
    pub fn remaining(&self) -> Option<u64> {
        self.total
            .map(|t| t.saturating_sub(self.done).saturating_sub(self.skipped))
    }

    /// The time left at the rate so far, when the total is known and something finished.
    ///
    /// ```
    /// # fn show(p: &instructor_core::bulk::Progress) {
    /// if let Some(eta) = p.eta() { println!("about {}s left", eta.as_secs()); }
    /// # }
    /// ```
    pub fn eta(&self) -> Option<Duration> {
        let rate = self.rate();
        let left = self.remaining()?;
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate))
    }
}

/// What a bulk run did, from [`BulkStream::totals`](super::BulkStream::totals) (complete
/// once the stream has ended).
///
/// ```
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// use instructor_core::{Client, testing::ScriptedProvider};
/// let client = Client::new(ScriptedProvider::new().with_text(r#""hi""#));
/// let totals = client.extract_many::<String>([("a", "Say hi")]).run()?.drain().await;
/// assert_eq!((totals.succeeded, totals.failed), (1, 0));
/// assert_eq!(totals.usage.total_tokens, 15);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Totals {
    /// Items that gave a value.
    pub succeeded: u64,
    /// Items that failed.
    pub failed: u64,
    /// Inputs skipped because the journal already held them.
    pub skipped: u64,
    /// Tokens used by every item of this run, summed.
    pub usage: Usage,
    /// Failures by kind ([`error_kind`](super::error_kind): `"Timeout"`, `"Validation"`, ...).
    pub failures: BTreeMap<&'static str, u64>,
    /// How long the run took.
    pub elapsed: Duration,
}

/// The shared counts behind [`Progress`] and [`Totals`].
pub(crate) struct Tally {
    started: Instant,
    total: Option<u64>,
    limiter: Arc<Limiter>,
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    done: u64,
    failed: u64,
    in_flight: u64,
    skipped: u64,
    usage: Usage,
    failures: BTreeMap<&'static str, u64>,
    ended: Option<Duration>,
}

impl Tally {
    pub(crate) fn new(total: Option<u64>, limiter: Arc<Limiter>) -> Self {
        Self {
            started: Instant::now(),
            total,
            limiter,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        super::lock(&self.counts)
    }

    pub(crate) fn skip(&self) {
        self.lock().skipped += 1;
    }

    pub(crate) fn start(&self) {
        self.lock().in_flight += 1;
    }

    /// Counts a finished item (`failure` is its error's kind); where the run stands now.
    pub(crate) fn finish(&self, usage: Usage, failure: Option<&'static str>) -> Progress {
        let mut c = self.lock();
        c.in_flight = c.in_flight.saturating_sub(1);
        c.done += 1;
        c.usage += usage;
        if let Some(kind) = failure {
            c.failed += 1;
            *c.failures.entry(kind).or_default() += 1;
        }
        self.snapshot(&c)
    }

    pub(crate) fn end(&self) {
        let mut c = self.lock();
        if c.ended.is_none() {
            c.ended = Some(self.started.elapsed());
        }
    }

    pub(crate) fn progress(&self) -> Progress {
        self.snapshot(&self.lock())
    }

    pub(crate) fn totals(&self) -> Totals {
        let c = self.lock();
        Totals {
            succeeded: c.done.saturating_sub(c.failed),
            failed: c.failed,
            skipped: c.skipped,
            usage: c.usage,
            failures: c.failures.clone(),
            elapsed: c.ended.unwrap_or_else(|| self.started.elapsed()),
        }
    }

    fn snapshot(&self, c: &Counts) -> Progress {
        Progress {
            done: c.done,
            failed: c.failed,
            in_flight: c.in_flight,
            skipped: c.skipped,
            total: self.total,
            usage: c.usage,
            elapsed: c.ended.unwrap_or_else(|| self.started.elapsed()),
            limit: self.limiter.limit(),
        }
    }
}
