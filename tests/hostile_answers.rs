//! Adversarial answers and stalling streams against the core: valid JSON is never altered
//! by the text modes, whole and streamed answers accept and reject the same text, iterable
//! extraction never ends in an empty success, and a stream that stalls or trickles ends
//! with a typed `Timeout` at its deadline.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::streams::{all_items, drain, last, start_partial, StreamOnly};
use futures::StreamExt;
use instructor::stream::Limits;
use instructor::testing::ScriptedProvider;
use instructor::{Client, Error, EventStream, Instruct, Mode, StreamEvent};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug, PartialEq, Clone)]
struct UserDetail {
    name: String,
    age: u8,
}

/// Every path a text can take: whole answers in each text mode and in tools mode, and the
/// streamed answer in chunks of several sizes.
async fn every_path(text: &str, repair: bool) -> Vec<(String, Result<UserDetail, String>)> {
    let mut out = Vec::new();
    for mode in [Mode::Json, Mode::MdJson, Mode::JsonSchema, Mode::Tools] {
        let p = match mode {
            Mode::Tools => ScriptedProvider::new().with_tool_call("UserDetail", text),
            _ => ScriptedProvider::new().with_text(text),
        };
        let client = Client::new(p).max_retries(0).repair(repair);
        let r = client.create::<UserDetail>().mode(mode).user("x").send();
        out.push((format!("whole {mode}"), r.await.map_err(|e| kind(&e))));
    }
    for chunk in [1, 3, 16, 4096] {
        let p = ScriptedProvider::new()
            .with_chunk_size(chunk)
            .with_text(text);
        let client = Client::new(p).max_retries(0).repair(repair);
        let call = client.create_partial::<UserDetail>().mode(Mode::Json);
        let (_, end) = drain(call.user("x")).await;
        let last = end.map(|(value, _)| value).map_err(|e| kind(&e));
        out.push((format!("stream/{chunk}"), last));
    }
    out
}

/// The error's kind, with the kind of the attempt inside a `RetriesExhausted`.
fn kind(e: &Error) -> String {
    match e {
        Error::RetriesExhausted { attempts, .. } => match &attempts[0].error {
            Error::Parse { .. } => "parse".into(),
            Error::Validation { .. } => "validation".into(),
            other => format!("{other:?}"),
        },
        other => format!("{other:?}"),
    }
}

fn assert_all(text: &str, expected: &Result<UserDetail, String>) {
    assert_all_with(text, true, expected);
}

fn assert_all_with(text: &str, repair: bool, expected: &Result<UserDetail, String>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (path, got) in rt.block_on(every_path(text, repair)) {
        assert_eq!(&got, expected, "{path} on {text:?} (repair {repair})");
    }
}

#[test]
fn valid_json_is_never_altered_by_text_modes() {
    let user = |name: &str| {
        Ok(UserDetail {
            name: name.into(),
            age: 30,
        })
    };
    assert_all(
        r#"{"name": "x<think>y</think>z", "age": 30}"#,
        &user("x<think>y</think>z"),
    );
    assert_all(r#"{"name": "<think>", "age": 30}"#, &user("<think>"));
    assert_all(r#"{"name": "</think>{", "age": 30}"#, &user("</think>{"));
    let pretty = "{\n  \"name\": \"```{\\\"age\\\": 99}```\",\n  \"age\": 30\n}";
    assert_all(pretty, &user("```{\"age\": 99}```"));
    assert_all("<think>{\"name\": \"no\", \"age\": 1}</think>\n```json\n{\"name\": \"J\", \"age\": 30}\n```", &user("J"));
}

#[test]
fn whole_and_streamed_answers_reject_the_same_text() {
    let control = "{\"name\": \"Ja\u{1}son\", \"age\": 30}";
    for bad in [
        r#"{"name": "Jason", "name": "Jay", "age": 30}"#,
        control,
        r#"{"name": "Ja\ud800son", "age": 30}"#,
        r#"{"name": "Jason\udc00", "age": 30}"#,
    ] {
        assert!(serde_json::from_str::<UserDetail>(bad).is_err(), "{bad}");
        assert_all_with(bad, false, &Err("parse".into()));
        if bad != control {
            assert_all_with(bad, true, &Err("parse".into()));
        }
    }
    // A raw control character in a string is what the repair pass escapes: with repair on,
    // every path (a stream too, judged whole once its parser rejects the text) repairs it.
    let repaired = UserDetail {
        name: "Ja\u{1}son".into(),
        age: 30,
    };
    assert_all_with(control, true, &Ok(repaired));
}

#[tokio::test]
async fn a_deep_answer_is_a_limit_error_whatever_the_limit() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let client = Client::new(
        ScriptedProvider::new()
            .with_chunk_size(4096)
            .with_text(&deep),
    )
    .max_retries(0);
    let unlimited = Limits {
        max_bytes: usize::MAX,
        max_depth: usize::MAX,
    };
    let call = client.create_partial::<UserDetail>().limits(unlimited);
    let (_, end) = drain(call.user("x")).await;
    let Err(Error::RetriesExhausted { attempts, .. }) = end else {
        panic!("{end:?}")
    };
    assert!(
        matches!(attempts[0].error, Error::LimitExceeded { limit: 128, .. }),
        "{:?}",
        attempts[0].error
    );
}

async fn items(text: &str, retries: u32) -> Vec<Result<UserDetail, Error>> {
    let client = Client::new(ScriptedProvider::new().with_text(text)).max_retries(retries);
    all_items(client.create_iterable::<UserDetail>().user("x")).await
}

#[tokio::test]
async fn iterable_takes_the_only_list_property_and_never_ends_empty() {
    let got = items(
        r#"{"users": [{"name": "A", "age": 1}, {"name": "B", "age": 2}]}"#,
        0,
    )
    .await;
    let names: Vec<_> = got
        .iter()
        .map(|r| r.as_ref().unwrap().name.clone())
        .collect();
    assert_eq!(names, ["A", "B"]);

    // A single object is not a list: a typed error, re-asked while nothing was shown.
    let got = items(r#"{"name": "A", "age": 1}"#, 0).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let Err(Error::RetriesExhausted { attempts, .. }) = &got[0] else {
        panic!("{got:?}")
    };
    assert!(
        matches!(&attempts[0].error, Error::Parse { message, .. } if message.contains("expected a list"))
    );

    let got = items("{}", 0).await;
    assert!(
        matches!(&got[..], [Err(Error::RetriesExhausted { .. })]),
        "{got:?}"
    );

    // A second property after the list: the items shown stand, then the error.
    let got = items(r#"{"users": [{"name": "A", "age": 1}], "total": 1}"#, 0).await;
    assert!(got[0].is_ok(), "{got:?}");
    assert!(
        matches!(&got[1], Err(Error::Parse { message, .. }) if message.contains("another property")),
        "{got:?}"
    );

    // The wrong shape, then a right one: re-asked.
    let client = Client::new(
        ScriptedProvider::new()
            .with_text(r#"{"name": "A", "age": 1}"#)
            .with_text(r#"[{"name": "A", "age": 1}]"#),
    );
    let got = all_items(client.create_iterable::<UserDetail>().user("x")).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().unwrap().name, "A");
}

/// A provider whose stream sends `events`, each (delay before, event), and then `forever`
/// for ever, or nothing more while it stays open.
fn timed(
    events: Vec<(Duration, StreamEvent)>,
    forever: Option<(Duration, StreamEvent)>,
) -> StreamOnly<impl Fn() -> EventStream + Send + Sync> {
    StreamOnly::new("timed", move || -> EventStream {
        let head = futures::stream::iter(events.clone()).then(|(d, e)| async move {
            tokio::time::sleep(d).await;
            Ok(e)
        });
        let tail = match forever.clone() {
            Some((d, e)) => futures::stream::repeat(e)
                .then(move |e| async move {
                    tokio::time::sleep(d).await;
                    Ok(e)
                })
                .boxed(),
            None => futures::stream::pending().boxed(),
        };
        Box::pin(head.chain(tail))
    })
}

async fn until_error(client: &Client) -> (Error, Duration) {
    let started = tokio::time::Instant::now();
    let mut stream = start_partial(client.create_partial::<UserDetail>().user("x")).await;
    while let Some(u) = stream.next().await {
        if let Err(e) = u {
            return (e, started.elapsed());
        }
    }
    panic!("the stream ended without an error")
}

#[tokio::test(start_paused = true)]
async fn a_stream_of_keepalives_ends_at_the_idle_timeout() {
    // Pings (usage events, empty deltas) every second after a first byte: no answer bytes.
    let p = timed(
        vec![(Duration::ZERO, StreamEvent::TextDelta("{\"na".into()))],
        Some((
            Duration::from_secs(1),
            StreamEvent::TextDelta(String::new()),
        )),
    );
    let client = Client::new(p).idle_timeout(Duration::from_secs(30));
    let (e, took) = until_error(&client).await;
    assert!(matches!(e, Error::Timeout), "{e:?}");
    assert!(
        took >= Duration::from_secs(30) && took < Duration::from_secs(32),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_trickling_stream_ends_at_the_total_deadline() {
    // One answer byte every 5 s, for ever: never idle, never done.
    let p = timed(
        vec![(
            Duration::ZERO,
            StreamEvent::TextDelta("{\"name\": \"".into()),
        )],
        Some((Duration::from_secs(5), StreamEvent::TextDelta("a".into()))),
    );
    let client = Client::new(p).idle_timeout(Duration::from_secs(10));
    let call = client.create_partial::<UserDetail>();
    let stream = start_partial(call.stream_timeout(Duration::from_secs(60)).user("x")).await;
    let started = tokio::time::Instant::now();
    let last = last(stream).await;
    assert!(matches!(last, Some(Err(Error::Timeout))), "{last:?}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(59) && took <= Duration::from_secs(61),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_ends_in_about_the_call_timeout_by_default() {
    // `[` and then nothing, with the stream left open; the items, and how long they took.
    let stalled = |settings: fn(Client) -> Client| async move {
        let p = timed(
            vec![(Duration::ZERO, StreamEvent::TextDelta("[".into()))],
            None,
        );
        let client = settings(Client::new(p));
        let started = tokio::time::Instant::now();
        let got = all_items(client.create_iterable::<UserDetail>().user("x")).await;
        (got, started.elapsed())
    };
    let (got, took) = stalled(|c| c.timeout(Duration::from_secs(20))).await;
    assert!(matches!(&got[..], [Err(Error::Timeout)]), "{got:?}");
    assert!(
        took >= Duration::from_secs(20) && took < Duration::from_secs(21),
        "{took:?}"
    );

    // With no timeout at all, a stall still ends (after the two-minute idle default).
    let (got, took) = stalled(|c| c).await;
    assert!(matches!(&got[..], [Err(Error::Timeout)]), "{got:?}");
    assert_eq!(took.as_secs(), 120);
}
