//! The native providers (Anthropic, Gemini, Cohere, Ollama) against documented traffic
//! replayed by a local mock server: request bodies, headers and every kind of answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{extract, jason};
use instructor::providers::{Anthropic, Cohere, Gemini, Ollama};
use instructor::{Client, Error, Mode, RetryPolicy};
use serde_json::json;

fn fast(c: Client) -> Client {
    c.transport_retries(RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        ..RetryPolicy::default()
    })
}

fn anthropic(url: String, mode: Mode) -> Client {
    fast(Client::new(
        Anthropic::new()
            .base_url(format!("{url}/v1"))
            .api_key("sk-ant-test"),
    ))
    .model("claude-sonnet-4-5")
    .mode(mode)
}

#[tokio::test]
async fn anthropic_tools() {
    let (user, replay) = extract("anthropic/tools", |u| anthropic(u, Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
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
    let (user, replay) = extract("anthropic/tools_strict", |u| {
        anthropic(u, Mode::ToolsStrict)
    })
    .await;
    assert_eq!(user.unwrap(), jason());
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
    let (user, replay) = extract("anthropic/json_schema", |u| anthropic(u, Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
    let body = &replay.bodies().await[0];
    assert_eq!(body["output_config"]["format"]["type"], "json_schema");
    assert!(body.get("tools").is_none());
}

#[tokio::test]
async fn anthropic_max_tokens_is_incomplete_output() {
    let (err, _) = extract("anthropic/max_tokens", |u| anthropic(u, Mode::JsonSchema)).await;
    assert!(
        matches!(err, Err(Error::IncompleteOutput { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn anthropic_reask_uses_tool_result_with_is_error() {
    let (user, replay) = extract("anthropic/reask", |u| anthropic(u, Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
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
    let (user, replay) = extract("anthropic/overloaded_then_ok", |u| {
        anthropic(u, Mode::Tools)
    })
    .await;
    assert_eq!(user.unwrap(), jason());
    assert_eq!(replay.requests().await.len(), 2);
}

#[tokio::test]
async fn anthropic_rate_limit_keeps_retry_after() {
    let (err, _) = extract("anthropic/rate_limited", |u| {
        anthropic(u, Mode::Tools).transport_retries(RetryPolicy::none())
    })
    .await;
    let Err(Error::RateLimited { retry_after, .. }) = err else {
        panic!("{err:?}")
    };
    assert_eq!(retry_after, Some(Duration::from_secs(30)));
}

fn gemini(url: String, mode: Mode) -> Client {
    fast(Client::new(
        Gemini::new()
            .base_url(format!("{url}/v1beta"))
            .api_key("AIza-test-key"),
    ))
    .model("gemini-2.5-flash")
    .mode(mode)
}

#[tokio::test]
async fn gemini_json_schema_with_the_key_in_a_header() {
    let (user, replay) = extract("gemini/json_schema", |u| gemini(u, Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
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
    let (user, replay) = extract("gemini/tools", |u| gemini(u, Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
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
        let (err, _) = extract(case, |u| gemini(u, Mode::JsonSchema)).await;
        assert!(
            matches!(err, Err(Error::ContentFilter { .. })),
            "{case}: {err:?}"
        );
    }
}

#[tokio::test]
async fn gemini_rate_limit_reads_retry_info() {
    let (err, _) = extract("gemini/rate_limited", |u| {
        gemini(u, Mode::JsonSchema).transport_retries(RetryPolicy::none())
    })
    .await;
    let Err(Error::RateLimited { retry_after, .. }) = err else {
        panic!("{err:?}")
    };
    assert_eq!(retry_after, Some(Duration::from_secs(17)));
}

#[tokio::test]
async fn gemini_reask_appends_model_and_user_turns() {
    let (user, replay) = extract("gemini/reask", |u| gemini(u, Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
    let contents = &replay.bodies().await[1]["contents"];
    assert_eq!(contents[1]["role"], "model");
    assert_eq!(contents[2]["role"], "user");
    assert!(contents[2]["parts"][0]["text"]
        .as_str()
        .unwrap()
        .contains("/age"));
}

fn cohere(url: String, mode: Mode) -> Client {
    fast(Client::new(
        Cohere::new()
            .base_url(format!("{url}/v2"))
            .api_key("co-test"),
    ))
    .model("command-a-03-2025")
    .mode(mode)
}

#[tokio::test]
async fn cohere_json_schema() {
    let (user, replay) = extract("cohere/json_schema", |u| cohere(u, Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
    assert_eq!(replay.requests().await[0].url.path(), "/v2/chat");
    let rf = &replay.bodies().await[0]["response_format"];
    assert_eq!(rf["type"], "json_object");
    assert_eq!(rf["json_schema"]["type"], "object");
}

#[tokio::test]
async fn cohere_tools_and_strict_tools() {
    let (user, replay) = extract("cohere/tools", |u| cohere(u, Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
    assert_eq!(replay.bodies().await[0]["tool_choice"], "REQUIRED");
    let (user, replay) = extract("cohere/tools_strict", |u| cohere(u, Mode::ToolsStrict)).await;
    assert_eq!(user.unwrap(), jason());
    assert_eq!(replay.bodies().await[0]["strict_tools"], true);
}

fn ollama(url: String, mode: Mode) -> Client {
    fast(Client::new(Ollama::new().base_url(url)))
        .model("llama3.2")
        .mode(mode)
}

#[tokio::test]
async fn ollama_native_format_schema() {
    let (user, replay) = extract("ollama/json_schema", |u| ollama(u, Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
    assert_eq!(replay.requests().await[0].url.path(), "/api/chat");
    let body = &replay.bodies().await[0];
    assert_eq!(body["stream"], false);
    assert_eq!(body["format"]["required"], json!(["name", "age"]));
}

#[tokio::test]
async fn ollama_native_tools_with_object_arguments() {
    let (user, replay) = extract("ollama/tools", |u| ollama(u, Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
    assert!(replay.bodies().await[0].get("tool_choice").is_none());
}

#[tokio::test]
async fn ollama_native_errors() {
    let (err, _) = extract("ollama/not_found", |u| ollama(u, Mode::JsonSchema)).await;
    let err = err.unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(err.to_string().contains("not found"));
}
