use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(name = "user", title = "person")]
struct User {
    name: String,
}

fn main() {}
