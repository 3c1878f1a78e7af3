//! Every provider's documented stream shape replayed through a local mock server, read as
//! partial snapshots and iterable items; the request asks for a stream.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::streams::{all_items, drain};
use common::{Replay, UserDetail};
use instructor::providers::{Anthropic, Cohere, Gemini, Ollama, OpenAi};
use instructor::{Client, Error, Mode, RetryPolicy};

/// The number of partial updates and the final value of a streamed extraction.
async fn partials(replay: &Replay, client: Client) -> (usize, Result<UserDetail, Error>) {
    let client = client.max_retries(0);
    let (partials, end) = drain(client.create_partial::<UserDetail>().user("Jason is 30")).await;
    let n = partials.len();
    let mut last_name = String::new();
    for name in partials.into_iter().filter_map(|p| p.name) {
        assert!(name.starts_with(&last_name), "{last_name:?} -> {name:?}");
        last_name = name;
    }
    let (value, usage) = match end {
        Ok(done) => done,
        Err(e) => return (n, Err(e)),
    };
    assert!(usage.total_tokens > 0, "usage arrived in the stream");
    replay.assert_requests().await;
    (n, Ok(value))
}

/// A client of the OpenAI provider on the replay server, in `mode`.
fn openai(replay: &Replay, mode: Mode) -> Client {
    let provider = OpenAi::new().base_url(replay.url()).api_key("k");
    Client::new(provider).model("gpt-4o").mode(mode)
}

/// Streams the fixture's extraction through the client `client` makes for the replay
/// server, which must give the [`expected`] user; the replay (for more checks) and the
/// number of partial updates.
async fn streams_expected(
    fixture: &str,
    client: impl FnOnce(&Replay) -> Client,
) -> (Replay, usize) {
    let replay = Replay::start(fixture).await;
    let (n, value) = partials(&replay, client(&replay)).await;
    assert_eq!(value.unwrap(), expected());
    (replay, n)
}

fn expected() -> UserDetail {
    UserDetail {
        name: "Jason \"J\" Ünal".into(),
        age: 30,
    }
}

#[tokio::test]
async fn openai_tool_call_deltas() {
    let (replay, n) = streams_expected("openai/stream_tools", |r| openai(r, Mode::Tools)).await;
    assert!(n >= 3, "{n} partials");
    let body = &replay.bodies().await[0];
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
}

#[tokio::test]
async fn openai_content_deltas() {
    let (_, n) =
        streams_expected("openai/stream_json_schema", |r| openai(r, Mode::JsonSchema)).await;
    assert!(n >= 3);
}

#[tokio::test]
async fn openai_iterable_items() {
    let replay = Replay::start("openai/stream_iterable").await;
    let client = openai(&replay, Mode::JsonSchema);
    let items = all_items(client.create_iterable::<UserDetail>().user("A, B, C")).await;
    let names: Vec<String> = items.into_iter().map(|i| i.unwrap().name).collect();
    assert_eq!(names, ["A", "B", "C"]);
    replay.assert_requests().await;
}

#[tokio::test]
async fn openai_in_band_error_ends_the_stream() {
    let replay = Replay::start("openai/stream_error").await;
    let client = openai(&replay, Mode::Json).transport_retries(RetryPolicy::none());
    let (_, value) = partials(&replay, client).await;
    assert!(
        matches!(&value, Err(Error::Protocol { raw: Some(raw), .. }) if raw.contains("server_error")),
        "{value:?}"
    );
}

#[tokio::test]
async fn anthropic_input_json_deltas() {
    let (replay, n) = streams_expected("anthropic/stream_tools", |r| {
        Client::new(Anthropic::new().base_url(r.url()).api_key("k")).model("claude-sonnet-4-5")
    })
    .await;
    assert!(n >= 3);
    assert_eq!(replay.bodies().await[0]["stream"], true);
}

#[tokio::test]
async fn gemini_sse_fragments() {
    let (replay, _) = streams_expected("gemini/stream_json_schema", |r| {
        Client::new(Gemini::new().base_url(r.url()).api_key("k")).model("gemini-2.5-flash")
    })
    .await;
    let req = &replay.requests().await[0];
    assert_eq!(
        req.url.path(),
        "/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(
        req.url.query(),
        Some("alt=sse"),
        "the key is not in the URL"
    );
}

#[tokio::test]
async fn cohere_typed_events() {
    let (replay, _) = streams_expected("cohere/stream_json_schema", |r| {
        Client::new(Cohere::new().base_url(r.url()).api_key("k")).model("command-a-03-2025")
    })
    .await;
    assert_eq!(replay.bodies().await[0]["stream"], true);
}

#[tokio::test]
async fn ollama_ndjson() {
    let (replay, _) = streams_expected("ollama/stream_json_schema", |r| {
        Client::new(Ollama::new().base_url(r.url())).model("llama3.2")
    })
    .await;
    assert_eq!(replay.bodies().await[0]["stream"], true);
}
