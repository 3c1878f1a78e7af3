//! Reading a finished batch: each line interpreted as an online answer is, failed answers
//! re-asked online or kept for a follow-up batch, and every known key yielded once.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Either};
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};

use super::{BatchItem, BatchItems, BatchJob, BatchOutcome, BatchState, Reask};
use crate::engine::{Prepared, Step};
use crate::{Client, Error, Instruct, Usage};

type Entry<T> = (String, Result<T, Error>);

/// What reading the results keeps between lines.
struct Ledger<T> {
    client: Client,
    /// Items not yet answered, by key.
    plans: HashMap<String, Prepared<T>>,
    /// Whether the job knew its inputs (so a line under another key is an error).
    knows_inputs: bool,
    reask: Reask,
    /// Items whose answers failed, to re-ask in a follow-up batch.
    follow_ups: Vec<(String, Prepared<T>)>,
    /// Tokens of the answers taken.
    usage: Usage,
}

/// What to do with one line.
enum Action<T> {
    Yield(Entry<T>),
    Online(String, Box<Prepared<T>>),
    Defer,
}

impl<T: Instruct> Ledger<T> {
    /// The extraction a line answers: the planned one, or for a job resumed without its
    /// inputs a fresh one that does not re-ask (there is no conversation to continue).
    fn take(&mut self, key: &str) -> Result<Prepared<T>, Error> {
        if let Some(prepared) = self.plans.remove(key) {
            return Ok(prepared);
        }
        if self.knows_inputs {
            return Err(Error::Protocol {
                message: format!(
                    "the batch results hold key `{key}`, which was not submitted or came twice"
                ),
                raw: None,
                source: None,
            });
        }
        self.client.create::<T>().max_retries(0).prepare()
    }

    fn handle(&mut self, item: BatchItem) -> Action<T> {
        let BatchItem { custom_id, outcome } = item;
        let mut prepared = match self.take(&custom_id) {
            Ok(p) => p,
            Err(e) => return Action::Yield((custom_id, Err(e))),
        };
        let response = match outcome {
            Ok(response) => response,
            Err(e) => return Action::Yield((custom_id, Err(prepared.fail(e)))),
        };
        match prepared.interpret(response) {
            Step::Done { value, completion } => {
                self.usage += completion.usage;
                Action::Yield((custom_id, Ok(value)))
            }
            Step::Failed(e) => Action::Yield((custom_id, Err(e))),
            Step::Reask(_) => match self.reask {
                Reask::Online => Action::Online(custom_id, Box::new(prepared)),
                Reask::FollowUp => {
                    self.follow_ups.push((custom_id, prepared));
                    Action::Defer
                }
            },
        }
    }

    /// The keys the results never answered, as the batch's end makes them.
    fn unanswered(&mut self, state: BatchState) -> Vec<Entry<T>> {
        let outcome = match state {
            BatchState::Expired => BatchOutcome::Expired,
            BatchState::Cancelled => BatchOutcome::Cancelled,
            _ => BatchOutcome::Missing,
        };
        let mut keys: Vec<String> = self.plans.keys().cloned().collect();
        keys.sort_unstable();
        keys.into_iter()
            .filter_map(|key| {
                let mut prepared = self.plans.remove(&key)?;
                let error = prepared.fail(Error::Batch {
                    outcome,
                    message: format!("no answer for key `{key}`"),
                });
                Some((key, Err(error)))
            })
            .collect()
    }
}

fn lock<T>(ledger: &Mutex<Ledger<T>>) -> std::sync::MutexGuard<'_, Ledger<T>> {
    ledger.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The results of a finished batch: a stream of `(key, Result<T, Error>)`, from
/// [`BatchJob::results`]. Lines are read as they download. With [`Reask::Online`], an
/// answer that fails is re-asked online (several at once) and yielded when that ends;
/// with [`Reask::FollowUp`] it is kept for [`follow_up`](Self::follow_up). When the lines
/// end, every key the job knows that had no line is yielded as an [`Error::Batch`]
/// (expired, cancelled or missing, as the batch ended).
///
/// An error reading the results (the connection broke) is yielded once under the empty
/// key and ends the stream; the job's results can be read again.
pub struct BatchResults<T> {
    ledger: Arc<Mutex<Ledger<T>>>,
    stream: BoxStream<'static, Entry<T>>,
}

impl<T> std::fmt::Debug for BatchResults<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResults").finish_non_exhaustive()
    }
}

impl<T: Instruct + Send + 'static> BatchResults<T> {
    pub(super) fn new(job: BatchJob<T>, state: BatchState, items: BatchItems) -> Self {
        let concurrency = job.concurrency;
        let ledger = Arc::new(Mutex::new(Ledger {
            knows_inputs: !job.plans.is_empty(),
            plans: job.plans,
            client: job.client,
            reask: job.reask,
            follow_ups: Vec::new(),
            usage: Usage::default(),
        }));
        let per_line = Arc::clone(&ledger);
        let answered = items
            .map(
                move |line| -> Either<_, BoxFuture<'static, Option<Entry<T>>>> {
                    let action = match line {
                        Ok(item) => lock(&per_line).handle(item),
                        Err(e) => Action::Yield((String::new(), Err(e))),
                    };
                    match action {
                        Action::Yield(entry) => Either::Left(futures::future::ready(Some(entry))),
                        Action::Defer => Either::Left(futures::future::ready(None)),
                        Action::Online(key, prepared) => {
                            let client = lock(&per_line).client.clone();
                            let ledger = Arc::clone(&per_line);
                            Either::Right(
                                async move {
                                    let result =
                                        crate::drive::once::run(client.ctx(), *prepared, None)
                                            .await
                                            .map(|(value, completion)| {
                                                lock(&ledger).usage += completion.usage;
                                                value
                                            });
                                    Some((key, result))
                                }
                                .boxed(),
                            )
                        }
                    }
                },
            )
            .buffer_unordered(concurrency)
            .filter_map(futures::future::ready);
        let at_end = Arc::clone(&ledger);
        let unanswered = futures::stream::once(async move { lock(&at_end).unanswered(state) })
            .flat_map(futures::stream::iter);
        let mut broke = false;
        let stream = answered
            .chain(unanswered)
            .take_while(move |(key, result)| {
                // A read error (empty key) ends the stream after it is yielded.
                let go = !broke;
                broke |= key.is_empty() && result.is_err();
                futures::future::ready(go)
            })
            .boxed();
        Self { ledger, stream }
    }

    /// Tokens of the answers taken so far (online re-asks included).
    pub fn usage(&self) -> Usage {
        lock(&self.ledger).usage
    }

    /// How many failed answers wait for a follow-up batch ([`Reask::FollowUp`]).
    pub fn pending_follow_ups(&self) -> usize {
        lock(&self.ledger).follow_ups.len()
    }

    /// Submits the answers kept for re-asking ([`Reask::FollowUp`]), each with its error,
    /// as a new batch, and returns its job (`None` when there are none). Call it when the
    /// stream has ended.
    pub async fn follow_up(&mut self) -> Result<Option<BatchJob<T>>, Error> {
        let (client, follow_ups) = {
            let mut ledger = lock(&self.ledger);
            (
                ledger.client.clone(),
                std::mem::take(&mut ledger.follow_ups),
            )
        };
        if follow_ups.is_empty() {
            return Ok(None);
        }
        let status = match super::submit(&client, &follow_ups).await {
            Ok(status) => status,
            Err(e) => {
                // Kept for another try: nothing is lost to a failed submission.
                lock(&self.ledger).follow_ups = follow_ups;
                return Err(e);
            }
        };
        let reask = lock(&self.ledger).reask;
        Ok(Some(
            BatchJob::with_plans(client, status.id, follow_ups).reask(reask),
        ))
    }
}

impl<T> Stream for BatchResults<T> {
    type Item = (String, Result<T, Error>);

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.poll_next_unpin(cx)
    }
}
