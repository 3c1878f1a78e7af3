//! What the benches measure with: this thread's CPU time, and the peak heap of one run
//! (a counting global allocator). Included by each bench that needs it with
//! `#[path = "support/measure.rs"] mod measure;` (a folder without `main.rs` is no bench of
//! its own).

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
#[cfg(not(target_os = "linux"))]
use std::time::Instant;

/// Counts live and peak heap bytes while `COUNTING` is on (off while timing: the counters'
/// atomics would tax allocation-heavy clients more than the baseline).
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(l) };
        if COUNTING.load(Ordering::Relaxed) {
            let size = l.size() as isize;
            PEAK.fetch_max(
                LIVE.fetch_add(size, Ordering::Relaxed) + size,
                Ordering::Relaxed,
            );
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, l, new_size) };
        if !q.is_null() && COUNTING.load(Ordering::Relaxed) {
            let grown = new_size as isize - l.size() as isize;
            PEAK.fetch_max(
                LIVE.fetch_add(grown, Ordering::Relaxed) + grown,
                Ordering::Relaxed,
            );
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// This thread's CPU time in ms (wall time where the clock is not available).
#[cfg(target_os = "linux")]
pub fn cpu_ms() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to write.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0);
    t.sec as f64 * 1e3 + t.nsec as f64 / 1e6
}

#[cfg(not(target_os = "linux"))]
pub fn cpu_ms() -> f64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
}

/// Runs `run` with the allocator counting: its output, and the peak heap above the start in
/// bytes (memory allocated before the run and freed during it counts as negative, so the
/// peak is at least 0).
pub async fn peak_bytes<F: Future>(run: F) -> (F::Output, usize) {
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = run.await;
    COUNTING.store(false, Ordering::SeqCst);
    (out, PEAK.load(Ordering::SeqCst).max(0) as usize)
}
