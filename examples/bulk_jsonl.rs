//! Bulk extraction from a JSONL file: each line `{"id": ..., "text": "..."}` (the id a
//! string or a number) becomes a typed `Ticket`, extracted through an OpenAI-compatible
//! server, with a journal to resume from, a progress bar and the totals at the end.
//!
//! The file is read as a stream, a line at a time as slots free up, so its size does not
//! matter. Each finished item is appended to the journal (the answer's JSON or the typed
//! error, usage, attempts); run the same command again and the ids already in the journal
//! are skipped.
//!
//! Start a server, for instance llama.cpp's `llama-server -m model.gguf --port 8080`, or
//! `python3 -m llama_cpp.server --model model.gguf` (then set `BULK_SERVER=llama-cpp-python`
//! and `BULK_BASE_URL=http://127.0.0.1:8000/v1`). Environment:
//!
//! - `BULK_BASE_URL`: the server's base URL (default `http://127.0.0.1:8080/v1`, a local
//!   `llama-server`).
//! - `BULK_SERVER`: `llama-server` (default), `llama-cpp-python`, or `compatible` for any
//!   other OpenAI-compatible server (vLLM, Ollama's `/v1`, a hosted one with
//!   `OPENAI_API_KEY`).
//! - `BULK_MODEL`: the model name to send, if the server wants one.
//! - `BULK_TOKENS_PER_MINUTE`: a tokens-per-minute budget, if the server has a quota.
//!
//! ```text
//! cargo run --example bulk_jsonl --features progress-bar -- [input.jsonl] [journal.jsonl]
//! ```
//!
//! The input defaults to `examples/data/tickets.jsonl`, the journal to
//! `bulk_jsonl.journal.jsonl` in the system's temporary directory.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use futures::{Stream, StreamExt};
use instructor::bulk::{ProgressBar, Totals};
use instructor::providers::OpenAi;
use instructor::{Client, Instruct, Mode};
use serde::Deserialize;
use tokio::io::AsyncBufReadExt;

/// What a support ticket is about.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Charges, invoices, refunds, plans.
    Billing,
    /// Deliveries, parcels, damaged goods.
    Shipping,
    /// Something in the product does not work.
    Bug,
    /// Logging in, passwords, access.
    Account,
    /// A question, not a problem.
    Question,
    /// Anything else.
    Other,
}

/// A support ticket, read from a customer's message.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
pub struct Ticket {
    /// The customer's name, if the message gives it.
    pub customer: Option<String>,
    /// What the ticket is about.
    pub category: Category,
    /// How urgent: 1 (whenever) to 5 (right now).
    #[instruct(range(min = 1, max = 5))]
    pub urgency: u8,
    /// What the customer wants, in one sentence.
    pub summary: String,
}

/// One input line.
#[derive(Deserialize)]
struct Line {
    id: serde_json::Value,
    text: String,
}

/// The line's id as a key: a string as it is, anything else as its JSON.
fn key(id: serde_json::Value) -> String {
    match id {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The `(id, text)` pairs of a JSONL file, read lazily. A line that is not an
/// `{"id", "text"}` object is reported on standard error and skipped; blank lines too.
pub async fn read_inputs(
    path: &Path,
) -> std::io::Result<impl Stream<Item = (String, String)> + Send + 'static> {
    let file = tokio::fs::File::open(path).await?;
    let lines = tokio::io::BufReader::new(file).lines();
    Ok(futures::stream::unfold(
        (lines, 0usize),
        |(mut lines, mut number)| async move {
            loop {
                number += 1;
                match lines.next_line().await {
                    Ok(Some(line)) if line.trim().is_empty() => continue,
                    Ok(Some(line)) => match serde_json::from_str::<Line>(&line) {
                        Ok(line) => return Some(((key(line.id), line.text), (lines, number))),
                        Err(e) => eprintln!("line {number} skipped: {e}"),
                    },
                    Ok(None) => return None,
                    Err(e) => {
                        eprintln!("stopped reading at line {number}: {e}");
                        return None;
                    }
                }
            }
        },
    ))
}

/// How many non-blank lines the file has (for the progress bar's total), read once
/// without keeping them.
pub fn count_lines(path: &Path) -> std::io::Result<u64> {
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut count = 0;
    for line in reader.split(b'\n') {
        if !line?.trim_ascii().is_empty() {
            count += 1;
        }
    }
    Ok(count)
}

/// A client for the server at `base_url`: `kind` is `llama-server`, `llama-cpp-python` or
/// `compatible`.
pub fn client(base_url: &str, kind: &str, model: Option<&str>) -> Client {
    let provider = match kind {
        "llama-cpp-python" => OpenAi::llama_cpp_python(base_url),
        "compatible" => OpenAi::compatible(base_url),
        _ => OpenAi::llama_cpp_server(base_url),
    };
    let client = Client::new(provider).mode(Mode::JsonSchema);
    match model {
        Some(model) => client.model(model),
        None => client,
    }
}

/// Extracts a `Ticket` from every line of `input`, journaled to `journal`, shown on `bar`
/// (failures are printed above it); the totals.
pub async fn run(
    client: &Client,
    input: &Path,
    journal: &Path,
    tokens_per_minute: Option<u64>,
    bar: ProgressBar,
) -> Result<Totals, Box<dyn std::error::Error>> {
    let total = count_lines(input)?;
    let inputs = read_inputs(input).await?;
    let mut bulk = client
        .extract_many_stream::<Ticket>(inputs)
        .total(total)
        .concurrency(8)
        .journal(journal)
        .with(|call| {
            call.system("Read the customer's support message and fill in the ticket.")
                .max_tokens(256)
                .max_retries(1)
        })
        .progress_bar_with(bar.clone());
    if let Some(n) = tokens_per_minute {
        bulk = bulk.tokens_per_minute(n);
    }
    let mut results = bulk.run()?;
    while let Some((id, result)) = results.next().await {
        if let Err(e) = result {
            bar.indicatif().println(format!("{id}: {e}"));
        }
    }
    Ok(results.totals())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let input = args.next().map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/tickets.jsonl"),
        PathBuf::from,
    );
    let journal = args.next().map_or_else(
        || std::env::temp_dir().join("bulk_jsonl.journal.jsonl"),
        PathBuf::from,
    );
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let url = var("BULK_BASE_URL").unwrap_or_else(|| "http://127.0.0.1:8080/v1".into());
    let kind = var("BULK_SERVER").unwrap_or_else(|| "llama-server".into());
    let client = client(&url, &kind, var("BULK_MODEL").as_deref());
    let tokens_per_minute = var("BULK_TOKENS_PER_MINUTE").and_then(|n| n.parse().ok());
    eprintln!(
        "{} -> {} via {url} (journal: {})",
        input.display(),
        std::any::type_name::<Ticket>(),
        journal.display()
    );
    match run(
        &client,
        &input,
        &journal,
        tokens_per_minute,
        ProgressBar::new(None),
    )
    .await
    {
        Ok(totals) => {
            println!(
                "{} succeeded, {} failed, {} skipped (already in the journal), {} tokens in {:.1}s",
                totals.succeeded,
                totals.failed,
                totals.skipped,
                totals.usage.total_tokens,
                totals.elapsed.as_secs_f64()
            );
            for (kind, n) in &totals.failures {
                println!("  {kind}: {n}");
            }
        }
        Err(e) => eprintln!("bulk_jsonl failed: {e}\n(is the server running at {url}?)"),
    }
}
