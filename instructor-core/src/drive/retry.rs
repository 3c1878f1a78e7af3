//! The transport retry loop: transient failures (connect errors, timeouts, 429, 5xx) are
//! retried with exponential backoff and jitter, `Retry-After` honoured, bounded in count and
//! in total time. Everything else is returned at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::future::Future;

use crate::{Error, Event, EventStream, Hook, Provider, Request, Response, RetryPolicy};

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
