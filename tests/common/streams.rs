//! Stream test helpers shared by the streaming tests: draining partial and iterable streams
//! into their values, updates and final completions.

use std::fmt;

use futures::{Stream, StreamExt};
use instructor::stream::{PartialStream, Update};
use instructor::{
    async_trait, Capabilities, Create, Error, EventStream, Instruct, Items, Mode, Partials,
    Provider, Request, Response, Usage,
};

/// The error of a whole extraction that must fail.
pub async fn failure<T: Instruct + fmt::Debug>(call: Create<'_, T>) -> Error {
    call.send().await.expect_err("the extraction must fail")
}

/// Starts a stream of partial values; starting must succeed.
pub async fn start_partial<T: Instruct + Send>(
    call: Create<'_, T, Partials>,
) -> PartialStream<'_, T> {
    call.send().await.expect("the partial stream starts")
}

/// How a stream of partial values ended: the final value with the summed usage, or the
/// error that ended it.
pub type End<T> = Result<(T, Usage), Error>;

/// Starts a stream of partial values and reads it to its end: every partial value in order,
/// then how it ended. The stream must end in one final value or one error, with nothing
/// after it.
pub async fn drain<T: Instruct + Send + fmt::Debug>(
    call: Create<'_, T, Partials>,
) -> (Vec<T::Partial>, End<T>) {
    let mut stream = start_partial(call).await;
    let mut partials = Vec::new();
    let mut end = None;
    while let Some(update) = stream.next().await {
        assert!(
            end.is_none(),
            "the stream went on after its end {end:?}: {update:?}"
        );
        match update {
            Ok(Update::Partial(p)) => partials.push(p),
            Ok(Update::Complete { value, usage }) => end = Some(Ok((value, usage))),
            Err(e) => end = Some(Err(e)),
        }
    }
    (
        partials,
        end.expect("the stream ended without a final value or an error"),
    )
}

/// Every item of a stream of list items, to its end; starting must succeed.
pub async fn all_items<T: Instruct + Send>(call: Create<'_, T, Items>) -> Vec<Result<T, Error>> {
    call.send()
        .await
        .expect("the item stream starts")
        .collect()
        .await
}

/// The last thing a stream yields, if anything.
pub async fn last<S: Stream>(stream: S) -> Option<S::Item> {
    stream.fold(None, |_, u| async { Some(u) }).await
}

/// A provider that answers only as a stream, in JSON mode: each request gets the stream
/// `open` makes; a whole answer is a `Config` error.
pub struct StreamOnly<F> {
    name: &'static str,
    open: F,
}

impl<F: Fn() -> EventStream + Send + Sync> StreamOnly<F> {
    pub fn new(name: &'static str, open: F) -> Self {
        Self { name, open }
    }
}

impl<F> fmt::Debug for StreamOnly<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StreamOnly").field(&self.name).finish()
    }
}

#[async_trait]
impl<F: Fn() -> EventStream + Send + Sync> Provider for StreamOnly<F> {
    fn name(&self) -> &str {
        self.name
    }
    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::new(&[Mode::Json]);
        c.streaming = true;
        c
    }
    async fn send(&self, _: &Request) -> Result<Response, Error> {
        Err(Error::Config("stream only".into()))
    }
    async fn stream(&self, _: &Request) -> Result<EventStream, Error> {
        Ok((self.open)())
    }
}
