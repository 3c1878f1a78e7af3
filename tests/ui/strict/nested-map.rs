use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Address {
    lines: std::collections::BTreeMap<String, String>,
}

#[derive(Instruct, Deserialize)]
#[instruct(strict)]
struct User {
    name: String,
    address: Option<Address>,
}

fn main() {}
