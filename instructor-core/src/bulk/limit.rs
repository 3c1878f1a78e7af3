//! The adaptive limit of a bulk run: how many items may run at once, halved when the server
//! pushes back (429, 503, 529) and grown by one after as many successes in a row as the
//! limit, up to the configured concurrency. Every worker waits out the server's
//! `Retry-After` before starting another item.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::Error;

/// Whether `error` is the server asking for less: a 429, a 503 or a 529 (overloaded).
pub(crate) fn is_push_back(error: &Error) -> bool {
    match error.root() {
        Error::RateLimited { .. } => true,
        Error::Http { status, .. } => matches!(status, 503 | 529),
        _ => false,
    }
}

/// The wait the server asked for, if it said.
pub(crate) fn retry_after(error: &Error) -> Option<Duration> {
    match error.root() {
        Error::RateLimited { retry_after, .. } => *retry_after,
        _ => None,
    }
}

/// The limit shared by a run's workers. Permits of `gate` are the free slots: the limit is
/// lowered by forgetting permits (or, when they are all taken, by forgetting them as they
/// come back: the `debt`), and raised by adding one.
pub(crate) struct Limiter {
    max: usize,
    adaptive: bool,
    gate: Arc<Semaphore>,
    /// Set while a `resume_at` may be in force, so that starting an item needs no lock
    /// otherwise.
    paused: AtomicBool,
    state: Mutex<State>,
}

struct State {
    limit: usize,
    /// Permits to forget as they are returned.
    debt: usize,
    /// Successes since the last push-back or growth.
    successes: usize,
    /// No item starts before this.
    resume_at: Option<Instant>,
}

/// One running item's slot; returned (or forgotten, if the limit fell) when dropped.
pub(crate) struct Slot {
    limiter: Arc<Limiter>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let mut s = self.limiter.lock();
            if s.debt > 0 {
                s.debt -= 1;
                permit.forget();
            }
        }
    }
}

impl Limiter {
    /// A limit starting (and capped) at `max`; fixed at `max` unless `adaptive`.
    pub(crate) fn new(max: usize, adaptive: bool) -> Self {
        let max = max.max(1);
        Self {
            max,
            adaptive,
            gate: Arc::new(Semaphore::new(if adaptive { max } else { 0 })),
            paused: AtomicBool::new(false),
            state: Mutex::new(State {
                limit: max,
                debt: 0,
                successes: 0,
                resume_at: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        super::lock(&self.state)
    }

    /// The limit now.
    pub(crate) fn limit(&self) -> usize {
        self.lock().limit
    }

    /// Waits for a free slot, then for any `Retry-After` in force to pass. (Without
    /// adaptation the run's buffer alone bounds it, and this returns at once.)
    pub(crate) async fn acquire(self: &Arc<Self>) -> Slot {
        let permit = if self.adaptive {
            // A free permit is taken at once (the async path spends the task's cooperative
            // budget, and one task polls the whole run). The gate is never closed, so the
            // wait only fails if it were; the item runs regardless.
            match Arc::clone(&self.gate).try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => Arc::clone(&self.gate).acquire_owned().await.ok(),
            }
        } else {
            None
        };
        while let Some(at) = self.resuming_at() {
            tokio::time::sleep_until(at).await;
        }
        Slot {
            limiter: Arc::clone(self),
            permit,
        }
    }

    fn resuming_at(&self) -> Option<Instant> {
        if !self.paused.load(Ordering::Acquire) {
            return None;
        }
        let mut s = self.lock();
        let at = s.resume_at.filter(|at| *at > Instant::now());
        if at.is_none() {
            s.resume_at = None;
            self.paused.store(false, Ordering::Release);
        }
        at
    }

    /// The server pushed back: halve the limit (unless a back-off is already in force, so
    /// that one burst of refusals counts once) and hold every new item for `wait`.
    pub(crate) fn push_back(&self, wait: Option<Duration>) {
        if !self.adaptive {
            return;
        }
        let now = Instant::now();
        let mut s = self.lock();
        s.successes = 0;
        let backing_off = s.resume_at.is_some_and(|at| at > now);
        if !backing_off && s.limit > 1 {
            let lower = (s.limit / 2).max(1);
            let cut = s.limit - lower;
            s.limit = lower;
            let forgotten = self.gate.forget_permits(cut);
            s.debt += cut - forgotten;
        }
        if let Some(wait) = wait {
            let at = now + wait;
            s.resume_at = Some(s.resume_at.map_or(at, |r| r.max(at)));
            self.paused.store(true, Ordering::Release);
        }
    }

    /// An item succeeded: after as many in a row as the limit, raise it by one.
    #[cfg(test)]
    fn success(&self) {
        Self::succeeded(&mut self.lock(), self.max, &self.gate);
    }

    fn succeeded(s: &mut State, max: usize, gate: &Semaphore) {
        s.successes += 1;
        if s.successes >= s.limit && s.limit < max {
            s.successes = 0;
            s.limit += 1;
            if s.debt > 0 {
                s.debt -= 1;
            } else {
                gate.add_permits(1);
            }
        }
    }

    /// Counts a finished item's result and frees its slot (in one lock, on success).
    pub(crate) fn finished<T>(&self, mut slot: Slot, result: &Result<T, Error>) {
        match result {
            Ok(_) if self.adaptive => {
                let mut s = self.lock();
                Self::succeeded(&mut s, self.max, &self.gate);
                if let Some(permit) = slot.permit.take() {
                    if s.debt > 0 {
                        s.debt -= 1;
                        permit.forget();
                    }
                }
            }
            Err(e) if is_push_back(e) => self.push_back(retry_after(e)),
            _ => {}
        }
        drop(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_once_per_back_off_and_grows_back() {
        let l = Arc::new(Limiter::new(8, true));
        let held: Vec<Slot> = futures::future::join_all((0..8).map(|_| l.acquire())).await;
        l.push_back(Some(Duration::from_millis(20)));
        l.push_back(Some(Duration::from_millis(20)));
        assert_eq!(l.limit(), 4, "one burst halves once");
        drop(held);
        assert_eq!(l.gate.available_permits(), 4);
        tokio::time::sleep(Duration::from_millis(25)).await;
        l.push_back(None);
        assert_eq!(l.limit(), 2);
        for _ in 0..2 + 3 + 4 + 5 + 6 + 7 {
            l.success();
        }
        assert_eq!(l.limit(), 8);
        assert_eq!(l.gate.available_permits(), 8);
    }

    #[test]
    fn push_back_errors() {
        assert!(is_push_back(&Error::Http {
            status: 529,
            body: String::new()
        }));
        assert!(!is_push_back(&Error::Timeout));
        let e = Error::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
            body: String::new(),
        };
        assert_eq!(retry_after(&e), Some(Duration::from_secs(2)));
    }
}
