//! The core of `instructor`: the [`Instruct`] trait and its schemas and validators, the
//! [`Mode`]s, the [`Provider`] trait with its provider-neutral [`Request`] and
//! [`Response`], the [`Client`] and the extraction loop that parses, validates and re-asks.
//!
//! Most users depend on the `instructor` facade crate instead, which re-exports all of
//! this together with `#[derive(Instruct)]` and the providers.

// The data layer: requests, responses, modes, errors, settings, the types' schemas and
// validators, the JSON machinery.
mod completion;
mod error;
mod hooks;
mod instruct;
#[doc(hidden)]
pub mod json;
mod message;
mod mode;
mod partial;
mod provider;
pub mod schema;
mod settings;
mod std_impls;
mod usage;
mod validation;

// The engine (plan, interpret, re-ask; no I/O), then the drivers that feed it.
mod drive;
pub mod engine;

// What users call.
mod client;
mod create;
pub mod stream;
pub mod testing;

#[doc(hidden)]
pub mod __private;

pub use async_trait::async_trait;
pub use client::Client;
pub use completion::Completion;
pub use create::{Create, Items, One, Partials};
pub use error::{Attempt, Error, Result};
pub use hooks::{Event, Hook};
pub use instruct::{Extractor, Instruct, ToolSpec, TypeSchema};
pub use json::repair::Repair;
pub use message::{Image, Message, Part, Role, ToolArguments, ToolCall};
pub use mode::Mode;
pub use provider::{
    Capabilities, EventStream, FinishReason, OutputSpec, Provider, Request, Response, StreamEvent,
};
pub use schema::SchemaGenerator;
pub use settings::RetryPolicy;
pub use usage::Usage;
pub use validation::{JsonPointer, ValidationError, ValidationErrors};
