//! Replays documented provider traffic through a local mock HTTP server. A fixture
//! (`tests/fixtures/<provider>/<case>.json`) holds the responses the server gives, in order,
//! and the exact request bodies we must send. `FIXTURES=record` writes the bodies we sent
//! into the fixture (for review) instead of comparing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod family;

use std::path::PathBuf;

use instructor::{Client, Error, Instruct};
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
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).expect("request body is JSON"))
            .collect()
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

/// Runs one extraction of `UserDetail` and checks the request bodies.
pub async fn extract(
    name: &str,
    client: impl FnOnce(String) -> Client,
) -> (Result<UserDetail, Error>, Replay) {
    let replay = Replay::start(name).await;
    let client = client(replay.url());
    let result = client
        .create::<UserDetail>()
        .user("Jason is 30 years old")
        .send()
        .await;
    replay.assert_requests().await;
    (result, replay)
}
