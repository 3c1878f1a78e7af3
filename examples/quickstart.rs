//! The quickstart: extract a `UserDetail` from "Jason is 30 years old".
//!
//! Until the embedded local model lands this runs the full extraction loop (request
//! planning, parsing, validation, a re-ask) against a scripted in-memory provider that
//! replays a model's answers; it says so when it runs.

use instructor::testing::ScriptedProvider;
use instructor::{Client, Instruct};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug)]
struct UserDetail {
    /// First name as written.
    name: String,
    /// Age in years.
    #[instruct(range(max = 150))]
    age: u8,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), instructor::Error> {
    println!("(offline: a scripted provider replays the model's answers)");
    let provider = ScriptedProvider::new()
        .with_text(r#"{"name": "Jason", "age": 300}"#)
        .with_text(r#"{"name": "Jason", "age": 30}"#);
    let client = Client::new(provider.clone());
    let (user, completion) = client
        .create::<UserDetail>()
        .user("Jason is 30 years old")
        .send_with_completion()
        .await?;
    println!("{user:?}");
    for attempt in &completion.attempts {
        println!("re-asked after: {}", attempt.error);
    }
    println!(
        "model calls: {}, tokens: {}",
        completion.usage.requests, completion.usage.total_tokens
    );
    Ok(())
}
