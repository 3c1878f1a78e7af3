//! The Redis cache against real Redis servers: the one `scripts/test.sh` starts (it sets
//! `REDIS_URL`), and servers these tests start and kill themselves (`redis-server` on the
//! PATH). Without `REDIS_URL` the tests say so and pass, except under `CI=true`, where they
//! fail.

#![cfg(feature = "redis-cache")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use instructor::cache::{Cache, CacheKey, RedisCache};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Completion, Event};

/// A bound on every wait that could hang, so a hang fails the test instead.
const GUARD: Duration = Duration::from_secs(30);

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The shared server's URL, or `None` (skip the test) without one.
fn server() -> Option<String> {
    match std::env::var("REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !in_ci(),
                "CI=true and REDIS_URL is unset: run scripts/test.sh, which starts redis-server"
            );
            eprintln!("skipping: REDIS_URL is not set");
            None
        }
    }
}

/// A key prefix of this test in this run, so that tests running at once, and earlier runs
/// against the same server, never see each other's entries.
fn prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("instructor-test:{}:{nanos}:{test}:", std::process::id())
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Every text an error shows: its `Display` and `Debug`, and those of all its sources.
fn shown(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = String::new();
    let mut next = Some(error);
    while let Some(e) = next {
        text.push_str(&format!("{e} | {e:?} | "));
        next = e.source();
    }
    text
}

/// A Redis server of a test's own on a free loopback port, killed when dropped.
struct OwnServer {
    child: Child,
    port: u16,
}

impl OwnServer {
    /// Starts `redis-server` with `extra` arguments on a free port, or on `port`; `None`
    /// (skip the test) when there is no `redis-server`, except under `CI=true`.
    fn start(port: Option<u16>, extra: &[&str]) -> Option<Self> {
        let port = port.unwrap_or_else(free_port);
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                assert!(!in_ci(), "CI=true and redis-server cannot start: {e}");
                eprintln!("skipping: redis-server cannot start: {e}");
                return None;
            }
        };
        let mut server = Self { child, port };
        let deadline = Instant::now() + GUARD;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.try_wait().unwrap();
            assert!(
                exited.is_none(),
                "redis-server on port {port} exited: {exited:?}"
            );
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} does not answer"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `redis-cli -u url args…`'s answer, or `None` (skip that check) without `redis-cli`,
/// except under `CI=true`.
fn redis_cli(url: &str, args: &[&str]) -> Option<String> {
    match Command::new("redis-cli")
        .arg("-u")
        .arg(url)
        .args(args)
        .output()
    {
        Ok(out) => {
            assert!(out.status.success(), "redis-cli {args:?}: {out:?}");
            Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        }
        Err(e) => {
            assert!(!in_ci(), "CI=true and redis-cli cannot run: {e}");
            eprintln!("skipping a check: redis-cli cannot run: {e}");
            None
        }
    }
}

/// Waits until `done` holds, failing the test after [`GUARD`].
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + GUARD;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A hook counting the events of one kind.
fn counter(
    counts: fn(&Event<'_>) -> bool,
) -> (Arc<AtomicUsize>, impl Fn(&Event<'_>) + Send + Sync) {
    let seen = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&seen);
    let hook = move |event: &Event<'_>| {
        if counts(event) {
            count.fetch_add(1, Ordering::SeqCst);
        }
    };
    (seen, hook)
}

const COLOURS: &str = r#"["red", "green"]"#;

/// Two machines: two clients, each with its own provider and its own connection to Redis.
/// What the first stores the second replays, with no provider call and no tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machines_share_one_cache() {
    let Some(url) = server() else { return };
    let prefix = prefix("shared");

    let first_provider = ScriptedProvider::new().with_text(COLOURS);
    let (stored, on_stored) = counter(|e| matches!(e, Event::CacheStored { .. }));
    let (errors, on_error) = counter(|e| matches!(e, Event::CacheError { .. }));
    let first = Client::new(first_provider.clone())
        .cache(RedisCache::connect(&url).await.unwrap().prefix(&prefix))
        .hook(on_stored)
        .hook(on_error);
    let (asked, c1) = colours(&first, "Two colours").await;
    assert!(!c1.cached);
    assert_eq!(first_provider.requests().len(), 1);
    // The answer is stored in a task of its own: wait for it.
    until("the first machine's entry to be stored", || {
        stored.load(Ordering::SeqCst) == 1
    })
    .await;

    let second_provider = ScriptedProvider::new(); // fails if it is asked
    let second = Client::new(second_provider.clone())
        .cache(RedisCache::connect(&url).await.unwrap().prefix(&prefix))
        .hook(counter(|e| matches!(e, Event::CacheError { .. })).1);
    let (replayed, c2) = colours(&second, "Two colours").await;
    assert_eq!(replayed, asked);
    assert_eq!(replayed, ["red", "green"]);
    assert!(c2.cached);
    assert_eq!(c2.usage.total_tokens, 0);
    assert!(second_provider.requests().is_empty());
    assert_eq!(errors.load(Ordering::SeqCst), 0);
}

/// An entry put with a time to live is stored with `PX` and gone once it passed; the
/// default time to live applies to puts without one; without either, entries stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_expire_after_their_ttl() {
    let Some(url) = server() else { return };
    let prefix = prefix("ttl");
    let cache = RedisCache::connect(&url).await.unwrap().prefix(&prefix);
    let with_default = cache.clone().default_ttl(Duration::from_millis(300));
    let (short, defaulted, kept) = (
        CacheKey::from_bytes([1; 32]),
        CacheKey::from_bytes([2; 32]),
        CacheKey::from_bytes([3; 32]),
    );

    let ttl = Some(Duration::from_millis(300));
    cache.put(&short, b"short".to_vec(), ttl).await.unwrap();
    with_default
        .put(&defaulted, b"default".to_vec(), None)
        .await
        .unwrap();
    cache.put(&kept, b"kept".to_vec(), None).await.unwrap();
    assert_eq!(
        cache.get(&short).await.unwrap().as_deref(),
        Some(&b"short"[..])
    );
    assert_eq!(
        cache.get(&defaulted).await.unwrap().as_deref(),
        Some(&b"default"[..])
    );

    // In milliseconds (PX), not rounded to seconds; none without a ttl.
    for (key, expected) in [(&short, 1..=300), (&defaulted, 1..=300), (&kept, -1..=-1)] {
        let redis_key = format!("{prefix}{key}");
        if let Some(pttl) = redis_cli(&url, &["PTTL", &redis_key]) {
            let pttl: i64 = pttl.parse().unwrap();
            assert!(expected.contains(&pttl), "PTTL {redis_key} = {pttl}");
        }
    }

    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(cache.get(&short).await.unwrap(), None);
    assert_eq!(cache.get(&defaulted).await.unwrap(), None);
    assert_eq!(
        cache.get(&kept).await.unwrap().as_deref(),
        Some(&b"kept"[..])
    );
}

/// Redis going down mid-life fails neither the extraction nor hangs it: the provider is
/// asked, the hooks hear of the cache's failure, and once Redis is back the cache works
/// again on the same `RedisCache` (it reconnects).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_never_fails_an_extraction() {
    if server().is_none() {
        return;
    }
    let Some(mut own) = OwnServer::start(None, &[]) else {
        return;
    };
    let cache = RedisCache::connect(&own.url())
        .await
        .unwrap()
        .prefix(prefix("outage"))
        .op_timeout(Duration::from_millis(500));
    let key = CacheKey::from_bytes([7; 32]);
    cache.put(&key, b"before".to_vec(), None).await.unwrap();

    own.stop();

    let failures = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&failures);
    let provider = ScriptedProvider::new().with_text(COLOURS);
    let client =
        Client::new(provider.clone())
            .cache(cache.clone())
            .hook(move |event: &Event<'_>| {
                if let Event::CacheError { error, .. } = event {
                    heard.lock().unwrap().push(error.to_string());
                }
            });
    let extraction = client
        .create::<Vec<String>>()
        .user("Two colours")
        .send_with_completion();
    let (value, completion) = tokio::time::timeout(GUARD, extraction)
        .await
        .expect("the extraction hung while Redis was down")
        .unwrap();
    assert_eq!(value, ["red", "green"]);
    assert!(!completion.cached);
    assert_eq!(provider.requests().len(), 1);
    let failures = failures.lock().unwrap().clone();
    assert!(!failures.is_empty(), "no Event::CacheError was seen");
    assert!(
        failures
            .iter()
            .all(|f| f.starts_with("cache backend failed: Redis")),
        "{failures:?}"
    );

    // Direct operations fail too, with an error and in bounded time.
    let got = tokio::time::timeout(GUARD, cache.get(&key))
        .await
        .expect("GET hung while Redis was down");
    assert!(got.is_err(), "{got:?}");
    let put = tokio::time::timeout(GUARD, cache.put(&key, b"x".to_vec(), None))
        .await
        .expect("SET hung while Redis was down");
    assert!(put.is_err(), "{put:?}");

    // Redis comes back on the same port (empty: it kept nothing): the cache reconnects.
    let Some(_back) = OwnServer::start(Some(own.port), &[]) else {
        return;
    };
    let deadline = Instant::now() + GUARD;
    loop {
        let put = cache.put(&key, b"after".to_vec(), None).await;
        if put.is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "no reconnection: {put:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        cache.get(&key).await.unwrap().as_deref(),
        Some(&b"after"[..])
    );
}

/// Caches with different prefixes on one server do not see each other's entries; an
/// entry's Redis key is the prefix and the key's hex digits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_are_namespaces() {
    let Some(url) = server() else { return };
    let prefix = prefix("namespaces");
    let (pa, pb) = (format!("{prefix}a:"), format!("{prefix}b:"));
    let a = RedisCache::connect(&url).await.unwrap().prefix(&pa);
    let b = RedisCache::connect(&url).await.unwrap().prefix(&pb);
    let key = CacheKey::from_bytes([0xab; 32]);

    a.put(&key, b"from a".to_vec(), None).await.unwrap();
    assert_eq!(b.get(&key).await.unwrap(), None);
    b.put(&key, b"from b".to_vec(), None).await.unwrap();
    assert_eq!(a.get(&key).await.unwrap().as_deref(), Some(&b"from a"[..]));
    assert_eq!(b.get(&key).await.unwrap().as_deref(), Some(&b"from b"[..]));

    let redis_key = format!("{pa}{}", "ab".repeat(32));
    if let Some(value) = redis_cli(&url, &["GET", &redis_key]) {
        assert_eq!(value, "from a");
    }

    // Through clients: the same question under another prefix goes to the provider.
    let (stored, on_stored) = counter(|e| matches!(e, Event::CacheStored { .. }));
    let in_a = Client::new(ScriptedProvider::new().with_text(COLOURS))
        .cache(a)
        .hook(on_stored);
    in_a.create::<Vec<String>>()
        .user("Colours")
        .send()
        .await
        .unwrap();
    until("the entry to be stored", || {
        stored.load(Ordering::SeqCst) == 1
    })
    .await;
    let provider_b = ScriptedProvider::new().with_text(r#"["blue"]"#);
    let in_b = Client::new(provider_b.clone()).cache(b);
    let (value, completion) = colours(&in_b, "Colours").await;
    assert_eq!(value, ["blue"]);
    assert!(!completion.cached);
    assert_eq!(provider_b.requests().len(), 1);
}

/// Asks `client` for the list of colours in `text`; the list and its completion.
async fn colours(client: &Client, text: &str) -> (Vec<String>, Completion) {
    client
        .create::<Vec<String>>()
        .user(text)
        .send_with_completion()
        .await
        .unwrap()
}

/// The password of the URL shows nowhere: not in the cache's `Debug`, not in the errors of
/// a wrong password, a refused connection or an operation on a server that went away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_never_shows() {
    if server().is_none() {
        return;
    }
    let Some(mut own) = OwnServer::start(None, &["--requirepass", "secret"]) else {
        return;
    };
    let port = own.port;
    let url = format!("redis://:secret@127.0.0.1:{port}/");

    let cache = RedisCache::connect(&url).await.unwrap();
    let debug = format!("{cache:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains(&format!("127.0.0.1:{port}")), "{debug}");
    assert!(debug.contains("instructor:"), "{debug}");
    let key = CacheKey::from_bytes([5; 32]);
    cache.put(&key, b"authed".to_vec(), None).await.unwrap();
    assert_eq!(
        cache.get(&key).await.unwrap().as_deref(),
        Some(&b"authed"[..])
    );

    let wrong = RedisCache::connect(&format!("redis://:not-the-secret@127.0.0.1:{port}/"))
        .await
        .expect_err("a wrong password connected");
    let text = shown(&wrong);
    assert!(!text.contains("secret"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");

    own.stop();
    let down = cache.get(&key).await.expect_err("GET on a stopped server");
    let text = shown(&down);
    assert!(!text.contains("secret"), "{text}");
    let refused = RedisCache::connect(&url)
        .await
        .expect_err("connected to a stopped server");
    let text = shown(&refused);
    assert!(!text.contains("secret"), "{text}");
}
