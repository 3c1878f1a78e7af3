//! Anthropic Message Batches and Gemini batch mode through a local mock server, with the wire
//! formats their documentation gives:
//! - Anthropic API reference, "Message Batches": `POST /v1/messages/batches` with
//!   `{"requests": [{"custom_id", "params"}]}`, `GET /v1/messages/batches/{id}` (a
//!   `message_batch`: `processing_status`, `request_counts`, `cancel_initiated_at`,
//!   `results_url`), `POST .../{id}/cancel`, and `GET .../{id}/results`, JSONL lines of
//!   `{"custom_id", "result": {"type": "succeeded" | "errored" | "canceled" | "expired"}}`.
//! - Gemini API reference, "Batch API" (`models.batchGenerateContent`, `batches.get`,
//!   `batches.cancel`) and the batch mode guide: `{"batch": {"display_name", "input_config":
//!   {"requests": {"requests": [{"request", "metadata": {"key"}}]}}}}`, answered by an
//!   operation whose `metadata.state` is `BATCH_STATE_…` and whose `response` holds
//!   `inlinedResponses.inlinedResponses`.
//!
//! Each line's request must be exactly the body an online call sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::batch::{json, jsonl, online_body, received, serve, INPUTS};
use common::{jason, UserDetail};
use futures::StreamExt;
use instructor::batch::{BatchJob, BatchOutcome, BatchState, BatchStatus};
use instructor::providers::{Anthropic, Gemini};
use instructor::{Client, Error, Mode};
use serde_json::{json, Value};

/// Submits the inputs through `client` and waits for the batch to end: its id, its final
/// status and its results by key.
async fn submit_and_wait(client: &Client) -> (String, BatchStatus, Results) {
    let job = client.batch::<UserDetail>(INPUTS).submit().await.unwrap();
    let id = job.id().to_owned();
    let status = job.wait(Duration::from_millis(1)).await.unwrap();
    (id, status, job.results().await.unwrap().collect().await)
}

/// A batch's results by key.
type Results = HashMap<String, Result<UserDetail, Error>>;

fn outcome(result: &Result<UserDetail, Error>) -> Option<BatchOutcome> {
    match result.as_ref().err()?.root() {
        Error::Batch { outcome, .. } => Some(*outcome),
        _ => None,
    }
}

fn message_batch(status: &str, cancelled: bool) -> Value {
    json!({
        "id": "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message_batch",
        "processing_status": status,
        "request_counts": {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 1, "expired": 1},
        "ended_at": null, "created_at": "2024-09-24T18:37:24.100435Z",
        "expires_at": "2024-09-25T18:37:24.100435Z", "archived_at": null,
        "cancel_initiated_at": if cancelled { json!("2024-09-24T19:00:00Z") } else { Value::Null },
        "results_url": "https://elsewhere.example/results"
    })
}

fn claude(input: Value) -> Value {
    json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "UserDetail", "input": input}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 410, "output_tokens": 58}})
}

#[tokio::test]
async fn anthropic_message_batches_submit_poll_and_read_every_result_type() {
    let id = "msgbatch_013Zva2CMHLNnXjNJJKqJ2EF";
    let path = format!("/messages/batches/{id}");
    let server = serve(vec![
        json("POST", "/messages/batches", message_batch("in_progress", false)),
        json("GET", &path, message_batch("in_progress", false)),
        json("GET", &path, message_batch("ended", false)),
        jsonl(
            &format!("{path}/results"),
            &[
                json!({"custom_id": "a", "result": {"type": "succeeded", "message": claude(json!({"name": "Jason", "age": 30}))}}),
                json!({"custom_id": "b", "result": {"type": "errored", "error": {"type": "error",
                    "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"}}}}),
                json!({"custom_id": "c", "result": {"type": "canceled"}}),
                json!({"custom_id": "d", "result": {"type": "expired"}}),
                json!({"custom_id": "e", "result": {"type": "succeeded", "message": claude(json!({"name": "Bob", "age": 60}))}}),
            ],
        ),
    ])
    .await;
    let client = Client::new(
        Anthropic::new()
            .api_key("sk-ant-secret")
            .base_url(server.uri()),
    )
    .model("claude-sonnet-4-5");

    let (job_id, status, results) = submit_and_wait(&client).await;
    assert_eq!(job_id, id);
    assert_eq!(status.state, BatchState::Completed);
    assert_eq!((status.counts.total, status.counts.failed), (5, 3));
    assert_eq!(results.len(), 5);
    assert_eq!(results["a"].as_ref().unwrap(), &jason());
    assert_eq!(outcome(&results["b"]), Some(BatchOutcome::Errored));
    assert!(results["b"]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("max_tokens: Field required"));
    assert_eq!(outcome(&results["c"]), Some(BatchOutcome::Cancelled));
    assert_eq!(outcome(&results["d"]), Some(BatchOutcome::Expired));
    assert_eq!(results["e"].as_ref().unwrap().age, 60);

    let sent = received(&server).await;
    let create: Value = serde_json::from_slice(&sent[0].2).unwrap();
    let requests = create["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 5);
    for (request, (key, text)) in requests.iter().zip(INPUTS) {
        assert_eq!(request["custom_id"], key);
        assert_eq!(
            request["params"],
            online_body(&client, Mode::Tools, text),
            "{key}"
        );
    }
    // The results came from the documented path, never from the `results_url` named.
    assert!(sent
        .iter()
        .any(|(m, p, _)| m == "GET" && p == &format!("{path}/results")));
    for r in server.received_requests().await.unwrap() {
        assert_eq!(r.headers.get("x-api-key").unwrap(), "sk-ant-secret");
        assert_eq!(r.headers.get("anthropic-version").unwrap(), "2023-06-01");
    }
}

#[tokio::test]
async fn anthropic_cancel_gives_a_cancelled_batch_whose_unanswered_items_say_so() {
    let id = "msgbatch_01";
    let path = format!("/messages/batches/{id}");
    let server = serve(vec![
        json("POST", &format!("{path}/cancel"), message_batch("canceling", true)),
        json("GET", &path, message_batch("ended", true)),
        jsonl(
            &format!("{path}/results"),
            &[json!({"custom_id": "a", "result": {"type": "succeeded", "message": claude(json!({"name": "Jason", "age": 30}))}})],
        ),
    ])
    .await;
    let client = Client::new(Anthropic::new().api_key("k").base_url(server.uri()))
        .model("claude-sonnet-4-5");
    let job = client.batch::<UserDetail>(INPUTS).resume(id).unwrap();
    assert_eq!(job.cancel().await.unwrap().state, BatchState::Cancelling);
    assert_eq!(job.status().await.unwrap().state, BatchState::Cancelled);
    let results: HashMap<String, Result<UserDetail, Error>> =
        job.results().await.unwrap().collect().await;
    assert_eq!(results.len(), 5);
    assert!(results["a"].is_ok());
    for key in ["b", "c", "d", "e"] {
        assert_eq!(
            outcome(&results[key]),
            Some(BatchOutcome::Cancelled),
            "{key}"
        );
    }
}

fn operation(state: &str, done: bool, responses: Option<Value>) -> Value {
    let mut op = json!({
        "name": "batches/123456",
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": "models/gemini-2.5-flash", "displayName": "instructor batch of 5",
            "state": state,
            "batchStats": {"requestCount": "5", "successfulRequestCount": "2", "failedRequestCount": "1", "pendingRequestCount": "0"}
        },
        "done": done
    });
    if let Some(r) = responses {
        op["response"] = json!({
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
            "inlinedResponses": {"inlinedResponses": r}
        });
    }
    op
}

fn gemini_answer(args: Value) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "UserDetail", "args": args}}]},
        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 52, "candidatesTokenCount": 14, "totalTokenCount": 66}})
}

#[tokio::test]
async fn gemini_batch_mode_submits_inline_requests_and_reads_inlined_responses() {
    let done = json!([
        {"response": gemini_answer(json!({"name": "Jason", "age": 30})), "metadata": {"key": "a"}},
        {"error": {"code": 3, "message": "Request contains an invalid argument."}, "metadata": {"key": "b"}},
        {"response": gemini_answer(json!({"name": "Tom", "age": 40})), "metadata": {"key": "c"}},
    ]);
    let server = serve(vec![
        json(
            "POST",
            "/models/gemini-2.5-flash:batchGenerateContent",
            operation("BATCH_STATE_PENDING", false, None),
        ),
        json(
            "GET",
            "/batches/123456",
            operation("BATCH_STATE_RUNNING", false, None),
        ),
        json(
            "GET",
            "/batches/123456",
            operation("BATCH_STATE_EXPIRED", true, Some(done)),
        ),
    ])
    .await;
    let client = Client::new(Gemini::new().api_key("AIza-secret").base_url(server.uri()))
        .model("gemini-2.5-flash")
        .mode(Mode::Tools);

    let (id, status, results) = submit_and_wait(&client).await;
    assert_eq!(id, "batches/123456");
    assert_eq!(status.state, BatchState::Expired);
    assert_eq!((status.counts.total, status.counts.succeeded), (5, 2));
    assert_eq!(results.len(), 5);
    assert_eq!(results["a"].as_ref().unwrap(), &jason());
    assert_eq!(outcome(&results["b"]), Some(BatchOutcome::Errored));
    assert_eq!(results["c"].as_ref().unwrap().name, "Tom");
    // The batch expired before `d` and `e` ran.
    assert_eq!(outcome(&results["d"]), Some(BatchOutcome::Expired));
    assert_eq!(outcome(&results["e"]), Some(BatchOutcome::Expired));

    let sent = received(&server).await;
    let create: Value = serde_json::from_slice(&sent[0].2).unwrap();
    assert_eq!(create["batch"]["display_name"], "instructor batch of 5");
    let requests = create["batch"]["input_config"]["requests"]["requests"]
        .as_array()
        .unwrap();
    assert_eq!(requests.len(), 5);
    for (request, (key, text)) in requests.iter().zip(INPUTS) {
        assert_eq!(request["metadata"]["key"], key);
        assert_eq!(
            request["request"],
            online_body(&client, Mode::Tools, text),
            "{key}"
        );
    }
    for r in server.received_requests().await.unwrap() {
        assert_eq!(r.headers.get("x-goog-api-key").unwrap(), "AIza-secret");
    }
}

#[tokio::test]
async fn gemini_refusals_are_typed_and_ids_stay_in_their_path() {
    let server = serve(Vec::new()).await;
    let client = Client::new(Gemini::new().api_key("AIza-secret").base_url(server.uri()))
        .model("gemini-2.5-flash");
    // The mock knows no route: the server's 404 is a typed HTTP error, without the key.
    let err = client
        .batch::<UserDetail>([("a", "x")])
        .submit()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(!format!("{err:?}").contains("AIza-secret"));
    let before = received(&server).await.len();
    let job = BatchJob::<UserDetail>::resume(&client, "batches/1/../2").unwrap();
    assert!(matches!(job.status().await.unwrap_err(), Error::Config(_)));
    assert_eq!(
        received(&server).await.len(),
        before,
        "nothing sent for a bad id"
    );
}
