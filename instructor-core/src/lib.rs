//! The core of `instructor`: the [`Instruct`] trait and its schemas and validators, the
//! [`Mode`]s, the [`Provider`] trait with its provider-neutral [`Request`] and
//! [`Response`], the [`Client`] and the extraction loop that parses, validates and re-asks.
//!
//! Most users depend on the `instructor` facade crate instead, which re-exports all of
//! this together with `#[derive(Instruct)]` and the providers.

// The data layer: requests, responses, modes, errors, settings, the types' schemas and
// validators, the JSON machinery.
pub mod cache;
mod completion;
mod error;
mod hooks;
mod instruct;
#[doc(hidden)]
pub mod json;
mod maybe;
pub mod media;
mod message;
mod mode;
mod partial;
pub mod provider;
pub mod schema;
mod schema_ref;
mod settings;
mod std_impls;
mod type_schema;
mod usage;
mod validation;

// The engine (plan, interpret, re-ask; no I/O), then the drivers that feed it.
mod drive;
pub mod engine;

// What users call.
pub mod batch;
pub mod bulk;
mod client;
mod create;
#[cfg(feature = "dynamic")]
mod dynamic;
pub mod stream;
pub mod testing;

#[doc(hidden)]
pub mod __private;

pub use client::Client;
pub use completion::Completion;
pub use create::Create;
#[cfg(feature = "dynamic")]
pub use dynamic::DynamicSchema;
pub use error::{Attempt, Error, Result};
pub use hooks::{Event, Hook};
pub use instruct::{Extractor, Instruct};
pub use json::repair::Repair;
pub use maybe::Maybe;
pub use media::{Audio, Document, Image};
pub use message::{Message, Part, Role};
pub use mode::Mode;
pub use settings::RetryPolicy;
pub use usage::Usage;
pub use validation::{JsonPointer, ValidationContext, ValidationError, ValidationErrors};

// Provider-author items live in `provider`; the builder's marker types are named only in
// `Create`'s signature. Kept at the root for code written against earlier releases.
#[doc(hidden)]
pub use create::{Items, One, Partials, Streamed};
#[doc(hidden)]
pub use provider::{
    async_trait, Capabilities, EventStream, FinishReason, OutputSpec, Provider, Request, Response,
    StreamEvent, ToolArguments, ToolCall, ToolSpec, TypeSchema,
};
#[doc(hidden)]
pub use schema::SchemaGenerator;

/// What most programs need, in one `use`.
///
/// ```
/// use instructor_core::prelude::*;
/// # fn takes(_: Option<(Client, Mode, Error)>) {}
/// ```
pub mod prelude {
    pub use crate::stream::Update;
    pub use crate::{Client, Error, Extractor, Instruct, Mode};
}
