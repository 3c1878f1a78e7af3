//! Gemini batch mode with inline requests, as Google documents it (Gemini API reference,
//! "Batch API": `models.batchGenerateContent`, `batches.get`, `batches.cancel`; and the
//! batch mode guide):
//! - `POST /models/{model}:batchGenerateContent` `{"batch": {"display_name",
//!   "input_config": {"requests": {"requests": [{"request", "metadata": {"key"}}]}}}}`,
//!   where `request` is a `generateContent` body; every line of one batch names one model;
//! - the reply and `GET /{name}` (`name` is `batches/…`) are a long-running operation whose
//!   `metadata` is the batch: `state` (`BATCH_STATE_PENDING`, `_RUNNING`, `_SUCCEEDED`,
//!   `_FAILED`, `_CANCELLED`, `_EXPIRED`) and `batchStats` (int64 counts, written as
//!   strings); when done, `response.inlinedResponses.inlinedResponses` holds `{"response" |
//!   "error", "metadata": {"key"}}` per request;
//! - `POST /{name}:cancel`.

use instructor_core::batch::{
    BatchCounts, BatchItem, BatchItems, BatchOutcome, BatchState, BatchStatus,
};
use instructor_core::Error;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::transport::Wire;
use super::{answer, read, Body};
use crate::translate::Translate;

#[derive(Deserialize)]
struct Operation {
    name: String,
    #[serde(default)]
    metadata: Option<BatchMeta>,
    #[serde(default)]
    error: Option<Status>,
    #[serde(default)]
    response: Option<Output>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BatchMeta {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    batch_stats: Option<Stats>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Stats {
    #[serde(default)]
    request_count: Count,
    #[serde(default)]
    successful_request_count: Count,
    #[serde(default)]
    failed_request_count: Count,
}

/// An int64 count, which the API writes as a string (a number is taken too).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Count {
    Text(String),
    Number(u64),
    #[default]
    Absent,
}

impl Count {
    fn get(&self) -> u64 {
        match self {
            Count::Text(s) => s.parse().unwrap_or(0),
            Count::Number(n) => *n,
            Count::Absent => 0,
        }
    }
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: Option<String>,
}

impl Status {
    fn text(&self) -> String {
        let code = self
            .code
            .map(|c| format!(" (code {c})"))
            .unwrap_or_default();
        format!("{}{code}", self.message.as_deref().unwrap_or("error"))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Output {
    #[serde(default)]
    inlined_responses: Option<Inlined>,
    #[serde(default)]
    responses_file: Option<String>,
}

/// The inlined responses: an object holding the list, as documented.
#[derive(Deserialize)]
struct Inlined {
    #[serde(rename = "inlinedResponses", default)]
    inlined_responses: Vec<InlinedResponse>,
}

#[derive(Deserialize)]
struct InlinedResponse {
    #[serde(default)]
    response: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<Status>,
    #[serde(default)]
    metadata: Option<Key>,
}

#[derive(Deserialize)]
struct Key {
    #[serde(default)]
    key: Option<String>,
}

impl Operation {
    fn status(&self) -> BatchStatus {
        let meta = self.metadata.as_ref();
        let state = meta.and_then(|m| m.state.as_deref()).unwrap_or_default();
        // The SDKs also show the job states' names (`JOB_STATE_…`): both are read.
        let suffix = state
            .strip_prefix("BATCH_STATE_")
            .or_else(|| state.strip_prefix("JOB_STATE_"))
            .unwrap_or(state);
        let state = match suffix {
            "RUNNING" => BatchState::Running,
            "SUCCEEDED" => BatchState::Completed,
            "FAILED" => BatchState::Failed,
            "CANCELLED" => BatchState::Cancelled,
            "EXPIRED" => BatchState::Expired,
            _ if self.error.is_some() => BatchState::Failed,
            _ => BatchState::Pending,
        };
        let counts = meta
            .and_then(|m| m.batch_stats.as_ref())
            .map(|s| {
                BatchCounts::new(
                    s.request_count.get(),
                    s.successful_request_count.get(),
                    s.failed_request_count.get(),
                )
            })
            .unwrap_or_default();
        let mut status = BatchStatus::new(self.name.clone(), state).with_counts(counts);
        if let Some(e) = &self.error {
            status = status.with_message(e.text());
        }
        status
    }
}

pub(super) async fn submit(wire: &Wire, bodies: &[Body]) -> Result<BatchStatus, Error> {
    let model = bodies.first().map(|b| b.model.as_str()).unwrap_or_default();
    if let Some(other) = bodies.iter().find(|b| b.model != model) {
        return Err(Error::Config(format!(
            "a Gemini batch runs one model; `{}` asks for `{}` and `{}` for `{model}`",
            other.custom_id, other.model, bodies[0].custom_id
        )));
    }
    let mut out = Vec::with_capacity(bodies.iter().map(|b| b.bytes.len() + 48).sum());
    out.extend_from_slice(b"{\"batch\":{\"display_name\":");
    let name = format!("instructor batch of {}", bodies.len());
    let write = |out: &mut Vec<u8>, s: &str| {
        serde_json::to_writer(out, s)
            .map_err(|e| Error::Config(format!("could not write a batch request: {e}")))
    };
    write(&mut out, &name)?;
    out.extend_from_slice(b",\"input_config\":{\"requests\":{\"requests\":[");
    for (i, body) in bodies.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"request\":");
        out.extend_from_slice(&body.bytes);
        out.extend_from_slice(b",\"metadata\":{\"key\":");
        write(&mut out, &body.custom_id)?;
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}}}}");
    let model = model.strip_prefix("models/").unwrap_or(model);
    let created = wire
        .post_json(
            &wire.url(&format!("/models/{model}:batchGenerateContent")),
            out,
        )
        .await?;
    Ok(read::<Operation>("batch operation", &created)?.status())
}

async fn operation(wire: &Wire, id: &str) -> Result<(Operation, String), Error> {
    let body = wire.get(&wire.url(&format!("/{id}"))).await?;
    Ok((read("batch operation", &body)?, body))
}

pub(super) async fn status(wire: &Wire, id: &str) -> Result<BatchStatus, Error> {
    Ok(operation(wire, id).await?.0.status())
}

pub(super) async fn cancel(wire: &Wire, id: &str) -> Result<BatchStatus, Error> {
    wire.post_json(&wire.url(&format!("/{id}:cancel")), b"{}".to_vec())
        .await?;
    status(wire, id).await
}

/// The inlined responses of the finished batch (they come with the operation, whose size
/// the body limit bounds).
pub(super) async fn results<T: Translate>(wire: &Wire, id: &str) -> Result<BatchItems, Error> {
    let (op, _) = operation(wire, id).await?;
    let output = op.response.ok_or_else(|| Error::Protocol {
        message: format!("batch {id} has no output yet"),
        raw: None,
        source: None,
    })?;
    if output.responses_file.is_some() && output.inlined_responses.is_none() {
        return Err(Error::Unsupported {
            what: "Gemini batch results in a file (batches are submitted inline)".to_owned(),
        });
    }
    let list = output
        .inlined_responses
        .map(|i| i.inlined_responses)
        .unwrap_or_default();
    let items: Vec<Result<BatchItem, Error>> = list.into_iter().map(item::<T>).collect();
    Ok(Box::pin(futures::stream::iter(items)))
}

fn item<T: Translate>(r: InlinedResponse) -> Result<BatchItem, Error> {
    let custom_id = r
        .metadata
        .and_then(|m| m.key)
        .ok_or_else(|| Error::Protocol {
            message: "a Gemini batch response without its metadata key".to_owned(),
            raw: None,
            source: None,
        })?;
    let outcome = match (r.response, r.error) {
        (_, Some(e)) => Err(Error::Batch {
            outcome: BatchOutcome::Errored,
            message: e.text(),
        }),
        (Some(response), None) => answer::<T>(200, response.get().to_owned()),
        (None, None) => Err(Error::Batch {
            outcome: BatchOutcome::Missing,
            message: "the batch response holds neither an answer nor an error".to_owned(),
        }),
    };
    Ok(BatchItem { custom_id, outcome })
}
