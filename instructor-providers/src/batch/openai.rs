//! OpenAI Batch, as OpenAI documents it (API reference, "Batch" and "Files"):
//! - the input is a JSONL file of `{"custom_id", "method": "POST", "url":
//!   "/v1/chat/completions", "body"}` lines, uploaded with `POST /files` as
//!   `multipart/form-data` (`purpose=batch`, `file`);
//! - `POST /batches` `{"input_file_id", "endpoint", "completion_window": "24h"}` creates the
//!   batch; `GET /batches/{id}` reports `status` (`validating`, `failed`, `in_progress`,
//!   `finalizing`, `completed`, `expired`, `cancelling`, `cancelled`), `request_counts`
//!   and, when done, `output_file_id` and `error_file_id`; `POST /batches/{id}/cancel`;
//! - `GET /files/{id}/content` gives the output and error files, JSONL lines of
//!   `{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null,
//!   "error": {"code", "message"} | null}`, in any order.
//!
//! OpenAI-compatible servers with the same endpoints (the presets) work alike.

use futures::StreamExt;
use instructor_core::batch::{
    BatchCounts, BatchItem, BatchItems, BatchOutcome, BatchState, BatchStatus,
};
use instructor_core::Error;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::transport::{check_id, Wire};
use super::{answer, items, read, Body};
use crate::translate::Translate;

/// The endpoint every line is for (the path OpenAI's batch API names, whatever the base
/// URL).
const ENDPOINT: &str = "/v1/chat/completions";

#[derive(Deserialize)]
struct FileObject {
    id: String,
}

#[derive(Deserialize)]
struct Batch {
    id: String,
    status: String,
    #[serde(default)]
    request_counts: Option<Counts>,
    #[serde(default)]
    output_file_id: Option<String>,
    #[serde(default)]
    error_file_id: Option<String>,
    #[serde(default)]
    errors: Option<Errors>,
}

#[derive(Deserialize, Default)]
struct Counts {
    #[serde(default)]
    total: u64,
    #[serde(default)]
    completed: u64,
    #[serde(default)]
    failed: u64,
}

#[derive(Deserialize)]
struct Errors {
    #[serde(default)]
    data: Vec<LineError>,
}

#[derive(Deserialize)]
struct LineError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    line: Option<u64>,
}

impl Batch {
    fn status(self) -> BatchStatus {
        let state = match self.status.as_str() {
            "validating" => BatchState::Pending,
            "in_progress" | "finalizing" => BatchState::Running,
            "completed" => BatchState::Completed,
            "expired" => BatchState::Expired,
            "cancelling" => BatchState::Cancelling,
            "cancelled" => BatchState::Cancelled,
            "failed" => BatchState::Failed,
            _ => BatchState::Pending,
        };
        let c = self.request_counts.unwrap_or_default();
        let mut status = BatchStatus::new(self.id, state).with_counts(BatchCounts::new(
            c.total,
            c.completed,
            c.failed,
        ));
        let errors: Vec<String> = self
            .errors
            .map(|e| e.data)
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                let at = e.line.map(|l| format!("line {l}: ")).unwrap_or_default();
                let code = e.code.map(|c| format!(" ({c})")).unwrap_or_default();
                format!("{at}{}{code}", e.message.unwrap_or_default())
            })
            .collect();
        if !errors.is_empty() {
            status = status.with_message(errors.join("; "));
        }
        status
    }
}

/// The JSONL input file: one request line per body, each body written as built.
fn input_file(bodies: &[Body]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(bodies.iter().map(|b| b.bytes.len() + 96).sum());
    for body in bodies {
        out.extend_from_slice(b"{\"custom_id\":");
        serde_json::to_writer(&mut out, &body.custom_id)
            .map_err(|e| Error::Config(format!("could not write a batch line: {e}")))?;
        out.extend_from_slice(b",\"method\":\"POST\",\"url\":\"");
        out.extend_from_slice(ENDPOINT.as_bytes());
        out.extend_from_slice(b"\",\"body\":");
        out.extend_from_slice(&body.bytes);
        out.extend_from_slice(b"}\n");
    }
    Ok(out)
}

/// A `multipart/form-data` upload of `file` for the batch purpose, and its content type.
fn upload_form(file: &[u8]) -> (String, Vec<u8>) {
    // A boundary that does not occur in the file.
    let mut boundary = format!("instructor-batch-{:016x}", fastrand::u64(..));
    while file
        .windows(boundary.len())
        .any(|w| w == boundary.as_bytes())
    {
        boundary = format!("instructor-batch-{:016x}", fastrand::u64(..));
    }
    let mut body = Vec::with_capacity(file.len() + 400);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.jsonl\"\r\n\
             Content-Type: application/jsonl\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(super) async fn submit(wire: &Wire, bodies: &[Body]) -> Result<BatchStatus, Error> {
    let file = input_file(bodies)?;
    let (content_type, form) = upload_form(&file);
    drop(file);
    let uploaded = wire
        .call(
            reqwest::Method::POST,
            &wire.url("/files"),
            Some((&content_type, form)),
        )
        .await?;
    let uploaded: FileObject = read("Files API reply", &uploaded)?;
    let create = serde_json::json!({
        "input_file_id": uploaded.id,
        "endpoint": ENDPOINT,
        "completion_window": "24h",
    });
    let created = wire
        .post_json(&wire.url("/batches"), create.to_string().into_bytes())
        .await?;
    Ok(read::<Batch>("batch object", &created)?.status())
}

async fn batch(wire: &Wire, id: &str) -> Result<Batch, Error> {
    let body = wire.get(&wire.url(&format!("/batches/{id}"))).await?;
    read("batch object", &body)
}

pub(super) async fn status(wire: &Wire, id: &str) -> Result<BatchStatus, Error> {
    Ok(batch(wire, id).await?.status())
}

pub(super) async fn cancel(wire: &Wire, id: &str) -> Result<BatchStatus, Error> {
    let body = wire
        .post_json(&wire.url(&format!("/batches/{id}/cancel")), b"{}".to_vec())
        .await?;
    Ok(read::<Batch>("batch object", &body)?.status())
}

/// The output file's lines, then the error file's, each opened when the one before ends.
pub(super) async fn results<T: Translate>(wire: Wire, id: &str) -> Result<BatchItems, Error> {
    let batch = batch(&wire, id).await?;
    let files: Vec<String> = [batch.output_file_id, batch.error_file_id]
        .into_iter()
        .flatten()
        .filter(|f| !f.is_empty())
        .collect();
    for file in &files {
        check_id(file)?;
    }
    let wire = std::sync::Arc::new(wire);
    let lines = futures::stream::iter(files)
        .then(move |file| {
            let wire = std::sync::Arc::clone(&wire);
            async move {
                match wire
                    .lines(&wire.url(&format!("/files/{file}/content")))
                    .await
                {
                    Ok(lines) => lines.boxed(),
                    Err(e) => futures::stream::once(async { Err(e) }).boxed(),
                }
            }
        })
        .flatten();
    Ok(items(lines, line::<T>))
}

#[derive(Deserialize)]
struct OutputLine {
    custom_id: String,
    #[serde(default)]
    response: Option<LineResponse>,
    #[serde(default)]
    error: Option<LineError>,
}

#[derive(Deserialize)]
struct LineResponse {
    status_code: u16,
    body: Box<RawValue>,
}

fn line<T: Translate>(text: &str) -> Result<BatchItem, Error> {
    let l: OutputLine = read("batch output line", text)?;
    let outcome = match (l.response, l.error) {
        (Some(r), _) => answer::<T>(r.status_code, r.body.get().to_owned()),
        (None, Some(e)) => {
            let outcome = match e.code.as_deref() {
                Some("batch_expired") => BatchOutcome::Expired,
                Some("batch_cancelled") => BatchOutcome::Cancelled,
                _ => BatchOutcome::Errored,
            };
            let code = e.code.map(|c| format!(" ({c})")).unwrap_or_default();
            Err(Error::Batch {
                outcome,
                message: format!("{}{code}", e.message.unwrap_or_default()),
            })
        }
        (None, None) => Err(Error::Protocol {
            message: "a batch output line has neither a response nor an error".to_owned(),
            raw: Some(text.chars().take(2048).collect()),
            source: None,
        }),
    };
    Ok(BatchItem {
        custom_id: l.custom_id,
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_lines_carry_the_body_as_built() {
        let bodies = [Body {
            custom_id: "a\"1".into(),
            model: "m".into(),
            bytes: br#"{"model":"m","messages":[]}"#.to_vec(),
        }];
        let file = input_file(&bodies).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&file).unwrap();
        assert_eq!(line["custom_id"], "a\"1");
        assert_eq!(line["url"], "/v1/chat/completions");
        assert_eq!(line["body"]["model"], "m");
        assert!(file.ends_with(b"}\n"));
    }

    #[test]
    fn the_form_boundary_never_occurs_in_the_file() {
        let (content_type, form) = upload_form(b"{\"x\":1}\n");
        let boundary = content_type.split("boundary=").nth(1).unwrap();
        let text = String::from_utf8(form).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
        assert!(text.contains("name=\"purpose\"\r\n\r\nbatch\r\n"));
    }
}
