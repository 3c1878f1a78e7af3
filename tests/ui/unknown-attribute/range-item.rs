use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(minimum = 3))]
    age: u8,
}

fn main() {}
