//! A hostile or broken server against every provider family: absurd retry hints,
//! redirects to another origin, streams that go on after their end marker or stop before
//! it, a whole answer where a stream was asked for, and token counts at `u64::MAX`. Every
//! server listens on 127.0.0.1 only; every wait is bounded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::family::{Family, FAMILIES};
use common::{jason, mock_server, UserDetail, JASON};
use futures::StreamExt;
use instructor::stream::Update;
use instructor::{Client, Error, RetryPolicy};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A hang guard only: every case here ends in milliseconds when it works.
const GUARD: Duration = Duration::from_secs(20);

/// One quick transport retry, in a budget no clamped hint fits.
fn one_quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 1,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
        max_elapsed: Duration::from_secs(30),
    }
}

/// A server answering every request with `status` and `body`.
async fn serve(status: u16, body: String) -> MockServer {
    mock_server(ResponseTemplate::new(status).set_body_raw(body, "application/json")).await
}

/// The final value of a partial stream, or its first error.
async fn partial(client: &Client) -> Result<UserDetail, Error> {
    let run = async {
        let mut stream = client
            .create_partial::<UserDetail>()
            .user("Jason is 30")
            .send()
            .await?;
        while let Some(update) = stream.next().await {
            if let Update::Complete { value, .. } = update? {
                return Ok(value);
            }
        }
        panic!("the stream ended with neither a value nor an error")
    };
    tokio::time::timeout(GUARD, run).await.expect("hang guard")
}

async fn whole(client: &Client) -> Result<UserDetail, Error> {
    let run = common::ask(client, "Jason is 30");
    tokio::time::timeout(GUARD, run).await.expect("hang guard")
}

/// `partial` when `stream`, else `whole`.
async fn partial_or_whole(client: &Client, stream: bool) -> Result<UserDetail, Error> {
    if stream {
        partial(client).await
    } else {
        whole(client).await
    }
}

// 1. Retry hints.

#[tokio::test]
async fn absurd_retry_after_headers_neither_panic_nor_wait() {
    // (header, value, whether the hint is kept, clamped)
    let cases = [
        ("retry-after", "inf", false),
        ("retry-after", "-inf", false),
        ("retry-after", "NaN", false),
        ("retry-after", "-5", false),
        ("retry-after", "1e20", true),
        ("retry-after", "1e300", true),
        ("retry-after-ms", "1e30", true),
        ("retry-after-ms", "inf", false),
        ("retry-after-ms", "NaN", false),
    ];
    for family in [Family::OpenAi, Family::Anthropic, Family::Gemini] {
        for (name, value, clamped) in cases {
            for stream in [false, true] {
                let slow_down = ResponseTemplate::new(429)
                    .insert_header(name, value)
                    .set_body_string("slow down");
                let server = mock_server(slow_down).await;
                let client = family
                    .client(&server.uri())
                    .transport_retries(one_quick_retry());
                let result = partial_or_whole(&client, stream).await;
                let case = format!("{family:?} {name}: {value}, stream {stream}");
                let Err(Error::RateLimited { retry_after, .. }) = result else {
                    panic!("{case}: {result:?}")
                };
                let requests = server.received_requests().await.unwrap().len();
                if clamped {
                    let wait = retry_after.unwrap_or_else(|| panic!("{case}: no hint"));
                    assert!(wait >= Duration::from_secs(3600), "{case}: {wait:?}");
                    assert_eq!(
                        requests, 1,
                        "{case}: a wait past the budget ends the retries"
                    );
                } else {
                    assert_eq!(retry_after, None, "{case}");
                    assert_eq!(requests, 2, "{case}: retried after the usual backoff");
                }
            }
        }
    }
}

#[tokio::test]
async fn absurd_gemini_retry_delays_neither_panic_nor_wait() {
    for (status, delay, clamped) in [
        (429, "1e30s", true),
        (429, "infs", false),
        (429, "NaNs", false),
        (429, "-3s", false),
        (500, "infs", false),
        (500, "1e30s", false),
        (400, "infs", false),
    ] {
        for stream in [false, true] {
            let body = json!({"error": {"code": status, "message": "hostile", "status": "X",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}]}});
            let server = serve(status, body.to_string()).await;
            let client = Family::Gemini
                .client(&server.uri())
                .transport_retries(one_quick_retry());
            let result = partial_or_whole(&client, stream).await;
            let case = format!("{status} {delay}, stream {stream}");
            let requests = server.received_requests().await.unwrap().len();
            match result {
                Err(Error::RateLimited { retry_after, .. }) => {
                    assert_eq!(status, 429, "{case}");
                    if clamped {
                        assert!(retry_after.unwrap() >= Duration::from_secs(3600), "{case}");
                        assert_eq!(requests, 1, "{case}");
                    } else {
                        assert_eq!(retry_after, None, "{case}");
                        assert_eq!(requests, 2, "{case}");
                    }
                }
                Err(Error::Http { status: s, .. }) => {
                    assert_eq!(s, status, "{case}");
                    let expected = if status == 500 { 2 } else { 1 };
                    assert_eq!(requests, expected, "{case}");
                }
                other => panic!("{case}: {other:?}"),
            }
        }
    }
}

// 2. Redirects.

#[tokio::test]
async fn redirects_to_another_origin_are_not_followed() {
    let other = serve(200, "{}".to_owned()).await;
    let target = other
        .uri()
        .replacen("http://", "http://user:pw-0123456789@", 1);
    for family in FAMILIES {
        for status in [301, 302, 303, 307, 308] {
            for stream in [false, true] {
                let location = format!("{target}/elsewhere?key=sk-leak-0123456789#frag");
                let first = mock_server(
                    ResponseTemplate::new(status).insert_header("location", location.as_str()),
                )
                .await;
                let result = partial_or_whole(&family.client(&first.uri()), stream).await;
                let case = format!("{family:?} {status}, stream {stream}");
                let Err(Error::Redirect {
                    status: s,
                    location,
                }) = &result
                else {
                    panic!("{case}: {result:?}")
                };
                assert_eq!(*s, status, "{case}");
                assert_eq!(location, &format!("{}/elsewhere", other.uri()), "{case}");
                let shown = format!("{} {:?}", result.as_ref().unwrap_err(), result);
                assert!(
                    !shown.contains("sk-leak") && !shown.contains("pw-0123456789"),
                    "{case}: {shown}"
                );
                assert_eq!(first.received_requests().await.unwrap().len(), 1, "{case}");
            }
        }
    }
    assert!(
        other.received_requests().await.unwrap().is_empty(),
        "the other origin received nothing: no key, no prompt"
    );
}

#[tokio::test]
async fn same_origin_redirects_are_followed() {
    let server = MockServer::builder().start().await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/moved/chat"))
        .mount(&server)
        .await;
    Mock::given(path("/moved/chat"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(Family::OpenAi.whole(JASON), "application/json"),
        )
        .mount(&server)
        .await;
    let client = Family::OpenAi.client(&server.uri());
    assert_eq!(whole(&client).await.unwrap(), jason());
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].body, requests[1].body,
        "307 sends the body again"
    );

    // A same-origin loop ends, with a typed error.
    let server = mock_server(ResponseTemplate::new(307).insert_header("location", "/again")).await;
    let err = whole(&Family::OpenAi.client(&server.uri()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.contains("redirected")),
        "{err:?}"
    );
    assert!(server.received_requests().await.unwrap().len() <= 6);
}

// 3. Stream ends.

#[tokio::test]
async fn a_late_error_after_the_end_marker_is_not_read() {
    for family in FAMILIES {
        let body = family.stream(JASON) + family.late_error();
        let server = serve(200, body).await;
        let result = partial(&family.client(&server.uri())).await;
        assert_eq!(result.unwrap(), jason(), "{family:?}");
    }
}

#[tokio::test]
async fn a_stream_cut_before_its_finish_is_an_error() {
    for family in FAMILIES {
        let server = serve(200, family.truncated(JASON)).await;
        let result = partial(&family.client(&server.uri())).await;
        assert!(
            matches!(&result, Err(Error::Protocol { message, .. }) if message.contains("ended before")),
            "{family:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn a_finished_stream_without_its_end_marker_is_fine() {
    // Some compatible servers omit `[DONE]` after the finish reason and usage.
    let body = Family::OpenAi.stream(JASON).replace("data: [DONE]\n\n", "");
    let server = serve(200, body).await;
    let result = partial(&Family::OpenAi.client(&server.uri())).await;
    assert_eq!(result.unwrap(), jason());
}

/// A server on 127.0.0.1 that answers one request with `body` as one chunk of a chunked
/// response, never sends the last chunk, and holds the connection until the client drops
/// it (or a minute passes). The receiver says whether the client dropped it.
async fn held_open(body: String) -> (String, oneshot::Receiver<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request was complete");
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |n| n.trim().parse().unwrap());
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        let chunk = format!("{:x}\r\n{body}\r\n", body.len());
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(chunk.as_bytes()).await.unwrap();
        let closed = loop {
            match tokio::time::timeout(Duration::from_secs(60), socket.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break true,
                Ok(Ok(_)) => continue,
                Err(_) => break false,
            }
        };
        let _ = tx.send(closed);
    });
    (url, rx)
}

#[tokio::test]
async fn a_server_that_holds_the_connection_after_the_end_marker_does_not_hang() {
    for family in FAMILIES {
        let (url, closed) = held_open(family.stream(JASON)).await;
        let client = family.client(&url);
        let result = partial(&client).await;
        assert_eq!(result.unwrap(), jason(), "{family:?}");
        let closed = tokio::time::timeout(GUARD, closed).await;
        assert!(
            matches!(closed, Ok(Ok(true))),
            "{family:?}: the connection was dropped"
        );
    }
}

#[tokio::test]
async fn iterable_items_end_at_the_end_marker_too() {
    let answer = r#"{"items": [{"name": "A", "age": 1}, {"name": "B", "age": 2}]}"#;
    for family in [Family::OpenAi, Family::Ollama] {
        let (url, _closed) = held_open(family.stream(answer)).await;
        let client = family.client(&url);
        let asked = client
            .create_iterable::<UserDetail>()
            .user("A is 1, B is 2");
        let run = async { asked.send().await.unwrap().collect::<Vec<_>>().await };
        let items = tokio::time::timeout(GUARD, run).await.expect("hang guard");
        let names: Vec<String> = items.into_iter().map(|i| i.unwrap().name).collect();
        assert_eq!(names, ["A", "B"], "{family:?}");
    }
}

// 5. A server that ignores `stream: true`.

#[tokio::test]
async fn a_whole_answer_where_a_stream_was_asked_is_named() {
    for family in [
        Family::OpenAi,
        Family::Mistral,
        Family::Anthropic,
        Family::Gemini,
        Family::Cohere,
    ] {
        let body = family.whole(JASON);
        for body in [body.clone(), pretty(&body)] {
            let server = serve(200, body).await;
            let result = partial(&family.client(&server.uri())).await;
            let Err(Error::Protocol {
                message,
                raw: Some(raw),
                ..
            }) = &result
            else {
                panic!("{family:?}: {result:?}")
            };
            assert!(message.contains("non-streamed"), "{family:?}: {message}");
            assert!(raw.contains("Jason"), "{family:?}: the body is kept: {raw}");
        }
    }
    // Ollama's whole answer is a valid one-line stream: it just works.
    let server = serve(200, Family::Ollama.whole(JASON)).await;
    assert_eq!(
        partial(&Family::Ollama.client(&server.uri()))
            .await
            .unwrap(),
        jason()
    );
}

fn pretty(json: &str) -> String {
    serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(json).unwrap()).unwrap()
}

// 7. Token counts.

#[tokio::test]
async fn token_counts_at_the_limit_saturate() {
    let max = u64::MAX;
    let cases = [
        (
            Family::OpenAi,
            json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": JASON}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": max, "completion_tokens": max}}),
        ),
        (
            Family::Anthropic,
            json!({"id": "m", "type": "message", "role": "assistant", "content": [{"type": "text", "text": JASON}],
                   "stop_reason": "end_turn",
                   "usage": {"input_tokens": max, "output_tokens": max, "cache_creation_input_tokens": max, "cache_read_input_tokens": max}}),
        ),
        (
            Family::Gemini,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": JASON}]}, "finishReason": "STOP"}],
                   "usageMetadata": {"promptTokenCount": max, "candidatesTokenCount": max, "thoughtsTokenCount": max}}),
        ),
        (
            Family::Ollama,
            json!({"model": "m", "message": {"role": "assistant", "content": JASON}, "done": true,
                   "done_reason": "stop", "prompt_eval_count": max, "eval_count": max}),
        ),
    ];
    for (family, body) in cases {
        let server = serve(200, body.to_string()).await;
        let (user, completion) =
            common::ask_completion::<UserDetail>(&family.client(&server.uri()), "x")
                .await
                .unwrap_or_else(|e| panic!("{family:?}: {e:?}"));
        assert_eq!(user, jason());
        assert_eq!(completion.usage.total_tokens, max, "{family:?}");
    }

    // Streamed: Anthropic sums its input counts in `message_start`.
    let body = Family::Anthropic.stream(JASON).replace(
        "\"input_tokens\": 5, \"output_tokens\": 1",
        &format!("\"input_tokens\": {max}, \"cache_creation_input_tokens\": {max}, \"cache_read_input_tokens\": {max}"),
    );
    let server = serve(200, body).await;
    assert_eq!(
        partial(&Family::Anthropic.client(&server.uri()))
            .await
            .unwrap(),
        jason()
    );
}
