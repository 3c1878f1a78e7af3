//! Finding the JSON in a model's text: `<think>` blocks removed, a fenced block preferred
//! where the mode asks for one, else the first balanced JSON value in the prose. Each
//! function borrows from the input; nothing is copied.

/// The text without `<think>…</think>` blocks (an unclosed one at the start is dropped up
/// to the first `{` or `[` after it).
pub(crate) fn strip_think(text: &str) -> std::borrow::Cow<'_, str> {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    if !text.contains(OPEN) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len()..];
        match after.find(CLOSE) {
            Some(end) => rest = &after[end + CLOSE.len()..],
            None => {
                // A thought that never closed: keep whatever JSON follows it.
                rest = after.find(['{', '[']).map_or("", |i| &after[i..]);
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The body of the first fenced code block, preferring one tagged `json`.
pub(crate) fn fenced_block(text: &str) -> Option<&str> {
    let mut first_any = None;
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("```") {
        let after_ticks = &rest[open + 3..];
        let line_end = after_ticks.find('\n')?;
        let tag = after_ticks[..line_end].trim();
        let body_start = offset + open + 3 + line_end + 1;
        let body = &text[body_start..];
        let close = body.find("```").unwrap_or(body.len());
        let block = body[..close].trim();
        if tag.eq_ignore_ascii_case("json") {
            return Some(block);
        }
        if first_any.is_none() && (tag.is_empty() || tag.starts_with('{')) {
            first_any = Some(block);
        }
        let consumed = body_start + (close + 3).min(body.len());
        if consumed >= text.len() {
            break;
        }
        offset = consumed;
        rest = &text[consumed..];
    }
    first_any
}

/// The first JSON object or array in `text` and whether it closed. An unclosed value runs
/// to the end of the text (for the repair pass). Strings and escapes are respected, so a
/// brace inside a string does not count.
pub(crate) fn first_json_value(text: &str) -> Option<(&str, bool)> {
    let bytes = text.as_bytes();
    let start = bytes.iter().position(|&b| b == b'{' || b == b'[')?;
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some((&text[start..=i], true));
                }
            }
            _ => {}
        }
    }
    Some((&text[start..], false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn think_blocks_are_removed() {
        assert_eq!(strip_think("<think>hmm {</think>{\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_think("a<think>x</think>b<think>y</think>c"), "abc");
        assert_eq!(strip_think("<think>never closed {\"a\":1}"), "{\"a\":1}");
        assert_eq!(strip_think("plain"), "plain");
    }

    #[test]
    fn fenced_json_block_is_preferred() {
        let t = "Here:\n```python\nx = {}\n```\nand\n```json\n{\"a\": 1}\n```\nbye";
        assert_eq!(fenced_block(t), Some("{\"a\": 1}"));
        assert_eq!(fenced_block("```\n[1, 2]\n```"), Some("[1, 2]"));
        assert_eq!(fenced_block("```json\n{\"a\": 1"), Some("{\"a\": 1"));
        assert_eq!(fenced_block("no fences"), None);
    }

    #[test]
    fn first_value_respects_strings() {
        let t = r#"Sure! {"name": "a } tricky \" one", "n": [1, {"x": 2}]} trailing {"#;
        assert_eq!(
            first_json_value(t),
            Some((r#"{"name": "a } tricky \" one", "n": [1, {"x": 2}]}"#, true))
        );
        assert_eq!(first_json_value("x [1, 2"), Some(("[1, 2", false)));
        assert_eq!(first_json_value("nothing here"), None);
    }
}
