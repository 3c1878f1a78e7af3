//! The thread that owns a loaded model and its context. Jobs arrive over a channel and run
//! one at a time; tokens go back over a bounded channel, so a slow reader slows generation
//! instead of growing memory, and a dropped reader stops it.

use std::num::NonZeroU32;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::OnceLock;

use instructor_core::{Error, FinishReason, Usage};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::Sender;

use super::prompt::{render, Format, Turn};
use super::sampler::{Sampler, Settings};
use super::LocalOptions;

/// What a job streams back.
#[derive(Debug)]
pub(crate) enum Chunk {
    Text(String),
    Done { finish: FinishReason, usage: Usage },
}

pub(crate) struct Job {
    pub turns: Vec<Turn>,
    pub grammar: Option<std::sync::Arc<str>>,
    pub max_tokens: u32,
    pub settings: Settings,
    pub stop: Vec<String>,
    pub prompt_lookup: usize,
    pub out: Sender<Result<Chunk, Error>>,
}

fn backend() -> Result<&'static LlamaBackend, Error> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Backend {
            message: format!("llama.cpp backend: {e}"),
            source: None,
        })
}

fn load_error(path: &str, message: impl ToString) -> Error {
    Error::ModelLoad {
        path: path.to_owned(),
        message: message.to_string(),
    }
}

/// Loads the model and serves jobs until every sender is gone. The outcome of loading is
/// reported once on `ready`.
pub(crate) fn run(
    path: String,
    options: LocalOptions,
    ready: SyncSender<Result<Format, Error>>,
    jobs: Receiver<Job>,
) {
    let setup = (|| {
        let backend = backend()?;
        if !std::path::Path::new(&path).is_file() {
            return Err(load_error(&path, "no such file"));
        }
        let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default())
            .map_err(|e| load_error(&path, format!("{e} (is it a GGUF model file?)")))?;
        Ok((backend, model))
    })();
    let (backend, model) = match setup {
        Ok(v) => v,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let format = match (&options.format, model.chat_template(None)) {
        (Some(f), _) => f.clone(),
        (None, Ok(_)) => Format::Template,
        (None, Err(_)) => match model.meta_val_str("general.architecture") {
            Ok(arch) if arch.starts_with("gemma") => Format::Gemma,
            _ => Format::Plain,
        },
    };
    let threads = options.threads.max(1) as i32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(options.context_size))
        .with_n_batch(options.batch_size)
        .with_n_threads(threads)
        .with_n_threads_batch(threads);
    let mut ctx = match model.new_context(backend, params) {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(load_error(
                &path,
                format!("could not create a context: {e}"),
            )));
            return;
        }
    };
    if ready.send(Ok(format.clone())).is_err() {
        return;
    }
    while let Ok(job) = jobs.recv() {
        let out = job.out.clone();
        if let Err(e) = generate(&model, &mut ctx, &format, &options, job) {
            let _ = out.blocking_send(Err(e));
        }
    }
}

fn prompt(model: &LlamaModel, format: &Format, turns: &[Turn]) -> Result<String, Error> {
    if *format != Format::Template {
        return Ok(render(format, turns));
    }
    let template = model.chat_template(None).map_err(|e| Error::Backend {
        message: format!("the model's chat template: {e}"),
        source: Some(Box::new(e)),
    })?;
    let messages = turns
        .iter()
        .map(|t| LlamaChatMessage::new(t.role.to_owned(), t.text.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Unsupported {
            what: format!("a message holding a NUL byte with the local model's template: {e}"),
        })?;
    model
        .apply_chat_template(&template, &messages, true)
        .map_err(|e| Error::Backend {
            message: format!("the model's chat template: {e}"),
            source: Some(Box::new(e)),
        })
}

fn decode_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Backend {
        message: format!("llama.cpp decode failed: {e}"),
        source: Some(Box::new(e)),
    }
}

/// Output state of one generation: text decoding, stop conditions, counts.
struct Output<'a> {
    model: &'a LlamaModel,
    pending_bytes: Vec<u8>,
    text: String,
    json: Option<instructor_core::json::ValueEnd>,
    stop: &'a [String],
    generated: u32,
    max_tokens: u32,
    out: &'a Sender<Result<Chunk, Error>>,
}

impl Output<'_> {
    /// Emits a chosen token; `Some` when generation must end.
    fn push(&mut self, token: LlamaToken) -> Option<FinishReason> {
        let vocab = self.model.vocab();
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

/// Draft tokens copied from the prompt: the tokens that followed the latest earlier
/// occurrence of the history's last n-gram (n = 3, then 2). A single-token match proposes
/// mostly wrong spans, which cost a wider batch for nothing.
fn draft(history: &[LlamaToken], prompt_len: usize, k: usize) -> Vec<LlamaToken> {
    if k == 0 {
        return Vec::new();
    }
    for n in (2..=3usize).rev() {
        if history.len() <= n {
            continue;
        }
        let tail = &history[history.len() - n..];
        let search_end = history.len() - n;
        for start in (0..search_end).rev() {
            if history[start..start + n] == *tail && start + n < history.len() {
                let from = start + n;
                // Only copy spans of the prompt; generated text is not reliable enough.
                if from >= prompt_len {
                    continue;
                }
                return history[from..(from + k).min(prompt_len)].to_vec();
            }
        }
    }
    Vec::new()
}

fn generate(
    model: &LlamaModel,
    ctx: &mut LlamaContext<'_>,
    format: &Format,
    options: &LocalOptions,
    job: Job,
) -> Result<(), Error> {
    let text = prompt(model, format, &job.turns)?;
    let n_ctx = ctx.n_ctx() as usize;
    // No token is shorter than one byte in practice; a prompt this long cannot fit, and
    // checking first keeps a huge input away from the tokenizer.
    if text.len() > n_ctx.saturating_mul(64) {
        return Err(Error::ContextOverflow {
            prompt_tokens: text.len() / 4,
            context_tokens: n_ctx,
        });
    }
    let tokens = model.vocab().tokenize(text.as_bytes(), true, true);
    if tokens.len() + 1 >= n_ctx {
        return Err(Error::ContextOverflow {
            prompt_tokens: tokens.len(),
            context_tokens: n_ctx,
        });
    }
    let max_tokens = job.max_tokens.min((n_ctx - tokens.len() - 1) as u32).max(1);
    let grammar = match &job.grammar {
        Some(g) => Some(LlamaSampler::grammar(model, g, "root").map_err(|e| {
            Error::SchemaIncompatible {
                message: format!("llama.cpp rejected the grammar: {e}"),
            }
        })?),
        None => None,
    };
    let mut sampler = Sampler::new(grammar, job.settings);
    ctx.clear_kv_cache();

    // The prompt, in batches; logits only for its last token.
    let n_batch = options.batch_size.max(8) as usize;
    let mut batch = LlamaBatch::new(n_batch.max(job.prompt_lookup + 1), 1);
    for (c, chunk) in tokens.chunks(n_batch).enumerate() {
        batch.clear();
        for (i, t) in chunk.iter().enumerate() {
            let pos = (c * n_batch + i) as i32;
            let last = c * n_batch + i == tokens.len() - 1;
            batch.add(*t, pos, &[0], last).map_err(decode_error)?;
        }
        ctx.decode(&mut batch).map_err(decode_error)?;
    }
    let mut n_past = tokens.len() as i32;
    let mut history = tokens.clone();
    let mut output = Output {
        model,
        pending_bytes: Vec::new(),
        text: String::new(),
        json: job
            .grammar
            .as_ref()
            .map(|_| instructor_core::json::ValueEnd::default()),
        stop: &job.stop,
        generated: 0,
        max_tokens,
        out: &job.out,
    };
    let mut next = sampler.choose(ctx.get_logits_ith(batch.n_tokens() - 1))?;
    let finish = 'gen: loop {
        sampler.accept(next);
        history.push(next);
        if let Some(f) = output.push(next) {
            break f;
        }
        let drafts = draft(&history, tokens.len(), job.prompt_lookup);
        batch.clear();
        batch.add(next, n_past, &[0], true).map_err(decode_error)?;
        for (j, d) in drafts.iter().enumerate() {
            batch
                .add(*d, n_past + 1 + j as i32, &[0], true)
                .map_err(decode_error)?;
        }
        ctx.decode(&mut batch).map_err(decode_error)?;
        n_past += 1 + drafts.len() as i32;
        // Verify the drafts in order: each accepted draft is a token generated for free.
        for j in 0..=drafts.len() {
            let chosen = sampler.choose(ctx.get_logits_ith(j as i32))?;
            if j < drafts.len() && chosen == drafts[j] {
                sampler.accept(chosen);
                history.push(chosen);
                if let Some(f) = output.push(chosen) {
                    break 'gen f;
                }
                continue;
            }
            let rejected = (drafts.len() - j) as i32;
            if rejected > 0 {
                ctx.clear_kv_cache_seq(Some(0), Some((n_past - rejected) as u32), None)
                    .map_err(decode_error)?;
                n_past -= rejected;
            }
            next = chosen;
            break;
        }
    };
    tracing::debug!(
        generated = output.generated,
        full_masks = sampler.full_masks,
        finish = ?finish,
        "local generation finished"
    );
    let usage = Usage::new(tokens.len() as u64, u64::from(output.generated));
    let _ = job.out.blocking_send(Ok(Chunk::Done { finish, usage }));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_end_ignores_braces_in_strings() {
        let mut j = instructor_core::json::ValueEnd::default();
        assert!(!j.feed(r#"{"a": "}{\"", "b": [1, "]""#));
        assert!(j.feed(r#"]}"#));
    }

    #[test]
    fn drafts_copy_what_followed_in_the_prompt() {
        let t = |v: &[i32]| v.iter().map(|&x| LlamaToken(x)).collect::<Vec<_>>();
        let prompt = t(&[1, 5, 6, 7, 8, 9]);
        let mut history = prompt.clone();
        history.extend(t(&[20, 5, 6]));
        assert_eq!(draft(&history, prompt.len(), 3), t(&[7, 8, 9]));
        assert!(draft(&history, prompt.len(), 0).is_empty());
        let mut other = prompt.clone();
        other.push(LlamaToken(42));
        assert!(draft(&other, prompt.len(), 3).is_empty());
        let mut single = prompt.clone();
        single.extend(t(&[20, 6]));
        assert!(
            draft(&single, prompt.len(), 3).is_empty(),
            "one matching token is not enough"
        );
    }
}
