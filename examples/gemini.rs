//! Gemini with `responseJsonSchema`. Needs `GEMINI_API_KEY`.
//!
//! `cargo run --example gemini`

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
    let client = match instructor::from_provider("gemini/gemini-2.5-flash") {
        Ok(c) => c,
        Err(e) => return eprintln!("gemini example: {e}"),
    };
    match UserDetail::extract(&client, "Jason is 30 years old").await {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("gemini example failed: {e}"),
    }
}
