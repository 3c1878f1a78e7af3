//! Bulk budgets: requests and tokens per minute, on tokio's paused clock (virtual time, so
//! minutes of budget run in milliseconds and nothing here depends on the machine's speed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::bulk::{Answer, JsonMode};
use common::UserDetail;
use instructor::bulk::{Bulk, Totals};
use instructor::provider::{async_trait, Request, Response};
use instructor::{Client, Error, Role, Usage};
use tokio::time::Instant;

/// Answers after `pause` with a valid user and `usage`, recording when (in virtual time)
/// each request was sent and the most in flight at once. The first `reasks` answers break
/// the schema, so they are asked again.
#[derive(Debug)]
struct Metered {
    usage: Usage,
    pause: Duration,
    started: Instant,
    reasks: usize,
    sent: Mutex<Vec<Duration>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Metered {
    fn new(usage: Usage) -> Self {
        Self {
            usage,
            pause: Duration::ZERO,
            started: Instant::now(),
            reasks: 0,
            sent: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
        }
    }

    /// When each request went, since the provider was made.
    fn sent(&self) -> Vec<Duration> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait]
impl Answer for Metered {
    const NAME: &'static str = "metered";

    async fn answer(&self, request: &Request) -> Result<Response, Error> {
        let n = {
            let mut sent = self.sent.lock().unwrap();
            sent.push(self.started.elapsed());
            sent.len()
        };
        let user = request.messages.iter().any(|m| m.role == Role::User);
        assert!(user, "every request carries its input");
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(self.pause).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let text = if n <= self.reasks {
            r#"{"name": "u", "age": 900}"#
        } else {
            r#"{"name": "u", "age": 9}"#
        };
        Ok(Response::text(text).with_usage(self.usage))
    }
}

/// `metered` shared, as a provider.
fn shared(metered: Metered) -> Arc<JsonMode<Metered>> {
    Arc::new(JsonMode(metered))
}

/// A provider answering each request after a second, with a small usage.
fn pausing() -> Arc<JsonMode<Metered>> {
    shared(Metered {
        pause: Duration::from_secs(1),
        ..Metered::new(Usage::new(10, 5))
    })
}

/// Runs `n` inputs through `metered` in a run set up by `configure`; every one must succeed.
/// The totals, and when each request went (as [`Metered::sent`] tells).
async fn run(
    metered: &Arc<JsonMode<Metered>>,
    n: u32,
    configure: impl for<'c> FnOnce(Bulk<'c, UserDetail>) -> Bulk<'c, UserDetail>,
) -> (Totals, Vec<Duration>) {
    let client = Client::from_shared(metered.clone());
    let inputs = client.extract_many::<UserDetail>(inputs(n));
    let totals = configure(inputs).run().unwrap().drain().await;
    assert_eq!(totals.succeeded, u64::from(n));
    (totals, metered.sent())
}

fn inputs(n: u32) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("k{i}"), format!("n={i}")))
        .collect()
}

/// The most requests sent within any `window` (from one request's start).
fn most_in_window(sent: &[Duration], window: Duration) -> usize {
    (0..sent.len())
        .map(|i| {
            sent[i..]
                .iter()
                .take_while(|t| **t < sent[i] + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn thirty_requests_a_minute_spread_ninety_items_over_three_minutes() {
    let metered = shared(Metered::new(Usage::new(10, 5)));
    let (_, mut sent) = run(&metered, 90, |bulk| {
        bulk.concurrency(16).requests_per_minute(30)
    })
    .await;
    sent.sort();
    assert_eq!(sent.len(), 90);
    // One every two seconds after a second's worth at once: the last goes at 177 s.
    let last = *sent.last().unwrap();
    assert!(
        (Duration::from_secs(170)..=Duration::from_secs(180)).contains(&last),
        "last request at {last:?}"
    );
    // Never more than the budget (and its one-second burst) in any minute...
    let minute = most_in_window(&sent, Duration::from_secs(60));
    assert!(minute <= 31, "{minute} requests within a minute");
    // ...and smooth: never a minute's worth at once.
    let burst = most_in_window(&sent, Duration::from_secs(2));
    assert!(burst <= 2, "{burst} requests within two seconds");
}

#[tokio::test(start_paused = true)]
async fn re_asks_are_charged_to_the_requests_budget() {
    // The first item is asked three times; the items after it wait for those requests.
    let metered = shared(Metered {
        reasks: 2,
        ..Metered::new(Usage::new(10, 5))
    });
    let (_, sent) = run(&metered, 10, |bulk| {
        bulk.concurrency(1)
            .with(|call| call.max_retries(2))
            .requests_per_minute(60)
    })
    .await;
    assert_eq!(sent.len(), 12);
    // Twelve requests at one a second (the first two at once): the last at 10 s, not 8 s.
    assert_eq!(sent.last().unwrap().as_secs(), 10, "{sent:?}");
    assert!(most_in_window(&sent, Duration::from_secs(60)) <= 61);
}

#[tokio::test(start_paused = true)]
async fn tokens_per_minute_is_settled_with_the_real_usage() {
    // Each item really uses 900 tokens, several times what is reserved for it up front (its
    // request's bytes / 4, schema included, plus max_tokens 50): the settling must make up
    // the difference.
    let metered = shared(Metered::new(Usage::new(600, 300)));
    let tokens_per_minute = 9000;
    let (totals, mut sent) = run(&metered, 30, |bulk| {
        bulk.concurrency(4)
            .with(|call| call.max_tokens(50))
            .tokens_per_minute(tokens_per_minute)
    })
    .await;
    assert_eq!(totals.usage.total_tokens, 30 * 900);
    sent.sort();
    // 27,000 tokens at 9,000 a minute: about three minutes. The last item starts once the
    // 29 before it are paid for (174 s), less a second's burst and what the three items
    // already waiting for their turn had reserved too little: at about 161 s. (On the
    // reservations alone, it would start before one minute.)
    let last = *sent.last().unwrap();
    assert!(
        (Duration::from_secs(155)..=Duration::from_secs(180)).contains(&last),
        "last request at {last:?}"
    );
    // In any minute, the tokens of the items started stay within the budget, give or take
    // what the items scheduled before a settling had reserved too little (at most the
    // concurrency's worth of 900 - estimate each).
    let most = most_in_window(&sent, Duration::from_secs(60)) as u64 * 900;
    assert!(
        most <= tokens_per_minute + 4 * 900,
        "{most} tokens within a minute"
    );
    let burst = most_in_window(&sent, Duration::from_secs(3));
    assert!(burst <= 2, "{burst} items within three seconds");
}

#[tokio::test(start_paused = true)]
async fn the_reservation_counts_max_tokens_before_the_request_is_sent() {
    // Each answer is small and takes a second, but each call may write 3,000 tokens: at
    // 6,000 a minute the second item, reserved while the first is in flight, waits about
    // half a minute for the first one's reservation.
    let metered = pausing();
    let (_, sent) = run(&metered, 2, |bulk| {
        bulk.concurrency(2)
            .with(|call| call.max_tokens(3000))
            .tokens_per_minute(6000)
    })
    .await;
    assert_eq!(sent[0], Duration::ZERO);
    assert!(
        (Duration::from_secs(29)..Duration::from_secs(32)).contains(&sent[1]),
        "{sent:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn budgets_compose_with_the_concurrency_limit() {
    // Each answer takes a second. Three at once is three a second, below the budget of ten
    // a second: the concurrency limit holds the run back, and the budget still caps the
    // first second.
    let metered = pausing();
    let (_, mut sent) = run(&metered, 30, |bulk| {
        bulk.concurrency(3)
            .requests_per_minute(600)
            .tokens_per_minute(1_000_000)
    })
    .await;
    assert_eq!(metered.most_in_flight.load(Ordering::SeqCst), 3);
    sent.sort();
    assert!(most_in_window(&sent, Duration::from_secs(1)) <= 3);
    // Thirty answers of a second each, three at a time: the last starts at 9 s.
    assert_eq!(sent.last().unwrap().as_secs(), 9, "{sent:?}");

    // With two a minute, the budget holds it back instead: one at once, then one every 30 s.
    let metered = pausing();
    let (_, sent) = run(&metered, 4, |bulk| {
        bulk.concurrency(3).requests_per_minute(2)
    })
    .await;
    let secs: Vec<u64> = sent.iter().map(|d| d.as_secs()).collect();
    assert_eq!(secs, [0, 29, 59, 89]);
}
