//! The thread that owns a loaded model and its context. Jobs arrive over a channel; up to
//! `parallel` of them run at once, each in its own sequence of one context, and every step
//! decodes one token of each in a single batch (concurrent calls and bulk runs share the
//! model's forward passes). A sequence keeps its KV cache between jobs, so a job evaluates
//! only the part of its prompt past what its sequence already holds (the instructions,
//! schema and examples every extraction of a type shares). Tokens go back over a bounded
//! channel, so a slow reader slows generation instead of growing memory, and a dropped
//! reader stops its job.

use std::num::NonZeroU32;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::OnceLock;

use instructor_core::Error;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::Sender;

use super::generation::{decode_error, Generation, Slot, Status};
use super::guidance::Guidance;
use super::prompt::{render, Format, Turn};
use super::sampler::Settings;
use super::stats::Counters;
use super::LocalOptions;

pub(crate) use super::output::Chunk;

/// What constrains a job's answer.
#[derive(Debug, Clone)]
pub(crate) enum Constraint {
    /// A GBNF grammar, for llama.cpp's sampler.
    Gbnf(std::sync::Arc<str>),
    /// A JSON schema (its text), for llguidance.
    Schema(std::sync::Arc<str>),
    /// A Lark grammar written for this call (verbatim fields), for llguidance.
    Lark(String),
}

pub(crate) struct Job {
    pub turns: Vec<Turn>,
    /// Under llguidance, the user messages' text, which list items are expected to come
    /// from (the list guard runs only there).
    pub source: Option<String>,
    /// Whether member values the source does not hold become null (see `Output`).
    pub nulls: bool,
    pub constraint: Option<Constraint>,
    pub max_tokens: u32,
    pub settings: Settings,
    pub stop: Vec<String>,
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

/// How the model is loaded: `gpu_layers` passed to llama.cpp as `n_gpu_layers`.
pub(crate) fn model_params(options: &LocalOptions) -> LlamaModelParams {
    LlamaModelParams::default().with_n_gpu_layers(options.gpu_layers)
}

/// Loads the model and serves jobs until every sender is gone. The outcome of loading is
/// reported once on `ready`.
pub(crate) fn run(
    path: String,
    options: LocalOptions,
    ready: SyncSender<Result<Format, Error>>,
    jobs: Receiver<Job>,
    counters: &Counters,
) {
    let setup = (|| {
        let backend = backend()?;
        if !std::path::Path::new(&path).is_file() {
            return Err(load_error(&path, "no such file"));
        }
        let model = LlamaModel::load_from_file(backend, &path, &model_params(&options))
            .map_err(|e| load_error(&path, format!("{e} (is it a GGUF model file?)")))?;
        Ok((backend, model))
    })();
    let (backend, model) = match setup {
        Ok((backend, model)) => (backend, std::sync::Arc::new(model)),
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
    let parallel = options.parallel.clamp(1, 64) as u32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(
            options.context_size.saturating_mul(parallel),
        ))
        .with_n_batch(options.batch_size)
        .with_n_seq_max(parallel)
        // A full-size sliding-window cache keeps every position, so a sequence's prefix can
        // be reused after a long answer.
        .with_swa_full(true)
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
    let env = Env {
        model: &model,
        format: &format,
        options: &options,
        counters,
    };
    serve(&env, &mut ctx, &jobs);
}

/// What the serving loop works with besides the context.
struct Env<'a> {
    model: &'a std::sync::Arc<LlamaModel>,
    format: &'a Format,
    options: &'a LocalOptions,
    counters: &'a Counters,
}

/// Runs jobs until every sender is gone: admits queued jobs while a sequence is free (waits
/// for one when nothing runs), then decodes one step of every running job in one batch.
fn serve(env: &Env<'_>, ctx: &mut LlamaContext<'_>, jobs: &Receiver<Job>) {
    let Env {
        model,
        options,
        counters,
        ..
    } = *env;
    let parallel = options.parallel.clamp(1, 64);
    let mut free: Vec<Slot> = (0..parallel)
        .map(|seq| Slot {
            seq: seq as i32,
            cached: Vec::new(),
        })
        .collect();
    let mut running: Vec<Generation> = Vec::with_capacity(parallel);
    let n_batch = options.batch_size.max(8) as usize;
    let capacity = n_batch.max(parallel);
    let mut batch = LlamaBatch::new(capacity, 1);
    // Each running job may stage its token and the ones its grammar forces, up to its share.
    let room = capacity / parallel;
    // llguidance's tokenizer environment, built at the first job that needs it.
    let mut guidance = None;
    loop {
        while !free.is_empty() {
            let job = if running.is_empty() {
                match jobs.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                }
            } else {
                match jobs.try_recv() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            };
            admit(env, ctx, &mut guidance, &mut free, &mut running, job);
        }
        batch.clear();
        sweep(&mut running, &mut free, counters, |g| {
            g.stage(model, ctx, &mut batch, room)
        });
        if batch.n_tokens() == 0 {
            continue;
        }
        counters.step(running.len());
        if let Err(e) = ctx.decode(&mut batch) {
            // Every sequence in the batch is in an unknown state: end their jobs, reuse none.
            let message = decode_error(e).to_string();
            for g in running.drain(..) {
                counters.generated(g.generated(), g.forced());
                let error = Error::Backend {
                    message: message.clone(),
                    source: None,
                };
                let mut slot = g.finish(Some(error));
                slot.cached.clear();
                let _ = ctx.clear_kv_cache_seq(Some(slot.seq as u32), None, None);
                free.push(slot);
            }
            continue;
        }
        sweep(&mut running, &mut free, counters, |g| g.advance(ctx));
    }
}

/// The prompt is evaluated in chunks of this many tokens at fixed positions (0, n, 2n,
/// ...): large enough to keep the matrix products efficient, small enough that a shared
/// prefix loses at most one chunk.
fn prompt_chunk(options: &LocalOptions) -> usize {
    (options.batch_size as usize).clamp(8, 32)
}

/// Runs `step` on every running job; those it ends give their sequence back.
fn sweep(
    running: &mut Vec<Generation>,
    free: &mut Vec<Slot>,
    counters: &Counters,
    mut step: impl FnMut(&mut Generation) -> Result<Status, Error>,
) {
    let mut i = 0;
    while i < running.len() {
        let error = match step(&mut running[i]) {
            Ok(Status::Running) => {
                i += 1;
                continue;
            }
            Ok(Status::Finished) => None,
            Err(e) => Some(e),
        };
        let done = running.remove(i);
        counters.generated(done.generated(), done.forced());
        free.push(done.finish(error));
    }
}

/// Starts `job` in the free sequence holding the longest prefix of its prompt.
fn admit(
    env: &Env<'_>,
    ctx: &mut LlamaContext<'_>,
    guidance: &mut Option<Guidance>,
    free: &mut Vec<Slot>,
    running: &mut Vec<Generation>,
    job: Job,
) {
    let Env {
        model,
        format,
        options,
        counters,
    } = *env;
    let n_ctx_seq = options.context_size as usize;
    let tokens = match tokenize(model, format, &job.turns, n_ctx_seq) {
        Ok(t) => t,
        Err(e) => {
            let _ = job.out.blocking_send(Err(e));
            return;
        }
    };
    let best = free
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.shared_prefix(&tokens))
        .map_or(0, |(i, _)| i);
    let slot = free.swap_remove(best);
    match Generation::start(
        model,
        guidance,
        ctx,
        slot,
        tokens,
        job,
        n_ctx_seq,
        prompt_chunk(options),
    ) {
        Ok(g) => {
            counters.started(g.prompt_len(), g.reused);
            running.push(g);
        }
        Err(failed) => {
            let (slot, output, e) = *failed;
            output.fail(e);
            free.push(slot);
        }
    }
}

/// The prompt's tokens, or a context overflow before a huge input reaches the tokenizer.
fn tokenize(
    model: &LlamaModel,
    format: &Format,
    turns: &[Turn],
    n_ctx: usize,
) -> Result<Vec<LlamaToken>, Error> {
    let text = prompt(model, format, turns)?;
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
    Ok(tokens)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_layers_reach_llama_cpp() {
        let params = |gpu_layers| {
            model_params(&LocalOptions {
                gpu_layers,
                ..LocalOptions::default()
            })
        };
        assert_eq!(params(0).n_gpu_layers(), 0);
        assert_eq!(params(12).n_gpu_layers(), 12);
        // The default offloads every layer, as llama.cpp's own default does.
        assert_eq!(
            params(LocalOptions::default().gpu_layers).n_gpu_layers(),
            i32::MAX
        );
    }
}
