//! API keys, held so that they never show up in `Debug` output, errors, logs or URLs.

use std::fmt;

/// An API key. Its `Debug` and `Display` print `ApiKey(****)`; the key itself is only
/// read when a request header is built, and that header is marked sensitive.
///
/// ```
/// use instructor_providers::ApiKey;
/// let key = ApiKey::new("sk-secret-123");
/// assert_eq!(format!("{key:?}"), "ApiKey(****)");
/// assert!(!format!("{key}").contains("secret"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    ///
    /// ```
    /// let key = instructor_providers::ApiKey::new("k");
    /// # let _ = key;
    /// ```
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// Reads a key from an environment variable; `None` when unset or empty.
    ///
    /// ```
    /// assert!(instructor_providers::ApiKey::from_env("SURELY_UNSET_VARIABLE_42").is_none());
    /// ```
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .map(|k| Self(k.trim().to_owned()))
    }

    /// The key itself, for building a header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}
