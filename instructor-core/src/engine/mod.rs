//! The attempt engine: plan a request for a type and a mode, interpret each answer (locate,
//! parse, repair, validate), decide done, re-ask or fail, and record every attempt (hooks,
//! tracing). No I/O and no knowledge of who drives it: the one-shot and streamed drivers,
//! and a caller's own transport through [`Prepared`], all go through here.
//!
//! This layer imports only the data layer (requests, responses, modes, errors, the types'
//! schemas and the JSON machinery).

mod judge;
mod modes;
mod parallel;
pub(crate) mod parse;
mod plan;
mod prepared;
mod reask;

pub(crate) use judge::{check_finish, validate_item};
pub(crate) use modes::spec;
pub(crate) use prepared::choose_mode;
pub use prepared::{Prepared, Step};
