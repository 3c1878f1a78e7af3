use instructor::Instruct;
use serde::Deserialize;

#[derive(Deserialize)]
struct Address {
    city: String,
}

#[derive(Instruct, Deserialize)]
struct User {
    address: Address,
}

fn main() {}
