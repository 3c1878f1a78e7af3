//! The in-process provider: a GGUF model run by llama.cpp in this process, answers
//! constrained by a grammar compiled from the type's schema, so every answer parses. No
//! server, no key.

mod generation;
mod ground;
mod guidance;
mod output;
mod prompt;
mod repeat;
mod sampler;
mod stats;
mod verbatim;
mod worker;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::{mpsc, Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use instructor_core::provider::SchemaRef;
use instructor_core::{
    Capabilities, Error, EventStream, Mode, Provider, Request, Response, StreamEvent, TypeSchema,
};

pub use prompt::Format as PromptFormat;
pub use stats::LocalStats;
use worker::{Chunk, Constraint, Job};

/// How a [`LocalModel`] runs.
///
/// ```
/// use instructor_providers::LocalOptions;
/// let o = LocalOptions { threads: 1, parallel: 4, ..LocalOptions::default() };
/// assert_eq!(o.context_size, 2048);
/// // For types whose values the model works out rather than copies (a summary, a date it
/// // computes): no copy bonus, and no nulls in place of values the text lacks.
/// let derived = LocalOptions { copy_bias: 0.0, ground_nulls: false, ..LocalOptions::default() };
/// # let _ = derived;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LocalOptions {
    /// Context window in tokens (prompt and answer together).
    pub context_size: u32,
    /// Prompt tokens decoded per batch.
    pub batch_size: u32,
    /// How many of the model's layers run on the GPU (llama.cpp's `n_gpu_layers`); the
    /// default, `u32::MAX`, offloads them all, as llama.cpp does. It takes effect in builds
    /// with a GPU backend (the `cuda`, `vulkan` or `metal` feature); a CPU build has no
    /// device to offload to and runs every layer on the CPU. `0` keeps the model on the CPU
    /// in any build.
    pub gpu_layers: u32,
    /// CPU threads. The default is 1 on machines with two cores or fewer, where a second
    /// thread competing with other work slows generation down, else half the cores.
    pub threads: usize,
    /// The answer's token limit when the call sets none.
    pub max_tokens: u32,
    /// What constrains decoding to the schema (default [`Engine::Guidance`]).
    pub engine: Engine,
    /// How many calls run at once, each in its own sequence of one context (whose size is
    /// `context_size` times this), decoding together in one batch per step: concurrent
    /// calls and bulk runs share the model's forward passes; more calls queue. It pays where
    /// a forward pass is bound by memory bandwidth (a GPU, many cores); on a CPU thread or
    /// two a 4-sequence batch costs about 4 steps (`cargo bench --bench local`), so the
    /// default is 1.
    pub parallel: usize,
    /// Candidates considered when sampling with a temperature.
    pub top_k: usize,
    /// Nucleus sampling threshold when sampling with a temperature.
    pub top_p: f32,
    /// Penalty on recently generated tokens (1.0 = none).
    pub repeat_penalty: f32,
    /// Seed for sampling with a temperature.
    pub seed: u64,
    /// Under llguidance, the bonus added to the logits of the tokens that go on copying a
    /// run of the user text (from the start of one of its words, ignoring ASCII case)
    /// while the answer is in a string or a number: extraction mostly copies, and a small
    /// model that half-copies (`apple` for "apples", `100000000` for "3") is nudged back
    /// onto the text. A value the text does not hold stays possible where the model
    /// prefers it by more than this. `0.0` turns it off.
    pub copy_bias: f32,
    /// Under llguidance, whether a member value the user text does not hold (a string
    /// whose trimmed content it does not contain, ignoring case; a number it does not
    /// have) becomes `null` where the schema allows null: a small model fills optional
    /// fields with invented details (`"phone": "1-800-…"` for a text with no phone). Such
    /// a value is held back from a stream until it is known. A value the model would
    /// work out rather than copy (a date it computes) is lost on a nullable field; turn
    /// this off for such types.
    pub ground_nulls: bool,
    /// The prompt format; `None` picks the model's chat template, else Gemma's turns for
    /// Gemma models, else a plain format.
    pub format: Option<PromptFormat>,
}

impl Default for LocalOptions {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            context_size: 2048,
            batch_size: 512,
            gpu_layers: u32::MAX,
            threads: if cores <= 2 { 1 } else { cores / 2 },
            max_tokens: 512,
            parallel: 1,
            engine: Engine::Guidance,
            top_k: 40,
            top_p: 0.95,
            repeat_penalty: 1.0,
            seed: 42,
            copy_bias: 4.0,
            ground_nulls: true,
            format: None,
        }
    }
}

/// What constrains the local model's decoding to a schema.
///
/// ```
/// use instructor_providers::{Engine, LocalOptions};
/// let o = LocalOptions { engine: Engine::Gbnf, ..LocalOptions::default() };
/// assert_eq!(LocalOptions::default().engine, Engine::Guidance);
/// # let _ = o;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// llguidance (the engine behind llama.cpp's, vLLM's and SGLang's structured output),
    /// the default. It covers more of JSON Schema than our GBNF compiler; a keyword it does
    /// not implement loosens the grammar (logged by name; the answer is still checked
    /// against the whole schema after parsing). The tokens the grammar forces are
    /// appended without sampling and decoded in one batch (fast-forward); objects take only
    /// their listed properties, numbers without bounds at most 18 digits, and the JSON has
    /// one space after `:` and `,` and none elsewhere (the examples the prompt shows are
    /// written in that layout too). On top of the grammar: a list item that repeats an
    /// earlier one ends the list instead, a token repeated more than 8 times in a row (or,
    /// in a string, a block of 2 to 8 tokens written three times) gives way to the next
    /// best, `#[instruct(verbatim)]` strings of the root object can only
    /// be copied from the call's user text, tokens that copy the text get
    /// [`LocalOptions::copy_bias`], and values the text does not hold become null
    /// ([`LocalOptions::ground_nulls`]).
    Guidance,
    /// Our own GBNF compiler and llama.cpp's grammar sampler: no fast-forward, no list
    /// guard, no verbatim constraint, and the schemas it cannot express are refused. Kept
    /// as the baseline the local bench measures llguidance against, and for models whose
    /// vocabulary llguidance cannot walk.
    Gbnf,
}

/// What is prepared once per type: the GBNF grammar (or what it cannot express), the
/// schema's text for llguidance, and the instruction.
struct Compiled {
    grammar: Result<Arc<str>, String>,
    schema: Arc<str>,
    /// The instruction, its examples compact (GBNF) or spaced (llguidance).
    instruction: String,
    spaced_instruction: String,
    /// The type's part of the grammar that holds verbatim fields to the user text.
    verbatim: Option<verbatim::Verbatim>,
}

/// The grammar, schema text and instruction for a schema.
fn compile(schema: &TypeSchema) -> Result<Arc<Compiled>, String> {
    Ok(Arc::new(Compiled {
        grammar: crate::gbnf::compile(&schema.request_schema).map(Arc::from),
        schema: Arc::from(schema.request_schema.to_string()),
        instruction: prompt::instruction(schema, false),
        spaced_instruction: prompt::instruction(schema, true),
        verbatim: verbatim::Verbatim::build(&schema.request_schema),
    }))
}

struct Shared {
    path: String,
    format: PromptFormat,
    options: LocalOptions,
    jobs: Mutex<mpsc::Sender<Job>>,
    compiled: Mutex<HashMap<usize, Arc<Compiled>>>,
    counters: Arc<stats::Counters>,
}

/// A GGUF model loaded in this process, shared by every call and task (clones share it).
/// Calls queue on one worker thread that owns the model; async callers never block.
///
/// ```no_run
/// use instructor_providers::LocalModel;
/// # fn demo() -> Result<(), instructor_core::Error> {
/// let model = LocalModel::load("gemma-3-270m-q4_k_m.gguf")?;
/// let client = instructor_core::Client::new(model);
/// # let _ = client; Ok(()) }
/// ```
#[derive(Clone)]
pub struct LocalModel {
    shared: Arc<Shared>,
}

impl fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalModel")
            .field("path", &self.shared.path)
            .field("format", &self.shared.format)
            .field("options", &self.shared.options)
            .finish()
    }
}

impl LocalModel {
    /// Loads a GGUF model with default options. Blocks while the model loads (under a
    /// second for small models); a missing or corrupt file is [`Error::ModelLoad`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::load_with(path, LocalOptions::default())
    }

    /// Loads a GGUF model with `options`.
    pub fn load_with(path: impl AsRef<Path>, options: LocalOptions) -> Result<Self, Error> {
        let path = path.as_ref().to_string_lossy().into_owned();
        let (jobs_tx, jobs_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let worker_options = options.clone();
        let worker_path = path.clone();
        let counters = Arc::new(stats::Counters::default());
        let worker_counters = Arc::clone(&counters);
        std::thread::Builder::new()
            .name("instructor-local".to_owned())
            .spawn(move || {
                worker::run(
                    worker_path,
                    worker_options,
                    ready_tx,
                    jobs_rx,
                    &worker_counters,
                )
            })
            .map_err(|e| Error::ModelLoad {
                path: path.clone(),
                message: format!("could not start the worker thread: {e}"),
            })?;
        let format = ready_rx.recv().map_err(|_| Error::ModelLoad {
            path: path.clone(),
            message: "the worker thread stopped while loading".to_owned(),
        })??;
        Ok(Self {
            shared: Arc::new(Shared {
                path,
                format,
                options,
                jobs: Mutex::new(jobs_tx),
                compiled: Mutex::new(HashMap::new()),
                counters,
            }),
        })
    }

    /// What the model has done since it was loaded: prompt tokens evaluated and reused from
    /// a sequence's cache, tokens generated, sequences decoded per step.
    ///
    /// ```no_run
    /// # fn demo(model: &instructor_providers::LocalModel) {
    /// let s = model.stats();
    /// println!("{} of {} prompt tokens reused", s.reused_prompt_tokens, s.prompt_tokens);
    /// # }
    /// ```
    pub fn stats(&self) -> LocalStats {
        self.shared.counters.snapshot()
    }

    /// The prompt format in use.
    pub fn prompt_format(&self) -> &PromptFormat {
        &self.shared.format
    }

    fn compiled(&self, schema: &SchemaRef) -> Result<Arc<Compiled>, Error> {
        let Some(schema) = schema.as_static() else {
            // A runtime schema keeps its compiled grammar itself (its address may be reused
            // by a later schema, so it cannot key this model's map) and frees it with itself.
            let built = schema
                .runtime_cache()
                .get_or_build(&**schema, "local.compiled", || compile(schema));
            return match built.as_ref() {
                Ok(c) => Ok(Arc::clone(c)),
                Err(message) => Err(Error::SchemaIncompatible {
                    message: message.clone(),
                }),
            };
        };
        let key = schema as *const TypeSchema as usize;
        let mut cache = self
            .shared
            .compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&key) {
            return Ok(c.clone());
        }
        let c = compile(schema).map_err(|message| Error::SchemaIncompatible { message })?;
        cache.insert(key, c.clone());
        Ok(c)
    }

    /// Queues a job and returns its token channel.
    fn start(
        &self,
        request: &Request,
    ) -> Result<tokio::sync::mpsc::Receiver<Result<Chunk, Error>>, Error> {
        // A prompt of text only: a media part (image, document, audio) would be lost, so it is
        // refused as `Error::UnsupportedPart` naming it (the client checks
        // this too, from `capabilities()`; a direct call must not drop it either).
        crate::shared::no_images(request, "local")?;
        let constrained = matches!(request.output.mode, Mode::Grammar | Mode::JsonSchema);
        let compiled = if constrained {
            Some(self.compiled(&request.output.schema)?)
        } else {
            None
        };
        if request.extra.as_ref().is_some_and(|m| !m.is_empty()) {
            return Err(Error::Unsupported {
                what: "`extra` request-body parameters with the local model (it has no request body; use LocalOptions)".to_owned(),
            });
        }
        let o = &self.shared.options;
        let (tx, rx) = tokio::sync::mpsc::channel(64);
        // Under llguidance's fixed layout, the prompt shows JSON in that same layout.
        let spaced = compiled.is_some() && o.engine == Engine::Guidance;
        let instruction = compiled.as_ref().map(|c| {
            if spaced {
                c.spaced_instruction.as_str()
            } else {
                c.instruction.as_str()
            }
        });
        let source = spaced.then(|| {
            let texts: Vec<String> = request
                .messages
                .iter()
                .filter(|m| m.role == instructor_core::Role::User)
                .map(instructor_core::Message::text)
                .collect();
            texts.join("\n")
        });
        let job = Job {
            turns: prompt::turns(&request.messages, instruction, spaced),
            source,
            nulls: o.ground_nulls,
            constraint: match &compiled {
                None => None,
                Some(c) => Some(match o.engine {
                    Engine::Guidance => match c
                        .verbatim
                        .as_ref()
                        .and_then(|v| v.grammar(&request.messages))
                    {
                        Some(lark) => Constraint::Lark(lark),
                        None => Constraint::Schema(Arc::clone(&c.schema)),
                    },
                    Engine::Gbnf => Constraint::Gbnf(
                        c.grammar
                            .clone()
                            .map_err(|message| Error::SchemaIncompatible { message })?,
                    ),
                }),
            },
            max_tokens: request.max_tokens.unwrap_or(o.max_tokens),
            settings: sampler::Settings {
                temperature: request.temperature.unwrap_or(0.0),
                top_k: o.top_k,
                top_p: request.top_p.unwrap_or(o.top_p),
                repeat_penalty: o.repeat_penalty,
                copy_bias: o.copy_bias,
                seed: request.seed.unwrap_or(o.seed),
            },
            stop: request.stop.clone(),
            out: tx,
        };
        self.shared
            .jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| Error::Backend {
                message: "the local model's worker thread has stopped".to_owned(),
                source: None,
            })?;
        Ok(rx)
    }
}

#[async_trait]
impl Provider for LocalModel {
    fn name(&self) -> &str {
        "local"
    }

    /// The model file (its path and size) and the prompt format it is driven with.
    fn cache_identity(&self) -> String {
        let size = std::fs::metadata(&self.shared.path).map_or(0, |m| m.len());
        format!("local {} {size} {:?}", self.shared.path, self.shared.format)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[Mode::Grammar, Mode::JsonSchema, Mode::Json, Mode::MdJson])
            .with_default_mode(Mode::Grammar)
            .with_streaming(true)
            .with_images(false)
    }

    async fn send(&self, request: &Request) -> Result<Response, Error> {
        let mut rx = self.start(request)?;
        let mut text = String::new();
        while let Some(chunk) = rx.recv().await {
            match chunk? {
                Chunk::Text(t) => text.push_str(&t),
                Chunk::Done { finish, usage } => {
                    return Ok(Response::text(text)
                        .with_finish_reason(finish)
                        .with_usage(usage));
                }
            }
        }
        Err(Error::Backend {
            message: format!(
                "the local model stopped without finishing ({} characters of answer)",
                text.len()
            ),
            source: None,
        })
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, Error> {
        let rx = self.start(request)?;
        let events = tokio_stream(rx).flat_map(|chunk| {
            let events: Vec<Result<StreamEvent, Error>> = match chunk {
                Ok(Chunk::Text(t)) => vec![Ok(StreamEvent::TextDelta(t))],
                Ok(Chunk::Done { finish, usage }) => vec![
                    Ok(StreamEvent::Usage(usage)),
                    Ok(StreamEvent::Finish(finish)),
                ],
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(events)
        });
        Ok(Box::pin(events))
    }
}

/// A receiver as a stream (dropping the stream drops the receiver, which stops the worker).
fn tokio_stream<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
