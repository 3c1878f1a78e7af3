//! The lenient repair pass: turns near-JSON that models write (trailing commas, single
//! quotes, unquoted keys, comments, Python literals, an answer cut off mid-value, text after
//! the value) into JSON, in one pass, and says what it changed.

use std::fmt;

/// One kind of change the repair pass made to the model's answer.
///
/// ```
/// assert_eq!(instructor_core::Repair::TrailingComma.to_string(), "removed a trailing comma");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Repair {
    /// `[1, 2,]` → `[1, 2]`.
    TrailingComma,
    /// `{'a': 'b'}` → `{"a": "b"}`.
    SingleQuotes,
    /// `{a: 1}` → `{"a": 1}`.
    UnquotedKey,
    /// `{"a": Jason}` → `{"a": "Jason"}`.
    UnquotedString,
    /// `// ...` and `/* ... */` removed.
    Comment,
    /// `True`, `False`, `None` → `true`, `false`, `null`.
    PythonLiteral,
    /// A string cut off at the end was closed.
    ClosedString,
    /// Objects and arrays left open at the end were closed.
    ClosedBrackets,
    /// A key left without a value at the end got `null`.
    MissingValue,
    /// Text after the first complete value was dropped.
    TrailingText,
    /// A raw control character (a tab, a newline) inside a string was escaped.
    ControlCharacter,
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Repair::TrailingComma => "removed a trailing comma",
            Repair::SingleQuotes => "replaced single quotes",
            Repair::UnquotedKey => "quoted a bare key",
            Repair::UnquotedString => "quoted a bare word",
            Repair::Comment => "removed a comment",
            Repair::PythonLiteral => "replaced a Python literal",
            Repair::ClosedString => "closed an unterminated string",
            Repair::ClosedBrackets => "closed unclosed brackets",
            Repair::MissingValue => "gave a dangling key the value null",
            Repair::TrailingText => "dropped text after the JSON value",
            Repair::ControlCharacter => "escaped a control character in a string",
        })
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    /// In an object: whether a value is expected (after `:`), or a key was just written.
    Object {
        expect_value: bool,
        after_key: bool,
    },
    Array,
}

struct Repairer {
    out: String,
    stack: Vec<Frame>,
    repairs: Vec<Repair>,
    /// Where the output's last significant character, a comma, stands (whitespace may
    /// follow it): dropping a trailing comma is then one truncation, not a search.
    comma: Option<usize>,
}

impl Repairer {
    fn note(&mut self, r: Repair) {
        if !self.repairs.contains(&r) {
            self.repairs.push(r);
        }
    }

    /// Writes significant text (anything but whitespace).
    fn push(&mut self, s: &str) {
        self.comma = None;
        self.out.push_str(s);
    }

    fn push_char(&mut self, c: char) {
        if !c.is_whitespace() {
            self.comma = None;
        }
        self.out.push(c);
    }

    fn drop_trailing_comma(&mut self) {
        if let Some(at) = self.comma.take() {
            self.out.truncate(at);
            self.note(Repair::TrailingComma);
        }
    }

    /// A scalar or string was written: in an object it is a key or a value.
    fn wrote_item(&mut self, is_string: bool) {
        if let Some(Frame::Object {
            expect_value,
            after_key,
        }) = self.stack.last_mut()
        {
            if *expect_value {
                *expect_value = false;
            } else if is_string {
                *after_key = true;
            }
        }
    }

    fn in_key_position(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Object {
                expect_value: false,
                ..
            })
        )
    }

    fn set_object_state(&mut self, expect: bool) {
        if let Some(Frame::Object {
            expect_value,
            after_key,
        }) = self.stack.last_mut()
        {
            *expect_value = expect;
            *after_key = false;
        }
    }
}

/// Repairs `text` (which should start at the JSON value). Returns `None` when nothing was
/// changed, so the original parse error stands. One pass over the text, no copy of it
/// besides the output.
///
/// ```
/// use instructor_core::json::repair;
/// let (fixed, _) = repair("{'a': [1, 2,],").unwrap();
/// assert_eq!(fixed, r#"{"a": [1, 2]}"#);
/// ```
pub fn repair(text: &str) -> Option<(String, Vec<Repair>)> {
    let mut r = Repairer {
        out: String::with_capacity(text.len() + 8),
        stack: Vec::new(),
        repairs: Vec::new(),
        comma: None,
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut started = false;
    while let Some(c) = text[i..].chars().next() {
        if started && r.stack.is_empty() {
            if !text[i..].trim_start().is_empty() {
                r.note(Repair::TrailingText);
            }
            break;
        }
        let next = bytes.get(i + 1).copied();
        match c {
            '"' | '\'' => {
                let (end, closed, control) = read_string(text, i, &mut r.out);
                r.comma = None;
                if control {
                    r.note(Repair::ControlCharacter);
                }
                if c == '\'' {
                    r.note(Repair::SingleQuotes);
                }
                if !closed {
                    r.note(Repair::ClosedString);
                }
                r.wrote_item(true);
                started = true;
                i = end;
                continue;
            }
            '/' if next == Some(b'/') => {
                i = text[i..].find('\n').map_or(text.len(), |n| i + n);
                r.note(Repair::Comment);
                continue;
            }
            '/' if next == Some(b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
                r.note(Repair::Comment);
                continue;
            }
            '{' => {
                r.push("{");
                r.stack.push(Frame::Object {
                    expect_value: false,
                    after_key: false,
                });
                started = true;
            }
            '[' => {
                r.push("[");
                r.stack.push(Frame::Array);
                started = true;
            }
            '}' | ']' => {
                r.drop_trailing_comma();
                match r.stack.pop() {
                    Some(Frame::Object { .. }) => r.push("}"),
                    Some(Frame::Array) => r.push("]"),
                    None => {}
                }
                r.wrote_item(false);
            }
            ':' => {
                r.push(":");
                r.set_object_state(true);
            }
            ',' => {
                r.out.push(',');
                r.comma = Some(r.out.len() - 1);
                r.set_object_state(false);
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let end = text[i..]
                    .char_indices()
                    .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '$' | '-' | '.')))
                    .map_or(text.len(), |(n, _)| i + n);
                let word = &text[i..end];
                let is_key = r.in_key_position();
                match word {
                    "true" | "false" | "null" if !is_key => r.push(word),
                    "True" | "False" | "None" if !is_key => {
                        r.push(match word {
                            "True" => "true",
                            "False" => "false",
                            _ => "null",
                        });
                        r.note(Repair::PythonLiteral);
                    }
                    _ => {
                        r.comma = None;
                        push_json_string(&mut r.out, word);
                        r.note(if is_key {
                            Repair::UnquotedKey
                        } else {
                            Repair::UnquotedString
                        });
                    }
                }
                r.wrote_item(is_key);
                started = true;
                i = end;
                continue;
            }
            c if c == '-' || c.is_ascii_digit() => {
                let end = bytes[i..]
                    .iter()
                    .position(|b| {
                        !(b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
                    })
                    .map_or(text.len(), |n| i + n);
                r.push(&text[i..end]);
                r.wrote_item(false);
                started = true;
                i = end;
                continue;
            }
            c => r.push_char(c),
        }
        i += c.len_utf8();
    }
    // Close whatever the answer left open, innermost first.
    if !r.stack.is_empty() {
        r.note(Repair::ClosedBrackets);
    }
    while let Some(frame) = r.stack.pop() {
        match frame {
            Frame::Object {
                expect_value,
                after_key,
            } => {
                if after_key {
                    r.push(":null");
                    r.note(Repair::MissingValue);
                } else if expect_value {
                    r.push("null");
                    r.note(Repair::MissingValue);
                } else {
                    r.drop_trailing_comma();
                }
                r.push("}");
            }
            Frame::Array => {
                r.drop_trailing_comma();
                r.push("]");
            }
        }
        r.wrote_item(false);
    }
    if r.repairs.is_empty() {
        None
    } else {
        Some((r.out, r.repairs))
    }
}

/// Reads a string quoted with the character at `start`, writes it as a JSON string, and
/// returns the index after it, whether it was closed, and whether a raw control character
/// had to be escaped.
fn read_string(text: &str, start: usize, out: &mut String) -> (usize, bool, bool) {
    let bytes = text.as_bytes();
    let quote = bytes[start];
    out.push('"');
    let mut i = start + 1;
    let mut run = i;
    let mut control = false;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            out.push_str(&text[run..i]);
            match text[i + 1..].chars().next() {
                Some('\'') => out.push('\''),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                    i += n.len_utf8() - 1;
                }
                None => {}
            }
            i += 2;
            run = i.min(bytes.len());
            continue;
        }
        if b == quote {
            out.push_str(&text[run..i]);
            out.push('"');
            return (i + 1, true, control);
        }
        if b == b'"' || b < 0x20 {
            out.push_str(&text[run..i]);
            match b {
                b'"' => out.push_str("\\\""),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                other => out.push_str(&format!("\\u{other:04x}")),
            }
            control |= b != b'"';
            run = i + 1;
        }
        i += 1;
    }
    out.push_str(&text[run.min(bytes.len())..]);
    out.push('"');
    (bytes.len(), false, control)
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn fixed(text: &str) -> (Value, Vec<Repair>) {
        let (out, repairs) = repair(text).unwrap_or_else(|| panic!("nothing repaired in {text}"));
        let value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
        (value, repairs)
    }

    #[test]
    fn repairs_what_models_write() {
        assert_eq!(
            fixed(r#"{"a": [1, 2,],}"#),
            (json!({"a": [1, 2]}), vec![Repair::TrailingComma])
        );
        assert_eq!(fixed("{'name': 'O\\'Neil'}").0, json!({"name": "O'Neil"}));
        assert_eq!(
            fixed("{name: \"Jason\", age: 30}").0,
            json!({"name": "Jason", "age": 30})
        );
        assert_eq!(fixed("{\"name\": Jason}").0, json!({"name": "Jason"}));
        assert_eq!(
            fixed("{\n  // the name\n  \"a\": 1, /* x */ \"b\": True, \"c\": None\n}").0,
            json!({"a": 1, "b": true, "c": null})
        );
        assert_eq!(
            fixed(r#"{"a": 1} and more text"#),
            (json!({"a": 1}), vec![Repair::TrailingText])
        );
    }

    #[test]
    fn closes_a_truncated_answer() {
        assert_eq!(fixed(r#"{"name": "Jas"#).0, json!({"name": "Jas"}));
        assert_eq!(
            fixed(r#"{"items": [{"a": 1}, {"a": 2"#).0,
            json!({"items": [{"a": 1}, {"a": 2}]})
        );
        assert_eq!(fixed(r#"{"a": 1, "b":"#).0, json!({"a": 1, "b": null}));
        assert_eq!(fixed(r#"{"a": 1, "b""#).0, json!({"a": 1, "b": null}));
        assert_eq!(fixed(r#"{"a": [1, 2,"#).0, json!({"a": [1, 2]}));
    }

    #[test]
    fn valid_json_needs_no_repair() {
        assert!(repair(r#"{"a": "it's {fine}", "b": [1.5e3, -2]}"#).is_none());
    }

    #[test]
    fn stray_closers_after_whitespace_stay_linear() {
        // Each closer once searched back over all the whitespace before it.
        let text = format!("{}{}", " ".repeat(50_000), "}".repeat(50_000));
        assert!(repair(&text).is_none_or(|(out, _)| out.len() <= text.len()));
        let (v, r) = fixed(&format!("[1,{}]", " ".repeat(10)));
        assert_eq!((v, r), (json!([1]), vec![Repair::TrailingComma]));
    }

    #[test]
    fn raw_control_characters_in_strings_are_escaped() {
        assert_eq!(
            fixed("[\"✓\tTrue\u{1}\"]"),
            (json!(["✓\tTrue\u{1}"]), vec![Repair::ControlCharacter])
        );
    }

    #[test]
    fn non_ascii_text_survives() {
        assert_eq!(
            fixed("{'ville': 'Zürich ✓', n: 1,}").0,
            json!({"ville": "Zürich ✓", "n": 1})
        );
        assert_eq!(fixed("{\"a\": \"日本\\n\"").0, json!({"a": "日本\n"}));
        assert_eq!(fixed("{clé: été}").0, json!({"clé": "été"}));
    }

    #[test]
    fn hopeless_input_stays_invalid() {
        // Nothing JSON-like: the repair makes a string, which is not the object asked for.
        let out = repair("I cannot help with that").map(|(s, _)| s);
        assert!(
            out.is_none_or(|s| serde_json::from_str::<serde_json::Map<String, Value>>(&s).is_err())
        );
    }
}
