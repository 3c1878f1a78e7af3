//! Anthropic with a forced tool: a nested type with validators, re-asked with the errors
//! until it passes (`max_retries(2)`), as in the original "Validation and re-asking"
//! docs. Needs `ANTHROPIC_API_KEY`.
//!
//! `cargo run --example anthropic`

use instructor::Instruct;
use serde::Deserialize;

/// A postal address.
#[derive(Instruct, Deserialize, Debug)]
struct Address {
    street: String,
    city: String,
    /// ISO 3166-1 alpha-2 country code, such as `US`.
    #[instruct(pattern = "^[A-Z]{2}$")]
    country: String,
}

/// A person and every address the text gives for them.
#[derive(Instruct, Deserialize, Debug)]
struct User {
    /// Full name, in uppercase.
    #[instruct(custom = uppercase)]
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
    #[instruct(non_empty)]
    addresses: Vec<Address>,
}

/// The original docs' validator: its message is what the model reads in the re-ask.
fn uppercase(name: &str) -> Result<(), String> {
    if name == name.to_uppercase() {
        Ok(())
    } else {
        Err(format!("name must be in uppercase, got {name:?}"))
    }
}

const TEXT: &str = "Jason Liu is 30. He lives at 1 Market Street, San Francisco, USA, \
                    and keeps a flat at 12 Baker Street, London, United Kingdom.";

#[tokio::main]
async fn main() {
    let client = match instructor::from_provider("anthropic/claude-sonnet-4-5") {
        Ok(c) => c,
        Err(e) => return eprintln!("anthropic example: {e}"),
    };
    let answer = client
        .create::<User>()
        .user(TEXT)
        .max_retries(2)
        .send_with_completion()
        .await;
    match answer {
        Ok((user, completion)) => {
            // Each failed attempt, and the errors the model was re-asked with.
            for (n, attempt) in completion.attempts.iter().enumerate() {
                println!("attempt {} re-asked: {}", n + 1, attempt.error);
            }
            println!("{user:#?}");
        }
        Err(e) => eprintln!("anthropic example failed: {e}"),
    }
}
