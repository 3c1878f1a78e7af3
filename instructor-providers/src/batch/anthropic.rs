//! Anthropic Message Batches, as Anthropic documents them (API reference, "Create / Retrieve
//! / Cancel a Message Batch", "Retrieve Message Batch results"):
//! - `POST /messages/batches` `{"requests": [{"custom_id", "params"}]}`, where `params` is
//!   a Messages API body; the reply, like `GET /messages/batches/{id}` and
//!   `POST /messages/batches/{id}/cancel`, is a `message_batch` with `processing_status`
//!   (`in_progress`, `canceling`, `ended`), `request_counts` (`processing`, `succeeded`,
//!   `errored`, `canceled`, `expired`), `cancel_initiated_at` and `results_url`;
//! - `GET /messages/batches/{id}/results` streams JSONL lines of `{"custom_id", "result":
//!   {"type": "succeeded", "message"} | {"type": "errored", "error"} | {"type": "canceled"}
//!   | {"type": "expired"}}`, in any order.
//!
//! The results are read from that documented path under the base URL, never from the
//! `results_url` the server names: the key is only ever sent where the caller pointed it.

use instructor_core::batch::{
    BatchCounts, BatchItem, BatchItems, BatchOutcome, BatchState, BatchStatus,
};
use instructor_core::Error;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::transport::Wire;
use super::{answer, items, read, Body};
use crate::translate::Translate;

#[derive(Deserialize)]
struct MessageBatch {
    id: String,
    processing_status: String,
    #[serde(default)]
    request_counts: Counts,
    #[serde(default)]
    cancel_initiated_at: Option<String>,
}

#[derive(Deserialize, Default)]
struct Counts {
    #[serde(default)]
    processing: u64,
    #[serde(default)]
    succeeded: u64,
    #[serde(default)]
    errored: u64,
    #[serde(default)]
    canceled: u64,
    #[serde(default)]
    expired: u64,
}

impl MessageBatch {
    fn status(self) -> BatchStatus {
        let state = match (self.processing_status.as_str(), &self.cancel_initiated_at) {
            ("ended", Some(_)) => BatchState::Cancelled,
            ("ended", None) => BatchState::Completed,
            ("canceling", _) => BatchState::Cancelling,
            _ => BatchState::Running,
        };
        let c = self.request_counts;
        let failed = c.errored + c.canceled + c.expired;
        let total = c.processing + c.succeeded + failed;
        BatchStatus::new(self.id, state).with_counts(BatchCounts::new(total, c.succeeded, failed))
    }
}

pub(super) async fn submit(wire: &Wire, bodies: &[Body]) -> Result<BatchStatus, Error> {
    let mut out = Vec::with_capacity(bodies.iter().map(|b| b.bytes.len() + 48).sum());
    out.extend_from_slice(b"{\"requests\":[");
    for (i, body) in bodies.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"custom_id\":");
        serde_json::to_writer(&mut out, &body.custom_id)
            .map_err(|e| Error::Config(format!("could not write a batch request: {e}")))?;
        out.extend_from_slice(b",\"params\":");
        out.extend_from_slice(&body.bytes);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    let created = wire.post_json(&wire.url("/messages/batches"), out).await?;
    Ok(read::<MessageBatch>("message batch", &created)?.status())
}

pub(super) async fn status(wire: &Wire, id: &str) -> Result<BatchStatus, Error> {
    let body = wire
        .get(&wire.url(&format!("/messages/batches/{id}")))
        .await?;
    Ok(read::<MessageBatch>("message batch", &body)?.status())
}

pub(super) async fn cancel(wire: &Wire, id: &str) -> Result<BatchStatus, Error> {
    let body = wire
        .post_json(
            &wire.url(&format!("/messages/batches/{id}/cancel")),
            b"{}".to_vec(),
        )
        .await?;
    Ok(read::<MessageBatch>("message batch", &body)?.status())
}

pub(super) async fn results<T: Translate>(wire: Wire, id: &str) -> Result<BatchItems, Error> {
    let lines = wire
        .lines(&wire.url(&format!("/messages/batches/{id}/results")))
        .await?;
    Ok(items(lines, line::<T>))
}

#[derive(Deserialize)]
struct ResultLine {
    custom_id: String,
    result: LineResult,
}

#[derive(Deserialize)]
struct LineResult {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

/// The message of an `errored` result's error (`{"type": "error", "error": {"type",
/// "message"}}`), or the error as the server wrote it.
fn error_message(error: Option<serde_json::Value>) -> String {
    let Some(error) = error else {
        return "the request errored".to_owned();
    };
    let inner = error.get("error").unwrap_or(&error);
    match (inner.get("type"), inner.get("message")) {
        (Some(kind), Some(message)) => format!(
            "{} ({})",
            message.as_str().unwrap_or_default(),
            kind.as_str().unwrap_or_default()
        ),
        _ => error.to_string(),
    }
}

fn line<T: Translate>(text: &str) -> Result<BatchItem, Error> {
    let l: ResultLine = read("message batch result", text)?;
    let r = l.result;
    let outcome = match (r.kind.as_str(), r.message) {
        ("succeeded", Some(message)) => answer::<T>(200, message.get().to_owned()),
        ("errored", _) => Err(Error::Batch {
            outcome: BatchOutcome::Errored,
            message: error_message(r.error),
        }),
        ("canceled", _) => Err(Error::Batch {
            outcome: BatchOutcome::Cancelled,
            message: "the batch was cancelled before this request ran".to_owned(),
        }),
        ("expired", _) => Err(Error::Batch {
            outcome: BatchOutcome::Expired,
            message: "the batch expired before this request ran".to_owned(),
        }),
        (other, _) => Err(Error::Protocol {
            message: format!("a message batch result of type `{other}` without its answer"),
            raw: Some(text.chars().take(2048).collect()),
            source: None,
        }),
    };
    Ok(BatchItem {
        custom_id: l.custom_id,
        outcome,
    })
}
