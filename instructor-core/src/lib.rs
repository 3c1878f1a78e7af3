//! The core of `instructor`: the [`Instruct`] trait and its schemas and validators, the
//! [`Mode`]s, the [`Provider`] trait with its provider-neutral [`Request`] and
//! [`Response`], the [`Client`] and the extraction loop that parses, validates and re-asks.
//!
//! Most users depend on the `instructor` facade crate instead, which re-exports all of
//! this together with `#[derive(Instruct)]` and the providers.

mod client;
mod create;
mod error;
mod extract;
mod hooks;
mod instruct;
#[doc(hidden)]
pub mod json;
mod message;
mod mode;
mod provider;
mod retry;
pub mod schema;
mod std_impls;
pub mod stream;
pub mod testing;
mod usage;
mod validation;

#[doc(hidden)]
pub mod __private;

pub use async_trait::async_trait;
pub use client::Client;
pub use create::{Completion, Create, Items, One, Partials};
pub use error::{Attempt, Error, Result};
pub use hooks::{Event, Hook};
pub use instruct::{Instruct, ToolSpec, TypeSchema};
pub use json::repair::Repair;
pub use message::{Image, Message, Part, Role, ToolArguments, ToolCall};
pub use mode::Mode;
pub use provider::{
    Capabilities, EventStream, FinishReason, OutputSpec, Provider, Request, Response, StreamEvent,
};
pub use retry::RetryPolicy;
pub use schema::SchemaGenerator;
pub use usage::Usage;
pub use validation::{JsonPointer, ValidationError, ValidationErrors};
