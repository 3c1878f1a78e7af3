use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(strict)]
struct User {
    extra: serde_json::Value,
}

fn main() {}
