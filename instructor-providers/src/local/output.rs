//! What one generation sends back: tokens turned into text (UTF-8 split across tokens held
//! back), stop sequences, the end of the JSON value, the token limit.

use instructor_core::json::ValueEnd;
use instructor_core::{Error, FinishReason, Usage};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::Sender;

use super::ground::{Continues, Ground};
use super::repeat::{Open, RepeatGuard, Seen};

/// What a job streams back.
#[derive(Debug)]
pub(crate) enum Chunk {
    Text(String),
    Done { finish: FinishReason, usage: Usage },
}

/// Output state of one generation: text decoding, stop conditions, counts, and (under
/// llguidance) the list guard's hold on an item that may turn out to repeat.
pub(crate) struct Output {
    pending_bytes: Vec<u8>,
    text: String,
    /// How much of `text` the caller has been sent.
    sent: usize,
    /// Where each token of the answer began in `text`.
    starts: Vec<usize>,
    json: Option<ValueEnd>,
    guard: Option<RepeatGuard>,
    /// The user text values are copied from (with the guard).
    ground: Option<Ground>,
    /// The separator of a list item whose key is not known yet: text from here is held.
    hold: Option<usize>,
    /// The separator of a held item found to repeat an earlier one.
    pub repeat: Option<usize>,
    /// Whether a member value the text does not hold becomes `null` (where the grammar
    /// allows it): such a value is held from its start until it is known.
    nulls: bool,
    /// The start of a member value, held until it ends.
    value_hold: Option<usize>,
    /// A member value that began in the last token: whether it may be null is asked.
    pub value_started: Option<usize>,
    /// The start of a held member value that the text does not hold.
    pub ungrounded: Option<usize>,
    stop: Vec<String>,
    pub generated: u32,
    max_tokens: u32,
    out: Sender<Result<Chunk, Error>>,
}

/// How to undo a repeated list item: drop the answer's last `drop` tokens, then write
/// `closing` (what the dropped tokens held before the separator, and `]`).
pub(crate) struct Undo {
    pub drop: usize,
    pub closing: String,
    keep: usize,
}

impl Output {
    /// `guard`: the user text, when list items are guarded (see [`RepeatGuard`]), values
    /// copied from it, and (with `nulls`) member values it does not hold made null.
    pub fn new(
        constrained: bool,
        guard: Option<&str>,
        nulls: bool,
        stop: Vec<String>,
        max_tokens: u32,
        out: Sender<Result<Chunk, Error>>,
    ) -> Self {
        Self {
            pending_bytes: Vec::new(),
            text: String::new(),
            sent: 0,
            starts: Vec::new(),
            json: constrained.then(ValueEnd::default),
            ground: guard.map(|g| Ground::new(g, nulls)),
            guard: guard.map(RepeatGuard::new),
            hold: None,
            repeat: None,
            nulls,
            value_hold: None,
            value_started: None,
            ungrounded: None,
            stop,
            generated: 0,
            max_tokens,
            out,
        }
    }

    /// Where the answer is, for the next choice: what would go on copying the user text
    /// (if it is in a value, see [`Ground`]), and whether it is inside a string value.
    pub fn position(&self) -> (Option<Continues<'_>>, bool) {
        let Some(open) = self.guard.as_ref().and_then(|g| g.open(&self.text)) else {
            return (None, false);
        };
        let in_string = matches!(open, Open::String(_));
        (self.ground.as_ref().and_then(|g| g.next(open)), in_string)
    }

    /// Sends the end of the answer.
    pub fn done(&mut self, finish: FinishReason, prompt_tokens: usize) {
        self.hold = None;
        self.value_hold = None;
        self.flush();
        let usage = Usage::new(prompt_tokens as u64, u64::from(self.generated));
        let _ = self.out.blocking_send(Ok(Chunk::Done { finish, usage }));
    }

    /// Sends an error that ends the answer.
    pub fn fail(&self, error: Error) {
        let _ = self.out.blocking_send(Err(error));
    }

    /// Sends what is not sent yet and not held; whether the reader is still there.
    fn flush(&mut self) -> bool {
        let held = match (self.hold, self.value_hold) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let end = held.unwrap_or(self.text.len()).max(self.sent);
        if end > self.sent {
            let chunk = self.text[self.sent..end].to_owned();
            self.sent = end;
            return self.out.blocking_send(Ok(Chunk::Text(chunk))).is_ok();
        }
        true
    }

    /// Emits a chosen token; `Some` when generation must end.
    pub fn push(&mut self, model: &LlamaModel, token: LlamaToken) -> Option<FinishReason> {
        let vocab = model.vocab();
        if vocab.is_eog(token) {
            return Some(FinishReason::Stop);
        }
        self.generated += 1;
        self.starts.push(self.text.len());
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
                self.text.truncate(keep.max(self.sent));
                self.hold = None;
                self.flush();
                return Some(FinishReason::Stop);
            }
            let done = self.json.as_mut().is_some_and(|j| j.feed(&chunk));
            self.watch();
            if !self.flush() {
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

    /// Lets the list guard read the new text: holds an item from its separator until its
    /// key is known, and notes a repeat.
    fn watch(&mut self) {
        let Some(guard) = self.guard.as_mut() else {
            return;
        };
        for seen in guard.feed(&self.text) {
            match seen {
                Seen::Separator(at) => {
                    self.hold.get_or_insert(at);
                }
                Seen::NewKey => self.hold = None,
                Seen::Repeat(at) if self.hold == Some(at) => self.repeat = Some(at),
                Seen::Repeat(_) => {}
                Seen::Value(at) if self.nulls => {
                    self.value_hold = Some(at);
                    self.value_started = Some(at);
                }
                Seen::Value(_) => {}
                Seen::Grounded(start, end) => {
                    self.value_hold = None;
                    if let (Some(ground), Some(value)) =
                        (self.ground.as_mut(), self.text.get(start..end))
                    {
                        ground.anchor(value);
                    }
                }
                Seen::Ungrounded(at) if self.value_hold == Some(at) => {
                    self.ungrounded = Some(at);
                }
                Seen::Ungrounded(_) => {}
            }
        }
    }

    /// How to undo the held text from `at` (an item's separator, a value's start) and write
    /// `instead` there, if it can be undone.
    pub fn undo(&self, at: usize, instead: &str) -> Option<Undo> {
        let keep = self.starts.iter().rposition(|&s| s <= at)?;
        let begin = self.starts[keep];
        Some(Undo {
            drop: self.starts.len() - keep,
            closing: format!("{}{instead}", self.text.get(begin..at)?),
            keep,
        })
    }

    /// Drops the tokens `undo` names (never sent) and reads the text again up to there.
    pub fn apply(&mut self, undo: &Undo) {
        let begin = self.starts[undo.keep];
        self.starts.truncate(undo.keep);
        self.text.truncate(begin);
        self.pending_bytes.clear();
        self.hold = None;
        self.repeat = None;
        self.value_hold = None;
        self.value_started = None;
        self.ungrounded = None;
        if let Some(j) = self.json.as_mut() {
            *j = ValueEnd::default();
            j.feed(&self.text);
        }
        if let Some(g) = self.guard.as_mut() {
            *g = g.restart();
            let _ = g.feed(&self.text);
        }
    }

    /// Gives up on undoing a repeat: the held text goes out as it is.
    pub fn release(&mut self) {
        self.hold = None;
        self.repeat = None;
    }

    /// Gives up on making a member value null: it goes out as it is.
    pub fn release_value(&mut self) {
        self.value_hold = None;
        self.ungrounded = None;
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
