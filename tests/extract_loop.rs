//! The extraction loop against a scripted in-memory provider: success, parse and validation
//! re-asks, exhausted retries, refusals, truncation, transport retries, usage, and
//! concurrent use.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

mod common;

use common::{ask, ask_completion, ask_in, jason, recorder, variant, UserDetail, JASON};
use instructor::testing::ScriptedProvider;
use instructor::{
    Client, Error, Event, FinishReason, Instruct, Message, Mode, Repair, Response, RetryPolicy,
    Role, ToolArguments, ToolCall, Usage,
};
use serde::Deserialize;

/// A hook that keeps the delay of every transport retry.
fn retry_delays() -> (
    std::sync::Arc<std::sync::Mutex<Vec<Duration>>>,
    impl Fn(&Event<'_>) + Send + Sync + 'static,
) {
    recorder(|e| match e {
        Event::TransportRetry { delay, .. } => Some(*delay),
        _ => None,
    })
}

fn client(p: &ScriptedProvider) -> Client {
    Client::new(p.clone()).transport_retries(RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        ..RetryPolicy::default()
    })
}

#[tokio::test]
async fn success_first_time() {
    let p = ScriptedProvider::new().with_text(JASON);
    let (user, completion) = ask_completion::<UserDetail>(&client(&p), "Jason is 30 years old")
        .await
        .unwrap();
    assert_eq!(user, jason());
    assert!(completion.attempts.is_empty());
    assert!(completion.repairs.is_empty());
    assert_eq!(completion.usage, Usage::new(10, 5));
    assert_eq!(completion.mode, Mode::Json);
    assert_eq!(p.requests().len(), 1);
}

#[tokio::test]
async fn invalid_json_then_success() {
    let p = ScriptedProvider::new()
        .with_text("I think the user is Jason, aged thirty.")
        .with_text(JASON);
    let (user, completion) = ask_completion::<UserDetail>(&client(&p), "Jason is 30 years old")
        .await
        .unwrap();
    assert_eq!(user, jason());
    assert_eq!(completion.attempts.len(), 1);
    assert!(matches!(completion.attempts[0].error, Error::Parse { .. }));
    assert_eq!(completion.usage, Usage::new(10, 5) + Usage::new(10, 5));
    let second = &p.requests()[1];
    let last = second.messages.last().unwrap();
    assert_eq!(last.role, Role::User);
    assert!(last.text().contains("could not be parsed"));
    assert!(
        last.text().contains("aged thirty"),
        "the re-ask quotes the previous answer"
    );
}

#[tokio::test]
async fn validation_error_then_success_reasks_with_path_and_answer() {
    let p = ScriptedProvider::new()
        .with_text(r#"{"name": "Jason", "age": 200}"#)
        .with_text(JASON);
    let user = ask::<UserDetail>(&client(&p), "Jason is 30 years old")
        .await
        .unwrap();
    assert_eq!(user, jason());
    let reask = p.requests()[1].messages.clone();
    let n = reask.len();
    assert_eq!(reask[n - 2].role, Role::Assistant);
    assert_eq!(reask[n - 2].text(), r#"{"name": "Jason", "age": 200}"#);
    let feedback = reask[n - 1].text();
    assert!(
        feedback.contains("/age: must be at most 150, got 200"),
        "{feedback}"
    );
    assert!(feedback.contains(r#""age": 200"#), "{feedback}");
}

#[tokio::test]
async fn tool_mode_reasks_with_an_error_tool_result() {
    let p = ScriptedProvider::new()
        .with_tool_call("UserDetail", r#"{"name": "Jason", "age": 200}"#)
        .with_tool_call("UserDetail", JASON);
    let user = ask::<UserDetail>(&client(&p).mode(Mode::Tools), "Jason is 30")
        .await
        .unwrap();
    assert_eq!(user, jason());
    let first = &p.requests()[0];
    assert_eq!(first.output.tools.len(), 1);
    assert_eq!(first.output.tools[0].name, "UserDetail");
    let second = &p.requests()[1].messages;
    let n = second.len();
    assert_eq!(second[n - 2].tool_calls.len(), 1);
    assert_eq!(second[n - 1].role, Role::Tool);
    assert!(second[n - 1].is_error);
    assert_eq!(second[n - 1].tool_call_id.as_deref(), Some("call_0"));
    assert!(second[n - 1].text().contains("/age"));
}

#[tokio::test]
async fn exhausted_retries_keep_every_attempt_and_the_total_usage() {
    let p = ScriptedProvider::new()
        .with_text("nope")
        .with_text(r#"{"name": "Jason", "age": 200}"#)
        .with_text(r#"{"name": "Jason", "age": 201}"#);
    let err = ask::<UserDetail>(&client(&p).max_retries(2), "Jason")
        .await
        .unwrap_err();
    let Error::RetriesExhausted { attempts, usage } = err else {
        panic!("expected RetriesExhausted, got {err:?}")
    };
    assert_eq!(attempts.len(), 3);
    assert_eq!(attempts[0].raw, "nope");
    assert!(matches!(attempts[0].error, Error::Parse { .. }));
    assert!(matches!(&attempts[2].error, Error::Validation { errors, .. } if errors.len() == 1));
    assert_eq!(usage.requests, 3);
    assert_eq!(usage.total_tokens, 45);
    assert_eq!(
        p.requests().len(),
        3,
        "max_retries(2) makes at most 3 calls"
    );
}

#[tokio::test]
async fn zero_retries_makes_one_call() {
    let p = ScriptedProvider::new().with_text("{}").with_text("{}");
    let err = ask::<UserDetail>(&client(&p).max_retries(0), "x").await;
    assert!(
        matches!(err, Err(Error::RetriesExhausted { ref attempts, .. }) if attempts.len() == 1)
    );
    assert_eq!(p.remaining(), 1);
}

#[tokio::test]
async fn refusal_is_returned_at_once() {
    let mut refused = Response::text("");
    refused.refusal = Some("I can't help with that.".into());
    let p = ScriptedProvider::new()
        .with_response(refused)
        .with_text(JASON);
    let err = ask::<UserDetail>(&client(&p), "x").await.unwrap_err();
    assert!(matches!(err, Error::Refusal { ref message } if message.contains("can't help")));
    assert_eq!(p.requests().len(), 1, "refusals are not re-asked");
}

#[tokio::test]
async fn content_filter_is_returned_at_once() {
    let p = ScriptedProvider::new()
        .with_response(Response::text("").with_finish_reason(FinishReason::ContentFilter));
    let err = ask::<UserDetail>(&client(&p), "x").await.unwrap_err();
    assert!(matches!(err, Error::ContentFilter { .. }));
}

#[tokio::test]
async fn length_is_incomplete_output_not_a_parse_error() {
    let p = ScriptedProvider::new().with_response(
        Response::text(r#"{"name": "Jas"#)
            .with_finish_reason(FinishReason::Length)
            .with_usage(Usage::new(7, 16)),
    );
    let err = ask::<UserDetail>(&client(&p), "x").await.unwrap_err();
    let Error::IncompleteOutput { partial, usage } = err else {
        panic!("expected IncompleteOutput, got {err:?}")
    };
    assert_eq!(partial, r#"{"name": "Jas"#);
    assert_eq!(usage.output_tokens, 16);
}

#[tokio::test]
async fn transport_error_then_success() {
    let p = ScriptedProvider::new()
        .with_error(Error::Connect {
            message: "connection refused".into(),
            source: None,
        })
        .with_error(Error::Http {
            status: 503,
            body: "overloaded".into(),
        })
        .with_text(JASON);
    let (retries, hook) = retry_delays();
    let user = ask::<UserDetail>(&client(&p).hook(hook), "x")
        .await
        .unwrap();
    assert_eq!(user, jason());
    assert_eq!(retries.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn permanent_http_errors_are_not_retried() {
    for status in [400, 401, 403, 404] {
        let p = ScriptedProvider::new()
            .with_error(Error::Http {
                status,
                body: "no".into(),
            })
            .with_text(JASON);
        let err = ask::<UserDetail>(&client(&p), "x").await.unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert_eq!(p.requests().len(), 1);
    }
    let p = ScriptedProvider::new().with_error(Error::QuotaExhausted {
        status: 429,
        body: "insufficient_quota".into(),
    });
    let err = ask::<UserDetail>(&client(&p), "x").await.unwrap_err();
    assert!(matches!(err, Error::QuotaExhausted { .. }));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_for_retry_after() {
    let p = ScriptedProvider::new()
        .with_error(Error::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
            body: "slow down".into(),
        })
        .with_text(JASON);
    let (delays, hook) = retry_delays();
    let started = tokio::time::Instant::now();
    let user = ask::<UserDetail>(&Client::new(p.clone()).hook(hook), "x")
        .await
        .unwrap();
    assert_eq!(user, jason());
    assert_eq!(*delays.lock().unwrap(), [Duration::from_secs(7)]);
    assert!(started.elapsed() >= Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn transport_retries_are_bounded() {
    let mut p = ScriptedProvider::new();
    for _ in 0..10 {
        p = p.with_error(Error::Timeout);
    }
    let bounded = Client::new(p.clone()).transport_retries(RetryPolicy {
        max_retries: 2,
        ..RetryPolicy::default()
    });
    let err = ask::<UserDetail>(&bounded, "x").await.unwrap_err();
    assert!(matches!(err, Error::Timeout));
    assert_eq!(p.requests().len(), 3);

    // A Retry-After past the total budget is returned instead of waited for.
    let p = ScriptedProvider::new().with_error(Error::RateLimited {
        retry_after: Some(Duration::from_secs(3600)),
        body: String::new(),
    });
    let err = ask::<UserDetail>(&Client::new(p.clone()), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    assert_eq!(p.requests().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn client_timeout_bounds_each_call() {
    #[derive(Debug)]
    struct Slow;
    #[instructor::async_trait]
    impl instructor::Provider for Slow {
        fn name(&self) -> &str {
            "slow"
        }
        fn capabilities(&self) -> instructor::Capabilities {
            instructor::Capabilities::new(&[Mode::Json])
        }
        async fn send(&self, _: &instructor::Request) -> Result<Response, Error> {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(Response::text("{}"))
        }
    }
    let slow = Client::new(Slow)
        .timeout(Duration::from_secs(1))
        .transport_retries(RetryPolicy::none());
    let err = ask::<UserDetail>(&slow, "x").await.unwrap_err();
    assert!(matches!(err, Error::Timeout));
}

#[tokio::test]
async fn caller_messages_are_never_mutated() {
    let p = ScriptedProvider::new()
        .with_text(r#"{"name": "Jason", "age": 200}"#)
        .with_text(JASON);
    let messages = vec![Message::system("Be precise."), Message::user("Jason is 30")];
    let before = messages.clone();
    let _ = client(&p)
        .create::<UserDetail>()
        .messages(messages.iter().cloned())
        .send()
        .await
        .unwrap();
    assert_eq!(messages, before);
    // The first request carried the caller's messages; the schema went into their system
    // message (JSON mode), and re-asks only ever appended.
    let first = &p.requests()[0].messages;
    assert_eq!(first.len(), 2);
    assert!(first[0].text().starts_with("Be precise."));
    assert!(first[0].text().contains("JSON Schema"));
    assert_eq!(first[1], before[1]);
    assert_eq!(&p.requests()[1].messages[..2], &first[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_serves_many_tasks() {
    let mut p = ScriptedProvider::new();
    for i in 0..64 {
        p = p.with_text(&format!(r#"{{"name": "user{i}", "age": {}}}"#, i % 100));
    }
    let client = client(&p);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { UserDetail::extract(&client, "someone").await })
        })
        .collect();
    let mut names = Vec::new();
    for t in tasks {
        names.push(t.await.unwrap().unwrap().name);
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 64, "every task got its own answer");
}

#[tokio::test]
async fn repairs_are_applied_and_reported() {
    let p = ScriptedProvider::new().with_text("Sure:\n{name: 'Jason', age: 30,}");
    let (user, completion) = ask_completion::<UserDetail>(&client(&p), "x")
        .await
        .unwrap();
    assert_eq!(user, jason());
    assert!(completion.repairs.contains(&Repair::UnquotedKey));
    assert!(completion.repairs.contains(&Repair::SingleQuotes));
    assert!(completion.repairs.contains(&Repair::TrailingComma));

    let p = ScriptedProvider::new().with_text("{name: 'Jason', age: 30}");
    let err = ask::<UserDetail>(&client(&p).repair(false).max_retries(0), "x").await;
    assert!(err.is_err(), "with repair off the near-JSON is rejected");
}

#[tokio::test]
async fn lists_and_enums_extract_like_any_type() {
    /// Sentiment of a text.
    #[derive(Instruct, Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Label {
        Positive,
        Negative,
    }
    let p = ScriptedProvider::new()
        .with_text(r#"{"items": [{"name": "A", "age": 1}, {"name": "B", "age": 2}]}"#)
        .with_text(r#"[{"name": "C", "age": 3}]"#)
        .with_tool_call("Label", r#"{"value": "negative"}"#);
    let c = client(&p);
    let users = Vec::<UserDetail>::extract(&c, "A is 1, B is 2")
        .await
        .unwrap();
    assert_eq!(users.len(), 2);
    let bare = Vec::<UserDetail>::extract(&c, "C is 3").await.unwrap();
    assert_eq!(bare[0].name, "C");
    let label = ask_in::<Label>(&c, Mode::Tools, "awful").await.unwrap();
    assert_eq!(label, Label::Negative);
}

#[tokio::test]
async fn wrapped_validation_paths_name_the_wrapper() {
    let p = ScriptedProvider::new()
        .with_text(r#"{"items": [{"name": "A", "age": 1}, {"name": "B", "age": 222}]}"#);
    let err = ask::<Vec<UserDetail>>(&client(&p).max_retries(0), "x")
        .await
        .unwrap_err();
    let Error::RetriesExhausted { attempts, .. } = err else {
        panic!()
    };
    let Error::Validation { errors, .. } = &attempts[0].error else {
        panic!()
    };
    assert_eq!(errors.iter().next().unwrap().path, "/items/1/age");
}

#[tokio::test]
async fn parallel_tools_parse_each_call_into_its_variant() {
    #[derive(Instruct, Deserialize, Debug, PartialEq)]
    struct Weather {
        city: String,
    }
    #[derive(Instruct, Deserialize, Debug, PartialEq)]
    struct Search {
        #[instruct(non_empty)]
        query: String,
    }
    /// What the user wants done.
    #[derive(Instruct, Deserialize, Debug, PartialEq)]
    enum Action {
        /// Look up the weather.
        Weather(Weather),
        /// Search the web.
        Search(Search),
    }
    let call = |id: &str, name: &str, args: &str| ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: ToolArguments::Text(args.into()),
    };
    let p = ScriptedProvider::new()
        .with_response(Response::tool_calls(vec![
            call("1", "Weather", r#"{"city": "Paris"}"#),
            call("2", "Search", r#"{"query": ""}"#),
        ]))
        .with_response(Response::tool_calls(vec![
            call("3", "Weather", r#"{"city": "Paris"}"#),
            call("4", "Search", r#"{"query": "rust"}"#),
            call("5", "Weather", r#"{"city": "Oslo"}"#),
        ]));
    let asked = "Weather in Paris and Oslo, and search rust";
    let actions = ask_in::<Vec<Action>>(&client(&p), Mode::ParallelTools, asked)
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            Action::Weather(Weather {
                city: "Paris".into()
            }),
            Action::Search(Search {
                query: "rust".into()
            }),
            Action::Weather(Weather {
                city: "Oslo".into()
            }),
        ]
    );
    let first = &p.requests()[0];
    let names: Vec<&str> = first.output.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Weather", "Search"]);
    assert_eq!(
        first.output.tools[0].description.as_deref(),
        Some("Look up the weather.")
    );
    assert_eq!(first.output.tools[1].parameters["required"][0], "query");
    // Both calls of the failed attempt were answered with an error tool result.
    let reask = &p.requests()[1].messages;
    assert_eq!(reask.iter().filter(|m| m.role == Role::Tool).count(), 2);
    assert!(reask
        .last()
        .unwrap()
        .text()
        .contains("/1/Search/query: must not be empty"));
}

#[tokio::test]
async fn unsupported_mode_fails_before_any_request() {
    let p = ScriptedProvider::new()
        .with_capabilities(instructor::Capabilities::new(&[Mode::Json, Mode::MdJson]))
        .with_text("{}");
    let err = ask_in::<UserDetail>(&client(&p), Mode::ToolsStrict, "x")
        .await
        .unwrap_err();
    let Error::UnsupportedMode {
        mode, supported, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*mode, Mode::ToolsStrict);
    assert_eq!(supported, &[Mode::Json, Mode::MdJson]);
    assert!(err.to_string().contains("json, md_json"));
    assert!(p.requests().is_empty());
}

#[tokio::test]
async fn hooks_see_every_step() {
    let p = ScriptedProvider::new()
        .with_text("garbage")
        .with_text(r#"{"name": "Jason", "age": 199}"#)
        .with_text(JASON);
    let (log, hook) = recorder(|e| Some(variant(e)));
    ask::<UserDetail>(&client(&p).hook(hook), "x")
        .await
        .unwrap();
    let steps = "RequestSent ResponseReceived ParseError Reask \
                 RequestSent ResponseReceived ValidationError Reask \
                 RequestSent ResponseReceived";
    assert_eq!(log.lock().unwrap().join(" "), steps);
}
