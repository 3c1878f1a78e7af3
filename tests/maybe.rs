//! `Maybe<T>`: a value, or no value and why, through the extraction loop against a
//! scripted provider: found and absent answers, the schema the model sees, the consistency
//! re-ask, `T`'s own validators under `/result`, tool and strict tool requests, and a
//! partial stream.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::streams::drain;
use common::{ask, ask_in, jason, UserDetail, JASON};
use instructor::providers::OpenAi;
use instructor::testing::ScriptedProvider;
use instructor::{Client, Instruct, Maybe, Mode, Provider, Role};
use serde_json::{json, Value};

const FOUND: &str = r#"{"result": {"name": "Jason", "age": 30}, "error": false, "message": null}"#;
const ABSENT: &str = r#"{"result": null, "error": true, "message": "The text names no person."}"#;

/// Extracts a `Maybe<UserDetail>` from `text` with a provider giving `answers` in order;
/// the value and the provider, for its requests.
async fn maybe_user(answers: &[&str], text: &str) -> (Maybe<UserDetail>, ScriptedProvider) {
    let p = answers
        .iter()
        .fold(ScriptedProvider::new(), |p, answer| p.with_text(answer));
    let user = ask(&Client::new(p.clone()), text).await.unwrap();
    (user, p)
}

/// Extracts a `Maybe<UserDetail>` from `text` with a provider whose first answer is re-asked
/// with feedback holding `feedback`, and whose second is taken; the value.
async fn reasked(answers: [&str; 2], text: &str, feedback: &str) -> Maybe<UserDetail> {
    let (user, p) = maybe_user(&answers, text).await;
    let sent = reask_feedback(&p);
    assert!(sent.contains(feedback), "{sent}");
    user
}

/// The feedback of the re-ask that follows the first answer.
fn reask_feedback(p: &ScriptedProvider) -> String {
    let messages = &p.requests()[1].messages;
    let last = messages.last().unwrap();
    assert!(matches!(last.role, Role::User | Role::Tool));
    last.text()
}

#[tokio::test]
async fn a_found_value_is_the_result() {
    let (user, p) = maybe_user(&[FOUND], "Jason is 30").await;
    assert!(user.is_found());
    assert_eq!(user, Maybe::found(jason()));
    assert_eq!(user.into_option(), Some(jason()));
    assert_eq!(p.requests().len(), 1);
}

#[tokio::test]
async fn an_absent_value_is_none_with_the_reason() {
    let (user, p) = maybe_user(&[ABSENT], "The weather is fine.").await;
    assert!(!user.is_found());
    assert!(user.error);
    assert_eq!(user.message.as_deref(), Some("The text names no person."));
    assert_eq!(user.as_option(), None);
    assert_eq!(
        user.into_result(),
        Err("The text names no person.".to_owned())
    );
    assert_eq!(p.requests().len(), 1, "an explained absence is an answer");
}

#[tokio::test]
async fn missing_error_and_message_fields_take_their_defaults() {
    let (user, _) = maybe_user(
        &[r#"{"result": {"name": "Jason", "age": 30}}"#],
        "Jason is 30",
    )
    .await;
    assert_eq!(user, Maybe::found(jason()));
}

#[test]
fn the_schema_lets_the_model_answer_none() {
    let schema = Maybe::<UserDetail>::json_schema();
    assert_eq!(schema["type"], "object");
    assert_eq!(
        schema["properties"]["result"]["anyOf"],
        json!([{"$ref": "#/$defs/UserDetail"}, {"type": "null"}])
    );
    assert_eq!(schema["properties"]["error"]["type"], "boolean");
    assert_eq!(
        schema["properties"]["message"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(schema["required"], json!(["result", "error", "message"]));
    assert_eq!(
        schema["$defs"]["UserDetail"]["properties"]["age"]["maximum"],
        150
    );
    let described = |field: &str| {
        schema["properties"][field]["description"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(described("result").contains("Null when the text does not contain it"));
    assert!(described("result").contains("never guess or invent"));
    assert!(described("error").contains("`result` is null"));
    assert!(described("message").contains("why the text holds no such value"));
    assert!(schema["description"]
        .as_str()
        .unwrap()
        .contains("explanation"));
    let ts = Maybe::<UserDetail>::type_schema();
    assert_eq!(ts.name, "Maybe_UserDetail");
    assert_eq!(ts.wrapped, None, "an object: requests carry it as it is");
    assert!(<Maybe<UserDetail>>::STRICT_INCOMPATIBLE.is_none());
}

#[tokio::test]
async fn a_contradictory_answer_is_reasked() {
    let both = r#"{"result": {"name": "Jason", "age": 30}, "error": true, "message": "Unsure."}"#;
    let user = reasked(
        [both, FOUND],
        "Jason is 30",
        "/error: `error` is true but `result` holds a value",
    )
    .await;
    assert_eq!(user, Maybe::found(jason()));
}

#[tokio::test]
async fn an_unexplained_null_is_reasked() {
    let bare = r#"{"result": null, "error": true, "message": null}"#;
    let user = reasked(
        [bare, ABSENT],
        "The weather is fine.",
        "/message: `result` is null",
    )
    .await;
    assert_eq!(user, Maybe::absent("The text names no person."));
}

#[tokio::test]
async fn the_results_own_validators_run_under_result() {
    let old = r#"{"result": {"name": "Jason", "age": 200}, "error": false, "message": null}"#;
    let user = reasked(
        [old, FOUND],
        "Jason is 30",
        "/result/age: must be at most 150, got 200",
    )
    .await;
    assert_eq!(user.into_option(), Some(jason()));
}

#[tokio::test]
async fn tool_modes_offer_the_schema_as_the_tool() {
    for mode in [Mode::Tools, Mode::ToolsStrict] {
        let p = ScriptedProvider::new().with_tool_call("Maybe_UserDetail", ABSENT);
        let user =
            ask_in::<Maybe<UserDetail>>(&Client::new(p.clone()).model("gpt-4o"), mode, "Hello")
                .await
                .unwrap();
        assert_eq!(user.message.as_deref(), Some("The text names no person."));
        let request = p.requests().remove(0);
        assert_eq!(request.output.mode, mode);
        let tool = &request.output.tools[0];
        assert_eq!(tool.name, "Maybe_UserDetail");
        assert!(tool.description.as_deref().unwrap().contains("explanation"));
        let params = &tool.parameters;
        assert_eq!(params["required"], json!(["result", "error", "message"]));
        assert_eq!(
            params["properties"]["result"]["anyOf"][0]["$ref"],
            "#/$defs/UserDetail"
        );
        assert!(params["$defs"]["UserDetail"].is_object());

        // What an OpenAI server would receive: in strict mode, the strict dialect of it.
        let body = OpenAi::new()
            .api_key("sk-test")
            .wire_body(&request)
            .unwrap();
        let function = &body["tools"][0]["function"];
        assert_eq!(function["name"], "Maybe_UserDetail");
        if mode == Mode::ToolsStrict {
            assert_eq!(function["strict"], true);
            let strict: &Value = &function["parameters"];
            assert_eq!(strict["additionalProperties"], false);
            assert_eq!(strict["required"], json!(["result", "error", "message"]));
            assert_eq!(strict["properties"]["error"]["type"], "boolean");
            assert_eq!(
                strict["properties"]["result"]["anyOf"][1],
                json!({"type": "null"})
            );
            assert_eq!(strict["$defs"]["UserDetail"]["additionalProperties"], false);
        } else {
            assert!(function.get("strict").is_none_or(|s| s != true));
        }
    }
}

#[tokio::test]
async fn a_partial_stream_shows_the_result_growing_then_the_value() {
    let p = ScriptedProvider::new().with_chunk_size(6).with_text(FOUND);
    let client = Client::new(p);
    let (partials, end) = drain(
        client
            .create_partial::<Maybe<UserDetail>>()
            .user("Jason is 30"),
    )
    .await;
    assert!(partials.len() > 2, "{partials:?}");
    let names: Vec<String> = partials
        .iter()
        .filter_map(|m| m.result.as_ref()?.name.clone())
        .collect();
    assert!(
        names.first().is_some_and(|n| n.len() < "Jason".len()),
        "{names:?}"
    );
    assert_eq!(names.last().map(String::as_str), Some("Jason"));
    let last = partials.last().unwrap();
    assert_eq!(last.result.as_ref().and_then(|u| u.age), Some(30));
    assert!(!last.error);
    let (value, _) = end.unwrap();
    assert_eq!(value, Maybe::found(jason()));
    assert_eq!(
        serde_json::from_str::<UserDetail>(JASON).unwrap(),
        value.into_option().unwrap()
    );
}

#[tokio::test]
async fn a_partial_stream_of_an_absence_shows_the_message_growing() {
    let p = ScriptedProvider::new().with_chunk_size(8).with_text(ABSENT);
    let client = Client::new(p);
    let (partials, end) = drain(client.create_partial::<Maybe<UserDetail>>().user("Hi")).await;
    let messages: Vec<&str> = partials
        .iter()
        .filter_map(|m| m.message.as_deref())
        .collect();
    assert!(messages.len() > 1, "{messages:?}");
    assert!(messages
        .iter()
        .all(|m| "The text names no person.".starts_with(m)));
    assert!(partials.iter().all(|m| m.result.is_none()));
    let (value, _) = end.unwrap();
    assert_eq!(value, Maybe::absent("The text names no person."));
}
