//! Streaming extraction against a scripted provider that streams its answers in chunks:
//! partial snapshots, iterable items, re-asks, truncation, cancellation and limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use instructor::stream::{Limits, Update};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Error, FinishReason, Instruct, Mode, Response, Usage};
use serde::Deserialize;

/// A person.
#[derive(Instruct, Deserialize, Debug, PartialEq, Clone)]
struct User {
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
    tags: Vec<String>,
    address: Address,
}

#[derive(Instruct, Deserialize, Debug, PartialEq, Clone)]
struct Address {
    city: String,
}

const ANSWER: &str = r#"{"name": "Zoë \"Zed\" O'Neil 🦀", "age": 42, "tags": ["a}b", "c\\d", "é\u00e9\ud83e\udd80"], "address": {"city": "Saint-Étienne"}}"#;

fn expected() -> User {
    serde_json::from_str(ANSWER).unwrap()
}

async fn collect(
    p: ScriptedProvider,
    mode: Mode,
) -> (Vec<<User as Instruct>::Partial>, Result<User, Error>) {
    let client = Client::new(p);
    let mut stream = client
        .create_partial::<User>()
        .mode(mode)
        .user("x")
        .send()
        .await
        .unwrap();
    let mut partials = Vec::new();
    while let Some(update) = stream.next().await {
        match update {
            Ok(Update::Partial(p)) => partials.push(p),
            Ok(Update::Complete { value, .. }) => return (partials, Ok(value)),
            Err(e) => return (partials, Err(e)),
        }
    }
    panic!("the stream ended without a final value")
}

#[tokio::test]
async fn every_chunk_size_gives_the_same_value_and_monotone_partials() {
    for size in 1..=ANSWER.len() {
        let p = ScriptedProvider::new()
            .with_chunk_size(size)
            .with_text(ANSWER);
        let (partials, value) = collect(p, Mode::Json).await;
        assert_eq!(value.unwrap(), expected(), "chunk size {size}");
        assert!(!partials.is_empty());
        // Monotone: a field never disappears, a string only grows, a list never shrinks.
        for pair in partials.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if let Some(name) = &a.name {
                assert!(
                    b.name
                        .as_ref()
                        .is_some_and(|n| n.starts_with(name.as_str())),
                    "size {size}: {a:?} -> {b:?}"
                );
            }
            if let Some(age) = a.age {
                assert_eq!(b.age, Some(age));
            }
            assert!(b.tags.as_ref().map_or(0, Vec::len) >= a.tags.as_ref().map_or(0, Vec::len));
        }
        let last = partials.last().unwrap();
        assert_eq!(
            last.address.as_ref().and_then(|a| a.city.as_deref()),
            Some("Saint-Étienne"),
            "size {size}"
        );
    }
}

#[tokio::test]
async fn numbers_appear_only_once_complete() {
    let p = ScriptedProvider::new()
        .with_chunk_size(1)
        .with_text(r#"{"name": "A", "age": 123, "tags": [], "address": {"city": "B"}}"#);
    let (partials, value) = collect(p, Mode::Json).await;
    assert_eq!(value.unwrap().age, 123);
    let ages: Vec<Option<u8>> = partials.iter().map(|p| p.age).collect();
    assert!(
        ages.iter().all(|a| a.is_none() || *a == Some(123)),
        "{ages:?}"
    );
}

#[tokio::test]
async fn tool_mode_streams_argument_deltas() {
    let p = ScriptedProvider::new()
        .with_chunk_size(5)
        .with_tool_call("User", ANSWER);
    let (partials, value) = collect(p, Mode::Tools).await;
    assert_eq!(value.unwrap(), expected());
    assert!(partials.len() > 5);
}

#[tokio::test]
async fn a_stream_that_stops_early_is_incomplete_output() {
    let cut = &ANSWER[..ANSWER.len() / 2];
    let p = ScriptedProvider::new().with_text(cut);
    let (partials, value) = collect(p, Mode::Json).await;
    assert!(!partials.is_empty(), "what arrived was shown");
    assert!(
        matches!(value, Err(Error::IncompleteOutput { .. })),
        "{value:?}"
    );

    let p = ScriptedProvider::new()
        .with_response(Response::text(cut).with_finish_reason(FinishReason::Length));
    let (_, value) = collect(p, Mode::Json).await;
    assert!(
        matches!(value, Err(Error::IncompleteOutput { .. })),
        "{value:?}"
    );
}

#[tokio::test]
async fn invalid_answers_are_reasked_as_new_streams() {
    let bad = ANSWER.replace("42", "200");
    let p = ScriptedProvider::new()
        .with_response(Response::text(bad).with_usage(Usage::new(10, 20)))
        .with_response(Response::text(ANSWER).with_usage(Usage::new(12, 20)));
    let client = Client::new(p.clone());
    let mut stream = client
        .create_partial::<User>()
        .user("x")
        .send()
        .await
        .unwrap();
    let mut last = None;
    while let Some(update) = stream.next().await {
        last = Some(update.unwrap());
    }
    let Some(Update::Complete { value, usage }) = last else {
        panic!()
    };
    assert_eq!(value, expected());
    assert_eq!(
        usage,
        Usage::new(10, 20) + Usage::new(12, 20),
        "usage is summed"
    );
    let reask = p.requests()[1].messages.last().unwrap().text();
    assert!(
        reask.contains("/age: must be at most 150, got 200"),
        "{reask}"
    );
}

#[tokio::test]
async fn malformed_streams_run_out_of_retries() {
    let p = ScriptedProvider::new()
        .with_text("{\"name\": \"A\" \"oops\"}")
        .with_text("{\"name\" 1}");
    let client = Client::new(p).max_retries(1);
    let mut stream = client
        .create_partial::<User>()
        .user("x")
        .send()
        .await
        .unwrap();
    let mut last = None;
    while let Some(update) = stream.next().await {
        last = Some(update);
    }
    assert!(
        matches!(last, Some(Err(Error::RetriesExhausted { ref attempts, .. })) if attempts.len() == 2),
        "{last:?}"
    );
}

#[tokio::test]
async fn iterable_yields_each_item_as_it_closes() {
    let answer = r#"{"items": [
        {"name": "A", "age": 1, "tags": ["{", "}"], "address": {"city": "X"}},
        {"name": "B", "age": 200, "tags": [], "address": {"city": "Y"}},
        {"name": "C", "age": 3, "tags": [], "address": {"city": "Z"}}
    ]}"#;
    for size in [1, 7, 16, 1000] {
        let p = ScriptedProvider::new()
            .with_chunk_size(size)
            .with_text(answer);
        let client = Client::new(p);
        let stream = client
            .create_iterable::<User>()
            .user("x")
            .send()
            .await
            .unwrap();
        let items: Vec<Result<User, Error>> = stream.collect().await;
        assert_eq!(items.len(), 3, "size {size}");
        assert_eq!(
            items[0].as_ref().unwrap().tags,
            ["{", "}"],
            "a brace in a string does not split the item"
        );
        let Err(Error::Validation { errors, .. }) = &items[1] else {
            panic!("{:?}", items[1])
        };
        assert_eq!(errors.iter().next().unwrap().path, "/items/1/age");
        assert_eq!(items[2].as_ref().unwrap().name, "C");
    }
}

#[tokio::test]
async fn iterable_accepts_a_bare_list_and_reports_truncation() {
    let p = ScriptedProvider::new().with_text(
        r#"[{"name": "A", "age": 1, "tags": [], "address": {"city": "X"}}, {"name": "B", "ag"#,
    );
    let client = Client::new(p);
    let items: Vec<_> = client
        .create_iterable::<User>()
        .user("x")
        .send()
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().name, "A");
    assert!(
        matches!(items[1], Err(Error::IncompleteOutput { .. })),
        "{:?}",
        items[1]
    );
}

#[tokio::test]
async fn limits_bound_size_and_depth() {
    let p = ScriptedProvider::new().with_text(&"[".repeat(64));
    let client = Client::new(p).max_retries(0);
    let stream = client
        .create_partial::<User>()
        .limits(Limits {
            max_bytes: 1 << 20,
            max_depth: 16,
        })
        .user("x")
        .send()
        .await
        .unwrap();
    let last = stream.fold(None, |_, u| async { Some(u) }).await;
    let Some(Err(Error::RetriesExhausted { attempts, .. })) = last else {
        panic!("{last:?}")
    };
    assert!(matches!(
        attempts[0].error,
        Error::LimitExceeded { limit: 16, .. }
    ));

    let p = ScriptedProvider::new().with_text(&format!("{{\"name\": \"{}\"}}", "a".repeat(5000)));
    let client = Client::new(p).max_retries(0);
    let items: Vec<_> = client
        .create_iterable::<User>()
        .limits(Limits {
            max_bytes: 1000,
            max_depth: 16,
        })
        .user("x")
        .send()
        .await
        .unwrap()
        .collect()
        .await;
    assert!(
        matches!(
            items.last(),
            Some(Err(Error::RetriesExhausted { .. })) | Some(Err(Error::LimitExceeded { .. }))
        ),
        "{items:?}"
    );
}

#[tokio::test]
async fn dropping_the_stream_releases_the_provider_stream() {
    /// A provider whose stream records being dropped.
    #[derive(Debug)]
    struct Watched(Arc<AtomicBool>);
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    #[instructor::async_trait]
    impl instructor::Provider for Watched {
        fn name(&self) -> &str {
            "watched"
        }
        fn capabilities(&self) -> instructor::Capabilities {
            let mut c = instructor::Capabilities::new(&[Mode::Json]);
            c.streaming = true;
            c
        }
        async fn send(&self, _: &instructor::Request) -> Result<Response, Error> {
            Err(Error::Config("stream only".into()))
        }
        async fn stream(&self, _: &instructor::Request) -> Result<instructor::EventStream, Error> {
            let guard = Guard(self.0.clone());
            let mut first = true;
            // `{"name": "` and then letters forever: a string that never ends.
            let endless = futures::stream::repeat_with(move || {
                let _ = &guard;
                let text = if std::mem::take(&mut first) {
                    "{\"name\": \""
                } else {
                    "a"
                };
                Ok(instructor::StreamEvent::TextDelta(text.into()))
            });
            Ok(Box::pin(endless))
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let client = Client::new(Watched(dropped.clone()));
    let mut stream = client
        .create_partial::<User>()
        .user("x")
        .send()
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(matches!(stream.next().await, Some(Ok(Update::Partial(_)))));
    }
    assert!(!dropped.load(Ordering::SeqCst));
    drop(stream);
    assert!(
        dropped.load(Ordering::SeqCst),
        "dropping the stream dropped the provider's stream"
    );
}

#[tokio::test]
async fn providers_without_streaming_say_so() {
    let p = ScriptedProvider::new().with_capabilities(instructor::Capabilities::new(&[Mode::Json]));
    let client = Client::new(p);
    let err = client
        .create_partial::<User>()
        .user("x")
        .send()
        .await
        .err()
        .unwrap();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}
