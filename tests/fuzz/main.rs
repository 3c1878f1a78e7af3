//! Fuzz targets for the answer locator, the repair pass, the streaming JSON parser and the
//! SSE / NDJSON decoders, on stable Rust: inputs generated and mutated from a seed, each
//! checked against `serde_json` (or a reference decoder) wherever that accepts it.
//!
//! ```sh
//! cargo test --test fuzz                       # the short fixed budget CI runs
//! FUZZ_ITERS=100000 FUZZ_SEED=7 cargo test --release --test fuzz -- --nocapture
//! FUZZ_REPLAY=target/fuzz-crashes/locate-12.bin cargo test --test fuzz
//! scripts/fuzz.sh [target]                     # long runs, 10 million inputs per target
//! ```
//!
//! Each target prints one line: executions, crashes (panics), mismatches (failed checks), the
//! slowest input (the time of the code under test, never asserted) and the total time. The
//! first failure of each kind is saved, with a shrunk copy, to
//! `target/fuzz-crashes/<target>-<n>.bin`, and the test fails; the slowest input is kept in
//! `target/fuzz-slowest/`. `tests/fuzz/README.md` has the figures of a long run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod corpus;
mod gen;
mod harness;
mod json;
mod rng;
mod sse;

use harness::fuzz;

/// The budgets of a plain `cargo test` (debug build): a few seconds per target.
const CI_ITERS: u64 = 20_000;
const CI_ITERS_STREAM: u64 = 2_000;

#[test]
fn locate() {
    fuzz("locate", CI_ITERS, corpus::json_case, json::check_locate);
}

#[test]
fn locator_chunks() {
    fuzz(
        "locator_chunks",
        CI_ITERS,
        corpus::json_case,
        json::check_locator,
    );
}

#[test]
fn repair() {
    fuzz("repair", CI_ITERS, corpus::json_case, json::check_repair);
}

#[test]
fn json_stream() {
    fuzz(
        "json_stream",
        CI_ITERS_STREAM,
        corpus::json_case,
        json::check_stream,
    );
}

#[test]
fn sse_events() {
    fuzz("sse_events", CI_ITERS, sse::sse_case, sse::check_sse);
}

#[test]
fn ndjson_lines() {
    fuzz(
        "ndjson_lines",
        CI_ITERS,
        sse::ndjson_case,
        sse::check_ndjson,
    );
}
