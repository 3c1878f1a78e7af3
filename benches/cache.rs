//! What a cache hit costs per call, for each backend, beside planning the request alone
//! (the floor: a hit plans it too, then hashes the key, reads, and parses and validates the
//! stored answer). Prints a table; asserts nothing about time.
//!
//! `cargo bench --bench cache` (memory). `--features disk-cache` adds the SQLite file;
//! `--features redis-cache` with `REDIS_URL` set adds Redis.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::future::Future;
use std::time::Instant;

use instructor::cache::{Cache, MemoryCache};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Instruct};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
struct UserDetail {
    /// First name as written.
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
}

const TEXT: &str = "Jason is 30 years old and lives in Paris with his two cats.";
const ANSWER: &str = r#"{"name": "Jason", "age": 30}"#;

/// Median µs per call over `rounds` rounds of `calls` calls.
async fn per_call<F: Future<Output = ()>>(
    rounds: usize,
    calls: usize,
    mut f: impl FnMut() -> F,
) -> f64 {
    let mut per = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..calls {
            f().await;
        }
        per.push(start.elapsed().as_secs_f64() * 1e6 / calls as f64);
    }
    per.sort_by(f64::total_cmp);
    per[rounds / 2]
}

/// Makes the benchmarked call; whether its answer came from the cache.
async fn call(client: &Client) -> bool {
    let (_, c) = client
        .create::<UserDetail>()
        .user(TEXT)
        .send_with_completion()
        .await
        .unwrap();
    c.cached
}

/// A client whose cache already holds the answer to the benchmarked call.
async fn warmed(store: impl Cache) -> Client {
    let client = Client::new(ScriptedProvider::new().with_text(ANSWER)).cache(store);
    // The first call stores the answer (in a task of its own); the second waits for the
    // store, then hits.
    for cached in [false, true] {
        assert_eq!(call(&client).await, cached);
    }
    client
}

async fn hit_row(name: &str, client: &Client, floor: f64) {
    let us = per_call(11, 2000, || async {
        assert!(call(client).await);
    })
    .await;
    println!("| {name:<28} | {us:>9.2} | {:>+9.2} |", us - floor);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let plain = Client::new(ScriptedProvider::new());
    let floor = per_call(11, 2000, || async {
        let prepared = plain.create::<UserDetail>().user(TEXT).prepare().unwrap();
        std::hint::black_box(prepared);
    })
    .await;
    println!("\nA cache hit per call (µs, median of 11 rounds of 2000 calls), beside planning the request alone:");
    println!(
        "| {:<28} | {:>9} | {:>9} |",
        "backend", "µs/call", "+ floor"
    );
    println!("|{:-<30}|{:-<11}|{:-<11}|", "", "", "");
    println!(
        "| {:<28} | {floor:>9.2} | {:>9} |",
        "plan the request (floor)", ""
    );

    let memory = warmed(MemoryCache::new(10_000, 64 << 20)).await;
    hit_row("memory (moka)", &memory, floor).await;

    #[cfg(feature = "disk-cache")]
    {
        let path =
            std::env::temp_dir().join(format!("instructor-bench-{}.sqlite", std::process::id()));
        let disk = warmed(instructor::cache::DiskCache::open(&path).unwrap()).await;
        hit_row("disk (SQLite, WAL)", &disk, floor).await;
        drop(disk);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

    #[cfg(feature = "redis-cache")]
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let store = instructor::cache::RedisCache::connect(&url)
                .await
                .unwrap()
                .prefix(format!("instructor-bench-{}:", std::process::id()));
            let redis = warmed(store).await;
            hit_row("redis (loopback)", &redis, floor).await;
        }
        Err(_) => println!(
            "| {:<28} | {:>9} | {:>9} |",
            "redis: REDIS_URL unset", "-", "-"
        ),
    }
}
