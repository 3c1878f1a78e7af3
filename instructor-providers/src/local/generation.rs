//! One generation running in a sequence of the shared context: its prompt evaluated (only
//! past the prefix its sequence already holds), then one step per shared batch: the chosen
//! token added to the batch, and after the batch is decoded, the next token chosen from
//! this sequence's logits.

use instructor_core::{Error, FinishReason};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::sync::Arc;

use super::guidance::Guidance;
use super::output::Output;
use super::sampler::{Rule, Sampler};
use super::worker::{Constraint, Job};

pub(crate) fn decode_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Backend {
        message: format!("llama.cpp decode failed: {e}"),
        source: Some(Box::new(e)),
    }
}

/// A sequence of the context and the tokens its KV cache holds (positions `0..len`).
pub(crate) struct Slot {
    pub seq: i32,
    pub cached: Vec<LlamaToken>,
}

impl Slot {
    /// How many leading tokens of `tokens` this sequence already holds.
    pub fn shared_prefix(&self, tokens: &[LlamaToken]) -> usize {
        self.cached
            .iter()
            .zip(tokens)
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// A start that failed: the slot back, the output to tell, and why.
pub(crate) type Failed = Box<(Slot, Output, Error)>;

/// One running generation.
pub(crate) struct Generation {
    pub slot: Slot,
    sampler: Sampler,
    output: Output,
    history: Vec<LlamaToken>,
    prompt_len: usize,
    /// Prompt tokens taken from the sequence's cache instead of evaluated.
    pub reused: usize,
    n_past: i32,
    next: LlamaToken,
    /// Where this step's logits are in the batch, and how many tokens it staged.
    index: i32,
    staged: i32,
    /// Tokens the grammar forced, appended without sampling.
    forced: usize,
    /// Why the answer ended, once it has.
    finished: Option<FinishReason>,
}

/// How a step or a start ended for a generation.
pub(crate) enum Status {
    Running,
    Finished,
}

impl Generation {
    /// Starts `job` in `slot`: tokenizes the prompt, keeps the prefix the sequence already
    /// holds, evaluates the rest and chooses the first token. An error is the job's (sent
    /// by the caller); the slot comes back either way.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        model: &Arc<LlamaModel>,
        guidance: &mut Option<Guidance>,
        ctx: &mut LlamaContext<'_>,
        mut slot: Slot,
        tokens: Vec<LlamaToken>,
        job: Job,
        n_ctx_seq: usize,
        chunk: usize,
    ) -> Result<Self, Failed> {
        let max_tokens = job
            .max_tokens
            .min((n_ctx_seq - tokens.len() - 1) as u32)
            .max(1);
        let output = Output::new(
            job.constraint.is_some(),
            job.source.as_deref(),
            job.nulls,
            job.stop,
            max_tokens,
            job.out,
        );
        let grammar = match &job.constraint {
            Some(Constraint::Gbnf(g)) => match LlamaSampler::grammar(model, g, "root") {
                Ok(s) => Some(Rule::Gbnf(s)),
                Err(e) => {
                    let e = Error::SchemaIncompatible {
                        message: format!("llama.cpp rejected the grammar: {e}"),
                    };
                    return Err(Box::new((slot, output, e)));
                }
            },
            Some(Constraint::Schema(schema)) => {
                match Guidance::matcher_in(guidance, model, schema) {
                    Ok(m) => Some(Rule::Guided(Box::new(m))),
                    Err(e) => return Err(Box::new((slot, output, e))),
                }
            }
            Some(Constraint::Lark(lark)) => {
                match Guidance::lark_matcher_in(guidance, model, lark) {
                    Ok(m) => Some(Rule::Guided(Box::new(m))),
                    Err(e) => return Err(Box::new((slot, output, e))),
                }
            }
            None => None,
        };
        // Keep the whole chunks of the prompt this sequence already holds (at least the last
        // prompt token is evaluated again, for its logits); drop the rest of the sequence.
        // Prompts are evaluated in chunks at fixed positions, so a kept chunk was computed
        // exactly as this prompt's own would be: the answer does not depend on what ran
        // before in the sequence.
        let shared = slot.shared_prefix(&tokens).min(tokens.len() - 1);
        let mut keep = shared / chunk * chunk;
        // A cache that dropped early positions (a sliding window) cannot be reused.
        if keep > 0 && ctx.kv_cache_seq_pos_min(slot.seq) > 0 {
            keep = 0;
        }
        let seq = slot.seq as u32;
        let trimmed = ctx
            .clear_kv_cache_seq(Some(seq), Some(keep as u32), None)
            .unwrap_or(false);
        if !trimmed {
            keep = 0;
            if let Err(e) = ctx.clear_kv_cache_seq(Some(seq), None, None) {
                slot.cached.clear();
                return Err(Box::new((slot, output, decode_error(e))));
            }
        }
        slot.cached.truncate(keep);
        let mut batch = LlamaBatch::new(chunk, 1);
        let rest = &tokens[keep..];
        for (c, piece) in rest.chunks(chunk).enumerate() {
            batch.clear();
            for (i, t) in piece.iter().enumerate() {
                let at = keep + c * chunk + i;
                let last = at == tokens.len() - 1;
                if let Err(e) = batch.add(*t, at as i32, &[slot.seq], last) {
                    return Err(Box::new((slot, output, decode_error(e))));
                }
            }
            if let Err(e) = ctx.decode(&mut batch) {
                // What this sequence holds is unknown now: nothing is reused.
                slot.cached.clear();
                let _ = ctx.clear_kv_cache_seq(Some(seq), None, None);
                return Err(Box::new((slot, output, decode_error(e))));
            }
        }
        let mut sampler = Sampler::new(grammar, job.settings);
        let next = match sampler.choose(ctx.get_logits_ith(batch.n_tokens() - 1), None, false) {
            Ok(t) => t,
            Err(e) => {
                slot.cached = tokens;
                return Err(Box::new((slot, output, e)));
            }
        };
        Ok(Self {
            slot,
            sampler,
            output,
            n_past: tokens.len() as i32,
            prompt_len: tokens.len(),
            history: tokens,
            reused: keep,
            next,
            index: 0,
            staged: 0,
            forced: 0,
            finished: None,
        })
    }

    /// Takes the chosen token and then every token the grammar forces after it (fast-forward:
    /// no sampling, and all decoded in this one batch, at most `room` tokens); unless that
    /// ends the answer, adds the tokens not yet decoded to `batch` in this sequence, with
    /// logits for the last.
    pub fn stage(
        &mut self,
        model: &LlamaModel,
        ctx: &mut LlamaContext<'_>,
        batch: &mut LlamaBatch,
        room: usize,
    ) -> Result<Status, Error> {
        if self.take(model, ctx, self.next)? {
            return Ok(Status::Finished);
        }
        for forced in self.sampler.forced() {
            if self.history.len() - self.n_past as usize >= room.max(1) {
                break;
            }
            self.forced += 1;
            if self.take(model, ctx, forced)? {
                return Ok(Status::Finished);
            }
        }
        let seq = [self.slot.seq];
        let staged = &self.history[self.n_past as usize..];
        for (j, token) in staged.iter().enumerate() {
            let last = j + 1 == staged.len();
            batch
                .add(*token, self.n_past + j as i32, &seq, last)
                .map_err(decode_error)?;
        }
        self.index = batch.n_tokens() - 1;
        self.staged = staged.len() as i32;
        Ok(Status::Running)
    }

    /// After the batch is decoded: chooses the next token from this sequence's logits.
    pub fn advance(&mut self, ctx: &LlamaContext<'_>) -> Result<Status, Error> {
        self.n_past += self.staged;
        let (copying, in_string) = self.output.position();
        self.next =
            self.sampler
                .choose(ctx.get_logits_ith(self.index), copying.as_ref(), in_string)?;
        Ok(Status::Running)
    }

    /// Accepts a token into the grammar and the history and emits it; whether that ends the
    /// answer (the finish is kept for [`finish`](Self::finish)). When it completes a list
    /// item that repeats an earlier one, the item is undone and the list closed instead.
    fn take(
        &mut self,
        model: &LlamaModel,
        ctx: &mut LlamaContext<'_>,
        token: LlamaToken,
    ) -> Result<bool, Error> {
        self.sampler.accept(token);
        if self.emit(model, token) {
            return Ok(true);
        }
        if let Some(at) = self.output.value_started.take() {
            // Only a value that could be null is held.
            let nullable = self
                .output
                .undo(at, "null")
                .and_then(|u| self.sampler.rewrite(u.drop, &u.closing, false));
            if nullable.is_none() {
                self.output.release_value();
            }
        }
        if let Some(at) = self.output.ungrounded.take() {
            return self.rewrite(model, ctx, at, "null", Output::release_value);
        }
        match self.output.repeat {
            Some(at) => self.rewrite(model, ctx, at, "]", Output::release),
            None => Ok(false),
        }
    }

    /// Adds an accepted token to the history and the output; whether that ends the answer.
    fn emit(&mut self, model: &LlamaModel, token: LlamaToken) -> bool {
        self.history.push(token);
        match self.output.push(model, token) {
            Some(finish) => {
                self.finished = Some(finish);
                true
            }
            None => false,
        }
    }

    /// Writes `instead` in place of the held text from `at`: the list's `]` before an item
    /// that repeats (`at` its separator), or `null` for a member value the text does not
    /// hold (`at` its start). The grammar, the history and the output go back to the token
    /// holding `at`, the sequence forgets what it held past there, and `instead` is
    /// written. If the grammar does not allow it there, the held text stays (`give_up`
    /// lets it go).
    fn rewrite(
        &mut self,
        model: &LlamaModel,
        ctx: &mut LlamaContext<'_>,
        at: usize,
        instead: &str,
        give_up: fn(&mut Output),
    ) -> Result<bool, Error> {
        let closed = self
            .output
            .undo(at, instead)
            .and_then(|undo| Some((self.sampler.rewrite(undo.drop, &undo.closing, true)?, undo)));
        let Some((closing, undo)) = closed else {
            give_up(&mut self.output);
            return Ok(false);
        };
        self.output.apply(&undo);
        self.history.truncate(self.history.len() - undo.drop);
        if (self.history.len() as i32) < self.n_past {
            self.n_past = self.history.len() as i32;
            ctx.clear_kv_cache_seq(Some(self.slot.seq as u32), Some(self.n_past as u32), None)
                .map_err(decode_error)?;
        }
        for token in closing {
            if self.emit(model, token) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The prompt's length in tokens.
    pub fn prompt_len(&self) -> usize {
        self.prompt_len
    }

    /// Tokens generated so far.
    pub fn generated(&self) -> u32 {
        self.output.generated
    }

    /// Tokens the grammar forced so far.
    pub fn forced(&self) -> usize {
        self.forced
    }

    /// Ends the generation: sends the end (or `error`) and gives the slot back, recording
    /// which tokens its sequence holds.
    pub fn finish(mut self, error: Option<Error>) -> Slot {
        tracing::debug!(
            generated = self.output.generated,
            reused = self.reused,
            full_masks = self.sampler.full_masks,
            "local generation finished"
        );
        match error {
            Some(e) => self.output.fail(e),
            None => {
                let finish = self.finished.take().unwrap_or(FinishReason::Unknown);
                self.output.done(finish, self.prompt_len);
            }
        }
        // Positions below `n_past` hold the history's tokens (the last one taken, which
        // ended the answer, was never decoded).
        let held = (self.n_past.max(0) as usize).min(self.history.len());
        self.history.truncate(held);
        self.slot.cached = self.history;
        self.slot
    }
}
