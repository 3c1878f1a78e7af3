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

pub use crate::drive::items::ItemStream;
pub use crate::drive::partial::{PartialStream, Update};
#[doc(hidden)]
pub use crate::json::{JsonStream, OnComplete, Path, Seg};
pub use crate::json::{Limits, MAX_DEPTH};
pub use crate::partial::{complete, Complete};

use crate::create::{Items, Partials};
use crate::{Create, Error, Instruct};

impl<'c, T: Instruct + Send> Create<'c, T, Partials> {
    /// Starts the streamed extraction and returns the stream of updates. Fails at once for
    /// what fails before any answer (an unsupported mode, a provider that cannot stream, a
    /// connection error); later failures arrive as the stream's last item.
    pub async fn send(self) -> Result<PartialStream<'c, T>, Error> {
        let (client, call, messages) = self.into_call()?;
        let prepared = client.prepare::<T>(&call, messages)?;
        crate::drive::partial::run::<T>(client.ctx(), prepared, &call).await
    }
}

impl<'c, T: Instruct + Send> Create<'c, T, Items> {
    /// Starts the streamed extraction of a list and returns the stream of items. An item
    /// that fails validation is yielded as an error and the stream goes on.
    pub async fn send(self) -> Result<ItemStream<'c, T>, Error> {
        let (client, call, messages) = self.into_call()?;
        let prepared = client.prepare::<Vec<T>>(&call, messages)?;
        crate::drive::items::run::<T>(client.ctx(), prepared, &call).await
    }
}
