//! The transport retry loop: transient failures (connect errors, timeouts, 429, 5xx) are
//! retried with exponential backoff and jitter, `Retry-After` honoured, bounded in count and
//! in total time. Everything else is returned at once.

use std::future::Future;
use std::time::{Duration, Instant};

use super::Ctx;
use crate::engine::Prepared;
use crate::settings::Settings;
use crate::{Error, Event, EventStream, Instruct, Response};

/// Sends the attempt's request, retrying transient failures as the client's policy allows;
/// each try is bounded by the client's `timeout`.
pub(crate) async fn send<T: Instruct>(
    ctx: Ctx<'_>,
    prepared: &Prepared<T>,
) -> Result<(Response, Duration), Error> {
    let request = prepared.request();
    retrying(ctx.settings, prepared, || ctx.provider.send(request)).await
}

/// Opens a streamed answer with the same retries (a stream that fails mid-way is not
/// retried: part of it has been shown already).
pub(crate) async fn open<T: Instruct>(
    ctx: Ctx<'_>,
    prepared: &Prepared<T>,
) -> Result<EventStream, Error> {
    let request = prepared.request();
    retrying(ctx.settings, prepared, || ctx.provider.stream(request))
        .await
        .map(|(s, _)| s)
}

/// The retry loop around one kind of call.
async fn retrying<T: Instruct, R, F, Fut>(
    settings: &Settings,
    prepared: &Prepared<T>,
    mut call: F,
) -> Result<(R, Duration), Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    let (policy, timeout) = (&settings.transport, settings.timeout);
    let (request, hooks, attempt) = (prepared.request(), prepared.hooks(), prepared.attempt());
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
