//! Synchronous views of the SSE and NDJSON decoders, for the fuzz targets in `tests/fuzz/`.
//! Not an API: hidden, and free to change with the decoders.

use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures::Stream;

use crate::sse::{self, ByteStream};

/// A decoded SSE event, `(event name, data)`, or the error that ended the stream, shown.
pub type SseItem = Result<(Option<String>, String), String>;

fn source(chunks: &[&[u8]]) -> ByteStream {
    let chunks: Vec<_> = chunks
        .iter()
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    Box::pin(futures::stream::iter(chunks))
}

/// Every item of a stream whose source is always ready; a stream that waits anyway ends the
/// list with an error saying so.
fn drain<T>(stream: impl Stream<Item = Result<T, String>>) -> Vec<Result<T, String>> {
    let mut stream = pin!(stream);
    let mut cx = Context::from_waker(Waker::noop());
    let mut items = Vec::new();
    loop {
        match stream.as_mut().poll_next(&mut cx) {
            Poll::Ready(Some(item)) => items.push(item),
            Poll::Ready(None) => return items,
            Poll::Pending => {
                items.push(Err("the decoder waited on a ready source".to_owned()));
                return items;
            }
        }
    }
}

/// The server-sent events of a body arriving in `chunks`.
pub fn sse(chunks: &[&[u8]]) -> Vec<SseItem> {
    use futures::StreamExt;
    drain(
        sse::events(source(chunks))
            .map(|item| item.map(|e| (e.event, e.data)).map_err(|e| e.to_string())),
    )
}

/// The NDJSON lines of a body arriving in `chunks`.
pub fn ndjson(chunks: &[&[u8]]) -> Vec<Result<String, String>> {
    use futures::StreamExt;
    drain(sse::ndjson(source(chunks)).map(|item| item.map_err(|e| e.to_string())))
}
