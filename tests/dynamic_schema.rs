//! Runtime schemas (`DynamicSchema`, `Client::create_dynamic`): the value comes back
//! checked against the schema, violations are re-asked with their JSON pointers, the
//! handle is reused across calls, and every provider sends the schema in its own dialect
//! (or refuses it with a typed error before any request), as for a derived type.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{bodies, openai_at};
use futures::StreamExt;
use instructor::providers::Anthropic;
use instructor::stream::Update;
use instructor::testing::ScriptedProvider;
use instructor::{Client, DynamicSchema, Error, Mode, Part};
use serde_json::{json, Value};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A schema a program might read from a config file.
fn person() -> DynamicSchema {
    DynamicSchema::new(
        "Person",
        "A person mentioned in the text.",
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "age": {"type": "integer", "minimum": 0, "maximum": 150}
            },
            "required": ["name", "age"],
            "additionalProperties": false
        }),
    )
    .unwrap()
}

/// A schema without a description, as a program might build one.
fn untitled(name: &str, schema: Value) -> DynamicSchema {
    DynamicSchema::new(name, "", schema).unwrap()
}

/// A server giving `bodies` in order, one per request.
async fn server(bodies: &[Value]) -> MockServer {
    let server = MockServer::builder().start().await;
    for (i, body) in bodies.iter().enumerate() {
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .up_to_n_times(1)
            .with_priority((i + 1) as u8)
            .mount(&server)
            .await;
    }
    server
}

/// Extracts a value of `schema` from the one user message `text`.
async fn ask(client: &Client, schema: &DynamicSchema, text: &str) -> Result<Value, Error> {
    client.create_dynamic(schema).user(text).send().await
}

/// Extracts a person from "Jason is 30 years old" in `mode` from the server, which must give
/// Jason aged 30; the schema asked with, to compare with what was sent.
async fn ask_jason(server: &MockServer, mode: Mode) -> DynamicSchema {
    let schema = person();
    let value = ask(
        &openai_at(&server.uri(), mode),
        &schema,
        "Jason is 30 years old",
    )
    .await
    .unwrap();
    assert_eq!(value, json!({"name": "Jason", "age": 30}));
    schema
}

/// An OpenAI chat completion answering with one tool call.
fn tool_answer(name: &str, arguments: &str) -> Value {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function",
                "function": {"name": name, "arguments": arguments}}]}}],
        "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92}
    })
}

/// An OpenAI chat completion answering with text.
fn text_answer(text: &str) -> Value {
    json!({
        "id": "chatcmpl-2", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92}
    })
}

#[tokio::test]
async fn tools_mode_sends_the_schema_as_the_tool_and_returns_the_value() {
    let server = server(&[tool_answer("Person", r#"{"name":"Jason","age":30}"#)]).await;
    let schema = ask_jason(&server, Mode::Tools).await;
    let body = &bodies(&server).await[0];
    let tool = &body["tools"][0]["function"];
    assert_eq!(tool["name"], "Person");
    assert_eq!(tool["description"], "A person mentioned in the text.");
    assert_eq!(
        tool["parameters"]["properties"],
        schema.schema()["properties"]
    );
    assert_eq!(tool["parameters"]["required"], json!(["name", "age"]));
    assert_eq!(body["tool_choice"]["function"]["name"], "Person");
}

#[tokio::test]
async fn a_violation_is_re_asked_with_its_pointer_and_message_then_the_fix_is_accepted() {
    let server = server(&[
        tool_answer("Person", r#"{"name":"Jason","age":300}"#),
        tool_answer("Person", r#"{"name":"Jason","age":30}"#),
    ])
    .await;
    let schema = person();
    let (value, completion) = openai_at(&server.uri(), Mode::Tools)
        .create_dynamic(&schema)
        .user("Jason is 30 years old")
        .max_retries(1)
        .send_with_completion()
        .await
        .unwrap();
    assert_eq!(value["age"], 30);
    assert_eq!(completion.attempts.len(), 1);
    let Error::Validation { errors, .. } = &completion.attempts[0].error else {
        panic!("{:?}", completion.attempts[0].error)
    };
    assert_eq!(completion.attempts[0].raw, r#"{"name":"Jason","age":300}"#);
    let e = errors.iter().next().unwrap();
    assert_eq!(e.path, "/age");
    assert_eq!(e.message, "300 is greater than the maximum of 150");
    // The re-ask answers the tool call with the pointer and the message.
    let bodies = bodies(&server).await;
    assert_eq!(bodies.len(), 2);
    let feedback = bodies[1]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("a tool result")["content"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        feedback.contains("/age: 300 is greater than the maximum of 150"),
        "{feedback}"
    );
}

#[tokio::test]
async fn every_violation_is_reported_at_once() {
    let errors = person()
        .validate(&json!({"name": "", "age": -1, "extra": true}))
        .unwrap_err();
    let mut paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["", "/age", "/name"]);
}

#[tokio::test]
async fn json_mode_puts_the_schema_in_the_prompt_and_re_asks_in_a_user_message() {
    let server = server(&[
        text_answer(r#"{"name": "Jason"}"#),
        text_answer(r#"{"name": "Jason", "age": 30}"#),
    ])
    .await;
    ask_jason(&server, Mode::Json).await;
    let bodies = bodies(&server).await;
    assert_eq!(bodies[0]["response_format"]["type"], "json_object");
    let system = bodies[0]["messages"][0]["content"].to_string();
    assert!(system.contains(r#"\"maximum\":150"#), "{system}");
    let last = bodies[1]["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(last["role"], "user");
    let feedback = last["content"].as_str().unwrap();
    assert!(
        feedback.contains("- (root): \"age\" is a required property"),
        "{feedback}"
    );
}

#[tokio::test]
async fn json_schema_mode_sends_openai_strict_dialect() {
    let server = server(&[text_answer(r#"{"name": "Jason", "age": 30}"#)]).await;
    let schema = untitled(
        "Person",
        json!({"type": "object", "properties": {"name": {"type": "string"}, "nick": {"type": "string"}}, "required": ["name"]}),
    );
    ask(
        &openai_at(&server.uri(), Mode::JsonSchema),
        &schema,
        "Jason",
    )
    .await
    .unwrap();
    let rf = &bodies(&server).await[0]["response_format"]["json_schema"];
    assert_eq!(rf["strict"], true);
    // The strict dialect makes every property required and optional ones nullable.
    assert_eq!(rf["schema"]["required"], json!(["name", "nick"]));
    assert_eq!(
        rf["schema"]["properties"]["nick"]["type"],
        json!(["string", "null"])
    );
}

#[tokio::test]
async fn a_schema_a_dialect_cannot_express_is_a_typed_error_before_any_request() {
    let server = server(&[]).await;
    let schema = untitled(
        "Labels",
        json!({"type": "object", "properties": {"labels": {"type": "object", "additionalProperties": {"type": "string"}}}}),
    );
    let err = ask(&openai_at(&server.uri(), Mode::ToolsStrict), &schema, "x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SchemaIncompatible { .. }), "{err:?}");
    assert!(bodies(&server).await.is_empty());
}

#[tokio::test]
async fn anthropic_gets_its_dialect_and_the_local_check_still_holds() {
    let answer = |text: &str| {
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
            "usage": {"input_tokens": 40, "output_tokens": 10}})
    };
    let server = server(&[
        answer(r#"{"name": "Jason", "age": 151}"#),
        answer(r#"{"name": "Jason", "age": 30}"#),
    ])
    .await;
    let client = Client::new(
        Anthropic::new()
            .base_url(format!("{}/v1", server.uri()))
            .api_key("k"),
    )
    .model("claude-sonnet-4-5")
    .mode(Mode::JsonSchema);
    let value = ask(&client, &person(), "Jason is 30").await.unwrap();
    assert_eq!(value["age"], 30);
    let bodies = bodies(&server).await;
    let sent_schema = &bodies[0]["output_config"]["format"]["schema"];
    // Bounds the API does not enforce become hints; the answer is still checked locally.
    assert_eq!(
        sent_schema["properties"]["age"]["description"],
        "minimum: 0, maximum: 150"
    );
    assert!(sent_schema["properties"]["age"].get("maximum").is_none());
    let reask = bodies[1]["messages"].as_array().unwrap().last().unwrap();
    assert!(
        reask
            .to_string()
            .contains("/age: 151 is greater than the maximum of 150"),
        "{reask}"
    );
}

#[tokio::test]
async fn one_handle_serves_many_calls_and_a_new_schema_never_reads_an_old_ones_fragments() {
    let server = server(&[
        tool_answer("Person", r#"{"name":"A","age":1}"#),
        tool_answer("Person", r#"{"name":"B","age":2}"#),
        tool_answer("Pet", r#"{"species":"cat"}"#),
    ])
    .await;
    let client = openai_at(&server.uri(), Mode::Tools);
    let schema = person();
    let copy = schema.clone();
    let a = client.create_dynamic(&schema).user("A is 1").send();
    let b = client.create_dynamic(&copy).user("B is 2").send();
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(
        (a["name"].as_str(), b["name"].as_str()),
        (Some("A"), Some("B"))
    );
    drop((schema, copy));
    // A schema made after the first is freed may sit at the same address: its request must
    // still carry its own tool.
    let pet = untitled(
        "Pet",
        json!({"type": "object", "properties": {"species": {"type": "string"}}, "required": ["species"]}),
    );
    let c = ask(&client, &pet, "a cat").await.unwrap();
    assert_eq!(c, json!({"species": "cat"}));
    let bodies = bodies(&server).await;
    assert_eq!(bodies[0]["tools"], bodies[1]["tools"]);
    assert_eq!(bodies[2]["tools"][0]["function"]["name"], "Pet");
}

#[tokio::test]
async fn a_list_schema_is_wrapped_for_the_request_and_unwrapped_in_the_answer() {
    let schema = untitled(
        "Tags",
        json!({"type": "array", "items": {"type": "string"}, "minItems": 2}),
    );
    let provider = ScriptedProvider::new()
        .with_tool_call("Tags", r#"{"items": ["red"]}"#)
        .with_tool_call("Tags", r#"{"items": ["red", "blue"]}"#);
    let client = Client::new(provider.clone()).mode(Mode::Tools);
    let tags = ask(&client, &schema, "red, blue").await.unwrap();
    assert_eq!(tags, json!(["red", "blue"]));
    let requests = provider.requests();
    assert_eq!(
        requests[0].output.tools[0].parameters["properties"]["items"]["minItems"],
        2
    );
    // The pointer is the one the model saw, through the wrapper.
    let Some(Part::Text(reask)) = requests[1].messages.last().unwrap().content.first() else {
        panic!("{:?}", requests[1].messages)
    };
    assert!(
        reask.contains("/items: [\"red\"] has less than 2 items"),
        "{reask}"
    );
}

#[tokio::test]
async fn invalid_schemas_are_typed_errors_when_compiled() {
    for bad in [
        json!({"type": "nope"}),
        json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}),
        json!({"type": "string", "pattern": "(unclosed"}),
        json!({"type": "object", "required": "name"}),
    ] {
        let err = DynamicSchema::new("Bad", "", bad.clone()).unwrap_err();
        assert!(matches!(err, Error::InvalidSchema { .. }), "{bad}: {err:?}");
    }
}

#[tokio::test]
async fn partial_streaming_yields_value_snapshots_and_a_checked_value() {
    let provider = ScriptedProvider::new()
        .with_chunk_size(8)
        .with_text(r#"{"name": "Jason", "age": 300}"#)
        .with_text(r#"{"name": "Jason", "age": 30}"#);
    let client = Client::new(provider.clone()).mode(Mode::Json);
    let mut stream = client
        .create_dynamic_partial(&person())
        .user("Jason is 30")
        .send()
        .await
        .unwrap();
    let mut partials = Vec::new();
    let mut complete = None;
    while let Some(update) = stream.next().await {
        match update.unwrap() {
            Update::Partial(v) => partials.push(v),
            Update::Complete { value, .. } => complete = Some(value),
        }
    }
    assert_eq!(complete, Some(json!({"name": "Jason", "age": 30})));
    assert!(partials.contains(&json!({"name": "Jason"})), "{partials:?}");
    // The first answer broke `maximum`: it was re-asked.
    assert_eq!(provider.requests().len(), 2);
}

#[test]
fn the_local_grammar_compiles_a_runtime_schema() {
    let schema = person();
    let grammar =
        instructor::providers::gbnf::compile(&schema.type_schema().request_schema).unwrap();
    assert!(grammar.contains(r#""\"name\"""#), "{grammar}");
    assert!(grammar.contains(r#""\"age\"""#), "{grammar}");
    let list = untitled(
        "Tags",
        json!({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}),
    );
    let grammar = instructor::providers::gbnf::compile(&list.type_schema().request_schema).unwrap();
    assert!(grammar.contains(r#""\"items\"""#), "{grammar}");
}

#[tokio::test]
async fn iterable_streaming_checks_each_element_against_the_schema() {
    let provider = ScriptedProvider::new().with_chunk_size(7).with_text(
        r#"{"items": [{"name": "Ann", "age": 31}, {"name": "Bob", "age": 999}, {"name": "Cy", "age": 5}]}"#,
    );
    let client = Client::new(provider.clone()).mode(Mode::Json);
    let items: Vec<_> = client
        .create_dynamic_iterable(&person())
        .user("Ann 31, Bob 999, Cy 5")
        .send()
        .await
        .unwrap()
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap()["name"], "Ann");
    let Err(Error::Validation { errors, .. }) = &items[1] else {
        panic!("{:?}", items[1])
    };
    let e = errors.iter().next().unwrap();
    assert_eq!(e.path, "/items/1/age");
    assert_eq!(e.message, "999 is greater than the maximum of 150");
    assert_eq!(items[2].as_ref().unwrap()["age"], 5);
    // The request asked for a list of the element schema.
    let request = &provider.requests()[0];
    let items_schema = &request.output.schema.request_schema["properties"]["items"];
    assert_eq!(items_schema["type"], "array");
    assert_eq!(items_schema["items"]["properties"]["age"]["maximum"], 150);
}

#[tokio::test]
async fn parallel_tools_offer_the_element_schema_and_check_every_call() {
    let schema = untitled(
        "People",
        json!({"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}),
    );
    let call = |id: &str, args: &str| instructor::ToolCall {
        id: id.into(),
        name: "item".into(),
        arguments: instructor::ToolArguments::Text(args.into()),
    };
    let provider = ScriptedProvider::new()
        .with_response(instructor::Response::tool_calls(vec![
            call("a", r#"{"name": "Ann"}"#),
            call("b", r#"{"nom": "Bob"}"#),
        ]))
        .with_response(instructor::Response::tool_calls(vec![
            call("a", r#"{"name": "Ann"}"#),
            call("b", r#"{"name": "Bob"}"#),
        ]));
    let client = Client::new(provider.clone()).mode(Mode::ParallelTools);
    let people = ask(&client, &schema, "Ann and Bob").await.unwrap();
    assert_eq!(people, json!([{"name": "Ann"}, {"name": "Bob"}]));
    let requests = provider.requests();
    assert_eq!(requests[0].output.tools.len(), 1);
    assert_eq!(
        requests[0].output.tools[0].parameters["required"],
        json!(["name"])
    );
    let reask = format!("{:?}", requests[1].messages.last().unwrap());
    assert!(
        reask.contains("/1: ") && reask.contains("required property"),
        "{reask}"
    );
}

#[test]
fn draft_7_definitions_are_sent_as_defs_so_dialects_and_grammars_follow_them() {
    let schema = untitled(
        "Order",
        json!({
            "type": "object",
            "properties": {"ship_to": {"$ref": "#/definitions/address"}},
            "required": ["ship_to"],
            "definitions": {"address": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
        }),
    );
    let sent = &schema.type_schema().request_schema;
    assert_eq!(sent["properties"]["ship_to"]["$ref"], "#/$defs/address");
    assert_eq!(sent["$defs"]["address"]["required"], json!(["city"]));
    assert!(sent.get("definitions").is_none());
    // The schema as given is what answers are checked against.
    assert!(schema.schema().get("definitions").is_some());
    let errors = schema.validate(&json!({"ship_to": {}})).unwrap_err();
    assert_eq!(errors.iter().next().unwrap().path, "/ship_to");
    let grammar = instructor::providers::gbnf::compile(sent).unwrap();
    assert!(grammar.contains(r#""\"city\"""#), "{grammar}");
}

#[tokio::test]
async fn cached_answers_are_keyed_by_the_runtime_schema() {
    let provider = ScriptedProvider::new()
        .with_text(r#"{"name": "Jason", "age": 30}"#)
        .with_text(r#"{"species": "cat"}"#);
    let client = Client::new(provider.clone())
        .mode(Mode::Json)
        .cache(instructor::cache::MemoryCache::new(100, 1 << 20));
    let schema = person();
    let first = ask(&client, &schema, "Jason is 30").await.unwrap();
    let again = ask(&client, &schema, "Jason is 30").await.unwrap();
    assert_eq!(first, again);
    assert_eq!(provider.requests().len(), 1);
    // Another schema with the same prompt is another question.
    let pet = untitled(
        "Pet",
        json!({"type": "object", "properties": {"species": {"type": "string"}}}),
    );
    let other = ask(&client, &pet, "Jason is 30").await.unwrap();
    assert_eq!(other, json!({"species": "cat"}));
    assert_eq!(provider.requests().len(), 2);
}

#[test]
fn native_bodies_carry_the_runtime_schema_in_each_dialect() {
    use instructor::providers::{Gemini, Ollama};
    use instructor::{provider::OutputSpec, Message, Provider, Request};
    let body = |p: &dyn Provider, schema: &DynamicSchema| {
        let output = OutputSpec::new(Mode::JsonSchema, schema.schema_ref()).unwrap();
        let mut request = Request::new(vec![Message::user("x")], output);
        request.model = Some("m".into());
        p.wire_body(&request)
    };
    let schema = untitled(
        "Order",
        json!({
            "type": "object",
            "properties": {"ship_to": {"$ref": "#/definitions/address"}},
            "definitions": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}}
        }),
    );
    let gemini = body(&Gemini::new().api_key("k"), &schema).unwrap();
    let sent = &gemini["generationConfig"]["responseJsonSchema"];
    assert_eq!(sent["properties"]["ship_to"]["$ref"], "#/$defs/address");
    let ollama = body(&Ollama::new(), &schema).unwrap();
    // Ollama cannot follow references: they are inlined.
    assert_eq!(
        ollama["format"]["properties"]["ship_to"]["properties"]["city"]["type"],
        "string"
    );
    let recursive = untitled(
        "Tree",
        json!({
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/node"}},
            "$defs": {"node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}
        }),
    );
    let err = body(&Ollama::new(), &recursive).unwrap_err();
    assert!(matches!(err, Error::SchemaIncompatible { .. }), "{err:?}");
}
