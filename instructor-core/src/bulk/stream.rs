//! The results of a bulk run as a stream, with its progress and totals.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};

use super::journal::Journal;
use super::progress::Tally;
#[cfg(feature = "progress-bar")]
use super::ProgressBar;
use super::{Progress, Totals};
use crate::Error;

/// The results of a [`Bulk`](super::Bulk) run: `(key, Result<T, Error>)` for each input
/// not skipped, as items finish (or in input order, if
/// [`ordered`](super::Bulk::ordered)). Dropping it stops the run: items in flight are
/// abandoned (and not journaled), finished ones are all in the journal.
///
/// ```
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// use futures::StreamExt;
/// use instructor_core::{Client, testing::ScriptedProvider};
/// let client = Client::new(ScriptedProvider::new().with_text("1").with_text("2"));
/// let mut results = client.extract_many::<u32>([("a", "one"), ("b", "two")]).run()?;
/// let mut sum = 0;
/// while let Some((_key, n)) = results.next().await {
///     sum += n?;
/// }
/// assert_eq!(sum, 3);
/// assert_eq!(results.totals().usage.requests, 2);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[must_use = "a bulk run does nothing unless its stream is polled"]
pub struct BulkStream<'c, T> {
    pub(super) items: BoxStream<'c, (String, Result<T, Error>)>,
    pub(super) tally: Arc<Tally>,
    pub(super) journal: Option<Arc<Journal>>,
    #[cfg(feature = "progress-bar")]
    pub(super) bar: Option<ProgressBar>,
    pub(super) ended: bool,
}

impl<T> std::fmt::Debug for BulkStream<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BulkStream")
            .field("progress", &self.tally.progress())
            .field("journal", &self.journal)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<T> BulkStream<'_, T> {
    /// What the run did so far; once the stream has ended, its totals.
    ///
    /// ```
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let results = client.extract_many::<u32>(Vec::<(String, String)>::new()).run()?;
    /// let totals = results.drain().await;
    /// assert_eq!(totals.succeeded + totals.failed, 0);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn totals(&self) -> Totals {
        self.tally.totals()
    }

    /// Where the run stands now.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let results = client.extract_many::<u32>([("a", "one")]).run()?;
    /// assert_eq!(results.progress().done, 0);
    /// # Ok::<(), instructor_core::Error>(())
    /// ```
    pub fn progress(&self) -> Progress {
        self.tally.progress()
    }

    /// Runs to the end, dropping the results (for a run whose journal is the output), and
    /// returns the totals.
    ///
    /// ```
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new().with_text("7"));
    /// let totals = client.extract_many::<u32>([("a", "seven")]).run()?.drain().await;
    /// assert_eq!(totals.succeeded, 1);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub async fn drain(mut self) -> Totals {
        while self.next().await.is_some() {}
        self.totals()
    }
}

impl<T> Stream for BulkStream<'_, T> {
    type Item = (String, Result<T, Error>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = self.items.poll_next_unpin(cx);
        if let Poll::Ready(None) = polled {
            if !self.ended {
                self.ended = true;
                self.tally.end();
                if let Some(journal) = &self.journal {
                    journal.sync();
                }
                #[cfg(feature = "progress-bar")]
                if let Some(bar) = &self.bar {
                    bar.finish(&self.tally.totals());
                }
            }
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}
