//! OpenAI Batch through a local mock server, with the wire format OpenAI documents (API
//! reference: "Files" — `POST /files` multipart with `purpose=batch`, `GET
//! /files/{id}/content`; "Batch" — `POST /batches`, `GET /batches/{id}`, `POST
//! /batches/{id}/cancel`, the batch object's `status` and `request_counts`, and the output
//! and error files' lines `{"id", "custom_id", "response": {"status_code", "request_id",
//! "body"}, "error": {"code", "message"}}`). The request lines must carry exactly the
//! body an online call sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::batch::{json, jsonl, online_body, received, serve, Route, INPUTS};
use common::{jason, UserDetail};
use futures::StreamExt;
use instructor::batch::{BatchJob, BatchOutcome, BatchState, Reask};
use instructor::providers::{Ollama, OpenAi};
use instructor::{Client, Error, Mode};
use serde_json::{json, Value};

fn tool_answer(id: &str, args: &str) -> Value {
    json!({
        "id": format!("chatcmpl-{id}"), "object": "chat.completion", "created": 1711471533,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": format!("call_{id}"), "type": "function",
                "function": {"name": "UserDetail", "arguments": args}}]},
            "finish_reason": "tool_calls", "logprobs": null}],
        "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92}
    })
}

fn output_line(key: &str, status: u16, body: Value) -> Value {
    json!({"id": format!("batch_req_{key}"), "custom_id": key,
        "response": {"status_code": status, "request_id": format!("req_{key}"), "body": body},
        "error": null})
}

fn batch_object(id: &str, status: &str, files: Option<(&str, &str)>) -> Value {
    let (out, err) = files.map_or((Value::Null, Value::Null), |(o, e)| (json!(o), json!(e)));
    json!({"id": id, "object": "batch", "endpoint": "/v1/chat/completions", "errors": null,
        "input_file_id": "file-in1", "completion_window": "24h", "status": status,
        "output_file_id": out, "error_file_id": err, "created_at": 1711471533,
        "request_counts": {"total": 5, "completed": 3, "failed": 1}, "metadata": null})
}

fn uploaded(id: &str) -> Route {
    json(
        "POST",
        "/files",
        json!({"id": id, "object": "file", "bytes": 1200, "created_at": 1711471533,
            "filename": "batch.jsonl", "purpose": "batch"}),
    )
}

/// A batch of the five inputs that completes: `a` valid, `b` invalid (age 200), `c` a
/// server error, `d` expired (in the error file), `e` absent.
fn finished_batch() -> Vec<Route> {
    vec![
        uploaded("file-in1"),
        json(
            "POST",
            "/batches",
            batch_object("batch_abc123", "validating", None),
        ),
        json(
            "GET",
            "/batches/batch_abc123",
            batch_object("batch_abc123", "in_progress", None),
        ),
        json(
            "GET",
            "/batches/batch_abc123",
            batch_object(
                "batch_abc123",
                "completed",
                Some(("file-out1", "file-err1")),
            ),
        ),
        jsonl(
            "/files/file-out1/content",
            &[
                output_line("a", 200, tool_answer("a", r#"{"name":"Jason","age":30}"#)),
                output_line("b", 200, tool_answer("b", r#"{"name":"Sarah","age":200}"#)),
                output_line(
                    "c",
                    500,
                    json!({"error": {"message": "The server had an error", "type": "server_error"}}),
                ),
            ],
        ),
        jsonl(
            "/files/file-err1/content",
            &[
                json!({"id": "batch_req_d", "custom_id": "d", "response": null,
                "error": {"code": "batch_expired",
                    "message": "This request could not be executed before the completion window expired."}}),
            ],
        ),
    ]
}

fn client(url: &str) -> Client {
    Client::new(OpenAi::new().api_key("sk-batch-secret").base_url(url))
        .model("gpt-4o-mini")
        .mode(Mode::Tools)
        .max_retries(1)
}

/// The JSONL file inside a `multipart/form-data` upload, after checking the purpose.
fn uploaded_lines(form: &[u8]) -> Vec<Value> {
    let text = String::from_utf8(form.to_vec()).unwrap();
    assert!(text.contains("name=\"purpose\"\r\n\r\nbatch\r\n"), "{text}");
    let start = text.find("filename=\"batch.jsonl\"").unwrap();
    let file = &text[start..];
    let file = &file[file.find("\r\n\r\n").unwrap() + 4..];
    let file = &file[..file.rfind("\r\n--").unwrap()];
    file.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn batch_outcome(result: &Result<UserDetail, Error>) -> Option<BatchOutcome> {
    match result.as_ref().err()?.root() {
        Error::Batch { outcome, .. } => Some(*outcome),
        _ => None,
    }
}

#[tokio::test]
async fn a_batch_is_uploaded_polled_read_and_its_invalid_answer_reasked_online() {
    let mut routes = finished_batch();
    routes.push(json(
        "POST",
        "/chat/completions",
        tool_answer("b2", r#"{"name":"Sarah","age":28}"#),
    ));
    let server = serve(routes).await;
    let client = client(&server.uri());

    let job = client.batch::<UserDetail>(INPUTS).submit().await.unwrap();
    assert_eq!((job.id(), job.len()), ("batch_abc123", 5));
    let status = job.wait(Duration::from_millis(1)).await.unwrap();
    assert_eq!(status.state, BatchState::Completed);
    assert_eq!((status.counts.total, status.counts.succeeded), (5, 3));

    let results: HashMap<String, Result<UserDetail, Error>> =
        job.results().await.unwrap().collect().await;
    assert_eq!(results.len(), 5, "every key once: {results:?}");
    assert_eq!(results["a"].as_ref().unwrap(), &jason());
    let sarah = results["b"].as_ref().unwrap();
    assert_eq!((sarah.name.as_str(), sarah.age), ("Sarah", 28));
    assert_eq!(results["c"].as_ref().unwrap_err().status(), Some(500));
    assert_eq!(batch_outcome(&results["d"]), Some(BatchOutcome::Expired));
    assert_eq!(batch_outcome(&results["e"]), Some(BatchOutcome::Missing));

    let sent = received(&server).await;
    let mut routes: Vec<String> = sent.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "GET /batches/batch_abc123", // wait: running
            "GET /batches/batch_abc123", // wait: completed
            "GET /batches/batch_abc123", // results: finished?
            "GET /batches/batch_abc123", // results: which files
            "GET /files/file-err1/content",
            "GET /files/file-out1/content",
            "POST /batches",
            "POST /chat/completions", // b, re-asked online
            "POST /files",
        ]
    );
    assert_eq!(sent[0].1, "/files");
    assert_eq!(sent[1].1, "/batches");

    // The input file: one line per input, in order, each with the online call's body.
    let lines = uploaded_lines(&sent[0].2);
    assert_eq!(lines.len(), 5);
    for (line, (key, text)) in lines.iter().zip(INPUTS) {
        assert_eq!(line["custom_id"], key);
        assert_eq!(line["method"], "POST");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert_eq!(
            line["body"],
            online_body(&client, Mode::Tools, text),
            "{key}"
        );
    }
    let create: Value = serde_json::from_slice(&sent[1].2).unwrap();
    assert_eq!(
        create,
        json!({"input_file_id": "file-in1", "endpoint": "/v1/chat/completions",
            "completion_window": "24h"})
    );

    // The online re-ask continues `b`'s conversation: its answer and the validation error.
    let (_, _, reask) = sent
        .iter()
        .find(|(_, p, _)| p == "/chat/completions")
        .unwrap();
    let reask: Value = serde_json::from_slice(reask).unwrap();
    let messages = reask["messages"].as_array().unwrap();
    assert_eq!(messages[0]["content"], "Sarah is 28 years old");
    assert!(messages
        .iter()
        .any(|m| m["role"] == "tool" && m["content"].as_str().unwrap_or_default().contains("age")));

    // Every call carried the key, and only as the bearer token.
    for r in server.received_requests().await.unwrap() {
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            "Bearer sk-batch-secret"
        );
    }
}

#[tokio::test]
async fn a_job_resumed_by_id_alone_reads_the_results_without_reasking() {
    let server = serve(finished_batch()).await;
    let client = client(&server.uri());
    let job = BatchJob::<UserDetail>::resume(&client, "batch_abc123").unwrap();
    assert!(job.is_empty());
    assert_eq!(job.status().await.unwrap().state, BatchState::Running);
    let results: HashMap<String, Result<UserDetail, Error>> =
        job.results().await.unwrap().collect().await;
    // Only the keys the files name: the job does not know `e`.
    assert_eq!(results.len(), 4, "{results:?}");
    assert_eq!(results["a"].as_ref().unwrap(), &jason());
    assert!(matches!(
        results["b"].as_ref().unwrap_err(),
        Error::RetriesExhausted { .. }
    ));
    assert_eq!(batch_outcome(&results["d"]), Some(BatchOutcome::Expired));
    let sent = received(&server).await;
    assert!(sent.iter().all(|(_, p, _)| p != "/chat/completions"));
}

#[tokio::test]
async fn a_failed_answer_can_go_to_a_follow_up_batch() {
    // Resumed with its inputs: the first batch's upload and creation are not sent again.
    let mut routes: Vec<Route> = finished_batch().into_iter().skip(2).collect();
    routes.push(uploaded("file-in2"));
    routes.push(json(
        "POST",
        "/batches",
        batch_object("batch_def456", "validating", None),
    ));
    let server = serve(routes).await;
    let client = client(&server.uri());
    let job = client
        .batch::<UserDetail>(INPUTS)
        .resume("batch_abc123")
        .unwrap()
        .reask(Reask::FollowUp);
    job.wait(Duration::from_millis(1)).await.unwrap();
    let mut results = job.results().await.unwrap();
    let mut keys = Vec::new();
    while let Some((key, _)) = results.next().await {
        keys.push(key);
    }
    keys.sort();
    assert_eq!(keys, ["a", "c", "d", "e"]);
    assert_eq!(results.pending_follow_ups(), 1);

    let follow_up = results.follow_up().await.unwrap().unwrap();
    assert_eq!((follow_up.id(), follow_up.len()), ("batch_def456", 1));
    assert_eq!(results.pending_follow_ups(), 0);
    let sent = received(&server).await;
    let uploads: Vec<&Vec<u8>> = sent
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/files")
        .map(|(_, _, b)| b)
        .collect();
    assert_eq!(uploads.len(), 1, "resuming with the inputs uploads nothing");
    let lines = uploaded_lines(uploads[0]);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["custom_id"], "b");
    let messages = lines[0]["body"]["messages"].as_array().unwrap();
    assert!(
        messages.len() >= 3,
        "the re-ask carries the answer and the error"
    );
}

#[tokio::test]
async fn unfinished_and_failed_batches_are_typed_outcomes() {
    let failed = json!({"id": "batch_bad", "object": "batch", "status": "failed",
        "errors": {"object": "list", "data": [{"code": "invalid_json_line",
            "message": "This line is not parseable as valid JSON.", "param": null, "line": 3}]},
        "request_counts": {"total": 0, "completed": 0, "failed": 0}});
    let server = serve(vec![
        json(
            "GET",
            "/batches/batch_run",
            batch_object("batch_run", "in_progress", None),
        ),
        json("GET", "/batches/batch_bad", failed),
    ])
    .await;
    let client = client(&server.uri());
    let running = BatchJob::<UserDetail>::resume(&client, "batch_run").unwrap();
    let err = running.results().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Batch {
                outcome: BatchOutcome::NotFinished,
                ..
            }
        ),
        "{err}"
    );

    let bad = BatchJob::<UserDetail>::resume(&client, "batch_bad").unwrap();
    let status = bad.status().await.unwrap();
    assert_eq!(status.state, BatchState::Failed);
    let err = bad.results().await.unwrap_err();
    match err {
        Error::Batch {
            outcome: BatchOutcome::Failed,
            message,
        } => {
            assert!(
                message.contains("line 3") && message.contains("invalid_json_line"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bad_ids_and_providers_without_batches_fail_before_any_request() {
    let server = serve(Vec::new()).await;
    let client = client(&server.uri());
    let job = BatchJob::<UserDetail>::resume(&client, "../files/file-x").unwrap();
    assert!(matches!(job.status().await.unwrap_err(), Error::Config(_)));
    assert!(received(&server).await.is_empty());

    let ollama = Client::new(Ollama::new().base_url(server.uri())).model("llama3.2");
    let err = ollama
        .batch::<UserDetail>(INPUTS)
        .submit()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(BatchJob::<UserDetail>::resume(&ollama, "batch_x").is_err());

    let dup = client
        .batch::<UserDetail>([("k", "one"), ("k", "two")])
        .submit()
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Config(_)), "{dup}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_broken_results_file_is_a_typed_error_that_ends_the_stream() {
    // A line cut off mid-object, then one that is not JSON: the first ends the reading with
    // a protocol error under the empty key; nothing panics and no key is invented.
    // The batch is already complete: no upload, no creation, no running status.
    let mut routes: Vec<Route> = finished_batch().into_iter().skip(3).collect();
    routes.retain(|r| r.path != "/files/file-out1/content");
    routes.insert(
        0,
        Route {
            method: "GET",
            path: "/files/file-out1/content".to_owned(),
            status: 200,
            body: "{\"custom_id\": \"a\", \"response\": \nnot json\n".to_owned(),
            content_type: "application/jsonl",
        },
    );
    let server = serve(routes).await;
    let client = client(&server.uri());
    let job = client
        .batch::<UserDetail>(INPUTS)
        .resume("batch_abc123")
        .unwrap();
    let results: Vec<(String, Result<UserDetail, Error>)> =
        job.results().await.unwrap().collect().await;
    assert_eq!(results.len(), 1, "{results:?}");
    let (key, result) = &results[0];
    assert!(key.is_empty());
    assert!(matches!(result, Err(Error::Protocol { .. })), "{result:?}");
}
