use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(pattern = "^[a-z+$")]
    name: String,
}

fn main() {}
