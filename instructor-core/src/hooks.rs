//! User hooks: a callback told about each step of an extraction. Tracing spans and events
//! are emitted as well, independently of hooks.

use std::time::Duration;

use crate::{Error, Mode, Request, Response, ValidationErrors};

/// One step of an extraction, as a hook sees it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A request is about to be sent (`attempt` counts re-asks from 0, `try_number`
    /// transport retries of the same request from 0).
    RequestSent {
        /// Re-ask attempt.
        attempt: u32,
        /// Transport try of this attempt.
        try_number: u32,
        /// The mode.
        mode: Mode,
        /// The request.
        request: &'a Request,
    },
    /// A response arrived.
    ResponseReceived {
        /// Re-ask attempt.
        attempt: u32,
        /// The response.
        response: &'a Response,
        /// Time from send to answer.
        latency: Duration,
    },
    /// The answer could not be parsed.
    ParseError {
        /// Re-ask attempt.
        attempt: u32,
        /// The raw output.
        raw: &'a str,
        /// What was wrong.
        message: &'a str,
    },
    /// The answer failed validation.
    ValidationError {
        /// Re-ask attempt.
        attempt: u32,
        /// The raw output.
        raw: &'a str,
        /// Every failure.
        errors: &'a ValidationErrors,
    },
    /// A transient transport failure; the same request is sent again after `delay`.
    TransportRetry {
        /// Re-ask attempt.
        attempt: u32,
        /// The try that failed.
        try_number: u32,
        /// What failed.
        error: &'a Error,
        /// The wait before the next try.
        delay: Duration,
    },
    /// The model is asked again, with the error (`attempt` is the new attempt's number).
    Reask {
        /// The attempt about to start.
        attempt: u32,
    },
    /// The answer was found in the client's cache: no provider call is made.
    CacheHit {
        /// The entry's key.
        key: &'a crate::cache::CacheKey,
    },
    /// The answer that passed was stored in the client's cache.
    CacheStored {
        /// The entry's key.
        key: &'a crate::cache::CacheKey,
    },
    /// The cache failed (or held a corrupt entry); the call went on without it.
    CacheError {
        /// The entry's key.
        key: &'a crate::cache::CacheKey,
        /// What failed.
        error: &'a crate::cache::CacheError,
    },
}

/// Something told about every step of an extraction. Closures taking `&Event` are hooks.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
/// use instructor_core::{Event, Hook};
///
/// let sent = Arc::new(AtomicUsize::new(0));
/// let counter = sent.clone();
/// let hook = move |event: &Event<'_>| {
///     if let Event::RequestSent { .. } = event {
///         counter.fetch_add(1, Ordering::Relaxed);
///     }
/// };
/// # fn takes(_: impl Hook) {}
/// takes(hook);
/// ```
pub trait Hook: Send + Sync {
    /// Called for each event, in order, on the task running the extraction.
    fn on_event(&self, event: &Event<'_>);
}

impl<F> Hook for F
where
    F: Fn(&Event<'_>) + Send + Sync,
{
    fn on_event(&self, event: &Event<'_>) {
        self(event)
    }
}
