//! Mistral in tools mode (the original `MISTRAL_TOOLS`). Needs `MISTRAL_API_KEY`.
//!
//! `cargo run --example mistral`

use instructor::providers::Mistral;
use instructor::{Client, Instruct};
use serde::Deserialize;

#[derive(Instruct, Deserialize, Debug)]
struct UserDetails {
    name: String,
    age: u8,
}

#[tokio::main]
async fn main() {
    let client = Client::new(Mistral::new()).model("mistral-large-latest");
    match UserDetails::extract(&client, r#"Extract the following entities: "Jason is 20""#).await {
        Ok(user) => println!("{user:?}"),
        Err(e) => eprintln!("mistral example failed: {e}"),
    }
}
