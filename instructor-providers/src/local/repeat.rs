//! Lists that would repeat themselves, or run on past what the text holds, end instead. A
//! small model that has written the items of a list often goes on writing them again
//! (`tomato, tomato, …`, or the whole list once more), or invents more of the same kind
//! (`tomato, apple, orange, …`), until the item or token limit. So, as the answer is
//! written, each list item is keyed by its text (an object item by its first member's
//! value) and, from the second item on, held back from the caller until its key is known.
//! The list ends before that item (the generation rolls back to the separator and writes
//! `]` there) when its key is already in the list, or when every earlier item's string key
//! was copied from the user text and this one's is not (a list of things named in the text
//! that starts naming others). Items that merely share a later member (the same quantity)
//! are kept; lists whose items are not copied from the text (keywords the model makes up,
//! numbers) are ended only by a repeat.
//!
//! The guard reads the answer's text (the output's own buffer, not a copy) as it grows, one
//! character at a time, knowing only as much JSON as this needs: strings and escapes,
//! containers, members and items.

/// What the guard sees in a piece of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// A list's separator at this byte offset: the item it starts has no key yet.
    Separator(usize),
    /// The item after the last separator has a key not seen before in its list.
    NewKey,
    /// The item after the separator at this offset repeats an earlier item's key, or leaves
    /// the text its list was copied from.
    Repeat(usize),
    /// A member's string or number value begins at this offset.
    Value(usize),
    /// The member value at these offsets ended, and is in the text (or is not a string or
    /// a number).
    Grounded(usize, usize),
    /// The member value that begins at this offset ended, and the text does not hold it.
    Ungrounded(usize),
}

#[derive(Debug)]
struct Frame {
    array: bool,
    /// Index of the current item or member.
    index: usize,
    /// Objects: whether the next string is a member's value (after its `:`).
    after_colon: bool,
    /// Arrays: the keys of the items so far, and the offset of the separator that began
    /// the current item.
    keys: Vec<String>,
    separator: Option<usize>,
    /// Whether every key so far is a string found in the source text.
    grounded: bool,
    /// Where this container began (for a container that is itself a key).
    start: usize,
}

/// Reads an answer's JSON text and reports list separators and repeated items.
#[derive(Debug, Default)]
pub(crate) struct RepeatGuard {
    /// The user text, lowercased, that items may be copied from.
    source: String,
    /// How much of the answer has been read.
    read: usize,
    stack: Vec<Frame>,
    string: Option<(usize, bool)>,
    escaped: bool,
    scalar: Option<usize>,
    /// Whether a value comes next (after `:`, `[` or a list's `,`).
    expect_value: bool,
}

/// The value the answer is in the middle of, as [`RepeatGuard::open`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open<'a> {
    /// A value comes next and has not begun.
    Next,
    /// A string value (not a key), its content so far as JSON text.
    String(&'a str),
    /// A number, its text so far.
    Number(&'a str),
}

impl RepeatGuard {
    /// A guard for an answer drawn from `source` (the call's user text).
    pub fn new(source: &str) -> Self {
        Self {
            source: source.to_lowercase(),
            ..Self::default()
        }
    }

    /// A fresh guard over the same source.
    pub fn restart(&self) -> Self {
        Self {
            source: self.source.clone(),
            ..Self::default()
        }
    }

    /// Whether `key` (an item's JSON text) is a string the source text holds.
    fn in_source(&self, key: &str) -> bool {
        let Ok(text) = serde_json::from_str::<String>(key) else {
            return false;
        };
        let text = text.trim().to_lowercase();
        !text.is_empty() && self.source.contains(&text)
    }

    /// The value `text` (the answer read so far) ends inside, if it ends inside a string
    /// value, a number, or where a value is due.
    pub fn open<'t>(&self, text: &'t str) -> Option<Open<'t>> {
        if let Some((start, is_key)) = self.string {
            return (!is_key).then(|| Open::String(text.get(start + 1..).unwrap_or_default()));
        }
        if let Some(start) = self.scalar {
            let number = text.get(start..).unwrap_or_default();
            let numeric = number.starts_with(|c: char| c == '-' || c.is_ascii_digit());
            return numeric.then_some(Open::Number(number));
        }
        self.expect_value.then_some(Open::Next)
    }

    /// Reads the answer past what was read before (`text` is the whole answer so far, the
    /// earlier part unchanged); what it saw, in order.
    pub fn feed(&mut self, text: &str) -> Vec<Seen> {
        let mut seen = Vec::new();
        let from = self.read.min(text.len());
        for (i, c) in text[from..].char_indices() {
            self.step(text, c, from + i, &mut seen);
        }
        self.read = text.len();
        seen
    }

    fn step(&mut self, text: &str, c: char, at: usize, seen: &mut Vec<Seen>) {
        if let Some((start, is_key)) = self.string {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.string = None;
                if !is_key {
                    self.value_end(text, start, at + 1, seen);
                    self.member_end(text, start, at + 1, seen);
                }
            }
            return;
        }
        if matches!(c, ',' | '}' | ']' | ':') || c.is_whitespace() {
            if let Some(start) = self.scalar.take() {
                self.value_end(text, start, at, seen);
                self.member_end(text, start, at, seen);
            }
        }
        if !c.is_whitespace() {
            self.expect_value = matches!(c, ':' | '[') || (c == ',' && self.in_array());
        }
        match c {
            '"' => {
                let is_key = self
                    .stack
                    .last()
                    .is_some_and(|f| !f.array && !f.after_colon);
                self.string = Some((at, is_key));
                if !is_key && self.in_object() {
                    seen.push(Seen::Value(at));
                }
            }
            '{' | '[' => self.stack.push(Frame {
                array: c == '[',
                index: 0,
                after_colon: false,
                keys: Vec::new(),
                separator: None,
                grounded: true,
                start: at,
            }),
            '}' | ']' => {
                if let Some(frame) = self.stack.pop() {
                    self.value_end(text, frame.start, at + 1, seen);
                }
            }
            ':' => {
                if let Some(f) = self.stack.last_mut() {
                    f.after_colon = true;
                }
            }
            ',' => {
                if let Some(f) = self.stack.last_mut() {
                    f.index += 1;
                    f.after_colon = false;
                    if f.array {
                        f.separator = Some(at);
                        seen.push(Seen::Separator(at));
                    }
                }
            }
            c if c.is_whitespace() => {}
            _ => {
                if self.scalar.is_none() {
                    self.scalar = Some(at);
                    if self.in_object() {
                        seen.push(Seen::Value(at));
                    }
                }
            }
        }
    }

    fn in_array(&self) -> bool {
        self.stack.last().is_some_and(|f| f.array)
    }

    fn in_object(&self) -> bool {
        self.stack.last().is_some_and(|f| !f.array)
    }

    /// A member's string or scalar value (`text[start..end]`) ended: whether the user text
    /// holds it. A string is held when its trimmed content is (ignoring case), a number
    /// when the text has it as a whole number; `null` and booleans count as held.
    fn member_end(&self, text: &str, start: usize, end: usize, seen: &mut Vec<Seen>) {
        if !self.in_object() {
            return;
        }
        let Some(value) = text.get(start..end) else {
            return;
        };
        let held = if value.starts_with('"') {
            self.in_source(value)
        } else if value.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            let digits = value.trim_start_matches('-');
            self.source.match_indices(digits).any(|(i, _)| {
                let before = self.source[..i].chars().next_back();
                let after = self.source[i + digits.len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_digit() || c == '.')
                    && !after.is_some_and(|c| c.is_ascii_digit())
            })
        } else {
            true
        };
        seen.push(if held {
            Seen::Grounded(start, end)
        } else {
            Seen::Ungrounded(start)
        });
    }

    /// A value ended: if it keys a list item (the item itself, or the first member of an
    /// object item), checks the key against the list's.
    fn value_end(&mut self, text: &str, start: usize, end: usize, seen: &mut Vec<Seen>) {
        let depth = self.stack.len();
        let list = match self.stack.last() {
            Some(f) if f.array => depth - 1,
            Some(f) if f.index == 0 && depth >= 2 && self.stack[depth - 2].array => depth - 2,
            _ => return,
        };
        // An item already keyed (an object item's own end, after its first member) keys
        // nothing more.
        if self.stack[list].keys.len() > self.stack[list].index {
            return;
        }
        let Some(key) = text.get(start..end) else {
            return;
        };
        let grounded = self.in_source(key);
        let key = key.to_owned();
        let frame = &mut self.stack[list];
        let strays = frame.grounded && !grounded && !frame.keys.is_empty();
        if frame.keys.contains(&key) || strays {
            if let Some(at) = frame.separator {
                seen.push(Seen::Repeat(at));
                return;
            }
        }
        frame.grounded &= grounded;
        frame.keys.push(key);
        seen.push(Seen::NewKey);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Seen> {
        all_from("", text)
    }

    /// What the guard reports of lists.
    fn all_from(source: &str, text: &str) -> Vec<Seen> {
        everything(source, text)
            .into_iter()
            .filter(|s| matches!(s, Seen::Separator(_) | Seen::NewKey | Seen::Repeat(_)))
            .collect()
    }

    fn everything(source: &str, text: &str) -> Vec<Seen> {
        let mut g = RepeatGuard::new(source);
        // One character at a time, as tokens may split anywhere.
        let mut so_far = String::new();
        text.chars()
            .flat_map(|c| {
                so_far.push(c);
                g.feed(&so_far)
            })
            .collect()
    }

    #[test]
    fn member_values_are_checked_against_the_text() {
        let source = "Call Bob Stone on 555-0142, he is 41.";
        let text = r#"{"name": "bob stone", "email": "bob@acme.com", "age": 41, "n": 4, "x": null, "l": ["q"]}"#;
        let at = |s: &str| text.find(s).unwrap();
        assert_eq!(
            everything(source, text),
            [
                Seen::Value(at("\"bob stone")),
                Seen::Grounded(at("\"bob stone"), at(", \"email")),
                Seen::Value(at("\"bob@")),
                Seen::Ungrounded(at("\"bob@")),
                Seen::Value(at("41")),
                Seen::Grounded(at("41"), at(", \"n\"")),
                // A number that is only part of one in the text is not held.
                Seen::Value(at("4,")),
                Seen::Ungrounded(at("4,")),
                Seen::Value(at("null")),
                Seen::Grounded(at("null"), at(", \"l\"")),
                // List items are not members.
                Seen::NewKey,
            ]
        );
    }

    #[test]
    fn the_open_value_is_reported() {
        let mut g = RepeatGuard::new("");
        let mut text = String::new();
        let mut at = |piece: &str| {
            text.push_str(piece);
            let _ = g.feed(&text);
            g.open(&text).map(|o| format!("{o:?}"))
        };
        assert_eq!(at("{\"a\""), None);
        assert_eq!(at(": "), Some("Next".to_owned()));
        assert_eq!(at("\"Bo"), Some("String(\"Bo\")".to_owned()));
        assert_eq!(at("b\", \"n\": 1"), Some("Number(\"1\")".to_owned()));
        assert_eq!(at("2, \"l\": ["), Some("Next".to_owned()));
        assert_eq!(at("true"), None);
    }

    #[test]
    fn an_object_item_repeating_the_first_member_is_reported_at_its_separator() {
        let text = r#"{"lines": [{"product": "tomato", "quantity": 4}, {"product": "tomato""#;
        let at = text.rfind(", {").unwrap();
        assert_eq!(
            all(text),
            [Seen::NewKey, Seen::Separator(at), Seen::Repeat(at)]
        );
    }

    #[test]
    fn items_that_differ_in_their_first_member_are_new() {
        let text = r#"[{"p": "coffee", "q": 1}, {"p": "croissants", "q": 1}, {"p": "coffee, \"x\"", "q": 2}]"#;
        let seen = all(text);
        assert!(
            !seen.iter().any(|s| matches!(s, Seen::Repeat(_))),
            "{seen:?}"
        );
        assert_eq!(seen.iter().filter(|s| **s == Seen::NewKey).count(), 3);
    }

    #[test]
    fn a_list_copied_from_the_text_ends_where_it_leaves_the_text() {
        let source = "Add 4 Tomatoes and 2 pears to my basket.";
        let text = r#"[{"p": "tomato", "q": 4}, {"p": "pears", "q": 2}, {"p": "apple", "q": 1}]"#;
        let at = text.rfind(", {").unwrap();
        assert_eq!(all_from(source, text).last(), Some(&Seen::Repeat(at)));
        // A list whose first item is not from the text is the model's own: kept whole.
        let made_up = r#"["fresh", "red", "tomato"]"#;
        assert!(!all_from(source, made_up)
            .iter()
            .any(|s| matches!(s, Seen::Repeat(_))));
    }

    #[test]
    fn scalar_items_and_nested_lists() {
        let text = r#"{"a": [1, 2, 12], "b": [["x"], ["y"], ["x"]]}"#;
        let seen = all(text);
        let last = text.rfind(", [").unwrap();
        assert_eq!(seen.last(), Some(&Seen::Repeat(last)), "{seen:?}");
        assert!(!seen[..seen.len() - 1]
            .iter()
            .any(|s| matches!(s, Seen::Repeat(_))));
        // Commas and brackets inside strings are text.
        assert!(all(r#"["a,b", "[c]", "a,b"]"#).contains(&Seen::Repeat(13)));
    }
}
