use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(min = 1))]
    #[instruct(range(max = 5))]
    age: u8,
}

fn main() {}
