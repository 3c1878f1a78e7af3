use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(maximum = 3)]
    age: u8,
}

fn main() {}
