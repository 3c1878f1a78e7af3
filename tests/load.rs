//! Many extractions on one client against a slow server that fails often: every call ends,
//! with the value or a typed error, and the client stays usable. Bounded in count and time;
//! the server listens on 127.0.0.1 only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use instructor::providers::OpenAi;
use instructor::{Client, Error, Instruct, Mode, RetryPolicy};
use serde::Deserialize;
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
struct UserDetail {
    name: String,
    age: u8,
}

/// Answers after a delay; three requests in ten get a 500 or a 429.
struct Flaky {
    seen: AtomicUsize,
}

impl Respond for Flaky {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        let delay = Duration::from_millis(20 + (n % 7) as u64 * 10);
        match n % 10 {
            3 | 7 => ResponseTemplate::new(500).set_body_string("overloaded").set_delay(delay),
            5 => ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_string("slow down")
                .set_delay(delay),
            _ => ResponseTemplate::new(200)
                .set_body_json(json!({
                    "id": "c", "object": "chat.completion", "model": "m",
                    "choices": [{"index": 0, "finish_reason": "stop",
                        "message": {"role": "assistant", "content": "{\"name\": \"Jason\", \"age\": 30}"}}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}
                }))
                .set_delay(delay),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_extractions_against_a_flaky_server_all_end() {
    let server = MockServer::start().await;
    let flaky = Flaky {
        seen: AtomicUsize::new(0),
    };
    Mock::given(wiremock::matchers::any())
        .respond_with(flaky)
        .mount(&server)
        .await;
    let client = Client::new(OpenAi::compatible(format!("{}/v1", server.uri())))
        .model("m")
        .mode(Mode::Json)
        .transport_retries(RetryPolicy {
            max_retries: 6,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(30),
        })
        .timeout(Duration::from_secs(10));
    let client = Arc::new(client);
    let outcomes: Vec<Result<UserDetail, Error>> = futures::stream::iter(0..1000)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .create::<UserDetail>()
                    .user(format!("user {i}"))
                    .send()
                    .await
            }
        })
        .buffer_unordered(1000)
        .collect()
        .await;
    let ok = outcomes.iter().filter(|r| r.is_ok()).count();
    let errors: Vec<_> = outcomes.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(ok + errors.len(), 1000);
    // Three failures in ten, each retried up to six times: nearly every call gets through,
    // and what does not is a typed transport error.
    assert!(
        ok >= 990,
        "{ok} succeeded; errors: {:?}",
        &errors[..errors.len().min(3)]
    );
    assert!(errors.iter().all(|e| e.is_transient()), "{errors:?}");
    // The client is still fine afterwards.
    let user = client.create::<UserDetail>().user("again").send().await;
    assert!(user.is_ok() || user.as_ref().is_err_and(|e| e.is_transient()));
}
