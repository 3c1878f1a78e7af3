//! An incremental JSON parser: bytes go in as they arrive and each is read once. Open
//! objects and arrays are frames on a stack; a value that closes is reported (and may be
//! taken, as iterable extraction does) before it joins its parent. Chunk boundaries may
//! fall anywhere: inside a UTF-8 character, an escape or a surrogate pair. Text before the
//! first `{` or `[` (prose, a fence, a `<think>` block) and after the root value is skipped.

use serde_json::{Map, Number, Value};

use crate::Error;

/// One step of the path to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
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
    /// The deepest nesting of objects and arrays.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
        }
    }
}

#[derive(Debug)]
enum Frame {
    /// An open object; `key` is the member whose value comes next.
    Object {
        map: Map<String, Value>,
        key: Option<String>,
    },
    Array(Vec<Value>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Prelude,
    Thinking,
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

/// What hears of each value as it closes: its path and the value, which it may take.
pub type OnComplete<'a> = dyn FnMut(&[Seg], &mut Value) + 'a;

/// The parser.
///
/// ```
/// use instructor_core::stream::JsonStream;
/// let mut p = JsonStream::new(Default::default());
/// let mut closed = Vec::new();
/// p.feed(br#"Sure: {"name": "Ja"#, &mut |path, _| closed.push(path.len())).unwrap();
/// assert_eq!(p.snapshot().unwrap()["name"], "Ja");
/// p.feed(br#"son", "age": 30}"#, &mut |path, _| closed.push(path.len())).unwrap();
/// assert_eq!(p.snapshot().unwrap()["age"], 30);
/// assert!(p.is_complete());
/// assert_eq!(closed, [1, 1, 0]);
/// ```
#[derive(Debug)]
pub struct JsonStream {
    stack: Vec<Frame>,
    root: Option<Value>,
    state: State,
    escape: Escape,
    high_surrogate: Option<u32>,
    /// The string being read (a key or a value).
    string: String,
    /// Bytes of a UTF-8 character split by a chunk boundary.
    utf8: Vec<u8>,
    scalar: String,
    prelude: Vec<u8>,
    bytes: usize,
    limits: Limits,
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

impl JsonStream {
    /// A parser with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            stack: Vec::new(),
            root: None,
            state: State::Prelude,
            escape: Escape::None,
            high_surrogate: None,
            string: String::new(),
            utf8: Vec::new(),
            scalar: String::new(),
            prelude: Vec::new(),
            bytes: 0,
            limits,
            changed: false,
        }
    }

    /// Whether the root value has closed.
    pub fn is_complete(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the root value has started.
    pub fn is_started(&self) -> bool {
        !matches!(self.state, State::Prelude | State::Thinking)
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> usize {
        self.bytes
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
            current = Some(match frame {
                Frame::Object { map, key } => {
                    let mut map = map.clone();
                    if let (Some(k), Some(c)) = (key, current.take()) {
                        map.insert(k.clone(), c);
                    }
                    Value::Object(map)
                }
                Frame::Array(items) => {
                    let mut items = items.clone();
                    items.extend(current.take());
                    Value::Array(items)
                }
            });
        }
        current
    }

    /// The path of the value about to be added to the innermost container.
    fn path(&self) -> Vec<Seg> {
        self.stack
            .iter()
            .map(|f| match f {
                Frame::Object { key, .. } => Seg::Key(key.clone().unwrap_or_default()),
                Frame::Array(items) => Seg::Index(items.len()),
            })
            .collect()
    }

    /// A completed value: reported, then added to its parent (or made the root).
    fn finish(&mut self, mut value: Value, on: &mut OnComplete<'_>) {
        self.changed = true;
        on(&self.path(), &mut value);
        match self.stack.last_mut() {
            Some(Frame::Object { map, key }) => {
                map.insert(key.take().unwrap_or_default(), value);
                self.state = State::AfterValue;
            }
            Some(Frame::Array(items)) => {
                items.push(value);
                self.state = State::AfterValue;
            }
            None => {
                self.root = Some(value);
                self.state = State::Done;
            }
        }
    }

    fn open(&mut self, frame: Frame) -> Result<(), Error> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(limit("nesting depth", self.limits.max_depth));
        }
        self.state = if matches!(frame, Frame::Object { .. }) {
            State::BeforeKey
        } else {
            State::BeforeValue
        };
        self.stack.push(frame);
        self.changed = true;
        Ok(())
    }

    fn close(&mut self, object: bool, on: &mut OnComplete<'_>) -> Result<(), Error> {
        let value = match (self.stack.pop(), object) {
            (Some(Frame::Object { map, .. }), true) => Value::Object(map),
            (Some(Frame::Array(items)), false) => Value::Array(items),
            _ => return Err(malformed("mismatched closing bracket")),
        };
        self.finish(value, on);
        Ok(())
    }

    fn end_scalar(&mut self, on: &mut OnComplete<'_>) -> Result<(), Error> {
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
        self.finish(value, on);
        Ok(())
    }

    fn end_string(&mut self, key: bool, on: &mut OnComplete<'_>) -> Result<(), Error> {
        if !self.utf8.is_empty() {
            return Err(malformed("a string ends inside a UTF-8 character"));
        }
        let s = std::mem::take(&mut self.string);
        if key {
            if let Some(Frame::Object { key, .. }) = self.stack.last_mut() {
                *key = Some(s);
            }
            self.state = State::AfterKey;
            Ok(())
        } else {
            self.finish(Value::String(s), on);
            Ok(())
        }
    }

    /// A raw string byte (UTF-8 reassembled across chunk boundaries).
    fn string_byte(&mut self, b: u8) {
        if b < 0x80 && self.utf8.is_empty() {
            self.string.push(b as char);
            return;
        }
        self.utf8.push(b);
        match std::str::from_utf8(&self.utf8) {
            Ok(s) => {
                self.string.push_str(s);
                self.utf8.clear();
            }
            Err(e) if e.error_len().is_some() => {
                // Invalid UTF-8: keep going with a replacement character.
                self.string.push(char::REPLACEMENT_CHARACTER);
                self.utf8.clear();
            }
            Err(_) => {}
        }
    }

    fn escaped_char(&mut self, code: u32) {
        match (self.high_surrogate.take(), code) {
            (None, 0xD800..=0xDBFF) => self.high_surrogate = Some(code),
            (Some(hi), 0xDC00..=0xDFFF) => {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (code - 0xDC00);
                self.string
                    .push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            (Some(_), _) | (None, 0xDC00..=0xDFFF) => self.string.push(char::REPLACEMENT_CHARACTER),
            (None, c) => self
                .string
                .push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
    }

    fn in_string(&mut self, b: u8, key: bool, on: &mut OnComplete<'_>) -> Result<(), Error> {
        self.changed |= !key;
        match self.escape {
            Escape::Backslash => {
                self.escape = Escape::None;
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
                        return Err(malformed(format!("invalid escape `\\{}`", other as char)))
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
                    self.escaped_char(value);
                } else {
                    self.escape = Escape::Unicode {
                        value,
                        digits: digits + 1,
                    };
                }
            }
            Escape::None => match b {
                b'"' => return self.end_string(key, on),
                b'\\' => self.escape = Escape::Backslash,
                b => self.string_byte(b),
            },
        }
        Ok(())
    }

    fn prelude(&mut self, b: u8) -> Result<(), Error> {
        const OPEN: &[u8] = b"<think>";
        const CLOSE: &[u8] = b"</think>";
        self.prelude.push(b);
        if self.prelude.len() > CLOSE.len() {
            self.prelude.remove(0);
        }
        match self.state {
            State::Thinking => {
                if self.prelude.ends_with(CLOSE) {
                    self.state = State::Prelude;
                }
                Ok(())
            }
            _ if self.prelude.ends_with(OPEN) => {
                self.state = State::Thinking;
                Ok(())
            }
            _ => match b {
                b'{' => self.open(Frame::Object {
                    map: Map::new(),
                    key: None,
                }),
                b'[' => self.open(Frame::Array(Vec::new())),
                _ => Ok(()),
            },
        }
    }

    fn byte(&mut self, b: u8, on: &mut OnComplete<'_>) -> Result<(), Error> {
        match self.state {
            State::Prelude | State::Thinking => self.prelude(b),
            State::Done => Ok(()),
            State::InString { key } => self.in_string(b, key, on),
            State::InScalar => {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') {
                    self.scalar.push(b as char);
                    return Ok(());
                }
                self.end_scalar(on)?;
                self.byte(b, on)
            }
            _ if b.is_ascii_whitespace() => Ok(()),
            State::BeforeKey => match b {
                b'"' => {
                    self.state = State::InString { key: true };
                    Ok(())
                }
                b'}' => self.close(true, on),
                _ => Err(malformed(format!("expected a key, found `{}`", b as char))),
            },
            State::AfterKey => match b {
                b':' => {
                    self.state = State::BeforeValue;
                    Ok(())
                }
                _ => Err(malformed(format!("expected `:`, found `{}`", b as char))),
            },
            State::AfterValue => match (b, self.stack.last()) {
                (b',', Some(Frame::Object { .. })) => {
                    self.state = State::BeforeKey;
                    Ok(())
                }
                (b',', Some(Frame::Array(_))) => {
                    self.state = State::BeforeValue;
                    Ok(())
                }
                (b'}', _) => self.close(true, on),
                (b']', _) => self.close(false, on),
                _ => Err(malformed(format!(
                    "expected `,` or a closing bracket, found `{}`",
                    b as char
                ))),
            },
            State::BeforeValue => match b {
                b'"' => {
                    self.state = State::InString { key: false };
                    Ok(())
                }
                b'{' => self.open(Frame::Object {
                    map: Map::new(),
                    key: None,
                }),
                b'[' => self.open(Frame::Array(Vec::new())),
                b']' if matches!(self.stack.last(), Some(Frame::Array(a)) if a.is_empty()) => {
                    self.close(false, on)
                }
                b if b.is_ascii_alphanumeric() || b == b'-' => {
                    self.scalar.push(b as char);
                    self.state = State::InScalar;
                    Ok(())
                }
                _ => Err(malformed(format!(
                    "expected a value, found `{}`",
                    b as char
                ))),
            },
        }
    }

    /// Feeds a chunk; `on_complete` hears of every value that closes in it.
    pub fn feed(&mut self, chunk: &[u8], on_complete: &mut OnComplete<'_>) -> Result<(), Error> {
        self.bytes += chunk.len();
        if self.bytes > self.limits.max_bytes {
            return Err(limit("answer bytes", self.limits.max_bytes));
        }
        for &b in chunk {
            self.byte(b, on_complete)?;
        }
        Ok(())
    }

    /// Ends the input: a number at the very end completes; anything still open is an
    /// error the caller reports as an incomplete answer.
    pub fn finish_input(&mut self, on_complete: &mut OnComplete<'_>) -> Result<(), Error> {
        if self.state == State::InScalar && self.stack.is_empty() {
            self.end_scalar(on_complete)?;
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
            p.feed(&bytes[last..c], &mut |path, _| closed.push(path.len()))
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
        p.feed(br#"{"name": "Jas"#, &mut |_, _| {}).unwrap();
        assert_eq!(p.snapshot(), Some(json!({"name": "Jas"})));
        p.feed(br#"on", "age": 3"#, &mut |_, _| {}).unwrap();
        assert_eq!(
            p.snapshot(),
            Some(json!({"name": "Jason"})),
            "a number shows only once complete"
        );
        p.feed(b"0}", &mut |_, _| {}).unwrap();
        assert_eq!(p.snapshot(), Some(json!({"name": "Jason", "age": 30})));
    }

    #[test]
    fn completed_values_can_be_taken() {
        let mut p = JsonStream::new(Limits::default());
        let mut items = Vec::new();
        p.feed(br#"{"items": [{"a": 1}, {"a": "}"}]}"#, &mut |path, v| {
            if path.len() == 2 {
                items.push(std::mem::take(v));
            }
        })
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
            p.feed(b"[[[[", &mut |_, _| {}),
            Err(Error::LimitExceeded { .. })
        ));
        let mut p = JsonStream::new(Limits {
            max_bytes: 10,
            max_depth: 3,
        });
        assert!(matches!(
            p.feed(b"[\"aaaaaaaaaaaaa", &mut |_, _| {}),
            Err(Error::LimitExceeded { .. })
        ));
        let mut p = JsonStream::new(Limits::default());
        assert!(matches!(
            p.feed(b"{\"a\" 1}", &mut |_, _| {}),
            Err(Error::Parse { .. })
        ));
    }
}
