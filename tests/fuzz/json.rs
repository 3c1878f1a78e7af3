//! The checks for the JSON machinery in `instructor_core::json`: the locator (whole and
//! incremental), the repair pass and the streaming parser, each against `serde_json`
//! wherever it accepts the input, and against the generator's oracle for wrapped answers
//! and near-JSON.

use std::ops::Range;

use instructor::json::{locate, repair, Balance, JsonStream, Limits, Locator, Seg, ValueEnd};
use serde_json::Value;

use crate::gen::{Case, Oracle};
use crate::harness::{shown, timed, Verdict};
use crate::rng::{char_cuts, cuts, hash, Rng};

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// What `serde_json` makes of the whole input, when it is an object or an array.
fn serde_container(bytes: &[u8]) -> Option<Value> {
    serde_json::from_slice::<Value>(bytes)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// The input without JSON whitespace around it.
fn trimmed(bytes: &[u8]) -> Range<usize> {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let start = bytes.iter().position(|b| !ws(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ws(b)).map_or(start, |e| e + 1);
    start..end
}

/// Where `part` (a slice of `whole`) begins in it.
fn offset(whole: &str, part: &str) -> Option<usize> {
    let at = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (at + part.len() <= whole.len()).then_some(at)
}

/// `locate`: never panics; the slice starts at a bracket and either closes or runs to the
/// end; equals the trimmed input wherever `serde_json` accepts it; finds the generated
/// answer in prose, thoughts and fences.
pub fn check_locate(case: &Case) -> Verdict {
    let (text, oracle) = case.text();
    let found = timed(|| locate(&text));
    if let Some((slice, closed)) = found {
        let Some(at) = offset(&text, slice) else {
            return Err("bounds: the slice is not part of the input".into());
        };
        ensure!(
            slice.starts_with(['{', '[']),
            "opener: the slice starts with {:?}",
            slice.chars().next()
        );
        if closed {
            ensure!(
                slice.ends_with(['}', ']']),
                "closer: a closed slice ends with {:?}",
                slice.chars().last()
            );
        } else {
            ensure!(
                at + slice.len() == text.len(),
                "suffix: an unclosed slice stops before the end"
            );
        }
    }
    if let Some(v) = serde_container(text.as_bytes()) {
        let want = &text[trimmed(text.as_bytes())];
        ensure!(
            found == Some((want, true)),
            "differential: serde_json accepts the input; locate gives {found:?}"
        );
        let again: Result<Value, _> = serde_json::from_str(want);
        ensure!(again.as_ref().ok() == Some(&v), "differential: {again:?}");
    }
    if let Oracle::Located { range, .. } = oracle {
        ensure!(
            found == Some((&text[range.clone()], true)),
            "oracle: the answer is {:?}; locate gives {found:?}",
            &text[range.clone()]
        );
    }
    Ok(())
}

/// `Locator`, `Balance` and `ValueEnd` fed in random chunks agree with `locate` on the
/// whole text.
pub fn check_locator(case: &Case) -> Verdict {
    let (text, _) = case.text();
    let mut rng = Rng::new(hash(text.as_bytes()));
    let cuts = char_cuts(&mut rng, &text);
    let (start, end, value_end_chunk, in_thought) = timed(|| {
        let mut locator = Locator::new();
        let mut balance: Option<Balance> = None;
        let (mut start, mut end) = (None, None);
        let mut value_end = ValueEnd::default();
        let mut value_end_chunk = None;
        for (k, w) in cuts.windows(2).enumerate() {
            let chunk = &text[w[0]..w[1]];
            if value_end.feed(chunk) && value_end_chunk.is_none() {
                value_end_chunk = Some(k);
            }
            for (j, b) in chunk.bytes().enumerate() {
                if end.is_some() {
                    break;
                }
                match &mut balance {
                    Some(bal) => {
                        if bal.byte(b) {
                            end = Some(w[0] + j);
                        }
                    }
                    None => {
                        if locator.byte(b) {
                            start = Some(w[0] + j);
                            let mut bal = Balance::default();
                            bal.byte(b);
                            balance = Some(bal);
                        }
                    }
                }
            }
        }
        (start, end, value_end_chunk, locator.in_thought())
    });
    let found = locate(&text);
    match (start, found) {
        (Some(s), Some((slice, closed))) => {
            ensure!(
                offset(&text, slice) == Some(s),
                "start: the chunked locator starts at {s}, locate at {:?}",
                offset(&text, slice)
            );
            ensure!(
                closed == end.is_some(),
                "end: the chunked balance ends at {end:?}, locate says closed={closed}"
            );
            if let Some(e) = end {
                ensure!(
                    s + slice.len() == e + 1,
                    "end: the chunked balance ends at {e}, locate at {}",
                    s + slice.len() - 1
                );
            }
        }
        (Some(s), None) => return Err(format!("start: chunked start {s}, locate none")),
        (None, Some(_)) => ensure!(
            in_thought,
            "start: locate finds {found:?} though the text ends outside any thought"
        ),
        (None, None) => {}
    }
    let want_chunk = end.and_then(|e| cuts.windows(2).position(|w| w[0] <= e && e < w[1]));
    ensure!(
        value_end_chunk == want_chunk,
        "value-end: ValueEnd closes in chunk {value_end_chunk:?}, the value ends in chunk {want_chunk:?} (cuts {cuts:?})"
    );
    Ok(())
}

/// `repair`: never panics, output bounded; valid JSON comes back unchanged in value;
/// generated near-JSON comes back as the value it was written from; a repair that parses
/// repairs to itself.
pub fn check_repair(case: &Case) -> Verdict {
    let (text, oracle) = case.text();
    let out = timed(|| repair(&text));
    if let Some((fixed, repairs)) = &out {
        ensure!(
            fixed.len() <= 6 * text.len() + 16,
            "bound: {} bytes repaired into {}",
            text.len(),
            fixed.len()
        );
        ensure!(!repairs.is_empty(), "repairs: Some with no repair named");
        let mut seen = repairs.clone();
        seen.dedup();
        ensure!(seen.len() == repairs.len(), "repairs: {repairs:?} repeats");
    }
    if let Some(v) = serde_container(text.as_bytes()) {
        if let Some((fixed, repairs)) = &out {
            let again: Result<Value, _> = serde_json::from_str(fixed);
            ensure!(
                again.as_ref().ok() == Some(&v),
                "differential: valid JSON repaired ({repairs:?}) into {fixed:?}: {again:?}"
            );
        }
    }
    if let Oracle::Repaired { value } = oracle {
        let fixed = out.as_ref().map_or(text.as_str(), |(f, _)| f.as_str());
        let got: Result<Value, _> = serde_json::from_str(fixed);
        ensure!(
            got.as_ref().ok() == Some(value),
            "oracle[{}]: near-JSON repaired into {fixed:?}: {got:?}, expected {value}",
            got.as_ref()
                .err()
                .map_or("another value".to_owned(), reason)
        );
    }
    if let Some((fixed, _)) = &out {
        if let Some(v) = serde_container(fixed.as_bytes()) {
            if let Some((twice, repairs)) = repair(fixed) {
                let again: Result<Value, _> = serde_json::from_str(&twice);
                ensure!(
                    again.as_ref().ok() == Some(&v),
                    "idempotent: a repair that parses was repaired again ({repairs:?}) into {twice:?}"
                );
            }
        }
    }
    Ok(())
}

/// One run of the streaming parser over `bytes` cut at `cuts`.
#[derive(Debug)]
struct Run {
    result: Result<(), String>,
    started: bool,
    complete: bool,
    snapshot: Option<Value>,
    span: Option<Range<usize>>,
    /// Every value reported: its JSON pointer, the value, its span.
    events: Vec<(String, Value, Range<usize>)>,
    /// Snapshots taken between chunks (not compared across chunkings).
    partial: Vec<Option<Value>>,
}

/// Two runs agree on the outcome, the events and, unless they failed (what a snapshot shows
/// after an error is not said), the value.
impl PartialEq for Run {
    fn eq(&self, other: &Self) -> bool {
        let value = |r: &Self| {
            r.result
                .is_ok()
                .then(|| (r.snapshot.clone(), r.span.clone()))
        };
        (
            &self.result,
            self.started,
            self.complete,
            &self.events,
            value(self),
        ) == (
            &other.result,
            other.started,
            other.complete,
            &other.events,
            value(other),
        )
    }
}

fn pointer(path: instructor::json::Path<'_>) -> String {
    let mut p = String::new();
    for i in 0..path.len() {
        p.push('/');
        match path.get(i) {
            Some(Seg::Key(k)) => p.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Some(Seg::Index(n)) => p.push_str(&n.to_string()),
            None => p.push('?'),
        }
    }
    p
}

fn run_stream(bytes: &[u8], cuts: &[usize]) -> Run {
    let mut p = JsonStream::new(Limits::default());
    let mut events = Vec::new();
    let mut on = |path: instructor::json::Path<'_>, v: &mut Value, span: Range<usize>| {
        events.push((pointer(path), v.clone(), span));
    };
    let mut result = Ok(());
    let mut partial = Vec::new();
    for w in cuts.windows(2) {
        if let Err(e) = p.feed(&bytes[w[0]..w[1]], &mut on) {
            result = Err(e.to_string());
            break;
        }
        // A snapshot may be taken at any time.
        if cuts.len() > 2 && bytes.len() < 4096 {
            partial.push(p.snapshot());
        }
    }
    if result.is_ok() {
        result = p.finish_input(&mut on).map_err(|e| e.to_string());
    }
    Run {
        result,
        started: p.is_started(),
        complete: p.is_complete(),
        snapshot: p.snapshot(),
        span: p.root_span(),
        events,
        partial,
    }
}

/// The parser made by `without_values`, fed the same chunks as `tree` was: the same
/// outcome, paths and spans, and after each chunk the snapshots read from the text (whole,
/// and through the cache) equal the tree's.
fn check_lean(bytes: &[u8], cuts: &[usize], tree: &Run) -> Verdict {
    let mut p = JsonStream::without_values(Limits::default());
    let mut events = Vec::new();
    let mut on = |path: instructor::json::Path<'_>, _: &mut Value, span: Range<usize>| {
        events.push((pointer(path), span));
    };
    let mut result = Ok(());
    let mut n = 0;
    for w in cuts.windows(2) {
        if let Err(e) = p.feed(&bytes[w[0]..w[1]], &mut on) {
            result = Err(e.to_string());
            break;
        }
        if cuts.len() > 2 && bytes.len() < 4096 {
            let fed = &bytes[..w[1]];
            let from_text = p.snapshot_from_text(fed);
            let cached = p.read_snapshot(fed, Value::clone);
            let want = tree.partial.get(n).cloned().flatten();
            ensure!(
                from_text == want,
                "lean-snapshot: after {} bytes (cuts {cuts:?}) the text gives {from_text:?}, the tree {want:?}",
                w[1]
            );
            ensure!(
                cached == from_text,
                "lean-cached: after {} bytes (cuts {cuts:?}) the cache gives {cached:?}, the text {from_text:?}",
                w[1]
            );
            n += 1;
        }
    }
    if result.is_ok() {
        result = p.finish_input(&mut on).map_err(|e| e.to_string());
    }
    ensure!(
        (&result, p.is_started(), p.is_complete(), p.root_span())
            == (&tree.result, tree.started, tree.complete, tree.span.clone()),
        "lean-outcome: without values {result:?} started={} complete={} span={:?}; with values {:?} started={} complete={} span={:?}",
        p.is_started(),
        p.is_complete(),
        p.root_span(),
        tree.result,
        tree.started,
        tree.complete,
        tree.span
    );
    let want: Vec<(&str, &Range<usize>)> = tree
        .events
        .iter()
        .map(|(p, _, s)| (p.as_str(), s))
        .collect();
    let got: Vec<(&str, &Range<usize>)> = events.iter().map(|(p, s)| (p.as_str(), s)).collect();
    ensure!(
        got == want,
        "lean-events: without values {got:?}; with values {want:?}"
    );
    let last = p.snapshot_from_text(bytes);
    ensure!(
        last == tree.snapshot,
        "lean-snapshot: at the end the text gives {last:?}, the tree {:?}",
        tree.snapshot
    );
    Ok(())
}

/// A `serde_json` error without its position, to tell failures apart.
fn reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Whether the parser may reject `rest` (the value, cut off) though serde_json ran out of
/// input first: serde_json checks a string's UTF-8 only at its end and a `\u` escape only
/// once its four digits are in. So: a string with invalid UTF-8, or an open string that
/// serde_json rejects once its escape and the string are completed.
fn rejected_early(rest: &[u8]) -> bool {
    if std::str::from_utf8(rest).is_err() {
        return true;
    }
    let (mut in_string, mut escaped, mut hex) = (false, false, 0);
    for &b in rest {
        match b {
            _ if hex > 0 => hex -= 1,
            b'u' if escaped => (escaped, hex) = (false, 4),
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            _ => {}
        }
    }
    if !in_string {
        return false;
    }
    let mut padded = rest.to_vec();
    if escaped {
        padded.push(b'n');
    }
    padded.extend(std::iter::repeat_n(b'0', hex));
    padded.push(b'"');
    serde_json::from_slice::<Value>(&padded).is_err_and(|e| !e.is_eof())
}

/// `JsonStream`: the same events, value and span for any chunking; each reported value's
/// span parses to it; against `serde_json` reading the first value where the locator says
/// it starts: a value serde_json reads is read the same (span included), input serde_json
/// rejects is never accepted, and the parser waits only where serde_json ran out of input.
pub fn check_stream(case: &Case) -> Verdict {
    let bytes = &case.bytes[..];
    timed(|| {
        let mut p = JsonStream::new(Limits::default());
        let fed = p.feed(bytes, &mut |_, _, _| {});
        let tree = (
            fed.is_ok() && p.finish_input(&mut |_, _, _| {}).is_ok(),
            p.snapshot(),
        );
        let mut p = JsonStream::without_values(Limits::default());
        let fed = p.feed(bytes, &mut |_, _, _| {});
        (tree, fed.is_ok(), p.snapshot_from_text(bytes))
    });
    let whole = run_stream(bytes, &[0, bytes.len()]);
    let mut rng = Rng::new(hash(bytes));
    let cuts = cuts(&mut rng, bytes.len());
    let split = run_stream(bytes, &cuts);
    ensure!(
        whole == split,
        "chunks: whole {whole:?}\nsplit at {cuts:?} {split:?}"
    );
    if let (Some(last), true) = (&split.snapshot, split.complete) {
        let mut pointers: Vec<&str> = split.events.iter().map(|e| e.0.as_str()).collect();
        pointers.sort_unstable();
        let repeated = pointers.windows(2).any(|w| w[0] == w[1]);
        for (n, snapshot) in split.partial.iter().enumerate() {
            ensure!(
                repeated || snapshot.as_ref().is_none_or(|s| grows_into(s, last)),
                "partial: snapshot {n} (cuts {cuts:?}) {snapshot:?} does not grow into {last}"
            );
        }
    }
    if split.result.is_ok() {
        check_lean(bytes, &cuts, &split)?;
    }
    let run = whole;
    ensure!(
        !run.complete || run.result.is_ok(),
        "state: complete and an error"
    );
    ensure!(
        run.complete == run.span.is_some(),
        "state: complete={} with span {:?}",
        run.complete,
        run.span
    );
    for (ptr, v, span) in &run.events {
        let Some(text) = bytes.get(span.clone()) else {
            return Err(format!(
                "span: {ptr} spans {span:?} of {} bytes",
                bytes.len()
            ));
        };
        let parsed: Result<Value, _> = serde_json::from_slice(text);
        ensure!(
            parsed.as_ref().ok() == Some(v),
            "span[{}]: {ptr} = {v} spans {} which serde_json reads as {parsed:?}",
            parsed.as_ref().err().map(reason).unwrap_or_default(),
            shown(text)
        );
    }
    let mut locator = Locator::new();
    let start = bytes.iter().position(|&b| locator.byte(b));
    ensure!(
        run.started == start.is_some(),
        "started: parser says {}, the locator finds {start:?}",
        run.started
    );
    if let Some(s) = start {
        let rest = &bytes[s..];
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Value>();
        let first = values.next();
        let read = values.byte_offset();
        match first {
            Some(Ok(v)) => ensure!(
                run.result.is_ok()
                    && run.snapshot.as_ref() == Some(&v)
                    && run.span == Some(s..s + read),
                "differential: serde_json reads {v} from {:?}; the parser gives {:?} {:?} {:?}",
                s..s + read,
                run.result,
                run.snapshot,
                run.span
            ),
            Some(Err(e)) if e.is_eof() => {
                ensure!(
                    !run.complete,
                    "differential: serde_json runs out of input ({e}); the parser completes"
                );
                if let Err(err) = &run.result {
                    ensure!(
                        rejected_early(rest),
                        "early: serde_json runs out of input ({e}); the parser rejects it: {err}"
                    );
                }
            }
            Some(Err(e)) => {
                let why = reason(&e);
                ensure!(
                    !run.complete,
                    "accepts[{why}]: serde_json rejects the value ({e}); the parser accepts {:?} at {:?}",
                    run.snapshot,
                    run.span
                );
                if run.result.is_ok() {
                    // Only a number or literal still being read may wait: it ends at a space.
                    let mut more = bytes.to_vec();
                    more.push(b' ');
                    let after = run_stream(&more, &[0, more.len()]);
                    ensure!(
                        after.result.is_err(),
                        "waits[{why}]: serde_json rejects the value ({e}); the parser waits, even after a space"
                    );
                }
            }
            None => return Err("differential: serde_json finds no value".into()),
        }
    }
    if let Some(v) = serde_container(bytes) {
        ensure!(
            run.result.is_ok()
                && run.snapshot.as_ref() == Some(&v)
                && run.span == Some(trimmed(bytes)),
            "differential: serde_json accepts the input; the parser gives {:?} {:?} {:?}",
            run.result,
            run.snapshot,
            run.span
        );
    }
    if let Oracle::Located { range, value } = &case.oracle {
        if serde_json::from_slice::<Value>(&bytes[range.clone()]).is_ok() {
            ensure!(
                run.snapshot.as_ref() == Some(value) && run.span.as_ref() == Some(range),
                "oracle: the answer is {range:?}; the parser gives {:?} {:?} {:?}",
                run.result,
                run.span,
                run.snapshot
            );
        }
    }
    if let (Some(root), true) = (&run.snapshot, run.complete && run.events.len() <= 256) {
        check_paths(root, &run.events)?;
    }
    Ok(())
}

/// Whether a snapshot `s` can grow into the final value `f`: strings extend, containers
/// gain members, everything else is already final.
fn grows_into(s: &Value, f: &Value) -> bool {
    match (s, f) {
        (Value::String(a), Value::String(b)) => b.starts_with(a.as_str()),
        (Value::Array(a), Value::Array(b)) => {
            a.len() <= b.len() && a.iter().zip(b).all(|(x, y)| grows_into(x, y))
        }
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| grows_into(v, w))),
        (a, b) => a == b,
    }
}

/// The last value reported at each path is the value found there in the root, once values
/// a repeated key replaced are set aside.
fn check_paths(root: &Value, events: &[(String, Value, Range<usize>)]) -> Verdict {
    let mut live: Vec<&(String, Value, Range<usize>)> = Vec::new();
    for e in events {
        let (ptr, _, span) = e;
        let inside = |s: &Range<usize>| span.start <= s.start && s.end <= span.end;
        live.retain(|(p, _, s)| {
            !(p == ptr
                || (p.starts_with(ptr.as_str()) && p[ptr.len()..].starts_with('/') && !inside(s)))
        });
        live.push(e);
    }
    for (ptr, v, _) in live {
        ensure!(
            root.pointer(ptr) == Some(v),
            "path: {ptr} was reported as {v}; the root holds {:?} there",
            root.pointer(ptr)
        );
    }
    Ok(())
}
