//! The JSON machinery every path shares: the `locate` step that finds the answer's value
//! in a model's text, the lenient [`repair`](crate::Repair) pass, and the incremental parser
//! behind streaming. Not a stable API: providers and the fuzz targets reach it through
//! here.

mod locate;
pub(crate) mod repair;
mod snapshot;
pub(crate) mod stream;

pub use locate::{locate, Balance, Locator, ValueEnd};
pub use repair::repair;
pub use stream::{JsonStream, Limits, OnComplete, Path, Seg, MAX_DEPTH};
