//! A fleet of servers behind one provider: `Pool` (round robin, least in flight, ejection
//! and probes, common capabilities, streams) and `Fallback` (transport errors, unsupported
//! modes, errors that return at once, re-asks).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::slow::Slow;
use common::{ask, ask_in, jason, UserDetail, JASON};
use futures::StreamExt;
use instructor::providers::{Fallback, Pool, Strategy};
use instructor::stream::{PartialStream, Update};
use instructor::testing::ScriptedProvider;
use instructor::{Capabilities, Client, Error, Mode, Provider, RetryPolicy};

const TEXT: &str = "Jason is 30 years old";

fn unavailable() -> Error {
    Error::Http {
        status: 503,
        body: "overloaded".into(),
    }
}

fn refused() -> Error {
    Error::Connect {
        message: "connection refused".into(),
        source: None,
    }
}

/// A client that shows every failure as it is (no transport retries).
fn raw_client(provider: Arc<dyn Provider>) -> Client {
    Client::from_shared(provider).transport_retries(RetryPolicy::none())
}

fn answering(n: usize) -> ScriptedProvider {
    (0..n).fold(ScriptedProvider::new(), |p, _| p.with_text(JASON))
}

/// Starts a partial stream of the text's user and reads its first update, which must be a
/// partial value; the stream, open.
async fn first_partial(client: &Client) -> PartialStream<'_, UserDetail> {
    let mut stream = client
        .create_partial::<UserDetail>()
        .user(TEXT)
        .send()
        .await
        .unwrap();
    assert!(matches!(stream.next().await, Some(Ok(Update::Partial(_)))));
    stream
}

fn in_flight(pool: &Pool) -> usize {
    pool.status().iter().map(|m| m.in_flight).sum()
}

#[tokio::test]
async fn round_robin_spreads_calls_evenly() {
    let (a, b) = (answering(3), answering(3));
    let client = Client::new(Pool::new([a.clone(), b.clone()]));
    for _ in 0..6 {
        assert_eq!(ask::<UserDetail>(&client, TEXT).await.unwrap(), jason());
    }
    assert_eq!((a.requests().len(), b.requests().len()), (3, 3));
}

#[tokio::test(start_paused = true)]
async fn least_in_flight_prefers_the_idle_member() {
    let slow = answering(4);
    let fast = answering(4);
    let pool = Arc::new(
        Pool::new([Slow {
            inner: slow.clone(),
            delay: Duration::from_millis(200),
        }])
        .and(fast.clone())
        .strategy(Strategy::LeastInFlight),
    );
    let client = raw_client(pool.clone());
    let busy = ask::<UserDetail>(&client, TEXT);
    let others = async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(in_flight(&pool), 1, "the slow call is under way");
        for _ in 0..3 {
            ask::<UserDetail>(&client, TEXT).await.unwrap();
        }
    };
    let (first, ()) = tokio::join!(busy, others);
    first.unwrap();
    assert_eq!(slow.requests().len(), 1);
    assert_eq!(
        fast.requests().len(),
        3,
        "every call went to the idle member"
    );
    assert_eq!(in_flight(&pool), 0);
}

#[tokio::test(start_paused = true)]
async fn a_failing_member_is_ejected_probed_and_brought_back() {
    let a = ScriptedProvider::new()
        .with_error(unavailable())
        .with_error(unavailable())
        .with_error(unavailable())
        .with_error(unavailable())
        .with_text(JASON)
        .with_text(JASON);
    let b = answering(20);
    let pool = Arc::new(
        Pool::new([a.clone(), b.clone()])
            .eject_after(3)
            .probe_after(Duration::from_millis(100)),
    );
    let client = raw_client(pool.clone());
    let mut failures = 0;
    for _ in 0..6 {
        if ask::<UserDetail>(&client, TEXT).await.is_err() {
            failures += 1;
        }
    }
    assert_eq!(failures, 3, "the pool does not retry a failed call itself");
    assert_eq!(a.requests().len(), 3);
    assert!(pool.status()[0].ejected);
    for _ in 0..4 {
        ask::<UserDetail>(&client, TEXT).await.unwrap();
    }
    assert_eq!(
        a.requests().len(),
        3,
        "no request reached the ejected member"
    );

    // The probe fails: the wait starts again.
    tokio::time::advance(Duration::from_millis(150)).await;
    assert!(ask::<UserDetail>(&client, TEXT).await.is_err());
    assert_eq!(
        a.requests().len(),
        4,
        "the probe went to the ejected member"
    );
    assert!(pool.status()[0].ejected);
    ask::<UserDetail>(&client, TEXT).await.unwrap();
    assert_eq!(a.requests().len(), 4);

    // The next probe succeeds: the member is back in turn.
    tokio::time::advance(Duration::from_millis(150)).await;
    ask::<UserDetail>(&client, TEXT).await.unwrap();
    assert_eq!(a.requests().len(), 5);
    assert!(!pool.status()[0].ejected);
    assert_eq!(pool.status()[0].consecutive_failures, 0);
    let before = b.requests().len();
    ask::<UserDetail>(&client, TEXT).await.unwrap();
    ask::<UserDetail>(&client, TEXT).await.unwrap();
    assert_eq!(a.requests().len(), 6);
    assert_eq!(b.requests().len(), before + 1);
}

#[tokio::test]
async fn a_pool_with_every_member_ejected_still_tries() {
    let a = ScriptedProvider::new()
        .with_error(unavailable())
        .with_text(JASON);
    let b = ScriptedProvider::new()
        .with_error(unavailable())
        .with_text(JASON);
    let pool = Arc::new(Pool::new([a.clone(), b.clone()]).eject_after(1));
    let client = raw_client(pool.clone());
    assert!(ask::<UserDetail>(&client, TEXT).await.is_err());
    assert!(ask::<UserDetail>(&client, TEXT).await.is_err());
    assert!(pool.status().iter().all(|m| m.ejected));
    assert_eq!(ask::<UserDetail>(&client, TEXT).await.unwrap(), jason());
    assert_eq!(a.requests().len() + b.requests().len(), 3);
    assert_eq!(pool.status().iter().filter(|m| m.ejected).count(), 1);
}

#[tokio::test]
async fn transport_retries_go_to_the_next_member() {
    let a = ScriptedProvider::new().with_error(unavailable());
    let b = answering(1);
    let client = Client::new(Pool::new([a.clone(), b.clone()])).transport_retries(RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        ..RetryPolicy::default()
    });
    assert_eq!(ask::<UserDetail>(&client, TEXT).await.unwrap(), jason());
    assert_eq!((a.requests().len(), b.requests().len()), (1, 1));
}

#[tokio::test]
async fn a_pool_declares_what_every_member_can_do() {
    let full = ScriptedProvider::new();
    let json_only = ScriptedProvider::new().with_capabilities(
        Capabilities::new(&[Mode::MdJson, Mode::Json]).with_default_mode(Mode::MdJson),
    );
    let pool = Pool::new([full.clone(), json_only.clone()]);
    let capabilities = pool.capabilities();
    assert_eq!(capabilities.modes, [Mode::Json, Mode::MdJson]);
    assert_eq!(capabilities.default_mode, Mode::Json);
    assert!(!capabilities.streaming && !capabilities.images);
    assert_eq!(pool.cache_identity(), "pool[scripted,scripted]");

    let client = Client::new(pool);
    let err = ask_in::<UserDetail>(&client, Mode::Tools, TEXT)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedMode {
                mode: Mode::Tools,
                ..
            }
        ),
        "{err:?}"
    );
    let Err(err) = client
        .create_partial::<UserDetail>()
        .user(TEXT)
        .send()
        .await
    else {
        panic!("the stream started")
    };
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
    assert!(full.requests().is_empty() && json_only.requests().is_empty());
}

#[tokio::test]
async fn streams_go_through_the_pool_and_count_in_flight() {
    let a = ScriptedProvider::new().with_chunk_size(4).with_text(JASON);
    let b = ScriptedProvider::new().with_chunk_size(4).with_text(JASON);
    let pool = Arc::new(Pool::new([a.clone(), b.clone()]));
    let client = raw_client(pool.clone());

    let mut stream = first_partial(&client).await;
    assert_eq!(pool.status()[0].in_flight, 1, "an open stream is in flight");
    let mut value = None;
    while let Some(update) = stream.next().await {
        if let Update::Complete { value: v, .. } = update.unwrap() {
            value = Some(v);
        }
    }
    drop(stream);
    assert_eq!(value.unwrap(), jason());
    assert_eq!(in_flight(&pool), 0);

    // A stream dropped half read is no longer in flight.
    let stream = first_partial(&client).await;
    assert_eq!(pool.status()[1].in_flight, 1);
    drop(stream);
    assert_eq!(in_flight(&pool), 0);
    assert_eq!((a.requests().len(), b.requests().len()), (1, 1));
}

#[tokio::test]
async fn a_stream_that_fails_to_open_counts_as_a_failure() {
    let a = ScriptedProvider::new().with_error(unavailable());
    let pool = Arc::new(Pool::new([a.clone()]).eject_after(1));
    let client = raw_client(pool.clone());
    assert!(client
        .create_partial::<UserDetail>()
        .user(TEXT)
        .send()
        .await
        .is_err());
    assert!(pool.status()[0].ejected);
    assert_eq!(in_flight(&pool), 0);
}

#[tokio::test]
async fn fallback_moves_on_after_transport_errors() {
    for error in [refused(), unavailable()] {
        let first = ScriptedProvider::new().with_error(error);
        let second = answering(1);
        let client = raw_client(Arc::new(Fallback::new(first.clone()).or(second.clone())));
        assert_eq!(ask::<UserDetail>(&client, TEXT).await.unwrap(), jason());
        assert_eq!((first.requests().len(), second.requests().len()), (1, 1));
    }
}

#[tokio::test]
async fn fallback_skips_a_member_without_the_mode() {
    let first = ScriptedProvider::new()
        .with_capabilities(Capabilities::new(&[Mode::Json]))
        .with_text(JASON);
    let second = ScriptedProvider::new().with_tool_call("UserDetail", JASON);
    let fallback = Fallback::new(first.clone()).or(second.clone());
    assert!(fallback.capabilities().supports(Mode::Tools));
    assert_eq!(fallback.capabilities().default_mode, Mode::Json);
    let client = raw_client(Arc::new(fallback));
    let user = ask_in::<UserDetail>(&client, Mode::Tools, TEXT)
        .await
        .unwrap();
    assert_eq!(user, jason());
    assert!(
        first.requests().is_empty(),
        "the first member was not called"
    );
    assert_eq!(second.requests().len(), 1);
}

#[tokio::test]
async fn fallback_returns_other_errors_at_once() {
    let first = ScriptedProvider::new().with_error(Error::Http {
        status: 401,
        body: "bad key".into(),
    });
    let second = answering(1);
    let client = raw_client(Arc::new(Fallback::new(first.clone()).or(second.clone())));
    let err = ask::<UserDetail>(&client, TEXT).await.unwrap_err();
    assert!(
        matches!(err.root(), Error::Http { status: 401, .. }),
        "{err:?}"
    );
    assert!(second.requests().is_empty());
}

#[tokio::test]
async fn fallback_returns_the_last_error_when_all_fail() {
    let first = ScriptedProvider::new().with_error(refused());
    let second = ScriptedProvider::new().with_error(unavailable());
    let client = raw_client(Arc::new(Fallback::new(first).or(second)));
    let err = ask::<UserDetail>(&client, TEXT).await.unwrap_err();
    assert_eq!(err.root().status(), Some(503), "{err:?}");
}

#[tokio::test]
async fn reasks_go_through_the_fallback() {
    let first = ScriptedProvider::new()
        .with_error(refused())
        .with_error(refused());
    let second = ScriptedProvider::new()
        .with_text("Jason, thirty years old")
        .with_text(JASON);
    let client = raw_client(Arc::new(Fallback::new(first.clone()).or(second.clone())));
    assert_eq!(ask::<UserDetail>(&client, TEXT).await.unwrap(), jason());
    assert_eq!((first.requests().len(), second.requests().len()), (2, 2));
    let reask = second.requests()[1].messages.last().unwrap().text();
    assert!(reask.contains("could not be parsed"), "{reask}");
}

#[tokio::test]
async fn fallback_streams_with_a_member_that_streams() {
    let first = ScriptedProvider::new()
        .with_capabilities(Capabilities::new(&[Mode::Json]))
        .with_text(JASON);
    let second = ScriptedProvider::new().with_text(JASON);
    let client = raw_client(Arc::new(Fallback::new(first.clone()).or(second.clone())));
    let stream = client
        .create_partial::<UserDetail>()
        .user(TEXT)
        .send()
        .await
        .unwrap();
    let updates: Vec<_> = stream.collect().await;
    assert!(matches!(
        updates.last(),
        Some(Ok(Update::Complete { value, .. })) if *value == jason()
    ));
    assert!(first.requests().is_empty());
}

#[tokio::test]
async fn a_pool_nests_in_a_fallback() {
    let local = Pool::new([
        ScriptedProvider::new().with_error(refused()),
        ScriptedProvider::new().with_error(refused()),
    ]);
    let hosted = answering(1);
    let fallback = Fallback::new(local).or(hosted.clone());
    assert_eq!(
        fallback.cache_identity(),
        "fallback[pool[scripted,scripted],scripted]"
    );
    let client = raw_client(Arc::new(fallback));
    assert_eq!(ask::<UserDetail>(&client, TEXT).await.unwrap(), jason());
    assert_eq!(hosted.requests().len(), 1);
}
