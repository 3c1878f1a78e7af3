use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(min = 1, min = 2))]
    age: u8,
}

fn main() {}
