//! Integer ranges as grammar: an exact alternative of digit patterns for every integer in
//! `[min, max]` (no leading zeros), so a small model cannot write 1000000000000000 for a
//! `u8` or 151 for an age capped at 150.

/// A grammar expression matching exactly the decimal integers in `[lo, hi]`.
pub(crate) fn int_range(lo: i128, hi: i128) -> String {
    if lo > hi {
        // An empty range cannot be satisfied; match nothing a model could write usefully.
        return "\"0\"".to_owned();
    }
    let mut alts = Vec::new();
    if lo < 0 {
        let neg_hi = hi.min(-1);
        // -k for k in [-neg_hi, -lo]
        for a in positive(-neg_hi, -lo) {
            alts.push(format!("\"-\" {a}"));
        }
    }
    if hi >= 0 {
        alts.extend(positive(lo.max(0), hi));
    }
    super::alternatives(alts)
}

/// Integers with at most `digits` digits, optionally negative.
pub(crate) fn int_digits(digits: u32, negative: bool) -> String {
    let tail = if digits > 1 {
        format!(" [0-9]{{0,{}}}", digits - 1)
    } else {
        String::new()
    };
    let body = format!("(\"0\" | [1-9]{tail})");
    if negative {
        format!("\"-\"? {body}")
    } else {
        body
    }
}

/// Patterns for the non-negative integers in `[a, b]`, split by digit count.
fn positive(a: i128, b: i128) -> Vec<String> {
    let mut out = Vec::new();
    let (len_a, len_b) = (digits(a), digits(b));
    for len in len_a..=len_b {
        let lo = if len == len_a { a } else { 10i128.pow(len - 1) };
        let hi = if len == len_b { b } else { 10i128.pow(len) - 1 };
        out.extend(same_len(&lo.to_string(), &hi.to_string()));
    }
    out
}

fn digits(n: i128) -> u32 {
    n.to_string().len() as u32
}

fn class(lo: u8, hi: u8) -> String {
    if lo == hi {
        format!("\"{}\"", lo as char)
    } else {
        format!("[{}-{}]", lo as char, hi as char)
    }
}

fn any_digits(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "[0-9]".to_owned(),
        n => format!("[0-9]{{{n}}}"),
    }
}

fn join(head: String, tail: String) -> String {
    match (head.is_empty(), tail.is_empty()) {
        (true, _) => tail,
        (_, true) => head,
        _ => format!("{head} {tail}"),
    }
}

/// Patterns for `[lo, hi]` where both have the same number of digits.
fn same_len(lo: &str, hi: &str) -> Vec<String> {
    let (l, h) = (lo.as_bytes(), hi.as_bytes());
    let n = l.len();
    if n == 0 {
        return vec![String::new()];
    }
    if n == 1 {
        return vec![class(l[0], h[0])];
    }
    if l[0] == h[0] {
        return same_len(&lo[1..], &hi[1..])
            .into_iter()
            .map(|rest| join(class(l[0], l[0]), rest))
            .collect();
    }
    let mut out = Vec::new();
    let lo_rest_zero = l[1..].iter().all(|&c| c == b'0');
    let hi_rest_nine = h[1..].iter().all(|&c| c == b'9');
    let mid_lo = if lo_rest_zero { l[0] } else { l[0] + 1 };
    let mid_hi = if hi_rest_nine { h[0] } else { h[0] - 1 };
    if !lo_rest_zero {
        let nines = "9".repeat(n - 1);
        for rest in same_len(&lo[1..], &nines) {
            out.push(join(class(l[0], l[0]), rest));
        }
    }
    if mid_lo <= mid_hi {
        out.push(join(class(mid_lo, mid_hi), any_digits(n - 1)));
    }
    if !hi_rest_nine {
        let zeros = "0".repeat(n - 1);
        for rest in same_len(&zeros, &hi[1..]) {
            out.push(join(class(h[0], h[0]), rest));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny matcher for the patterns above: alternatives of sequences of `"c"`, `[a-b]`,
    /// `[0-9]{n}`, used to check ranges exhaustively.
    fn matches(pattern: &str, s: &str) -> bool {
        let p = pattern.trim();
        let p = p
            .strip_prefix('(')
            .and_then(|p| p.strip_suffix(')'))
            .unwrap_or(p);
        p.split(" | ").any(|alt| seq(alt.trim(), s))
    }

    fn seq(alt: &str, s: &str) -> bool {
        let mut chars = s.chars();
        for tok in alt.split(' ') {
            if let Some(lit) = tok.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
                for c in lit.chars() {
                    if chars.next() != Some(c) {
                        return false;
                    }
                }
            } else if let Some(rest) = tok.strip_prefix('[') {
                let (set, count) = rest.split_once(']').unwrap_or((rest, ""));
                let b = set.as_bytes();
                let n: usize = count
                    .trim_matches(|c| c == '{' || c == '}')
                    .parse()
                    .unwrap_or(1);
                for _ in 0..n {
                    match chars.next() {
                        Some(c) if (c as u8) >= b[0] && (c as u8) <= b[2] => {}
                        _ => return false,
                    }
                }
            }
        }
        chars.next().is_none()
    }

    #[test]
    fn ranges_match_exactly_their_members() {
        for (lo, hi) in [
            (0, 255),
            (0, 150),
            (1, 1),
            (18, 99),
            (7, 1234),
            (-128, 127),
            (-50, -3),
            (100, 100),
        ] {
            let p = int_range(lo, hi);
            for n in (lo - 300)..=(hi + 300) {
                assert_eq!(
                    matches(&p, &n.to_string()),
                    (lo..=hi).contains(&n),
                    "{n} in [{lo}, {hi}]: {p}"
                );
            }
            assert!(!matches(&p, "007"), "no leading zeros: {p}");
        }
    }

    #[test]
    fn wide_ranges_stay_small() {
        assert!(int_range(0, u64::MAX as i128).len() < 2000);
        assert!(int_range(i64::MIN as i128, i64::MAX as i128).len() < 4000);
    }
}
