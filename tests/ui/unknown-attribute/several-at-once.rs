use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(colour = "red")]
struct User {
    #[instruct(foo)]
    name: String,
    #[instruct(bar = 1)]
    age: u8,
}

fn main() {}
