use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(one_of = [])]
    name: String,
}

fn main() {}
