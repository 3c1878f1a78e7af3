use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    name: String,
    #[serde(skip)]
    #[instruct(range(max = 3))]
    cache: u8,
}

fn main() {}
