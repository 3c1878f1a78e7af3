//! Streaming extraction in linear time.
//!
//! [`Client::create_partial`](crate::Client::create_partial) yields [`Update::Partial`]
//! snapshots of `T` as the answer arrives and ends with [`Update::Complete`], the validated
//! `T`. [`Client::create_iterable`](crate::Client::create_iterable) yields each element of
//! the answer's list, validated, the moment it closes.
//!
//! One incremental parser ([`JsonStream`]) reads every byte once. A snapshot costs a copy
//! of the value so far, so snapshots are budgeted: every meaningful change is shown while
//! the snapshots' total work stays within a constant factor of the bytes received; past
//! that (large answers arriving in many small chunks) changes are coalesced. Total work is
//! linear in the answer's size either way. Validators run on complete values only.
//!
//! A streamed answer that fails to parse or validate is re-asked as a new streamed attempt
//! (partials then start over); usage is summed. A stream that stops before the value is
//! complete is [`Error::IncompleteOutput`]. Dropping the stream stops reading and releases
//! the connection. Answer size and nesting depth are limited ([`Limits`]).
//!
//! ```
//! use futures::StreamExt;
//! use instructor_core::{Client, stream::Update, testing::ScriptedProvider};
//! # async fn demo() -> Result<(), instructor_core::Error> {
//! let provider = ScriptedProvider::new().with_text(r#"{"items": ["red", "green"]}"#);
//! let client = Client::new(provider);
//! let mut stream = client.create_partial::<Vec<String>>().user("Two colours").send().await?;
//! while let Some(update) = stream.next().await {
//!     match update? {
//!         Update::Partial(colours) => println!("so far: {colours:?}"),
//!         Update::Complete { value, .. } => assert_eq!(value, ["red", "green"]),
//!     }
//! }
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

mod complete;
mod run;

use std::pin::Pin;

use futures::Stream;

#[doc(hidden)]
pub use crate::json::stream::{JsonStream, OnComplete, Path, Seg};
pub use crate::json::stream::{Limits, MAX_DEPTH};
pub use complete::{complete, Complete};

use crate::create::{Items, Partials};
use crate::{Create, Error, Instruct, Usage};

/// One item of a partial stream.
#[derive(Debug, Clone)]
pub enum Update<T: Instruct> {
    /// The value as far as it has arrived.
    Partial(T::Partial),
    /// The final, validated value, and the tokens every attempt used.
    Complete {
        /// The value.
        value: T,
        /// Tokens used by every attempt.
        usage: Usage,
    },
}

/// A stream of [`Update`]s.
pub type PartialStream<'c, T> = Pin<Box<dyn Stream<Item = Result<Update<T>, Error>> + Send + 'c>>;

/// A stream of validated list items.
pub type ItemStream<'c, T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'c>>;

/// Decides when a snapshot may be taken: every change while the snapshots' total size is
/// within `FACTOR` times the bytes received plus `ALLOWANCE` (so answers of a few KB show
/// every change, and large ones cost at most about twice a plain parse in snapshots).
#[derive(Debug, Default)]
pub(crate) struct Budget {
    spent: usize,
}

impl Budget {
    const FACTOR: usize = 1;
    const ALLOWANCE: usize = 64 * 1024;

    pub fn allow(&mut self, size: usize, received: usize) -> bool {
        let cost = size.max(1);
        if self.spent + cost <= Self::FACTOR * received + Self::ALLOWANCE {
            self.spent += cost;
            true
        } else {
            false
        }
    }
}

impl<'c, T: Instruct + Send> Create<'c, T, Partials> {
    /// Starts the streamed extraction and returns the stream of updates. Fails at once for
    /// what fails before any answer (an unsupported mode, a provider that cannot stream, a
    /// connection error); later failures arrive as the stream's last item.
    pub async fn send(self) -> Result<PartialStream<'c, T>, Error> {
        let (client, call, messages) = self.into_call()?;
        run::partial::<T>(client, call, messages).await
    }
}

impl<'c, T: Instruct + Send> Create<'c, T, Items> {
    /// Starts the streamed extraction of a list and returns the stream of items. An item
    /// that fails validation is yielded as an error and the stream goes on.
    pub async fn send(self) -> Result<ItemStream<'c, T>, Error> {
        let (client, call, messages) = self.into_call()?;
        run::items::<T>(client, call, messages).await
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn budget_keeps_total_work_linear() {
        // A 1 MB answer in 16-byte chunks: a snapshot per chunk would cost 32 GB of work.
        let (mut b, mut work, size) = (Budget::default(), 0usize, 1usize << 20);
        for received in (16..=size).step_by(16) {
            if b.allow(received, received) {
                work += received;
            }
        }
        assert!(work <= Budget::FACTOR * size + Budget::ALLOWANCE);
        // A small answer gets every change.
        let mut b = Budget::default();
        assert!((16..=1024).step_by(16).all(|r| b.allow(r, r)));
    }
}
