use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(non_empty = true)]
    name: String,
}

fn main() {}
