use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(inner(non_empty))]
    name: String,
}

fn main() {}
