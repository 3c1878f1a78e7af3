//! llama.cpp's `llama-server` in JSON-schema mode. Set `LLAMA_CPP_URL` if it is not at
//! http://127.0.0.1:8080/v1.
//!
//! `cargo run --example llama_cpp_server`

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
    let url = std::env::var("LLAMA_CPP_URL").unwrap_or_else(|_| "http://127.0.0.1:8080/v1".into());
    let client = Client::new(OpenAi::llama_cpp_server(url)).mode(Mode::JsonSchema);
    match UserDetail::extract(&client, "Extract `Jason is 30 years old`").await {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("llama-server example failed: {e}\n(is llama-server running?)"),
    }
}
