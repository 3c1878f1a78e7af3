//! The OpenAI-compatible provider and its presets against documented traffic replayed by a
//! local mock server: the request bodies we send and how we read every kind of answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{ask, ask_in, extract, jason, mock_server, openai_at, variant, Replay, UserDetail};
use instructor::providers::{HttpOptions, Mistral, OpenAi};
use instructor::{Client, Error, Mode, Provider, RetryPolicy};
use serde_json::json;
use wiremock::ResponseTemplate;

/// The OpenAI client of these fixtures in `mode`, for the server at the URL it is given.
fn openai(mode: Mode) -> impl FnOnce(String) -> Client {
    move |url| openai_at(&url, mode)
}

/// llama-cpp-python's client in `mode`, for the server at the URL it is given.
fn llama_cpp_python(mode: Mode) -> impl FnOnce(String) -> Client {
    move |url| Client::new(OpenAi::llama_cpp_python(format!("{url}/v1"))).mode(mode)
}

/// The fixture's answer in JSON mode fails with the error variant `kind`.
async fn json_mode_fails(fixture: &str, kind: &str) {
    let (err, _) = extract(fixture, openai(Mode::Json)).await;
    let err = err.unwrap_err();
    assert_eq!(variant(&err), kind, "{fixture}: {err:?}");
}

/// Asserts the first request asked for a `response_format` of type `kind`.
async fn assert_response_format(replay: &Replay, kind: &str) {
    assert_eq!(replay.body(0).await["response_format"]["type"], kind);
}

/// A preset provider's client with `model` in `mode`.
fn preset(p: impl Provider + 'static, model: &str, mode: Mode) -> Client {
    Client::new(p).model(model).mode(mode)
}

/// Mistral pointed at the server at `url`.
fn mistral(url: String) -> Mistral {
    Mistral::new().base_url(url).api_key("m")
}

const MIXTRAL: &str = "mistralai/Mixtral-8x7B-Instruct-v0.1";

/// The fixture's first request fails in transport and its retry gets Jason.
async fn jason_on_the_second_request(fixture: &str) {
    let (user, replay) = extract(fixture, openai(Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
    assert_eq!(replay.requests().await.len(), 2);
}

#[tokio::test]
async fn tools_mode() {
    let (user, replay) = extract("openai/tools", openai(Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
    let req = &replay.requests().await[0];
    assert_eq!(req.url.path(), "/v1/chat/completions");
    assert_eq!(
        req.headers.get("authorization").unwrap(),
        "Bearer sk-test-key"
    );
    let body = &replay.bodies().await[0];
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "UserDetail"}})
    );
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["age"]["maximum"],
        150
    );
}

#[tokio::test]
async fn tools_strict_mode() {
    let (user, replay) = extract("openai/tools_strict", openai(Mode::ToolsStrict)).await;
    assert_eq!(user.unwrap(), jason());
    let tool = &replay.bodies().await[0]["tools"][0]["function"];
    assert_eq!(tool["strict"], true);
    assert_eq!(tool["parameters"]["additionalProperties"], false);
    assert_eq!(tool["parameters"]["required"], json!(["name", "age"]));
}

#[tokio::test]
async fn json_mode() {
    let (user, replay) = extract("openai/json", openai(Mode::Json)).await;
    assert_eq!(user.unwrap(), jason());
    let body = &replay.bodies().await[0];
    assert_eq!(body["response_format"], json!({"type": "json_object"}));
    assert!(
        body["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("JSON"),
        "json_object needs the word JSON"
    );
}

#[tokio::test]
async fn json_schema_mode_is_strict_when_the_type_fits() {
    let (user, replay) = extract("openai/json_schema", openai(Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
    let rf = &replay.bodies().await[0]["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["name"], "UserDetail");
    assert_eq!(rf["json_schema"]["strict"], true);
}

#[tokio::test]
async fn md_json_mode() {
    let (user, replay) = extract("openai/md_json", openai(Mode::MdJson)).await;
    assert_eq!(user.unwrap(), jason());
    assert!(replay.bodies().await[0].get("response_format").is_none());
}

#[tokio::test]
async fn parallel_tools_mode() {
    let replay = Replay::start("openai/parallel_tools").await;
    let client = openai(Mode::ParallelTools)(replay.url());
    let users = ask::<Vec<UserDetail>>(&client, "Jason is 30 and Sarah is 25")
        .await
        .unwrap();
    replay.assert_requests().await;
    assert_eq!(users.len(), 2);
    assert_eq!(users[1].name, "Sarah");
    let body = &replay.bodies().await[0];
    assert_eq!(body["tool_choice"], "required");
    assert_eq!(body["parallel_tool_calls"], true);
}

#[tokio::test]
async fn refusal_is_typed() {
    let (err, _) = extract("openai/refusal", openai(Mode::JsonSchema)).await;
    assert!(
        matches!(err, Err(Error::Refusal { ref message }) if message.contains("cannot help")),
        "{err:?}"
    );
}

#[tokio::test]
async fn truncated_answer_is_incomplete_output() {
    let (err, _) = extract("openai/length", openai(Mode::Json)).await;
    let Err(Error::IncompleteOutput { partial, usage }) = err else {
        panic!("{err:?}")
    };
    assert_eq!(partial, r#"{"name":"Ja"#);
    assert_eq!(usage.output_tokens, 12);
}

#[tokio::test]
async fn content_filter_is_typed() {
    json_mode_fails("openai/content_filter", "ContentFilter").await;
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let (err, replay) = extract("openai/unauthorized", openai(Mode::Tools)).await;
    let err = err.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.to_string().contains("Incorrect API key"));
    assert_eq!(replay.requests().await.len(), 1);
}

#[tokio::test]
async fn exhausted_quota_is_not_retried() {
    let (err, replay) = extract("openai/quota", openai(Mode::Tools)).await;
    assert!(
        matches!(err, Err(Error::QuotaExhausted { status: 429, .. })),
        "{err:?}"
    );
    assert_eq!(replay.requests().await.len(), 1);
}

#[tokio::test]
async fn rate_limit_then_success() {
    jason_on_the_second_request("openai/rate_limit_then_ok").await;
}

#[tokio::test]
async fn server_error_then_success() {
    jason_on_the_second_request("openai/server_error_then_ok").await;
}

#[tokio::test]
async fn reask_sends_the_failed_call_and_an_error_tool_result() {
    let (user, replay) = extract("openai/reask", openai(Mode::Tools)).await;
    assert_eq!(user.unwrap(), jason());
    let second = &replay.bodies().await[1]["messages"];
    let n = second.as_array().unwrap().len();
    assert_eq!(second[n - 2]["tool_calls"][0]["id"], "call_A");
    assert_eq!(second[n - 1]["role"], "tool");
    assert_eq!(second[n - 1]["tool_call_id"], "call_A");
    assert!(second[n - 1]["content"]
        .as_str()
        .unwrap()
        .contains("/age: must be at most 150, got 200"));
}

#[tokio::test]
async fn wrong_shape_is_a_protocol_error() {
    json_mode_fails("openai/wrong_shape", "Protocol").await;
}

#[tokio::test]
async fn llama_cpp_python_sends_json_object_with_schema() {
    let fixture = "openai/llama_cpp_python_json_schema";
    let (user, replay) = extract(fixture, llama_cpp_python(Mode::JsonSchema)).await;
    assert_eq!(user.unwrap(), jason());
    let rf = &replay.bodies().await[0]["response_format"];
    assert_eq!(rf["type"], "json_object");
    assert_eq!(rf["schema"]["required"], json!(["name", "age"]));
    assert!(
        replay.requests().await[0]
            .headers
            .get("authorization")
            .is_none(),
        "no key, no header"
    );
}

#[tokio::test]
async fn llama_cpp_python_forced_tool() {
    let (user, _) = extract(
        "openai/llama_cpp_python_tools",
        llama_cpp_python(Mode::Tools),
    )
    .await;
    assert_eq!(user.unwrap(), jason());
}

#[tokio::test]
async fn llama_cpp_server_json_schema_and_no_tools() {
    let (user, replay) = extract("openai/llama_cpp_server_json_schema", |u| {
        Client::new(OpenAi::llama_cpp_server(format!("{u}/v1")))
    })
    .await;
    assert_eq!(user.unwrap(), jason());
    let rf = &replay.bodies().await[0]["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert!(rf["json_schema"].get("strict").is_none());

    let unreachable = Client::new(OpenAi::llama_cpp_server("http://127.0.0.1:9/v1"));
    let err = ask_in::<UserDetail>(&unreachable, Mode::Tools, "x")
        .await
        .unwrap_err();
    let Error::UnsupportedMode { supported, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(supported, &[Mode::JsonSchema, Mode::Json, Mode::MdJson]);
}

#[tokio::test]
async fn ollama_inlines_references() {
    #[derive(instructor::Instruct, serde::Deserialize, Debug)]
    struct Team {
        lead: UserDetail,
    }
    let replay = Replay::start("openai/ollama_json_schema").await;
    let ollama = OpenAi::ollama().base_url(format!("{}/v1", replay.url()));
    let result = ask::<Team>(&Client::new(ollama).model("llama3.2").max_retries(0), "x").await;
    // The canned answer is a user, not a team: what matters here is what was sent.
    assert!(result.is_err());
    let rf = &replay.bodies().await[0]["response_format"];
    let schema = rf["json_schema"]["schema"].to_string();
    assert!(
        !schema.contains("$ref") && !schema.contains("$defs"),
        "{schema}"
    );
    assert!(rf["json_schema"]["schema"]["properties"]["lead"]["properties"]["age"].is_object());
}

#[tokio::test]
async fn groq_json_validate_failed_is_reasked() {
    let (user, replay) = extract("openai/groq_json_validate_failed", |u| {
        let groq = OpenAi::groq().base_url(u).api_key("gsk-test");
        preset(groq, "llama-3.1-8b-instant", Mode::JsonSchema)
    })
    .await;
    assert_eq!(user.unwrap(), jason());
    let second = &replay.bodies().await[1]["messages"];
    let last = second.as_array().unwrap().last().unwrap();
    assert!(
        last["content"].as_str().unwrap().contains("\"age\": 200"),
        "the failed generation was kept"
    );
}

#[tokio::test]
async fn anyscale_json_object_with_schema() {
    let (user, replay) = extract("openai/anyscale_json_schema", |u| {
        let anyscale = OpenAi::anyscale().base_url(u).api_key("esecret");
        preset(anyscale, MIXTRAL, Mode::JsonSchema)
    })
    .await;
    assert_eq!(user.unwrap(), jason());
    assert_response_format(&replay, "json_object").await;
}

#[tokio::test]
async fn together_tools() {
    let (user, _) = extract("openai/together_tools", |u| {
        preset(
            OpenAi::together().base_url(u).api_key("tg"),
            MIXTRAL,
            Mode::Tools,
        )
    })
    .await;
    assert_eq!(user.unwrap().age, 25);
}

#[tokio::test]
async fn mistral_forces_tools_with_any_and_reads_object_arguments() {
    let (user, replay) = extract("mistral/tools", |u| {
        Client::new(mistral(u)).model("mistral-large-latest")
    })
    .await;
    assert_eq!(user.unwrap().age, 20);
    assert_eq!(replay.bodies().await[0]["tool_choice"], "any");
}

#[tokio::test]
async fn mistral_json_schema_with_chunked_content() {
    let (user, replay) = extract("mistral/json_schema", |u| {
        preset(mistral(u), "mistral-small-latest", Mode::JsonSchema)
    })
    .await;
    assert_eq!(user.unwrap(), jason());
    assert_response_format(&replay, "json_schema").await;
}

#[tokio::test]
async fn presets_refuse_modes_their_servers_lack() {
    for (p, mode) in [
        (OpenAi::deepseek().api_key("k"), Mode::JsonSchema),
        (
            OpenAi::llama_cpp_python("http://127.0.0.1:9/v1"),
            Mode::ParallelTools,
        ),
        (OpenAi::ollama(), Mode::ToolsStrict),
        (OpenAi::new().api_key("k"), Mode::Grammar),
    ] {
        let name = format!("{p:?}");
        let err = ask_in::<UserDetail>(&Client::new(p).model("m"), mode, "x")
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedMode { .. }),
            "{name}: {err:?}"
        );
    }
}

#[tokio::test]
async fn missing_key_is_a_config_error_before_any_request() {
    let replay = Replay::start("openai/tools").await;
    std::env::remove_var("TOGETHER_API_KEY");
    let p = OpenAi::together().base_url(replay.url());
    let err = ask::<UserDetail>(&Client::new(p).model("m"), "x").await;
    assert!(
        matches!(&err, Err(Error::Config(m)) if m.contains("TOGETHER_API_KEY")),
        "{err:?}"
    );
    assert!(replay.requests().await.is_empty());
}

/// A JSON body of `bytes`, with status 200.
fn body(bytes: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(bytes, "application/json")
}

#[tokio::test]
async fn hostile_servers_get_typed_errors() {
    // A body far over the limit.
    let server = mock_server(body(vec![b' '; 2 * 1024 * 1024])).await;
    let p = OpenAi::compatible(server.uri()).http_options(HttpOptions {
        max_body_bytes: 1024 * 1024,
        ..HttpOptions::default()
    });
    let err = ask::<UserDetail>(&Client::new(p).max_retries(0), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.contains("limit")),
        "{err:?}"
    );

    // Invalid UTF-8.
    let server = mock_server(body(vec![b'{', 0xff, 0xfe, b'}'])).await;
    let err = ask::<UserDetail>(&Client::new(OpenAi::compatible(server.uri())), "x")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol { message, .. } if message.contains("UTF-8")),
        "{err:?}"
    );
    let source = std::error::Error::source(err.root()).expect("the UTF-8 error is kept");
    assert!(source.is::<std::str::Utf8Error>(), "{source:?}");

    // A server that never answers in time.
    let server = mock_server(ResponseTemplate::new(200).set_delay(Duration::from_secs(30))).await;
    let p = OpenAi::compatible(server.uri()).http_options(HttpOptions {
        timeout: Duration::from_millis(200),
        ..HttpOptions::default()
    });
    let err = ask::<UserDetail>(&Client::new(p).transport_retries(RetryPolicy::none()), "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
}
