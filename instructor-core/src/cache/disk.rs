//! The on-disk cache (feature `disk-cache`): entries in one SQLite file (the `rusqlite`
//! crate, SQLite compiled in), shared by every process that opens it.
//!
//! The file is in WAL mode, so readers never wait for a writer and a write is all or
//! nothing: a process killed mid-write leaves the file whole, and the next open finishes
//! or drops that write. `synchronous=NORMAL`: with WAL this cannot corrupt the file, and a
//! crash of the process loses nothing committed; only a power loss or an OS crash may lose
//! the last few entries, which for a cache costs a provider call, not a wrong answer (FULL
//! would pay a disk flush on every put for that). Writers from several processes at once
//! wait for each other (up to [`BUSY_TIMEOUT`]) instead of failing. SQLite keeps a `-wal`
//! and a `-shm` file beside the database while it is open; they are folded back in when the
//! last connection closes.
//!
//! SQLite is synchronous: each operation runs on tokio's blocking threads, on the cache's
//! one connection.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::{Cache, CacheError, CacheKey};

/// How long an operation waits for another process's write before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS instructor_cache (
        key BLOB PRIMARY KEY NOT NULL,
        value BLOB NOT NULL,
        expires_at INTEGER
    );
    CREATE INDEX IF NOT EXISTS instructor_cache_expiry ON instructor_cache (expires_at);
";
const GET: &str = "SELECT value FROM instructor_cache
    WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)";
const PRUNE: &str = "DELETE FROM instructor_cache WHERE expires_at <= ?1";
const PUT: &str = "INSERT OR REPLACE INTO instructor_cache (key, value, expires_at)
    VALUES (?1, ?2, ?3)";

/// A cache in one SQLite file on disk, shared by every process (and every `DiskCache`)
/// that opens the same path, and safe across crashes. Entries live for the call's or
/// client's `cache_ttl`, or `default_ttl` if set, else for good; expired entries are never
/// returned and are deleted by later puts. Cheap to clone: clones share the connection.
///
/// The file is in SQLite's WAL mode with `synchronous=NORMAL`: a process killed mid-write
/// leaves it sound and loses nothing committed; a power loss may lose the last entries,
/// never corrupt the file. Writers in several processes wait for each other (up to 10 s).
/// SQLite keeps `-wal` and `-shm` files beside it while it is open.
///
/// ```
/// # #[cfg(feature = "disk-cache")] {
/// use instructor_core::{cache::DiskCache, Client, testing::ScriptedProvider};
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let path = std::env::temp_dir().join(format!("instructor-doc-{}.sqlite", std::process::id()));
/// let provider = ScriptedProvider::new().with_text(r#"["red", "green"]"#);
/// let client = Client::new(provider.clone()).cache(DiskCache::open(&path)?);
/// let (first, c1) = client.create::<Vec<String>>().user("Two colours").send_with_completion().await?;
/// # tokio::time::sleep(std::time::Duration::from_millis(200)).await; // it is stored in a task
///
/// // Another process (here another client) opening the same file reads the answer.
/// let later = Client::new(provider.clone()).cache(DiskCache::open(&path)?);
/// let (again, c2) = later.create::<Vec<String>>().user("Two colours").send_with_completion().await?;
/// assert_eq!(first, again);
/// assert!(!c1.cached && c2.cached);
/// assert_eq!(provider.requests().len(), 1);
/// # for end in ["", "-wal", "-shm"] {
/// #     let _ = std::fs::remove_file(format!("{}{end}", path.display()));
/// # }
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct DiskCache {
    inner: Arc<Inner>,
    default_ttl: Option<Duration>,
}

struct Inner {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl DiskCache {
    /// Opens the cache file at `path`, creating it (and its directory) if needed, and sets
    /// it up: WAL journal, `synchronous=NORMAL`, a wait for other processes' writes, and
    /// the table. A file that is not a SQLite database is a [`CacheError::Backend`].
    ///
    /// ```
    /// # #[cfg(feature = "disk-cache")] {
    /// use instructor_core::cache::DiskCache;
    /// let path = std::env::temp_dir().join(format!("instructor-open-{}.sqlite", std::process::id()));
    /// let cache = DiskCache::open(&path)?;
    /// assert_eq!(cache.path(), path);
    /// # let _ = std::fs::remove_file(&path);
    /// # }
    /// # Ok::<_, instructor_core::cache::CacheError>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CacheError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                let message = format!("could not create {}: {e}", dir.display());
                CacheError::from_source(message, e)
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(&path, flags)
            .map_err(|e| failed("could not open", &path, e))?;
        set_up(&mut connection, &path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                connection: Mutex::new(connection),
            }),
            default_ttl: None,
        })
    }

    /// How long entries live when neither the call nor the client sets `cache_ttl`.
    ///
    /// ```
    /// # #[cfg(feature = "disk-cache")] {
    /// use std::time::Duration;
    /// use instructor_core::cache::DiskCache;
    /// let path = std::env::temp_dir().join(format!("instructor-ttl-{}.sqlite", std::process::id()));
    /// let cache = DiskCache::open(&path)?.default_ttl(Duration::from_secs(7 * 24 * 3600));
    /// # let _ = (cache, std::fs::remove_file(&path));
    /// # }
    /// # Ok::<_, instructor_core::cache::CacheError>(())
    /// ```
    pub fn default_ttl(mut self, ttl: Duration) -> Self {
        self.default_ttl = Some(ttl);
        self
    }

    /// The file the cache is in.
    ///
    /// ```
    /// # #[cfg(feature = "disk-cache")] {
    /// # use instructor_core::cache::DiskCache;
    /// let path = std::env::temp_dir().join(format!("instructor-path-{}.sqlite", std::process::id()));
    /// assert!(DiskCache::open(&path)?.path().ends_with(path.file_name().unwrap()));
    /// # let _ = std::fs::remove_file(&path);
    /// # }
    /// # Ok::<_, instructor_core::cache::CacheError>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checks the whole file (SQLite's `integrity_check`): `Ok` if it is sound, else
    /// [`CacheError::Corrupt`] listing the damage.
    ///
    /// ```
    /// # #[cfg(feature = "disk-cache")] {
    /// # use instructor_core::cache::DiskCache;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("instructor-check-{}.sqlite", std::process::id()));
    /// DiskCache::open(&path)?.integrity_check().await?;
    /// # let _ = std::fs::remove_file(&path);
    /// # Ok::<_, instructor_core::cache::CacheError>(()) }).unwrap();
    /// # }
    /// ```
    pub async fn integrity_check(&self) -> Result<(), CacheError> {
        self.run(|path, connection| {
            let fail = |e| failed("could not check", path, e);
            let mut check = connection.prepare("PRAGMA integrity_check").map_err(fail)?;
            let found = check
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(fail)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(fail)?;
            if found.len() == 1 && found[0] == "ok" {
                return Ok(());
            }
            Err(CacheError::Corrupt {
                message: format!("{} is damaged: {}", path.display(), found.join("; ")),
            })
        })
        .await
    }

    /// Runs `op` on the connection, on a blocking thread when in a tokio runtime (else
    /// right here).
    async fn run<T, F>(&self, op: F) -> Result<T, CacheError>
    where
        T: Send + 'static,
        F: FnOnce(&Path, &mut Connection) -> Result<T, CacheError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let job = move || {
            // A panic mid-operation rolled its transaction back: the connection is sound.
            let mut connection = inner
                .connection
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            op(&inner.path, &mut connection)
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => runtime
                .spawn_blocking(job)
                .await
                .map_err(|e| CacheError::from_source(format!("cache task failed: {e}"), e))?,
            Err(_) => job(),
        }
    }
}

/// The journal, durability, wait and table of a newly opened file.
fn set_up(connection: &mut Connection, path: &Path) -> Result<(), CacheError> {
    let fail = |e| failed("could not set up", path, e);
    // First, so that setting up waits for other processes too.
    connection.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    // Where waiting could deadlock (two connections that both read the new file and both
    // want to switch it to WAL), SQLite says busy at once instead of waiting: try again.
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let mut pause = Duration::from_millis(1);
    let journal = loop {
        match journal_and_table(connection) {
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            done => break done.map_err(fail)?,
        }
    };
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(CacheError::backend(format!(
            "{} cannot use a WAL journal (it uses {journal})",
            path.display()
        )));
    }
    Ok(())
}

/// Switches to WAL and, if it could, sets the durability and makes the table; the
/// journal mode in use.
fn journal_and_table(connection: &mut Connection) -> rusqlite::Result<String> {
    let journal: String =
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Ok(journal); // refused: the file is left as it was
    }
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    // Immediate: take the write lock first (waiting for it), not on the way.
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(SCHEMA)?;
    tx.commit()?;
    Ok(journal)
}

fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// A SQLite failure as a cache error: a value of the wrong type is a corrupt entry, the
/// rest is the backend's failure.
fn failed(what: &str, path: &Path, error: rusqlite::Error) -> CacheError {
    match error {
        rusqlite::Error::InvalidColumnType(..) | rusqlite::Error::FromSqlConversionFailure(..) => {
            CacheError::Corrupt {
                message: format!("an entry in {} is not bytes: {error}", path.display()),
            }
        }
        error => CacheError::from_source(format!("{what} {}: {error}", path.display()), error),
    }
}

/// Now, in milliseconds since the Unix epoch.
fn now_ms() -> i64 {
    millis(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl fmt::Debug for DiskCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskCache")
            .field("path", &self.inner.path)
            .field("default_ttl", &self.default_ttl)
            .finish()
    }
}

#[async_trait::async_trait]
impl Cache for DiskCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        let key = *key.as_bytes();
        self.run(move |path, connection| {
            let fail = |e| failed("could not read", path, e);
            connection
                .prepare_cached(GET)
                .map_err(fail)?
                .query_row((&key[..], now_ms()), |row| row.get::<_, Vec<u8>>(0))
                .optional()
                .map_err(fail)
        })
        .await
    }

    async fn put(
        &self,
        key: &CacheKey,
        entry: Vec<u8>,
        ttl: Option<Duration>,
    ) -> Result<(), CacheError> {
        let key = *key.as_bytes();
        let ttl = ttl.or(self.default_ttl);
        self.run(move |path, connection| {
            let fail = |e| failed("could not write", path, e);
            let now = now_ms();
            let expires_at = ttl.map(|ttl| now.saturating_add(millis(ttl)));
            // Immediate: take the write lock first, waiting for other writers if need be.
            let tx = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(fail)?;
            tx.prepare_cached(PRUNE)
                .map_err(fail)?
                .execute([now])
                .map_err(fail)?;
            tx.prepare_cached(PUT)
                .map_err(fail)?
                .execute((&key[..], entry, expires_at))
                .map_err(fail)?;
            tx.commit().map_err(fail)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "instructor-unit-{}-{name}.sqlite",
            std::process::id()
        ))
    }

    fn remove(path: &Path) {
        for end in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{end}", path.display()));
        }
    }

    #[tokio::test]
    async fn a_value_that_is_not_bytes_is_a_corrupt_entry() {
        let path = temp("not-bytes");
        let cache = DiskCache::open(&path).unwrap();
        let key = CacheKey::from_bytes([7; 32]);
        cache.put(&key, b"entry".to_vec(), None).await.unwrap();
        let raw = Connection::open(&path).unwrap();
        raw.execute("UPDATE instructor_cache SET value = 'text'", [])
            .unwrap();
        let got = cache.get(&key).await;
        assert!(matches!(got, Err(CacheError::Corrupt { .. })), "{got:?}");
        cache.integrity_check().await.unwrap();
        remove(&path);
    }

    #[test]
    fn it_works_outside_a_runtime() {
        let path = temp("no-runtime");
        let cache = DiskCache::open(&path).unwrap();
        let key = CacheKey::from_bytes([1; 32]);
        // With no runtime the work is done in the first poll.
        let put = cache.put(&key, b"v".to_vec(), None).now_or_never();
        assert!(matches!(put, Some(Ok(()))), "{put:?}");
        let got = cache.get(&key).now_or_never().unwrap().unwrap();
        assert_eq!(got.as_deref(), Some(&b"v"[..]));
        remove(&path);
    }

    #[tokio::test]
    async fn expired_entries_are_deleted_by_a_later_put() {
        let path = temp("prune");
        let cache = DiskCache::open(&path).unwrap();
        let old = CacheKey::from_bytes([2; 32]);
        cache
            .put(&old, b"old".to_vec(), Some(Duration::ZERO))
            .await
            .unwrap();
        cache
            .put(&CacheKey::from_bytes([3; 32]), b"new".to_vec(), None)
            .await
            .unwrap();
        let raw = Connection::open(&path).unwrap();
        let rows: i64 = raw
            .query_row("SELECT count(*) FROM instructor_cache", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
        remove(&path);
    }
}
