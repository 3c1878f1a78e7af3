//! Generated inputs: random JSON values written compact, pretty or with random whitespace
//! (strings with every escape, surrogate pairs, raw Unicode, numbers with exponents, long and
//! repeated keys, deep nesting), the same values in near-JSON a model writes (for the repair
//! pass), and wrapped in prose, `<think>` blocks and fences (for the locator); each with the
//! value it holds.

use serde_json::{Map, Number, Value};

use crate::rng::Rng;

/// What a generated input is known to hold, beyond what `serde_json` can say about it.
#[derive(Debug, Clone)]
pub enum Oracle {
    None,
    /// The answer's value is `text[range]` and parses to `value`.
    Located {
        range: std::ops::Range<usize>,
        value: Value,
    },
    /// Near-JSON whose repair must parse to `value`.
    Repaired {
        value: Value,
    },
}

#[derive(Debug, Clone)]
pub struct Case {
    pub bytes: Vec<u8>,
    pub oracle: Oracle,
}

impl Case {
    pub fn plain(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            oracle: Oracle::None,
        }
    }

    /// The input as text (invalid UTF-8 replaced), for the targets that take `&str`. A case
    /// whose bytes change here loses its oracle.
    pub fn text(&self) -> (String, &Oracle) {
        match String::from_utf8_lossy(&self.bytes) {
            std::borrow::Cow::Borrowed(s) => (s.to_owned(), &self.oracle),
            std::borrow::Cow::Owned(s) => (s, &Oracle::None),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    Compact,
    Pretty,
    Random,
}

/// Writes one JSON (or near-JSON) value and returns what it parses to.
pub struct Writer<'r> {
    rng: &'r mut Rng,
    pub out: String,
    layout: Layout,
    /// Near-JSON allowed: trailing commas, single quotes, bare keys and words, comments,
    /// Python literals.
    near: bool,
    indent: usize,
    /// Deepest nesting written.
    pub depth: usize,
}

const RAW: &[&str] = &[
    "é",
    "ü",
    "日本",
    "✓",
    "😀",
    "\u{2028}",
    "\u{feff}",
    "\u{7f}",
    "\u{10ffff}",
    "ÿ",
    "Zürich",
    "\u{fffd}",
    "𝄞",
];
const TRICKY: &[&str] = &[
    "<think>", "</think>", "```", "```json", "{", "}", "[", "]", ":", ",", "'", "//", "/*", "*/",
    "True", "None", "data: ", "<thi", "``",
];
const WORDS: &[&str] = &[
    "name",
    "age",
    "Jason",
    "city",
    "items",
    "a",
    "b",
    "x_1",
    "$ref",
    "été",
    "clé",
    "k-2",
    "v.1",
    "Ünïcode",
    "_",
    "nullable",
    "Trueish",
];

impl<'r> Writer<'r> {
    pub fn new(rng: &'r mut Rng, near: bool) -> Self {
        let layout = rng.pick(&[Layout::Compact, Layout::Pretty, Layout::Random]);
        Self {
            rng,
            out: String::new(),
            layout,
            near,
            indent: 0,
            depth: 0,
        }
    }

    fn ws(&mut self) {
        if self.layout == Layout::Random {
            for _ in 0..self.rng.geometric(3) {
                let c = self.rng.pick(&[' ', '\t', '\n', '\r']);
                self.out.push(c);
            }
        }
        if self.near && self.rng.one_in(12) {
            if self.rng.one_in(2) {
                self.out.push_str("/* note: {x} */");
            } else {
                self.out.push_str("// a comment, {\"no\": 1}\n");
            }
        }
    }

    fn newline(&mut self) {
        if self.layout == Layout::Pretty {
            self.out.push('\n');
            for _ in 0..self.indent {
                self.out.push_str("  ");
            }
        } else {
            self.ws();
        }
    }

    fn comma(&mut self, last: bool) {
        if !last {
            self.out.push(',');
        } else if self.near && self.rng.one_in(4) {
            self.out.push(',');
            self.ws();
        }
    }

    /// A container at the root.
    pub fn root(&mut self) -> Value {
        if self.rng.one_in(40) {
            return self.deep();
        }
        let max = self.rng.range(1, 6);
        if self.rng.one_in(2) {
            self.object(1, max)
        } else {
            self.array(1, max)
        }
    }

    /// Nesting near the parser's limits: 120 to 132 levels.
    fn deep(&mut self) -> Value {
        let n = self.rng.range(120, 132);
        let opens: Vec<bool> = (0..n).map(|_| self.rng.one_in(3)).collect();
        for &obj in &opens {
            self.out.push_str(if obj { "{\"k\":" } else { "[" });
        }
        let mut v = self.scalar();
        for &obj in opens.iter().rev() {
            self.out.push(if obj { '}' } else { ']' });
            v = if obj {
                let mut m = Map::new();
                m.insert("k".into(), v);
                Value::Object(m)
            } else {
                Value::Array(vec![v])
            };
        }
        self.depth = n;
        v
    }

    fn value(&mut self, depth: usize, max: usize) -> Value {
        let kinds = if depth >= max { 4 } else { 6 };
        match self.rng.below(kinds) {
            0 => Value::String(self.string(false)),
            1 => self.number(),
            2 | 3 => self.scalar(),
            4 => self.object(depth + 1, max),
            _ => self.array(depth + 1, max),
        }
    }

    fn scalar(&mut self) -> Value {
        match self.rng.below(7) {
            0 => Value::String(self.string(false)),
            1 | 2 => self.number(),
            3 => self.literal("true", "True", Value::Bool(true)),
            4 => self.literal("false", "False", Value::Bool(false)),
            5 => self.literal("null", "None", Value::Null),
            _ if self.near && self.rng.one_in(2) => {
                let w = self.rng.pick(WORDS);
                self.out.push_str(w);
                Value::String(w.to_owned())
            }
            _ => Value::String(self.string(false)),
        }
    }

    fn literal(&mut self, json: &str, python: &str, v: Value) -> Value {
        let text = if self.near && self.rng.one_in(3) {
            python
        } else {
            json
        };
        self.out.push_str(text);
        v
    }

    /// A container at `depth` between `brackets`: mostly fewer than five members, now and
    /// then six up to `most`, each written by `member`, with the layout's spacing and commas.
    fn container(
        &mut self,
        depth: usize,
        brackets: (char, char),
        most: usize,
        mut member: impl FnMut(&mut Self),
    ) {
        self.depth = self.depth.max(depth);
        let n = if self.rng.one_in(10) {
            self.rng.range(6, most)
        } else {
            self.rng.below(5)
        };
        self.out.push(brackets.0);
        self.indent += 1;
        for i in 0..n {
            self.newline();
            member(self);
            self.ws();
            self.comma(i + 1 == n);
        }
        self.indent -= 1;
        if n > 0 {
            self.newline();
        }
        self.out.push(brackets.1);
    }

    fn object(&mut self, depth: usize, max: usize) -> Value {
        let mut map = Map::new();
        let mut keys: Vec<String> = Vec::new();
        self.container(depth, ('{', '}'), 30, |g| {
            let key = if !keys.is_empty() && g.rng.one_in(15) {
                // A repeated key: the last value wins, in the first one's place.
                let k = keys[g.rng.below(keys.len())].clone();
                g.quoted(&k);
                k
            } else if g.near && g.rng.one_in(3) {
                let k = g.rng.pick(WORDS);
                g.out.push_str(k);
                k.to_owned()
            } else {
                g.string(true)
            };
            keys.push(key.clone());
            g.ws();
            g.out.push(':');
            if g.layout == Layout::Pretty {
                g.out.push(' ');
            }
            g.ws();
            let v = g.value(depth, max);
            map.insert(key, v);
        });
        Value::Object(map)
    }

    fn array(&mut self, depth: usize, max: usize) -> Value {
        let mut items = Vec::new();
        self.container(depth, ('[', ']'), 40, |g| items.push(g.value(depth, max)));
        Value::Array(items)
    }

    fn number(&mut self) -> Value {
        let text = match self.rng.below(10) {
            0 => self.rng.below(10).to_string(),
            1 => (self.rng.next_u64() as i64).to_string(),
            2 => self.rng.next_u64().to_string(),
            3 => (self.rng.pick(&[
                "-0",
                "0",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775808",
                "-9223372036854775809",
                "1e308",
                "1e-400",
                "-0.0",
                "0.1",
                "4.9e-324",
                "1.7976931348623157e308",
                "123456789012345678901234567890",
            ]))
            .to_owned(),
            4..=6 => {
                let int = if self.rng.one_in(4) {
                    "0".to_owned()
                } else {
                    (self.rng.below(100_000) + 1).to_string()
                };
                let frac = if self.rng.one_in(2) {
                    format!(".{}", self.rng.below(1_000_000))
                } else {
                    String::new()
                };
                let exp = if self.rng.one_in(2) {
                    format!(
                        "{}{}{}",
                        self.rng.pick(&["e", "E"]),
                        self.rng.pick(&["", "+", "-"]),
                        self.rng.below(330)
                    )
                } else {
                    String::new()
                };
                let sign = if self.rng.one_in(3) { "-" } else { "" };
                format!("{sign}{int}{frac}{exp}")
            }
            _ => format!("{}", self.rng.below(1000) as f64 / 7.0),
        };
        match serde_json::from_str::<Number>(&text) {
            Ok(n) => {
                self.out.push_str(&text);
                Value::Number(n)
            }
            // Out of range (`1e330`): serde_json rejects it, so write a plain one.
            Err(_) => {
                self.out.push('7');
                Value::from(7)
            }
        }
    }

    /// Writes `s` as a plain JSON string.
    fn quoted(&mut self, s: &str) {
        let text = serde_json::to_string(s).unwrap_or_default();
        self.out.push_str(&text);
    }

    /// Writes a string with random content and escapes; returns its value.
    fn string(&mut self, key: bool) -> String {
        let single = self.near && self.rng.one_in(4);
        let quote = if single { '\'' } else { '"' };
        let mut value = String::new();
        if key && self.rng.one_in(30) {
            // A long key.
            let k = "k".repeat(self.rng.range(100, 400));
            self.out.push(quote);
            self.out.push_str(&k);
            self.out.push(quote);
            return k;
        }
        self.out.push(quote);
        for _ in 0..self.rng.geometric(8) {
            match self.rng.below(9) {
                0 | 1 => {
                    for _ in 0..self.rng.range(1, 8) {
                        let c = (b'a' + self.rng.below(26) as u8) as char;
                        value.push(c);
                        self.out.push(c);
                    }
                }
                2 => {
                    let (esc, c) = self.rng.pick(&[
                        ("\\\"", '"'),
                        ("\\\\", '\\'),
                        ("\\/", '/'),
                        ("\\b", '\u{8}'),
                        ("\\f", '\u{c}'),
                        ("\\n", '\n'),
                        ("\\r", '\r'),
                        ("\\t", '\t'),
                        ("\\u0000", '\0'),
                        ("\\u001F", '\u{1f}'),
                    ]);
                    self.out.push_str(esc);
                    value.push(c);
                }
                3 => {
                    // A BMP character outside the surrogates, as `\uXXXX`.
                    let mut n = self.rng.below(0x1_0000) as u32;
                    if (0xD800..0xE000).contains(&n) {
                        n -= 0x800;
                    }
                    let c = char::from_u32(n).unwrap_or('?');
                    let hex = if self.rng.one_in(2) {
                        format!("\\u{n:04x}")
                    } else {
                        format!("\\u{n:04X}")
                    };
                    self.out.push_str(&hex);
                    value.push(c);
                }
                4 => {
                    // An astral character, as a surrogate pair.
                    let n = 0x1_0000 + self.rng.below(0x10_0000) as u32;
                    let c = char::from_u32(n).unwrap_or('?');
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units);
                    self.out
                        .push_str(&format!("\\u{:04x}\\u{:04X}", units[0], units[1]));
                    value.push(c);
                }
                5 | 6 => {
                    let s = self.rng.pick(RAW);
                    self.out.push_str(s);
                    value.push_str(s);
                }
                7 => {
                    let s = self.rng.pick(TRICKY);
                    if single && s.contains('\'') {
                        self.out.push_str("\\'");
                    } else {
                        self.out.push_str(s);
                    }
                    value.push_str(s);
                }
                _ => {
                    let c = if single && self.rng.one_in(2) {
                        // A double quote needs no escape in a single-quoted string.
                        '"'
                    } else if self.near && self.rng.one_in(2) {
                        // A raw line break, tab or other control character, as models
                        // write them in long strings.
                        self.rng
                            .pick(&['\n', '\t', '\r', '\u{0}', '\u{1}', '\u{1f}'])
                    } else {
                        ' '
                    };
                    self.out.push(c);
                    value.push(c);
                }
            }
        }
        self.out.push(quote);
        value
    }
}

/// Prose a model writes around the answer: no opening bracket, `<` or backtick.
fn prose(rng: &mut Rng, out: &mut String) {
    const BITS: &[&str] = &[
        "Sure",
        "here is",
        "the answer",
        ":",
        ".",
        ",",
        "!",
        "?",
        " ",
        " ",
        "\n",
        "\"quoted\"",
        "(x)",
        "}",
        "]",
        "été",
        "日本",
        "😀",
        "a > b",
        "\t",
        "json",
        "JSON",
        "\r\n",
    ];
    for _ in 0..rng.geometric(8) {
        out.push_str(rng.pick(BITS));
    }
}

/// Text with brackets, fences and markers, none of `stop` in it.
fn junk(rng: &mut Rng, out: &mut String, stop: &str) {
    const BITS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        "\"",
        "\\",
        "<think>",
        "`",
        "``",
        "\n",
        "x = {}",
        "{\"a\": 1}",
        "</think",
        "think>",
        "let",
        " ",
        "<",
        "é",
    ];
    let mut s = String::new();
    for _ in 0..rng.geometric(10) {
        s.push_str(rng.pick(BITS));
    }
    // Removing one marker can make another.
    while !stop.is_empty() && s.contains(stop) {
        s = s.replace(stop, "");
    }
    out.push_str(&s);
}

/// A generated value wrapped the way models answer: prose, thoughts and fences of other
/// languages before it, maybe a JSON fence around it, anything after it.
pub fn wrapped(rng: &mut Rng) -> Case {
    let mut text = String::new();
    let mut inner = Rng::new(rng.next_u64());
    let mut w = Writer::new(&mut inner, false);
    let value = w.root();
    let json = w.out;
    for _ in 0..rng.geometric(4) {
        match rng.below(4) {
            0 | 1 => prose(rng, &mut text),
            2 => {
                text.push_str("<think>");
                junk(rng, &mut text, "</think>");
                text.push_str("</think>");
            }
            _ => {
                text.push_str("```");
                text.push_str(rng.pick(&["python", "rust", " js", "text\t", "yaml", "sh"]));
                text.push('\n');
                junk(rng, &mut text, "```");
                text.push_str("\n```\n");
            }
        }
    }
    let fence = rng.below(4);
    match fence {
        0 => text.push_str(rng.pick(&["```json\n", "```\n", "```JSON\n", "```json5 \n"])),
        1 if rng.one_in(2) => text.push_str(rng.pick(&["```", "``` "])),
        _ => {}
    }
    if fence == 0 && rng.one_in(4) {
        text.push_str("<think>{no}</think>\n");
    }
    let start = text.len();
    text.push_str(&json);
    let range = start..text.len();
    if fence <= 1 {
        text.push_str("\n```");
    }
    if rng.one_in(2) {
        junk(rng, &mut text, "");
    }
    Case {
        bytes: text.into_bytes(),
        oracle: Oracle::Located { range, value },
    }
}

/// A bare generated value, maybe between JSON whitespace.
pub fn bare(rng: &mut Rng) -> Case {
    let mut inner = Rng::new(rng.next_u64());
    let mut w = Writer::new(&mut inner, false);
    let value = w.root();
    let lead = " \n\t\r".repeat(rng.geometric(2));
    let text = format!("{lead}{}{}", w.out, " \n".repeat(rng.geometric(2)));
    Case {
        oracle: Oracle::Located {
            range: lead.len()..lead.len() + w.out.len(),
            value,
        },
        bytes: text.into_bytes(),
    }
}

/// Near-JSON with the value its repair must give.
pub fn near(rng: &mut Rng) -> Case {
    let mut inner = Rng::new(rng.next_u64());
    let mut w = Writer::new(&mut inner, true);
    let value = w.root();
    let mut text = w.out;
    if rng.one_in(4) {
        text.push_str(" and that is all {\"x\": 1}");
    }
    Case {
        bytes: text.into_bytes(),
        // Deeper than serde_json reads, the repaired text cannot be compared.
        oracle: if w.depth < 128 {
            Oracle::Repaired { value }
        } else {
            Oracle::None
        },
    }
}
