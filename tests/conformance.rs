//! The provider conformance suite: one table of providers ([`rows`]: every family, and the
//! OpenAI-compatible presets that declare different modes or shapes) and one set of cases,
//! each run against every row over a local mock server:
//!
//! | case | what must hold |
//! |---|---|
//! | declared | capabilities are the table's (modes, default, streaming, images) |
//! | declared modes | the body has the mode's documented shape; the answer parses |
//! | wire body | `Provider::wire_body` is the body the server receives, byte for byte |
//! | undeclared modes | `UnsupportedMode` from the client, `send`, `stream` and `wire_body`; nothing sent |
//! | streaming | partial values, then the final value and the usage |
//! | images | the image in the documented shape, or `UnsupportedPart` with nothing sent |
//! | 400, 401 | `Http` with the status, not retried |
//! | 429 | `RateLimited` with the server's wait; retried per policy |
//! | 5xx | retried per policy, then `Http` with the status |
//! | refusal, filter | `Refusal` / `ContentFilter`, not re-asked (where the API has them) |
//! | truncation | `IncompleteOutput` at the token limit, not re-asked |
//! | usage | summed over a re-ask |
//!
//! Wire shapes follow /work/shared/reference/providers.md (OpenAI Chat §1, llama.cpp §12,
//! llama-cpp-python §13, Mistral §6, Anthropic §3, Gemini §4, Cohere §15, Ollama §0); the
//! answers are built by `common::family`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::family::Family;
use common::streams::drain;
use common::{bodies, jason, UserDetail};
use instructor::providers::{Anthropic, Cohere, Gemini, Mistral, Ollama, OpenAi};
use instructor::testing::ScriptedProvider;
use instructor::{Client, Error, Image, Instruct, Message, Mode, Provider, Request, RetryPolicy};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-key-0123456789";
const JASON: &str = r#"{"name": "Jason", "age": 30}"#;
const SARAH: &str = r#"{"name": "Sarah", "age": 25}"#;
const TOO_OLD: &str = r#"{"name": "Jason", "age": 200}"#;

/// How the OpenAI family asks for a schema-enforced answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SchemaShape {
    /// §1: `json_schema` with `strict: true` when the type fits.
    Strict,
    /// §12, §14: `json_schema` without `strict`.
    Plain,
    /// §13: `json_object` with `schema`.
    ObjectWithSchema,
}

/// One provider under test.
#[derive(Clone, Copy)]
struct Row {
    name: &'static str,
    family: Family,
    /// The provider, pointed at the mock server's root.
    build: fn(&str) -> Arc<dyn Provider>,
    modes: &'static [Mode],
    default_mode: Mode,
    images: bool,
    /// Whether an image may be given by URL (else base64 bytes only).
    image_urls: bool,
    /// Where a whole answer is asked for (model `m`).
    path: &'static str,
    /// OpenAI family only: the JSON-schema shape and the forced tool choice (`None`: the
    /// server ignores it, so it is not sent).
    schema: SchemaShape,
    tool_choice: Option<&'static str>,
    /// Whether the API documents refusals or content filters (`Family::withheld`).
    withholds: bool,
}

use Mode::*;

const HOSTED: &[Mode] = &[Tools, ToolsStrict, Json, JsonSchema, MdJson, ParallelTools];
const FORCED: Option<&str> = Some(r#"{"type": "function", "function": {"name": "UserDetail"}}"#);

fn rows() -> Vec<Row> {
    let openai = Row {
        name: "openai",
        family: Family::OpenAi,
        build: |u| Arc::new(OpenAi::new().base_url(format!("{u}/v1")).api_key(KEY)),
        modes: HOSTED,
        default_mode: Tools,
        images: true,
        image_urls: true,
        path: "/v1/chat/completions",
        schema: SchemaShape::Strict,
        tool_choice: FORCED,
        withholds: true,
    };
    vec![
        openai,
        Row {
            name: "llama-cpp-python",
            build: |u| Arc::new(OpenAi::llama_cpp_python(format!("{u}/v1"))),
            modes: &[JsonSchema, Tools, Json, MdJson],
            default_mode: JsonSchema,
            schema: SchemaShape::ObjectWithSchema,
            withholds: false,
            ..openai
        },
        Row {
            name: "llama.cpp",
            build: |u| Arc::new(OpenAi::llama_cpp_server(format!("{u}/v1"))),
            modes: &[JsonSchema, Json, MdJson],
            default_mode: JsonSchema,
            schema: SchemaShape::Plain,
            withholds: false,
            ..openai
        },
        Row {
            name: "ollama",
            build: |u| Arc::new(OpenAi::ollama().base_url(format!("{u}/v1"))),
            modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
            default_mode: JsonSchema,
            schema: SchemaShape::Plain,
            tool_choice: None,
            withholds: false,
            image_urls: false,
            ..openai
        },
        Row {
            name: "deepseek",
            build: |u| Arc::new(OpenAi::deepseek().base_url(format!("{u}/v1")).api_key(KEY)),
            modes: &[Tools, Json, MdJson, ParallelTools],
            images: false,
            withholds: false,
            ..openai
        },
        Row {
            name: "mistral",
            family: Family::Mistral,
            build: |u| Arc::new(Mistral::new().base_url(format!("{u}/v1")).api_key(KEY)),
            modes: &[Tools, Json, JsonSchema, MdJson, ParallelTools],
            tool_choice: Some(r#""any""#),
            withholds: false,
            ..openai
        },
        Row {
            name: "anthropic",
            family: Family::Anthropic,
            build: |u| Arc::new(Anthropic::new().base_url(format!("{u}/v1")).api_key(KEY)),
            modes: &[Tools, ToolsStrict, JsonSchema, ParallelTools, Json, MdJson],
            path: "/v1/messages",
            ..openai
        },
        Row {
            name: "gemini",
            family: Family::Gemini,
            build: |u| Arc::new(Gemini::new().base_url(format!("{u}/v1beta")).api_key(KEY)),
            modes: &[JsonSchema, Tools, ParallelTools, Json, MdJson],
            default_mode: JsonSchema,
            path: "/v1beta/models/m:generateContent",
            ..openai
        },
        Row {
            name: "cohere",
            family: Family::Cohere,
            build: |u| Arc::new(Cohere::new().base_url(format!("{u}/v2")).api_key(KEY)),
            modes: &[JsonSchema, Json, Tools, ToolsStrict, ParallelTools, MdJson],
            default_mode: JsonSchema,
            images: false,
            path: "/v2/chat",
            withholds: false,
            ..openai
        },
        Row {
            name: "ollama-native",
            family: Family::Ollama,
            build: |u| Arc::new(Ollama::new().base_url(u)),
            modes: &[JsonSchema, Json, Tools, ParallelTools, MdJson],
            default_mode: JsonSchema,
            path: "/api/chat",
            withholds: false,
            image_urls: false,
            ..openai
        },
    ]
}

/// One reply of the mock server.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn ok(body: String) -> Reply {
    Reply {
        status: 200,
        headers: Vec::new(),
        body,
    }
}

fn status(status: u16, body: String) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body,
    }
}

/// A server giving `replies` in order, one per request, then repeating the last one.
async fn serve(replies: Vec<Reply>) -> MockServer {
    let server = MockServer::builder().start().await;
    let n = replies.len();
    for (i, r) in replies.into_iter().enumerate() {
        let mut template = ResponseTemplate::new(r.status);
        for (k, v) in &r.headers {
            template = template.insert_header(*k, v.as_str());
        }
        let mock = Mock::given(any())
            .respond_with(template.set_body_raw(r.body.into_bytes(), "application/json"))
            .with_priority((i + 1) as u8);
        let mock = if i + 1 < n {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(&server).await;
    }
    server
}

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn client(row: &Row, url: &str, mode: Mode) -> Client {
    Client::from_shared((row.build)(url))
        .model("m")
        .mode(mode)
        .max_retries(0)
        .transport_retries(RetryPolicy::none())
}

/// A few quick transport retries.
fn retries(n: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: n,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        max_elapsed: Duration::from_secs(30),
    }
}

fn sarah() -> UserDetail {
    UserDetail {
        name: "Sarah".into(),
        age: 25,
    }
}

/// The answer to a request in `mode`, in the family's shape.
fn answer(family: Family, mode: Mode) -> String {
    match mode {
        Tools | ToolsStrict => family.tool_answer(&[("UserDetail", JASON)]),
        ParallelTools => family.tool_answer(&[("UserDetail", JASON), ("UserDetail", SARAH)]),
        MdJson => family.whole(&format!("Here it is:\n```json\n{JASON}\n```")),
        _ => family.whole(JASON),
    }
}

/// The neutral request for `T`, planned by `client` (with every sampling setting and an
/// `extra` member when `settings`).
fn planned<T: Instruct>(client: &Client, settings: bool) -> Request {
    let create = client.create::<T>().system("Be brief.").user("Jason is 30");
    let create = match settings {
        true => create
            .temperature(0.25)
            .top_p(0.5)
            .max_tokens(300)
            .seed(7)
            .stop(["END"])
            .extra(json!({"x_trace": {"id": 1}})),
        false => create,
    };
    create.prepare().unwrap().request().clone()
}

/// The request of one extraction in `mode` (a list of users for parallel tools).
fn planned_in(client: &Client, mode: Mode, settings: bool) -> Request {
    match mode {
        ParallelTools => planned::<Vec<UserDetail>>(client, settings),
        _ => planned::<UserDetail>(client, settings),
    }
}

/// A neutral request in any mode, planned without a provider's own check.
fn request_for(mode: Mode) -> Request {
    let client = Client::new(ScriptedProvider::new()).model("m").mode(mode);
    planned_in(&client, mode, false)
}

/// One extraction of a user.
/// Asks `row`'s client in `mode`, set up by `setup`, of a server giving `replies`: the error
/// the extraction must end in, and how many requests the server received.
async fn failed(
    row: &Row,
    mode: Mode,
    replies: Vec<Reply>,
    setup: impl FnOnce(Client) -> Client,
) -> (Error, usize) {
    let server = serve(replies).await;
    let err = ask(setup(client(row, &server.uri(), mode)))
        .await
        .unwrap_err();
    (err, received(&server).await)
}

async fn ask(client: Client) -> Result<UserDetail, Error> {
    client
        .create::<UserDetail>()
        .user("Jason is 30")
        .send()
        .await
}

/// Asserts that none of `keys` is in `body`.
fn absent(body: &Value, keys: &[&str], what: &str) {
    for k in keys {
        assert!(body.get(*k).is_none(), "{what}: `{k}` sent: {body}");
    }
}

/// The body a mode's request must have in the row's documented shape.
fn assert_shape(row: &Row, mode: Mode, body: &Value) {
    let what = format!("{} {mode}", row.name);
    let what = what.as_str();
    match row.family {
        // §1 (§6 Mistral, §12 llama.cpp, §13 llama-cpp-python).
        Family::OpenAi | Family::Mistral => {
            assert_eq!(body["model"], "m", "{what}");
            let function = &body["tools"][0]["function"];
            let choice = row
                .tool_choice
                .map(|c| serde_json::from_str::<Value>(c).unwrap());
            match mode {
                Tools | ToolsStrict | ParallelTools => {
                    assert_eq!(body["tools"][0]["type"], "function", "{what}: {body}");
                    assert_eq!(function["name"], "UserDetail", "{what}");
                    assert_eq!(function["parameters"]["type"], "object", "{what}");
                    absent(body, &["response_format"], what);
                    let expected = match (mode, &choice) {
                        (ParallelTools, Some(c)) if c.is_object() => Some(json!("required")),
                        _ => choice.clone(),
                    };
                    assert_eq!(body.get("tool_choice"), expected.as_ref(), "{what}");
                    if mode == ParallelTools && expected.is_some() {
                        assert_eq!(body["parallel_tool_calls"], true, "{what}");
                    } else {
                        absent(body, &["parallel_tool_calls"], what);
                    }
                    if mode == ToolsStrict {
                        assert_eq!(function["strict"], true, "{what}");
                        assert_eq!(function["parameters"]["additionalProperties"], false);
                    } else {
                        assert!(function.get("strict").is_none(), "{what}");
                    }
                }
                Json => {
                    assert_eq!(body["response_format"], json!({"type": "json_object"}));
                    absent(body, &["tools", "tool_choice"], what);
                }
                JsonSchema => {
                    let rf = &body["response_format"];
                    match row.schema {
                        SchemaShape::Strict => {
                            assert_eq!(rf["type"], "json_schema", "{what}");
                            assert_eq!(rf["json_schema"]["name"], "UserDetail", "{what}");
                            assert_eq!(rf["json_schema"]["strict"], true, "{what}");
                            assert_eq!(rf["json_schema"]["schema"]["type"], "object");
                        }
                        SchemaShape::Plain => {
                            assert_eq!(rf["type"], "json_schema", "{what}");
                            assert!(rf["json_schema"].get("strict").is_none(), "{what}");
                            assert_eq!(rf["json_schema"]["schema"]["type"], "object");
                        }
                        SchemaShape::ObjectWithSchema => {
                            assert_eq!(rf["type"], "json_object", "{what}");
                            assert_eq!(rf["schema"]["required"], json!(["name", "age"]));
                        }
                    }
                    absent(body, &["tools", "tool_choice"], what);
                }
                _ => absent(body, &["response_format", "tools", "tool_choice"], what),
            }
        }
        // §3.
        Family::Anthropic => {
            assert_eq!(body["max_tokens"], 1024, "{what}: required");
            let tool = &body["tools"][0];
            match mode {
                Tools | ToolsStrict | ParallelTools => {
                    assert_eq!(tool["name"], "UserDetail", "{what}");
                    assert_eq!(tool["input_schema"]["type"], "object", "{what}");
                    absent(body, &["output_config"], what);
                    let choice = if mode == ParallelTools {
                        json!({"type": "any", "disable_parallel_tool_use": false})
                    } else {
                        json!({"type": "tool", "name": "UserDetail"})
                    };
                    assert_eq!(body["tool_choice"], choice, "{what}");
                    assert_eq!(
                        tool.get("strict"),
                        (mode == ToolsStrict).then_some(&json!(true))
                    );
                }
                JsonSchema => {
                    let format = &body["output_config"]["format"];
                    assert_eq!(format["type"], "json_schema", "{what}");
                    assert_eq!(format["schema"]["type"], "object", "{what}");
                    absent(body, &["tools", "tool_choice"], what);
                }
                _ => absent(body, &["tools", "tool_choice", "output_config"], what),
            }
        }
        // §4.
        Family::Gemini => {
            let config = &body["generationConfig"];
            match mode {
                Tools | ParallelTools => {
                    let declaration = &body["tools"][0]["functionDeclarations"][0];
                    assert_eq!(declaration["name"], "UserDetail", "{what}");
                    assert_eq!(declaration["parametersJsonSchema"]["type"], "object");
                    assert_eq!(
                        body["toolConfig"]["functionCallingConfig"],
                        json!({"mode": "ANY", "allowedFunctionNames": ["UserDetail"]})
                    );
                    assert!(config.get("responseMimeType").is_none(), "{what}");
                }
                JsonSchema | Json => {
                    assert_eq!(config["responseMimeType"], "application/json", "{what}");
                    let schema = config.get("responseJsonSchema");
                    assert_eq!(schema.is_some(), mode == JsonSchema, "{what}");
                    absent(body, &["tools", "toolConfig"], what);
                }
                _ => {
                    assert!(config.get("responseMimeType").is_none(), "{what}");
                    absent(body, &["tools", "toolConfig"], what);
                }
            }
        }
        // §15.
        Family::Cohere => {
            assert_eq!(body["model"], "m", "{what}");
            match mode {
                Tools | ToolsStrict | ParallelTools => {
                    assert_eq!(body["tools"][0]["type"], "function", "{what}");
                    assert_eq!(body["tools"][0]["function"]["name"], "UserDetail");
                    assert_eq!(body["tool_choice"], "REQUIRED", "{what}");
                    let strict = (mode == ToolsStrict).then_some(&json!(true));
                    assert_eq!(body.get("strict_tools"), strict, "{what}");
                    absent(body, &["response_format"], what);
                }
                JsonSchema => {
                    assert_eq!(body["response_format"]["type"], "json_object", "{what}");
                    assert_eq!(body["response_format"]["json_schema"]["type"], "object");
                    absent(body, &["tools"], what);
                }
                Json => {
                    assert_eq!(body["response_format"], json!({"type": "json_object"}));
                    absent(body, &["tools"], what);
                }
                _ => absent(body, &["response_format", "tools", "tool_choice"], what),
            }
        }
        // §0 (Ollama's `/api/chat`).
        Family::Ollama => {
            assert_eq!(body["stream"], false, "{what}");
            match mode {
                Tools | ParallelTools => {
                    assert_eq!(body["tools"][0]["function"]["name"], "UserDetail");
                    absent(body, &["format", "tool_choice"], what);
                }
                JsonSchema => {
                    assert_eq!(body["format"]["required"], json!(["name", "age"]));
                    assert!(!body["format"].to_string().contains("$ref"), "{what}");
                    absent(body, &["tools"], what);
                }
                Json => {
                    assert_eq!(body["format"], "json", "{what}");
                    absent(body, &["tools"], what);
                }
                _ => absent(body, &["format", "tools"], what),
            }
        }
    }
}

#[tokio::test]
async fn each_provider_declares_what_the_table_says() {
    for row in rows() {
        let c = (row.build)("http://127.0.0.1:9").capabilities();
        assert_eq!(c.modes, row.modes, "{}", row.name);
        assert_eq!(c.default_mode, row.default_mode, "{}", row.name);
        assert_eq!(c.images, row.images, "{}", row.name);
        assert!(c.streaming, "{}", row.name);
    }
}

#[tokio::test]
async fn every_declared_mode_sends_its_shape_and_reads_its_answer() {
    for row in rows() {
        for &mode in row.modes {
            let server = serve(vec![ok(answer(row.family, mode))]).await;
            let c = client(&row, &server.uri(), mode);
            if mode == ParallelTools {
                let users = c
                    .create::<Vec<UserDetail>>()
                    .user("Jason, Sarah")
                    .send()
                    .await;
                assert_eq!(users.unwrap(), [jason(), sarah()], "{} {mode}", row.name);
            } else {
                let user = ask(c).await;
                assert_eq!(user.unwrap(), jason(), "{} {mode}", row.name);
            }
            let requests = server.received_requests().await.unwrap();
            assert_eq!(requests.len(), 1, "{} {mode}", row.name);
            assert_eq!(requests[0].url.path(), row.path, "{} {mode}", row.name);
            assert_shape(&row, mode, &bodies(&server).await[0]);
        }
    }
}

#[tokio::test]
async fn wire_body_is_the_body_the_server_receives() {
    for row in rows() {
        for &mode in row.modes {
            let server = serve(vec![ok(answer(row.family, mode))]).await;
            let provider = (row.build)(&server.uri());
            let c = Client::from_shared(provider.clone()).model("m").mode(mode);
            // Every setting and an `extra` member, so that all of them are compared.
            let request = planned_in(&c, mode, true);
            let expected = provider.wire_body(&request).unwrap();
            provider.send(&request).await.unwrap();
            let sent = server.received_requests().await.unwrap();
            assert_eq!(sent.len(), 1);
            let got: Value = serde_json::from_slice(&sent[0].body).unwrap();
            assert_eq!(expected, got, "{} {mode}", row.name);
            assert_eq!(
                serde_json::to_vec(&expected).unwrap(),
                sent[0].body,
                "{} {mode}: the same bytes",
                row.name
            );
            assert_eq!(expected["x_trace"], json!({"id": 1}), "{} {mode}", row.name);
        }
    }
}

#[tokio::test]
async fn undeclared_modes_fail_typed_before_anything_is_sent() {
    for row in rows() {
        let server = serve(vec![ok(answer(row.family, Json))]).await;
        let provider = (row.build)(&server.uri());
        let undeclared: Vec<Mode> = Mode::ALL
            .iter()
            .copied()
            .filter(|m| !row.modes.contains(m))
            .collect();
        assert!(undeclared.contains(&Grammar), "{}", row.name);
        for mode in undeclared {
            let what = format!("{} {mode}", row.name);
            let unsupported = |e: &Error| {
                matches!(e, Error::UnsupportedMode { mode: m, provider, supported }
                    if *m == mode && provider == row.name && supported == row.modes)
            };
            // Through a client: the core's check.
            let c = client(&row, &server.uri(), mode);
            let err = match mode {
                ParallelTools => c.create::<Vec<UserDetail>>().user("x").send().await.err(),
                _ => ask(c).await.err(),
            };
            assert!(err.as_ref().is_some_and(unsupported), "{what}: {err:?}");
            // Straight to the provider: its own check.
            let request = request_for(mode);
            let err = provider.send(&request).await.err();
            assert!(err.as_ref().is_some_and(unsupported), "{what}: {err:?}");
            let err = provider.stream(&request).await.err();
            assert!(err.as_ref().is_some_and(unsupported), "{what}: {err:?}");
            let err = provider.wire_body(&request).err();
            assert!(err.as_ref().is_some_and(unsupported), "{what}: {err:?}");
        }
        assert_eq!(received(&server).await, 0, "{}: nothing sent", row.name);
    }
}

/// The partial snapshots' names and the final value of a streamed extraction.
async fn partials(client: &Client) -> (Vec<Option<String>>, UserDetail, instructor::Usage) {
    let (partials, end) = drain(client.create_partial::<UserDetail>().user("Jason is 30")).await;
    let (value, usage) = end.unwrap();
    (partials.into_iter().map(|p| p.name).collect(), value, usage)
}

/// Asserts the request asked for a stream, as the family asks for one.
async fn asked_to_stream(row: &Row, server: &MockServer) {
    let request = &server.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    match row.family {
        // §4: another method, SSE by query.
        Family::Gemini => {
            assert_eq!(request.url.path(), "/v1beta/models/m:streamGenerateContent");
            assert_eq!(request.url.query(), Some("alt=sse"));
        }
        // §1: usage only with include_usage.
        Family::OpenAi | Family::Mistral => {
            assert_eq!(body["stream"], true, "{}", row.name);
            assert_eq!(
                body["stream_options"]["include_usage"], true,
                "{}",
                row.name
            );
        }
        _ => assert_eq!(body["stream"], true, "{}", row.name),
    }
}

#[tokio::test]
async fn streams_give_partial_values_then_the_final_value() {
    let chunks = [r#"{"name": "Ja"#, r#"son", "ag"#, r#"e": 30}"#];
    for row in rows() {
        // Text, in the JSON mode every row declares.
        let server = serve(vec![ok(row.family.stream_chunks(&chunks))]).await;
        let (names, value, usage) = partials(&client(&row, &server.uri(), Json)).await;
        assert_eq!(value, jason(), "{}", row.name);
        assert!(!names.is_empty(), "{}: no partial value", row.name);
        assert!(
            names
                .iter()
                .flatten()
                .all(|n| "Jason".starts_with(n.as_str())),
            "{}: {names:?}",
            row.name
        );
        assert_eq!(usage.total_tokens, 14, "{}", row.name);
        asked_to_stream(&row, &server).await;

        // A tool call, where the row has tools.
        if row.modes.contains(&Tools) {
            let server = serve(vec![ok(row.family.stream_tool("UserDetail", JASON))]).await;
            let (names, value, usage) = partials(&client(&row, &server.uri(), Tools)).await;
            assert_eq!(value, jason(), "{} tools", row.name);
            // Gemini and Ollama send a call whole; the others in pieces.
            if !matches!(row.family, Family::Gemini | Family::Ollama) {
                assert!(!names.is_empty(), "{} tools: no partial value", row.name);
            }
            assert_eq!(usage.total_tokens, 14, "{} tools", row.name);
            asked_to_stream(&row, &server).await;
        }
    }
}

/// The last user turn of a body, in the family's shape.
fn user_turn(family: Family, body: &Value) -> &Value {
    let turns = match family {
        Family::Gemini => &body["contents"],
        _ => &body["messages"],
    };
    turns
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["role"] == "user")
        .unwrap()
}

/// The image part a family sends for `image`, or `None` where it takes no such image.
fn image_part(family: Family, image: &Image) -> Option<Value> {
    let (url, data) = match image {
        Image::Url(url) => (Some(url.as_str()), None),
        Image::Base64 { data, .. } => (None, Some(data.as_str())),
        _ => unreachable!(),
    };
    match family {
        // OpenAI's `image_url` content part (bytes as a `data:` URL).
        Family::OpenAi | Family::Mistral => Some(json!({"type": "image_url", "image_url": {
            "url": url.map_or_else(|| format!("data:image/png;base64,{}", data.unwrap()), str::to_owned)}})),
        // Anthropic's image block with a base64 or URL source.
        Family::Anthropic => Some(match url {
            Some(url) => json!({"type": "image", "source": {"type": "url", "url": url}}),
            None => json!({"type": "image", "source": {"type": "base64",
                "media_type": "image/png", "data": data.unwrap()}}),
        }),
        // Gemini's inlineData / fileData parts.
        Family::Gemini => Some(match url {
            Some(url) => json!({"fileData": {"fileUri": url}}),
            None => json!({"inlineData": {"mimeType": "image/png", "data": data.unwrap()}}),
        }),
        // Ollama's `images`: base64 only.
        Family::Ollama => data.map(|d| json!([d])),
        Family::Cohere => None,
    }
}

#[tokio::test]
async fn images_go_in_the_documented_shape_or_fail_before_sending() {
    let images = [
        Image::Base64 {
            media_type: "image/png".into(),
            data: "iVBORw0KGgo=".into(),
        },
        Image::Url("https://example.com/jason.png".into()),
    ];
    for row in rows() {
        for image in &images {
            let server = serve(vec![ok(row.family.whole(JASON))]).await;
            let message = Message::user_with_image("Who is this?", image.clone());
            let result = client(&row, &server.uri(), Json)
                .create::<UserDetail>()
                .message(message.clone())
                .send()
                .await;
            let what = format!("{} {image:?}", row.name);
            let takes = row.images && (row.image_urls || matches!(image, Image::Base64 { .. }));
            match image_part(row.family, image).filter(|_| takes) {
                Some(part) => {
                    assert_eq!(result.unwrap(), jason(), "{what}");
                    let body = &bodies(&server).await[0];
                    let turn = user_turn(row.family, body);
                    match row.family {
                        Family::Ollama => assert_eq!(turn["images"], part, "{what}"),
                        Family::Gemini => assert_eq!(turn["parts"][1], part, "{what}"),
                        _ => assert_eq!(turn["content"][1], part, "{what}"),
                    }
                }
                None => {
                    // The client refuses from the declared capabilities (a kind not taken at
                    // all) or the provider's own check (a form not taken), before sending.
                    let err = result.unwrap_err();
                    assert!(
                        matches!(
                            err,
                            Error::Unsupported { .. } | Error::UnsupportedPart { .. }
                        ),
                        "{what}: {err:?}"
                    );
                    // The provider itself refuses too, when called without a client, naming
                    // the message and part.
                    let mut request = request_for(Json);
                    request.messages.push(message);
                    let index = request.messages.len() - 1;
                    let provider = (row.build)(&server.uri());
                    let err = provider.send(&request).await.unwrap_err();
                    assert!(
                        matches!(err, Error::UnsupportedPart { message, part: 1, .. } if message == index),
                        "{what}: {err:?}"
                    );
                    assert_eq!(received(&server).await, 0, "{what}: nothing sent");
                }
            }
        }
        let c = (row.build)("http://127.0.0.1:9").capabilities();
        assert_eq!(c.images, row.images, "{}", row.name);
        assert_eq!(c.media.image.url, row.image_urls, "{}", row.name);
    }
}

#[tokio::test]
async fn client_errors_are_typed_and_not_retried() {
    for row in rows() {
        for code in [400, 401] {
            let (err, sent) = failed(
                &row,
                Json,
                vec![status(code, row.family.error_body(code))],
                |c| c.transport_retries(retries(3)),
            )
            .await;
            let what = format!("{} {code}", row.name);
            assert!(
                matches!(&err, Error::Http { status, body } if *status == code && body.contains("error")),
                "{what}: {err:?}"
            );
            assert_eq!(sent, 1, "{what}: retried");
        }
    }
}

#[tokio::test]
async fn rate_limits_are_typed_and_retried_per_policy() {
    for row in rows() {
        let limited = |wait: &str| Reply {
            status: 429,
            headers: vec![("retry-after", wait.to_owned())],
            body: row.family.error_body(429),
        };
        // Typed, with the server's wait, when the policy allows no retry.
        let (err, sent) = failed(&row, Json, vec![limited("7")], |c| c).await;
        assert!(
            matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
            "{}: {err:?}",
            row.name
        );
        assert_eq!(sent, 1, "{}", row.name);

        // Retried, then answered.
        let server = serve(vec![limited("0"), ok(row.family.whole(JASON))]).await;
        let user = ask(client(&row, &server.uri(), Json).transport_retries(retries(2))).await;
        assert_eq!(user.unwrap(), jason(), "{}", row.name);
        assert_eq!(received(&server).await, 2, "{}", row.name);

        // Retried as often as the policy says, then typed.
        let (err, sent) = failed(&row, Json, vec![limited("0")], |c| {
            c.transport_retries(retries(2))
        })
        .await;
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "{}: {err:?}",
            row.name
        );
        assert_eq!(sent, 3, "{}", row.name);
    }
}

#[tokio::test]
async fn server_errors_are_retried_then_typed() {
    for row in rows() {
        let (err, sent) = failed(
            &row,
            Json,
            vec![status(503, row.family.error_body(503))],
            |c| c.transport_retries(retries(2)),
        )
        .await;
        assert!(
            matches!(err, Error::Http { status: 503, .. }),
            "{}: {err:?}",
            row.name
        );
        assert_eq!(sent, 3, "{}", row.name);

        let server = serve(vec![
            status(500, row.family.error_body(500)),
            ok(row.family.whole(JASON)),
        ])
        .await;
        let user = ask(client(&row, &server.uri(), Json).transport_retries(retries(2))).await;
        assert_eq!(user.unwrap(), jason(), "{}", row.name);
        assert_eq!(received(&server).await, 2, "{}", row.name);
    }
}

#[tokio::test]
async fn refusals_and_content_filters_are_typed_and_not_reasked() {
    let mut seen = 0;
    for row in rows().into_iter().filter(|r| r.withholds) {
        for (what, body, refused) in row.family.withheld() {
            let (err, sent) = failed(&row, JsonSchema, vec![ok(body)], |c| c.max_retries(2)).await;
            let what = format!("{} {what}", row.name);
            if refused {
                assert!(matches!(err, Error::Refusal { .. }), "{what}: {err:?}");
            } else {
                assert!(
                    matches!(err, Error::ContentFilter { .. }),
                    "{what}: {err:?}"
                );
            }
            assert_eq!(sent, 1, "{what}: re-asked");
            seen += 1;
        }
    }
    assert_eq!(seen, 5, "OpenAI 2, Anthropic 1, Gemini 2");
}

#[tokio::test]
async fn truncated_answers_are_incomplete_output() {
    for row in rows() {
        let (err, sent) = failed(
            &row,
            Json,
            vec![ok(row.family.truncated_answer(r#"{"name": "Ja"#))],
            |c| c.max_retries(2),
        )
        .await;
        assert!(
            matches!(&err, Error::IncompleteOutput { partial, .. } if partial.contains("\"Ja")),
            "{}: {err:?}",
            row.name
        );
        assert_eq!(sent, 1, "{}: re-asked", row.name);
    }
}

#[tokio::test]
async fn usage_is_summed_over_a_reask() {
    for row in rows() {
        let server = serve(vec![
            ok(row.family.whole(TOO_OLD)),
            ok(row.family.whole(JASON)),
        ])
        .await;
        let (user, completion) = client(&row, &server.uri(), Json)
            .max_retries(1)
            .create::<UserDetail>()
            .user("Jason is 30")
            .send_with_completion()
            .await
            .unwrap();
        assert_eq!(user, jason(), "{}", row.name);
        let u = completion.usage;
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.total_tokens, u.requests),
            (10, 18, 28, 2),
            "{}",
            row.name
        );
        assert_eq!(completion.attempts.len(), 1, "{}", row.name);
        assert_eq!(received(&server).await, 2, "{}", row.name);
    }
}
