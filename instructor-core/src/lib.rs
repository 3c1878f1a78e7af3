//! The core of `instructor`: the [`Instruct`] trait and its schemas and validators, the
//! [`Mode`]s, the [`Provider`] trait with its provider-neutral request and response, the
//! [`Client`] and the extraction loop that parses, validates and re-asks.
//!
//! Most users depend on the `instructor` facade crate instead, which re-exports all of
//! this together with `#[derive(Instruct)]` and the providers.

mod instruct;
pub mod schema;
mod std_impls;
mod validation;

#[doc(hidden)]
pub mod __private;

pub use instruct::{Instruct, ToolSpec, TypeSchema};
pub use schema::SchemaGenerator;
pub use validation::{JsonPointer, ValidationError, ValidationErrors};
