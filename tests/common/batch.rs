//! Shared pieces of the batch API tests: a mock server answering routes in order, the
//! inputs every provider's test submits, and the body an online call sends for an input.

use instructor::{Client, Mode};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Five inputs whose answers cover every outcome: a valid answer, an invalid one (re-asked),
/// an HTTP error, an expired item and one the results never mention.
pub const INPUTS: [(&str, &str); 5] = [
    ("a", "Jason is 30 years old"),
    ("b", "Sarah is 28 years old"),
    ("c", "Tom is 40 years old"),
    ("d", "Ann is 50 years old"),
    ("e", "Bob is 60 years old"),
];

/// One route: method, path, status and body; answered once (a later route for the same
/// method and path answers after it), or always when it is the last for its path.
pub struct Route {
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
}

pub fn json(method: &'static str, path: &str, body: Value) -> Route {
    Route {
        method,
        path: path.to_owned(),
        status: 200,
        body: body.to_string(),
        content_type: "application/json",
    }
}

pub fn jsonl(path: &str, lines: &[Value]) -> Route {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    Route {
        method: "GET",
        path: path.to_owned(),
        status: 200,
        body,
        content_type: "application/jsonl",
    }
}

/// A server answering `routes`: each once, in order, the last of each path for good.
pub async fn serve(routes: Vec<Route>) -> MockServer {
    let server = MockServer::builder().start().await;
    let keys: Vec<(&str, String)> = routes.iter().map(|r| (r.method, r.path.clone())).collect();
    for (i, r) in routes.into_iter().enumerate() {
        let last = !keys[i + 1..].contains(&(r.method, r.path.clone()));
        let template = ResponseTemplate::new(r.status).set_body_raw(r.body, r.content_type);
        let mock = Mock::given(method(r.method))
            .and(path(r.path))
            .respond_with(template)
            .with_priority((i + 1).min(255) as u8);
        let mock = if last { mock } else { mock.up_to_n_times(1) };
        mock.mount(&server).await;
    }
    server
}

/// The body an online call sends for `text` (the request `client` plans, in `mode`).
pub fn online_body(client: &Client, mode: Mode, text: &str) -> Value {
    let prepared = client
        .create::<super::UserDetail>()
        .mode(mode)
        .user(text)
        .prepare()
        .unwrap();
    client.provider().wire_body(prepared.request()).unwrap()
}

/// The requests the server got, as (method, path, body).
pub async fn received(server: &MockServer) -> Vec<(String, String, Vec<u8>)> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned(), r.body))
        .collect()
}
