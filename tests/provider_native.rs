//! The native providers (Anthropic, Gemini, Cohere, Ollama) against documented traffic
//! replayed by a local mock server: request bodies, headers and every kind of answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{extract, extract_err, extract_jason};
use instructor::providers::{Anthropic, Cohere, Gemini, Ollama};
use instructor::{Client, Error, Mode, Provider, RetryPolicy};
use serde_json::json;

/// A client of `p` with `model` in `mode`, whose transport retries come at once.
fn fast(p: impl Provider + 'static, model: &str, mode: Mode) -> Client {
    Client::new(p)
        .transport_retries(RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            ..RetryPolicy::default()
        })
        .model(model)
        .mode(mode)
}

/// The retry hint of the rate-limit error that the fixture's answer is, retries off.
async fn retry_after(fixture: &str, client: impl FnOnce(String) -> Client) -> Option<Duration> {
    let (err, _) = extract(fixture, |u| {
        client(u).transport_retries(RetryPolicy::none())
    })
    .await;
    let Err(Error::RateLimited { retry_after, .. }) = err else {
        panic!("{fixture}: {err:?}")
    };
    retry_after
}

/// The Anthropic client of these fixtures in `mode`, for the server at the URL it is given.
fn anthropic(mode: Mode) -> impl FnOnce(String) -> Client {
    move |url| {
        let p = Anthropic::new().base_url(format!("{url}/v1"));
        fast(p.api_key("sk-ant-test"), "claude-sonnet-4-5", mode)
    }
}

/// The Gemini client of these fixtures in `mode`.
fn gemini(mode: Mode) -> impl FnOnce(String) -> Client {
    move |url| {
        let p = Gemini::new().base_url(format!("{url}/v1beta"));
        fast(p.api_key("AIza-test-key"), "gemini-2.5-flash", mode)
    }
}

/// The Cohere client of these fixtures in `mode`.
fn cohere(mode: Mode) -> impl FnOnce(String) -> Client {
    move |url| {
        let p = Cohere::new().base_url(format!("{url}/v2"));
        fast(p.api_key("co-test"), "command-a-03-2025", mode)
    }
}

/// The native Ollama client of these fixtures in `mode`.
fn ollama(mode: Mode) -> impl FnOnce(String) -> Client {
    move |url| fast(Ollama::new().base_url(url), "llama3.2", mode)
}

#[tokio::test]
async fn anthropic_tools() {
    let replay = extract_jason("anthropic/tools", anthropic(Mode::Tools)).await;
    let req = &replay.requests().await[0];
    assert_eq!(req.url.path(), "/v1/messages");
    assert_eq!(req.headers.get("x-api-key").unwrap(), "sk-ant-test");
    assert_eq!(req.headers.get("anthropic-version").unwrap(), "2023-06-01");
    assert!(req.headers.get("authorization").is_none());
    let body = &replay.bodies().await[0];
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "UserDetail"})
    );
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(body["max_tokens"], 1024);
}

#[tokio::test]
async fn anthropic_strict_tools_move_constraints_into_descriptions() {
    let replay = extract_jason("anthropic/tools_strict", anthropic(Mode::ToolsStrict)).await;
    let tool = &replay.bodies().await[0]["tools"][0];
    assert_eq!(tool["strict"], true);
    assert_eq!(tool["input_schema"]["additionalProperties"], false);
    assert_eq!(
        tool["input_schema"]["properties"]["age"]["description"],
        "minimum: 0, maximum: 150"
    );
}

#[tokio::test]
async fn anthropic_json_outputs() {
    let replay = extract_jason("anthropic/json_schema", anthropic(Mode::JsonSchema)).await;
    let body = &replay.bodies().await[0];
    assert_eq!(body["output_config"]["format"]["type"], "json_schema");
    assert!(body.get("tools").is_none());
}

#[tokio::test]
async fn anthropic_max_tokens_is_incomplete_output() {
    let err = extract_err("anthropic/max_tokens", anthropic(Mode::JsonSchema)).await;
    assert!(matches!(err, Error::IncompleteOutput { .. }), "{err:?}");
}

#[tokio::test]
async fn anthropic_reask_uses_tool_result_with_is_error() {
    let replay = extract_jason("anthropic/reask", anthropic(Mode::Tools)).await;
    let messages = &replay.bodies().await[1]["messages"];
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(
        messages[1]["content"][0],
        json!({"type": "tool_use", "id": "toolu_01B", "name": "UserDetail", "input": {"name": "Jason", "age": 200}})
    );
    assert_eq!(messages[2]["role"], "user");
    assert_eq!(messages[2]["content"][0]["type"], "tool_result");
    assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_01B");
    assert_eq!(messages[2]["content"][0]["is_error"], true);
}

#[tokio::test]
async fn anthropic_overloaded_is_retried() {
    let replay = extract_jason("anthropic/overloaded_then_ok", anthropic(Mode::Tools)).await;
    assert_eq!(replay.requests().await.len(), 2);
}

#[tokio::test]
async fn anthropic_rate_limit_keeps_retry_after() {
    let hint = retry_after("anthropic/rate_limited", anthropic(Mode::Tools)).await;
    assert_eq!(hint, Some(Duration::from_secs(30)));
}

#[tokio::test]
async fn gemini_rate_limit_reads_retry_info() {
    let hint = retry_after("gemini/rate_limited", gemini(Mode::JsonSchema)).await;
    assert_eq!(hint, Some(Duration::from_secs(17)));
}

#[tokio::test]
async fn gemini_json_schema_with_the_key_in_a_header() {
    let replay = extract_jason("gemini/json_schema", gemini(Mode::JsonSchema)).await;
    let req = &replay.requests().await[0];
    assert_eq!(
        req.url.path(),
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(req.url.query(), None, "the key never goes in the URL");
    assert_eq!(req.headers.get("x-goog-api-key").unwrap(), "AIza-test-key");
    let config = &replay.bodies().await[0]["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert!(config["responseJsonSchema"]["properties"]["age"]
        .get("maximum")
        .is_some());
}

#[tokio::test]
async fn gemini_forced_function_call() {
    let replay = extract_jason("gemini/tools", gemini(Mode::Tools)).await;
    let body = &replay.bodies().await[0];
    assert_eq!(
        body["toolConfig"]["functionCallingConfig"],
        json!({"mode": "ANY", "allowedFunctionNames": ["UserDetail"]})
    );
    assert_eq!(
        body["tools"][0]["functionDeclarations"][0]["name"],
        "UserDetail"
    );
}

#[tokio::test]
async fn gemini_safety_and_blocked_prompts_are_content_filters() {
    for case in ["gemini/safety", "gemini/blocked_prompt"] {
        let err = extract_err(case, gemini(Mode::JsonSchema)).await;
        assert!(
            matches!(err, Error::ContentFilter { .. }),
            "{case}: {err:?}"
        );
    }
}

#[tokio::test]
async fn gemini_reask_appends_model_and_user_turns() {
    let replay = extract_jason("gemini/reask", gemini(Mode::JsonSchema)).await;
    let contents = &replay.bodies().await[1]["contents"];
    assert_eq!(contents[1]["role"], "model");
    assert_eq!(contents[2]["role"], "user");
    assert!(contents[2]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("/age"));
}

#[tokio::test]
async fn cohere_json_schema() {
    let replay = extract_jason("cohere/json_schema", cohere(Mode::JsonSchema)).await;
    assert_eq!(replay.requests().await[0].url.path(), "/v2/chat");
    let rf = &replay.bodies().await[0]["response_format"];
    assert_eq!(rf["type"], "json_object");
    assert_eq!(rf["json_schema"]["type"], "object");
}

#[tokio::test]
async fn cohere_tools_and_strict_tools() {
    let replay = extract_jason("cohere/tools", cohere(Mode::Tools)).await;
    assert_eq!(replay.bodies().await[0]["tool_choice"], "REQUIRED");
    let replay = extract_jason("cohere/tools_strict", cohere(Mode::ToolsStrict)).await;
    assert_eq!(replay.bodies().await[0]["strict_tools"], true);
}

#[tokio::test]
async fn ollama_native_format_schema() {
    let replay = extract_jason("ollama/json_schema", ollama(Mode::JsonSchema)).await;
    assert_eq!(replay.requests().await[0].url.path(), "/api/chat");
    let body = &replay.bodies().await[0];
    assert_eq!(body["stream"], false);
    assert_eq!(body["format"]["required"], json!(["name", "age"]));
}

#[tokio::test]
async fn ollama_native_tools_with_object_arguments() {
    let replay = extract_jason("ollama/tools", ollama(Mode::Tools)).await;
    assert!(replay.bodies().await[0].get("tool_choice").is_none());
}

#[tokio::test]
async fn ollama_native_errors() {
    let err = extract_err("ollama/not_found", ollama(Mode::JsonSchema)).await;
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("not found"));
}
