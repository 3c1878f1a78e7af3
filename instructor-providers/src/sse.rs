//! Server-sent events and NDJSON from a byte stream. Lines are split on bytes before they
//! are decoded, so a chunk boundary may fall anywhere (inside a UTF-8 character too);
//! comment and keep-alive lines are skipped; a line longer than the limit is an error, so a
//! server that never sends a newline cannot grow memory without bound. Splitting is linear:
//! each byte is scanned for a newline once and moved at most about once. A body that is not
//! an event stream at all (a server that ignored `stream: true`) is a typed error.

use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use instructor_core::Error;

/// The body of a streamed response, its total size already bounded.
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

const MAX_LINE: usize = 4 * 1024 * 1024;

/// How much of a body that is not an event stream is kept in the error.
const EXCERPT: usize = 8 * 1024;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` name, if the server names events.
    pub event: Option<String>,
    /// The `data:` lines, joined with newlines.
    pub data: String,
}

/// Lines of a byte stream. `buf[start..]` is not yet returned; `buf[start..scanned]` is
/// known to hold no newline, so no byte is scanned twice. Returned lines are dropped from
/// the front of the buffer only once they are at least half of it, so each byte is moved
/// at most about once.
struct Lines {
    bytes: ByteStream,
    buf: Vec<u8>,
    start: usize,
    scanned: usize,
    ended: bool,
    /// Bytes scanned, moved or copied so far: the splitter's work, for the linearity test.
    #[cfg(test)]
    work: usize,
}

fn decode(line: &[u8]) -> Result<String, Error> {
    String::from_utf8(line.to_vec()).map_err(|e| Error::Protocol {
        message: "the stream is not UTF-8".to_owned(),
        raw: None,
        source: Some(Box::new(e.utf8_error())),
    })
}

impl Lines {
    fn new(bytes: ByteStream) -> Self {
        Self {
            bytes,
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            ended: false,
            #[cfg(test)]
            work: 0,
        }
    }

    #[cfg_attr(not(test), allow(unused_variables))]
    fn count(&mut self, bytes: usize) {
        #[cfg(test)]
        {
            self.work += bytes;
        }
    }

    /// The next complete line (without its `\n` or `\r\n`), `None` at the end.
    async fn next(&mut self) -> Option<Result<String, Error>> {
        loop {
            let unscanned = &self.buf[self.scanned..];
            if let Some(i) = unscanned.iter().position(|&b| b == b'\n') {
                let end = self.scanned + i;
                let mut line = &self.buf[self.start..end];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                let (scanned, copied) = (i + 1, line.len());
                let line = decode(line);
                self.count(scanned + copied);
                self.start = end + 1;
                self.scanned = self.start;
                return Some(line);
            }
            self.count(unscanned.len());
            self.scanned = self.buf.len();
            if self.ended {
                if self.start == self.buf.len() {
                    return None;
                }
                // The last line, unterminated: its `\r` goes as a terminated line's would.
                let mut rest = &self.buf[self.start..];
                if rest.last() == Some(&b'\r') {
                    rest = &rest[..rest.len() - 1];
                }
                let rest = decode(rest);
                self.count(self.buf.len() - self.start);
                self.buf.clear();
                (self.start, self.scanned) = (0, 0);
                return Some(rest);
            }
            if self.buf.len() - self.start > MAX_LINE {
                return Some(Err(Error::LimitExceeded {
                    what: "stream line bytes".to_owned(),
                    limit: MAX_LINE,
                }));
            }
            match self.bytes.next().await {
                Some(Ok(chunk)) => {
                    self.compact();
                    self.buf.extend_from_slice(&chunk);
                    self.count(chunk.len());
                }
                Some(Err(e)) => return Some(Err(e)),
                None => self.ended = true,
            }
        }
    }

    /// Drops the returned lines from the front once they are at least half the buffer: the
    /// bytes moved are then never more than the bytes dropped.
    fn compact(&mut self) {
        let kept = self.buf.len() - self.start;
        if self.start > 0 && self.start >= kept {
            self.buf.drain(..self.start);
            self.count(kept);
            self.scanned -= self.start;
            self.start = 0;
        }
    }
}

/// The error for a body that is not an event stream.
fn not_streamed(excerpt: String) -> Error {
    Error::Protocol {
        message: "the server answered with a whole, non-streamed response instead of an event \
                  stream (it may not support streaming)"
            .to_owned(),
        raw: Some(excerpt),
        source: None,
    }
}

/// Appends `line` to `excerpt`, up to [`EXCERPT`] bytes.
fn keep(excerpt: &mut String, line: &str) {
    if excerpt.len() >= EXCERPT {
        return;
    }
    if !excerpt.is_empty() {
        excerpt.push('\n');
    }
    let mut end = line.len().min(EXCERPT - excerpt.len().min(EXCERPT));
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    excerpt.push_str(&line[..end]);
}

/// The SSE parser's state between events.
struct Sse {
    lines: Lines,
    event: Option<String>,
    data: Option<String>,
    /// Whether an event was seen: the body is a stream, then.
    streaming: bool,
    /// Lines that are not SSE, kept (bounded) while no event has been seen.
    stray: String,
    done: bool,
}

impl Sse {
    fn emit(&mut self, data: String) -> Option<Result<SseEvent, Error>> {
        self.streaming = true;
        Some(Ok(SseEvent {
            event: self.event.take(),
            data,
        }))
    }

    async fn next(&mut self) -> Option<Result<SseEvent, Error>> {
        if self.done {
            return None;
        }
        loop {
            let line = match self.lines.next().await {
                Some(Ok(line)) => line,
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    self.done = true;
                    // A last event without its blank line still counts.
                    if let Some(data) = self.data.take() {
                        return self.emit(data);
                    }
                    if !self.streaming && !self.stray.is_empty() {
                        return Some(Err(not_streamed(std::mem::take(&mut self.stray))));
                    }
                    return None;
                }
            };
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    return self.emit(data);
                }
                self.event = None;
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
                "data" => match &mut self.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => self.data = Some(value.to_owned()),
                },
                "event" => self.event = Some(value.to_owned()),
                "id" | "retry" => {}
                _ if !self.streaming && self.data.is_none() => {
                    keep(&mut self.stray, &line);
                    if line.trim_start().starts_with(['{', '[']) {
                        // JSON where events belong: a whole answer. Keep a little more of it.
                        self.done = true;
                        while self.stray.len() < EXCERPT {
                            match self.lines.next().await {
                                Some(Ok(more)) => keep(&mut self.stray, &more),
                                _ => break,
                            }
                        }
                        return Some(Err(not_streamed(std::mem::take(&mut self.stray))));
                    }
                }
                _ => {}
            }
        }
    }
}

/// Server-sent events. A body that holds no events but other text (typically a whole JSON
/// answer from a server that ignored `stream: true`) is an [`Error::Protocol`] keeping an
/// excerpt of it.
pub(crate) fn events(bytes: ByteStream) -> impl Stream<Item = Result<SseEvent, Error>> + Send {
    let sse = Sse {
        lines: Lines::new(bytes),
        event: None,
        data: None,
        streaming: false,
        stray: String::new(),
        done: false,
    };
    futures::stream::unfold(sse, |mut sse| async move {
        let next = sse.next().await?;
        Some((next, sse))
    })
}

/// Newline-delimited JSON: each non-empty line.
pub(crate) fn ndjson(bytes: ByteStream) -> impl Stream<Item = Result<String, Error>> + Send {
    futures::stream::unfold(Lines::new(bytes), |mut lines| async move {
        loop {
            match lines.next().await? {
                Ok(l) if l.trim().is_empty() => continue,
                other => return Some((other, lines)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(chunks: Vec<&'static [u8]>) -> ByteStream {
        Box::pin(futures::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    fn owned(chunks: Vec<Vec<u8>>) -> ByteStream {
        Box::pin(futures::stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from(c))),
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

    #[tokio::test]
    async fn a_whole_json_body_is_not_a_stream() {
        for body in [
            &b"{\"choices\": [{\"message\": {\"content\": \"hi\"}}]}"[..],
            b"{\n  \"candidates\": []\n}\n",
            b"  [{\"a\": 1}]",
            b"Internal Server Error",
        ] {
            let got: Vec<_> = events(source(vec![body])).collect().await;
            let [Err(Error::Protocol {
                message,
                raw: Some(raw),
                ..
            })] = &got[..]
            else {
                panic!("{got:?}")
            };
            assert!(message.contains("non-streamed"), "{message}");
            let start = String::from_utf8_lossy(&body[..5]);
            assert!(raw.contains(start.trim()), "{raw}");
        }
        // Unknown fields inside a real stream are ignored, as the spec says.
        let got: Vec<_> = events(source(vec![b"id: 1\nfoo: bar\ndata: x\n\n"]))
            .collect()
            .await;
        assert!(matches!(&got[..], [Ok(SseEvent { data, .. })] if data == "x"));
    }

    /// Reads every line of `chunks`; returns the lines (or the error) and the work done.
    async fn split(chunks: Vec<Vec<u8>>) -> (Vec<Result<String, Error>>, usize) {
        let mut lines = Lines::new(owned(chunks));
        let mut out = Vec::new();
        while let Some(line) = lines.next().await {
            let stop = line.is_err();
            out.push(line);
            if stop {
                break;
            }
        }
        (out, lines.work)
    }

    fn chunked(bytes: &[u8], size: usize) -> Vec<Vec<u8>> {
        bytes.chunks(size).map(<[u8]>::to_vec).collect()
    }

    #[tokio::test]
    async fn splitting_is_linear() {
        // One line just under the limit, in 16-byte chunks.
        let mut long = vec![b'x'; MAX_LINE - 16];
        long.push(b'\n');
        let (lines, work) = split(chunked(&long, 16)).await;
        assert!(matches!(&lines[..], [Ok(l)] if l.len() == MAX_LINE - 16));
        assert!(work <= 4 * long.len(), "{work} for {} bytes", long.len());

        // One line over the limit: an error, after linear work.
        let over = vec![b'x'; MAX_LINE + 64];
        let (lines, work) = split(chunked(&over, 16)).await;
        assert!(matches!(
            lines.last(),
            Some(Err(Error::LimitExceeded { .. }))
        ));
        assert!(work <= 4 * over.len(), "{work} for {} bytes", over.len());

        // Many short lines, in chunks that split them anywhere.
        let many: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        for size in [7, 16, 4096] {
            let (lines, work) = split(chunked(&many, size)).await;
            assert_eq!(lines.len(), 200_000);
            assert!(work <= 4 * many.len(), "{work} for {} bytes", many.len());
        }
    }
}
