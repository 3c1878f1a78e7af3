//! Bulk extraction's client cost against a loop of single calls, with an in-process provider
//! answering at once: thread CPU per item (the run is on one thread, so this is all the
//! client's work), peak heap at 10,000 and 100,000 items (it should not grow with N), and a
//! run where every third request is refused with a 429 (it should settle, and lose nothing).
//!
//! `cargo bench --bench bulk` (without `--bench`, as `cargo test --all-targets` runs it, N is
//! 1,000 only).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
// The counting allocator and the CPU clock (support/measure.rs) call the system; measuring
// is the only reason for unsafe code in the project.
#![allow(unsafe_code)]

#[path = "support/measure.rs"]
mod measure;
use measure::cpu_ms;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use instructor::{
    async_trait, Capabilities, Client, Error, Instruct, Mode, Provider, Request, Response,
    RetryPolicy, Usage,
};
use serde::Deserialize;

#[derive(Instruct, Deserialize, Debug)]
#[allow(dead_code)]
struct UserDetail {
    name: String,
    age: u8,
}

/// Answers every request at once with the same JSON; with `refuse_every = 3`, every third
/// call is a 429 asking for `retry_after`.
#[derive(Debug)]
struct Mock {
    refuse_every: usize,
    retry_after: Duration,
    calls: AtomicUsize,
    refused: AtomicUsize,
}

impl Mock {
    fn new(refuse_every: usize) -> Arc<Self> {
        Arc::new(Self {
            refuse_every,
            retry_after: Duration::from_millis(1),
            calls: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        })
    }
}

#[async_trait]
impl Provider for Mock {
    fn name(&self) -> &str {
        "mock"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[Mode::Json])
    }
    async fn send(&self, _: &Request) -> Result<Response, Error> {
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        if self.refuse_every > 0 && call % self.refuse_every == self.refuse_every - 1 {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(Error::RateLimited {
                retry_after: Some(self.retry_after),
                body: "slow down".into(),
            });
        }
        Ok(Response::text(r#"{"name": "Jason", "age": 30}"#).with_usage(Usage::new(10, 5)))
    }
}

fn inputs(n: usize) -> impl Iterator<Item = (String, String)> {
    (0..n).map(|i| (format!("k{i}"), format!("Jason is 30. ({i})")))
}

/// A loop of single calls; the items that succeeded.
async fn singles(client: &Client, n: usize) -> usize {
    let mut ok = 0;
    for (_, text) in inputs(n) {
        ok += usize::from(
            client
                .create::<UserDetail>()
                .user(text)
                .send()
                .await
                .is_ok(),
        );
    }
    ok
}

/// One bulk run; the items that succeeded.
async fn bulk(client: &Client, n: usize, concurrency: usize) -> usize {
    let mut results = client
        .extract_many::<UserDetail>(inputs(n))
        .concurrency(concurrency)
        .run()
        .unwrap();
    let mut ok = 0;
    while let Some((_, r)) = results.next().await {
        ok += usize::from(r.is_ok());
    }
    ok
}

/// µs of CPU per item of one run.
async fn cpu_per_item(n: usize, run: impl std::future::Future<Output = usize>) -> f64 {
    let start = cpu_ms();
    assert_eq!(run.await, n);
    (cpu_ms() - start) * 1e3 / n as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Peak heap above the start, in KB, while `run` runs.
async fn peak_kb<F: std::future::Future<Output = usize>>(run: F) -> f64 {
    measure::peak_bytes(run).await.1 as f64 / 1024.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full { &[10_000, 100_000] } else { &[1_000] };
    let rounds = if full { 7 } else { 1 };
    let mock = Mock::new(0);
    let client = Client::from_shared(mock.clone());

    println!(
        "\nBulk against single calls, in-process provider answering at once; µs = thread CPU \
         per item (median of {rounds} paired rounds; ratio = median of the rounds' ratios), \
         KB = peak heap above the start"
    );
    println!(
        "{:>8} {:>5} {:>10} {:>10} {:>7} {:>10} {:>10}",
        "N", "conc", "bulk µs", "single µs", "ratio", "bulk KB", "single KB"
    );
    for &n in sizes {
        // Warm up, then the baseline once per N.
        singles(&client, n.min(1000)).await;
        let (mut single, mut per, mut ratio) = (Vec::new(), [vec![], vec![]], [vec![], vec![]]);
        for _ in 0..rounds {
            let base = cpu_per_item(n, singles(&client, n)).await;
            single.push(base);
            for (i, conc) in [64, 256].into_iter().enumerate() {
                let each = cpu_per_item(n, bulk(&client, n, conc)).await;
                per[i].push(each);
                ratio[i].push(each / base);
            }
        }
        let single_kb = peak_kb(singles(&client, n)).await;
        let single = median(single);
        for (i, conc) in [64, 256].into_iter().enumerate() {
            let kb = peak_kb(bulk(&client, n, conc)).await;
            println!(
                "{n:>8} {conc:>5} {:>10.2} {single:>10.2} {:>6.2}x {kb:>10.1} {single_kb:>10.1}",
                median(per[i].clone()),
                median(ratio[i].clone())
            );
        }
    }

    // Every third request refused with a 429 asking for 1 ms.
    let n = if full { 10_000 } else { 1_000 };
    let throttled = Mock::new(3);
    let client = Client::from_shared(throttled.clone()).transport_retries(RetryPolicy {
        max_retries: 20,
        ..RetryPolicy::default()
    });
    let done_at = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let (limits, lowest) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(64)),
    );
    let (seen, low) = (done_at.clone(), lowest.clone());
    let (sum, start) = (limits.clone(), Instant::now());
    let totals = client
        .extract_many::<UserDetail>(inputs(n))
        .concurrency(64)
        .on_progress(move |p| {
            seen.lock().unwrap().push(start.elapsed());
            sum.fetch_add(p.limit, Ordering::Relaxed);
            low.fetch_min(p.limit, Ordering::Relaxed);
        })
        .run()
        .unwrap()
        .drain()
        .await;
    let wall = start.elapsed().as_secs_f64();
    let done_at = done_at.lock().unwrap();
    let rate = |from: usize, to: usize| {
        let secs = (done_at[to - 1] - done_at[from]).as_secs_f64();
        (to - from - 1) as f64 / secs.max(1e-9)
    };
    let quarter = n / 4;
    println!(
        "\n429 (Retry-After 1 ms) to every third request, N = {n}, concurrency 64: {} requests, \
         {} refused",
        throttled.calls.load(Ordering::Relaxed),
        throttled.refused.load(Ordering::Relaxed)
    );
    println!(
        "{:>10} {:>10} {:>12} {:>12} {:>12} {:>10} {:>10}",
        "succeeded", "failed", "items/s", "1st qtr/s", "last qtr/s", "mean limit", "lowest"
    );
    println!(
        "{:>10} {:>10} {:>12.0} {:>12.0} {:>12.0} {:>10.1} {:>10}",
        totals.succeeded,
        totals.failed,
        n as f64 / wall,
        rate(0, quarter),
        rate(n - quarter, n),
        limits.load(Ordering::Relaxed) as f64 / n as f64,
        lowest.load(Ordering::Relaxed)
    );
    assert_eq!((totals.succeeded, totals.failed), (n as u64, 0));
}
