//! Hostile inputs that were quadratic once, each at size n and 4n: a linear cost grows about
//! 4× (the table's last column; at most about 5× passes). Prints a table; asserts nothing
//! about time.
//!
//! `cargo bench --bench hostile`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use instructor::json::{locate, repair, JsonStream};

/// The median time of `runs` calls of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn row(name: &str, n: usize, make: impl Fn(usize) -> String, run: impl Fn(&str)) {
    let small = make(n);
    let large = make(4 * n);
    let a = median(5, || run(black_box(&small)));
    let b = median(5, || run(black_box(&large)));
    let ratio = b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    println!(
        "| {name:<44} | {:>8} KB | {:>9.2} ms | {:>9.2} ms | {ratio:>5.1}× {} |",
        small.len() / 1024,
        a.as_secs_f64() * 1e3,
        b.as_secs_f64() * 1e3,
        if ratio <= 5.0 {
            "linear"
        } else {
            "SUPERLINEAR"
        }
    );
}

fn main() {
    println!("| input | size n | time at n | time at 4n | 4n / n |");
    println!("|---|---|---|---|---|");
    row(
        "repair: whitespace then stray closers",
        100_000,
        |n| format!("{}{}", " ".repeat(n), "}".repeat(n)),
        |t| {
            black_box(repair(t));
        },
    );
    row(
        "repair: truncated answer, trailing commas",
        100_000,
        |n| format!("{{\"a\": [{}", "1,   ".repeat(n / 5)),
        |t| {
            black_box(repair(t));
        },
    );
    row(
        "locate: repeated `<think>{`",
        100_000,
        |n| "<think>{".repeat(n / 8),
        |t| {
            black_box(locate(t));
        },
    );
    row(
        "stream parser: long key, many values",
        100_000,
        |n| format!("{{\"{}\": [{}0]}}", "k".repeat(n), "0,".repeat(n / 2)),
        |t| {
            let mut p = JsonStream::new(Default::default());
            for chunk in t.as_bytes().chunks(16) {
                p.feed(chunk, &mut |_, v, _| *v = serde_json::Value::Null)
                    .unwrap();
            }
            black_box(p.is_complete());
        },
    );
}
