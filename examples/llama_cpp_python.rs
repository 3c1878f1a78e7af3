//! llama-cpp-python's OpenAI-compatible server in JSON-schema mode (sent as
//! `json_object` with a `schema`, the shape that server takes). Start one with
//! `python3 -m llama_cpp.server --model model.gguf --chat_format gemma`; set
//! `LLAMA_CPP_PYTHON_URL` if it is not at http://127.0.0.1:8000/v1.
//!
//! `cargo run --example llama_cpp_python`

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
    let url =
        std::env::var("LLAMA_CPP_PYTHON_URL").unwrap_or_else(|_| "http://127.0.0.1:8000/v1".into());
    let client = Client::new(OpenAi::llama_cpp_python(url)).mode(Mode::JsonSchema);
    match client
        .create::<UserDetail>()
        .user("Extract `Jason is 30 years old`")
        .send()
        .await
    {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("llama-cpp-python example failed: {e}\n(is the server running?)"),
    }
}
