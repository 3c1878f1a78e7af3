//! The requests-per-minute and tokens-per-minute budgets of a bulk run, shared by its
//! workers.
//!
//! Each budget is a token bucket kept as the time its debt is paid off (the "theoretical
//! arrival time" of the generic cell rate algorithm): an item takes its share, and starts
//! once what came before leaves no more than [`BURST`] of debt. So items are spread evenly
//! over the minute, never a minute's worth at once. An item reserves an estimate of its
//! tokens before it starts and settles it with what it really used (every try summed) when
//! it finishes: an underestimate delays the items after it, an overestimate lets them
//! start sooner.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::Bulk;
use crate::{Instruct, Usage};

/// How much of a budget may go at once: one second's worth (and always at least one item).
pub(crate) const BURST: Duration = Duration::from_secs(1);

/// Bytes per token in the estimate of a request's input tokens.
pub(crate) const BYTES_PER_TOKEN: usize = 4;

/// No single charge moves a budget by more than this (absurd token counts stay harmless).
const MOST: Duration = Duration::from_secs(24 * 3600);

/// A run's budgets.
pub(crate) struct Budget {
    /// The time one request uses: a minute over the requests per minute.
    per_request: Option<f64>,
    /// The time one token uses: a minute over the tokens per minute.
    per_token: Option<f64>,
    /// What every request of the run sends besides the input (system prompt, examples,
    /// schema), in bytes.
    overhead: usize,
    /// The call's answer token limit, when it has one.
    max_tokens: Option<u32>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When the requests budget is paid off.
    requests: Option<Instant>,
    /// When the tokens budget is paid off.
    tokens: Option<Instant>,
    /// Output tokens of the items finished so far, and how many reported usage.
    output_tokens: u64,
    answered: u64,
}

/// One item's reservation, to [`settle`](Budget::settle) when it finishes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    /// The tokens reserved.
    tokens: u64,
}

/// `seconds` as a duration, bounded by [`MOST`].
fn span(seconds: f64) -> Duration {
    Duration::try_from_secs_f64(seconds)
        .unwrap_or(MOST)
        .min(MOST)
}

/// When an item may start on a budget paid off at `at`, no earlier than `now`.
fn allowed(at: Option<Instant>, now: Instant) -> Instant {
    at.and_then(|at| at.checked_sub(BURST))
        .map_or(now, |at| at.max(now))
}

/// `at` (or `start` if later) moved on by `cost`.
fn charge(at: Option<Instant>, start: Instant, cost: Duration) -> Instant {
    let from = at.map_or(start, |at| at.max(start));
    from.checked_add(cost).unwrap_or(from)
}

impl Budget {
    /// Budgets of `requests` and `tokens` a minute (either may be absent), for a call
    /// that sends `overhead` bytes besides the input and answers in at most `max_tokens`.
    pub(crate) fn new(
        requests: Option<u32>,
        tokens: Option<u64>,
        overhead: usize,
        max_tokens: Option<u32>,
    ) -> Self {
        Self {
            per_request: requests.map(|n| 60.0 / f64::from(n.max(1))),
            per_token: tokens.map(|n| 60.0 / n.max(1) as f64),
            overhead,
            max_tokens,
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    /// The tokens an input of `input_bytes` is expected to use: its request's bytes over
    /// [`BYTES_PER_TOKEN`], plus the answer's token limit (or, without one, the mean
    /// answer of the run so far).
    fn estimate(&self, input_bytes: usize, s: &State) -> u64 {
        let input = self
            .overhead
            .saturating_add(input_bytes)
            .div_ceil(BYTES_PER_TOKEN) as u64;
        let output = match self.max_tokens {
            Some(max) => u64::from(max),
            None => s.output_tokens.checked_div(s.answered).unwrap_or(0),
        };
        input.saturating_add(output)
    }

    /// Reserves an item with `input_bytes` of input on every budget: when it may start,
    /// and its ticket.
    fn reserve(&self, input_bytes: usize, now: Instant) -> (Instant, Ticket) {
        let mut s = self.lock();
        let tokens = self.estimate(input_bytes, &s);
        let mut start = now;
        if self.per_request.is_some() {
            start = start.max(allowed(s.requests, now));
        }
        if self.per_token.is_some() {
            start = start.max(allowed(s.tokens, now));
        }
        if let Some(per) = self.per_request {
            s.requests = Some(charge(s.requests, start, span(per)));
        }
        if let Some(per) = self.per_token {
            s.tokens = Some(charge(s.tokens, start, span(per * tokens as f64)));
        }
        (start, Ticket { tokens })
    }

    /// Waits until an item with `input_bytes` of input may start, holding its share of
    /// every budget.
    pub(crate) async fn take(&self, input_bytes: usize) -> Ticket {
        let now = Instant::now();
        let (start, ticket) = self.reserve(input_bytes, now);
        if start > now {
            tokio::time::sleep_until(start).await;
        }
        ticket
    }

    /// An item finished having used `usage` over `requests` requests: charges what it
    /// used beyond its ticket, or gives back what it did not use.
    pub(crate) fn settle(&self, ticket: Ticket, usage: Usage, requests: u32) {
        let mut s = self.lock();
        if usage.requests > 0 {
            s.output_tokens = s.output_tokens.saturating_add(usage.output_tokens);
            s.answered += 1;
        }
        if let (Some(per), Some(at)) = (self.per_token, s.tokens) {
            let used = usage.total_tokens;
            s.tokens = Some(if used >= ticket.tokens {
                let more = span(per * (used - ticket.tokens) as f64);
                at.checked_add(more).unwrap_or(at)
            } else {
                let less = span(per * (ticket.tokens - used) as f64);
                at.checked_sub(less).unwrap_or(at)
            });
        }
        if let (Some(per), Some(at)) = (self.per_request, s.requests) {
            let more = span(per * f64::from(requests.saturating_sub(1)));
            s.requests = Some(at.checked_add(more).unwrap_or(at));
        }
    }
}

impl<T: Instruct + Send> Bulk<'_, T> {
    /// Starts at most `n` items a minute (0 counts as 1), spread evenly over the minute: a
    /// second's worth may start at once, then one every `60 / n` seconds. Shared by every
    /// worker of the run, on top of the [`concurrency`](Self::concurrency) limit (an item
    /// takes a slot, then waits for its turn). An item's re-asks and transport retries
    /// are not held back, but are charged when it finishes: the items after it wait for
    /// them.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// // A free tier's 30 requests a minute: one item every two seconds.
    /// let bulk = client.extract_many::<String>([("a", "text")]).requests_per_minute(30);
    /// # let _ = bulk;
    /// ```
    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = Some(n.max(1));
        self
    }

    /// Uses at most about `n` tokens a minute (0 counts as 1), spread evenly over the
    /// minute, shared by every worker of the run. Before an item starts, it reserves an
    /// estimate of its tokens: its request's size in bytes (the input's text, plus the
    /// system prompt, examples and schema every item sends) over 4, plus the call's
    /// `max_tokens` (set with [`with`](Self::with) or on the client) or, without one, the
    /// mean answer of the items finished so far. When the item finishes, the reservation
    /// is settled with the tokens it really used, every try summed: an item that used more
    /// delays the next ones, one that used less lets them start sooner.
    ///
    /// ```
    /// # use instructor_core::{Client, testing::ScriptedProvider};
    /// # let client = Client::new(ScriptedProvider::new());
    /// let bulk = client
    ///     .extract_many::<String>([("a", "text")])
    ///     .with(|call| call.max_tokens(256))
    ///     .tokens_per_minute(200_000);
    /// # let _ = bulk;
    /// ```
    pub fn tokens_per_minute(mut self, n: u64) -> Self {
        self.tokens_per_minute = Some(n.max(1));
        self
    }

    /// The run's budgets, if it has any. For the token estimate, the call is planned once
    /// with an empty input: what it sends besides the input, and its `max_tokens`.
    pub(super) fn budget(&self) -> Option<Budget> {
        if self.requests_per_minute.is_none() && self.tokens_per_minute.is_none() {
            return None;
        }
        let (overhead, max_tokens) = match self.tokens_per_minute {
            Some(_) => {
                let call = self.client.create::<T>();
                let call = match &self.build {
                    Some(build) => build(call),
                    None => call,
                };
                match call.user(String::new()).prepare() {
                    Ok(planned) => {
                        let request = planned.request();
                        let bytes = serde_json::to_vec(request).map_or(0, |b| b.len());
                        (bytes, request.max_tokens)
                    }
                    // Every item fails the same way; the budget hardly matters.
                    Err(_) => (0, self.client.settings().max_tokens),
                }
            }
            None => (0, None),
        };
        Some(Budget::new(
            self.requests_per_minute,
            self.tokens_per_minute,
            overhead,
            max_tokens,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spread_over_the_minute() {
        let b = Budget::new(Some(60), None, 0, None);
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            b.take(10).await;
            starts.push(t0.elapsed());
        }
        // One second's worth at once (the first two), then one a second.
        let secs: Vec<u64> = starts.iter().map(|d| d.as_secs()).collect();
        assert_eq!(secs, [0, 0, 1, 2, 3]);
    }

    #[test]
    fn the_estimate_is_bytes_over_four_plus_the_answer_limit_or_the_mean_answer() {
        let b = Budget::new(None, Some(1000), 40, Some(100));
        let s = State::default();
        assert_eq!(b.estimate(60, &s), 25 + 100);
        let b = Budget::new(None, Some(1000), 40, None);
        assert_eq!(b.estimate(60, &s), 25);
        b.settle(Ticket { tokens: 25 }, Usage::new(20, 30), 1);
        b.settle(Ticket { tokens: 25 }, Usage::new(20, 10), 1);
        assert_eq!(b.estimate(60, &b.lock()), 25 + 20);
    }

    #[tokio::test(start_paused = true)]
    async fn settling_charges_the_excess_and_returns_the_unused() {
        // 600 tokens a minute: 0.1 s a token.
        let b = Budget::new(None, Some(600), 0, Some(10));
        let now = Instant::now();
        let (start, ticket) = b.reserve(0, now);
        assert_eq!(start, now);
        assert_eq!(b.lock().tokens, Some(now + Duration::from_secs(1)));
        b.settle(ticket, Usage::new(0, 30), 1);
        assert_eq!(b.lock().tokens, Some(now + Duration::from_secs(3)));
        let (start, ticket) = b.reserve(0, now);
        assert_eq!(start, now + Duration::from_secs(2));
        b.settle(ticket, Usage::new(0, 0), 1);
        assert_eq!(b.lock().tokens, Some(now + Duration::from_secs(3)));
    }

    #[tokio::test(start_paused = true)]
    async fn extra_requests_are_charged_when_the_item_settles() {
        let b = Budget::new(Some(30), None, 0, None);
        let now = Instant::now();
        let (_, ticket) = b.reserve(0, now);
        b.settle(ticket, Usage::default(), 3);
        assert_eq!(b.lock().requests, Some(now + Duration::from_secs(6)));
    }
}
