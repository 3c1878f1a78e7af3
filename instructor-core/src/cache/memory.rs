//! The in-process cache: a concurrent map bounded by entries and bytes, with a time to live
//! per entry (the `moka` crate).

use std::time::{Duration, Instant};

use moka::future::Cache as Moka;
use moka::Expiry;

use super::{Cache, CacheError, CacheKey};

/// An in-memory cache bounded by entry count and total bytes; the least useful entries go
/// first when it is full. Entries live for the call's or client's `cache_ttl`, or
/// `default_ttl` if set, else until evicted. Cheap to clone: clones share the entries.
///
/// ```
/// use std::time::Duration;
/// use instructor_core::{cache::MemoryCache, Client, testing::ScriptedProvider};
/// let cache = MemoryCache::new(10_000, 256 << 20).default_ttl(Duration::from_secs(3600));
/// let client = Client::new(ScriptedProvider::new()).cache(cache);
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct MemoryCache {
    entries: Moka<CacheKey, Stored>,
    default_ttl: Option<Duration>,
}

#[derive(Clone)]
struct Stored {
    bytes: std::sync::Arc<[u8]>,
    ttl: Option<Duration>,
}

/// Each entry expires after its own time to live.
struct PerEntry;

impl Expiry<CacheKey, Stored> for PerEntry {
    fn expire_after_create(&self, _: &CacheKey, value: &Stored, _: Instant) -> Option<Duration> {
        value.ttl
    }
    fn expire_after_update(
        &self,
        _: &CacheKey,
        value: &Stored,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        value.ttl
    }
}

impl MemoryCache {
    /// A cache holding at most `max_entries` entries and about `max_bytes` bytes of them.
    pub fn new(max_entries: u64, max_bytes: u64) -> Self {
        // moka bounds one weight; the entry count bounds the rest through a weight floor.
        let floor = (max_bytes / max_entries.max(1)).max(1);
        let entries = Moka::builder()
            .max_capacity(max_bytes.max(1))
            .weigher(move |_: &CacheKey, v: &Stored| {
                u32::try_from((v.bytes.len() as u64).max(floor)).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntry)
            .build();
        Self {
            entries,
            default_ttl: None,
        }
    }

    /// How long entries live when neither the call nor the client sets `cache_ttl`.
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// How many entries it holds (approximately, while writes are pending).
    pub fn entry_count(&self) -> u64 {
        self.entries.entry_count()
    }
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("entries", &self.entries.entry_count())
            .field("bytes", &self.entries.weighted_size())
            .field("default_ttl", &self.default_ttl)
            .finish()
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.entries.get(key).await.map(|s| s.bytes.to_vec()))
    }

    async fn put(
        &self,
        key: &CacheKey,
        entry: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        let stored = Stored {
            bytes: entry.into(),
            ttl: ttl.or(self.default_ttl),
        };
        self.entries.insert(*key, stored).await;
        Ok(())
    }
}
