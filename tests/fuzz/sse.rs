//! The checks for the SSE and NDJSON decoders: bodies of events and lines (comments, named
//! events, multi-line data, `\r\n`, unknown fields, stray JSON, invalid UTF-8), mutated,
//! arriving in random chunks, decoded as a small reference decoder reads the whole body.

use instructor::providers::__fuzz;

use crate::corpus::mutate;
use crate::gen::Case;
use crate::harness::{timed, Verdict};
use crate::rng::{cuts, hash, Rng};

/// What a decoder yields, errors reduced to their kind.
#[derive(Debug, Clone, PartialEq)]
enum Item<T> {
    Ok(T),
    NotUtf8,
    NotStreamed,
    Other(String),
}

fn kind<T>(item: Result<T, String>) -> Item<T> {
    match item {
        Ok(v) => Item::Ok(v),
        Err(e) if e.contains("not UTF-8") => Item::NotUtf8,
        Err(e) if e.contains("non-streamed") => Item::NotStreamed,
        Err(e) => Item::Other(e),
    }
}

/// Items up to the first error, which ends a stream for its readers.
fn to_first_error<T>(items: Vec<Item<T>>) -> Vec<Item<T>> {
    let mut out = Vec::new();
    for item in items {
        let stop = !matches!(item, Item::Ok(_));
        out.push(item);
        if stop {
            break;
        }
    }
    out
}

/// How the reference ends lines.
#[derive(Clone, Copy, PartialEq)]
enum Ends {
    /// Every line loses one `\r` at its end.
    Spec,
    /// The last line, when no newline ends it, keeps its `\r`: what the decoder does, only
    /// to name that difference when it is the only one.
    LastKeepsCr,
}

/// The body's lines: split on `\n`, one `\r` at the end of each dropped; a last line
/// without its newline counts when it is not empty.
fn lines(body: &[u8], ends: Ends) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
    let unterminated = lines.last().is_some_and(|l| !l.is_empty());
    if !unterminated {
        lines.pop();
    }
    let n = lines.len();
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| match l.strip_suffix(b"\r") {
            Some(_) if ends == Ends::LastKeepsCr && unterminated && i + 1 == n => l,
            Some(stripped) => stripped,
            None => l,
        })
        .collect()
}

type Event = (Option<String>, String);

/// Server-sent events as the spec reads them (`data` lines joined with newlines, `event`
/// names the next event, `:` starts a comment, a blank line dispatches, a last event without
/// its blank line still counts), plus the decoder's one addition: a body with no event but
/// other lines is not an event stream, at once when such a line starts with JSON.
fn reference_sse(body: &[u8], ends: Ends) -> Vec<Item<Event>> {
    let mut out = Vec::new();
    let (mut event, mut data): (Option<String>, Option<String>) = (None, None);
    let (mut streaming, mut stray) = (false, false);
    for line in lines(body, ends) {
        let Ok(line) = std::str::from_utf8(line) else {
            out.push(Item::NotUtf8);
            return out;
        };
        if line.is_empty() {
            match data.take() {
                Some(d) => {
                    out.push(Item::Ok((event.take(), d)));
                    streaming = true;
                }
                None => event = None,
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
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
            "id" | "retry" => {}
            _ if !streaming && data.is_none() => {
                stray = true;
                if line.trim_start().starts_with(['{', '[']) {
                    out.push(Item::NotStreamed);
                    return out;
                }
            }
            _ => {}
        }
    }
    if let Some(d) = data {
        out.push(Item::Ok((event, d)));
    } else if !streaming && stray {
        out.push(Item::NotStreamed);
    }
    out
}

/// NDJSON: every line that is not blank.
fn reference_ndjson(body: &[u8], ends: Ends) -> Vec<Item<String>> {
    let mut out = Vec::new();
    for line in lines(body, ends) {
        match std::str::from_utf8(line) {
            Ok(l) if l.trim().is_empty() => {}
            Ok(l) => out.push(Item::Ok(l.to_owned())),
            Err(_) => out.push(Item::NotUtf8),
        }
    }
    out
}

/// Names a difference from the reference: the known one (a `\r` left on an unterminated
/// last line) or any other.
fn differs<T: PartialEq>(got: &[Item<T>], last_keeps_cr: &[Item<T>]) -> &'static str {
    if got == last_keeps_cr {
        "differential[unterminated last line keeps its \\r]"
    } else {
        "differential"
    }
}

fn chunks<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    cuts.windows(2).map(|w| &body[w[0]..w[1]]).collect()
}

/// A decoder under test: the body in chunks to its items.
type Decoder<T> = fn(&[&[u8]]) -> Vec<Result<T, String>>;

/// `decode` on the body in random chunks (inside `\r\n` and UTF-8 characters too) gives the
/// `reference` decoder's items.
fn check_chunked<T: PartialEq + std::fmt::Debug>(
    case: &Case,
    reference: fn(&[u8], Ends) -> Vec<Item<T>>,
    decode: Decoder<T>,
) -> Verdict {
    let body = &case.bytes[..];
    let want = to_first_error(reference(body, Ends::Spec));
    let mut rng = Rng::new(hash(body));
    let cuts = cuts(&mut rng, body.len());
    let chunks = chunks(body, &cuts);
    let got = timed(|| decode(&chunks));
    let got = to_first_error(got.into_iter().map(kind).collect());
    if got != want {
        let label = differs(&got, &to_first_error(reference(body, Ends::LastKeepsCr)));
        return Err(format!(
            "{label}: split at {cuts:?}, the decoder gives\n  {got:?}\nthe reference\n  {want:?}"
        ));
    }
    Ok(())
}

/// `events` on the body in random chunks gives the reference's events.
pub fn check_sse(case: &Case) -> Verdict {
    check_chunked(case, reference_sse, __fuzz::sse)
}

/// `ndjson` on the body in random chunks gives the reference's lines.
pub fn check_ndjson(case: &Case) -> Verdict {
    check_chunked(case, reference_ndjson, __fuzz::ndjson)
}

const PAYLOADS: &[&str] = &[
    "{\"choices\": [{\"delta\": {\"content\": \"Hi\"}}]}",
    "[DONE]",
    "",
    " leading space",
    "a: b: c",
    "é ✓ 😀",
    "{\"type\": \"message_stop\"}",
    "\t",
    "x\u{2028}y",
    "data: nested",
];

fn line_end(rng: &mut Rng) -> &'static [u8] {
    rng.pick(&[&b"\n"[..], b"\n", b"\n", b"\r\n", b"\r\n", b"\r", b"\r\r\n"])
}

/// An event-stream body, as servers send them and as they go wrong.
pub fn sse_case(rng: &mut Rng) -> Case {
    let mut body = Vec::new();
    if rng.one_in(20) {
        // Not a stream: a whole answer or an error page.
        body.extend_from_slice(rng.pick(&[
            &b"{\"choices\": [{\"message\": {\"content\": \"hi\"}}]}"[..],
            b"Internal Server Error",
            b"  [{\"a\": 1}]\n",
            b"<html>\n<body>502</body>\n</html>",
        ]));
    }
    for _ in 0..rng.geometric(6) + 1 {
        for _ in 0..rng.below(4) {
            let line: Vec<u8> = match rng.below(12) {
                0..=4 => {
                    let sep = rng.pick(&["data: ", "data:", "data:  ", "data"]);
                    format!("{sep}{}", rng.pick(PAYLOADS)).into_bytes()
                }
                5 => {
                    format!("event: {}", rng.pick(&["delta", "message_stop", "", "é"])).into_bytes()
                }
                6 => rng
                    .pick(&[&b"id: 7"[..], b"retry: 100", b"id", b": keep-alive", b":"])
                    .to_vec(),
                7 => rng
                    .pick(&[
                        &b"foo: bar"[..],
                        b" data: x",
                        b"DATA: x",
                        b"event",
                        b"{\"a\": 1}",
                    ])
                    .to_vec(),
                8 => rng
                    .pick(&[
                        &b"data: \xff"[..],
                        b"data: \xc3",
                        b"\xe2\x9c",
                        b"data: \xed\xa0\x80",
                    ])
                    .to_vec(),
                _ => format!("data: {}", rng.pick(PAYLOADS)).into_bytes(),
            };
            body.extend_from_slice(&line);
            body.extend_from_slice(line_end(rng));
        }
        if !rng.one_in(5) {
            body.extend_from_slice(line_end(rng));
        }
    }
    if rng.one_in(3) {
        let other = b"data: x\n\n: c\nevent: e\n".to_vec();
        mutate(rng, &mut body, &other);
    }
    Case::plain(body)
}

/// An NDJSON body: JSON lines, blank and whitespace-only lines, `\r\n`, a missing last
/// newline, invalid UTF-8.
pub fn ndjson_case(rng: &mut Rng) -> Case {
    let mut body = Vec::new();
    for _ in 0..rng.geometric(8) + 1 {
        let line: &[u8] = rng.pick(&[
            &b"{\"message\": {\"content\": \"Hi\"}, \"done\": false}"[..],
            b"{\"done\": true}",
            b"",
            b"   ",
            b"\t",
            b"\xc2\xa0",
            b"\xe2\x80\xa8",
            b"\xef\xbb\xbf",
            b"{\"t\": \"\xc3\xa9\"}",
            b"\xff",
            b"{\"t\": \"\xe2\x9c",
            b" {\"a\": 1} ",
        ]);
        body.extend_from_slice(line);
        body.extend_from_slice(line_end(rng));
    }
    if rng.one_in(2) {
        body.pop();
    }
    if rng.one_in(3) {
        let other = b"{\"a\":1}\n\r\n \n".to_vec();
        mutate(rng, &mut body, &other);
    }
    Case::plain(body)
}
