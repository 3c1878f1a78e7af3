use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(descripton = "typo")]
struct User {
    name: String,
}

fn main() {}
