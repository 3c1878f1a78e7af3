use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(pattern = "^[0-9]+$")]
    age: u32,
}

fn main() {}
