//! The loop every target runs: draw an input from the seed, run the checks under
//! `catch_unwind`, count panics (crashes) and failed checks (mismatches), time each input,
//! save and shrink the first failures, print one summary line.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant};

use crate::gen::Case;
use crate::rng::Rng;

/// A check's verdict: `Err` names the broken property first (`"label: details"`).
pub type Verdict = Result<(), String>;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
    static TIMED: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Runs the code under test, timing it: an input's time is that of its timed calls, not
/// of the checks around them.
pub fn timed<T>(f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    let took = t.elapsed();
    TIMED.with(|d| d.set(Some(d.get().unwrap_or_default() + took)));
    out
}

/// Runs a check; its failure, and the time of the code under test (the timed calls, or the
/// whole check when it timed none).
fn run_timed(check: fn(&Case) -> Verdict, case: &Case) -> (Option<Failure>, Duration) {
    TIMED.with(|d| d.set(None));
    let t = Instant::now();
    let failure = run_one(check, case);
    let whole = t.elapsed();
    (failure, TIMED.with(Cell::get).unwrap_or(whole))
}

/// While fuzzing, a panic's message is kept for the report instead of printed.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if QUIET.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let payload = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = format!("{payload}{location}"));
            } else {
                previous(info);
            }
        }));
    });
}

#[derive(Debug, Clone, PartialEq)]
enum Failure {
    Crash(String),
    Mismatch(String),
}

impl Failure {
    fn kind(&self) -> &str {
        match self {
            Failure::Crash(_) => "crash",
            Failure::Mismatch(m) => m.split(':').next().unwrap_or(m),
        }
    }
}

fn run_one(check: fn(&Case) -> Verdict, case: &Case) -> Option<Failure> {
    QUIET.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| check(case)));
    QUIET.with(|q| q.set(false));
    match result {
        Ok(Ok(())) => None,
        Ok(Err(m)) => Some(Failure::Mismatch(m)),
        Err(_) => Some(Failure::Crash(LAST_PANIC.with(|p| p.borrow().clone()))),
    }
}

/// Drops chunks of the input while the same kind of failure remains (without the generator's
/// oracle, so only failures the bytes alone show are shrunk).
fn minimize(check: fn(&Case) -> Verdict, bytes: &[u8], failure: &Failure) -> Option<Vec<u8>> {
    let same = |b: &[u8]| {
        run_one(check, &Case::plain(b.to_vec())).is_some_and(|f| f.kind() == failure.kind())
    };
    if !same(bytes) {
        return None;
    }
    let mut current = bytes.to_vec();
    let mut chunk = current.len().div_ceil(2).max(1);
    let mut budget = 20_000;
    loop {
        let mut progressed = false;
        let mut i = 0;
        while i < current.len() && budget > 0 {
            let mut candidate = current.clone();
            candidate.drain(i..(i + chunk).min(current.len()));
            budget -= 1;
            if same(&candidate) {
                current = candidate;
                progressed = true;
            } else {
                i += chunk;
            }
        }
        if budget == 0 || (!progressed && chunk == 1) {
            break;
        }
        if !progressed {
            chunk = chunk.div_ceil(2);
        }
    }
    Some(current)
}

/// How many of the slowest and of the largest inputs are timed again at the end.
const SLOW_KEPT: usize = 32;

/// Keeps `item` among the `SLOW_KEPT` greatest of `top` (sorted, greatest last).
fn keep_top<T: PartialOrd>(top: &mut Vec<(T, u64)>, item: (T, u64)) {
    if top.len() == SLOW_KEPT {
        if top.first().is_some_and(|t| item.0 <= t.0) {
            return;
        }
        top.remove(0);
    }
    let at = top.partition_point(|t| t.0 < item.0);
    top.insert(at, item);
}

/// The seed of input `i` of a run.
fn input_seed(seed: u64, i: u64) -> u64 {
    seed ^ i.wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

fn env_number(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn crash_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(|p| p.join("fuzz-crashes"))
        .unwrap_or_else(|| PathBuf::from("fuzz-crashes"))
}

/// Shows bytes as a Rust byte string, shortened.
pub fn shown(bytes: &[u8]) -> String {
    let s: String = bytes.escape_ascii().to_string();
    if s.len() > 400 {
        format!("b\"{}…\" ({} bytes)", &s[..400], bytes.len())
    } else {
        format!("b\"{s}\"")
    }
}

fn fmt_duration(d: Duration) -> String {
    if d.as_secs() >= 1 {
        format!("{:.2} s", d.as_secs_f64())
    } else if d.as_millis() >= 1 {
        format!("{:.2} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}

/// Runs one target: `FUZZ_ITERS` inputs (default `default_iters`) drawn from `FUZZ_SEED`.
/// With `FUZZ_REPLAY=<file>`, only the target the file is named after runs, on that file.
pub fn fuzz(
    name: &str,
    default_iters: u64,
    generate: fn(&mut Rng) -> Case,
    check: fn(&Case) -> Verdict,
) {
    install_hook();
    if let Ok(path) = std::env::var("FUZZ_REPLAY") {
        let file = PathBuf::from(&path);
        let stem = file
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        if !stem.starts_with(&format!("{name}-")) {
            return;
        }
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{path}: {e}"));
        let case = Case::plain(bytes.clone());
        let mut took = Duration::MAX;
        let mut failure = None;
        for _ in 0..3 {
            let (f, t) = run_timed(check, &case);
            failure = f;
            took = took.min(t);
        }
        println!(
            "fuzz {name}: replay of {path} ({} bytes, {}): {failure:?}\n  input: {}",
            bytes.len(),
            fmt_duration(took),
            shown(&bytes)
        );
        assert!(failure.is_none(), "{name}: {failure:?}");
        return;
    }
    let iters = env_number("FUZZ_ITERS").unwrap_or(default_iters);
    let seed = env_number("FUZZ_SEED").unwrap_or(0x5EED_F00D);
    let mut crashes = 0u64;
    let mut mismatches = 0u64;
    let mut saved = 0;
    let mut failures = Vec::new();
    // The slowest inputs so far and the largest (time or length, input number): candidates
    // for the slowest input, timed again at the end.
    let mut slow: Vec<(Duration, u64)> = Vec::new();
    let mut large: Vec<(usize, u64)> = Vec::new();
    let started = Instant::now();
    for i in 0..iters {
        let mut rng = Rng::new(input_seed(seed, i));
        let case = generate(&mut rng);
        let (failure, took) = run_timed(check, &case);
        keep_top(&mut slow, (took, i));
        keep_top(&mut large, (case.bytes.len(), i));
        let Some(failure) = failure else { continue };
        match &failure {
            Failure::Crash(_) => crashes += 1,
            Failure::Mismatch(_) => mismatches += 1,
        }
        // Keep the first few failures, one per kind of broken property.
        if saved >= 10
            || failures
                .iter()
                .any(|(f, _): &(Failure, _)| f.kind() == failure.kind())
        {
            continue;
        }
        saved += 1;
        let dir = crash_dir();
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join(format!("{name}-{i}.bin"));
        let _ = std::fs::write(&file, &case.bytes);
        let min = minimize(check, &case.bytes, &failure);
        if let Some(min) = &min {
            let _ = std::fs::write(dir.join(format!("{name}-{i}.min.bin")), min);
        }
        let mut message = format!("{failure:?}");
        if message.len() > 1200 {
            let mut end = 1200;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        let text = format!(
            "fuzz {name}: input {i} (seed {seed:#x}) fails: {message}\n  input: {}\n  minimized: {}\n  saved: {}",
            shown(&case.bytes),
            min.as_deref().map_or_else(|| "(needs the generator's oracle)".to_owned(), shown),
            file.display(),
        );
        eprintln!("{text}");
        failures.push((failure, file.display().to_string()));
    }
    let total = started.elapsed();
    // The slowest candidates timed again, best of several runs each, so a pause of the
    // machine is not taken for a slow input; the slowest is kept for a look.
    let mut slowest = (0usize, Duration::ZERO, 0u64);
    let mut candidates: Vec<u64> = slow
        .iter()
        .map(|s| s.1)
        .chain(large.iter().map(|l| l.1))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    for i in candidates {
        let case = generate(&mut Rng::new(input_seed(seed, i)));
        let took = (0..5)
            .map(|_| run_timed(check, &case).1)
            .min()
            .unwrap_or_default();
        if took >= slowest.1 {
            slowest = (case.bytes.len(), took, i);
            let file = crash_dir()
                .with_file_name("fuzz-slowest")
                .join(format!("{name}-slowest.bin"));
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = std::fs::write(&file, &case.bytes);
        }
    }
    println!(
        "fuzz {name}: {iters} executions, {crashes} crashes, {mismatches} mismatches, slowest input {} bytes in {} (#{}), total {} (seed {seed:#x})",
        slowest.0,
        fmt_duration(slowest.1),
        slowest.2,
        fmt_duration(total),
    );
    assert!(
        crashes + mismatches == 0,
        "{name}: {crashes} crashes, {mismatches} mismatches (reported above); first ones: {}",
        failures
            .iter()
            .map(|(f, file)| format!("{} in {file}", f.kind()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
