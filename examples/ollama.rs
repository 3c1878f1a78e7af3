//! Ollama in JSON mode, as in the original "Structured Output for Open Source and Local
//! LLMs" post, extracting a list with `create_iterable`: each user is printed, validated,
//! the moment it closes in the stream. Needs `ollama serve` and a pulled model
//! (`OLLAMA_MODEL`, default `llama3.2`); `OLLAMA_HOST` if it is not on localhost:11434.
//!
//! `cargo run --example ollama`

use futures::StreamExt;
use instructor::providers::OpenAi;
use instructor::{Client, Instruct, Mode};
use serde::Deserialize;

/// One person in the text.
#[derive(Instruct, Deserialize, Debug)]
struct User {
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
    /// Their job, if the text says.
    occupation: Option<String>,
}

const TEXT: &str = "Consider this data: Jason is 10 and John is 30, a plumber; \
                    his sister Mary is 34. Correctly segment it into entities.";

#[tokio::main]
async fn main() {
    let model = std::env::var("OLLAMA_MODEL").unwrap_or_else(|_| "llama3.2".into());
    let client = Client::new(OpenAi::ollama()).model(model).mode(Mode::Json);
    let mut users = match client.create_iterable::<User>().user(TEXT).send().await {
        Ok(users) => users,
        Err(e) => {
            return eprintln!(
                "ollama example failed: {e}\n(is `ollama serve` running with the model pulled?)"
            )
        }
    };
    // An item that fails validation is reported and the stream goes on; an error that
    // ends the stream (a cut connection, a timeout) is its last item.
    while let Some(user) = users.next().await {
        match user {
            Ok(user) => println!("{user:?}"),
            Err(e) => eprintln!("ollama example: {e}"),
        }
    }
}
