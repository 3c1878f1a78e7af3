//! Configuration as plain data: the defaults a [`Client`](crate::Client) holds, the
//! settings one call runs with once merged, and how transport failures are retried.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::json::Limits;
use crate::{Error, Mode};

/// Sampling settings the core passes through to the provider untouched.
#[derive(Clone, Debug, Default)]
pub(crate) struct Sampling {
    pub top_p: Option<f32>,
    pub seed: Option<u64>,
    pub stop: Vec<String>,
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Sampling {
    /// Sets `extra` from a JSON value; anything but an object is kept as a configuration
    /// error for the call to report.
    pub fn set_extra(&mut self, extra: serde_json::Value) -> Result<(), Error> {
        match extra {
            serde_json::Value::Object(map) => {
                self.extra = Some(map);
                Ok(())
            }
            other => Err(Error::Config(format!(
                "`extra` must be a JSON object to merge into the request body, not {other}"
            ))),
        }
    }
}

/// Defaults every call starts from.
#[derive(Clone)]
pub(crate) struct Settings {
    pub model: Option<String>,
    pub mode: Option<Mode>,
    pub max_retries: u32,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub sampling: Sampling,
    pub config_error: Option<String>,
    pub timeout: Option<Duration>,
    pub stream_timeout: Option<Duration>,
    pub idle_timeout: Option<Duration>,
    pub transport: RetryPolicy,
    pub repair: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            model: None,
            mode: None,
            max_retries: 2,
            temperature: None,
            max_tokens: None,
            sampling: Sampling::default(),
            config_error: None,
            timeout: None,
            stream_timeout: None,
            idle_timeout: None,
            transport: RetryPolicy::default(),
            repair: true,
        }
    }
}

/// Per-call settings, already merged with the client's.
pub(crate) struct Call {
    pub model: Option<String>,
    pub mode: Option<Mode>,
    pub max_retries: u32,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub sampling: Sampling,
    pub limits: Limits,
    /// The longest one streamed answer may take, start to end.
    pub stream_timeout: Duration,
    /// The longest a stream may go without a new byte of the answer.
    pub idle_timeout: Duration,
    /// The caller's value for validators (`ValidationContext::value`).
    pub context: Option<Arc<dyn Any + Send + Sync>>,
}

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
    pub(crate) fn delay(&self, n: u32, error: &Error) -> Duration {
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
