//! The providers' batch APIs: OpenAI Batch (a JSONL file uploaded through the Files API),
//! Anthropic Message Batches and Gemini batch mode (inline requests). Each line's body is
//! the one an online call would send (the same translator builds it) and each answer is
//! read by the same response reader, so every mode a provider supports online works in a
//! batch. [`HttpProvider`] offers [`BatchApi`] when its translator names a [`BatchWire`].

mod anthropic;
mod gemini;
mod openai;
mod transport;

use futures::StreamExt;
use instructor_core::batch::{BatchApi, BatchItem, BatchItems, BatchLine, BatchStatus};
use instructor_core::{async_trait, Error, Response};
use serde::Deserialize;

use crate::translate::{HttpProvider, Translate};
use transport::{check_id, Wire};

/// Which batch API a provider's server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchWire {
    /// OpenAI's: `/files` and `/batches`, for `/v1/chat/completions` lines.
    OpenAi,
    /// Anthropic's: `/messages/batches`.
    Anthropic,
    /// Gemini's: `models/{model}:batchGenerateContent` and `batches/{id}`.
    Gemini,
}

/// One line as the wire formats take it: the key, the model, the body's bytes.
pub(crate) struct Body {
    pub custom_id: String,
    pub model: String,
    pub bytes: Vec<u8>,
}

impl<T: Translate> HttpProvider<T> {
    /// Every line's body, built and checked as online calls' are (an unsupported mode or
    /// part fails here, before anything is uploaded).
    fn bodies(&self, lines: &[BatchLine<'_>]) -> Result<Vec<Body>, Error> {
        if lines.is_empty() {
            return Err(Error::Config("a batch needs at least one line".to_owned()));
        }
        lines
            .iter()
            .map(|line| {
                let (model, bytes) = self.batch_body(line.request)?;
                Ok(Body {
                    custom_id: line.custom_id.to_owned(),
                    model,
                    bytes,
                })
            })
            .collect()
    }

    fn wire(&self) -> Result<(BatchWire, Wire), Error> {
        let kind = T::BATCH.ok_or_else(|| Error::Unsupported {
            what: format!("batches with the {} provider", self.endpoint.name),
        })?;
        Ok((kind, Wire::new::<T>(&self.endpoint)?))
    }

    /// The batch API, its wire and the checked id of the batch job `id`.
    fn job<'i>(&self, id: &'i str) -> Result<(BatchWire, Wire, &'i str), Error> {
        let (kind, wire) = self.wire()?;
        Ok((kind, wire, check_id(id)?))
    }
}

#[async_trait]
impl<T: Translate> BatchApi for HttpProvider<T> {
    async fn submit(&self, lines: &[BatchLine<'_>]) -> Result<BatchStatus, Error> {
        let (kind, wire) = self.wire()?;
        let bodies = self.bodies(lines)?;
        match kind {
            BatchWire::OpenAi => openai::submit(&wire, &bodies).await,
            BatchWire::Anthropic => anthropic::submit(&wire, &bodies).await,
            BatchWire::Gemini => gemini::submit(&wire, &bodies).await,
        }
    }

    async fn status(&self, id: &str) -> Result<BatchStatus, Error> {
        let (kind, wire, id) = self.job(id)?;
        match kind {
            BatchWire::OpenAi => openai::status(&wire, id).await,
            BatchWire::Anthropic => anthropic::status(&wire, id).await,
            BatchWire::Gemini => gemini::status(&wire, id).await,
        }
    }

    async fn results(&self, id: &str) -> Result<BatchItems, Error> {
        let (kind, wire, id) = self.job(id)?;
        match kind {
            BatchWire::OpenAi => openai::results::<T>(wire, id).await,
            BatchWire::Anthropic => anthropic::results::<T>(wire, id).await,
            BatchWire::Gemini => gemini::results::<T>(&wire, id).await,
        }
    }

    async fn cancel(&self, id: &str) -> Result<BatchStatus, Error> {
        let (kind, wire, id) = self.job(id)?;
        match kind {
            BatchWire::OpenAi => openai::cancel(&wire, id).await,
            BatchWire::Anthropic => anthropic::cancel(&wire, id).await,
            BatchWire::Gemini => gemini::cancel(&wire, id).await,
        }
    }
}

/// Reads a JSON document the provider sent, or says which one did not read.
pub(crate) fn read<'de, D: Deserialize<'de>>(what: &str, body: &'de str) -> Result<D, Error> {
    serde_json::from_str(body).map_err(|e| Error::Protocol {
        message: format!("unexpected {what}: {e}"),
        raw: Some(body.chars().take(2048).collect()),
        source: Some(Box::new(e)),
    })
}

/// An answer found in a results file, read as the online answer would be: a success body
/// by the translator's reader, an error status by its error mapping (with the status).
pub(crate) fn answer<T: Translate>(status: u16, body: String) -> Result<Response, Error> {
    if (200..300).contains(&status) {
        return T::response(body);
    }
    T::error(crate::http::Reply {
        status,
        headers: Default::default(),
        body,
    })
}

/// Results lines, each read by `line` into an item.
pub(crate) fn items<S>(lines: S, line: fn(&str) -> Result<BatchItem, Error>) -> BatchItems
where
    S: futures::Stream<Item = Result<String, Error>> + Send + 'static,
{
    Box::pin(lines.map(move |l| l.and_then(|l| line(&l))))
}
