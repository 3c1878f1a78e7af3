use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(example = "{name: Jason}")]
struct User {
    name: String,
}

fn main() {}
