//! The seed corpus of tricky strings, token soup, the byte mutators, and the mix every JSON
//! target draws from.

use crate::gen::{bare, near, wrapped, Case};
use crate::rng::Rng;

pub const CORPUS: &[&str] = &[
    "{}",
    "[]",
    "{\"a\":1}",
    "[1,2,3]",
    "{\"a\": \"\\ud83d\\ude00\"}",
    "[\"\\ud800\"]",
    "[\"\\udc00\"]",
    "[\"\\ud800\\u0041\"]",
    "[\"\\ud800\\ud800\"]",
    "[\"\\ud800\\\"]",
    "[1e400]",
    "[-0]",
    "[01]",
    "[1.]",
    "[.5]",
    "[1e]",
    "[-]",
    "[+1]",
    "[tru]",
    "[nulll]",
    "[\"\\u0000\"]",
    "[\"\u{1}\"]",
    "{\"a\":1,\"a\":2}",
    "{\"a\":1,}",
    "[1,]",
    "[,]",
    "{,}",
    "{\"a\" 1}",
    "{\"a\":}",
    "{1:2}",
    "[}",
    "{]",
    "[[[[[[[[[[]]]]]]]]]]",
    "<think>{</think>[1]",
    "<think>never closed {\"a\":1}",
    "<think>a<think>b</think>{\"c\":2}",
    "```python\nx = {}\n```\n```json\n{\"a\": 1}\n```",
    "```{\"a\": 1}```",
    "``` json\n[1]\n```",
    "```jsonc\n[1]\n```",
    "```aaaaaaaaaaaaaaaaaaaaaaaaa\n[1]\n```\n[2]",
    "{\"n\": \"x<think>y</think>z\"}",
    "{\"code\": \"```{\\\"x\\\": 1}```\"}",
    "[1.0e+10, 2E-5, -0.0e-0]",
    "{\"\":\"\"}",
    "[[],[{}],{\"a\":[]}]",
    "{'a': 'b',}",
    "{a: Jason, b: True, c: None}",
    "{\"a\": [1, 2,], // c\n \"b\": /* x */ 3}",
    "{\"name\": \"Jas",
    "{\"a\": 1, \"b\"",
    "{\"a\": 1, \"b\":",
    "[\"a\\",
    "{'x': 'it\\'s'}",
    "\"just a string\"",
    "42",
    "Sure! {\"a\": [1]} bye {",
    "}}}]]]{",
    "{\"a\":\"\\x\"}",
    "[\"\\u12\"]",
    "[\"\\uZZZZ\"]",
    "[\"\u{7f}\u{2028}\"]",
    "[1 2]",
    "[true false]",
    "{\"a\":1 \"b\":2}",
    "[\"a\" \"b\"]",
    "[null,\n]",
    "\u{feff}{\"a\":1}",
    "[\"\\/\"]",
    "{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}",
];

/// The structural characters, first in both the token soup and the mutation dictionary.
const STRUCTURAL: &[&[u8]] = &[b"{", b"}", b"[", b"]", b",", b":"];

/// Random concatenations of JSON-ish tokens.
pub fn soup(rng: &mut Rng) -> Vec<u8> {
    /// After `STRUCTURAL`.
    const TOKENS: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"\"a\"",
        b"1",
        b"-",
        b"0",
        b"e",
        b".",
        b"true",
        b"null",
        b"False",
        b" ",
        b"\n",
        b"<think>",
        b"</think>",
        b"```",
        b"```json\n",
        b"'",
        b"//",
        b"/*",
        b"*/",
        b"\\u",
        b"d800",
        b"x",
        b"\xc3",
        b"\xa9",
        b"\xff",
        b"\x00",
        b"\x1f",
        b"\r",
    ];
    let mut out = Vec::new();
    for _ in 0..rng.range(1, 40) {
        out.extend_from_slice(rng.pick_of(STRUCTURAL, TOKENS));
    }
    out
}

/// After `STRUCTURAL`.
const DICT: &[&[u8]] = &[
    b"\"",
    b"\\",
    b"<think>",
    b"</think>",
    b"```",
    b"```json\n",
    b"```python\n",
    b"\x00",
    b"\x01",
    b"\x1f",
    b"\x7f",
    b"\\u",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83d\\ude00",
    b"\\u00e9",
    b"1e400",
    b"-",
    b"0",
    b"1.5e-3",
    b"true",
    b"null",
    b"'",
    b"//",
    b"/*",
    b"*/",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"\xc3\xa9",
    b"\xf0\x9f\x98",
    b"\x80",
    b"\xff",
    b"\xed\xa0\x80",
    b"data: ",
    b"event: ",
    b"\n\n",
    b"True",
    b"None",
];

/// One to several random edits.
pub fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..=rng.geometric(5) {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(11) {
            0 if len > 0 => {
                let i = rng.below(len);
                bytes[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                bytes[i] = rng.pick(b"\"\\{}[],:'`<>/ \n\x00\x1f\x7f\x80\xc3\xff0-e.tun");
            }
            2..=4 => {
                let t = rng.pick(DICT);
                bytes.splice(at..at, t.iter().copied());
            }
            5 if len > 0 => {
                let end = (at + rng.range(1, 16)).min(len);
                bytes.drain(at.min(end)..end);
            }
            6 => bytes.truncate(at),
            7 if len > 0 => {
                // Duplicate a slice somewhere.
                let a = rng.below(len);
                let b = (a + rng.range(1, 32)).min(len);
                let slice = bytes[a..b].to_vec();
                let to = rng.below(len + 1);
                bytes.splice(to..to, slice);
            }
            8 if !other.is_empty() => {
                // Splice in part of another input.
                let a = rng.below(other.len());
                let b = (a + rng.range(1, 64)).min(other.len());
                bytes.splice(at..at, other[a..b].iter().copied());
            }
            9 if len > 0 => {
                // Repeat a short slice many times: nesting, long runs.
                let a = rng.below(len);
                let b = (a + rng.range(1, 3)).min(len);
                let slice = bytes[a..b].repeat(rng.range(2, 140));
                bytes.splice(a..a, slice);
            }
            _ => {
                let t = rng.pick(DICT);
                bytes.splice(at..at, t.iter().copied());
            }
        }
    }
}

/// The mix every JSON target draws from: valid values (bare and wrapped), near-JSON, the
/// corpus, token soup, and mutations of all of them.
pub fn json_case(rng: &mut Rng) -> Case {
    let base = match rng.below(10) {
        0 | 1 => wrapped(rng),
        2 | 3 => bare(rng),
        4 | 5 => near(rng),
        6 => Case::plain(rng.pick(CORPUS).as_bytes().to_vec()),
        7 => Case::plain(soup(rng)),
        _ if rng.one_in(2) => wrapped(rng),
        _ => bare(rng),
    };
    if rng.below(10) < 4 {
        return base;
    }
    let other = if rng.one_in(2) {
        rng.pick(CORPUS).as_bytes().to_vec()
    } else {
        soup(rng)
    };
    let mut bytes = base.bytes;
    mutate(rng, &mut bytes, &other);
    Case::plain(bytes)
}
