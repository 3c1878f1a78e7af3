//! Bulk extraction: bounded concurrency, order, typed failures, totals, progress and the
//! journal (resume, torn lines, a killed process).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::bulk::{number, user_answer, user_text, Answer, JsonMode};
use common::journal::temp_journal;
use common::UserDetail;
use futures::StreamExt;
use instructor::bulk::{Bulk, Progress};
use instructor::provider::{async_trait, Request, Response};
use instructor::{Client, Error};
use serde_json::Value;

/// Answers from the request's first user message: `n=7` gives `{"name": "u7", "age": 7}`
/// (after a pause, which shrinks as `n` grows if `reverse`); `http` an HTTP 400. Counts calls
/// and the most calls at once.
#[derive(Debug, Default)]
struct Echo {
    pause_ms: u64,
    /// Pause longer for small `n` (so later inputs finish first).
    reverse: bool,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Echo {
    fn new(pause_ms: u64) -> Arc<JsonMode<Self>> {
        Arc::new(JsonMode(Self {
            pause_ms,
            ..Self::default()
        }))
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Answer for Echo {
    const NAME: &'static str = "echo";

    async fn answer(&self, request: &Request) -> Result<Response, Error> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let text = user_text(request);
        let n = number(&text);
        let pause = if self.reverse {
            self.pause_ms * 40u64.saturating_sub(n)
        } else {
            self.pause_ms
        };
        tokio::time::sleep(Duration::from_millis(pause)).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if text == "http" {
            return Err(Error::Http {
                status: 400,
                body: "bad request".into(),
            });
        }
        Ok(user_answer(n))
    }
}

/// An [`Echo`] pausing `pause_ms`, and a client of it.
fn echo_client(pause_ms: u64) -> (Arc<JsonMode<Echo>>, Client) {
    let echo = Echo::new(pause_ms);
    let client = client(&echo);
    (echo, client)
}

fn client(echo: &Arc<JsonMode<Echo>>) -> Client {
    Client::from_shared(echo.clone())
}

/// Input `k{i}` asks for `n={i % 100}`.
fn inputs(range: Range<u32>) -> Vec<(String, String)> {
    range
        .map(|i| (format!("k{i}"), format!("n={}", i % 100)))
        .collect()
}

/// What the answer to input `k{n}` gives.
fn user(n: u32) -> UserDetail {
    UserDetail {
        name: format!("u{}", n % 100),
        age: (n % 100) as u8,
    }
}

/// Inputs `k{i}` for `range` (as [`inputs`] makes them) through `client`, journaled at `path`.
fn journaled<'c>(client: &'c Client, range: Range<u32>, path: &Path) -> Bulk<'c, UserDetail> {
    client
        .extract_many::<UserDetail>(inputs(range))
        .journal(path)
}

/// Every line of the journal, parsed (each must be a whole entry).
fn journal_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "journal ends mid-line"
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

fn keys(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["key"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn hundred_inputs_run_eight_at_a_time_each_with_its_own_value() {
    let (echo, client) = echo_client(3);
    let results: Vec<_> = client
        .extract_many::<UserDetail>(inputs(0..100))
        .concurrency(8)
        .run()
        .unwrap()
        .collect()
        .await;
    assert_eq!(results.len(), 100);
    let by_key: HashMap<_, _> = results.into_iter().collect();
    for i in 0..100 {
        assert_eq!(by_key[&format!("k{i}")].as_ref().unwrap(), &user(i));
    }
    assert_eq!(echo.calls(), 100);
    assert_eq!(echo.max_in_flight.load(Ordering::SeqCst), 8);
}

#[tokio::test]
async fn ordered_mode_yields_input_order_even_when_later_inputs_finish_first() {
    let echo = Arc::new(JsonMode(Echo {
        pause_ms: 1,
        reverse: true,
        ..Echo::default()
    }));
    let client = client(&echo);
    let order = |ordered: bool| {
        let client = client.clone();
        async move {
            client
                .extract_many::<UserDetail>(inputs(0..30))
                .concurrency(6)
                .ordered(ordered)
                .run()
                .unwrap()
                .map(|(key, r)| {
                    r.unwrap();
                    key
                })
                .collect::<Vec<_>>()
                .await
        }
    };
    let expected: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    assert_eq!(order(true).await, expected);
    assert_ne!(order(false).await, expected, "completion order differs");
    assert!(echo.max_in_flight.load(Ordering::SeqCst) <= 6);
}

#[tokio::test]
async fn a_failing_item_yields_its_typed_error_and_totals_count_it() {
    let (echo, client) = echo_client(0);
    let mut all = inputs(0..10);
    all.push(("bad-age".into(), "n=200".into()));
    all.push(("bad-http".into(), "http".into()));
    let mut results = client
        .extract_many::<UserDetail>(all)
        .with(|call| call.system("Extract the user.").max_retries(1))
        .run()
        .unwrap();
    let mut by_key = HashMap::new();
    while let Some((key, result)) = results.next().await {
        by_key.insert(key, result);
    }
    assert_eq!(by_key.len(), 12);
    for i in 0..10 {
        assert_eq!(by_key[&format!("k{i}")].as_ref().unwrap(), &user(i));
    }
    assert!(matches!(
        by_key["bad-age"],
        Err(Error::RetriesExhausted { ref attempts, .. }) if attempts.len() == 2
    ));
    assert!(matches!(
        by_key["bad-http"],
        Err(Error::Http { status: 400, .. })
    ));
    let totals = results.totals();
    assert_eq!(
        (totals.succeeded, totals.failed, totals.skipped),
        (10, 2, 0)
    );
    assert_eq!(totals.failures.get("RetriesExhausted"), Some(&1));
    assert_eq!(totals.failures.get("Http"), Some(&1));
    // Ten answers, two attempts at the bad age; the HTTP failure used no tokens.
    assert_eq!(totals.usage.total_tokens, 12 * 15);
    assert_eq!(totals.usage.requests, 12);
    assert_eq!(echo.calls(), 13);
}

#[tokio::test]
async fn progress_is_reported_as_each_item_finishes() {
    let (_, client) = echo_client(1);
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let log = seen.clone();
    let totals = client
        .extract_many::<UserDetail>(inputs(0..25))
        .concurrency(5)
        .on_progress(move |p| log.lock().unwrap().push(p.clone()))
        .run()
        .unwrap()
        .drain()
        .await;
    let seen = seen.lock().unwrap();
    let done: Vec<u64> = seen.iter().map(|p| p.done).collect();
    assert_eq!(done, (1..=25).collect::<Vec<_>>());
    assert!(seen.iter().all(|p| p.total == Some(25) && p.in_flight <= 5));
    let last = seen.last().unwrap();
    assert_eq!(last.remaining(), Some(0));
    assert_eq!(last.eta(), Some(Duration::ZERO));
    assert_eq!(last.usage.total_tokens, 25 * 15);
    assert!(seen[10].eta().is_some() && seen[10].rate() > 0.0);
    assert_eq!(totals.succeeded, 25);
}

#[tokio::test]
async fn a_journal_records_every_item_and_a_rerun_skips_them_all() {
    let path = temp_journal("rerun");
    let (echo, client) = echo_client(0);
    let mut all = inputs(0..49);
    all.push(("bad".into(), "http".into()));
    let totals = client
        .extract_many::<UserDetail>(all.clone())
        .concurrency(8)
        .journal(&path)
        .run()
        .unwrap()
        .drain()
        .await;
    assert_eq!((totals.succeeded, totals.failed), (49, 1));
    let lines = journal_lines(&path);
    assert_eq!(lines.len(), 50);
    let k7 = lines.iter().find(|l| l["key"] == "k7").unwrap();
    assert_eq!(k7["ok"], serde_json::json!({"name": "u7", "age": 7}));
    assert_eq!(k7["error"], Value::Null);
    assert_eq!(k7["attempts"], 1);
    assert_eq!(k7["usage"]["total_tokens"], 15);
    let bad = lines.iter().find(|l| l["key"] == "bad").unwrap();
    assert_eq!(bad["ok"], Value::Null);
    assert_eq!(bad["error"]["kind"], "Http");
    assert!(bad["error"]["message"].as_str().unwrap().contains("400"));

    // Again: everything is in the journal, failures included.
    let mut again = client
        .extract_many::<UserDetail>(all.clone())
        .journal(&path)
        .run()
        .unwrap();
    assert!(again.next().await.is_none());
    assert_eq!(again.totals().skipped, 50);
    assert_eq!(echo.calls(), 50);

    // With `retry_failed`, only the failure runs again (and fails again).
    let totals = client
        .extract_many::<UserDetail>(all)
        .journal(&path)
        .retry_failed(true)
        .run()
        .unwrap()
        .drain()
        .await;
    assert_eq!((totals.skipped, totals.failed), (49, 1));
    assert_eq!(echo.calls(), 51);
    assert_eq!(journal_lines(&path).len(), 51);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_torn_last_line_is_ignored_and_its_item_runs_again() {
    let path = temp_journal("torn");
    let (echo, client) = echo_client(0);
    let run = |n| journaled(&client, 0..n, &path).run().unwrap().drain();
    run(6).await;
    // Cut the last line in half, as a kill mid-write would.
    let text = std::fs::read_to_string(&path).unwrap();
    let last_start = text.trim_end().rfind('\n').unwrap() + 1;
    let torn_key = keys(&journal_lines(&path))[5].clone();
    let cut = last_start + (text.len() - last_start) / 2;
    std::fs::write(&path, &text[..cut]).unwrap();

    let totals = run(6).await;
    assert_eq!((totals.skipped, totals.succeeded), (5, 1));
    assert_eq!(echo.calls(), 7);
    let lines = journal_lines(&path);
    assert_eq!(lines.len(), 6);
    assert_eq!(keys(&lines)[5], torn_key);
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_run_stopped_early_resumes_where_it_left_off() {
    let path = temp_journal("partial");
    let (_, client) = echo_client(2);
    let start = || {
        journaled(&client, 0..40, &path)
            .concurrency(4)
            .run()
            .unwrap()
    };
    let mut results = start();
    for _ in 0..10 {
        results.next().await.unwrap().1.unwrap();
    }
    drop(results);
    let first = journal_lines(&path).len();
    assert_eq!(
        first, 10,
        "each yielded item is journaled, nothing else finished"
    );

    let mut rest = Vec::new();
    let mut results = start();
    while let Some((key, r)) = results.next().await {
        r.unwrap();
        rest.push(key);
    }
    assert_eq!(rest.len(), 30);
    assert_eq!(results.totals().skipped, 10);
    let all = keys(&journal_lines(&path));
    assert_eq!(all.len(), 40);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 40);
    let _ = std::fs::remove_file(&path);
}

const CHILD_ENV: &str = "INSTRUCTOR_BULK_CHILD_JOURNAL";

/// Run by `a_killed_process_loses_only_what_was_in_flight` in a child process: a slow run
/// of 200 inputs, journaled, that the parent kills part way.
#[tokio::test]
async fn bulk_child_writer() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let echo = Echo::new(10);
    client(&echo)
        .extract_many::<UserDetail>(inputs(0..200))
        .concurrency(4)
        .journal(path)
        .run()
        .unwrap()
        .drain()
        .await;
}

#[tokio::test]
async fn a_killed_process_loses_only_what_was_in_flight() {
    let path = temp_journal("killed");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "bulk_child_writer", "--nocapture"])
        .env(CHILD_ENV, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&path)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 20 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the child wrote nothing"
        );
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();

    let before = std::fs::read_to_string(&path).unwrap();
    let whole = before.matches('\n').count();
    assert!((20..200).contains(&whole), "{whole} lines");

    let echo = Echo::new(0);
    let totals = journaled(&client(&echo), 0..200, &path)
        .concurrency(16)
        .run()
        .unwrap()
        .drain()
        .await;
    assert_eq!(totals.skipped as usize, whole);
    assert_eq!(echo.calls(), 200 - whole);
    let lines = journal_lines(&path);
    let all = keys(&lines);
    assert_eq!(all.len(), 200);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 200);
    for line in &lines {
        let n: u32 = line["key"].as_str().unwrap()[1..].parse().unwrap();
        assert_eq!(line["ok"]["age"], n % 100);
    }
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn inputs_may_be_a_stream_and_are_read_only_as_slots_free() {
    let (_, client) = echo_client(1);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let source = futures::stream::iter(0..1_000_000u32).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        (format!("k{i}"), format!("n={}", i % 100))
    });
    let mut results = client
        .extract_many_stream::<UserDetail>(source)
        .concurrency(4)
        .run()
        .unwrap();
    for _ in 0..20 {
        results.next().await.unwrap().1.unwrap();
    }
    // A million inputs, but only those started were read.
    assert!(pulled.load(Ordering::SeqCst) <= 20 + 4);
    assert_eq!(results.progress().total, Some(1_000_000));
}

/// Like [`Echo`], answering at once, but every third call among the first `refusing` is a
/// 429 asking for `retry_after` (each input refused at most once, so none runs out of
/// retries). Records when each input was first sent and when each refusal was given.
#[derive(Debug)]
struct Throttled {
    refusing: usize,
    retry_after: Duration,
    calls: AtomicUsize,
    log: Mutex<ThrottleLog>,
}

#[derive(Debug, Default)]
struct ThrottleLog {
    refused: HashSet<String>,
    refusals: Vec<std::time::Instant>,
    first_sent: HashMap<String, std::time::Instant>,
}

#[async_trait]
impl Answer for Throttled {
    const NAME: &'static str = "throttled";

    async fn answer(&self, request: &Request) -> Result<Response, Error> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let text = user_text(request);
        let now = std::time::Instant::now();
        {
            let mut log = self.log.lock().unwrap();
            log.first_sent.entry(text.clone()).or_insert(now);
            if call < self.refusing && call % 3 == 2 && log.refused.insert(text.clone()) {
                log.refusals.push(now);
                return Err(Error::RateLimited {
                    retry_after: Some(self.retry_after),
                    body: "slow down".into(),
                });
            }
        }
        Ok(user_answer(number(&text)))
    }
}

#[tokio::test]
async fn push_back_lowers_the_limit_for_every_worker_and_it_recovers() {
    let throttled = Arc::new(JsonMode(Throttled {
        refusing: 30,
        retry_after: Duration::from_millis(50),
        calls: AtomicUsize::new(0),
        log: Mutex::default(),
    }));
    let client = Client::from_shared(throttled.clone());
    let limits = Arc::new(Mutex::new(Vec::new()));
    let seen = limits.clone();
    // Inputs `n=0..n=99` are distinct texts, so "first sent" is per input.
    let all: Vec<(String, String)> = (0..100)
        .map(|i| (format!("k{i}"), format!("n={i}")))
        .collect();
    let mut results = client
        .extract_many::<UserDetail>(all)
        .concurrency(8)
        .on_progress(move |p: &Progress| seen.lock().unwrap().push(p.limit))
        .run()
        .unwrap();
    assert_eq!(results.progress().limit, 8);
    let mut got = HashMap::new();
    while let Some((key, result)) = results.next().await {
        assert!(
            got.insert(key, result.unwrap()).is_none(),
            "a key came twice"
        );
    }
    // Nothing lost: every key once, each with its own value.
    assert_eq!(got.len(), 100);
    for i in 0..100 {
        assert_eq!(got[&format!("k{i}")], user(i));
    }
    let totals = results.totals();
    assert_eq!((totals.succeeded, totals.failed), (100, 0));
    let log = throttled.log.lock().unwrap();
    assert_eq!(log.refusals.len(), 10);
    // The limit fell, then grew back once the refusals stopped.
    let limits = limits.lock().unwrap();
    let lowest = *limits.iter().min().unwrap();
    assert!(lowest < 8, "the limit never fell: {limits:?}");
    let at = limits.iter().position(|l| *l == lowest).unwrap();
    assert!(
        limits[at..].iter().any(|l| *l > lowest),
        "never recovered: {limits:?}"
    );
    assert_eq!(*limits.last().unwrap(), 8, "{limits:?}");
    // Every worker waited out the Retry-After: no input was first sent within it.
    for refused in &log.refusals {
        for (text, sent) in &log.first_sent {
            let after = sent.saturating_duration_since(*refused);
            assert!(
                *sent <= *refused || after >= Duration::from_millis(45),
                "{text} started {after:?} after a 429"
            );
        }
    }
}
