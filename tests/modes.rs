//! Each mode's request planning (what the provider is asked for) and response extraction
//! (where the answer is read from), including what the repair pass can and cannot fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ask_completion, ask_in};
use instructor::testing::ScriptedProvider;
use instructor::{
    Client, Error, Instruct, Mode, Repair, Request, Response, Role, ToolArguments, ToolCall,
};
use serde::Deserialize;
use serde_json::json;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
struct User {
    name: String,
    age: u8,
}

async fn run_one(mode: Mode, answer: Response) -> (Result<User, Error>, Request) {
    let p = ScriptedProvider::new().with_response(answer);
    let result = ask_in::<User>(&Client::new(p.clone()).max_retries(0), mode, "Jason is 30").await;
    (result, p.requests().remove(0))
}

fn jason() -> User {
    User {
        name: "Jason".into(),
        age: 30,
    }
}

fn tool_call(args: ToolArguments) -> Response {
    Response::tool_calls(vec![ToolCall {
        id: "c".into(),
        name: "User".into(),
        arguments: args,
    }])
}

#[tokio::test]
async fn tools_mode_offers_one_forced_tool_and_reads_its_arguments() {
    for mode in [Mode::Tools, Mode::ToolsStrict] {
        let (user, req) = run_one(
            mode,
            tool_call(ToolArguments::Text(r#"{"name":"Jason","age":30}"#.into())),
        )
        .await;
        assert_eq!(user.unwrap(), jason());
        assert_eq!(req.output.mode, mode);
        assert_eq!(req.output.tools.len(), 1);
        assert_eq!(req.output.tools[0].name, "User");
        assert_eq!(
            req.output.tools[0].description.as_deref(),
            Some("A person mentioned in the text.")
        );
        assert_eq!(
            req.output.tools[0].parameters["required"],
            json!(["name", "age"])
        );
        assert_eq!(req.messages.len(), 1, "tool modes add no prompt text");
    }
    // Arguments already parsed to an object (Anthropic, Ollama) are read without text.
    let (user, _) = run_one(
        Mode::Tools,
        tool_call(ToolArguments::Json(json!({"name": "Jason", "age": 30}))),
    )
    .await;
    assert_eq!(user.unwrap(), jason());
    // No tool call, JSON in the content: accepted.
    let (user, _) = run_one(Mode::Tools, Response::text(r#"{"name":"Jason","age":30}"#)).await;
    assert_eq!(user.unwrap(), jason());
}

#[tokio::test]
async fn json_mode_puts_the_schema_in_the_system_prompt() {
    let (user, req) = run_one(Mode::Json, Response::text(r#"{"name":"Jason","age":30}"#)).await;
    assert_eq!(user.unwrap(), jason());
    assert!(req.output.tools.is_empty());
    assert_eq!(req.messages[0].role, Role::System);
    let system = req.messages[0].text();
    assert!(system.contains(&User::type_schema().request_schema_text));
    assert!(system.contains("A person mentioned in the text."));
    assert!(!system.contains("```json"));
    assert_eq!(req.messages[1].text(), "Jason is 30");
}

#[tokio::test]
async fn md_json_mode_asks_for_a_fenced_block_and_reads_it() {
    let answer = "Here you go:\n```json\n{\"name\": \"Jason\", \"age\": 30}\n```\nAnything else?";
    let (user, req) = run_one(Mode::MdJson, Response::text(answer)).await;
    assert_eq!(user.unwrap(), jason());
    assert!(req.messages[0].text().contains("```json"));
    // Without a fence, the first JSON value in the prose.
    let (user, _) = run_one(
        Mode::MdJson,
        Response::text("The user is {\"name\": \"Jason\", \"age\": 30}."),
    )
    .await;
    assert_eq!(user.unwrap(), jason());
}

#[tokio::test]
async fn json_schema_and_grammar_modes_send_the_schema_not_a_prompt() {
    for mode in [Mode::JsonSchema, Mode::Grammar] {
        let (user, req) = run_one(mode, Response::text(r#"{"name":"Jason","age":30}"#)).await;
        assert_eq!(user.unwrap(), jason());
        assert_eq!(req.messages.len(), 1);
        assert!(std::ptr::eq(&*req.output.schema, User::type_schema()));
        assert_eq!(req.output.schema.request_schema["type"], "object");
    }
}

#[tokio::test]
async fn think_blocks_and_prose_are_skipped() {
    let answer = "<think>The user said {age} maybe 31?</think>\nSure! {\"name\": \"Jason\", \"age\": 30} Hope that helps.";
    let (user, _) = run_one(Mode::Json, Response::text(answer)).await;
    assert_eq!(user.unwrap(), jason());
}

#[tokio::test]
async fn repair_cases() {
    // Valid: nothing repaired.
    let p = ScriptedProvider::new().with_text(r#"{"name":"Jason","age":30}"#);
    let (_, c) = ask_completion::<User>(&Client::new(p), "x").await.unwrap();
    assert!(c.repairs.is_empty());

    // Repairable: a truncated answer that stopped (a stop sequence cut it), comments, quotes.
    let cases: [(&str, &[Repair]); 4] = [
        (r#"{"name": "Jason", "age": 30"#, &[Repair::ClosedBrackets]),
        (
            "{\"name\": \"Jason\", // first name\n \"age\": 30}",
            &[Repair::Comment],
        ),
        ("{'name': 'Jason', 'age': 30}", &[Repair::SingleQuotes]),
        (r#"{"name": "Jason", "age": 30,}"#, &[Repair::TrailingComma]),
    ];
    for (text, expected) in cases {
        let p = ScriptedProvider::new().with_text(text);
        let (user, c) = ask_completion::<User>(&Client::new(p), "x").await.unwrap();
        assert_eq!(user, jason(), "{text}");
        for r in expected {
            assert!(c.repairs.contains(r), "{text}: {:?}", c.repairs);
        }
    }

    // Hopeless: no JSON at all, or JSON of the wrong shape.
    for text in [
        "I am not sure who that is.",
        r#"{"person": "Jason"}"#,
        "[1, 2, 3]",
    ] {
        let (result, _) = run_one(Mode::Json, Response::text(text)).await;
        let Err(Error::RetriesExhausted { attempts, .. }) = result else {
            panic!("{text} should fail")
        };
        assert!(matches!(attempts[0].error, Error::Parse { .. }), "{text}");
        assert_eq!(attempts[0].raw, text);
    }
}

#[tokio::test]
async fn parse_errors_name_the_json_path() {
    let (result, _) = run_one(
        Mode::Json,
        Response::text(r#"{"name": "Jason", "age": "thirty"}"#),
    )
    .await;
    let Err(Error::RetriesExhausted { attempts, .. }) = result else {
        panic!()
    };
    let Error::Parse { message, .. } = &attempts[0].error else {
        panic!()
    };
    assert!(
        message.starts_with("at `age`: invalid type: string \"thirty\""),
        "{message}"
    );
}

#[tokio::test]
async fn parallel_tools_need_a_list_type() {
    let p = ScriptedProvider::new().with_text("{}");
    let result = ask_in::<User>(&Client::new(p), Mode::ParallelTools, "x").await;
    let err = result.unwrap_err();
    assert!(matches!(err, Error::SchemaIncompatible { .. }), "{err:?}");
    assert!(err.to_string().contains("Vec<E>"));
    // A Vec of a struct: one tool, called once per element.
    let p = ScriptedProvider::new().with_response(Response::tool_calls(vec![
        ToolCall {
            id: "1".into(),
            name: "User".into(),
            arguments: ToolArguments::Text(r#"{"name":"A","age":1}"#.into()),
        },
        ToolCall {
            id: "2".into(),
            name: "User".into(),
            arguments: ToolArguments::Text(r#"{"name":"B","age":2}"#.into()),
        },
    ]));
    let users = ask_in::<Vec<User>>(&Client::new(p.clone()), Mode::ParallelTools, "x")
        .await
        .unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(p.requests()[0].output.tools[0].name, "User");
}
