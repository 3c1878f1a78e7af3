//! # instructor
//!
//! Typed, validated structured output from large language models, local models first.
//!
//! Annotate a type, and get a validated value of it back from a model:
//!
//! ```
//! use instructor::Instruct;
//! use serde::Deserialize;
//!
//! /// A person mentioned in the text.
//! #[derive(Instruct, Deserialize, Debug)]
//! struct UserDetail {
//!     /// First name as written.
//!     name: String,
//!     #[instruct(range(max = 150))]
//!     age: u8,
//! }
//!
//! // Everything a request needs is generated at compile time and built once:
//! let schema = UserDetail::json_schema();
//! assert_eq!(schema["properties"]["age"]["maximum"], 150);
//! assert_eq!(UserDetail::tool_spec().name, "UserDetail");
//!
//! // Validators run on the parsed value, with JSON pointers a model can act on:
//! let user: UserDetail = serde_json::from_str(r#"{"name": "Jason", "age": 200}"#).unwrap();
//! let errors = user.validate().unwrap_err();
//! assert_eq!(errors.to_string(), "- /age: must be at most 150, got 200");
//! ```
//!
//! The attributes `#[derive(Instruct)]` understands are listed in the
//! [`Instruct` derive's documentation](derive@Instruct).
//!
//! A client wraps a provider; `from_provider` builds one from a `"provider/model"` string:
//!
//! ```no_run
//! # use instructor::Instruct;
//! # #[derive(Instruct, serde::Deserialize, Debug)] struct UserDetail { name: String, age: u8 }
//! # async fn demo() -> Result<(), instructor::Error> {
//! let client = instructor::from_provider("ollama/llama3.2")?;
//! let user = UserDetail::extract(&client, "Jason is 30 years old").await?;
//! # Ok(()) }
//! ```
//!
//! ## The API in layers
//!
//! - The crate root: what a user of `extract` needs ([`Instruct`], [`Client`], [`Mode`],
//!   [`Error`], [`Completion`], [`prelude`]).
//! - [`stream`]: partial values and list items as an answer streams in.
//! - [`engine`]: the extraction as a plan and an interpreter of answers, for a caller's
//!   own transport, queue or batch system ([`Create::prepare`]).
//! - [`provider`]: for provider authors ([`provider::Provider`], the neutral request,
//!   response and stream events, capabilities).
//! - [`providers`]: the providers that ship with instructor.
//!
//! ## Features
//!
//! - `derive` (default): `#[derive(Instruct)]`.

pub use instructor_core::*;

#[cfg(feature = "derive")]
pub use instructor_derive::Instruct;

pub use instructor_providers::from_provider;

/// What most programs need, in one `use`: the client, the trait and its derive, modes,
/// errors and stream updates.
///
/// ```
/// use instructor::prelude::*;
///
/// #[derive(Instruct, serde::Deserialize, Debug)]
/// struct City {
///     name: String,
/// }
/// # fn takes(_: Option<(Client, Mode, Error)>) {}
/// ```
pub mod prelude {
    pub use instructor_core::prelude::*;
    #[cfg(feature = "derive")]
    pub use instructor_derive::Instruct;
}

/// Providers: translators between instructor's neutral requests and model servers.
///
/// ```
/// use instructor::{Client, providers::OpenAi};
/// let client = Client::new(OpenAi::llama_cpp_python("http://127.0.0.1:8000/v1"));
/// # let _ = client;
/// ```
pub mod providers {
    pub use instructor_providers::*;
}
