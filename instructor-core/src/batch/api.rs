//! For provider authors: what a provider's batch API does ([`BatchApi`]), in neutral terms.
//! The core plans every request (the same planning as online calls) and interprets every
//! answer (the same interpret step); a provider only moves lines to and from its server.

use std::fmt;
use std::pin::Pin;

use futures::Stream;

use crate::{async_trait, Error, Request, Response};

/// One request of a batch, under the caller's key (`custom_id` on the wire).
#[derive(Debug, Clone, Copy)]
pub struct BatchLine<'a> {
    /// The key the answer comes back under.
    pub custom_id: &'a str,
    /// The request, planned as an online call's would be.
    pub request: &'a Request,
}

/// Where a batch stands.
///
/// ```
/// use instructor_core::batch::BatchState;
/// assert!(BatchState::Completed.is_finished());
/// assert!(BatchState::Expired.is_finished());
/// assert!(!BatchState::Running.is_finished());
/// assert!(BatchState::Cancelled.has_results());
/// assert!(!BatchState::Failed.has_results());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BatchState {
    /// Accepted, being validated or waiting to run.
    Pending,
    /// Running.
    Running,
    /// Cancellation asked; items still running may finish.
    Cancelling,
    /// Every item has an outcome (success or error) and the results can be read.
    Completed,
    /// The batch ran out of time; finished items have results, the rest are
    /// [`BatchOutcome::Expired`].
    Expired,
    /// The batch was cancelled; finished items have results, the rest are
    /// [`BatchOutcome::Cancelled`].
    Cancelled,
    /// The batch as a whole failed (its input was refused); no item has a result.
    Failed,
}

impl BatchState {
    /// Whether the batch will not change any more.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Expired | Self::Cancelled | Self::Failed
        )
    }

    /// Whether finished items can be read ([`is_finished`](Self::is_finished) and not
    /// [`Failed`](Self::Failed)).
    pub fn has_results(self) -> bool {
        self.is_finished() && self != Self::Failed
    }
}

/// How a batch or one of its items ended without an answer.
///
/// ```
/// use instructor_core::batch::BatchOutcome;
/// assert_eq!(BatchOutcome::Expired.to_string(), "expired");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BatchOutcome {
    /// The batch as a whole failed: the provider refused its input.
    Failed,
    /// The item's request failed at the provider.
    Errored,
    /// The batch expired before the item ran.
    Expired,
    /// The batch was cancelled before the item ran.
    Cancelled,
    /// The batch ended and its results hold no line for the item.
    Missing,
    /// The results were asked for before the batch finished.
    NotFinished,
}

impl fmt::Display for BatchOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Failed => "failed",
            Self::Errored => "item errored",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
            Self::Missing => "item missing from the results",
            Self::NotFinished => "not finished",
        })
    }
}

/// How many items stand where, as the provider counts them (a provider that does not say
/// leaves a count at 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct BatchCounts {
    /// Items in the batch.
    pub total: u64,
    /// Items answered.
    pub succeeded: u64,
    /// Items that errored, expired or were cancelled.
    pub failed: u64,
}

impl BatchCounts {
    /// Counts of `total` items, `succeeded` answered and `failed` not.
    ///
    /// ```
    /// let c = instructor_core::batch::BatchCounts::new(10, 7, 1);
    /// assert_eq!(c.pending(), 2);
    /// ```
    pub fn new(total: u64, succeeded: u64, failed: u64) -> Self {
        Self {
            total,
            succeeded,
            failed,
        }
    }

    /// Items with no outcome yet.
    pub fn pending(&self) -> u64 {
        self.total
            .saturating_sub(self.succeeded)
            .saturating_sub(self.failed)
    }
}

/// A batch as the provider reports it.
///
/// ```
/// use instructor_core::batch::{BatchCounts, BatchState, BatchStatus};
/// let s = BatchStatus::new("batch_abc", BatchState::Running).with_counts(BatchCounts::new(3, 1, 0));
/// assert_eq!(s.id, "batch_abc");
/// assert_eq!(s.counts.pending(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct BatchStatus {
    /// The provider's id for the batch: save it to [resume](super::BatchJob::resume) the
    /// job from another process.
    pub id: String,
    /// Where it stands.
    pub state: BatchState,
    /// Item counts.
    pub counts: BatchCounts,
    /// Why the batch failed, as the provider said ([`BatchState::Failed`]).
    pub message: Option<String>,
}

impl BatchStatus {
    /// A status with no counts and no message.
    pub fn new(id: impl Into<String>, state: BatchState) -> Self {
        Self {
            id: id.into(),
            state,
            counts: BatchCounts::default(),
            message: None,
        }
    }

    /// The same with `counts`.
    pub fn with_counts(mut self, counts: BatchCounts) -> Self {
        self.counts = counts;
        self
    }

    /// The same with the provider's message.
    ///
    /// ```
    /// # use instructor_core::batch::{BatchState, BatchStatus};
    /// let s = BatchStatus::new("b", BatchState::Failed).with_message("line 3: bad JSON");
    /// assert_eq!(s.message.as_deref(), Some("line 3: bad JSON"));
    /// ```
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// One line of a batch's results: the key and the provider's answer, or why there is none
/// (an [`Error::Batch`], or the typed error the online call would have given, with its HTTP
/// status).
#[derive(Debug)]
pub struct BatchItem {
    /// The key the request was sent under.
    pub custom_id: String,
    /// The answer.
    pub outcome: Result<Response, Error>,
}

/// The lines of a batch's results, read as they arrive (memory is bounded by a line, not
/// by the file).
pub type BatchItems = Pin<Box<dyn Stream<Item = Result<BatchItem, Error>> + Send>>;

/// A provider's batch API: submit lines, report status, read results, cancel. Providers
/// offer it through [`Provider::batch_api`](crate::Provider::batch_api); callers use
/// [`Client::batch`](crate::Client::batch), which plans and interprets.
///
/// ```
/// use instructor_core::{async_trait, Error};
/// use instructor_core::batch::{BatchApi, BatchItems, BatchLine, BatchState, BatchStatus};
///
/// /// Refuses every batch.
/// #[derive(Debug)]
/// struct Closed;
///
/// #[async_trait]
/// impl BatchApi for Closed {
///     async fn submit(&self, _lines: &[BatchLine<'_>]) -> Result<BatchStatus, Error> {
///         Err(Error::Unsupported { what: "batches today".into() })
///     }
///     async fn status(&self, id: &str) -> Result<BatchStatus, Error> {
///         Ok(BatchStatus::new(id, BatchState::Failed))
///     }
///     async fn results(&self, _id: &str) -> Result<BatchItems, Error> {
///         Ok(Box::pin(futures::stream::empty()))
///     }
///     async fn cancel(&self, id: &str) -> Result<BatchStatus, Error> {
///         self.status(id).await
///     }
/// }
/// ```
#[async_trait]
pub trait BatchApi: Send + Sync + fmt::Debug {
    /// Creates a batch of `lines` (uploading them first where the API wants a file) and
    /// returns its status, with the id to poll.
    async fn submit(&self, lines: &[BatchLine<'_>]) -> Result<BatchStatus, Error>;

    /// Where batch `id` stands.
    async fn status(&self, id: &str) -> Result<BatchStatus, Error>;

    /// The results of finished batch `id`, one item per line, in the provider's order.
    async fn results(&self, id: &str) -> Result<BatchItems, Error>;

    /// Asks the provider to cancel batch `id`.
    async fn cancel(&self, id: &str) -> Result<BatchStatus, Error>;
}
