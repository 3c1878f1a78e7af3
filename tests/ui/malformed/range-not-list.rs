use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range = 5)]
    age: u8,
}

fn main() {}
