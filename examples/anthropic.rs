//! Anthropic with a forced tool. Needs `ANTHROPIC_API_KEY`.
//!
//! `cargo run --example anthropic`

use instructor::Instruct;
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug)]
struct UserDetail {
    name: String,
    age: u8,
}

#[tokio::main]
async fn main() {
    let client = match instructor::from_provider("anthropic/claude-sonnet-4-5") {
        Ok(c) => c,
        Err(e) => return eprintln!("anthropic example: {e}"),
    };
    match UserDetail::extract(&client, "Jason is 30 years old").await {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("anthropic example failed: {e}"),
    }
}
