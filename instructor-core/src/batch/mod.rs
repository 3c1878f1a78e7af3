//! Provider batch APIs: many extractions sent as one batch at the provider's batch price
//! (half the online price at OpenAI and Anthropic), answered within hours, and interpreted
//! as online calls are.
//!
//! [`Client::batch`] plans one request per `(key, text)` input, with the same planning as
//! an online call (every mode the provider supports online works in a batch), and
//! [`Batch::submit`] sends them as one batch. The [`BatchJob`] it returns has the
//! provider's id: save it, and [`BatchJob::resume`] in another process (or
//! [`Batch::resume`], with the same inputs, to keep validators' source text and re-asks).
//! [`BatchJob::status`] and [`BatchJob::wait`] poll; [`BatchJob::results`] reads the
//! answers as they download and yields `(key, Result<T, Error>)` through the same interpret
//! step as an online call.
//!
//! - An answer that fails parsing or validation is re-asked with the error, as online:
//!   online, right away ([`Reask::Online`], the default), or in a follow-up batch
//!   ([`Reask::FollowUp`], then [`BatchResults::follow_up`]).
//! - An item the provider could not answer is an [`Error::Batch`] naming how it ended
//!   ([`BatchOutcome`]: errored, expired, cancelled, missing), or the typed error the
//!   online call would have given for the item's HTTP status. Nothing is dropped: a job
//!   that knows its inputs yields every key once.
//!
//! ```no_run
//! # use instructor_core::{Client, testing::ScriptedProvider};
//! use std::time::Duration;
//! use futures::StreamExt;
//!
//! # async fn demo(client: Client) -> Result<(), instructor_core::Error> {
//! let inputs = [("a", "Jason is 30"), ("b", "Sarah is 28")];
//! let job = client.batch::<Vec<String>>(inputs).submit().await?;
//! println!("saved batch id: {}", job.id());
//! job.wait(Duration::from_secs(60)).await?;
//! let mut results = job.results().await?;
//! while let Some((key, names)) = results.next().await {
//!     println!("{key}: {:?}", names?);
//! }
//! # Ok(()) }
//! ```

mod api;
mod results;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use api::{
    BatchApi, BatchCounts, BatchItem, BatchItems, BatchLine, BatchOutcome, BatchState, BatchStatus,
};
pub use results::BatchResults;

use crate::create::{item_call, Shape};
use crate::engine::Prepared;
use crate::{Client, Create, Error, Instruct};

/// Each item's key and planned extraction.
type Plans<T> = Vec<(String, Prepared<T>)>;

/// What happens to an answer that fails parsing or validation.
///
/// ```
/// assert_eq!(instructor_core::batch::Reask::default(), instructor_core::batch::Reask::Online);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reask {
    /// Re-asked with the error online, right away, up to the call's `max_retries`.
    #[default]
    Online,
    /// Kept for a follow-up batch ([`BatchResults::follow_up`]).
    FollowUp,
}

/// A batch of extractions of `T`, to configure and then [`submit`](Self::submit); from
/// [`Client::batch`]. See the [module](crate::batch).
///
/// ```
/// # use instructor_core::{Client, Mode, testing::ScriptedProvider};
/// # let client = Client::new(ScriptedProvider::new());
/// let batch = client
///     .batch::<Vec<String>>([("doc-1", "red, green"), ("doc-2", "blue")])
///     .with(|call| call.system("List the colours.").mode(Mode::Json));
/// # let _ = batch;
/// ```
#[must_use = "a batch does nothing until `.submit()` is awaited"]
pub struct Batch<'c, T> {
    client: &'c Client,
    inputs: Vec<(String, String)>,
    build: Option<Shape<'c, T>>,
}

impl<'c, T: Instruct> Batch<'c, T> {
    pub(crate) fn new(client: &'c Client, inputs: Vec<(String, String)>) -> Self {
        Self {
            client,
            inputs,
            build: None,
        }
    }

    /// Shapes each item's call: `build` gets the call before the input's text is added as
    /// the user message (a system prompt, the mode, `max_retries`, a model).
    pub fn with(
        mut self,
        build: impl for<'a> Fn(Create<'a, T>) -> Create<'a, T> + Send + Sync + 'c,
    ) -> Self {
        self.build = Some(Arc::new(build));
        self
    }

    /// Plans every item's first request; keys must be unique.
    fn plan(self) -> Result<(Client, Plans<T>), Error> {
        let client = self.client;
        if client.provider().batch_api().is_none() {
            return Err(no_batches(client));
        }
        let mut seen = std::collections::HashSet::with_capacity(self.inputs.len());
        let mut planned = Vec::with_capacity(self.inputs.len());
        for (key, text) in self.inputs {
            if !seen.insert(key.clone()) {
                return Err(Error::Config(format!(
                    "batch key `{key}` is given twice; keys name answers and must be unique"
                )));
            }
            let call = item_call(client, self.build.as_ref());
            planned.push((key, call.user(text).prepare()?));
        }
        Ok((client.clone(), planned))
    }

    /// Plans every request and submits them as one batch.
    pub async fn submit(self) -> Result<BatchJob<T>, Error> {
        let (client, planned) = self.plan()?;
        if planned.is_empty() {
            return Err(Error::Config("a batch needs at least one input".to_owned()));
        }
        let status = submit(&client, &planned).await?;
        Ok(BatchJob::with_plans(client, status.id, planned))
    }

    /// The job of batch `id`, submitted earlier with these same inputs (by this process or
    /// another): nothing is sent; validators see each item's source text and failed
    /// answers can be re-asked, as for a job just submitted.
    ///
    /// ```
    /// # use instructor_core::{Client, Error};
    /// # fn demo(client: &Client) -> Result<(), Error> {
    /// let job = client.batch::<String>([("a", "text")]).resume("batch_abc123")?;
    /// assert_eq!(job.id(), "batch_abc123");
    /// # Ok(()) }
    /// ```
    pub fn resume(self, id: impl Into<String>) -> Result<BatchJob<T>, Error> {
        let (client, planned) = self.plan()?;
        Ok(BatchJob::with_plans(client, id.into(), planned))
    }
}

/// A submitted batch: its id, and (when it was submitted or resumed with its inputs) each
/// item's planned extraction. Poll it, then read its [`results`](Self::results).
#[must_use]
pub struct BatchJob<T> {
    client: Client,
    id: String,
    /// Each item's extraction, by key; empty for a job resumed without its inputs.
    plans: HashMap<String, Prepared<T>>,
    reask: Reask,
    concurrency: usize,
}

impl<T> std::fmt::Debug for BatchJob<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchJob")
            .field("id", &self.id)
            .field("items", &self.plans.len())
            .field("reask", &self.reask)
            .finish_non_exhaustive()
    }
}

impl<T: Instruct> BatchJob<T> {
    fn with_plans(client: Client, id: String, planned: Plans<T>) -> Self {
        Self {
            client,
            id,
            plans: planned.into_iter().collect(),
            reask: Reask::default(),
            concurrency: crate::bulk::DEFAULT_CONCURRENCY,
        }
    }

    /// The job of batch `id` on `client`'s provider, without its inputs (from another
    /// process that saved only the id). Answers are interpreted as usual, but validators
    /// that read the input see none, and an answer that fails cannot be re-asked: it is
    /// yielded as its error. Use [`Batch::resume`] to keep both.
    ///
    /// ```
    /// # use instructor_core::{Client, Error, batch::BatchJob};
    /// # fn demo(client: &Client) -> Result<(), Error> {
    /// let job = BatchJob::<String>::resume(client, "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF")?;
    /// # let _ = job; Ok(()) }
    /// ```
    pub fn resume(client: &Client, id: impl Into<String>) -> Result<Self, Error> {
        api_of(client)?;
        Ok(Self::with_plans(client.clone(), id.into(), Vec::new()))
    }

    /// The provider's id of the batch.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many items the job knows (0 for a job resumed without its inputs).
    pub fn len(&self) -> usize {
        self.plans.len()
    }

    /// Whether the job knows no items.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }

    /// What to do with answers that fail parsing or validation (default
    /// [`Reask::Online`]).
    pub fn reask(mut self, via: Reask) -> Self {
        self.reask = via;
        self
    }

    /// How many online re-asks run at once (default 16).
    pub fn concurrency(mut self, limit: usize) -> Self {
        self.concurrency = limit.max(1);
        self
    }

    /// Where the batch stands.
    pub async fn status(&self) -> Result<BatchStatus, Error> {
        api_of(&self.client)?.status(&self.id).await
    }

    /// Polls the status every `every` until the batch is finished, and returns it.
    pub async fn wait(&self, every: Duration) -> Result<BatchStatus, Error> {
        loop {
            let status = self.status().await?;
            if status.state.is_finished() {
                return Ok(status);
            }
            tracing::debug!(batch = %self.id, state = ?status.state, "batch not finished");
            tokio::time::sleep(every).await;
        }
    }

    /// Asks the provider to cancel the batch. Items that finished keep their results.
    pub async fn cancel(&self) -> Result<BatchStatus, Error> {
        api_of(&self.client)?.cancel(&self.id).await
    }

    /// The results of the finished batch, as a stream of `(key, Result<T, Error>)`. A batch
    /// that has not finished is [`BatchOutcome::NotFinished`]; one that failed as a whole,
    /// [`BatchOutcome::Failed`] with the provider's message.
    pub async fn results(self) -> Result<BatchResults<T>, Error>
    where
        T: Send + 'static,
    {
        let status = self.status().await?;
        if !status.state.is_finished() {
            return Err(Error::Batch {
                outcome: BatchOutcome::NotFinished,
                message: format!("batch {} is {:?}; wait for it first", self.id, status.state),
            });
        }
        if !status.state.has_results() {
            return Err(Error::Batch {
                outcome: BatchOutcome::Failed,
                message: status
                    .message
                    .unwrap_or_else(|| format!("batch {} failed", self.id)),
            });
        }
        let items = api_of(&self.client)?.results(&self.id).await?;
        Ok(BatchResults::new(self, status.state, items))
    }
}

/// Submits each plan's current request as one line of a new batch.
async fn submit<T: Instruct>(client: &Client, plans: &Plans<T>) -> Result<BatchStatus, Error> {
    let lines: Vec<BatchLine<'_>> = plans
        .iter()
        .map(|(key, prepared)| BatchLine {
            custom_id: key,
            request: prepared.request(),
        })
        .collect();
    let status = api_of(client)?.submit(&lines).await?;
    tracing::info!(batch = %status.id, items = lines.len(), "batch submitted");
    Ok(status)
}

fn no_batches(client: &Client) -> Error {
    Error::Unsupported {
        what: format!(
            "batches with the {} provider (it has no batch API)",
            client.provider().name()
        ),
    }
}

fn api_of(client: &Client) -> Result<&dyn BatchApi, Error> {
    client
        .provider()
        .batch_api()
        .ok_or_else(|| no_batches(client))
}
