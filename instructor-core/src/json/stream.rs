//! An incremental JSON parser: bytes go in as they arrive and each is read once. Open
//! objects and arrays are frames on a stack; a value that closes is reported with its path
//! and its byte span (and may be taken, as iterable extraction does) before it joins its
//! parent. Chunk boundaries may fall anywhere: inside a UTF-8 character, an escape or a
//! surrogate pair. The text before the value is read by the shared [`Locator`], so prose,
//! fences and `<think>` blocks are skipped exactly as for whole answers; text after the root
//! value is ignored. What it rejects, it rejects as `serde_json` does: raw control characters
//! in strings, lone surrogates, bad escapes, malformed numbers, nesting past 128 levels.

use std::ops::Range;

use serde_json::{Map, Number, Value};

use super::locate::Locator;
use crate::Error;

/// The deepest nesting any answer may have, whatever [`Limits::max_depth`] says: deeper
/// values would overflow the stack when they are deserialized, cloned or dropped (and
/// `serde_json` rejects them in whole answers).
pub const MAX_DEPTH: usize = 128;

/// One step of the path to a value, borrowed from the parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// An object member.
    Key(&'a str),
    /// An array element.
    Index(usize),
}

/// The path to a value that just closed: a view of the parser's open containers, built
/// without copying a key.
#[derive(Debug, Clone, Copy)]
pub struct Path<'a>(&'a [Frame]);

impl<'a> Path<'a> {
    /// How many steps deep the value is (0 for the root).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether this is the root.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Step `i` from the root.
    pub fn get(&self, i: usize) -> Option<Seg<'a>> {
        self.0.get(i).map(Frame::seg)
    }
}

/// Limits that keep a hostile or runaway answer from growing memory without bound.
///
/// ```
/// let l = instructor_core::stream::Limits::default();
/// assert_eq!(l.max_depth, 128);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of answer read.
    pub max_bytes: usize,
    /// The deepest nesting of objects and arrays (at most [`MAX_DEPTH`]; a larger value
    /// counts as [`MAX_DEPTH`]).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: MAX_DEPTH,
        }
    }
}

/// An open container.
#[derive(Debug)]
pub struct Frame {
    kind: Kind,
    /// Where it opened (byte offset of the bracket).
    start: usize,
}

#[derive(Debug)]
enum Kind {
    /// An open object; `key` is the member whose value comes next.
    Object {
        map: Map<String, Value>,
        key: Option<String>,
    },
    Array(Vec<Value>),
}

impl Frame {
    fn seg(&self) -> Seg<'_> {
        match &self.kind {
            Kind::Object { key, .. } => Seg::Key(key.as_deref().unwrap_or_default()),
            Kind::Array(items) => Seg::Index(items.len()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Prelude,
    BeforeValue,
    BeforeKey,
    AfterKey,
    AfterValue,
    InString { key: bool },
    InScalar,
    Done,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    Unicode { value: u32, digits: u8 },
}

/// What hears of each value as it closes: its path, the value (which it may take) and its
/// byte span in the text fed so far.
pub type OnComplete<'a> = dyn FnMut(Path<'_>, &mut Value, Range<usize>) + 'a;

/// The parser.
///
/// ```
/// use instructor_core::stream::JsonStream;
/// let mut p = JsonStream::new(Default::default());
/// let mut closed = Vec::new();
/// p.feed(br#"Sure: {"name": "Ja"#, &mut |path, _, _| closed.push(path.len())).unwrap();
/// assert_eq!(p.snapshot().unwrap()["name"], "Ja");
/// p.feed(br#"son", "age": 30}"#, &mut |path, _, _| closed.push(path.len())).unwrap();
/// assert_eq!(p.snapshot().unwrap()["age"], 30);
/// assert!(p.is_complete());
/// assert_eq!(closed, [1, 1, 0]);
/// assert_eq!(p.root_span(), Some(6..34));
/// ```
#[derive(Debug)]
pub struct JsonStream {
    stack: Vec<Frame>,
    root: Option<Value>,
    root_span: Option<Range<usize>>,
    state: State,
    escape: Escape,
    high_surrogate: Option<u32>,
    /// The string being read (a key or a value).
    string: String,
    /// Bytes of a UTF-8 character split by a chunk boundary.
    utf8: Vec<u8>,
    scalar: String,
    /// Where the string or scalar being read began.
    value_start: usize,
    locator: Locator,
    bytes: usize,
    max_depth: usize,
    max_bytes: usize,
    /// Whether anything a snapshot shows changed since [`JsonStream::take_changed`].
    changed: bool,
}

fn limit(what: &str, limit: usize) -> Error {
    Error::LimitExceeded {
        what: what.to_owned(),
        limit,
    }
}

fn malformed(message: impl Into<String>) -> Error {
    Error::Parse {
        raw: String::new(),
        message: message.into(),
    }
}

fn shown(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl JsonStream {
    /// A parser with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            stack: Vec::new(),
            root: None,
            root_span: None,
            state: State::Prelude,
            escape: Escape::None,
            high_surrogate: None,
            string: String::new(),
            utf8: Vec::new(),
            scalar: String::new(),
            value_start: 0,
            locator: Locator::new(),
            bytes: 0,
            max_depth: limits.max_depth.min(MAX_DEPTH),
            max_bytes: limits.max_bytes,
            changed: false,
        }
    }

    /// Whether the root value has closed.
    pub fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the root value has started.
    pub fn is_started(&self) -> bool {
        self.state != State::Prelude
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The root value's byte span in the text fed, once it has closed.
    pub fn root_span(&self) -> Option<Range<usize>> {
        self.root_span.clone()
    }

    /// Whether the snapshot changed since the last call (a string grew, a value
    /// completed, a container opened), and resets the flag.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The value so far: open containers with what they hold, the string being read shown
    /// as far as it has arrived, numbers and literals only once complete. Costs a copy of
    /// the value; callers budget how often they take one.
    pub fn snapshot(&self) -> Option<Value> {
        if let Some(root) = &self.root {
            return Some(root.clone());
        }
        let mut current = match self.state {
            State::InString { key: false } => Some(Value::String(self.string.clone())),
            _ => None,
        };
        for frame in self.stack.iter().rev() {
            current = Some(match &frame.kind {
                Kind::Object { map, key } => {
                    let mut map = map.clone();
                    if let (Some(k), Some(c)) = (key, current.take()) {
                        map.insert(k.clone(), c);
                    }
                    Value::Object(map)
                }
                Kind::Array(items) => {
                    let mut items = items.clone();
                    items.extend(current.take());
                    Value::Array(items)
                }
            });
        }
        current
    }

    /// A completed value spanning `start..end`: reported, then added to its parent (or
    /// made the root).
    fn finish(&mut self, mut value: Value, start: usize, end: usize, on: &mut OnComplete<'_>) {
        self.changed = true;
        on(Path(&self.stack), &mut value, start..end);
        match self.stack.last_mut().map(|f| &mut f.kind) {
            Some(Kind::Object { map, key }) => {
                map.insert(key.take().unwrap_or_default(), value);
                self.state = State::AfterValue;
            }
            Some(Kind::Array(items)) => {
                items.push(value);
                self.state = State::AfterValue;
            }
            None => {
                self.root = Some(value);
                self.root_span = Some(start..end);
                self.state = State::Done;
            }
        }
    }

    fn open(&mut self, object: bool, at: usize) -> Result<(), Error> {
        if self.stack.len() >= self.max_depth {
            return Err(limit("nesting depth", self.max_depth));
        }
        let kind = if object {
            self.state = State::BeforeKey;
            Kind::Object {
                map: Map::new(),
                key: None,
            }
        } else {
            self.state = State::BeforeValue;
            Kind::Array(Vec::new())
        };
        self.stack.push(Frame { kind, start: at });
        self.changed = true;
        Ok(())
    }

    fn close(&mut self, object: bool, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        let (value, start) = match self.stack.pop() {
            Some(Frame {
                kind: Kind::Object { map, .. },
                start,
            }) if object => (Value::Object(map), start),
            Some(Frame {
                kind: Kind::Array(items),
                start,
            }) if !object => (Value::Array(items), start),
            _ => return Err(malformed("mismatched closing bracket")),
        };
        self.finish(value, start, at + 1, on);
        Ok(())
    }

    fn end_scalar(&mut self, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        let text = std::mem::take(&mut self.scalar);
        let value = match text.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            n => Value::Number(
                serde_json::from_str::<Number>(n)
                    .map_err(|_| malformed(format!("`{n}` is not a JSON value")))?,
            ),
        };
        self.finish(value, self.value_start, at, on);
        Ok(())
    }

    fn end_string(&mut self, key: bool, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        if !self.utf8.is_empty() {
            return Err(malformed("a string ends inside a UTF-8 character"));
        }
        let s = std::mem::take(&mut self.string);
        if key {
            // A repeated key: the last value wins in its first place, as in serde_json's
            // own maps (typed values are read from the text, where structs reject it).
            if let Some(Kind::Object { key, .. }) = self.stack.last_mut().map(|f| &mut f.kind) {
                *key = Some(s);
            }
            self.state = State::AfterKey;
        } else {
            self.finish(Value::String(s), self.value_start, at + 1, on);
        }
        Ok(())
    }

    /// A raw string byte (UTF-8 reassembled across chunk boundaries).
    fn string_byte(&mut self, b: u8) -> Result<(), Error> {
        if b < 0x20 {
            return Err(malformed(format!(
                "control character {} in a string (it must be escaped)",
                shown(b)
            )));
        }
        if b < 0x80 && self.utf8.is_empty() {
            self.string.push(b as char);
            return Ok(());
        }
        self.utf8.push(b);
        match std::str::from_utf8(&self.utf8) {
            Ok(s) => {
                self.string.push_str(s);
                self.utf8.clear();
                Ok(())
            }
            Err(e) if e.error_len().is_some() => Err(malformed("invalid UTF-8 in a string")),
            Err(_) => Ok(()),
        }
    }

    fn escaped_char(&mut self, code: u32) -> Result<(), Error> {
        let c = match (self.high_surrogate.take(), code) {
            (None, 0xD800..=0xDBFF) => {
                self.high_surrogate = Some(code);
                return Ok(());
            }
            (Some(hi), 0xDC00..=0xDFFF) => 0x10000 + ((hi - 0xD800) << 10) + (code - 0xDC00),
            (Some(_), _) => return Err(malformed("lone leading surrogate in a \\u escape")),
            (None, 0xDC00..=0xDFFF) => {
                return Err(malformed("lone trailing surrogate in a \\u escape"))
            }
            (None, c) => c,
        };
        let c = char::from_u32(c).ok_or_else(|| malformed("invalid \\u escape"))?;
        self.string.push(c);
        Ok(())
    }

    fn in_string(
        &mut self,
        b: u8,
        key: bool,
        at: usize,
        on: &mut OnComplete<'_>,
    ) -> Result<(), Error> {
        self.changed |= !key;
        match self.escape {
            Escape::Backslash => {
                self.escape = Escape::None;
                if self.high_surrogate.is_some() && b != b'u' {
                    return Err(malformed("lone leading surrogate in a \\u escape"));
                }
                let c = match b {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        self.escape = Escape::Unicode {
                            value: 0,
                            digits: 0,
                        };
                        return Ok(());
                    }
                    other => {
                        return Err(malformed(format!(
                            "invalid escape `\\` followed by {}",
                            shown(other)
                        )))
                    }
                };
                self.string.push(c);
            }
            Escape::Unicode { value, digits } => {
                let d = (b as char)
                    .to_digit(16)
                    .ok_or_else(|| malformed("invalid \\u escape"))?;
                let value = value * 16 + d;
                if digits == 3 {
                    self.escape = Escape::None;
                    self.escaped_char(value)?;
                } else {
                    self.escape = Escape::Unicode {
                        value,
                        digits: digits + 1,
                    };
                }
            }
            Escape::None => match b {
                b'\\' => self.escape = Escape::Backslash,
                _ if self.high_surrogate.is_some() => {
                    return Err(malformed("lone leading surrogate in a \\u escape"))
                }
                b'"' => return self.end_string(key, at, on),
                b => self.string_byte(b)?,
            },
        }
        Ok(())
    }

    fn byte(&mut self, b: u8, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        match self.state {
            State::Prelude => {
                if self.locator.byte(b) {
                    self.open(b == b'{', at)?;
                }
                Ok(())
            }
            State::Done => Ok(()),
            State::InString { key } => self.in_string(b, key, at, on),
            State::InScalar => {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') {
                    self.scalar.push(b as char);
                    return Ok(());
                }
                self.end_scalar(at, on)?;
                self.byte(b, at, on)
            }
            _ if matches!(b, b' ' | b'\t' | b'\n' | b'\r') => Ok(()),
            State::BeforeKey => match b {
                b'"' => {
                    self.state = State::InString { key: true };
                    Ok(())
                }
                b'}' if matches!(self.stack.last(), Some(Frame { kind: Kind::Object { map, .. }, .. }) if map.is_empty()) => {
                    self.close(true, at, on)
                }
                _ => Err(malformed(format!("expected a key, found {}", shown(b)))),
            },
            State::AfterKey => match b {
                b':' => {
                    self.state = State::BeforeValue;
                    Ok(())
                }
                _ => Err(malformed(format!("expected `:`, found {}", shown(b)))),
            },
            State::AfterValue => match (b, self.stack.last().map(|f| &f.kind)) {
                (b',', Some(Kind::Object { .. })) => {
                    self.state = State::BeforeKey;
                    Ok(())
                }
                (b',', Some(Kind::Array(_))) => {
                    self.state = State::BeforeValue;
                    Ok(())
                }
                (b'}', _) => self.close(true, at, on),
                (b']', _) => self.close(false, at, on),
                _ => Err(malformed(format!(
                    "expected `,` or a closing bracket, found {}",
                    shown(b)
                ))),
            },
            State::BeforeValue => match b {
                b'"' => {
                    self.state = State::InString { key: false };
                    self.value_start = at;
                    Ok(())
                }
                b'{' => self.open(true, at),
                b'[' => self.open(false, at),
                b']' if matches!(self.stack.last(), Some(Frame { kind: Kind::Array(a), .. }) if a.is_empty()) => {
                    self.close(false, at, on)
                }
                b if b.is_ascii_alphanumeric() || b == b'-' => {
                    self.scalar.push(b as char);
                    self.state = State::InScalar;
                    self.value_start = at;
                    Ok(())
                }
                _ => Err(malformed(format!("expected a value, found {}", shown(b)))),
            },
        }
    }

    /// Feeds a chunk; `on_complete` hears of every value that closes in it.
    pub fn feed(&mut self, chunk: &[u8], on_complete: &mut OnComplete<'_>) -> Result<(), Error> {
        let base = self.bytes;
        self.bytes += chunk.len();
        if self.bytes > self.max_bytes {
            return Err(limit("answer bytes", self.max_bytes));
        }
        for (i, &b) in chunk.iter().enumerate() {
            if self.state == State::Done {
                break;
            }
            self.byte(b, base + i, on_complete)?;
        }
        Ok(())
    }

    /// Ends the input: a number at the very end completes; anything still open is an
    /// error the caller reports as an incomplete answer.
    pub fn finish_input(&mut self, on_complete: &mut OnComplete<'_>) -> Result<(), Error> {
        if self.state == State::InScalar && self.stack.is_empty() {
            self.end_scalar(self.bytes, on_complete)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_in_pieces(text: &str, cuts: &[usize]) -> (Option<Value>, Vec<usize>) {
        let mut p = JsonStream::new(Limits::default());
        let bytes = text.as_bytes();
        let mut last = 0;
        let mut closed = Vec::new();
        for &c in cuts.iter().chain(std::iter::once(&bytes.len())) {
            p.feed(&bytes[last..c], &mut |path, _, _| closed.push(path.len()))
                .unwrap();
            last = c;
        }
        (p.snapshot(), closed)
    }

    #[test]
    fn every_split_gives_the_same_value() {
        let text = r#"{"s": "a\"b\\c \u00e9 \ud83d\ude00 ✓ 日本", "n": -1.5e3, "l": [true, false, null, {"k": []}], "e": {}}"#;
        let whole: Value = serde_json::from_str(text).unwrap();
        for cut in 0..=text.len() {
            let (v, _) = parse_in_pieces(text, &[cut]);
            assert_eq!(v.as_ref(), Some(&whole), "split at {cut}");
        }
        for a in (0..text.len()).step_by(3) {
            for b in (a..text.len()).step_by(7) {
                assert_eq!(
                    parse_in_pieces(text, &[a, b]).0.as_ref(),
                    Some(&whole),
                    "split at {a}, {b}"
                );
            }
        }
    }

    #[test]
    fn prose_fences_and_thoughts_are_skipped() {
        let (v, _) = parse_in_pieces(
            "<think>{not this}</think>```json\n{\"a\": 1}\n``` and {\"b\": 2}",
            &[5, 20],
        );
        assert_eq!(v, Some(json!({"a": 1})));
    }

    #[test]
    fn partial_strings_show_numbers_wait() {
        let mut p = JsonStream::new(Limits::default());
        p.feed(br#"{"name": "Jas"#, &mut |_, _, _| {}).unwrap();
        assert_eq!(p.snapshot(), Some(json!({"name": "Jas"})));
        p.feed(br#"on", "age": 3"#, &mut |_, _, _| {}).unwrap();
        assert_eq!(
            p.snapshot(),
            Some(json!({"name": "Jason"})),
            "a number shows only once complete"
        );
        p.feed(b"0}", &mut |_, _, _| {}).unwrap();
        assert_eq!(p.snapshot(), Some(json!({"name": "Jason", "age": 30})));
    }

    #[test]
    fn completed_values_can_be_taken() {
        let mut p = JsonStream::new(Limits::default());
        let mut items = Vec::new();
        p.feed(
            br#"{"items": [{"a": 1}, {"a": "}"}]}"#,
            &mut |path, v, _| {
                if path.len() == 2 {
                    items.push(std::mem::take(v));
                }
            },
        )
        .unwrap();
        assert_eq!(items, [json!({"a": 1}), json!({"a": "}"})]);
    }

    #[test]
    fn limits_and_malformed_input_are_errors() {
        let mut p = JsonStream::new(Limits {
            max_bytes: 10,
            max_depth: 3,
        });
        assert!(matches!(
            p.feed(b"[[[[", &mut |_, _, _| {}),
            Err(Error::LimitExceeded { .. })
        ));
        let mut p = JsonStream::new(Limits {
            max_bytes: 10,
            max_depth: 3,
        });
        assert!(matches!(
            p.feed(b"[\"aaaaaaaaaaaaa", &mut |_, _, _| {}),
            Err(Error::LimitExceeded { .. })
        ));
        let mut p = JsonStream::new(Limits::default());
        assert!(matches!(
            p.feed(b"{\"a\" 1}", &mut |_, _, _| {}),
            Err(Error::Parse { .. })
        ));
    }

    fn parse_all(text: &str) -> Result<Option<Value>, Error> {
        let mut p = JsonStream::new(Limits::default());
        p.feed(text.as_bytes(), &mut |_, _, _| {})?;
        Ok(p.is_complete().then(|| p.snapshot()).flatten())
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for bad in [
            "{\"a\": \"x\u{1}y\"}",
            "{\"a\": \"tab\there\"}",
            r#"{"a": "\ud800"}"#,
            r#"{"a": "\ud800x"}"#,
            r#"{"a": "\udc00"}"#,
            r#"{"a": "\ud800\n"}"#,
            r#"{"a": 01}"#,
            r#"{"a": tru}"#,
            r#"{"a": 1,}"#,
            r#"[1,]"#,
        ] {
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
            assert!(matches!(parse_all(bad), Err(Error::Parse { .. })), "{bad}");
        }
    }

    #[test]
    fn duplicate_keys_last_wins_as_in_serde_json() {
        let text = r#"{"a": 1, "b": 2, "a": 3}"#;
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parse_all(text).unwrap(), Some(expected));
    }

    #[test]
    fn depth_is_capped_whatever_the_limit_says() {
        let mut p = JsonStream::new(Limits {
            max_bytes: usize::MAX,
            max_depth: usize::MAX,
        });
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(matches!(
            p.feed(deep.as_bytes(), &mut |_, _, _| {}),
            Err(Error::LimitExceeded {
                limit: MAX_DEPTH,
                ..
            })
        ));
    }

    #[test]
    fn a_long_key_costs_nothing_per_value() {
        // The path of each element once copied every key above it.
        let key = "k".repeat(100_000);
        let text = format!("{{\"{key}\": [{}0]}}", "0,".repeat(50_000));
        let mut p = JsonStream::new(Limits::default());
        let mut seen = 0usize;
        p.feed(text.as_bytes(), &mut |path, _, span| {
            if let (2, Some(Seg::Key(k))) = (path.len(), path.get(0)) {
                seen += usize::from(k.len() == 100_000);
            }
            assert!(span.end <= text.len());
        })
        .unwrap();
        assert_eq!(seen, 50_001);
        assert_eq!(p.root_span(), Some(0..text.len()));
    }

    #[test]
    fn spans_cover_each_value() {
        let text = r#"Sure: {"a": [1, "x", {"b": null}], "c": true} bye"#;
        let mut p = JsonStream::new(Limits::default());
        let mut spans = Vec::new();
        p.feed(text.as_bytes(), &mut |_, _, span| spans.push(&text[span]))
            .unwrap();
        assert_eq!(
            spans,
            [
                "1",
                "\"x\"",
                "null",
                "{\"b\": null}",
                "[1, \"x\", {\"b\": null}]",
                "true",
                &text[6..45]
            ]
        );
    }
}
