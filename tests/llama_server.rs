//! The OpenAI-compatible provider against a real llama-cpp-python server running Gemma 3
//! 270M (`scripts/test.sh` starts it and sets `LLAMA_CPP_PYTHON_URL`). Without the variable
//! the tests say so and pass, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{ask_in, recorder};
use instructor::providers::OpenAi;
use instructor::{Client, Error, Event, Instruct, Mode};
use serde::Deserialize;

const ASKED: &str = "Jason is 30 years old";

/// The server runs one request at a time (a streamed request arriving while another is in
/// flight gets a broken response from llama-cpp-python), so these tests take turns.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn server() -> Option<String> {
    match std::env::var("LLAMA_CPP_PYTHON_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and LLAMA_CPP_PYTHON_URL is unset: run scripts/test.sh, which starts the server"
            );
            eprintln!("skipping: LLAMA_CPP_PYTHON_URL is not set");
            None
        }
    }
}

/// Waits for this test's turn at the server: the turn and the server's URL, or `None`
/// (skip the test) without a server.
async fn turn() -> Option<(tokio::sync::MutexGuard<'static, ()>, String)> {
    let turn = SERIAL.lock().await;
    Some((turn, server()?))
}

fn client(url: String) -> Client {
    Client::new(OpenAi::llama_cpp_python(url))
        .max_tokens(96)
        .temperature(0.0)
}

/// Extracts a `UserDetail` from `ASKED` in `mode`.
async fn user_in(url: String, mode: Mode) -> UserDetail {
    ask_in(&client(url), mode, ASKED).await.unwrap()
}

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug, PartialEq)]
struct UserDetail {
    /// First name as written.
    name: String,
    /// Age in years.
    #[instruct(range(max = 150))]
    age: u8,
}

#[tokio::test]
async fn json_schema_mode_as_json_object_with_schema() {
    let Some((_turn, url)) = turn().await else {
        return;
    };
    let user = user_in(url, Mode::JsonSchema).await;
    assert_eq!(user.age, 30, "{user:?}");
    assert!(user.name.contains("Jason"), "{user:?}");
}

#[tokio::test]
async fn tools_mode_with_a_forced_tool() {
    let Some((_turn, url)) = turn().await else {
        return;
    };
    let user = user_in(url, Mode::Tools).await;
    assert!(user.age <= 150, "{user:?}");
}

static SEEN: AtomicUsize = AtomicUsize::new(0);

/// Rejects the first answer it sees, whatever it is, to force one re-ask.
fn reject_first(_: &Guest) -> Result<(), String> {
    if SEEN.fetch_add(1, Ordering::SeqCst) == 0 {
        Err("write the name in capital letters".to_owned())
    } else {
        Ok(())
    }
}

/// A guest mentioned in the text.
#[derive(Instruct, Deserialize, Debug)]
#[instruct(validate = reject_first)]
struct Guest {
    name: String,
    age: u8,
}

#[tokio::test]
async fn reask_round_trip() {
    let Some((_turn, url)) = turn().await else {
        return;
    };
    let asked = client(url).max_retries(2);
    let (guest, completion) = common::ask_completion::<Guest>(&asked.mode(Mode::JsonSchema), ASKED)
        .await
        .unwrap();
    assert_eq!(
        completion.attempts.len(),
        1,
        "the first answer was re-asked"
    );
    assert!(
        matches!(&completion.attempts[0].error, Error::Validation { errors, .. } if errors.to_string().contains("capital"))
    );
    assert_eq!(completion.usage.requests, 2);
    assert!(completion.usage.input_tokens > 0);
    assert!(!guest.name.is_empty(), "{guest:?}");
}

#[tokio::test]
async fn prompt_only_modes_fail_gracefully() {
    let Some((_turn, url)) = turn().await else {
        return;
    };
    for mode in [Mode::Json, Mode::MdJson] {
        let (sent, hook) = recorder(|e| matches!(e, Event::RequestSent { .. }).then_some(()));
        let asked = client(url.clone()).max_tokens(48).hook(hook).max_retries(1);
        let result = ask_in::<UserDetail>(&asked, mode, ASKED).await;
        // A base model without a grammar rarely answers well; what matters is a typed
        // outcome within the attempts allowed.
        match &result {
            Ok(_) | Err(Error::RetriesExhausted { .. }) | Err(Error::IncompleteOutput { .. }) => {}
            Err(other) => panic!("{mode}: unexpected error {other:?}"),
        }
        assert!(
            sent.lock().unwrap().len() <= 2,
            "{mode}: at most max_retries + 1 calls"
        );
    }
}

/// Streams an extraction and returns the number of partial updates and the final value.
async fn stream_partials(client: &Client, mode: Mode) -> (usize, UserDetail) {
    use futures::StreamExt;
    let asked = client.create_partial::<UserDetail>().mode(mode);
    let mut stream = asked.user(ASKED).send().await.unwrap();
    let mut partials = 0;
    while let Some(update) = stream.next().await {
        match update.unwrap() {
            instructor::stream::Update::Partial(_) => partials += 1,
            instructor::stream::Update::Complete { value, .. } => return (partials, value),
        }
    }
    panic!("the stream ended without a value")
}

#[tokio::test]
async fn streaming_in_json_schema_and_tools_modes() {
    let Some((_turn, url)) = turn().await else {
        return;
    };
    let client = client(url);
    for mode in [Mode::JsonSchema, Mode::Tools] {
        let (partials, user) = stream_partials(&client, mode).await;
        assert!(partials >= 2, "{mode}: {partials} partial updates");
        assert!(user.age <= 150, "{mode}: {user:?}");
        assert!(!user.name.is_empty(), "{mode}: {user:?}");
    }
}
