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
//! ## Validation against the source
//!
//! Validators can read the call's [`ValidationContext`]: the caller's messages, their user
//! text, and a value attached with [`Create::context`]. `#[instruct(verbatim)]` requires a
//! string to be copied from the user's messages; an invented one is re-asked at its JSON
//! pointer. (Rules: [the derive's documentation](derive@Instruct).)
//!
//! ```
//! use instructor::{Client, Instruct, ValidationContext, testing::ScriptedProvider};
//! use serde::Deserialize;
//!
//! /// People the caller knows about.
//! struct Staff(Vec<&'static str>);
//!
//! // `fn(&FieldType, ..)`; a `String` field's validator may take `&str`.
//! fn on_staff(name: &str, ctx: &ValidationContext<'_>) -> Result<(), String> {
//!     match ctx.value::<Staff>() {
//!         Some(staff) if !staff.0.contains(&name) => Err(format!("{name} is not on the staff")),
//!         _ => Ok(()),
//!     }
//! }
//!
//! /// A statement quoted from the text.
//! #[derive(Instruct, Deserialize, Debug)]
//! struct Quote {
//!     #[instruct(verbatim, non_empty)]
//!     quote: String,
//!     #[instruct(custom_with_context = on_staff)]
//!     speaker: String,
//! }
//!
//! # async fn demo() -> Result<(), instructor::Error> {
//! let provider = ScriptedProvider::new()
//!     .with_text(r#"{"quote": "We will ship Friday.", "speaker": "Ann"}"#)
//!     .with_text(r#"{"quote": "We ship on Friday.", "speaker": "Ann"}"#);
//! let client = Client::new(provider.clone());
//! let quote = client
//!     .create::<Quote>()
//!     .user("Ann said: \"We ship\n on Friday.\"")
//!     .context(Staff(vec!["Ann", "Bob"]))
//!     .send()
//!     .await?;
//! assert_eq!(quote.quote, "We ship on Friday.");
//!
//! // The first answer was invented, and the re-ask said where and why:
//! let reask = provider.requests()[1].messages.last().unwrap().text();
//! assert!(reask.contains("/quote: `quote` must be copied verbatim from the input text"));
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
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
