use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(strict)]
struct User {
    name: String,
    scores: std::collections::HashMap<String, u32>,
}

fn main() {}
