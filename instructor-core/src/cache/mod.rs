//! A response cache: repeat work is never paid twice. A [`Cache`] stores, under a
//! [`CacheKey`] hashed from everything that changes the answer, the provider's answer that
//! passed validation; a later identical call replays it through the same parse and
//! validation, costs no tokens and marks its [`Completion`](crate::Completion) as cached.
//!
//! ```
//! # #[cfg(feature = "memory-cache")] {
//! use instructor_core::{cache::MemoryCache, Client, testing::ScriptedProvider};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let provider = ScriptedProvider::new().with_text(r#"["red", "green"]"#);
//! let client = Client::new(provider).cache(MemoryCache::new(1000, 64 << 20));
//! let ask = || client.create::<Vec<String>>().user("Two colours").send_with_completion();
//! let (first, c1) = ask().await?;
//! let (again, c2) = ask().await?; // the provider is not asked again
//! assert_eq!(first, again);
//! assert!(!c1.cached && c2.cached);
//! assert_eq!(c2.usage.total_tokens, 0);
//! # Ok::<_, instructor_core::Error>(()) }).unwrap();
//! # }
//! ```
//!
//! Backends are small: implement [`Cache`] (`get` and `put` of bytes under a key) for any
//! store. Errors of a backend never fail an extraction: they are logged, told to the hooks
//! as [`Event::CacheError`](crate::Event::CacheError), and the call goes to the provider.

#[cfg(feature = "disk-cache")]
mod disk;
mod entry;
mod flight;
mod key;
#[cfg(feature = "memory-cache")]
mod memory;
#[cfg(feature = "redis-cache")]
mod redis;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "redis-cache")]
pub use self::redis::RedisCache;
#[cfg(feature = "disk-cache")]
pub use disk::DiskCache;
pub(crate) use entry::{decode, encode};
pub(crate) use flight::{Flight, Flights};
pub(crate) use key::key;
#[cfg(feature = "memory-cache")]
pub use memory::MemoryCache;

/// A store for cached answers: bytes under a key, with an optional time to live.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
/// use instructor_core::cache::{Cache, CacheError, CacheKey};
///
/// /// Never forgets, never expires (a test double).
/// #[derive(Debug, Default)]
/// struct Forever(Mutex<HashMap<CacheKey, Vec<u8>>>);
///
/// #[instructor_core::provider::async_trait]
/// impl Cache for Forever {
///     async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
///         Ok(self.0.lock().map_err(|_| CacheError::backend("poisoned"))?.get(key).cloned())
///     }
///     async fn put(&self, key: &CacheKey, entry: Vec<u8>, _ttl: Option<Duration>) -> Result<(), CacheError> {
///         self.0.lock().map_err(|_| CacheError::backend("poisoned"))?.insert(*key, entry);
///         Ok(())
///     }
/// }
/// let client = instructor_core::Client::new(instructor_core::testing::ScriptedProvider::new())
///     .cache(Forever::default());
/// # let _ = client;
/// ```
#[async_trait::async_trait]
pub trait Cache: Send + Sync + fmt::Debug + 'static {
    /// The entry stored under `key`, unless there is none or it expired.
    async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError>;

    /// Stores `entry` under `key`, replacing what was there, to expire after `ttl` (or the
    /// backend's own policy when `None`).
    async fn put(
        &self,
        key: &CacheKey,
        entry: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError>;
}

/// The key of a cached answer: a SHA-256 hash of the provider (its name and endpoint), the
/// model, the mode, the target type's schema, the messages and every sampling parameter
/// (seed and `extra` included). Stable across runs and machines; shown as 64 hex digits.
///
/// ```
/// use instructor_core::cache::CacheKey;
/// let key = CacheKey::from_bytes([0xab; 32]);
/// assert_eq!(key.to_string().len(), 64);
/// assert!(key.to_string().starts_with("abab"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey([u8; 32]);

impl CacheKey {
    /// A key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key's 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CacheKey({self})")
    }
}

/// A cache backend's failure. It never fails an extraction: the call goes to the provider.
///
/// ```
/// let e = instructor_core::cache::CacheError::backend("disk full");
/// assert_eq!(e.to_string(), "cache backend failed: disk full");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// The store could not be read or written (a connection down, a full disk).
    #[error("cache backend failed: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The backend's own error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// An entry could not be read back (written by something else, or damaged).
    #[error("cache entry is corrupt: {message}")]
    Corrupt {
        /// What was wrong.
        message: String,
    },
}

impl CacheError {
    /// A backend failure with a message.
    pub fn backend(message: impl Into<String>) -> Self {
        Self::Backend {
            message: message.into(),
            source: None,
        }
    }

    /// A backend failure keeping the backend's error as the source.
    pub fn from_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Backend {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// A client's cache: the store, the calls in flight per key (identical calls at once make
/// one provider call), and the provider's cache identity, asked once (a local model's reads
/// its file's metadata).
#[derive(Clone, Debug)]
pub(crate) struct CacheConfig {
    pub store: Arc<dyn Cache>,
    pub flights: Arc<Flights>,
    pub identity: Arc<str>,
}

impl CacheConfig {
    pub fn new(store: Arc<dyn Cache>, provider: &dyn crate::Provider) -> Self {
        Self {
            store,
            flights: Arc::default(),
            identity: provider.cache_identity().into(),
        }
    }
}

/// How one call uses the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum CacheUse {
    /// Read, and store what passes.
    #[default]
    Use,
    /// Neither read nor store.
    Bypass,
    /// Do not read; store what passes (replacing the entry).
    Refresh,
}
