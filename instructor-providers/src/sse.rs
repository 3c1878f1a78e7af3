//! Server-sent events and NDJSON from a byte stream. Lines are split on bytes before they
//! are decoded, so a chunk boundary may fall anywhere (inside a UTF-8 character too);
//! comment and keep-alive lines are skipped; a line longer than the limit is an error, so a
//! server that never sends a newline cannot grow memory without bound.

use std::collections::VecDeque;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use instructor_core::Error;

/// The body of a streamed response, its total size already bounded.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

const MAX_LINE: usize = 4 * 1024 * 1024;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` name, if the server names events.
    pub event: Option<String>,
    /// The `data:` lines, joined with newlines.
    pub data: String,
}

struct Lines {
    bytes: ByteStream,
    buf: Vec<u8>,
    ended: bool,
}

impl Lines {
    /// The next complete line (without its `\n` or `\r\n`), `None` at the end.
    async fn next(&mut self) -> Option<Result<String, Error>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Some(String::from_utf8(line).map_err(|_| Error::Protocol {
                    message: "the stream is not UTF-8".to_owned(),
                    raw: None,
                }));
            }
            if self.ended {
                if self.buf.is_empty() {
                    return None;
                }
                let rest = std::mem::take(&mut self.buf);
                return Some(String::from_utf8(rest).map_err(|_| Error::Protocol {
                    message: "the stream is not UTF-8".to_owned(),
                    raw: None,
                }));
            }
            if self.buf.len() > MAX_LINE {
                return Some(Err(Error::LimitExceeded {
                    what: "stream line bytes".to_owned(),
                    limit: MAX_LINE,
                }));
            }
            match self.bytes.next().await {
                Some(Ok(chunk)) => self.buf.extend_from_slice(&chunk),
                Some(Err(e)) => return Some(Err(e)),
                None => self.ended = true,
            }
        }
    }
}

/// Server-sent events.
pub(crate) fn events(bytes: ByteStream) -> impl Stream<Item = Result<SseEvent, Error>> + Send {
    let state = (
        Lines {
            bytes,
            buf: Vec::new(),
            ended: false,
        },
        None::<String>,
        None::<String>,
        false,
    );
    futures::stream::unfold(state, |(mut lines, mut event, mut data, done)| async move {
        if done {
            return None;
        }
        loop {
            let Some(line) = lines.next().await else {
                // The end: a last event without its blank line still counts.
                return data.take().map(|d| {
                    (
                        Ok(SseEvent {
                            event: event.take(),
                            data: d,
                        }),
                        (lines, None, None, true),
                    )
                });
            };
            let line = match line {
                Ok(l) => l,
                Err(e) => return Some((Err(e), (lines, None, None, true))),
            };
            if line.is_empty() {
                if let Some(d) = data.take() {
                    return Some((
                        Ok(SseEvent {
                            event: event.take(),
                            data: d,
                        }),
                        (lines, None, None, false),
                    ));
                }
                event = None;
                continue;
            }
            if line.starts_with(':') {
                continue; // a comment or keep-alive
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_str(), ""),
            };
            match field {
                "data" => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                },
                "event" => event = Some(value.to_owned()),
                _ => {}
            }
        }
    })
}

/// Newline-delimited JSON: each non-empty line.
pub(crate) fn ndjson(bytes: ByteStream) -> impl Stream<Item = Result<String, Error>> + Send {
    let lines = Lines {
        bytes,
        buf: Vec::new(),
        ended: false,
    };
    futures::stream::unfold(lines, |mut lines| async move {
        loop {
            match lines.next().await? {
                Ok(l) if l.trim().is_empty() => continue,
                other => return Some((other, lines)),
            }
        }
    })
}

/// Turns provider-specific items into neutral events, in order, several per item if need be.
pub(crate) fn flat<S, T, F>(items: S, mut map: F) -> instructor_core::EventStream
where
    S: Stream<Item = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
    F: FnMut(T) -> Vec<Result<instructor_core::StreamEvent, Error>> + Send + 'static,
{
    Box::pin(items.flat_map(move |item| {
        let events: VecDeque<_> = match item {
            Ok(t) => map(t).into(),
            Err(e) => VecDeque::from([Err(e)]),
        };
        futures::stream::iter(events)
    }))
}

/// A stream whose every chunk is a whole response fragment (Gemini, Ollama): an in-band
/// `error` object, or the fragment's text and tool calls (which arrive whole) and, on the
/// last chunk (`last` decides), its usage and finish reason. `calls` numbers tool calls
/// across chunks.
pub(crate) fn fragment_events(
    data: &str,
    calls: &mut usize,
    parse: fn(String) -> Result<instructor_core::Response, Error>,
    last: fn(&serde_json::Value, &instructor_core::Response) -> bool,
) -> Vec<Result<instructor_core::StreamEvent, Error>> {
    use instructor_core::StreamEvent;
    let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    if let Some(e) = value.get("error") {
        return vec![Err(Error::Protocol {
            message: "the server reported an error mid-stream".to_owned(),
            raw: Some(e.to_string()),
        })];
    }
    let response = match parse(data.to_owned()) {
        Ok(r) => r,
        Err(e) => return vec![Err(e)],
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
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(chunks: Vec<&'static [u8]>) -> ByteStream {
        Box::pin(futures::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    #[tokio::test]
    async fn events_survive_any_split() {
        let text = ": keep-alive\n\nevent: delta\ndata: {\"t\": \"é\"}\n\ndata: a\ndata: b\r\n\r\ndata: [DONE]\n\n";
        let all: &'static [u8] = text.as_bytes();
        for cut in 0..all.len() {
            let got: Vec<SseEvent> = events(source(vec![&all[..cut], &all[cut..]]))
                .map(|e| e.unwrap())
                .collect()
                .await;
            assert_eq!(
                got,
                [
                    SseEvent {
                        event: Some("delta".into()),
                        data: "{\"t\": \"é\"}".into()
                    },
                    SseEvent {
                        event: None,
                        data: "a\nb".into()
                    },
                    SseEvent {
                        event: None,
                        data: "[DONE]".into()
                    },
                ],
                "split at {cut}"
            );
        }
    }

    #[tokio::test]
    async fn ndjson_lines_and_a_missing_final_newline() {
        let got: Vec<String> = ndjson(source(vec![b"{\"a\":1}\n\n{\"b\"", b":2}"]))
            .map(|l| l.unwrap())
            .collect()
            .await;
        assert_eq!(got, ["{\"a\":1}", "{\"b\":2}"]);
    }

    #[tokio::test]
    async fn invalid_utf8_is_an_error() {
        let got: Vec<_> = events(source(vec![b"data: \xff\xfe\n\n"])).collect().await;
        assert!(matches!(got[0], Err(Error::Protocol { .. })));
    }
}
