//! The engine's public seam (`prepare` / `interpret`) driven by hand, as a caller's own
//! transport would; every failure after a re-ask keeping the attempts before it; parts a
//! provider cannot take rejected before sending; streams reported to hooks like whole
//! answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::streams::{drain, failure};
use common::{ask, jason, UserDetail};
use instructor::engine::Step;
use instructor::testing::ScriptedProvider;
use instructor::{
    Client, Error, Event, FinishReason, Image, Message, Mode, Part, Response, RetryPolicy, Role,
    Usage,
};

#[test]
fn a_caller_drives_an_extraction_through_prepare_and_interpret() {
    let client = Client::new(ScriptedProvider::new())
        .mode(Mode::Tools)
        .max_retries(2);
    let mut prepared = client
        .create::<UserDetail>()
        .user("Jason is 30 years old")
        .prepare()
        .unwrap();
    // The request is provider-neutral and serializable, as a queue or batch file needs.
    let json = serde_json::to_value(prepared.request()).unwrap();
    assert_eq!(json["output"]["mode"], "tools");
    assert_eq!(json["output"]["tools"][0]["name"], "UserDetail");
    assert_eq!(json["messages"][0]["role"], "user");
    assert_eq!(
        json["messages"][0]["content"][0]["text"],
        "Jason is 30 years old"
    );

    let answer = |args: &str| {
        Response::tool_calls(vec![instructor::ToolCall {
            id: "call_1".into(),
            name: "UserDetail".into(),
            arguments: instructor::ToolArguments::Text(args.into()),
        }])
        .with_usage(Usage::new(10, 5))
    };
    // An invalid answer: the next request carries it and the error as a tool result.
    match prepared.interpret(answer(r#"{"name": "Jason", "age": 200}"#)) {
        Step::Reask(next) => {
            let last = next.messages.last().unwrap();
            assert_eq!(last.role, Role::Tool);
            assert!(last.text().contains("/age"), "{}", last.text());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(prepared.attempt(), 1);
    match prepared.interpret(answer(r#"{"name": "Jason", "age": 30}"#)) {
        Step::Done { value, completion } => {
            assert_eq!(value, jason());
            assert_eq!(completion.attempts.len(), 1);
            assert_eq!(completion.usage, Usage::new(10, 5) + Usage::new(10, 5));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn interpret_ends_with_every_attempt_kept() {
    let client = Client::new(ScriptedProvider::new()).max_retries(1);
    let mut prepared = client.create::<UserDetail>().user("x").prepare().unwrap();
    assert!(matches!(
        prepared.interpret(Response::text("nope")),
        Step::Reask(_)
    ));
    // A refusal after a re-ask: typed, and the failed attempt before it is kept.
    let refusal = Response::text("I can't").with_finish_reason(FinishReason::Refusal);
    let Step::Failed(e) = prepared.interpret(refusal) else {
        panic!()
    };
    let Error::AfterAttempts {
        error, attempts, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert!(matches!(**error, Error::Refusal { .. }));
    assert!(matches!(e.root(), Error::Refusal { .. }));
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].raw, "nope");
}

#[tokio::test]
async fn a_transport_error_after_a_reask_keeps_the_attempts() {
    let p = ScriptedProvider::new()
        .with_text(r#"{"name": "Jason", "age": 200}"#)
        .with_error(Error::Http {
            status: 401,
            body: "bad key".into(),
        });
    let client = Client::new(p).transport_retries(RetryPolicy::none());
    let err = failure(client.create::<UserDetail>().user("x")).await;
    let Error::AfterAttempts {
        error,
        attempts,
        usage,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(matches!(**error, Error::Http { status: 401, .. }));
    assert_eq!(err.status(), Some(401));
    assert_eq!(attempts.len(), 1);
    assert!(matches!(attempts[0].error, Error::Validation { .. }));
    assert_eq!(usage.requests, 1);

    // The same in a stream: the first attempt is kept when the re-ask's stream fails.
    let p = ScriptedProvider::new()
        .with_text(r#"{"name": "Jason", "age": 200}"#)
        .with_error(Error::Timeout);
    let client = Client::new(p).transport_retries(RetryPolicy::none());
    let (_, end) = drain(client.create_partial::<UserDetail>().user("x")).await;
    let Err(Error::AfterAttempts {
        error, attempts, ..
    }) = end
    else {
        panic!("{end:?}")
    };
    assert!(matches!(*error, Error::Timeout));
    assert_eq!(attempts.len(), 1);
}

#[tokio::test]
async fn an_image_the_provider_cannot_take_fails_before_sending() {
    use instructor::Capabilities;
    let p = ScriptedProvider::new()
        .with_capabilities(Capabilities::new(&[Mode::Json]))
        .with_text(r#"{"name": "Jason", "age": 30}"#);
    let client = Client::new(p.clone());
    let mut message = Message::user("Who is this?");
    message.content.push(Part::Image(Image::Url(
        "https://example.invalid/a.png".into(),
    )));
    let err = failure(client.create::<UserDetail>().message(message)).await;
    // The typed refusal names the message, the part and its kind.
    assert!(
        matches!(
            &err,
            Error::UnsupportedPart { message: 0, part: 1, kind, .. }
                if kind.to_string().contains("image")
        ),
        "{err:?}"
    );
    assert!(p.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn streams_tell_hooks_what_whole_answers_do() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let hook = move |e: &Event<'_>| {
        let name = match e {
            Event::RequestSent { .. } => "sent",
            Event::ResponseReceived { .. } => "received",
            Event::ValidationError { .. } => "invalid",
            Event::ParseError { .. } => "unparsable",
            Event::Reask { .. } => "reask",
            _ => "other",
        };
        log.lock().unwrap().push(name);
    };
    let script = || {
        ScriptedProvider::new()
            .with_text(r#"{"name": "Jason", "age": 200}"#)
            .with_text(r#"{"name": "Jason", "age": 30}"#)
    };
    let client = Client::new(script()).hook(hook.clone());
    ask::<UserDetail>(&client, "x").await.unwrap();
    let whole = std::mem::take(&mut *seen.lock().unwrap());

    let client = Client::new(script()).hook(hook);
    let (_, end) = drain(client.create_partial::<UserDetail>().user("x")).await;
    end.unwrap();
    let streamed = seen.lock().unwrap().clone();
    assert_eq!(
        whole,
        ["sent", "received", "invalid", "reask", "sent", "received"]
    );
    assert_eq!(streamed, whole);
}
