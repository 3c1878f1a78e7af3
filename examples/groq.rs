//! Groq in markdown-JSON mode, as in the original post. Needs `GROQ_API_KEY`.
//!
//! `cargo run --example groq`

use instructor::providers::OpenAi;
use instructor::{Client, Mode};
use serde::Deserialize;

#[derive(instructor::Instruct, Deserialize, Debug)]
struct UserExtract {
    name: String,
    age: u8,
}

#[tokio::main]
async fn main() {
    let client = Client::new(OpenAi::groq())
        .model("llama-3.1-8b-instant")
        .mode(Mode::MdJson);
    let user = client
        .create::<UserExtract>()
        .user("Extract jason is 25 years old")
        .send()
        .await;
    match user {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("groq example failed: {e}"),
    }
}
