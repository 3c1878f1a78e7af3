use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(non_empty, length(min = 2))]
    name: String,
}

fn main() {}
