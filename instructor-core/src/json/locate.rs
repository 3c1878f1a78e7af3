//! Finding the answer's JSON value in a model's text, one way for every path: whole answers,
//! streamed answers and the local model's stop check. Prose before the value is skipped,
//! `<think>…</think>` blocks in it are skipped, a fenced block of another language is skipped,
//! and the value is the first `{` or `[` outside those. Once the value starts, only its own
//! structure counts: a `<think>` or a fence inside one of its strings is text. Every byte is
//! read once, and chunk boundaries may fall anywhere.

/// Where the scanner is, outside the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Prose,
    Think,
    /// After a fence's three backticks, reading its tag up to the end of the line.
    FenceTag,
    /// In a fenced block tagged `json` (or untagged): a value here counts.
    JsonFence,
    /// In a fenced block of another language: skipped up to its closing fence.
    OtherFence,
}

const fn pack(s: &[u8]) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < s.len() {
        v = (v << 8) | s[i] as u64;
        i += 1;
    }
    v
}

const THINK_OPEN: u64 = pack(b"<think>");
const THINK_CLOSE: u64 = pack(b"</think>");
const FENCE: u64 = pack(b"```");
const MAX_TAG: usize = 16;

/// The prose scanner: fed the text before the value, byte by byte, it says which byte opens
/// the value.
///
/// ```
/// use instructor_core::json::Locator;
/// let text = "<think>{no}</think>```python\nx = {}\n```\n```json\n{\"a\": 1}\n```";
/// let mut l = Locator::new();
/// let start = text.bytes().position(|b| l.byte(b)).unwrap();
/// assert_eq!(&text[start..start + 8], "{\"a\": 1}");
/// ```
#[derive(Debug, Clone)]
pub struct Locator {
    place: Place,
    /// The place a `<think>` block returns to.
    before_think: Place,
    /// The last eight bytes, for matching markers across chunk boundaries.
    recent: u64,
    tag: [u8; MAX_TAG],
    tag_len: usize,
    /// Whether `<think>` opens a thought (off when re-reading after an unclosed one).
    thoughts: bool,
    /// Bytes read, and where the last `<think>` began.
    read: usize,
    think_at: Option<usize>,
}

impl Default for Locator {
    fn default() -> Self {
        Self::new()
    }
}

impl Locator {
    /// A scanner at the start of the text.
    pub fn new() -> Self {
        Self {
            place: Place::Prose,
            before_think: Place::Prose,
            recent: 0,
            tag: [0; MAX_TAG],
            tag_len: 0,
            thoughts: true,
            read: 0,
            think_at: None,
        }
    }

    fn without_thoughts() -> Self {
        Self {
            thoughts: false,
            ..Self::new()
        }
    }

    /// Whether the text so far ends inside a `<think>` block.
    pub fn in_thought(&self) -> bool {
        self.place == Place::Think
    }

    /// Reads one byte of the text before the value; true when this byte (`{` or `[`) opens
    /// the value.
    pub fn byte(&mut self, b: u8) -> bool {
        self.read += 1;
        self.recent = (self.recent << 8) | u64::from(b);
        match self.place {
            Place::Think => {
                if self.recent == THINK_CLOSE {
                    self.place = self.before_think;
                    self.recent = 0;
                }
                false
            }
            Place::OtherFence => {
                if self.recent & 0xFF_FFFF == FENCE {
                    self.place = Place::Prose;
                    self.recent = 0;
                }
                false
            }
            Place::FenceTag => match b {
                b'\n' => {
                    let tag = self.tag[..self.tag_len].trim_ascii();
                    let json = tag.is_empty()
                        || (tag.len() >= 4 && tag[..4].eq_ignore_ascii_case(b"json"));
                    self.place = if json && self.tag_len < MAX_TAG {
                        Place::JsonFence
                    } else {
                        Place::OtherFence
                    };
                    self.recent = 0;
                    false
                }
                b'{' | b'[' if self.tag[..self.tag_len].trim_ascii().is_empty() => {
                    self.place = Place::JsonFence;
                    true
                }
                _ => {
                    if self.tag_len < MAX_TAG {
                        self.tag[self.tag_len] = b;
                        self.tag_len += 1;
                    }
                    false
                }
            },
            Place::Prose | Place::JsonFence => {
                if self.thoughts && self.recent & 0xFF_FFFF_FFFF_FFFF == THINK_OPEN {
                    self.before_think = self.place;
                    self.place = Place::Think;
                    self.think_at = Some(self.read - 7);
                    self.recent = 0;
                    return false;
                }
                if self.recent & 0xFF_FFFF == FENCE {
                    self.recent = 0;
                    if self.place == Place::JsonFence {
                        self.place = Place::Prose;
                    } else {
                        self.place = Place::FenceTag;
                        self.tag_len = 0;
                    }
                    return false;
                }
                matches!(b, b'{' | b'[')
            }
        }
    }
}

/// The value's own structure: fed the value from its opening bracket, it says which byte
/// closes it. Strings and escapes are respected, so a bracket in a string does not count.
///
/// ```
/// use instructor_core::json::Balance;
/// let text = r#"{"a": "}", "b": [1]} and more"#;
/// let mut b = Balance::default();
/// let end = text.bytes().position(|c| b.byte(c)).unwrap();
/// assert_eq!(&text[..=end], r#"{"a": "}", "b": [1]}"#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Balance {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl Balance {
    /// Reads one byte of the value; true when it closes the value.
    pub fn byte(&mut self, b: u8) -> bool {
        if self.in_string {
            match b {
                _ if self.escaped => self.escaped = false,
                b'\\' => self.escaped = true,
                b'"' => self.in_string = false,
                _ => {}
            }
            return false;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }
}

/// Both scanners together, for a caller that only needs to know when the value has ended
/// (the local model stops generating there).
///
/// ```
/// use instructor_core::json::ValueEnd;
/// let mut end = ValueEnd::default();
/// assert!(!end.feed("<think>{</think>Sure: {\"a\": \"x<think>\""));
/// assert!(end.feed("} trailing"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ValueEnd {
    locator: Locator,
    balance: Option<Balance>,
    done: bool,
}

impl ValueEnd {
    /// Feeds text; true once the value has closed.
    pub fn feed(&mut self, text: &str) -> bool {
        for b in text.bytes() {
            if self.done {
                break;
            }
            match &mut self.balance {
                Some(balance) => self.done = balance.byte(b),
                None => {
                    if self.locator.byte(b) {
                        let mut balance = Balance::default();
                        balance.byte(b);
                        self.balance = Some(balance);
                    }
                }
            }
        }
        self.done
    }
}

/// The answer's value in a whole text: the slice and whether it closed (an unclosed value
/// runs to the end of the text, for the repair pass). A `<think>` block that never closes is
/// read past: the value after it counts.
///
/// ```
/// use instructor_core::json::locate;
/// assert_eq!(locate("Sure! {\"a\": [1]} bye"), Some(("{\"a\": [1]}", true)));
/// assert_eq!(locate("{\"n\": \"x<think>y</think>z\"}"), Some(("{\"n\": \"x<think>y</think>z\"}", true)));
/// assert_eq!(locate("cut [1, 2"), Some(("[1, 2", false)));
/// assert_eq!(locate("no value"), None);
/// ```
pub fn locate(text: &str) -> Option<(&str, bool)> {
    let mut locator = Locator::new();
    let start = match text.bytes().position(|b| locator.byte(b)) {
        Some(i) => i,
        None => {
            // An unclosed thought: read once more from it, thoughts off.
            let from = locator.think_at.filter(|_| locator.in_thought())?;
            let mut again = Locator::without_thoughts();
            from + text[from..].bytes().position(|b| again.byte(b))?
        }
    };
    let mut balance = Balance::default();
    let value = &text[start..];
    match value.bytes().position(|b| balance.byte(b)) {
        Some(end) => Some((&value[..=end], true)),
        None => Some((value, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<&str> {
        locate(text).map(|(v, _)| v)
    }

    #[test]
    fn thoughts_are_skipped_in_prose_only() {
        assert_eq!(found("<think>hmm {</think>{\"a\":1}"), Some("{\"a\":1}"));
        assert_eq!(
            found("a<think>[x]</think>b<think>{y}</think>[1]"),
            Some("[1]")
        );
        assert_eq!(found("<think>never closed {\"a\":1}"), Some("{\"a\":1}"));
        assert_eq!(
            found(r#"{"name": "x<think>y</think>z", "age": 30}"#),
            Some(r#"{"name": "x<think>y</think>z", "age": 30}"#)
        );
        assert_eq!(
            found(r#"{"name": "<think>", "age": 30}"#),
            Some(r#"{"name": "<think>", "age": 30}"#)
        );
    }

    #[test]
    fn fences_of_other_languages_are_skipped() {
        let t = "Here:\n```python\nx = {}\n```\nand\n```json\n{\"a\": 1}\n```\nbye";
        assert_eq!(found(t), Some("{\"a\": 1}"));
        assert_eq!(found("```\n[1, 2]\n```"), Some("[1, 2]"));
        assert_eq!(found("```json\n{\"a\": 1"), Some("{\"a\": 1"));
        assert_eq!(found("```{\"a\": 1}```"), Some("{\"a\": 1}"));
        assert_eq!(found("no fences"), None);
    }

    #[test]
    fn a_fence_inside_a_string_is_text() {
        let t = "{\n  \"code\": \"```{\\\"x\\\": 1}```\",\n  \"n\": 2\n}";
        assert_eq!(found(t), Some(t));
    }

    #[test]
    fn first_value_respects_strings() {
        let t = r#"Sure! {"name": "a } tricky \" one", "n": [1, {"x": 2}]} trailing {"#;
        assert_eq!(
            locate(t),
            Some((r#"{"name": "a } tricky \" one", "n": [1, {"x": 2}]}"#, true))
        );
    }

    #[test]
    fn markers_split_across_chunks_are_seen() {
        let text = "<thi|nk>{x}</th|ink>``|`json\n{\"a\": 1}";
        let mut l = Locator::new();
        let bytes: Vec<u8> = text.bytes().filter(|&b| b != b'|').collect();
        let start = bytes.iter().position(|&b| l.byte(b)).unwrap();
        assert_eq!(&bytes[start..], b"{\"a\": 1}");
    }

    #[test]
    fn value_end_stops_at_the_root() {
        let mut e = ValueEnd::default();
        assert!(!e.feed("```json\n{\"a\": \"]}\""));
        assert!(e.feed(", \"b\": []}\n```"));
    }

    #[test]
    fn repeated_unclosed_thoughts_stay_linear() {
        // Each `<think>` once cost a search of the rest of the text.
        let text = "<think>{".repeat(20_000);
        assert_eq!(
            locate(&text).map(|(v, closed)| (v.len(), closed)),
            Some((text.len() - 7, false))
        );
    }
}
