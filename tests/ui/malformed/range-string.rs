use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(max = "150"))]
    age: u8,
}

fn main() {}
