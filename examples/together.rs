//! Together AI, as in the original posts: tools mode for a flat user, then JSON-schema mode
//! with `max_retries(3)` for a nested `UserSchema` with a list of properties (the
//! "Structured Outputs with Together and Zod" example). Needs `TOGETHER_API_KEY`.
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
    name: String,
    value: String,
}

#[derive(Instruct, Deserialize, Debug)]
struct UserSchema {
    age: u8,
    name: String,
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
    let harry = client
        .create::<UserSchema>()
        .user("Harry Potter")
        .mode(Mode::JsonSchema)
        .max_retries(3)
        .send()
        .await?;
    println!("{harry:#?}");
    Ok(())
}

#[tokio::main]
async fn main() {
    let client = Client::new(OpenAi::together()).model("mistralai/Mixtral-8x7B-Instruct-v0.1");
    if let Err(e) = run(&client).await {
        eprintln!("together example failed: {e}");
    }
}
