//! Providers for `instructor`: translators between its provider-neutral requests and the
//! wire formats of model servers.
//!
//! - [`OpenAi`]: OpenAI and every OpenAI-compatible server, with presets (Ollama, llama.cpp,
//!   llama-cpp-python, vLLM, LM Studio, Groq, Together, Anyscale, Fireworks, DeepSeek,
//!   OpenRouter, xAI).
//! - Native APIs: [`Anthropic`], [`Gemini`], [`Mistral`], [`Cohere`], [`Ollama`].
//! - [`from_provider`]: a configured client from a `"provider/model"` string.
//! - `LocalModel` (feature `local`): a GGUF model run in process by llama.cpp, its answers
//!   constrained by a grammar compiled from the type's schema ([`gbnf`]).
//!
//! Each provider is a translator between the neutral request and one wire format; one
//! generic implementation of [`Provider`](instructor_core::Provider) does the rest (checks,
//! the HTTP exchange, streams, [`wire_body`](instructor_core::Provider::wire_body)). Each
//! declares which modes its server really honours, and whether it takes images; asking for
//! anything else is a typed error
//! ([`Error::UnsupportedMode`](instructor_core::Error::UnsupportedMode),
//! [`Error::Unsupported`](instructor_core::Error::Unsupported)) before any request.
//! API keys are held in [`ApiKey`], which never prints.

mod anthropic;
mod batch;
mod body;
mod cohere;
pub mod dialect;
mod endpoint;
mod events;
mod fleet;
mod fragments;
mod from_provider;
pub mod gbnf;
mod gemini;
mod http;
#[cfg(feature = "local")]
mod local;
mod mistral;
mod ollama;
mod openai;
mod redirect;
mod scrub;
mod secret;
mod shared;
mod sse;
mod translate;

/// Synchronous views of the stream decoders for the fuzz targets; not an API.
#[doc(hidden)]
#[path = "fuzz_api.rs"]
pub mod __fuzz;

pub use anthropic::Anthropic;
pub use cohere::Cohere;
pub use fleet::{Fallback, MemberStatus, Pool, Strategy};
pub use from_provider::from_provider;
pub use gemini::Gemini;
pub use http::HttpOptions;
#[cfg(feature = "local")]
pub use local::{Engine, LocalModel, LocalOptions, LocalStats, PromptFormat};
pub use mistral::Mistral;
pub use ollama::Ollama;
pub use openai::OpenAi;
pub use secret::ApiKey;
pub use translate::HttpProvider;
