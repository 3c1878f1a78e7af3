//! An incremental JSON parser: bytes go in as they arrive and each is read once. Open
//! objects and arrays are frames on a stack; a value that closes is reported with its path
//! and its byte span (and may be taken, as a caller of [`JsonStream::new`] may do) before it
//! joins its parent. Chunk boundaries may fall anywhere: inside a UTF-8 character, an
//! escape or a surrogate pair. The text before the value is read by the shared [`Locator`],
//! so prose, fences and `<think>` blocks are skipped exactly as for whole answers; text after
//! the root value is ignored. What it rejects, it rejects as `serde_json` does: raw control
//! characters in strings, lone surrogates, bad escapes, malformed numbers, invalid UTF-8,
//! nesting past 128 levels.
//!
//! Two ways to run the same state machine: [`JsonStream::new`] builds the value as it
//! arrives (a [`Value`] tree, for [`JsonStream::snapshot`] and for callers that take closed
//! values); [`JsonStream::without_values`] builds none and reads a string's plain bytes
//! without copying them, for callers that read values from their spans (and snapshots from
//! the text: see [`JsonStream::read_snapshot`]).

use std::ops::Range;

use serde_json::{Map, Number, Value};

use super::locate::Locator;
use super::snapshot::Cached;
use crate::Error;

/// The nesting no answer may reach, whatever [`Limits::max_depth`] says: `serde_json`'s
/// recursion limit, which it counts as it reads a whole answer, so values nest at most 127
/// levels deep. Deeper values would overflow the stack when they are deserialized, cloned
/// or dropped.
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
    /// The deepest nesting of objects and arrays (whatever it says, values nest less than
    /// [`MAX_DEPTH`] levels deep, as `serde_json` reads them).
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
    /// What it holds so far (left empty by a parser that builds no values).
    kind: Kind,
    /// Where it opened (byte offset of the bracket).
    start: usize,
    /// Members or elements closed so far.
    len: usize,
    /// Where the text of its closed members or elements ends (just after the bracket when
    /// there are none): a snapshot from the text keeps the text up to here.
    kept: usize,
    /// The key of the member being read (objects).
    key: String,
}

#[derive(Debug)]
enum Kind {
    /// The members so far, when values are built.
    Object(Option<Map<String, Value>>),
    Array(Vec<Value>),
}

impl Frame {
    /// Where it opened.
    pub(super) fn start(&self) -> usize {
        self.start
    }

    /// Where the text of its complete members ends.
    pub(super) fn kept(&self) -> usize {
        self.kept
    }

    /// The key of the member being read (an object's).
    pub(super) fn key(&self) -> &str {
        &self.key
    }

    fn seg(&self) -> Seg<'_> {
        match &self.kind {
            Kind::Object(_) => Seg::Key(&self.key),
            Kind::Array(_) => Seg::Index(self.len),
        }
    }

    pub(super) fn is_object(&self) -> bool {
        matches!(self.kind, Kind::Object(_))
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
/// byte span in the text fed so far. A parser made by [`JsonStream::without_values`] passes
/// strings and containers as empty stand-ins of their kind (`""`, `[]`, `{}`; numbers and
/// literals are passed whole): read them from their span.
pub type OnComplete<'a> = dyn FnMut(Path<'_>, &mut Value, Range<usize>) + 'a;

/// The bytes a string may hold as they are: not a quote, a backslash or a control character.
static PLAIN: [bool; 256] = {
    let mut t = [true; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = false;
        b += 1;
    }
    t[b'"' as usize] = false;
    t[b'\\' as usize] = false;
    t
};

/// Where the whitespace from `i` ends.
fn skip_whitespace(chunk: &[u8], i: usize) -> usize {
    chunk[i.min(chunk.len())..]
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .map_or(chunk.len(), |n| i + n)
}

/// The bytes of a number or a literal.
fn is_scalar_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.')
}

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
    pub(super) stack: Vec<Frame>,
    /// What [`JsonStream::read_snapshot`] keeps between snapshots.
    pub(super) cache: Vec<Cached>,
    /// Whether values are built (a tree for snapshots, whole values for the callback).
    values: bool,
    root: Option<Value>,
    root_span: Option<Range<usize>>,
    state: State,
    escape: Escape,
    /// Where the escape being read began (for a surrogate pair, the first escape's).
    escape_at: usize,
    high_surrogate: Option<u32>,
    /// The string being read: a key, or a value when values are built.
    string: String,
    /// Key buffers of closed containers, for the next ones to open.
    spare_keys: Vec<String>,
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

fn bad_utf8() -> Error {
    malformed("invalid UTF-8 in a string")
}

fn shown(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl JsonStream {
    /// A parser with `limits` that builds the value as it arrives.
    pub fn new(limits: Limits) -> Self {
        Self {
            stack: Vec::new(),
            cache: Vec::new(),
            values: true,
            root: None,
            root_span: None,
            state: State::Prelude,
            escape: Escape::None,
            escape_at: 0,
            high_surrogate: None,
            string: String::new(),
            spare_keys: Vec::new(),
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

    /// A parser with `limits` that checks and locates values but builds none: the callback
    /// gets strings and containers as empty stand-ins, [`JsonStream::snapshot`] is `None`,
    /// and [`JsonStream::snapshot_from_text`] gives the value so far.
    ///
    /// ```
    /// use instructor_core::stream::JsonStream;
    /// let text = br#"{"items": [{"a": 1}, {"a": "}"}]}"#;
    /// let mut p = JsonStream::without_values(Default::default());
    /// let mut items = Vec::new();
    /// p.feed(text, &mut |path, _, span| {
    ///     if path.len() == 2 {
    ///         items.push(span);
    ///     }
    /// })
    /// .unwrap();
    /// assert_eq!(&text[items[1].clone()], br#"{"a": "}"}"#);
    /// assert_eq!(p.snapshot(), None);
    /// assert_eq!(p.snapshot_from_text(text).unwrap()["items"][1]["a"], "}");
    /// ```
    pub fn without_values(limits: Limits) -> Self {
        Self {
            values: false,
            ..Self::new(limits)
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
    /// the value; callers budget how often they take one. `None` before the value starts,
    /// and always from a parser made by [`JsonStream::without_values`].
    pub fn snapshot(&self) -> Option<Value> {
        if !self.values {
            return None;
        }
        if let Some(root) = &self.root {
            return Some(root.clone());
        }
        let mut current = match self.state {
            State::InString { key: false } => Some(Value::String(self.string.clone())),
            _ => None,
        };
        for frame in self.stack.iter().rev() {
            current = Some(match &frame.kind {
                Kind::Object(map) => {
                    let mut map = map.clone().unwrap_or_default();
                    if let Some(c) = current.take() {
                        map.insert(frame.key.clone(), c);
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

    /// The open containers, the root first.
    pub(super) fn frames(&self) -> &[Frame] {
        &self.stack
    }

    /// The text of the string value being read, from its quote up to the last byte a
    /// snapshot shows (before an escape or a UTF-8 character still arriving).
    pub(super) fn open_string(&self) -> Option<Range<usize>> {
        if self.state != (State::InString { key: false }) {
            return None;
        }
        let end = if self.escape != Escape::None || self.high_surrogate.is_some() {
            self.escape_at
        } else {
            self.bytes - self.utf8.len()
        };
        Some(self.value_start..end)
    }

    /// A completed value spanning `start..end`: reported, then added to its parent (or
    /// made the root).
    fn finish(&mut self, mut value: Value, start: usize, end: usize, on: &mut OnComplete<'_>) {
        self.changed = true;
        on(Path(&self.stack), &mut value, start..end);
        match self.stack.last_mut() {
            Some(frame) => {
                frame.len += 1;
                frame.kept = end;
                if self.values {
                    match &mut frame.kind {
                        Kind::Object(map) => {
                            let key = std::mem::take(&mut frame.key);
                            map.get_or_insert_with(Map::new).insert(key, value);
                        }
                        Kind::Array(items) => items.push(value),
                    }
                }
                self.state = State::AfterValue;
            }
            None => {
                self.root = self.values.then_some(value);
                self.root_span = Some(start..end);
                self.state = State::Done;
            }
        }
    }

    fn open(&mut self, object: bool, at: usize) -> Result<(), Error> {
        if self.stack.len() >= self.max_depth {
            return Err(limit("nesting depth", self.max_depth));
        }
        // What serde_json rejects, rejected alike.
        if self.stack.len() + 1 >= MAX_DEPTH {
            return Err(limit("nesting depth", MAX_DEPTH));
        }
        let kind = if object {
            self.state = State::BeforeKey;
            Kind::Object(self.values.then(Map::new))
        } else {
            self.state = State::BeforeValue;
            Kind::Array(Vec::new())
        };
        self.stack.push(Frame {
            kind,
            start: at,
            len: 0,
            kept: at + 1,
            key: self.spare_keys.pop().unwrap_or_default(),
        });
        self.changed = true;
        Ok(())
    }

    fn close(&mut self, object: bool, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        let frame = match self.stack.pop() {
            Some(frame) if frame.is_object() == object => frame,
            _ => return Err(malformed("mismatched closing bracket")),
        };
        let value = match frame.kind {
            Kind::Object(map) => Value::Object(map.unwrap_or_default()),
            Kind::Array(items) => Value::Array(items),
        };
        // Key buffers are kept for the next containers (at most one per level).
        let mut key = frame.key;
        if key.capacity() > 0 {
            key.clear();
            self.spare_keys.push(key);
        }
        self.finish(value, frame.start, at + 1, on);
        Ok(())
    }

    fn end_scalar(&mut self, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        let value = match self.scalar.as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            n => Value::Number(
                serde_json::from_str::<Number>(n)
                    .map_err(|_| malformed(format!("`{n}` is not a JSON value")))?,
            ),
        };
        self.scalar.clear();
        self.finish(value, self.value_start, at, on);
        Ok(())
    }

    fn end_string(&mut self, key: bool, at: usize, on: &mut OnComplete<'_>) {
        if key {
            // A repeated key: the last value wins in its first place, as in serde_json's
            // own maps (typed values are read from the text, where structs reject it).
            if let Some(frame) = self.stack.last_mut() {
                std::mem::swap(&mut frame.key, &mut self.string);
            }
            self.string.clear();
            self.state = State::AfterKey;
        } else {
            let s = if self.values {
                std::mem::take(&mut self.string)
            } else {
                String::new()
            };
            self.finish(Value::String(s), self.value_start, at + 1, on);
        }
    }

    /// Whether the string being read is kept (keys always, values when values are built).
    fn keeps(&self, key: bool) -> bool {
        key || self.values
    }

    /// Reads the plain bytes (no quote, backslash or control character) at the start of
    /// `bytes`, in a string with no escape or character pending: returns how many. A UTF-8
    /// character cut by the end of `bytes` waits for the next chunk.
    fn string_run(&mut self, bytes: &[u8], key: bool) -> Result<usize, Error> {
        let n = bytes
            .iter()
            .position(|&b| !PLAIN[usize::from(b)])
            .unwrap_or(bytes.len());
        if n == 0 {
            return Ok(0);
        }
        let run = &bytes[..n];
        self.changed |= !key;
        let keeps = self.keeps(key);
        if !keeps && run.is_ascii() {
            // Nothing to check or keep.
            return Ok(n);
        }
        let (text, cut) = match std::str::from_utf8(run) {
            Ok(text) => (text, &[][..]),
            // The run reaches the end of the chunk in the middle of a character.
            Err(e) if e.error_len().is_none() && n == bytes.len() => {
                let (whole, cut) = run.split_at(e.valid_up_to());
                (std::str::from_utf8(whole).map_err(|_| bad_utf8())?, cut)
            }
            Err(_) => return Err(bad_utf8()),
        };
        if keeps {
            self.string.push_str(text);
        }
        if !cut.is_empty() {
            self.utf8.extend_from_slice(cut);
        }
        Ok(n)
    }

    /// A string byte after the start of a UTF-8 character cut by a chunk boundary.
    fn utf8_byte(&mut self, b: u8, key: bool) -> Result<(), Error> {
        self.utf8.push(b);
        match std::str::from_utf8(&self.utf8) {
            Ok(s) => {
                if key || self.values {
                    self.string.push_str(s);
                }
                self.utf8.clear();
                Ok(())
            }
            Err(e) if e.error_len().is_some() => Err(bad_utf8()),
            Err(_) => Ok(()),
        }
    }

    fn escaped_char(&mut self, code: u32, key: bool) -> Result<(), Error> {
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
        if self.keeps(key) {
            self.string.push(c);
        }
        Ok(())
    }

    /// One byte of a string, outside a run of plain bytes.
    fn in_string(
        &mut self,
        b: u8,
        key: bool,
        at: usize,
        on: &mut OnComplete<'_>,
    ) -> Result<(), Error> {
        self.changed |= !key;
        if !self.utf8.is_empty() {
            return self.utf8_byte(b, key);
        }
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
                if self.keeps(key) {
                    self.string.push(c);
                }
            }
            Escape::Unicode { value, digits } => {
                let d = (b as char)
                    .to_digit(16)
                    .ok_or_else(|| malformed("invalid \\u escape"))?;
                let value = value * 16 + d;
                if digits == 3 {
                    self.escape = Escape::None;
                    self.escaped_char(value, key)?;
                } else {
                    self.escape = Escape::Unicode {
                        value,
                        digits: digits + 1,
                    };
                }
            }
            Escape::None => match b {
                b'\\' => {
                    if self.high_surrogate.is_none() {
                        self.escape_at = at;
                    }
                    self.escape = Escape::Backslash;
                }
                _ if self.high_surrogate.is_some() => {
                    return Err(malformed("lone leading surrogate in a \\u escape"))
                }
                b'"' => self.end_string(key, at, on),
                b if b < 0x20 => {
                    return Err(malformed(format!(
                        "control character {} in a string (it must be escaped)",
                        shown(b)
                    )))
                }
                // Plain bytes are read in runs by `feed`; one here is read the same way.
                b => {
                    self.string_run(&[b], key)?;
                }
            },
        }
        Ok(())
    }

    /// One byte that `feed` does not read in a run: punctuation, and the bytes of a string
    /// that are not plain.
    #[inline]
    fn byte(&mut self, b: u8, at: usize, on: &mut OnComplete<'_>) -> Result<(), Error> {
        match self.state {
            // Read by `feed`.
            State::Prelude | State::InScalar | State::Done => Ok(()),
            State::InString { key } => self.in_string(b, key, at, on),
            _ if matches!(b, b' ' | b'\t' | b'\n' | b'\r') => Ok(()),
            State::BeforeKey => match b {
                b'"' => {
                    self.state = State::InString { key: true };
                    Ok(())
                }
                b'}' if self.stack.last().is_some_and(|f| f.len == 0) => self.close(true, at, on),
                _ => Err(malformed(format!("expected a key, found {}", shown(b)))),
            },
            State::AfterKey => match b {
                b':' => {
                    self.state = State::BeforeValue;
                    Ok(())
                }
                _ => Err(malformed(format!("expected `:`, found {}", shown(b)))),
            },
            State::AfterValue => match (b, self.stack.last().map(Frame::is_object)) {
                (b',', Some(true)) => {
                    self.state = State::BeforeKey;
                    Ok(())
                }
                (b',', Some(false)) => {
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
                b']' if self
                    .stack
                    .last()
                    .is_some_and(|f| !f.is_object() && f.len == 0) =>
                {
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
        let mut i = 0;
        while i < chunk.len() {
            let b = chunk[i];
            // Runs (prose, plain string bytes, scalar bytes, whitespace) are read here;
            // `byte` reads the rest, one at a time.
            match self.state {
                State::Done => break,
                State::Prelude => {
                    let locator = &mut self.locator;
                    match chunk[i..].iter().position(|&b| locator.byte(b)) {
                        Some(n) => {
                            i += n;
                            self.open(chunk[i] == b'{', base + i)?;
                            i += 1;
                        }
                        None => i = chunk.len(),
                    }
                    continue;
                }
                State::InString { key }
                    if self.escape == Escape::None
                        && self.high_surrogate.is_none()
                        && self.utf8.is_empty() =>
                {
                    let n = self.string_run(&chunk[i..], key)?;
                    i += n;
                    match chunk.get(i) {
                        Some(b'"') => {
                            self.end_string(key, base + i, on_complete);
                            i += 1;
                            continue;
                        }
                        // An escape or a control character: read by `byte`.
                        Some(_) if n == 0 => {}
                        _ => continue,
                    }
                }
                State::InScalar => {
                    let rest = &chunk[i..];
                    let n = rest
                        .iter()
                        .position(|&b| !is_scalar_byte(b))
                        .unwrap_or(rest.len());
                    // Scalar bytes are ASCII.
                    self.scalar.extend(rest[..n].iter().map(|&b| char::from(b)));
                    i += n;
                    if i < chunk.len() {
                        // The byte after the scalar ends it, and is read again.
                        self.end_scalar(base + i, on_complete)?;
                    }
                    continue;
                }
                State::InString { .. } => {}
                // The common steps between tokens, each with the whitespace after it.
                State::AfterKey if b == b':' => {
                    self.state = State::BeforeValue;
                    i = skip_whitespace(chunk, i + 1);
                    continue;
                }
                State::AfterValue if b == b',' => {
                    self.state = match self.stack.last().map(Frame::is_object) {
                        Some(true) => State::BeforeKey,
                        _ => State::BeforeValue,
                    };
                    i = skip_whitespace(chunk, i + 1);
                    continue;
                }
                State::BeforeKey if b == b'"' => {
                    self.state = State::InString { key: true };
                    i += 1;
                    continue;
                }
                State::BeforeValue if b == b'"' => {
                    self.state = State::InString { key: false };
                    self.value_start = base + i;
                    i += 1;
                    continue;
                }
                _ if matches!(b, b' ' | b'\t' | b'\n' | b'\r') => {
                    i = skip_whitespace(chunk, i + 1);
                    continue;
                }
                _ => {}
            }
            self.byte(b, base + i, on_complete)?;
            i += 1;
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
        // Too deep, then too long.
        for input in [&b"[[[["[..], b"[\"aaaaaaaaaaaaa"] {
            let mut p = JsonStream::new(Limits {
                max_bytes: 10,
                max_depth: 3,
            });
            assert!(matches!(
                p.feed(input, &mut |_, _, _| {}),
                Err(Error::LimitExceeded { .. })
            ));
        }
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
        // As deep as serde_json reads, and no deeper.
        for levels in [MAX_DEPTH - 1, MAX_DEPTH] {
            let text = format!("{}{}", "[".repeat(levels), "]".repeat(levels));
            let whole = serde_json::from_str::<Value>(&text);
            assert_eq!(parse_all(&text).is_ok(), whole.is_ok(), "{levels} levels");
        }
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

    /// Every event (pointer, value, span) and the outcome of feeding `text` cut at `cuts`,
    /// with a snapshot from the tree and from the text after each piece.
    #[derive(Debug, PartialEq)]
    struct Trace {
        events: Vec<(String, Value, Range<usize>)>,
        result: Result<(), String>,
        complete: bool,
        span: Option<Range<usize>>,
    }

    fn pointer(path: Path<'_>) -> String {
        (0..path.len())
            .map(|i| match path.get(i) {
                Some(Seg::Key(k)) => format!("/{k}"),
                Some(Seg::Index(n)) => format!("/{n}"),
                None => "/?".to_owned(),
            })
            .collect()
    }

    /// Runs both parsers over `text` cut at `cuts`, checking at each cut that the text
    /// snapshot (from either) is the tree snapshot; returns the two traces.
    fn trace_both(text: &[u8], cuts: &[usize]) -> (Trace, Trace) {
        let mut traces = Vec::new();
        for values in [true, false] {
            let mut p = if values {
                JsonStream::new(Limits::default())
            } else {
                JsonStream::without_values(Limits::default())
            };
            let mut events = Vec::new();
            let mut result = Ok(());
            let mut last = 0;
            for &c in cuts.iter().chain(std::iter::once(&text.len())) {
                let fed = p.feed(&text[last..c], &mut |path, v, span| {
                    events.push((pointer(path), v.clone(), span));
                });
                last = c;
                if let Err(e) = fed {
                    result = Err(e.to_string());
                    break;
                }
                if values {
                    // As text, so that the order of members counts too.
                    let from_text = p.snapshot_from_text(&text[..c]).map(|v| v.to_string());
                    let tree = p.snapshot().map(|v| v.to_string());
                    assert_eq!(from_text, tree, "cut at {c} of {:?}", shown_text(text));
                }
            }
            if result.is_ok() {
                result = p.finish_input(&mut |_, _, _| {}).map_err(|e| e.to_string());
            }
            traces.push(Trace {
                events,
                result,
                complete: p.is_complete(),
                span: p.root_span(),
            });
        }
        let lean = traces.pop().unwrap();
        (traces.pop().unwrap(), lean)
    }

    fn shown_text(text: &[u8]) -> String {
        String::from_utf8_lossy(text).into_owned()
    }

    /// Values as the lean parser reports them: strings and containers empty.
    fn stand_in(v: &Value) -> Value {
        match v {
            Value::String(_) => json!(""),
            Value::Array(_) => json!([]),
            Value::Object(_) => json!({}),
            other => other.clone(),
        }
    }

    const SAMPLES: &[&str] = &[
        r#"{"s": "a\"b\\c \u00e9 \ud83d\ude00 ✓ 日本", "n": -1.5e3, "l": [true, false, null, {"k": []}], "e": {}}"#,
        r#"Sure: {"items": [{"name": "Zoë", "age": 4, "tags": ["a}b", "c\\d"]}, {"name": "B\u00e9"}]} bye"#,
        r#"[1, 22, "x", [], {}, [[["deep"]]], {"a": {"b": {"c": "d"}}}]"#,
        r#"{"a": 1, "b": 2, "a": "again"}"#,
        r#"{"a": "x", "a": "y", "b": ["z"], "b": ["w", "v"]}"#,
        "```json\n{\"k\": \"v\\/\\b\\f\\n\\r\\t\"}\n```",
        "{\"a\": \"x\u{1}y\"}",
        r#"{"a": "\ud800x"}"#,
        r#"{"a": "\ud800\n"}"#,
        r#"{"a": "\udc00"}"#,
        r#"{"a": "\q"}"#,
        r#"{"a": 01}"#,
        r#"{"a": tru}"#,
        r#"{"a": 1,}"#,
        r#"[1,]"#,
        r#"{"a" 1}"#,
        "{\"a\": 12",
        "[\"open",
    ];

    fn samples() -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = SAMPLES.iter().map(|s| s.as_bytes().to_vec()).collect();
        // Invalid UTF-8 in several places: a cut character before a quote, an escape, a
        // control character; a stray continuation byte; an overlong encoding.
        for bad in [
            &b"{\"a\": \"x\xc3\"}"[..],
            b"{\"a\": \"x\xc3\\n\xa9\"}",
            b"{\"a\": \"x\xe2\x82\x01\"}",
            b"{\"a\": \"\xa9\"}",
            b"{\"a\": \"\xc0\xaf\"}",
            b"{\"k\xc3\": 1}",
        ] {
            all.push(bad.to_vec());
        }
        all
    }

    #[test]
    fn both_parsers_agree_at_every_split() {
        for text in samples() {
            let whole = trace_both(&text, &[]);
            for cut in 0..=text.len() {
                let split = trace_both(&text, &[cut]);
                assert_eq!(split, whole, "split at {cut} of {:?}", shown_text(&text));
            }
            let bytes: Vec<usize> = (1..text.len()).collect();
            assert_eq!(trace_both(&text, &bytes), whole, "{:?}", shown_text(&text));
            let (full, lean) = whole;
            assert_eq!(full.result, lean.result, "{:?}", shown_text(&text));
            assert_eq!((full.complete, &full.span), (lean.complete, &lean.span));
            let expected: Vec<_> = full
                .events
                .iter()
                .map(|(p, v, s)| (p.clone(), stand_in(v), s.clone()))
                .collect();
            assert_eq!(lean.events, expected, "{:?}", shown_text(&text));
            // What serde_json rejects (not for want of input), both reject.
            let rejected = match std::str::from_utf8(&text)
                .ok()
                .and_then(crate::json::locate)
            {
                Some((value, _)) => {
                    serde_json::from_str::<Value>(value).is_err_and(|e| !e.is_eof())
                }
                None => true,
            };
            assert_eq!(rejected, full.result.is_err(), "{:?}", shown_text(&text));
        }
    }

    #[test]
    fn text_snapshots_show_strings_as_they_grow_and_numbers_once_complete() {
        let text = br#"{"name": "Ja\u00e9 \ud83d\ude00", "age": 30, "tags": ["x"#;
        let mut p = JsonStream::without_values(Limits::default());
        let mut seen = Vec::new();
        for i in 0..text.len() {
            p.feed(&text[i..=i], &mut |_, _, _| {}).unwrap();
            seen.push(p.snapshot_from_text(&text[..=i]));
        }
        let at = |needle: &str| {
            let end = text
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap()
                + needle.len();
            seen[end - 1].clone()
        };
        assert_eq!(at(r#"{"name": "Ja"#), Some(json!({"name": "Ja"})));
        assert_eq!(at(r#"{"name": "Ja\u00"#), Some(json!({"name": "Ja"})));
        assert_eq!(at(r#"\u00e9"#), Some(json!({"name": "Jaé"})));
        assert_eq!(at(r#"\ud83d"#), Some(json!({"name": "Jaé "})));
        assert_eq!(at(r#"\ude00"#), Some(json!({"name": "Jaé 😀"})));
        assert_eq!(at(r#""age": 3"#), Some(json!({"name": "Jaé 😀"})));
        assert_eq!(
            at(r#""age": 30,"#),
            Some(json!({"name": "Jaé 😀", "age": 30}))
        );
        assert_eq!(
            seen.last().cloned().flatten(),
            Some(json!({"name": "Jaé 😀", "age": 30, "tags": ["x"]}))
        );
        assert_eq!(p.snapshot_from_text(b"not what was fed"), None);
    }

    #[test]
    fn a_lean_parser_keeps_keys_and_reports_stand_ins() {
        let text = br#"{"items": [{"a": "long string", "b": [1, 2]}, 3.5, true]}"#;
        let mut p = JsonStream::without_values(Limits::default());
        let mut events = Vec::new();
        p.feed(text, &mut |path, v, span| {
            events.push((pointer(path), v.clone(), shown_text(&text[span])));
        })
        .unwrap();
        assert_eq!(
            events[0],
            ("/items/0/a".into(), json!(""), "\"long string\"".into())
        );
        assert_eq!(events[3], ("/items/0/b".into(), json!([]), "[1, 2]".into()));
        assert_eq!(events[5], ("/items/1".into(), json!(3.5), "3.5".into()));
        assert_eq!(events.last().map(|e| &e.1), Some(&json!({})));
        assert!(
            p.string.capacity() <= "items".len().max(8),
            "values are not copied"
        );
    }
}
