//! Together AI, as in the original posts: tools mode for a flat user, then JSON-schema mode
//! with `max_retries(3)` for a nested `UserSchema` with a list of properties (the
//! "Structured Outputs with Together and Zod" example), whose validators decide what is
//! re-asked. Needs `TOGETHER_API_KEY`.
//!
//! `cargo run --example together`

use instructor::providers::OpenAi;
use instructor::{Client, Instruct, Mode};
use serde::Deserialize;

#[derive(Instruct, Deserialize, Debug)]
struct UserExtract {
    name: String,
    age: u8,
}

/// A property defined by a name and value.
#[derive(Instruct, Deserialize, Debug)]
struct Property {
    #[instruct(non_empty)]
    name: String,
    #[instruct(non_empty)]
    value: String,
}

#[derive(Instruct, Deserialize, Debug)]
struct UserSchema {
    #[instruct(range(min = 1, max = 150))]
    age: u8,
    #[instruct(non_empty)]
    name: String,
    #[instruct(length(min = 1, max = 8))]
    properties: Vec<Property>,
}

async fn run(client: &Client) -> Result<(), instructor::Error> {
    let user = client
        .create::<UserExtract>()
        .user("Extract jason is 25 years old")
        .mode(Mode::Tools)
        .send()
        .await?;
    println!("{user:?}");
    let (harry, completion) = client
        .create::<UserSchema>()
        .user("Harry Potter")
        .mode(Mode::JsonSchema)
        .max_retries(3)
        .send_with_completion()
        .await?;
    println!("{harry:#?}");
    // Answers that failed to parse or validate were re-asked; each one is kept here.
    for attempt in &completion.attempts {
        println!("re-asked after: {}", attempt.error);
    }
    Ok(())
}

#[tokio::main]
async fn main() {
    let client = Client::new(OpenAi::together()).model("mistralai/Mixtral-8x7B-Instruct-v0.1");
    if let Err(e) = run(&client).await {
        eprintln!("together example failed: {e}");
    }
}
