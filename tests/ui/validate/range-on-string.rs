use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(max = 3))]
    name: String,
}

fn main() {}
