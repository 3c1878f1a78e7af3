//! Provider stream items → the neutral [`EventStream`]. Each provider's mapping says what
//! an item means and whether it was the stream's end marker (`[DONE]`, `message_stop`,
//! `message-end`, `done: true`, the chunk with a finish reason). The stream then ends and
//! the connection is dropped, whatever the server sends after; it also ends after its first
//! error; and a body that stops before its end marker, with no finish reason seen, is an
//! error rather than a silently shortened answer.

use std::collections::VecDeque;
use std::pin::Pin;

use futures::{Stream, StreamExt};
use instructor_core::{Error, EventStream, Response, StreamEvent};

/// One neutral event, or the error that ends the stream.
pub type Item = Result<StreamEvent, Error>;

/// What one provider item meant: its neutral events, and whether it was the end marker.
#[derive(Debug, Default)]
pub struct Mapped {
    pub events: Vec<Item>,
    pub end: bool,
}

impl Mapped {
    /// Events of an item after which more may come.
    pub fn more(events: Vec<Item>) -> Self {
        Self { events, end: false }
    }

    /// The events of the stream's end marker (often none); nothing after it is read.
    pub fn end(events: Vec<Item>) -> Self {
        Self { events, end: true }
    }
}

/// The error for an in-band error object in a stream (the status was already 200).
pub(crate) fn mid_stream(raw: String) -> Error {
    Error::Protocol {
        message: "the server reported an error mid-stream".to_owned(),
        raw: Some(raw),
        source: None,
    }
}

/// The error for a body that stopped before the server finished the answer.
fn truncated() -> Error {
    Error::Protocol {
        message: "the stream ended before the server finished it (no end marker and no \
                  finish reason)"
            .to_owned(),
        raw: None,
        source: None,
    }
}

/// A provider's items, boxed.
type Items<T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

struct Flat<T, F> {
    /// The provider's items; `None` once the stream is over (which drops the connection).
    items: Option<Items<T>>,
    map: F,
    queue: VecDeque<Item>,
    /// Whether a finish reason was passed on.
    finished: bool,
}

impl<T, F: FnMut(T) -> Mapped> Flat<T, F> {
    async fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                match &item {
                    Err(_) => {
                        // The first error ends the stream.
                        self.items = None;
                        self.queue.clear();
                    }
                    Ok(StreamEvent::Finish(_)) => self.finished = true,
                    Ok(_) => {}
                }
                return Some(item);
            }
            let items = self.items.as_mut()?;
            match items.next().await {
                Some(Ok(t)) => {
                    let mapped = (self.map)(t);
                    self.queue.extend(mapped.events);
                    if mapped.end {
                        self.items = None;
                    }
                }
                Some(Err(e)) => {
                    self.items = None;
                    self.queue.push_back(Err(e));
                }
                None => {
                    self.items = None;
                    if !self.finished {
                        self.queue.push_back(Err(truncated()));
                    }
                }
            }
        }
    }
}

/// Turns provider-specific items into neutral events, in order, several per item if need
/// be, until the item `map` marks as the end.
pub(crate) fn flat<S, T, F>(items: S, map: F) -> EventStream
where
    S: Stream<Item = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
    F: FnMut(T) -> Mapped + Send + 'static,
{
    let state = Flat {
        items: Some(Box::pin(items)),
        map,
        queue: VecDeque::new(),
        finished: false,
    };
    Box::pin(futures::stream::unfold(state, |mut state| async move {
        let item = state.next().await?;
        Some((item, state))
    }))
}

/// A whole response as a stream (an error reply some servers send in place of a stream
/// that is really an answer, such as Groq's `json_validate_failed`).
pub(crate) fn whole(response: Response) -> EventStream {
    let mut events = Vec::new();
    if let Some(text) = response.text {
        events.push(Ok(StreamEvent::TextDelta(text)));
    }
    for (index, call) in response.tool_calls.into_iter().enumerate() {
        events.push(Ok(StreamEvent::ToolCallDelta {
            index,
            id: Some(call.id),
            name: Some(call.name),
            arguments: call.arguments.to_text().into_owned(),
        }));
    }
    events.push(Ok(StreamEvent::Usage(response.usage)));
    events.push(Ok(StreamEvent::Finish(response.finish_reason)));
    Box::pin(futures::stream::iter(events))
}

/// A stream whose every chunk is a whole response fragment (Gemini, Ollama): an in-band
/// `error` object, or the fragment's text and tool calls (which arrive whole) and, on the
/// last chunk (`last` decides; it is the end marker), its usage and finish reason. `calls`
/// numbers tool calls across chunks.
pub(crate) fn fragment_events(
    data: &str,
    calls: &mut usize,
    parse: fn(String) -> Result<Response, Error>,
    last: fn(&serde_json::Value, &Response) -> bool,
) -> Mapped {
    let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    if let Some(e) = value.get("error") {
        return Mapped::more(vec![Err(mid_stream(e.to_string()))]);
    }
    let response = match parse(data.to_owned()) {
        Ok(r) => r,
        Err(e) => return Mapped::more(vec![Err(e)]),
    };
    let done = last(&value, &response);
    let mut out = Vec::new();
    if let Some(t) = response.text {
        out.push(Ok(StreamEvent::TextDelta(t)));
    }
    for call in response.tool_calls {
        out.push(Ok(StreamEvent::ToolCallDelta {
            index: *calls,
            id: Some(call.id),
            name: Some(call.name),
            arguments: call.arguments.to_text().into_owned(),
        }));
        *calls += 1;
    }
    if done {
        out.push(Ok(StreamEvent::Usage(response.usage)));
        out.push(Ok(StreamEvent::Finish(response.finish_reason)));
        return Mapped::end(out);
    }
    Mapped::more(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use instructor_core::FinishReason;

    fn items(lines: Vec<&'static str>) -> impl Stream<Item = Result<&'static str, Error>> {
        futures::stream::iter(lines.into_iter().map(Ok))
    }

    fn map(line: &str) -> Mapped {
        match line {
            "end" => Mapped::end(Vec::new()),
            "finish" => Mapped::more(vec![Ok(StreamEvent::Finish(FinishReason::Stop))]),
            "bad" => Mapped::more(vec![Err(Error::Timeout)]),
            t => Mapped::more(vec![Ok(StreamEvent::TextDelta(t.to_owned()))]),
        }
    }

    async fn run(lines: &[&'static str]) -> Vec<Item> {
        flat(items(lines.to_owned()), map).collect().await
    }

    #[tokio::test]
    async fn the_end_marker_ends_the_stream() {
        let got = run(&["a", "end", "bad", "b"]).await;
        assert!(matches!(&got[..], [Ok(StreamEvent::TextDelta(a))] if a == "a"));
    }

    #[tokio::test]
    async fn the_first_error_ends_the_stream() {
        let got = run(&["a", "bad", "b", "end"]).await;
        assert!(matches!(&got[..], [Ok(_), Err(Error::Timeout)]), "{got:?}");
    }

    #[tokio::test]
    async fn a_body_cut_short_is_an_error_unless_finished() {
        let got = run(&["a", "b"]).await;
        assert!(
            matches!(got.last(), Some(Err(Error::Protocol { message, .. })) if message.contains("ended before")),
            "{got:?}"
        );
        let got = run(&["a", "finish"]).await;
        assert!(got.iter().all(Result::is_ok), "{got:?}");
        assert!(matches!(&run(&[]).await[..], [Err(Error::Protocol { .. })]));
    }
}
