use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(strict, strict)]
struct User {
    name: String,
}

fn main() {}
