//! The `bulk_jsonl` example's flow, run as it is (its module is included here) against a
//! mock OpenAI-compatible server: the sample JSONL file is read as a stream, each line's
//! text is sent as its own request, every answer is journaled under its id, and a second
//! run skips them all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../examples/bulk_jsonl.rs"]
mod example;
#[path = "common/journal.rs"]
mod journal;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use example::{Category, Ticket};
use futures::StreamExt;
use instructor::bulk::ProgressBar;
use journal::temp_journal;
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// An OpenAI-compatible chat completions endpoint that reads the ticket off the last user
/// message: a billing ticket if it mentions "charged" or "billed", else a question; the
/// summary is the message's first five words. A message about Iceland gets an HTTP 400.
struct TicketDesk;

impl Respond for TicketDesk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let text = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|m| m["role"] == "user")
            .and_then(|m| m["content"].as_str())
            .unwrap()
            .to_owned();
        if text.contains("Iceland") {
            return ResponseTemplate::new(400).set_body_json(json!({
                "error": {"message": "unsupported destination", "type": "invalid_request_error"}
            }));
        }
        let category = if text.contains("charged") || text.contains("billed") {
            "billing"
        } else {
            "question"
        };
        let ticket = json!({
            "customer": null,
            "category": category,
            "urgency": 3,
            "summary": summary(&text),
        });
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "c", "object": "chat.completion", "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": ticket.to_string()}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 40, "completion_tokens": 20, "total_tokens": 60}
        }))
    }
}

fn summary(text: &str) -> String {
    text.split_whitespace()
        .take(5)
        .collect::<Vec<_>>()
        .join(" ")
}

fn sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/data/tickets.jsonl")
}

/// The sample's lines as `(id, text)`, ids as the example keys them.
fn sample_lines(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let id = match &v["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, v["text"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_example_extracts_every_line_of_the_sample_into_the_journal_and_resumes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(TicketDesk)
        .mount(&server)
        .await;
    let client = example::client(&format!("{}/v1", server.uri()), "llama-server", Some("m"));
    let journal = temp_journal("jsonl");
    let lines = sample_lines(&sample());
    assert_eq!(lines.len(), 12);

    let bar = ProgressBar::hidden();
    let totals = example::run(&client, &sample(), &journal, None, bar.clone())
        .await
        .unwrap();
    assert_eq!(
        (totals.succeeded, totals.failed, totals.skipped),
        (11, 1, 0)
    );
    assert_eq!(totals.failures.get("Http"), Some(&1));
    assert_eq!(totals.usage.total_tokens, 11 * 60);
    assert_eq!(bar.indicatif().length(), Some(12));
    assert_eq!(bar.indicatif().position(), 12);
    assert!(bar.indicatif().is_finished());

    // One request per line, each carrying the example's prompt, limits and schema and the
    // line's text as the user message.
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 12);
    let mut texts = Vec::new();
    for r in &requests {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["model"], "m");
        assert_eq!(body["max_tokens"], 256);
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages[0]["role"], "system");
        assert!(messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("support message"));
        assert!(
            body["response_format"].to_string().contains("urgency"),
            "the schema is sent: {body}"
        );
        texts.push(
            messages.last().unwrap()["content"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    texts.sort();
    let mut expected: Vec<String> = lines.iter().map(|(_, t)| t.clone()).collect();
    expected.sort();
    assert_eq!(texts, expected);

    // The journal: every id once, each answer under its own id, the failure typed.
    let text = std::fs::read_to_string(&journal).unwrap();
    let entries: HashMap<String, Value> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["key"].as_str().unwrap().to_owned(), v)
        })
        .collect();
    assert_eq!(text.lines().count(), 12);
    assert_eq!(entries.len(), 12);
    for (id, line_text) in &lines {
        let entry = &entries[id];
        if line_text.contains("Iceland") {
            assert_eq!(entry["ok"], Value::Null);
            assert_eq!(entry["error"]["kind"], "Http");
            continue;
        }
        let ticket: Ticket = serde_json::from_value(entry["ok"].clone()).unwrap();
        assert_eq!(ticket.summary, summary(line_text), "{id}");
        assert_eq!(entry["usage"]["total_tokens"], 60);
    }
    let t001: Ticket = serde_json::from_value(entries["t-001"]["ok"].clone()).unwrap();
    assert_eq!(t001.category, Category::Billing);
    assert!(
        entries.contains_key("11"),
        "numeric ids are keyed as written"
    );

    // Again with the same journal: everything is skipped, nothing is sent.
    let bar = ProgressBar::hidden();
    let again = example::run(&client, &sample(), &journal, None, bar)
        .await
        .unwrap();
    assert_eq!((again.succeeded, again.failed, again.skipped), (0, 0, 12));
    assert_eq!(server.received_requests().await.unwrap().len(), 12);
    let _ = std::fs::remove_file(&journal);
}

#[tokio::test]
async fn bad_and_blank_lines_are_skipped_as_the_file_streams() {
    let path = temp_journal("jsonl");
    std::fs::write(
        &path,
        "{\"id\": \"a\", \"text\": \"one\"}\n\nnot json\n{\"id\": 2, \"text\": \"two\"}\n{\"text\": \"no id\"}\n",
    )
    .unwrap();
    let read: Vec<(String, String)> = example::read_inputs(&path).await.unwrap().collect().await;
    assert_eq!(
        read,
        [("a".into(), "one".into()), ("2".into(), "two".into())]
    );
    assert_eq!(example::count_lines(&path).unwrap(), 4);
    let _ = std::fs::remove_file(&path);
}
