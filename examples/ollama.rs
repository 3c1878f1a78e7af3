//! Ollama in JSON mode, as in the original "Structured Output for Open Source and Local
//! LLMs" post. Needs `ollama serve` and a pulled model (`OLLAMA_MODEL`, default
//! `llama3.2`); `OLLAMA_HOST` if it is not on localhost:11434.
//!
//! `cargo run --example ollama`

use instructor::providers::OpenAi;
use instructor::{Client, Instruct, Mode};
use serde::Deserialize;

#[derive(Instruct, Deserialize, Debug)]
struct UserDetail {
    name: String,
    age: u8,
}

#[tokio::main]
async fn main() {
    let model = std::env::var("OLLAMA_MODEL").unwrap_or_else(|_| "llama3.2".into());
    let client = Client::new(OpenAi::ollama()).model(model).mode(Mode::Json);
    match UserDetail::extract(&client, "Jason is 30 years old").await {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!(
            "ollama example failed: {e}\n(is `ollama serve` running with the model pulled?)"
        ),
    }
}
