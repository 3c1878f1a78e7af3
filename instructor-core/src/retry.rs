//! The transport retry loop: transient failures (connect errors, timeouts, 429, 5xx) are
//! retried with exponential backoff and jitter, `Retry-After` honoured, bounded in count and
//! in total time. Everything else is returned at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::Future;

use crate::{Error, Event, EventStream, Hook, Provider, Request, Response};

/// How transient transport failures are retried.
///
/// ```
/// use std::time::Duration;
/// use instructor_core::RetryPolicy;
/// let p = RetryPolicy { max_retries: 5, ..RetryPolicy::default() };
/// assert_eq!(p.initial_backoff, Duration::from_millis(250));
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first try.
    pub max_retries: u32,
    /// The first wait; each further wait doubles, up to `max_backoff`.
    pub initial_backoff: Duration,
    /// The longest computed wait (a server's `Retry-After` may ask for more).
    pub max_backoff: Duration,
    /// No retry starts after this much time since the first try, and no wait reaches past it.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No transport retries.
    ///
    /// ```
    /// assert_eq!(instructor_core::RetryPolicy::none().max_retries, 0);
    /// ```
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The wait before retry `n` (0-based): the server's `Retry-After` if it gave one,
    /// else exponential backoff with "equal jitter" (between half and all of the step).
    fn delay(&self, n: u32, error: &Error) -> Duration {
        if let Error::RateLimited {
            retry_after: Some(d),
            ..
        } = error
        {
            return *d;
        }
        let step = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(n).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }
}

/// Sends `request`, retrying transient failures as `policy` allows; each try is bounded by
/// `timeout`.
pub(crate) async fn send(
    provider: &dyn Provider,
    request: &Request,
    policy: &RetryPolicy,
    timeout: Option<Duration>,
    hooks: &[Arc<dyn Hook>],
    attempt: u32,
) -> Result<(Response, Duration), Error> {
    retrying(policy, timeout, hooks, request, attempt, || {
        provider.send(request)
    })
    .await
}

/// Opens a streamed answer with the same retries (a stream that fails mid-way is not
/// retried: part of it has been shown already).
pub(crate) async fn open(
    provider: &dyn Provider,
    request: &Request,
    policy: &RetryPolicy,
    timeout: Option<Duration>,
    hooks: &[Arc<dyn Hook>],
    attempt: u32,
) -> Result<EventStream, Error> {
    retrying(policy, timeout, hooks, request, attempt, || {
        provider.stream(request)
    })
    .await
    .map(|(s, _)| s)
}

/// The retry loop around one kind of call.
async fn retrying<R, F, Fut>(
    policy: &RetryPolicy,
    timeout: Option<Duration>,
    hooks: &[Arc<dyn Hook>],
    request: &Request,
    attempt: u32,
    mut call: F,
) -> Result<(R, Duration), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    let started = Instant::now();
    let mut try_number = 0;
    loop {
        for h in hooks {
            h.on_event(&Event::RequestSent {
                attempt,
                try_number,
                mode: request.output.mode,
                request,
            });
        }
        tracing::debug!(attempt, try_number, "sending request");
        let sent = Instant::now();
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, call()).await {
                Ok(r) => r,
                Err(_) => Err(Error::Timeout),
            },
            None => call().await,
        };
        let error = match result {
            Ok(response) => return Ok((response, sent.elapsed())),
            Err(e) => e,
        };
        if !error.is_transient() || try_number >= policy.max_retries {
            tracing::warn!(attempt, try_number, error = %error, status = error.status(), "request failed");
            return Err(error);
        }
        let delay = policy.delay(try_number, &error);
        // A server may ask for any wait at all: the budget decides, without overflow.
        if started.elapsed().saturating_add(delay) > policy.max_elapsed {
            tracing::warn!(attempt, try_number, error = %error, "request failed; retry budget spent");
            return Err(error);
        }
        tracing::warn!(attempt, try_number, error = %error, delay_ms = delay.as_millis() as u64, "transient failure; retrying");
        for h in hooks {
            h.on_event(&Event::TransportRetry {
                attempt,
                try_number,
                error: &error,
                delay,
            });
        }
        tokio::time::sleep(delay).await;
        try_number += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let e = Error::Timeout;
        for n in 0..20 {
            let d = p.delay(n, &e);
            let step = (p.initial_backoff * 2u32.saturating_pow(n)).min(p.max_backoff);
            assert!(
                d >= step / 2 && d <= step,
                "try {n}: {d:?} not within [{:?}, {step:?}]",
                step / 2
            );
        }
        let limited = Error::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
            body: String::new(),
        };
        assert_eq!(p.delay(0, &limited), Duration::from_secs(30));
    }
}
