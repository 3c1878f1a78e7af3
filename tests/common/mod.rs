//! Replays documented provider traffic through a local mock HTTP server. A fixture
//! (`tests/fixtures/<provider>/<case>.json`) holds the responses the server gives, in order,
//! and the exact request bodies we must send. `FIXTURES=record` writes the bodies we sent
//! into the fixture (for review) instead of comparing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod batch;
pub mod bulk;
pub mod family;
pub mod journal;
pub mod slow;
pub mod streams;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use instructor::providers::OpenAi;
use instructor::{Client, Completion, Error, Event, Instruct, Mode, RetryPolicy};
use serde::Deserialize;
use serde_json::Value;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
pub struct UserDetail {
    /// First name as written.
    pub name: String,
    #[instruct(range(max = 150))]
    pub age: u8,
}

/// Jason's answer as a model writes it.
pub const JASON: &str = r#"{"name": "Jason", "age": 30}"#;

pub fn jason() -> UserDetail {
    UserDetail {
        name: "Jason".into(),
        age: 30,
    }
}

pub struct Replay {
    pub server: MockServer,
    pub fixture: Value,
    path: PathBuf,
}

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"))
}

impl Replay {
    /// Starts a server that answers with the fixture's responses, one per request.
    pub async fn start(name: &str) -> Self {
        let path = fixture_path(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let fixture: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let server = MockServer::builder().start().await;
        let responses = fixture["responses"].as_array().expect("responses").clone();
        for (i, r) in responses.iter().enumerate() {
            let status = r["status"].as_u64().unwrap_or(200) as u16;
            let mut template = ResponseTemplate::new(status);
            if let Some(headers) = r["headers"].as_object() {
                for (k, v) in headers {
                    template = template.insert_header(k.as_str(), v.as_str().unwrap());
                }
            }
            template = match &r["body"] {
                Value::String(raw) => {
                    template.set_body_raw(raw.clone().into_bytes(), "application/json")
                }
                body => template.set_body_raw(body.to_string().into_bytes(), "application/json"),
            };
            Mock::given(any())
                .respond_with(template)
                .up_to_n_times(1)
                .with_priority((i + 1) as u8)
                .mount(&server)
                .await;
        }
        Self {
            server,
            fixture,
            path,
        }
    }

    pub fn url(&self) -> String {
        self.server.uri()
    }

    /// The request bodies the server received, in order.
    pub async fn bodies(&self) -> Vec<Value> {
        bodies(&self.server).await
    }

    /// The body of the `i`th request the server received.
    pub async fn body(&self, i: usize) -> Value {
        self.bodies().await.swap_remove(i)
    }

    /// Asserts the bodies we sent equal the fixture's `requests` (or records them).
    pub async fn assert_requests(&self) {
        let sent = self.bodies().await;
        if std::env::var("FIXTURES").as_deref() == Ok("record") {
            let mut fixture = self.fixture.clone();
            fixture["requests"] = Value::Array(sent);
            std::fs::write(
                &self.path,
                serde_json::to_string_pretty(&fixture).unwrap() + "\n",
            )
            .unwrap();
            return;
        }
        let expected = self.fixture["requests"]
            .as_array()
            .expect("fixture has requests");
        assert_eq!(
            sent.len(),
            expected.len(),
            "{:?}: number of requests",
            self.path
        );
        for (i, (s, e)) in sent.iter().zip(expected).enumerate() {
            assert_eq!(s, e, "{:?}: request {i} body differs", self.path);
        }
    }

    /// Every received request's method, path, query and headers, for checks on them.
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.unwrap_or_default()
    }
}

/// Runs one extraction (as `extract` does) that must give Jason; the replay, for more checks.
pub async fn extract_jason(name: &str, client: impl FnOnce(String) -> Client) -> Replay {
    let (user, replay) = extract(name, client).await;
    assert_eq!(user.unwrap(), jason(), "{name}");
    replay
}

/// Runs one extraction (as `extract` does) that must fail; its error.
pub async fn extract_err(name: &str, client: impl FnOnce(String) -> Client) -> Error {
    let (result, _) = extract(name, client).await;
    result.unwrap_err()
}

/// The OpenAI client of the fixtures (`gpt-4o-2024-08-06`, a test key) in `mode`, for the
/// server at `url`; transport retries back off for a millisecond only.
pub fn openai_at(url: &str, mode: Mode) -> Client {
    Client::new(
        OpenAi::new()
            .base_url(format!("{url}/v1"))
            .api_key("sk-test-key"),
    )
    .model("gpt-4o-2024-08-06")
    .mode(mode)
    .transport_retries(RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        ..RetryPolicy::default()
    })
}

/// The request bodies `server` received, in order.
pub async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).expect("request body is JSON"))
        .collect()
}

/// A server answering every request with `template`.
pub async fn mock_server(template: ResponseTemplate) -> MockServer {
    let server = MockServer::builder().start().await;
    Mock::given(any())
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// Runs one extraction of `UserDetail` and checks the request bodies.
pub async fn extract(
    name: &str,
    client: impl FnOnce(String) -> Client,
) -> (Result<UserDetail, Error>, Replay) {
    let replay = Replay::start(name).await;
    let client = client(replay.url());
    let result = ask(&client, "Jason is 30 years old").await;
    replay.assert_requests().await;
    (result, replay)
}

/// Extracts a `T` from the one user message `text`.
pub async fn ask<T: Instruct>(client: &Client, text: &str) -> Result<T, Error> {
    client.create::<T>().user(text).send().await
}

/// Extracts a `T` from the one user message `text`, in `mode`.
pub async fn ask_in<T: Instruct>(client: &Client, mode: Mode, text: &str) -> Result<T, Error> {
    client.create::<T>().mode(mode).user(text).send().await
}

/// Extracts a `T` from the one user message `text`, with its completion.
pub async fn ask_completion<T: Instruct>(
    client: &Client,
    text: &str,
) -> Result<(T, Completion), Error> {
    client.create::<T>().user(text).send_with_completion().await
}

/// A hook that keeps what `keep` makes of each event it sees (nothing for `None`).
pub fn recorder<T: Send + 'static>(
    keep: impl Fn(&Event<'_>) -> Option<T> + Send + Sync + 'static,
) -> (
    Arc<Mutex<Vec<T>>>,
    impl Fn(&Event<'_>) + Send + Sync + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    (seen, move |e: &Event<'_>| {
        if let Some(kept) = keep(e) {
            log.lock().unwrap().push(kept);
        }
    })
}

/// The variant name of an enum value (an event, an error), as `Debug` prints it:
/// `RequestSent`, `ContentFilter`, ...
pub fn variant(e: &impl std::fmt::Debug) -> String {
    let shown = format!("{e:?}");
    shown
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned()
}
