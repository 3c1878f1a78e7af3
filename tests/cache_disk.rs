//! The on-disk cache on real files: an answer cached by one client is replayed by a new one
//! opening the same file; several processes write one file at once; a writer killed
//! mid-write leaves a sound file; garbage files and garbage entries are typed errors, never
//! panics or failed extractions; entries expire.
//!
//! The processes are this test binary run again, filtered to [`child_process`], with
//! `CACHE_DISK_CHILD` naming the file and `CACHE_DISK_JOB` the work.

#![cfg(feature = "disk-cache")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use instructor::cache::{Cache, CacheError, CacheKey, DiskCache};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Event};

const CHILD: &str = "CACHE_DISK_CHILD";
const JOB: &str = "CACHE_DISK_JOB";
const COLOURS: &str = r#"["red", "green"]"#;

/// A file of its own for one test, removed with SQLite's `-wal` and `-shm` files.
struct TempDb(PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let file = format!("instructor-cache-disk-{}-{name}.sqlite", std::process::id());
        let db = Self(std::env::temp_dir().join(file));
        db.remove();
        db
    }

    fn remove(&self) {
        for end in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{end}", self.0.display()));
        }
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The cache events the hooks saw, in order: `hit`, `stored`, `corrupt` or `failed`.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(&'static str, CacheKey)>>>);

impl Seen {
    fn hook(&self) -> impl Fn(&Event<'_>) + Send + Sync + 'static {
        let seen = Arc::clone(&self.0);
        move |event: &Event<'_>| {
            let (kind, key) = match event {
                Event::CacheHit { key } => ("hit", **key),
                Event::CacheStored { key } => ("stored", **key),
                Event::CacheError {
                    key,
                    error: CacheError::Corrupt { .. },
                } => ("corrupt", **key),
                Event::CacheError { key, .. } => ("failed", **key),
                _ => return,
            };
            seen.lock().unwrap().push((kind, key));
        }
    }

    fn count(&self, kind: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k == kind)
            .count()
    }

    /// The key of the `n`th event of `kind`, once it is seen (answers are stored in a task).
    async fn wait_for(&self, kind: &str, n: usize) -> CacheKey {
        let start = Instant::now();
        loop {
            let found = (self.0.lock().unwrap().iter())
                .filter(|(k, _)| *k == kind)
                .nth(n - 1)
                .map(|(_, key)| *key);
            if let Some(key) = found {
                return key;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no {kind} #{n}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn ask(client: &Client) -> (Vec<String>, instructor::Completion) {
    client
        .create::<Vec<String>>()
        .user("Two colours")
        .send_with_completion()
        .await
        .unwrap()
}

/// The key of entry `i` of writer `writer` in job `job`.
fn key(job: u8, writer: u8, i: u32) -> CacheKey {
    let mut bytes = [0xd1; 32];
    bytes[0] = job;
    bytes[1] = writer;
    bytes[2..6].copy_from_slice(&i.to_be_bytes());
    CacheKey::from_bytes(bytes)
}

/// The entry stored under `key(job, writer, i)`: from 20 bytes to some 40 KB, so that
/// SQLite's pages overflow and its log is checkpointed into the file while writers run.
fn value(writer: u8, i: u32) -> Vec<u8> {
    let part = format!("writer {writer} entry {i};");
    part.repeat(1 + (i as usize * 37) % 2000).into_bytes()
}

/// This test binary again, running only [`child_process`] with `job` on `path`.
fn spawn_child(path: &Path, job: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, path)
        .env(JOB, job)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The work of a child process; as a test of the parent it does nothing.
#[test]
fn child_process() {
    let Ok(path) = std::env::var(CHILD) else {
        return;
    };
    let job = std::env::var(JOB).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    match job.split_once(' ') {
        Some(("write", writer)) => runtime.block_on(write_all(path, writer.parse().unwrap())),
        Some(("loop", round)) => runtime.block_on(write_forever(path, round.parse().unwrap())),
        _ => panic!("unknown job {job}"),
    }
}

const WRITE: u8 = 1;
const WRITERS: u8 = 4;
const CONNECTIONS: u32 = 4;
const PER_WRITER: u32 = 200;

/// Writes `PER_WRITER` entries over four connections of its own at once.
async fn write_all(path: String, writer: u8) {
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let cache = DiskCache::open(&path).unwrap();
            tokio::spawn(async move {
                for i in (c..PER_WRITER).step_by(CONNECTIONS as usize) {
                    let entry = value(writer, i);
                    cache
                        .put(&key(WRITE, writer, i), entry, None)
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

const CRASH: u8 = 2;

/// Writes entries in order until killed, saying after each 25th that it is committed.
async fn write_forever(path: String, round: u8) {
    let cache = DiskCache::open(&path).unwrap();
    for i in 0.. {
        let entry = value(round, i);
        cache.put(&key(CRASH, round, i), entry, None).await.unwrap();
        if i % 25 == 0 {
            println!("committed {i}");
        }
    }
}

#[tokio::test]
async fn a_new_client_on_the_same_file_replays_the_answer() {
    let db = TempDb::new("replay");
    let provider = ScriptedProvider::new().with_text(COLOURS);
    let seen = Seen::default();
    let first = {
        let cache = DiskCache::open(&db.0).unwrap();
        let client = Client::new(provider.clone()).cache(cache).hook(seen.hook());
        let (first, completion) = ask(&client).await;
        assert!(!completion.cached);
        assert_eq!(completion.usage.total_tokens, 15);
        seen.wait_for("stored", 1).await;
        first
    };
    assert_eq!(first, ["red", "green"]);

    // As another process would: a connection of its own to the same file.
    let cache = DiskCache::open(&db.0).unwrap();
    let later = Client::new(provider.clone()).cache(cache).hook(seen.hook());
    let (again, completion) = ask(&later).await;
    assert_eq!(again, first);
    assert!(completion.cached);
    assert_eq!(completion.usage.total_tokens, 0);
    assert_eq!(provider.requests().len(), 1);
    assert_eq!(seen.count("hit"), 1);
    assert_eq!(seen.count("corrupt") + seen.count("failed"), 0);
}

#[tokio::test]
async fn several_processes_write_one_file_at_once() {
    let db = TempDb::new("processes");
    // The file does not exist yet: the children also create and set it up at once.
    let children: Vec<_> = (0..WRITERS)
        .map(|w| spawn_child(&db.0, &format!("write {w}")))
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let cache = DiskCache::open(&db.0).unwrap();
    cache.integrity_check().await.unwrap();
    for writer in 0..WRITERS {
        for i in 0..PER_WRITER {
            let got = cache.get(&key(WRITE, writer, i)).await.unwrap();
            assert_eq!(got, Some(value(writer, i)), "writer {writer} entry {i}");
        }
    }
}

#[tokio::test]
async fn a_writer_killed_mid_write_leaves_a_sound_file() {
    let db = TempDb::new("crash");
    for round in 0..3u8 {
        let mut child = spawn_child(&db.0, &format!("loop {round}"));
        let stdout = child.stdout.take().unwrap();
        let enough = 150 + 100 * u32::from(round);
        let mut committed = 0;
        for line in BufReader::new(stdout).lines() {
            if let Some(n) = line.unwrap().strip_prefix("committed ") {
                committed = n.parse::<u32>().unwrap();
                if committed >= enough {
                    break;
                }
            }
        }
        if committed < enough {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the writer stopped: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Somewhere in a later put: a transaction, a page write or a checkpoint.
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        std::thread::sleep(Duration::from_millis(u64::from(nanos.subsec_nanos() % 20)));
        child.kill().unwrap(); // SIGKILL: no destructor, no flush, no unlock
        let status = child.wait().unwrap();
        assert!(!status.success(), "the writer was not killed");

        let cache = DiskCache::open(&db.0).unwrap();
        cache.integrity_check().await.unwrap();
        // What was committed is there, whole; what was not is absent, never half there.
        let mut found = 0;
        while let Some(entry) = cache.get(&key(CRASH, round, found)).await.unwrap() {
            assert_eq!(entry, value(round, found), "round {round} entry {found}");
            found += 1;
        }
        assert!(found > committed, "round {round}: {found} of {committed}");
        for i in found..found + 50 {
            assert_eq!(cache.get(&key(CRASH, round, i)).await.unwrap(), None);
        }
        // And it is still writable.
        let after = key(CRASH, 0xff, u32::from(round));
        cache.put(&after, b"after".to_vec(), None).await.unwrap();
        assert_eq!(
            cache.get(&after).await.unwrap().as_deref(),
            Some(&b"after"[..])
        );
    }
}

#[test]
fn a_file_that_is_not_a_database_is_an_error_from_open() {
    let db = TempDb::new("garbage");
    let garbage = b"this is not a database, just some text. ".repeat(200);
    let mut header = b"SQLite format 3\0".to_vec();
    header.extend(std::iter::repeat_n(0xa5, 4080));
    for bytes in [garbage, header] {
        std::fs::write(&db.0, &bytes).unwrap();
        let error = DiskCache::open(&db.0).unwrap_err();
        assert!(matches!(error, CacheError::Backend { .. }), "{error:?}");
        assert!(
            error.to_string().contains(&db.0.display().to_string()),
            "{error}"
        );
        // Whatever it was, it is left as it was.
        assert_eq!(std::fs::read(&db.0).unwrap(), bytes);
    }
}

#[tokio::test]
async fn a_garbage_entry_is_reported_and_the_provider_is_asked() {
    let db = TempDb::new("bad-entry");
    let cache = DiskCache::open(&db.0).unwrap();
    let provider = ScriptedProvider::new()
        .with_text(COLOURS)
        .with_text(COLOURS);
    let seen = Seen::default();
    let client = Client::new(provider.clone())
        .cache(cache.clone())
        .hook(seen.hook());
    let (first, _) = ask(&client).await;
    let key = seen.wait_for("stored", 1).await;

    cache
        .put(&key, b"\x00\xff{not an entry".to_vec(), None)
        .await
        .unwrap();
    let (again, completion) = ask(&client).await;
    assert_eq!(again, first);
    assert!(!completion.cached);
    assert_eq!(provider.requests().len(), 2);
    // Once or twice: the core looks again once it has its turn at the key.
    assert!(
        (1..=2).contains(&seen.count("corrupt")),
        "{}",
        seen.count("corrupt")
    );
    assert_eq!(seen.count("hit"), 0);

    // The good answer replaced the garbage.
    seen.wait_for("stored", 2).await;
    let (_, completion) = ask(&client).await;
    assert!(completion.cached);
    assert_eq!(provider.requests().len(), 2);
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let db = TempDb::new("ttl");
    let cache = DiskCache::open(&db.0).unwrap();
    let (short, forever) = (key(3, 0, 0), key(3, 0, 1));
    let ttl = Duration::from_millis(50);
    cache
        .put(&short, b"short".to_vec(), Some(ttl))
        .await
        .unwrap();
    cache
        .put(&forever, b"forever".to_vec(), None)
        .await
        .unwrap();
    assert!(cache.get(&short).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(cache.get(&short).await.unwrap(), None);
    assert!(cache.get(&forever).await.unwrap().is_some());
    let other = DiskCache::open(&db.0).unwrap();
    assert_eq!(other.get(&short).await.unwrap(), None);

    // A default, and a put's own time to live over it.
    let cache = DiskCache::open(&db.0).unwrap().default_ttl(ttl);
    let (defaulted, own) = (key(3, 1, 0), key(3, 1, 1));
    cache.put(&defaulted, b"d".to_vec(), None).await.unwrap();
    let hour = Some(Duration::from_secs(3600));
    cache.put(&own, b"o".to_vec(), hour).await.unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(cache.get(&defaulted).await.unwrap(), None);
    assert!(cache.get(&own).await.unwrap().is_some());

    // Through a client: an expired answer is asked for again.
    let provider = ScriptedProvider::new()
        .with_text(COLOURS)
        .with_text(COLOURS);
    let seen = Seen::default();
    let client = Client::new(provider.clone())
        .cache(DiskCache::open(&db.0).unwrap())
        .cache_ttl(ttl)
        .hook(seen.hook());
    ask(&client).await;
    seen.wait_for("stored", 1).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let (_, completion) = ask(&client).await;
    assert!(!completion.cached);
    assert_eq!(provider.requests().len(), 2);
}

#[test]
fn its_debug_shows_the_file() {
    let db = TempDb::new("debug");
    let cache = DiskCache::open(&db.0).unwrap();
    let shown = format!("{cache:?}");
    assert!(shown.contains(&*db.0.to_string_lossy()), "{shown}");
    assert!(shown.starts_with("DiskCache"), "{shown}");
}
