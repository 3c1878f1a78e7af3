//! Streaming cost against answer size: a list of N users (nested address and tags, about
//! 150 bytes each) streamed in 16-byte chunks through `create_partial` and
//! `create_iterable`, against a baseline that only concatenates the deltas and parses once
//! at the end. Prints CPU time and peak heap per N; cost must grow linearly with N.
//!
//! `cargo bench --bench stream`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
// The counting allocator below forwards to the system allocator; measuring peak heap is
// the only reason for unsafe code in the project.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use instructor::stream::Update;
use instructor::{
    async_trait, Capabilities, Client, Error, EventStream, Instruct, Mode, Provider, Request,
    Response, StreamEvent,
};
use serde::Deserialize;

/// Counts live and peak heap bytes.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        let now = LIVE.fetch_add(l.size(), Ordering::Relaxed) + l.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[derive(Instruct, Deserialize, Debug)]
#[allow(dead_code)]
struct Address {
    street: String,
    city: String,
}

#[derive(Instruct, Deserialize, Debug)]
#[allow(dead_code)]
struct User {
    name: String,
    age: u8,
    address: Address,
    tags: Vec<String>,
}

/// Streams a fixed answer in fixed chunks.
#[derive(Debug)]
struct Chunks(Arc<Vec<String>>);

#[async_trait]
impl Provider for Chunks {
    fn name(&self) -> &str {
        "chunks"
    }
    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::new(&[Mode::Json]);
        c.streaming = true;
        c
    }
    async fn send(&self, _: &Request) -> Result<Response, Error> {
        Ok(Response::text(self.0.concat()))
    }
    async fn stream(&self, _: &Request) -> Result<EventStream, Error> {
        let chunks = self.0.clone();
        Ok(Box::pin(futures::stream::iter((0..chunks.len()).map(
            move |i| Ok(StreamEvent::TextDelta(chunks[i].clone())),
        ))))
    }
}

fn answer(n: usize) -> String {
    let users: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"name": "User Number {i}", "age": {}, "address": {{"street": "{i} Long Street Name", "city": "Springfield"}}, "tags": ["alpha", "beta", "gamma"]}}"#,
                i % 100
            )
        })
        .collect();
    format!(r#"{{"items": [{}]}}"#, users.join(", "))
}

fn chunks(text: &str, size: usize) -> Vec<String> {
    text.as_bytes()
        .chunks(size)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect()
}

struct Measure {
    ms: f64,
    peak_kb: usize,
}

async fn measure<F, Fut>(f: F) -> Measure
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut best = f64::MAX;
    let mut peak = 0;
    for _ in 0..3 {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let start = Instant::now();
        std::hint::black_box(f().await);
        best = best.min(start.elapsed().as_secs_f64() * 1000.0);
        peak = peak.max(PEAK.load(Ordering::Relaxed) - base);
    }
    Measure {
        ms: best,
        peak_kb: peak / 1024,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!(
        "\nstreaming a list of N users in 16-byte chunks (best of 3; peak = heap above the start)"
    );
    println!(
        "{:>6} {:>9} | {:>10} {:>9} | {:>10} {:>9} {:>7} | {:>10} {:>9} {:>7}",
        "N", "bytes", "base ms", "base KB", "partial ms", "KB", "x base", "iter ms", "KB", "x base"
    );
    for n in [100, 200, 400, 800, 1600] {
        let text = answer(n);
        let chunks = Arc::new(chunks(&text, 16));
        let client = Client::new(Chunks(chunks.clone()));
        let provider = Chunks(chunks.clone());

        let base = measure(|| async {
            let mut s = provider.stream(&dummy_request()).await.unwrap();
            let mut all = String::new();
            while let Some(Ok(StreamEvent::TextDelta(t))) = s.next().await {
                all.push_str(&t);
            }
            #[derive(Deserialize)]
            struct Wrapped {
                items: Vec<User>,
            }
            serde_json::from_str::<Wrapped>(&all).unwrap().items.len()
        })
        .await;
        let partial = measure(|| async {
            let mut s = client
                .create_partial::<Vec<User>>()
                .user("x")
                .send()
                .await
                .unwrap();
            let mut updates = 0;
            while let Some(u) = s.next().await {
                if let Update::Complete { value, .. } = u.unwrap() {
                    assert_eq!(value.len(), n);
                }
                updates += 1;
            }
            updates
        })
        .await;
        let iter = measure(|| async {
            let s = client
                .create_iterable::<User>()
                .user("x")
                .send()
                .await
                .unwrap();
            s.filter(|r| futures::future::ready(r.is_ok()))
                .count()
                .await
        })
        .await;
        println!(
            "{:>6} {:>9} | {:>10.2} {:>9} | {:>10.2} {:>9} {:>7.1} | {:>10.2} {:>9} {:>7.1}",
            n,
            text.len(),
            base.ms,
            base.peak_kb,
            partial.ms,
            partial.peak_kb,
            partial.ms / base.ms,
            iter.ms,
            iter.peak_kb,
            iter.ms / base.ms
        );
    }
}

fn dummy_request() -> Request {
    Request {
        model: None,
        messages: Vec::new(),
        output: instructor::OutputSpec {
            mode: Mode::Json,
            schema: <Vec<User> as Instruct>::type_schema(),
            tools: &[],
        },
        temperature: None,
        top_p: None,
        max_tokens: None,
        seed: None,
        stop: Vec::new(),
        extra: None,
    }
}
