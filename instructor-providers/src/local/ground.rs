//! Values copied from the text: extraction mostly copies, so while the answer is inside a
//! string or a number, the tokens that go on copying a run of the user text (from the
//! start of one of its words) get a bonus to their logits. A small model that half-copies
//! (`apple` for "apples", `100000000` for "3", `leana` for "lena") is nudged back onto the
//! text; a value the text does not hold is still possible where the model wants it by
//! more than the bonus. The match ignores ASCII case.
//!
//! The text is kept JSON-escaped, as a string value holds it, so an answer's content and
//! a token's bytes compare with it directly.

use toktrie::{TokTrie, TrieNode};

use super::repeat::Open;

/// The user text, and where its words and numbers begin.
#[derive(Debug)]
pub(crate) struct Ground {
    /// The text, JSON-escaped (without the quotes).
    text: Vec<u8>,
    /// Where a word (or any run that starts after a non-word byte) begins.
    words: Vec<usize>,
    /// Where a run of digits begins.
    numbers: Vec<usize>,
    /// Where the value the answer copied last is in the text, and how far the number
    /// nearest it is: related values sit close together, so of the numbers a value could
    /// copy, the nearest earns the most.
    anchor: Option<(usize, usize)>,
    /// The share a bare opening quote earns.
    open_string: f32,
}

/// With grounded nulls a string the text does not hold becomes null anyway, so starting
/// one risks little: a bare opening quote earns this share of the bonus (a half share made
/// the model start strings for details the text lacks).
const OPEN_STRING_SHARE: f32 = 0.25;

/// Letters, digits and the bytes of non-ASCII characters.
fn wordy(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// Whether `at` ends a copied run: the text ends there, or a word does.
fn boundary(text: &[u8], at: usize) -> bool {
    text.get(at).is_none_or(|&b| !wordy(b))
}

fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// How long the common prefix of `a` and `b` is, ignoring ASCII case.
fn common(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
        .count()
}

impl Ground {
    /// The ground of `source` (the call's user text); `nulls`: whether grounded nulls are
    /// on (see [`OPEN_STRING_SHARE`]).
    pub fn new(source: &str, nulls: bool) -> Self {
        let escaped = serde_json::to_string(source).unwrap_or_default();
        let text = escaped
            .get(1..escaped.len().saturating_sub(1))
            .unwrap_or_default()
            .as_bytes()
            .to_vec();
        let mut words = Vec::new();
        let mut numbers = Vec::new();
        for (i, &b) in text.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| text[j]);
            if !b.is_ascii_whitespace() && prev.is_none_or(|p| !wordy(p)) {
                words.push(i);
            }
            if b.is_ascii_digit() && prev.is_none_or(|p| !p.is_ascii_digit() && p != b'.') {
                numbers.push(i);
            }
        }
        Self {
            text,
            words,
            numbers,
            anchor: None,
            open_string: if nulls { OPEN_STRING_SHARE } else { 0.0 },
        }
    }

    /// Notes where a member value the answer finished (its JSON text) is in the text.
    pub fn anchor(&mut self, value: &str) {
        let (starts, copy) = match value.strip_prefix('"') {
            Some(content) => (&self.words, content.strip_suffix('"').unwrap_or(content)),
            None => (&self.numbers, value),
        };
        if copy.trim().is_empty() {
            return;
        }
        let copy = copy.as_bytes();
        if let Some(&at) = starts
            .iter()
            .find(|&&s| starts_with_ignore_case(&self.text[s..], copy))
        {
            let nearest = self.numbers.iter().map(|&s| s.abs_diff(at)).min();
            self.anchor = Some((at, nearest.unwrap_or(0)));
        }
    }

    /// The share a copy of the number at `start` may earn: all for the number nearest the
    /// anchor (or for any, before there is one), half for the others.
    fn nearness(&self, start: usize) -> f32 {
        let Some((anchor, nearest)) = self.anchor else {
            return 1.0;
        };
        if start.abs_diff(anchor) <= nearest {
            1.0
        } else {
            0.5
        }
    }

    /// Where in the text a copy of `partial` that began at one of `starts` has got to.
    fn ends(&self, starts: &[usize], partial: &[u8]) -> Vec<usize> {
        starts
            .iter()
            .filter(|&&s| starts_with_ignore_case(&self.text[s..], partial))
            .map(|&s| s + partial.len())
            .collect()
    }

    /// What copying the text allows next where the answer is at `open`: a test of a
    /// token's bytes. `None` where nothing is being copied (a key, structure, a string
    /// that left the text).
    pub fn next<'a>(&'a self, open: Open<'_>) -> Option<Continues<'a>> {
        let (ends, kind, begun) = match open {
            Open::Next => (Vec::new(), Kind::Start, false),
            Open::String(partial) => (
                self.ends(&self.words, partial.as_bytes()),
                Kind::String,
                !partial.is_empty(),
            ),
            Open::Number(partial) => (
                self.ends(&self.numbers, partial.as_bytes()),
                Kind::Number,
                true,
            ),
        };
        if kind != Kind::Start && ends.is_empty() {
            return None;
        }
        Some(Continues {
            ground: self,
            ends,
            kind,
            begun,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    String,
    Number,
}

/// The tokens that go on copying the text from where the answer is.
pub(crate) struct Continues<'a> {
    ground: &'a Ground,
    /// Where in the text the copies so far end.
    ends: Vec<usize>,
    kind: Kind,
    /// Whether the value holds anything yet.
    begun: bool,
}

/// How far a walk through the vocabulary follows the text: longer tokens are rare.
const WALK: usize = 24;

impl Continues<'_> {
    /// How much of the copy bonus a token of these bytes earns: all of it where it goes on
    /// copying the text to the end of a word (or ends the value where a word ends), half
    /// where it stops inside a word (so `apples` beats `apple` for "apples", and a name
    /// split over several tokens is still followed), none where it leaves the text.
    pub fn share(&self, piece: &[u8]) -> f32 {
        let text = &self.ground.text;
        let best = |ends: &mut dyn Iterator<Item = f32>| ends.fold(0.0, f32::max);
        match self.kind {
            // A value's first token: a number's first digits, or a string's quote and
            // its first bytes (a bare quote or `null` decides nothing about copying).
            // The layout's space before a value may come in the value's first token.
            Kind::Start => {
                let lead = piece.trim_ascii_start();
                match lead.split_first() {
                    Some((b'"', [])) => self.ground.open_string,
                    Some((b'"', rest)) => best(
                        &mut self
                            .ground
                            .words
                            .iter()
                            .map(|&s| string(text, s, rest, false)),
                    ),
                    Some((d, _)) if d.is_ascii_digit() => best(
                        &mut self
                            .ground
                            .numbers
                            .iter()
                            .map(|&s| number(text, s, lead) * self.ground.nearness(s)),
                    ),
                    _ => 0.0,
                }
            }
            Kind::String => best(
                &mut self
                    .ends
                    .iter()
                    .map(|&e| string(text, e, piece, self.begun)),
            ),
            Kind::Number => best(&mut self.ends.iter().map(|&e| number(text, e, piece))),
        }
    }

    /// The tokens of the vocabulary that copy the text from where each copy has got to
    /// (`trie`: the vocabulary), so a copy the model ranks low is still a candidate.
    pub fn walk<'t>(&self, trie: &'t TokTrie) -> Vec<u32> {
        let text = &self.ground.text;
        let mut found = Vec::new();
        let mut follow = |mut node: &'t TrieNode, from: usize| {
            for &b in text[from.min(text.len())..].iter().take(WALK) {
                let Some(next) = trie.child_at_byte(node, b) else {
                    break;
                };
                node = next;
                found.extend(node.token_id());
            }
        };
        match self.kind {
            // At a value's start, only numbers: every word of the text could start a
            // string, and the model's own ranking of them is better than a walk's.
            Kind::Start => {
                let space = trie.child_at_byte(trie.root(), b' ');
                for &s in &self.ground.numbers {
                    follow(trie.root(), s);
                    if let Some(space) = space {
                        follow(space, s);
                    }
                }
            }
            // A string that holds nothing yet could start at any word: as at a value's
            // start, the model's ranking decides which, with the bonus.
            Kind::String if !self.begun => {}
            Kind::String | Kind::Number => {
                for &e in &self.ends {
                    follow(trie.root(), e);
                }
            }
        }
        if self.kind == Kind::Start && self.ground.open_string > 0.0 {
            found.extend(trie.token_id(b"\""));
            found.extend(trie.token_id(b" \""));
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// The share of the bonus `piece` earns copying the text at `at` (a string's content, of
/// which `begun` says whether it holds anything yet): it copies, and whatever it holds past
/// the copy begins with the string's closing quote where a copy of at least a byte ends a
/// word (an empty string copies nothing).
fn string(text: &[u8], at: usize, piece: &[u8], begun: bool) -> f32 {
    let rest = &text[at.min(text.len())..];
    let n = common(piece, rest);
    if n == piece.len() {
        if boundary(text, at + n) {
            1.0
        } else {
            0.5
        }
    } else if piece[n] == b'"' && (begun || n > 0) && boundary(text, at + n) {
        1.0
    } else {
        0.0
    }
}

/// The share of the bonus `piece` earns copying the digits of the number at `at`:
/// whatever it holds past them ends the number where the text's number ends.
fn number(text: &[u8], at: usize, piece: &[u8]) -> f32 {
    let rest = &text[at.min(text.len())..];
    let n = piece
        .iter()
        .zip(rest)
        .take_while(|(a, b)| a == b && (a.is_ascii_digit() || **a == b'.'))
        .count();
    // A number ends at a byte that is not a digit, nor a decimal point before one.
    let digit_at = |i: usize| rest.get(i).is_some_and(u8::is_ascii_digit);
    let complete = !(digit_at(n) || (rest.get(n) == Some(&b'.') && digit_at(n + 1)));
    if n == piece.len() {
        if complete {
            1.0
        } else {
            0.5
        }
    } else if complete && !matches!(piece[n], b'0'..=b'9' | b'.' | b'e' | b'E') {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(g: &Ground, open: Open<'_>, piece: &str) -> f32 {
        g.next(open).map_or(0.0, |c| c.share(piece.as_bytes()))
    }

    fn yes(g: &Ground, open: Open<'_>, piece: &str) -> bool {
        share(g, open, piece) > 0.0
    }

    #[test]
    fn strings_go_on_copying_from_a_word_start() {
        let g = Ground::new("Please send 3 apples and 2 \"pears\".", false);
        assert!(yes(&g, Open::String("apple"), "s"));
        // A copy to a word's end earns more than one that stops inside it.
        assert_eq!(share(&g, Open::Next, "\"apples"), 1.0);
        assert_eq!(share(&g, Open::Next, "\"apple"), 0.5);
        assert!(yes(&g, Open::String("apple"), "s\","));
        // A word is not finished half way.
        assert!(!yes(&g, Open::String("apple"), "\""));
        assert!(yes(&g, Open::String("apples"), "\""));
        assert!(yes(&g, Open::String("Apples"), " and"));
        // Quotes in the text are matched as the answer holds them, escaped.
        assert!(yes(&g, Open::String("\\\"pe"), "ars"));
        // Not from the start of a word, or away from the text: no copy.
        assert!(g.next(Open::String("pples")).is_none());
        assert!(!yes(&g, Open::String("apple"), "t"));
    }

    #[test]
    fn numbers_are_copied_whole() {
        let g = Ground::new("Order: 5 notebooks, 10 pens, 1.5 kg", false);
        assert!(yes(&g, Open::Next, "5"));
        assert!(yes(&g, Open::Next, "10"));
        assert!(yes(&g, Open::Next, "1"));
        assert!(!yes(&g, Open::Next, "3"));
        assert!(!yes(&g, Open::Next, "\""));
        assert!(!yes(&g, Open::Next, "null"));
        assert!(yes(&g, Open::Next, "\"note"));
        assert!(yes(&g, Open::Next, " \"note"));
        // An empty string copies nothing; a bare quote earns only what grounded nulls
        // allow it.
        assert!(!yes(&g, Open::Next, " \"\""));
        assert!(!yes(&g, Open::Next, " \""));
        let quoted = Ground::new("5 notebooks", true);
        assert_eq!(share(&quoted, Open::Next, " \""), 0.25);
        assert!(!yes(&g, Open::String(""), "\""));
        assert!(yes(&g, Open::Next, " 10"));
        assert!(yes(&g, Open::Number("5"), ","));
        assert!(yes(&g, Open::Number("5"), "},"));
        assert!(!yes(&g, Open::Number("5"), "0"));
        assert!(yes(&g, Open::Number("1"), "0"));
        assert!(yes(&g, Open::Number("1"), "."));
        assert!(!yes(&g, Open::Number("1"), "}"));
        // A sentence's full stop after a number ends it.
        let g = Ground::new("I want 2.", false);
        assert_eq!(share(&g, Open::Number("2"), "}"), 1.0);
        // A number inside a number is not a start: "0" of "10" is not a copy.
        assert!(!yes(&g, Open::Next, "0"));
    }

    #[test]
    fn the_number_nearest_the_last_copied_value_earns_the_most() {
        let mut g = Ground::new("We need 12 chairs and 3 tables.", false);
        assert_eq!(share(&g, Open::Next, "3"), 1.0);
        g.anchor("\"Chairs\"");
        assert_eq!(share(&g, Open::Next, "12"), 1.0);
        assert_eq!(share(&g, Open::Next, "3"), 0.5);
        g.anchor("\"tables\"");
        assert_eq!(share(&g, Open::Next, "12"), 0.5);
        assert_eq!(share(&g, Open::Next, "3"), 1.0);
        // A value the text does not hold moves nothing.
        g.anchor("\"sofas\"");
        assert_eq!(share(&g, Open::Next, "3"), 1.0);
    }
}
