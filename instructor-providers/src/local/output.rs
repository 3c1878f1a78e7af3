//! What one generation sends back: tokens turned into text (UTF-8 split across tokens held
//! back), stop sequences, the end of the JSON value, the token limit.

use instructor_core::{Error, FinishReason, Usage};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::Sender;

/// What a job streams back.
#[derive(Debug)]
pub(crate) enum Chunk {
    Text(String),
    Done { finish: FinishReason, usage: Usage },
}

/// Output state of one generation: text decoding, stop conditions, counts.
pub(crate) struct Output {
    pending_bytes: Vec<u8>,
    text: String,
    json: Option<instructor_core::json::ValueEnd>,
    stop: Vec<String>,
    pub generated: u32,
    max_tokens: u32,
    out: Sender<Result<Chunk, Error>>,
}

impl Output {
    pub fn new(
        constrained: bool,
        stop: Vec<String>,
        max_tokens: u32,
        out: Sender<Result<Chunk, Error>>,
    ) -> Self {
        Self {
            pending_bytes: Vec::new(),
            text: String::new(),
            json: constrained.then(instructor_core::json::ValueEnd::default),
            stop,
            generated: 0,
            max_tokens,
            out,
        }
    }

    /// Sends the end of the answer.
    pub fn done(&self, finish: FinishReason, prompt_tokens: usize) {
        let usage = Usage::new(prompt_tokens as u64, u64::from(self.generated));
        let _ = self.out.blocking_send(Ok(Chunk::Done { finish, usage }));
    }

    /// Sends an error that ends the answer.
    pub fn fail(&self, error: Error) {
        let _ = self.out.blocking_send(Err(error));
    }

    /// Emits a chosen token; `Some` when generation must end.
    pub fn push(&mut self, model: &LlamaModel, token: LlamaToken) -> Option<FinishReason> {
        let vocab = model.vocab();
        if vocab.is_eog(token) {
            return Some(FinishReason::Stop);
        }
        self.generated += 1;
        let piece = vocab.token_to_piece(token, false, None);
        self.pending_bytes.extend_from_slice(&piece);
        let valid = match std::str::from_utf8(&self.pending_bytes) {
            Ok(s) => s.len(),
            Err(e) => e.valid_up_to(),
        };
        let chunk: String = String::from_utf8_lossy(&self.pending_bytes[..valid]).into_owned();
        self.pending_bytes.drain(..valid);
        if !chunk.is_empty() {
            self.text.push_str(&chunk);
            if let Some(s) = self.stop.iter().find(|s| self.text.ends_with(s.as_str())) {
                let keep = self.text.len() - s.len();
                let cut = chunk.len().saturating_sub(self.text.len() - keep);
                self.text.truncate(keep);
                if cut > 0 {
                    let _ = self
                        .out
                        .blocking_send(Ok(Chunk::Text(chunk[..cut].to_owned())));
                }
                return Some(FinishReason::Stop);
            }
            let done = self.json.as_mut().is_some_and(|j| j.feed(&chunk));
            if self.out.blocking_send(Ok(Chunk::Text(chunk))).is_err() {
                // The reader is gone: stop working for nobody.
                return Some(FinishReason::Other("cancelled".to_owned()));
            }
            if done {
                return Some(FinishReason::Stop);
            }
        }
        if self.generated >= self.max_tokens {
            return Some(FinishReason::Length);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_end_ignores_braces_in_strings() {
        let mut j = instructor_core::json::ValueEnd::default();
        assert!(!j.feed(r#"{"a": "}{\"", "b": [1, "]""#));
        assert!(j.feed(r#"]}"#));
    }
}
