//! API keys never leak: not in `Debug` output, error messages, tracing logs or URLs, for
//! every provider.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{ask, mock_server, recorder, UserDetail};
use futures::StreamExt;
use instructor::providers::{Anthropic, Cohere, Gemini, Mistral, Ollama, OpenAi};
use instructor::{Client, Provider, RetryPolicy};
use wiremock::ResponseTemplate;

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

/// Makes a provider pointed at a URL.
type Maker = fn(&str) -> Arc<dyn Provider>;

/// Every provider, pointed at `url`, with the secret key.
fn providers(url: &str) -> impl Iterator<Item = Arc<dyn Provider>> + '_ {
    let makers: [Maker; 8] = [
        |u| Arc::new(OpenAi::new().base_url(u).api_key(SECRET)),
        |u| Arc::new(OpenAi::groq().base_url(u).api_key(SECRET)),
        |u| Arc::new(OpenAi::llama_cpp_python(u).api_key(SECRET)),
        |u| Arc::new(Anthropic::new().base_url(u).api_key(SECRET)),
        |u| Arc::new(Gemini::new().base_url(u).api_key(SECRET)),
        |u| Arc::new(Mistral::new().base_url(u).api_key(SECRET)),
        |u| Arc::new(Cohere::new().base_url(u).api_key(SECRET)),
        |u| Arc::new(Ollama::new().base_url(u).api_key(SECRET)),
    ];
    makers.into_iter().map(move |make| make(url))
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
    let rejects =
        ResponseTemplate::new(401).set_body_string(r#"{"error": {"message": "invalid key"}}"#);
    let server = mock_server(rejects).await;

    for provider in providers(&server.uri()) {
        let debug = format!("{provider:?}");
        assert!(!debug.contains(SECRET), "Debug leaks the key: {debug}");
        let client = Client::from_shared(provider.clone())
            .model("m")
            .transport_retries(RetryPolicy::none());
        assert!(!format!("{client:?}").contains(SECRET));
        let err = ask::<UserDetail>(&client, "x").await.unwrap_err();
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
    let client = Client::new(p)
        .model("m")
        .transport_retries(RetryPolicy::none());
    let err = ask::<UserDetail>(&client, "x").await.unwrap_err();
    assert!(matches!(err, instructor::Error::Connect { .. }), "{err:?}");
    // The transport's own error is kept as the source, and it names no secret either.
    let source = std::error::Error::source(err.root()).expect("the transport error is kept");
    assert!(!format!("{source} {source:?}").contains(SECRET));
    assert!(!format!("{err:?}").contains(SECRET));
    let logs = String::from_utf8(logs().0.lock().unwrap().clone()).unwrap();
    assert!(!logs.contains(SECRET), "the key is in the logs");
}

/// Streams an extraction to its end: the first error, if any.
async fn stream_to_the_end(client: &Client) -> Result<(), instructor::Error> {
    let asked = client.create_partial::<UserDetail>().user("x");
    let mut stream = asked.send().await?;
    while let Some(update) = stream.next().await {
        update?;
    }
    Ok(())
}

/// A server that echoes the key back: in a 401, a 429, a 500, a 200 that is not an answer,
/// and in-band in a stream. The key is masked everywhere the error goes.
#[tokio::test]
async fn a_key_the_server_echoes_is_masked() {
    let sink = logs();
    let echo = format!(r#"{{"error": {{"message": "invalid key {SECRET}", "code": 500}}}}"#);
    let in_band = [
        format!("data: {echo}\n\n"),
        format!("event: error\ndata: {echo}\n\n"),
        format!("{echo}\n"),
    ];
    let mut cases: Vec<(u16, String)> = [401, 429, 500, 400]
        .into_iter()
        .map(|s| (s, echo.clone()))
        .collect();
    cases.push((200, format!("not an answer: {SECRET}")));
    cases.extend(in_band.iter().map(|b| (200, b.clone())));
    for (status, body) in cases {
        let answer = ResponseTemplate::new(status).set_body_raw(body.clone(), "application/json");
        let server = mock_server(answer).await;
        for provider in providers(&server.uri()) {
            let name = provider.name().to_owned();
            let (seen, hook) = recorder(|e| Some(format!("{e:?}")));
            let client = Client::from_shared(provider)
                .model("m")
                .max_retries(0)
                .transport_retries(RetryPolicy {
                    max_retries: 1,
                    initial_backoff: std::time::Duration::from_millis(1),
                    max_backoff: std::time::Duration::from_millis(1),
                    ..RetryPolicy::default()
                })
                .hook(hook);
            let whole = ask::<UserDetail>(&client, "x").await;
            let streamed = stream_to_the_end(&client).await;
            for (how, err) in [("send", whole.err()), ("stream", streamed.err())] {
                let case = format!("{name} {how}, HTTP {status}, {body}");
                let Some(err) = err else {
                    continue; // A body this provider reads as a (failed) answer.
                };
                let shown = format!("{err} {err:?}");
                assert!(!shown.contains(SECRET), "{case}: {shown}");
            }
            let events = seen.lock().unwrap().join("\n");
            assert!(
                !events.contains(SECRET),
                "{name}, HTTP {status}: hooks saw the key"
            );
        }
    }
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("****"), "the failures were logged, masked");
    assert!(!logs.contains(SECRET), "the key is in the logs");
}

/// Credentials in a base URL (userinfo, a query parameter) do not print.
#[test]
fn debug_hides_credentials_in_the_base_url() {
    for url in [
        format!("https://user:{SECRET}@host.example/v1"),
        format!("https://host.example/v1?key={SECRET}"),
        format!("https://{SECRET}@host.example/v1?alt=sse&token={SECRET}#{SECRET}"),
    ] {
        for provider in providers(&url) {
            let debug = format!("{provider:?}");
            assert!(!debug.contains(SECRET), "{}: {debug}", provider.name());
            assert!(debug.contains("host.example/v1"), "{debug}");
        }
    }
}
