//! Streaming extraction against a scripted provider that streams its answers in chunks:
//! partial snapshots, iterable items, re-asks, truncation, cancellation and limits.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::streams::{all_items, drain, start_partial, StreamOnly};
use futures::StreamExt;
use instructor::stream::{Limits, Update};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Error, EventStream, FinishReason, Instruct, Mode, Response, Usage};
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
    let (partials, end) = drain(client.create_partial::<User>().mode(mode).user("x")).await;
    (partials, end.map(|(value, _)| value))
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
    let (_, end) = drain(client.create_partial::<User>().user("x")).await;
    let (value, usage) = end.unwrap();
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
    let (_, end) = drain(client.create_partial::<User>().user("x")).await;
    assert!(
        matches!(end, Err(Error::RetriesExhausted { ref attempts, .. }) if attempts.len() == 2),
        "{end:?}"
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
        let items = all_items(client.create_iterable::<User>().user("x")).await;
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
    let items = all_items(client.create_iterable::<User>().user("x")).await;
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
    let limits = |max_bytes| Limits {
        max_bytes,
        max_depth: 16,
    };
    let p = ScriptedProvider::new().with_text(&"[".repeat(64));
    let client = Client::new(p).max_retries(0);
    let call = client.create_partial::<User>().limits(limits(1 << 20));
    let (_, end) = drain(call.user("x")).await;
    let Err(Error::RetriesExhausted { attempts, .. }) = end else {
        panic!("{end:?}")
    };
    assert!(matches!(
        attempts[0].error,
        Error::LimitExceeded { limit: 16, .. }
    ));

    let p = ScriptedProvider::new().with_text(&format!("{{\"name\": \"{}\"}}", "a".repeat(5000)));
    let client = Client::new(p).max_retries(0);
    let call = client.create_iterable::<User>().limits(limits(1000));
    let items = all_items(call.user("x")).await;
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
    /// Records being dropped.
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let watched = dropped.clone();
    // A provider whose stream records being dropped.
    let client = Client::new(StreamOnly::new("watched", move || -> EventStream {
        let guard = Guard(watched.clone());
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
        Box::pin(endless)
    }));
    let mut stream = start_partial(client.create_partial::<User>().user("x")).await;
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
    let Err(err) = client.create_partial::<User>().user("x").send().await else {
        panic!("the stream started")
    };
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}
