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
}

impl Repairer {
    fn note(&mut self, r: Repair) {
        if !self.repairs.contains(&r) {
            self.repairs.push(r);
        }
    }

    fn drop_trailing_comma(&mut self) {
        let trimmed = self.out.trim_end().len();
        if self.out[..trimmed].ends_with(',') {
            self.out.truncate(trimmed - 1);
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
}

/// Repairs `text` (which should start at the JSON value). Returns `None` when nothing was
/// changed, so the original parse error stands.
pub(crate) fn repair(text: &str) -> Option<(String, Vec<Repair>)> {
    let mut r = Repairer {
        out: String::with_capacity(text.len() + 8),
        stack: Vec::new(),
        repairs: Vec::new(),
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut started = false;
    while i < chars.len() {
        let c = chars[i];
        if started && r.stack.is_empty() {
            if chars[i..].iter().any(|c| !c.is_whitespace()) {
                r.note(Repair::TrailingText);
            }
            break;
        }
        match c {
            '"' | '\'' => {
                let (end, closed) = read_string(&chars, i, &mut r.out);
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
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                r.note(Repair::Comment);
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
                r.note(Repair::Comment);
                continue;
            }
            '{' => {
                r.out.push('{');
                r.stack.push(Frame::Object {
                    expect_value: false,
                    after_key: false,
                });
                started = true;
            }
            '[' => {
                r.out.push('[');
                r.stack.push(Frame::Array);
                started = true;
            }
            '}' | ']' => {
                r.drop_trailing_comma();
                match r.stack.pop() {
                    Some(Frame::Object { .. }) => r.out.push('}'),
                    Some(Frame::Array) => r.out.push(']'),
                    None => {}
                }
                r.wrote_item(false);
            }
            ':' => {
                r.out.push(':');
                if let Some(Frame::Object {
                    expect_value,
                    after_key,
                }) = r.stack.last_mut()
                {
                    *expect_value = true;
                    *after_key = false;
                }
            }
            ',' => {
                r.out.push(',');
                if let Some(Frame::Object {
                    expect_value,
                    after_key,
                }) = r.stack.last_mut()
                {
                    *expect_value = false;
                    *after_key = false;
                }
            }
            c if c.is_alphabetic() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '$' | '-' | '.'))
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let is_key = r.in_key_position();
                match word.as_str() {
                    "true" | "false" | "null" if !is_key => r.out.push_str(&word),
                    "True" | "False" | "None" if !is_key => {
                        r.out.push_str(match word.as_str() {
                            "True" => "true",
                            "False" => "false",
                            _ => "null",
                        });
                        r.note(Repair::PythonLiteral);
                    }
                    _ => {
                        push_json_string(&mut r.out, &word);
                        r.note(if is_key {
                            Repair::UnquotedKey
                        } else {
                            Repair::UnquotedString
                        });
                    }
                }
                r.wrote_item(is_key);
                started = true;
                continue;
            }
            c if c == '-' || c.is_ascii_digit() => {
                while i < chars.len()
                    && (chars[i].is_ascii_digit()
                        || matches!(chars[i], '-' | '+' | '.' | 'e' | 'E'))
                {
                    r.out.push(chars[i]);
                    i += 1;
                }
                r.wrote_item(false);
                started = true;
                continue;
            }
            c => r.out.push(c),
        }
        i += 1;
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
                    r.out.push_str(":null");
                    r.note(Repair::MissingValue);
                } else if expect_value {
                    r.out.push_str("null");
                    r.note(Repair::MissingValue);
                } else {
                    r.drop_trailing_comma();
                }
                r.out.push('}');
            }
            Frame::Array => {
                r.drop_trailing_comma();
                r.out.push(']');
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

/// Reads a string quoted with `chars[start]`, writes it as a JSON string, and returns the
/// index after it and whether it was closed.
fn read_string(chars: &[char], start: usize, out: &mut String) -> (usize, bool) {
    let quote = chars[start];
    out.push('"');
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            match chars.get(i + 1) {
                Some('\'') => out.push('\''),
                Some(&n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => {}
            }
            i += 2;
            continue;
        }
        if c == quote {
            out.push('"');
            return (i + 1, true);
        }
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
        i += 1;
    }
    out.push('"');
    (i, false)
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
    fn hopeless_input_stays_invalid() {
        // Nothing JSON-like: the repair makes a string, which is not the object asked for.
        let out = repair("I cannot help with that").map(|(s, _)| s);
        assert!(
            out.is_none_or(|s| serde_json::from_str::<serde_json::Map<String, Value>>(&s).is_err())
        );
    }
}
