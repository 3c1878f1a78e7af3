//! instructor facade (filled in below).
pub use instructor_core::*;
#[cfg(feature = "derive")]
pub use instructor_derive::Instruct;
