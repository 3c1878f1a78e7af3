use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(one_of = [1, 2])]
    name: String,
}

fn main() {}
