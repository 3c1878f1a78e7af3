use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(description = "a", description = "b")]
    name: String,
}

fn main() {}
