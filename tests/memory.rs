//! Peak memory of large answers, measured by a counting allocator: an extraction holds at
//! most two or three copies of an answer (the provider's text, the value, and for a failed
//! attempt the copy kept with the error beside the one in the conversation), never a
//! `Vec<char>` of it or a copy per step.

#![allow(unsafe_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use instructor::{
    async_trait, Capabilities, Client, Error, Instruct, Mode, Provider, Request, Response,
    ToolArguments, ToolCall,
};
use serde::Deserialize;

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// A document.
#[derive(Instruct, Deserialize, Debug)]
struct Doc {
    #[instruct(length(max = 100))]
    text: String,
}

/// A document without a length limit.
#[derive(Instruct, Deserialize, Debug)]
struct Big {
    text: String,
}

const SIZE: usize = 10 << 20;

/// Answers every request with a fresh copy of `answer` (as an HTTP provider's parsed text
/// would be), as text or as tool arguments, and keeps nothing.
#[derive(Debug)]
struct Fresh {
    answer: Arc<str>,
    tools: bool,
}

#[async_trait]
impl Provider for Fresh {
    fn name(&self) -> &str {
        "fresh"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new(&[Mode::Json, Mode::Tools])
    }
    async fn send(&self, _: &Request) -> Result<Response, Error> {
        let text = self.answer.to_string();
        Ok(if self.tools {
            Response::tool_calls(vec![ToolCall {
                id: "c".into(),
                name: "x".into(),
                arguments: ToolArguments::Text(text),
            }])
        } else {
            Response::text(text)
        })
    }
}

/// The peak bytes above the starting point while `f` runs, in answer sizes.
fn peak<F: std::future::Future>(f: F) -> (f64, F::Output) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = rt.block_on(f);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    (peak as f64 / SIZE as f64, out)
}

fn answer(tail: &str) -> Arc<str> {
    Arc::from(format!("{{\"text\": \"{}\"{tail}", "a".repeat(SIZE)))
}

/// A client of a `Fresh` provider whose answer ends with `tail`.
fn fresh(tail: &str, tools: bool) -> Client {
    Client::new(Fresh {
        answer: answer(tail),
        tools,
    })
}

#[test]
fn a_large_answer_is_held_at_most_two_or_three_times() {
    for tools in [false, true] {
        let mode = if tools { Mode::Tools } else { Mode::Json };

        // Valid: the provider's text and the value. Repaired: the text, the repaired text
        // and the value.
        for (case, tail, limit) in [("valid", "}", 2.2), ("repaired", ",}", 3.2)] {
            let client = fresh(tail, tools);
            let (copies, out) = peak(client.create::<Big>().mode(mode).user("x").send());
            assert_eq!(out.unwrap().text.len(), SIZE);
            assert!(copies < limit, "{case} answer ({mode}): {copies:.2} copies");
            println!("{case} ({mode}): {copies:.2} copies at peak");
        }

        // Two re-asks, three invalid answers of S bytes each: each failed answer is held in
        // the conversation and once in its attempt; the answer being judged twice.
        let client = fresh("}", tools).max_retries(2);
        let (copies, out) = peak(client.create::<Doc>().mode(mode).user("x").send());
        let Err(Error::RetriesExhausted { attempts, .. }) = out else {
            panic!("{out:?}")
        };
        assert_eq!(attempts.len(), 3);
        assert!(attempts.iter().all(|a| a.raw.len() > SIZE));
        drop(attempts);
        assert!(
            copies < 6.5,
            "two re-asks ({mode}): {copies:.2} copies for three answers"
        );
        println!("two re-asks ({mode}): {copies:.2} copies at peak for three answers");
    }
}
