//! One pool member: its provider, how many calls it has in flight, and its health
//! (consecutive transient failures, ejection, probe); the ticket a call holds on it, and
//! the stream wrapper that holds the ticket until the stream ends.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use instructor_core::provider::{EventStream, Provider, StreamEvent};
use instructor_core::Error;
use tokio::time::Instant;

/// When a member is set aside and when it is tried again.
#[derive(Debug, Clone, Copy)]
pub(super) struct Policy {
    /// Consecutive transient failures that eject a member (at least 1).
    pub eject_after: u32,
    /// How long an ejected member waits for its probe.
    pub probe_after: Duration,
}

/// A pool member.
#[derive(Debug)]
pub(super) struct Member {
    provider: Arc<dyn Provider>,
    in_flight: AtomicUsize,
    health: Mutex<Health>,
}

#[derive(Debug, Default)]
struct Health {
    /// Transient failures in a row.
    failures: u32,
    /// Set while ejected: when its probe is due.
    ejected_until: Option<Instant>,
    /// Whether a probe call is under way.
    probing: bool,
}

/// A snapshot of one pool member, from [`Pool::status`](super::Pool::status).
///
/// ```
/// use instructor_core::testing::ScriptedProvider;
/// use instructor_providers::Pool;
/// let pool = Pool::new([ScriptedProvider::new()]);
/// let status = &pool.status()[0];
/// assert_eq!(status.identity, "scripted");
/// assert_eq!((status.in_flight, status.ejected), (0, false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberStatus {
    /// The member's [`cache_identity`](Provider::cache_identity) (its name and endpoint).
    pub identity: String,
    /// Calls (and open streams) it has under way.
    pub in_flight: usize,
    /// Transient failures in a row.
    pub consecutive_failures: u32,
    /// Whether it is set aside, waiting for (or in) its probe.
    pub ejected: bool,
}

/// Locks a mutex, taking the data even if a thread panicked while holding it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Member {
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        Self {
            provider,
            in_flight: AtomicUsize::new(0),
            health: Mutex::new(Health::default()),
        }
    }

    pub fn provider(&self) -> &Arc<dyn Provider> {
        &self.provider
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Whether it takes ordinary calls (it is not ejected).
    pub fn is_healthy(&self) -> bool {
        lock(&self.health).ejected_until.is_none()
    }

    /// When its probe is due, if it is ejected.
    pub fn probe_due(&self) -> Option<Instant> {
        lock(&self.health).ejected_until
    }

    /// Claims its probe if it is ejected, the probe is due and no probe is under way.
    pub fn try_claim_probe(&self, now: Instant) -> bool {
        let mut health = lock(&self.health);
        match health.ejected_until {
            Some(due) if due <= now && !health.probing => {
                health.probing = true;
                true
            }
            _ => false,
        }
    }

    /// Marks a probe under way whatever its state (every member is ejected and this one is
    /// tried anyway).
    pub fn force_probe(&self) {
        lock(&self.health).probing = true;
    }

    pub fn status(&self) -> MemberStatus {
        let health = lock(&self.health);
        MemberStatus {
            identity: self.provider.cache_identity(),
            in_flight: self.in_flight(),
            consecutive_failures: health.failures,
            ejected: health.ejected_until.is_some(),
        }
    }

    /// Records how a call ended: a transient error counts against it (ejecting it at
    /// `eject_after` in a row, or at once when it was a probe: its wait restarts); any
    /// answer (an error that is not transient is an answer too) clears its record.
    fn record(&self, error: Option<&Error>, probe: bool, policy: Policy) {
        let mut health = lock(&self.health);
        match error {
            Some(e) if e.is_transient() => {
                health.failures = health.failures.saturating_add(1);
                if probe || health.failures >= policy.eject_after.max(1) {
                    health.ejected_until = Some(Instant::now() + policy.probe_after);
                }
            }
            _ => {
                health.failures = 0;
                health.ejected_until = None;
            }
        }
        if probe {
            health.probing = false;
        }
    }
}

/// One call's hold on a member: counted in flight until dropped. A probe dropped before
/// its outcome was recorded (the call was cancelled) leaves the member ejected with its
/// probe due again.
#[derive(Debug)]
pub(super) struct Ticket {
    member: Arc<Member>,
    policy: Policy,
    probe: bool,
    recorded: bool,
}

impl Ticket {
    pub fn new(member: Arc<Member>, policy: Policy, probe: bool) -> Self {
        member.in_flight.fetch_add(1, Ordering::AcqRel);
        Self {
            member,
            policy,
            probe,
            recorded: false,
        }
    }

    pub fn provider(&self) -> Arc<dyn Provider> {
        self.member.provider.clone()
    }

    /// Records the call's outcome (`None`: it answered).
    pub fn record(&mut self, error: Option<&Error>) {
        let probe = self.probe && !self.recorded;
        self.member.record(error, probe, self.policy);
        self.recorded = true;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.member.in_flight.fetch_sub(1, Ordering::AcqRel);
        if self.probe && !self.recorded {
            lock(&self.member.health).probing = false;
        }
    }
}

/// A member's stream that keeps its call in flight until the stream ends or is dropped,
/// and counts a transient error in it against the member.
pub(super) struct Counted {
    inner: EventStream,
    ticket: Option<Ticket>,
}

impl Counted {
    pub fn new(inner: EventStream, ticket: Ticket) -> Self {
        Self {
            inner,
            ticket: Some(ticket),
        }
    }
}

impl Stream for Counted {
    type Item = Result<StreamEvent, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = this.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(None) => this.ticket = None,
            Poll::Ready(Some(Err(e))) if e.is_transient() => {
                if let Some(ticket) = &mut this.ticket {
                    ticket.record(Some(e));
                }
            }
            _ => {}
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use instructor_core::testing::ScriptedProvider;

    #[tokio::test]
    async fn a_stream_holds_its_member_until_it_ends_and_counts_broken_streams() {
        let member = Arc::new(Member::new(Arc::new(ScriptedProvider::new())));
        let policy = Policy {
            eject_after: 1,
            probe_after: Duration::from_secs(30),
        };
        let mut ticket = Ticket::new(member.clone(), policy, false);
        ticket.record(None);
        let events: EventStream = Box::pin(futures::stream::iter([
            Ok(StreamEvent::TextDelta("{".into())),
            Err(Error::Timeout),
        ]));
        let mut counted = Counted::new(events, ticket);
        assert_eq!(member.in_flight(), 1);
        assert!(counted.next().await.is_some_and(|e| e.is_ok()));
        assert!(member.is_healthy());
        assert!(counted.next().await.is_some_and(|e| e.is_err()));
        assert!(!member.is_healthy(), "a broken stream counts as a failure");
        assert!(counted.next().await.is_none());
        assert_eq!(
            member.in_flight(),
            0,
            "an ended stream is no longer in flight"
        );
    }

    #[test]
    fn a_cancelled_probe_leaves_the_probe_due() {
        let member = Arc::new(Member::new(Arc::new(ScriptedProvider::new())));
        let policy = Policy {
            eject_after: 1,
            probe_after: Duration::ZERO,
        };
        Ticket::new(member.clone(), policy, false).record(Some(&Error::Timeout));
        assert!(member.try_claim_probe(Instant::now()));
        assert!(
            !member.try_claim_probe(Instant::now()),
            "one probe at a time"
        );
        drop(Ticket::new(member.clone(), policy, true));
        assert!(member.try_claim_probe(Instant::now()));
    }
}
