//! Lists that would repeat themselves end instead. A small model that has written the items
//! of a list often goes on writing them again (`tomato, tomato, …`, or the whole list once
//! more) until the item or token limit. So, as the answer is written, each list item is
//! keyed by its text (an object item by its first member's value) and, from the second
//! item on, held back from the caller until its key is known: a key already in the list
//! marks the start of a loop, and the list ends before that item (the generation rolls
//! back to the separator and writes `]` there). Items that merely share a later member
//! (the same quantity) are kept.
//!
//! The guard reads the answer's text as it arrives, one character at a time, knowing only
//! as much JSON as this needs: strings and escapes, containers, members and items.

/// What the guard sees in a piece of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// A list's separator at this byte offset: the item it starts has no key yet.
    Separator(usize),
    /// The item after the last separator has a key not seen before in its list.
    NewKey,
    /// The item after the separator at this offset repeats an earlier item's key.
    Repeat(usize),
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
    /// Where this container began (for a container that is itself a key).
    start: usize,
}

/// Reads an answer's JSON text and reports list separators and repeated items.
#[derive(Debug, Default)]
pub(crate) struct RepeatGuard {
    text: String,
    stack: Vec<Frame>,
    string: Option<(usize, bool)>,
    escaped: bool,
    scalar: Option<usize>,
}

impl RepeatGuard {
    /// Reads the next piece of the answer; what it saw, in order.
    pub fn feed(&mut self, piece: &str) -> Vec<Seen> {
        let mut seen = Vec::new();
        for c in piece.chars() {
            let at = self.text.len();
            self.text.push(c);
            self.step(c, at, &mut seen);
        }
        seen
    }

    fn step(&mut self, c: char, at: usize, seen: &mut Vec<Seen>) {
        if let Some((start, is_key)) = self.string {
            if self.escaped {
                self.escaped = false;
            } else if c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.string = None;
                if !is_key {
                    self.value_end(start, at + 1, seen);
                }
            }
            return;
        }
        if matches!(c, ',' | '}' | ']' | ':') || c.is_whitespace() {
            if let Some(start) = self.scalar.take() {
                self.value_end(start, at, seen);
            }
        }
        match c {
            '"' => {
                let is_key = self
                    .stack
                    .last()
                    .is_some_and(|f| !f.array && !f.after_colon);
                self.string = Some((at, is_key));
            }
            '{' | '[' => self.stack.push(Frame {
                array: c == '[',
                index: 0,
                after_colon: false,
                keys: Vec::new(),
                separator: None,
                start: at,
            }),
            '}' | ']' => {
                if let Some(frame) = self.stack.pop() {
                    self.value_end(frame.start, at + 1, seen);
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
                }
            }
        }
    }

    /// A value ended: if it keys a list item (the item itself, or the first member of an
    /// object item), checks the key against the list's.
    fn value_end(&mut self, start: usize, end: usize, seen: &mut Vec<Seen>) {
        let depth = self.stack.len();
        let list = match self.stack.last() {
            Some(f) if f.array => depth - 1,
            Some(f) if f.index == 0 && depth >= 2 && self.stack[depth - 2].array => depth - 2,
            _ => return,
        };
        // An object item's own end, after its first member was checked, keys nothing.
        if list == depth - 1 && self.text[start..].starts_with('{') {
            return;
        }
        let key = self.text[start..end].to_owned();
        let frame = &mut self.stack[list];
        if frame.keys.len() > frame.index {
            return;
        }
        if frame.keys.contains(&key) {
            if let Some(at) = frame.separator {
                seen.push(Seen::Repeat(at));
                return;
            }
        }
        frame.keys.push(key);
        seen.push(Seen::NewKey);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Seen> {
        let mut g = RepeatGuard::default();
        // One character at a time, as tokens may split anywhere.
        text.chars().flat_map(|c| g.feed(&c.to_string())).collect()
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
