//! API keys never leak: not in `Debug` output, error messages, tracing logs or URLs, for
//! every provider.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::UserDetail;
use instructor::providers::{Anthropic, Cohere, Gemini, Mistral, Ollama, OpenAi};
use instructor::{Client, Provider, RetryPolicy};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "sk-SECRET-0123456789";

/// Collects everything tracing writes.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn providers(url: &str) -> Vec<Box<dyn Fn() -> Arc<dyn Provider>>> {
    let url = url.to_owned();
    let u = move || url.clone();
    vec![
        Box::new({
            let u = u.clone();
            move || Arc::new(OpenAi::new().base_url(u()).api_key(SECRET))
        }),
        Box::new({
            let u = u.clone();
            move || Arc::new(OpenAi::groq().base_url(u()).api_key(SECRET))
        }),
        Box::new({
            let u = u.clone();
            move || Arc::new(OpenAi::llama_cpp_python(u()).api_key(SECRET))
        }),
        Box::new({
            let u = u.clone();
            move || Arc::new(Anthropic::new().base_url(u()).api_key(SECRET))
        }),
        Box::new({
            let u = u.clone();
            move || Arc::new(Gemini::new().base_url(u()).api_key(SECRET))
        }),
        Box::new({
            let u = u.clone();
            move || Arc::new(Mistral::new().base_url(u()).api_key(SECRET))
        }),
        Box::new({
            let u = u.clone();
            move || Arc::new(Cohere::new().base_url(u()).api_key(SECRET))
        }),
        Box::new(move || Arc::new(Ollama::new().base_url(u()).api_key(SECRET))),
    ]
}

/// One process-wide subscriber for this test binary, so that every test's logs are
/// captured (a thread-local one races with callsite caching in other threads).
fn logs() -> &'static Sink {
    static SINK: std::sync::OnceLock<Sink> = std::sync::OnceLock::new();
    SINK.get_or_init(|| {
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        sink
    })
}

#[tokio::test]
async fn keys_stay_out_of_debug_errors_logs_and_urls() {
    let sink = logs();

    // A server that rejects everything, echoing nothing of the request.
    let server = MockServer::builder().start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(401).set_body_string(r#"{"error": {"message": "invalid key"}}"#),
        )
        .mount(&server)
        .await;

    for make in providers(&server.uri()) {
        let provider = make();
        let debug = format!("{provider:?}");
        assert!(!debug.contains(SECRET), "Debug leaks the key: {debug}");
        let client = Client::from_shared(provider.clone())
            .model("m")
            .transport_retries(RetryPolicy::none());
        assert!(!format!("{client:?}").contains(SECRET));
        let err = client
            .create::<UserDetail>()
            .user("x")
            .send()
            .await
            .unwrap_err();
        assert!(
            !err.to_string().contains(SECRET),
            "{} error leaks the key",
            provider.name()
        );
        assert!(
            !format!("{err:?}").contains(SECRET),
            "{} error Debug leaks the key",
            provider.name()
        );
    }
    for request in server.received_requests().await.unwrap() {
        assert!(
            !request.url.as_str().contains(SECRET),
            "the key is in a URL: {}",
            request.url
        );
    }
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("instructor.extract"), "tracing was captured");
    assert!(!logs.contains(SECRET), "the key is in the logs");
}

#[tokio::test]
async fn a_connection_error_does_not_show_the_key() {
    logs();
    // Nothing listens on this port.
    let p = OpenAi::new()
        .base_url("http://127.0.0.1:9/v1")
        .api_key(SECRET);
    let err = Client::new(p)
        .model("m")
        .transport_retries(RetryPolicy::none())
        .create::<UserDetail>()
        .user("x")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, instructor::Error::Connect { .. }), "{err:?}");
    assert!(!format!("{err:?}").contains(SECRET));
    let logs = String::from_utf8(logs().0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains(SECRET), "the key is in the logs");
}
