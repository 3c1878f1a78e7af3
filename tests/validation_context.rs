//! Validation against the call's context: validators that read the caller's value and
//! messages (`custom_with_context`, `validate_with_context`), and `verbatim` fields that
//! must be copied from the input, through `send`, `create_partial`, `create_iterable` and
//! `prepare`/`interpret`; hand-written `Instruct` impls keep validating.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Debug;
use std::sync::Mutex;

use common::streams::{all_items, drain};
use instructor::engine::Step;
use instructor::schema::SchemaGenerator;
use instructor::testing::ScriptedProvider;
use instructor::{
    Client, Create, Error, Instruct, JsonPointer, Message, Mode, Response, Role, ValidationContext,
    ValidationError, ValidationErrors,
};
use serde::Deserialize;
use serde_json::{json, Value};

const TEXT: &str = "At the launch, Ann said:\n  \"We ship   on Friday.\" Bob nodded.";

/// The people a quote may be attributed to, given by the caller.
struct Speakers {
    names: Vec<&'static str>,
    /// How many messages each validation saw, to check that re-asks are not among them.
    seen: Mutex<Vec<usize>>,
}

impl Speakers {
    fn new(names: &[&'static str]) -> Self {
        Self {
            names: names.to_vec(),
            seen: Mutex::new(Vec::new()),
        }
    }
}

fn known_speaker(speaker: &str, ctx: &ValidationContext<'_>) -> Result<(), String> {
    let Some(speakers) = ctx.value::<Speakers>() else {
        return Err("no list of speakers was given".to_owned());
    };
    speakers.seen.lock().unwrap().push(ctx.messages().len());
    if speakers.names.contains(&speaker) {
        Ok(())
    } else {
        Err(format!("must be one of {:?}", speakers.names))
    }
}

/// The speaker must be named in what the user wrote.
fn named_in_text(quote: &Quote, ctx: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    if !ctx.user_text().contains(&quote.speaker) {
        errors.add(ValidationError::new("/speaker", "is not named in the text"));
    }
    errors.into_result()
}

/// A quotation from the text.
#[derive(Instruct, Deserialize, Debug, PartialEq, Clone)]
#[instruct(validate_with_context = named_in_text)]
struct Quote {
    /// The words, exactly as written.
    #[instruct(verbatim)]
    text: String,
    #[instruct(custom_with_context = known_speaker)]
    speaker: String,
}

fn quote(text: &str, speaker: &str) -> String {
    json!({"text": text, "speaker": speaker}).to_string()
}

/// The feedback of the last re-ask in `request`.
fn feedback(p: &ScriptedProvider, request: usize) -> String {
    p.requests()[request].messages.last().unwrap().text()
}

/// The error of the first attempt of an extraction that must fail, not re-asked.
async fn first_attempt_error<T: Instruct + Debug>(call: Create<'_, T>) -> Error {
    let err = call.max_retries(0).send().await.unwrap_err();
    let Error::RetriesExhausted { mut attempts, .. } = err else {
        panic!("{err:?}")
    };
    attempts.remove(0).error
}

#[tokio::test]
async fn context_validators_read_the_value_and_the_messages() {
    let p = ScriptedProvider::new()
        .with_text(&quote("We ship on Friday.", "Carol"))
        .with_text(&quote("We ship on Friday.", "Ann"));
    let client = Client::new(p.clone());
    let got = client
        .create::<Quote>()
        .system("Extract the quote.")
        .user(TEXT)
        .context(Speakers::new(&["Ann", "Bob", "Carol"]))
        .send()
        .await
        .unwrap();
    assert_eq!(got.speaker, "Ann");
    let f = feedback(&p, 1);
    assert!(f.contains("/speaker: is not named in the text"), "{f}");
    assert!(!f.contains("must be one of"), "{f}");

    // The value is read back under its type; without it the validator says so.
    let p = ScriptedProvider::new().with_text(&quote("We ship on Friday.", "Ann"));
    let client = Client::new(p);
    let error = first_attempt_error(client.create::<Quote>().user(TEXT)).await;
    assert!(error
        .to_string()
        .contains("/speaker: no list of speakers was given"));
}

#[tokio::test]
async fn validators_see_the_first_request_not_the_reasks() {
    let speakers = std::sync::Arc::new(Speakers::new(&["Ann"]));
    #[derive(Instruct, Deserialize, Debug)]
    struct Speaker {
        #[instruct(custom_with_context = known_arc)]
        name: String,
    }
    fn known_arc(name: &str, ctx: &ValidationContext<'_>) -> Result<(), String> {
        // Given as an `Arc<Speakers>`, so read back as one.
        let speakers = ctx.value::<std::sync::Arc<Speakers>>().unwrap();
        assert!(ctx.value::<Speakers>().is_none());
        speakers.seen.lock().unwrap().push(ctx.messages().len());
        assert_eq!(ctx.messages()[1].role, Role::User);
        assert_eq!(ctx.messages()[1].text(), TEXT);
        if speakers.names.contains(&name) {
            Ok(())
        } else {
            Err("unknown".to_owned())
        }
    }
    let p = ScriptedProvider::new()
        .with_text(r#"{"name": "Bob"}"#)
        .with_text(r#"{"name": "Bob"}"#)
        .with_text(r#"{"name": "Ann"}"#);
    let got = Client::new(p.clone())
        .create::<Speaker>()
        .system("Extract the speaker.")
        .user(TEXT)
        .context(speakers.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(got.name, "Ann");
    let requests = p.requests();
    assert_eq!(requests[0].messages.len(), 2);
    assert_eq!(requests[2].messages.len(), 6, "two re-asks were appended");
    assert_eq!(*speakers.seen.lock().unwrap(), [2, 2, 2]);
}

#[tokio::test]
async fn an_invented_verbatim_value_is_reasked_at_its_pointer() {
    let p = ScriptedProvider::new()
        .with_text(&quote("We will ship on Friday.", "Ann"))
        // Copied, with the line break and spaces of the text written as single spaces.
        .with_text(&quote("Ann said: \"We ship on Friday.\"", "Ann"));
    let got = Client::new(p.clone())
        .create::<Quote>()
        .user(TEXT)
        .context(Speakers::new(&["Ann"]))
        .send()
        .await
        .unwrap();
    assert_eq!(got.text, "Ann said: \"We ship on Friday.\"");
    let f = feedback(&p, 1);
    assert!(
        f.contains("- /text: `text` must be copied verbatim from the input text, but \"We will ship on Friday.\" does not occur in it"),
        "{f}"
    );

    // Tools mode: the feedback is the tool result; a list of quotes names the element.
    let p = ScriptedProvider::new()
        .with_tool_call(
            "Vec_Quote",
            &format!(
                r#"{{"items": [{}, {}]}}"#,
                quote("Ann said", "Ann"),
                quote("Ann shouted", "Ann")
            ),
        )
        .with_tool_call(
            "Vec_Quote",
            &format!(r#"{{"items": [{}]}}"#, quote("Ann said", "Ann")),
        );
    let got = Client::new(p.clone())
        .mode(Mode::Tools)
        .create::<Vec<Quote>>()
        .user(TEXT)
        .context(Speakers::new(&["Ann"]))
        .send()
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    let last = p.requests()[1].messages.last().unwrap().clone();
    assert_eq!(last.role, Role::Tool);
    assert!(
        last.text()
            .contains("- /items/1/text: `text` must be copied verbatim"),
        "{}",
        last.text()
    );
}

#[tokio::test]
async fn verbatim_compares_with_user_text_only() {
    for invented in ["Extract the quote.", "Zed spoke first."] {
        let p = ScriptedProvider::new().with_text(&quote(invented, "Ann"));
        let client = Client::new(p);
        let call = client
            .create::<Quote>()
            .system("Extract the quote.")
            .message(Message::assistant("Zed spoke first."))
            .user(TEXT)
            .context(Speakers::new(&["Ann"]));
        let error = first_attempt_error(call).await;
        let Error::Validation { errors, .. } = &error else {
            panic!("{error:?}")
        };
        assert_eq!(errors.iter().next().unwrap().path, "/text", "{invented}");
    }
}

#[tokio::test]
async fn option_and_list_fields_are_checked_element_by_element() {
    #[derive(Instruct, Deserialize, Debug)]
    struct Notes {
        #[instruct(verbatim)]
        title: Option<String>,
        #[instruct(verbatim, length(max = 3))]
        lines: Vec<String>,
        /// Unchecked: free text.
        summary: String,
    }
    let p = ScriptedProvider::new().with_text(
        r#"{"title": null, "lines": ["Bob nodded.", "Bob smiled."], "summary": "A launch."}"#,
    );
    let client = Client::new(p);
    let error = first_attempt_error(client.create::<Notes>().user(TEXT)).await;
    let Error::Validation { errors, .. } = &error else {
        panic!("{error:?}")
    };
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["/lines/1"]);
    assert!(errors
        .to_string()
        .contains("`lines` must be copied verbatim"));

    let schema = Notes::json_schema();
    assert_eq!(
        schema["properties"]["lines"]["description"],
        "Copied verbatim from the input text."
    );
    assert!(schema["properties"]["summary"]["description"]
        .as_str()
        .is_some_and(|d| !d.contains("verbatim")));
    assert_eq!(
        Quote::json_schema()["properties"]["text"]["description"],
        "The words, exactly as written.\nCopied verbatim from the input text."
    );
}

#[test]
fn validate_skips_what_needs_a_source_and_validate_with_runs_it() {
    #[derive(Instruct, Deserialize, Debug)]
    struct Excerpt(#[instruct(verbatim)] String);
    let invented: Excerpt = serde_json::from_str(r#""They ship on Monday.""#).unwrap();
    assert!(
        invented.validate().is_ok(),
        "no source: nothing to compare with"
    );
    let messages = [Message::user(TEXT)];
    let errors = invented
        .validate_with(&ValidationContext::new(&messages))
        .unwrap_err();
    assert_eq!(
        errors.to_string(),
        "- (root): this value must be copied verbatim from the input text, but \"They ship on Monday.\" does not occur in it; quote the text exactly as written"
    );
    let copied: Excerpt = serde_json::from_str(r#""ship on Friday.""#).unwrap();
    assert!(copied
        .validate_with(&ValidationContext::new(&messages))
        .is_ok());
}

#[tokio::test]
async fn partial_streams_validate_the_final_value_with_the_context() {
    let p = ScriptedProvider::new()
        .with_chunk_size(7)
        .with_text(&quote("We ship on Monday.", "Ann"))
        .with_text(&quote("We ship on Friday.", "Ann"));
    let client = Client::new(p.clone());
    let call = client.create_partial::<Quote>().user(TEXT);
    let (_, end) = drain(call.context(Speakers::new(&["Ann"]))).await;
    assert_eq!(end.unwrap().0.text, "We ship on Friday.");
    assert_eq!(p.requests().len(), 2);
    let f = feedback(&p, 1);
    assert!(f.contains("- /text: `text` must be copied verbatim"), "{f}");
}

#[tokio::test]
async fn iterable_items_are_validated_with_the_context() {
    let answer = format!(
        r#"{{"items": [{}, {}, {}]}}"#,
        quote("We ship on Friday.", "Ann"),
        quote("We ship on Monday.", "Ann"),
        quote("Bob nodded.", "Dan"),
    );
    let p = ScriptedProvider::new()
        .with_chunk_size(5)
        .with_text(&answer);
    let client = Client::new(p);
    let call = client.create_iterable::<Quote>().user(TEXT);
    let items = all_items(call.context(Speakers::new(&["Ann", "Bob"]))).await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().text, "We ship on Friday.");
    let Err(Error::Validation { errors, .. }) = &items[1] else {
        panic!("{:?}", items[1])
    };
    assert_eq!(errors.iter().next().unwrap().path, "/items/1/text");
    let Err(Error::Validation { errors, .. }) = &items[2] else {
        panic!("{:?}", items[2])
    };
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "/items/2/speaker: must be one of [\"Ann\", \"Bob\"]",
            "/items/2/speaker: is not named in the text"
        ]
    );
}

#[test]
fn prepare_and_interpret_validate_with_the_context() {
    let client = Client::new(ScriptedProvider::new()).max_retries(1);
    let mut prepared = client
        .create::<Quote>()
        .user(TEXT)
        .context(Speakers::new(&["Ann"]))
        .prepare()
        .unwrap();
    match prepared.interpret(Response::text(quote("We ship today.", "Ann"))) {
        Step::Reask(request) => {
            let f = request.messages.last().unwrap().text();
            assert!(f.contains("- /text: `text` must be copied verbatim"), "{f}");
        }
        other => panic!("{other:?}"),
    }
    match prepared.interpret(Response::text(quote("We ship on Friday.", "Ann"))) {
        Step::Done { value, completion } => {
            assert_eq!(value.speaker, "Ann");
            assert_eq!(completion.attempts.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

/// A hand-written impl that knows nothing of contexts: it implements `validate_at` only.
#[derive(Deserialize, Debug, PartialEq, Clone, Copy)]
#[serde(transparent)]
struct Even(u32);

impl Instruct for Even {
    const NAME: &'static str = "Even";
    type Partial = u32;
    fn partial_from(value: &Value) -> Option<u32> {
        value.as_u64().and_then(|n| u32::try_from(n).ok())
    }
    fn schema(_: &mut SchemaGenerator) -> Value {
        json!({"type": "integer", "minimum": 0})
    }
    fn validate_at(&self, path: &mut JsonPointer, errors: &mut ValidationErrors) {
        if !self.0.is_multiple_of(2) {
            errors.push(path, format!("must be even, got {}", self.0));
        }
    }
}

#[derive(Instruct, Deserialize, Debug, PartialEq)]
struct Counts {
    one: Even,
    many: Vec<Option<Even>>,
}

#[tokio::test]
async fn hand_written_impls_that_only_implement_validate_at_still_validate() {
    let p = ScriptedProvider::new()
        .with_text(r#"{"one": 3, "many": [2, null, 5]}"#)
        .with_text(r#"{"one": 4, "many": [2, null, 6]}"#)
        .with_text("7")
        .with_text("8");
    let client = Client::new(p.clone());
    let counts = client
        .create::<Counts>()
        .user("x")
        .context(1u8)
        .send()
        .await
        .unwrap();
    assert_eq!(counts.one, Even(4));
    let f = feedback(&p, 1);
    assert!(f.contains("- /one: must be even, got 3"), "{f}");
    assert!(f.contains("- /many/2: must be even, got 5"), "{f}");
    let even = client.create::<Even>().user("x").send().await.unwrap();
    assert_eq!(even, Even(8));
    assert!(feedback(&p, 3).contains("- /value: must be even, got 7"));

    // And as list items, and through `validate`, `validate_with` and `validate_in`.
    let client = Client::new(ScriptedProvider::new().with_text("[2, 3]"));
    let items = all_items(client.create_iterable::<Even>().user("x")).await;
    assert_eq!(items[0].as_ref().unwrap(), &Even(2));
    assert!(matches!(&items[1], Err(Error::Validation { errors, .. })
        if errors.iter().next().unwrap().path == "/1"));
    assert!(Even(1).validate().is_err());
    let messages = [Message::user("x")];
    assert!(Even(1)
        .validate_with(&ValidationContext::new(&messages))
        .is_err());
    let mut errors = ValidationErrors::new();
    Some(Even(1)).validate_in(
        &ValidationContext::new(&messages),
        &mut JsonPointer::new(),
        &mut errors,
    );
    assert_eq!(errors.len(), 1);
}

#[test]
fn validators_may_return_validation_errors_with_their_own_paths() {
    fn ordered(w: &Window) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if w.start > w.end {
            errors.add(ValidationError::new("/end", "must not be before `start`"));
        }
        errors.into_result()
    }
    #[derive(Instruct, Deserialize, Debug)]
    #[instruct(validate = ordered)]
    struct Window {
        start: u8,
        end: u8,
    }
    #[derive(Instruct, Deserialize, Debug)]
    struct Plan {
        windows: Vec<Window>,
    }
    let plan: Plan =
        serde_json::from_str(r#"{"windows": [{"start": 1, "end": 2}, {"start": 3, "end": 2}]}"#)
            .unwrap();
    assert_eq!(
        plan.validate().unwrap_err().to_string(),
        "- /windows/1/end: must not be before `start`"
    );
}
