use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    callback: fn() -> u8,
}

fn main() {}
