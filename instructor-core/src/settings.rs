//! Configuration as plain data: the defaults a [`Client`](crate::Client) holds, the
//! settings one call runs with once merged, and how transport failures are retried.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::cache::{CacheConfig, CacheUse};
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
    /// Sets `extra` from a JSON value; for anything but an object, the message of the
    /// configuration error the call reports.
    fn set_extra(&mut self, extra: serde_json::Value) -> Result<(), String> {
        match extra {
            serde_json::Value::Object(map) => {
                self.extra = Some(map);
                Ok(())
            }
            other => Err(format!(
                "`extra` must be a JSON object to merge into the request body, not {other}"
            )),
        }
    }
}

/// The setters a [`Client`](crate::Client) (its defaults) and a call (its overrides) share.
/// Each sets one member of the `Settings` behind `self.with`.
macro_rules! shared_setters {
    () => {
        /// The model name; a call's replaces the client's.
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).model("gpt-4o-mini");
        /// let call = client.create::<String>().model("gpt-4o");
        /// # let _ = call;
        /// ```
        pub fn model(self, model: impl Into<String>) -> Self {
            let model = model.into();
            self.with(|s| s.model = Some(model))
        }

        /// The mode (else the provider's default).
        ///
        /// ```
        /// # use instructor_core::{Client, Mode, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).mode(Mode::Tools);
        /// let call = client.create::<String>().mode(Mode::Json);
        /// # let _ = call;
        /// ```
        pub fn mode(self, mode: $crate::Mode) -> Self {
            self.with(|s| s.mode = Some(mode))
        }

        /// How many times the model is asked again after a parse or validation error: at
        /// most `n + 1` model calls per extraction (2 unless set).
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).max_retries(0);
        /// let call = client.create::<String>().max_retries(3);
        /// # let _ = call;
        /// ```
        pub fn max_retries(self, n: u32) -> Self {
            self.with(|s| s.max_retries = n)
        }

        /// The sampling temperature.
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).temperature(0.2);
        /// let call = client.create::<String>().temperature(0.0);
        /// # let _ = call;
        /// ```
        pub fn temperature(self, temperature: f32) -> Self {
            self.with(|s| s.temperature = Some(temperature))
        }

        /// The token limit of an answer.
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).max_tokens(512);
        /// let call = client.create::<String>().max_tokens(64);
        /// # let _ = call;
        /// ```
        pub fn max_tokens(self, max_tokens: u32) -> Self {
            self.with(|s| s.max_tokens = Some(max_tokens))
        }

        /// The nucleus-sampling mass (`top_p`).
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).top_p(0.9);
        /// let call = client.create::<String>().top_p(0.5);
        /// # let _ = call;
        /// ```
        pub fn top_p(self, top_p: f32) -> Self {
            self.with(|s| s.sampling.top_p = Some(top_p))
        }

        /// A sampling seed, for providers that take one (repeatable answers).
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).seed(42);
        /// let call = client.create::<String>().seed(7);
        /// # let _ = call;
        /// ```
        pub fn seed(self, seed: u64) -> Self {
            self.with(|s| s.sampling.seed = Some(seed))
        }

        /// Stop sequences; a call's replace the client's.
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).stop(["\n\n", "END"]);
        /// let call = client.create::<String>().stop(["END"]);
        /// # let _ = call;
        /// ```
        pub fn stop<S: Into<String>>(self, stop: impl IntoIterator<Item = S>) -> Self {
            let stop: Vec<String> = stop.into_iter().map(Into::into).collect();
            self.with(|s| s.sampling.stop = stop)
        }

        /// An object merged over the request body the provider sends, for parameters this
        /// crate does not model (its members replace the body's members of the same name);
        /// a call's replaces the client's. A value that is not an object makes the calls it
        /// applies to fail with [`Error::Config`](crate::Error::Config) before anything is
        /// sent; a provider without a request body (the local model) rejects a non-empty one.
        ///
        /// ```
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).extra(serde_json::json!({"logprobs": true}));
        /// let call = client.create::<String>().extra(serde_json::json!({"top_k": 20}));
        /// # let _ = call;
        /// ```
        pub fn extra(self, extra: serde_json::Value) -> Self {
            self.with(|s| s.set_extra(extra))
        }

        /// How long answers stored in the client's [cache](crate::cache) live (else the
        /// backend's own policy); a call's replaces the client's.
        ///
        /// ```
        /// # use std::time::Duration;
        /// # use instructor_core::{Client, testing::ScriptedProvider};
        /// let client = Client::new(ScriptedProvider::new()).cache_ttl(Duration::from_secs(3600));
        /// let call = client.create::<String>().cache_ttl(Duration::from_secs(60));
        /// # let _ = call;
        /// ```
        pub fn cache_ttl(self, ttl: std::time::Duration) -> Self {
            self.with(|s| s.cache_ttl = Some(ttl))
        }
    };
}
pub(crate) use shared_setters;

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
    pub cache: Option<CacheConfig>,
    pub cache_ttl: Option<Duration>,
    pub cache_use: CacheUse,
}

impl Settings {
    /// Sets `extra`; a value that is not an object is kept as the configuration error every
    /// call then reports.
    pub fn set_extra(&mut self, extra: serde_json::Value) {
        self.config_error = self.sampling.set_extra(extra).err();
    }
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
            cache: None,
            cache_ttl: None,
            cache_use: CacheUse::Use,
        }
    }
}

/// What one call runs with: the client's settings with the call's overrides applied
/// (shared with the client until the call overrides one), and what only a call sets.
pub(crate) struct Call {
    pub settings: Arc<Settings>,
    pub limits: Limits,
    /// The longest one streamed answer may take, start to end.
    pub stream_timeout: Duration,
    /// The longest a stream may go without a new byte of the answer.
    pub idle_timeout: Duration,
    /// The caller's value for validators (`ValidationContext::value`).
    pub context: Option<Arc<dyn Any + Send + Sync>>,
    /// A runtime schema to ask for instead of the type's own (`create_dynamic`).
    pub target: Option<crate::provider::SchemaRef>,
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
