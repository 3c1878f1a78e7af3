use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(length(max = 3))]
    age: u32,
}

fn main() {}
