//! The Redis cache: entries in a Redis server shared by every machine that connects to it
//! (the `redis` crate). A dropped connection is re-established in the background, and every
//! operation is bounded by a timeout, so a server that is down fails fast instead of
//! holding up extractions.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, ConnectionAddr, IntoConnectionInfo, RedisError};

use super::{Cache, CacheError, CacheKey};

/// How long one `GET` or `SET` may take unless [`RedisCache::op_timeout`] says otherwise.
const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(2);

/// How long [`RedisCache::connect`] may take in all, retries included.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The prefix of every key unless [`RedisCache::prefix`] says otherwise.
const DEFAULT_PREFIX: &str = "instructor:";

/// The longest time to live sent to Redis (about 146 million years): Redis refuses
/// expiries that overflow its clock.
const MAX_TTL_MS: u64 = 1 << 62;

/// A cache in Redis, shared by every process and machine using the same server and prefix.
/// Entries are stored under the prefix (`instructor:` by default) followed by the key's 64
/// hex digits, and expire after the call's or client's `cache_ttl`, else `default_ttl` if
/// set, else never (Redis's own eviction policy applies).
///
/// It reconnects by itself when the connection drops. Each operation gives up after
/// `op_timeout` (2 s by default), so a server that is down costs an extraction at most that
/// long before the provider is asked. Cheap to clone: clones share the connection.
/// Credentials in the URL never appear in its `Debug` output or its errors.
///
/// ```
/// use std::time::Duration;
/// use instructor_core::{cache::RedisCache, Client, testing::ScriptedProvider};
///
/// # async fn demo() -> Result<(), instructor_core::cache::CacheError> {
/// let cache = RedisCache::connect("redis://:password@127.0.0.1:6379/0")
///     .await?
///     .prefix("myapp:llm:")
///     .default_ttl(Duration::from_secs(24 * 3600))
///     .op_timeout(Duration::from_millis(500));
/// let client = Client::new(ScriptedProvider::new()).cache(cache);
/// # let _ = client;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisCache {
    connection: ConnectionManager,
    /// The server's address (`host:port` or a socket path) and database: no credentials.
    endpoint: String,
    prefix: String,
    default_ttl: Option<Duration>,
    op_timeout: Duration,
}

impl RedisCache {
    /// Connects to the server at `url` (`redis://[[user]:password@]host[:port][/db]`, or
    /// `redis+unix:///path`). Fails when the URL is not valid, or the server cannot be
    /// reached or refuses the credentials within 5 seconds.
    ///
    /// ```
    /// # async fn demo() -> Result<(), instructor_core::cache::CacheError> {
    /// let cache = instructor_core::cache::RedisCache::connect("redis://127.0.0.1/").await?;
    /// # let _ = cache;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self, CacheError> {
        let info = url.into_connection_info().map_err(|e| {
            scrubbed(
                "the Redis URL is not valid".to_owned(),
                e,
                &[url, secret_of(url)],
            )
        })?;
        let endpoint = endpoint(&info.addr, info.redis.db);
        let password = info.redis.password.clone().unwrap_or_default();
        let secrets = [url, secret_of(url), password.as_str()];
        let failed = |e: RedisError| {
            scrubbed(
                format!("could not connect to Redis at {endpoint}"),
                e,
                &secrets,
            )
        };
        let client = Client::open(info).map_err(failed)?;
        // One attempt per (re)connection, no backoff: an operation waiting on a reconnection
        // fails at once when the server is down, and the next operation tries again.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(DEFAULT_OP_TIMEOUT)
            .set_number_of_retries(0);
        let connection = match tokio::time::timeout(
            CONNECT_TIMEOUT,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        {
            Ok(connected) => connected.map_err(failed)?,
            Err(_) => {
                return Err(CacheError::backend(format!(
                    "could not connect to Redis at {endpoint} within {} ms",
                    CONNECT_TIMEOUT.as_millis()
                )))
            }
        };
        Ok(Self {
            connection,
            endpoint,
            prefix: DEFAULT_PREFIX.to_owned(),
            default_ttl: None,
            op_timeout: DEFAULT_OP_TIMEOUT,
        })
    }

    /// What every key starts with (`instructor:` by default): caches with different
    /// prefixes on one server do not see each other's entries.
    ///
    /// ```
    /// # async fn demo(cache: instructor_core::cache::RedisCache) {
    /// let cache = cache.prefix("staging:instructor:");
    /// # let _ = cache; }
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long entries live when neither the call nor the client sets `cache_ttl`.
    ///
    /// ```
    /// # async fn demo(cache: instructor_core::cache::RedisCache) {
    /// let cache = cache.default_ttl(std::time::Duration::from_secs(3600));
    /// # let _ = cache; }
    /// ```
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// How long one operation may take before it fails with a [`CacheError`] (2 s by
    /// default); the extraction then goes on without the cache.
    ///
    /// ```
    /// # async fn demo(cache: instructor_core::cache::RedisCache) {
    /// let cache = cache.op_timeout(std::time::Duration::from_millis(250));
    /// # let _ = cache; }
    /// ```
    pub fn op_timeout(mut self, timeout: Duration) -> Self {
        self.op_timeout = timeout;
        self
    }

    /// The Redis key of `key`: the prefix, then the key's hex digits.
    fn redis_key(&self, key: &CacheKey) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one command, bounded by the operation timeout.
    async fn run<T>(
        &self,
        op: &str,
        command: impl Future<Output = Result<T, RedisError>>,
    ) -> Result<T, CacheError> {
        match tokio::time::timeout(self.op_timeout, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(CacheError::from_source(
                format!("Redis {op} on {} failed ({:?})", self.endpoint, e.kind()),
                e,
            )),
            Err(_) => Err(CacheError::backend(format!(
                "Redis {op} on {} timed out after {} ms",
                self.endpoint,
                self.op_timeout.as_millis()
            ))),
        }
    }
}

impl fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisCache")
            .field("endpoint", &self.endpoint)
            .field("prefix", &self.prefix)
            .field("default_ttl", &self.default_ttl)
            .field("op_timeout", &self.op_timeout)
            .finish()
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("GET");
        command.arg(self.redis_key(key));
        self.run(
            "GET",
            command.query_async::<Option<Vec<u8>>>(&mut connection),
        )
        .await
    }

    async fn put(
        &self,
        key: &CacheKey,
        entry: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("SET");
        command.arg(self.redis_key(key)).arg(entry);
        if let Some(ttl) = ttl.or(self.default_ttl) {
            command.arg("PX").arg(ttl_millis(ttl));
        }
        self.run("SET", command.query_async::<()>(&mut connection))
            .await
    }
}

/// A time to live in whole milliseconds as Redis takes it: at least 1 (Redis refuses 0),
/// at most [`MAX_TTL_MS`].
fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_TTL_MS)
}

/// The server's address and database, without credentials.
fn endpoint(addr: &ConnectionAddr, db: i64) -> String {
    match addr {
        ConnectionAddr::Unix(path) => format!("{}?db={db}", path.display()),
        other => format!("{other}/{db}"),
    }
}

/// The user-information part of `url` (between `://` and `@`), if any: the text that may
/// hold a password, so that it can never be echoed back.
fn secret_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.rsplit_once('@').map_or("", |(user, _)| user)
}

/// A backend error keeping `source`, unless its text would show one of `secrets`; then
/// only the message and the error's kind are kept.
fn scrubbed(message: String, source: RedisError, secrets: &[&str]) -> CacheError {
    let shown = format!("{source} {source:?}");
    let leaks = secrets
        .iter()
        .any(|secret| !secret.is_empty() && shown.contains(secret));
    if leaks {
        CacheError::backend(format!("{message} ({:?})", source.kind()))
    } else {
        CacheError::from_source(message, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_are_whole_milliseconds_redis_accepts() {
        assert_eq!(ttl_millis(Duration::from_millis(1500)), 1500);
        assert_eq!(ttl_millis(Duration::from_micros(10)), 1);
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn the_user_information_of_a_url_is_found() {
        assert_eq!(secret_of("redis://:hunter2@host:6379/0"), ":hunter2");
        assert_eq!(secret_of("redis://me:pw@host/"), "me:pw");
        assert_eq!(secret_of("redis://host:6379/"), "");
        assert_eq!(secret_of("redis://host/a@b"), "");
        assert_eq!(secret_of("no scheme"), "");
    }

    #[test]
    fn endpoints_show_no_credentials() {
        let info = "redis://:hunter2@example.com:6380/3"
            .into_connection_info()
            .map_err(|e| e.to_string());
        let shown = info.map(|i| endpoint(&i.addr, i.redis.db));
        assert_eq!(shown, Ok("example.com:6380/3".to_owned()));
    }

    #[test]
    fn errors_that_would_show_a_secret_lose_their_source() {
        let e = RedisError::from((
            redis::ErrorKind::AuthenticationFailed,
            "bad",
            "hunter2".into(),
        ));
        let kept = scrubbed("auth".into(), e, &["hunter2"]);
        assert!(!format!("{kept} {kept:?}").contains("hunter2"));
        let e = RedisError::from((redis::ErrorKind::IoError, "refused"));
        let kept = scrubbed("io".into(), e, &["hunter2", ""]);
        assert!(std::error::Error::source(&kept).is_some());
    }

    #[tokio::test]
    async fn a_bad_url_is_a_cache_error_without_the_url() {
        let e = RedisCache::connect("redis://:hunter2@[::1/").await;
        let shown = e.map(|_| ()).map_err(|e| format!("{e} {e:?}"));
        assert!(
            matches!(&shown, Err(s) if !s.contains("hunter2")),
            "{shown:?}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_server_fails_to_connect_without_the_password() {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let e = RedisCache::connect("redis://:hunter2@127.0.0.1:1/").await;
        let shown = e.map(|_| ()).map_err(|e| format!("{e} {e:?}"));
        assert!(
            matches!(&shown, Err(s) if !s.contains("hunter2") && s.contains("127.0.0.1:1")),
            "{shown:?}"
        );
    }
}
