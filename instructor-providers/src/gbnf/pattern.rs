//! A `pattern` regex as grammar for the inside of a JSON string, through regex-syntax's
//! HIR: literals, classes, repetition, groups and alternation. Characters JSON would have
//! to escape (`"`, `\` and control characters) are left out of classes, so every string the
//! grammar allows is valid JSON without escapes.

use regex_syntax::hir::{Class, Hir, HirKind};

/// One character as a grammar escape.
fn esc(c: char) -> String {
    let n = c as u32;
    if c.is_ascii_alphanumeric() {
        c.to_string()
    } else if n < 0x100 {
        format!("\\x{n:02X}")
    } else if n < 0x10000 {
        format!("\\u{n:04X}")
    } else {
        format!("\\U{n:08X}")
    }
}

/// Whether a character may appear unescaped in a JSON string.
fn plain(c: char) -> bool {
    c != '"' && c != '\\' && (c as u32) >= 0x20
}

fn class(ranges: impl Iterator<Item = (char, char)>) -> String {
    let mut out = String::from("[");
    let mut any = false;
    for (lo, hi) in ranges {
        // Split each range around the characters JSON must escape.
        let mut start = lo as u32;
        let end = hi as u32;
        while start <= end {
            let Some(s) = char::from_u32(start) else {
                start += 1;
                continue;
            };
            if !plain(s) {
                start += 1;
                continue;
            }
            let mut stop = start;
            while stop < end {
                match char::from_u32(stop + 1) {
                    Some(c) if plain(c) => stop += 1,
                    _ => break,
                }
            }
            let e = char::from_u32(stop).unwrap_or(s);
            any = true;
            if s == e {
                out.push_str(&esc(s));
            } else {
                out.push_str(&format!("{}-{}", esc(s), esc(e)));
            }
            start = stop + 1;
        }
    }
    out.push(']');
    if any {
        out
    } else {
        "\"\"".to_owned()
    }
}

fn literal(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\\\\\""),
            '\\' => out.push_str("\\\\\\\\"),
            c if (c as u32) < 0x20 => {}
            c => out.push_str(&esc(c)),
        }
    }
    out.push('"');
    out
}

fn hir(h: &Hir) -> String {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => "\"\"".to_owned(),
        HirKind::Literal(l) => literal(&l.0),
        HirKind::Class(Class::Unicode(c)) => class(c.iter().map(|r| (r.start(), r.end()))),
        HirKind::Class(Class::Bytes(c)) => {
            class(c.iter().map(|r| (r.start() as char, r.end() as char)))
        }
        HirKind::Repetition(r) => {
            let inner = hir(&r.sub);
            let q = match (r.min, r.max) {
                (0, None) => "*".to_owned(),
                (1, None) => "+".to_owned(),
                (0, Some(1)) => "?".to_owned(),
                (m, None) => format!("{{{m},}}"),
                (m, Some(n)) if m == n => format!("{{{m}}}"),
                (m, Some(n)) => format!("{{{m},{n}}}"),
            };
            format!("({inner}){q}")
        }
        HirKind::Capture(c) => format!("({})", hir(&c.sub)),
        HirKind::Concat(parts) => parts.iter().map(hir).collect::<Vec<_>>().join(" "),
        HirKind::Alternation(alts) => {
            format!("({})", alts.iter().map(hir).collect::<Vec<_>>().join(" | "))
        }
    }
}

/// The string body a pattern allows (without the quotes). `any_char` is the rule for one
/// JSON string character, used where the pattern is not anchored.
pub(crate) fn pattern(p: &str, any_char: &str) -> Result<String, String> {
    let parsed = regex_syntax::Parser::new()
        .parse(p)
        .map_err(|e| format!("pattern `{p}` does not parse: {e}"))?;
    let body = hir(&parsed);
    let start = if p.starts_with('^') {
        String::new()
    } else {
        format!("{any_char}* ")
    };
    let end = if p.ends_with('$') && !p.ends_with("\\$") {
        String::new()
    } else {
        format!(" {any_char}*")
    };
    Ok(format!("{start}{body}{end}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_patterns_translate_directly() {
        assert_eq!(pattern("^[a-z]+$", "char").unwrap(), "\"\" ([a-z])+ \"\"");
        assert_eq!(
            pattern("^ab?$", "char").unwrap(),
            "\"\" \"a\" (\"b\")? \"\""
        );
        assert_eq!(
            pattern("^\\d{3}-\\d{4}$", "char")
                .unwrap()
                .matches("{")
                .count(),
            2
        );
    }

    #[test]
    fn unanchored_patterns_allow_text_around() {
        let g = pattern("x", "char").unwrap();
        assert!(g.starts_with("char* ") && g.ends_with(" char*"), "{g}");
    }

    #[test]
    fn quotes_and_backslashes_are_left_out_of_classes() {
        let g = pattern("^[ -~]$", "c").unwrap();
        assert!(
            g.contains("\\x20-\\x21") && g.contains("\\x23-\\x5B") && g.contains("\\x5D-\\x7E"),
            "{g}"
        );
    }
}
