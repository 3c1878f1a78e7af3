use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(length(min = -1))]
    name: String,
}

fn main() {}
