//! Snapshots of the value so far read from the answer's text, not from a tree the parser
//! keeps. The parser knows where each open container starts, where its complete members end
//! and which string is open, so that text, closed (the string ends, the containers close),
//! is the value a snapshot shows: strings as far as they have arrived, numbers and literals
//! only once complete. [`JsonStream::snapshot_from_text`] parses all of it each time;
//! [`JsonStream::read_snapshot`] keeps the complete members of the open containers from one
//! snapshot to the next and parses only the text that arrived in between.

use serde_json::{Map, Value};

use super::stream::JsonStream;

/// An open container as the last snapshot left it.
#[derive(Debug)]
pub(crate) struct Cached {
    /// Where it opened: which container it is.
    start: usize,
    /// Its complete members so far.
    value: Value,
    /// Where the text of those members ends.
    read_to: usize,
}

/// How the member being read went into its container for a snapshot, to take it out again.
enum Attached {
    Element,
    Member {
        key: String,
        /// The value of an earlier member of the same name, which it replaced.
        replaced: Option<Value>,
    },
}

/// An open container of the parser: where it starts, whether it is an object, where the
/// text of its complete members ends.
type Open = (usize, bool, usize);

impl JsonStream {
    /// The same value as [`JsonStream::snapshot`], read from `text`, the bytes fed so far
    /// (every byte, from the first): the text of the value up to the last byte a snapshot
    /// shows, closed and parsed. Costs a parse of the value so far, whichever way the
    /// parser was made; `None` before the value starts, or if `text` is not what was fed.
    ///
    /// ```
    /// use instructor_core::stream::JsonStream;
    /// let text = br#"{"name": "Jason", "tags": ["a", "b"], "age": 3"#;
    /// let mut p = JsonStream::without_values(Default::default());
    /// p.feed(text, &mut |_, _, _| {}).unwrap();
    /// let v = p.snapshot_from_text(text).unwrap();
    /// assert_eq!(v, serde_json::json!({"name": "Jason", "tags": ["a", "b"]}));
    /// ```
    pub fn snapshot_from_text(&self, text: &[u8]) -> Option<Value> {
        if text.len() != self.bytes() {
            return None;
        }
        if let Some(span) = self.root_span() {
            return serde_json::from_slice(text.get(span)?).ok();
        }
        let frames = self.frames();
        let root = frames.first()?;
        let (end, quote) = match self.open_string() {
            Some(string) => (string.end, true),
            None => (frames.last()?.kept(), false),
        };
        let kept = text.get(root.start()..end)?;
        let mut closed = Vec::with_capacity(kept.len() + frames.len() + 1);
        closed.extend_from_slice(kept);
        if quote {
            closed.push(b'"');
        }
        closed.extend(
            frames
                .iter()
                .rev()
                .map(|f| if f.is_object() { b'}' } else { b']' }),
        );
        serde_json::from_slice(&closed).ok()
    }

    /// Calls `f` with the value [`JsonStream::snapshot_from_text`] gives, reading only the
    /// text that arrived since the last call: the complete members of open containers are
    /// kept between calls (the member being read is put in for the call and taken out
    /// after). A call costs the new text, plus the open string, plus a step per open
    /// container; `None` as for [`JsonStream::snapshot_from_text`].
    ///
    /// ```
    /// use instructor_core::stream::JsonStream;
    /// let text = br#"{"tags": ["a", "b"], "name": "Ja"#;
    /// let mut p = JsonStream::without_values(Default::default());
    /// p.feed(&text[..20], &mut |_, _, _| {}).unwrap();
    /// assert_eq!(p.read_snapshot(&text[..20], |v| v["tags"][1].clone()), Some("b".into()));
    /// p.feed(&text[20..], &mut |_, _, _| {}).unwrap();
    /// assert_eq!(p.read_snapshot(text, |v| v["name"].clone()), Some("Ja".into()));
    /// ```
    pub fn read_snapshot<R>(&mut self, text: &[u8], f: impl FnOnce(&Value) -> R) -> Option<R> {
        let read = self.read_cached(text, f);
        if read.is_none() {
            // Whatever went wrong, the next call starts afresh.
            self.cache.clear();
        }
        read
    }

    fn read_cached<R>(&mut self, text: &[u8], f: impl FnOnce(&Value) -> R) -> Option<R> {
        if text.len() != self.bytes() {
            return None;
        }
        // The member being read, if it is a string (any other open member is a container).
        let tail = match self.open_string() {
            Some(string) => {
                let mut closed = Vec::with_capacity(string.len() + 1);
                closed.extend_from_slice(text.get(string)?);
                closed.push(b'"');
                Some(Value::String(serde_json::from_slice(&closed).ok()?))
            }
            None => None,
        };
        let done = self.root_span();
        let frames = &self.stack;
        let open: Vec<Open> = match &done {
            // Once closed, the root holds only complete members.
            Some(span) => {
                let object = text.get(span.start) == Some(&b'{');
                vec![(span.start, object, span.end.checked_sub(1)?)]
            }
            None => frames
                .iter()
                .map(|f| (f.start(), f.is_object(), f.kept()))
                .collect(),
        };
        let cache = &mut self.cache;
        let same = cache
            .iter()
            .zip(&open)
            .take_while(|(c, o)| c.start == o.0)
            .count();
        cache.truncate(same);
        for &(start, object, _) in &open[same..] {
            let value = if object {
                Value::Object(Map::new())
            } else {
                Value::Array(Vec::new())
            };
            cache.push(Cached {
                start,
                value,
                read_to: start + 1,
            });
        }
        for (c, &(_, _, end)) in cache.iter_mut().zip(&open) {
            if end > c.read_to {
                append(&mut c.value, text.get(c.read_to..end)?)?;
                c.read_to = end;
            }
        }
        if cache.is_empty() {
            return None;
        }
        // Each open container goes into its parent, the open string into the last one.
        let mut attached = Vec::with_capacity(cache.len());
        let mut child = tail;
        for (d, c) in cache.iter_mut().enumerate().rev() {
            attached.push(match child.take() {
                Some(member) => Some(attach(&mut c.value, frames.get(d), member)?),
                None => None,
            });
            if d > 0 {
                child = Some(std::mem::take(&mut c.value));
            }
        }
        attached.reverse();
        let read = f(&cache[0].value);
        for (d, how) in attached.into_iter().enumerate() {
            let Some(how) = how else { continue };
            let member = detach(&mut cache[d].value, how)?;
            if let Some(c) = cache.get_mut(d + 1) {
                c.value = member;
            }
        }
        Some(read)
    }
}

/// Adds the complete members in `text` (each after a comma but the first of the container)
/// to `container`.
fn append(container: &mut Value, text: &[u8]) -> Option<()> {
    let Some(start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Some(());
    };
    let text = match text[start] {
        b',' => &text[start + 1..],
        _ => &text[start..],
    };
    let mut closed = Vec::with_capacity(text.len() + 2);
    match container {
        Value::Array(items) => {
            closed.push(b'[');
            closed.extend_from_slice(text);
            closed.push(b']');
            items.extend(serde_json::from_slice::<Vec<Value>>(&closed).ok()?);
        }
        Value::Object(map) => {
            closed.push(b'{');
            closed.extend_from_slice(text);
            closed.push(b'}');
            // A repeated name replaces the earlier value in its place, as in one parse.
            for (k, v) in serde_json::from_slice::<Map<String, Value>>(&closed).ok()? {
                map.insert(k, v);
            }
        }
        _ => return None,
    }
    Some(())
}

/// Puts the member being read into `container` (an object's under the parser's current key).
fn attach(
    container: &mut Value,
    frame: Option<&super::stream::Frame>,
    member: Value,
) -> Option<Attached> {
    match container {
        Value::Array(items) => {
            items.push(member);
            Some(Attached::Element)
        }
        Value::Object(map) => {
            let key = frame?.key().to_owned();
            let replaced = map.insert(key.clone(), member);
            Some(Attached::Member { key, replaced })
        }
        _ => None,
    }
}

/// Takes the member `attach` put in out again.
fn detach(container: &mut Value, how: Attached) -> Option<Value> {
    match (container, how) {
        (Value::Array(items), Attached::Element) => items.pop(),
        (
            Value::Object(map),
            Attached::Member {
                key,
                replaced: Some(earlier),
            },
        ) => map.insert(key, earlier),
        (
            Value::Object(map),
            Attached::Member {
                key,
                replaced: None,
            },
        ) => map.shift_remove(&key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::stream::Limits;
    use super::*;

    /// Feeds `text` a byte at a time to a parser that builds values and to one that does not,
    /// and every `every` bytes checks that both text snapshots are the tree's snapshot.
    fn check(text: &str, every: usize) -> usize {
        let text = text.as_bytes();
        let mut tree = JsonStream::new(Limits::default());
        let mut lean = JsonStream::without_values(Limits::default());
        let mut taken = 0;
        for i in 0..text.len() {
            let fed = tree.feed(&text[i..=i], &mut |_, _, _| {});
            assert_eq!(
                fed.is_ok(),
                lean.feed(&text[i..=i], &mut |_, _, _| {}).is_ok()
            );
            if fed.is_err() {
                break;
            }
            if (i + 1) % every != 0 && i + 1 != text.len() {
                continue;
            }
            let so_far = &text[..=i];
            // As text, so that the order of members counts too.
            let expected = tree.snapshot().map(|v| v.to_string());
            let shown = String::from_utf8_lossy(so_far);
            let from_text = lean.snapshot_from_text(so_far).map(|v| v.to_string());
            assert_eq!(from_text, expected, "{shown}");
            let cached = lean.read_snapshot(so_far, Value::to_string);
            assert_eq!(cached, expected, "every {every}: {shown}");
            assert_eq!(tree.read_snapshot(so_far, Value::to_string), expected);
            taken += usize::from(expected.is_some());
        }
        taken
    }

    const SAMPLES: &[&str] = &[
        r#"Sure: {"items": [{"name": "Zoë \"Z\"", "age": 4, "address": {"city": "X", "zip": [1, 2]}, "tags": ["a}b", "c\\d"]}, {"name": "B\u00e9 \ud83d\ude00", "tags": []}, {}]} bye"#,
        r#"[1, 22, "x", [], {}, [[["deep", [0]]], 3], {"a": {"b": {"c": "d"}}}, -0.5e2, true, null]"#,
        r#"{"a": {"x": 1}, "b": 2, "a": {"y": [1, 2, {"z": "w"}]}, "c": "s", "c": ["t"]}"#,
        "```json\n{ \"k\" :\t\"v\" ,\r\n \"l\" : [ 1 , 2 ] ,\"m\":{ } }\n```",
        r#"{"open": ["never", {"closed": "#,
    ];

    #[test]
    fn cached_snapshots_are_the_tree_at_any_pace() {
        for text in SAMPLES {
            for every in [1, 2, 3, 7, 16, 1000] {
                let taken = check(text, every);
                assert!(taken > 0, "{text}");
            }
        }
    }

    #[test]
    fn a_new_container_at_the_same_depth_replaces_the_cached_one() {
        let text = br#"{"a": [1, 2], "b": [3"#;
        let mut p = JsonStream::without_values(Limits::default());
        p.feed(&text[..10], &mut |_, _, _| {}).unwrap();
        assert_eq!(
            p.read_snapshot(&text[..10], Value::clone),
            Some(serde_json::json!({"a": [1]}))
        );
        p.feed(&text[10..], &mut |_, _, _| {}).unwrap();
        assert_eq!(
            p.read_snapshot(text, Value::clone),
            Some(serde_json::json!({"a": [1, 2], "b": []}))
        );
        assert_eq!(p.read_snapshot(b"other text", Value::clone), None);
        assert!(p.cache.is_empty(), "a failed read starts afresh");
    }
}
