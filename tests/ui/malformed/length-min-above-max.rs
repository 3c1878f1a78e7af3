use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(length(min = 4, max = 2))]
    name: String,
}

fn main() {}
