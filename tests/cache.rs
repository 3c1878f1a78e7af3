//! The response cache through the whole loop, on the in-memory backend: hits cost no
//! provider call and no tokens, the key follows everything that changes the answer,
//! bypass/refresh/TTL, single flight, streams, and a backend that fails or holds garbage
//! never failing the call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::slow::Slow;
use common::streams::{all_items, drain};
use common::{ask, ask_completion, jason, recorder, UserDetail, JASON};
use instructor::cache::{Cache, CacheError, CacheKey, MemoryCache};
use instructor::provider::{async_trait, Provider, Response};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Error, Event, Mode, Usage};
use serde_json::json;

fn memory() -> MemoryCache {
    MemoryCache::new(1000, 16 << 20)
}

/// A provider with `n` answers of Jason, each costing 10 + 5 tokens.
fn answers(n: usize) -> ScriptedProvider {
    (0..n).fold(ScriptedProvider::new(), |p, _| {
        p.with_response(Response::text(JASON).with_usage(Usage::new(10, 5)))
    })
}

/// The cache events a client's hooks see, by name.
fn cache_events() -> (
    Arc<std::sync::Mutex<Vec<String>>>,
    impl Fn(&Event<'_>) + Send + Sync + 'static,
) {
    recorder(|e| match e {
        Event::CacheHit { .. } => Some("hit".to_owned()),
        Event::CacheStored { .. } => Some("stored".to_owned()),
        Event::CacheError { error, .. } => Some(format!("error: {error}")),
        _ => None,
    })
}

#[tokio::test]
async fn a_repeated_call_is_served_from_the_cache_with_no_tokens() {
    let provider = answers(1);
    let (seen, hook) = cache_events();
    let client = Client::new(provider.clone()).cache(memory()).hook(hook);
    let ask = || {
        client
            .create::<UserDetail>()
            .user("Jason is 30")
            .send_with_completion()
    };
    let (first, c1) = ask().await.unwrap();
    let (again, c2) = ask().await.unwrap();
    assert_eq!((first, again), (jason(), jason()));
    assert!(!c1.cached && c2.cached);
    assert_eq!(c1.usage.total_tokens, 15);
    assert_eq!(c2.usage, Usage::default(), "a hit costs no tokens");
    assert_eq!(c2.response.text.as_deref(), Some(JASON));
    assert_eq!(provider.requests().len(), 1, "the provider is asked once");
    assert_eq!(*seen.lock().unwrap(), ["stored", "hit"]);
}

#[tokio::test]
async fn the_key_follows_everything_that_changes_the_answer() {
    let provider = answers(12);
    let client = Client::new(provider.clone()).cache(memory());
    let base = || client.create::<UserDetail>().user("Jason is 30");
    base().send().await.unwrap();
    let calls = [
        base().model("other"),
        base().mode(Mode::Tools),
        base().temperature(0.5),
        base().top_p(0.5),
        base().max_tokens(64),
        base().seed(7),
        base().stop(["END"]),
        base().extra(json!({"top_k": 3})),
        base().system("Be brief."),
        client.create::<UserDetail>().user("Jason is 30!"),
    ];
    let n = calls.len();
    for (i, call) in calls.into_iter().enumerate() {
        let (_, completion) = call.send_with_completion().await.unwrap();
        assert!(!completion.cached, "change {i} must not hit");
    }
    // Another target type with the same answer text is another key.
    #[derive(instructor::Instruct, serde::Deserialize, Debug)]
    struct Other {
        name: String,
    }
    let (_, c) = ask_completion::<Other>(&client, "Jason is 30")
        .await
        .unwrap();
    assert!(!c.cached, "a different type must not hit");
    assert_eq!(provider.requests().len(), 1 + n + 1);
    // The unchanged call still hits.
    let (_, c) = base().send_with_completion().await.unwrap();
    assert!(c.cached);
}

#[test]
fn servers_differ_in_the_key_and_keys_do_not() {
    use instructor::providers::OpenAi;
    let a = OpenAi::compatible("http://127.0.0.1:8000/v1").api_key("sk-one-secret-key");
    let b = OpenAi::compatible("http://127.0.0.1:8001/v1").api_key("sk-one-secret-key");
    let c = OpenAi::compatible("http://127.0.0.1:8000/v1").api_key("sk-two-secret-key");
    assert_ne!(a.cache_identity(), b.cache_identity());
    assert_eq!(a.cache_identity(), c.cache_identity());
    let with_userinfo = OpenAi::compatible("http://user:pass-secret@127.0.0.1:8000/v1");
    assert!(!with_userinfo.cache_identity().contains("pass-secret"));
    assert!(!a.cache_identity().contains("secret-key"));
}

/// The key of a fixed request, as this version computes it: a change to what goes into
/// keys must bump the key's version, or every stored answer would silently go stale.
const STABLE_KEY: &str = "f46f60a8bba2f302fb9f8508c9190ac994eea0477d529bd91df2890b77fb389c";

#[tokio::test]
async fn keys_are_stable_across_runs_and_clients() {
    let mut keys = Vec::new();
    for _ in 0..2 {
        let (seen, hook) = recorder(|e| match e {
            Event::CacheStored { key } => Some(key.to_string()),
            _ => None,
        });
        let client = Client::new(answers(1))
            .cache(memory())
            .model("m")
            .seed(1)
            .hook(hook);
        ask::<UserDetail>(&client, "Jason is 30").await.unwrap();
        // The store runs in its own task: wait for it.
        for _ in 0..100 {
            if !seen.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        keys.extend(seen.lock().unwrap().iter().cloned());
    }
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "two clients, one key");
    assert_eq!(keys[0], STABLE_KEY);
}

#[tokio::test]
async fn no_cache_neither_reads_nor_stores_and_refresh_replaces() {
    let aged = |age: u8| Response::text(format!(r#"{{"name": "Jason", "age": {age}}}"#));
    let provider = ScriptedProvider::new()
        .with_response(aged(30))
        .with_response(aged(30))
        .with_response(aged(32))
        .with_response(aged(31));
    let client = Client::new(provider.clone()).cache(memory());
    let base = || client.create::<UserDetail>().user("Jason");
    let (_, c) = base().no_cache().send_with_completion().await.unwrap();
    assert!(!c.cached);
    let (_, c) = base().send_with_completion().await.unwrap();
    assert!(!c.cached, "the bypassed call stored nothing");
    let (v, c) = base().no_cache().send_with_completion().await.unwrap();
    assert!(!c.cached);
    assert_eq!(
        v.age, 32,
        "a bypass asks the provider, though an entry exists"
    );
    let (v, c) = base().refresh_cache().send_with_completion().await.unwrap();
    assert!(!c.cached, "a refresh asks the provider");
    assert_eq!(v.age, 31);
    let (v, c) = base().send_with_completion().await.unwrap();
    assert!(c.cached);
    assert_eq!(v.age, 31, "the refreshed answer replaced the old one");
    assert_eq!(provider.remaining(), 0);
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let provider = answers(2);
    let client = Client::new(provider.clone())
        .cache(memory())
        .cache_ttl(Duration::from_secs(3600));
    let short = || {
        client
            .create::<UserDetail>()
            .user("Jason")
            .cache_ttl(Duration::from_millis(50))
    };
    short().send().await.unwrap();
    assert!(short().send_with_completion().await.unwrap().1.cached);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (_, c) = short().send_with_completion().await.unwrap();
    assert!(!c.cached, "the entry expired");
    assert_eq!(provider.remaining(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_identical_calls_at_once_make_one_provider_call() {
    let provider = answers(1);
    let client = Client::new(Slow {
        inner: provider.clone(),
        delay: Duration::from_millis(50),
    })
    .cache(memory());
    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .create::<UserDetail>()
                .user("Jason is 30")
                .send_with_completion()
                .await
        })
    });
    let results = futures::future::join_all(calls).await;
    let mut cached = 0;
    for r in results {
        let (v, c) = r.unwrap().unwrap();
        assert_eq!(v, jason());
        cached += usize::from(c.cached);
    }
    assert_eq!(
        provider.requests().len(),
        1,
        "one provider call for 100 calls"
    );
    assert_eq!(cached, 99);
}

/// A backend that fails every operation, or returns garbage for every key.
#[derive(Debug)]
struct Broken {
    garbage: bool,
}

#[async_trait]
impl Cache for Broken {
    async fn get(&self, _: &CacheKey) -> Result<Option<Vec<u8>>, CacheError> {
        if self.garbage {
            Ok(Some(b"\xff not an entry".to_vec()))
        } else {
            Err(CacheError::backend("connection refused"))
        }
    }
    async fn put(&self, _: &CacheKey, _: Vec<u8>, _: Option<Duration>) -> Result<(), CacheError> {
        if self.garbage {
            Ok(())
        } else {
            Err(CacheError::backend("disk full"))
        }
    }
}

#[tokio::test]
async fn a_failing_or_corrupt_backend_never_fails_the_call() {
    for garbage in [false, true] {
        let provider = answers(1);
        let (seen, hook) = cache_events();
        let client = Client::new(provider.clone())
            .cache(Broken { garbage })
            .hook(hook);
        let (value, c) = ask_completion::<UserDetail>(&client, "Jason")
            .await
            .unwrap();
        assert_eq!(value, jason());
        assert!(!c.cached);
        assert_eq!(provider.requests().len(), 1);
        // The failed store is told from its own task.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let seen = seen.lock().unwrap().clone();
        let errors = seen.iter().filter(|e| e.starts_with("error")).count();
        if garbage {
            assert!(seen[0].contains("corrupt"), "{seen:?}");
            assert!(errors >= 1, "{seen:?}");
        } else {
            // The lookup, the second lookup after taking the key's turn, and the store.
            assert_eq!(errors, 3, "{seen:?}");
            assert!(seen.iter().any(|e| e.contains("disk full")), "{seen:?}");
        }
    }
}

#[tokio::test]
async fn partial_streams_replay_a_hit_and_store_what_they_finish() {
    let provider = answers(1);
    let client = Client::new(provider.clone()).cache(memory());
    let (_, end) = drain(client.create_partial::<UserDetail>().user("Jason")).await;
    let (first, usage) = end.unwrap();
    assert_eq!(usage.total_tokens, 15);
    let (partials, end) = drain(client.create_partial::<UserDetail>().user("Jason")).await;
    let (again, usage) = end.unwrap();
    assert_eq!(first, again);
    assert_eq!(usage, Usage::default(), "a replayed stream costs no tokens");
    assert!(!partials.is_empty(), "the hit is replayed as updates");
    // A one-shot call of the same request is the same entry.
    let (_, c) = ask_completion::<UserDetail>(&client, "Jason")
        .await
        .unwrap();
    assert!(c.cached);
    assert_eq!(provider.requests().len(), 1);
}

#[tokio::test]
async fn item_streams_replay_a_hit_unless_an_item_failed() {
    let list = r#"[{"name": "Jason", "age": 30}, {"name": "Mary", "age": 40}]"#;
    let bad = r#"[{"name": "Jason", "age": 30}, {"name": "Old", "age": 200}]"#;
    let provider = ScriptedProvider::new()
        .with_text(list)
        .with_text(bad)
        .with_text(bad);
    let client = Client::new(provider.clone()).cache(memory());
    let names = |items: Vec<Result<UserDetail, Error>>| {
        items
            .into_iter()
            .map(|i| i.map(|u| u.name).unwrap_or_else(|e| format!("error: {e}")))
            .collect::<Vec<_>>()
    };
    let first = names(all_items(client.create_iterable::<UserDetail>().user("Two")).await);
    let again = names(all_items(client.create_iterable::<UserDetail>().user("Two")).await);
    assert_eq!(first, ["Jason", "Mary"]);
    assert_eq!(first, again);
    assert_eq!(
        provider.requests().len(),
        1,
        "the second stream is replayed"
    );
    // An answer with an item that failed validation is not stored.
    for _ in 0..2 {
        let items = all_items(client.create_iterable::<UserDetail>().user("Old")).await;
        assert!(items[1].is_err());
    }
    assert_eq!(provider.requests().len(), 3);
}
