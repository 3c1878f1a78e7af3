//! Sampling settings (`top_p`, `seed`, `stop`) and `extra` body members reach every
//! provider family's request body, from the client and per call, and a bad `extra` fails
//! before anything is sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::family::{Family, FAMILIES};
use common::UserDetail;
use instructor::Error;
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const JASON: &str = r#"{"name": "Jason", "age": 30}"#;

async fn body_sent(
    family: Family,
    call: impl FnOnce(instructor::Client) -> instructor::Client,
) -> Value {
    let server = MockServer::builder().start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(family.whole(JASON), "application/json"),
        )
        .mount(&server)
        .await;
    let client = call(family.client(&server.uri()));
    let user = client
        .create::<UserDetail>()
        .user("Jason is 30")
        .send()
        .await;
    assert!(user.is_ok(), "{family:?}: {user:?}");
    let requests = server.received_requests().await.unwrap();
    serde_json::from_slice(&requests[0].body).unwrap()
}

/// Where each family puts a setting: a path of keys from the body's root.
fn find<'a>(body: &'a Value, paths: &[&[&str]]) -> Option<&'a Value> {
    paths
        .iter()
        .find_map(|p| p.iter().try_fold(body, |v, k| v.get(*k)))
}

#[tokio::test]
async fn sampling_and_extra_reach_every_family() {
    for family in FAMILIES {
        let body = body_sent(family, |c| {
            c.top_p(0.5)
                .seed(7)
                .stop(["END"])
                .extra(json!({"x_custom": {"deep": [1, 2]}, "logprobs": true}))
        })
        .await;
        let top_p = find(
            &body,
            &[
                &["top_p"],
                &["p"],
                &["generationConfig", "topP"],
                &["options", "top_p"],
            ],
        );
        assert_eq!(top_p, Some(&json!(0.5)), "{family:?}: {body}");
        let stop = find(
            &body,
            &[
                &["stop"],
                &["stop_sequences"],
                &["generationConfig", "stopSequences"],
                &["options", "stop"],
            ],
        );
        assert_eq!(stop, Some(&json!(["END"])), "{family:?}: {body}");
        if family != Family::Anthropic {
            let seed = find(
                &body,
                &[
                    &["seed"],
                    &["random_seed"],
                    &["generationConfig", "seed"],
                    &["options", "seed"],
                ],
            );
            assert_eq!(seed, Some(&json!(7)), "{family:?}: {body}");
        }
        assert_eq!(
            body["x_custom"],
            json!({"deep": [1, 2]}),
            "{family:?}: {body}"
        );
        assert_eq!(body["logprobs"], json!(true), "{family:?}: {body}");
    }
}

#[tokio::test]
async fn a_call_overrides_the_client_and_extra_replaces_body_members() {
    let body = body_sent(Family::OpenAi, |c| {
        c.seed(7).stop(["A"]).extra(json!({"logprobs": true}))
    })
    .await;
    assert_eq!((&body["seed"], &body["stop"]), (&json!(7), &json!(["A"])));

    let server = MockServer::builder().start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(Family::OpenAi.whole(JASON), "application/json"),
        )
        .mount(&server)
        .await;
    let client = Family::OpenAi
        .client(&server.uri())
        .seed(7)
        .extra(json!({"logprobs": true}));
    client
        .create::<UserDetail>()
        .seed(8)
        .stop(["B"])
        .extra(json!({"model": "other", "n": 1}))
        .user("x")
        .send()
        .await
        .unwrap();
    let sent: Value =
        serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
    assert_eq!(sent["seed"], 8);
    assert_eq!(sent["stop"], json!(["B"]));
    assert_eq!(
        sent["model"], "other",
        "an extra member replaces the body's"
    );
    assert_eq!(sent["n"], 1);
    assert!(
        sent.get("logprobs").is_none(),
        "the call's extra replaces the client's"
    );
}

/// Whether `result` is the configuration error saying `extra` must be a JSON object.
fn extra_not_an_object(result: &Result<UserDetail, Error>) -> bool {
    matches!(result, Err(Error::Config(m)) if m.starts_with("`extra` must be a JSON object"))
}

#[tokio::test]
async fn an_extra_that_is_not_an_object_fails_before_sending() {
    let server = MockServer::builder().start().await;
    let client = Family::OpenAi.client(&server.uri());
    let err = client
        .clone()
        .extra(json!([1]))
        .create::<UserDetail>()
        .user("x")
        .send()
        .await;
    assert!(
        extra_not_an_object(&err),
        "the message is said once, not wrapped in a second configuration error: {err:?}"
    );
    let err = client
        .create::<UserDetail>()
        .extra(json!("x"))
        .user("x")
        .send()
        .await;
    assert!(extra_not_an_object(&err), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
