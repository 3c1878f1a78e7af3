use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(one_of = ["a", 1])]
    name: String,
}

fn main() {}
