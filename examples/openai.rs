//! OpenAI with strict tools. Needs `OPENAI_API_KEY` (and `OPENAI_BASE_URL` for a proxy).
//!
//! `cargo run --example openai`

use instructor::{Instruct, Mode};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug)]
#[instruct(strict)]
struct UserDetail {
    /// First name as written.
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
}

#[tokio::main]
async fn main() {
    let client = match instructor::from_provider("openai/gpt-4o-mini") {
        Ok(c) => c.mode(Mode::ToolsStrict),
        Err(e) => return eprintln!("openai example: {e}"),
    };
    match UserDetail::extract(&client, "Jason is 30 years old").await {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("openai example failed: {e}"),
    }
}
