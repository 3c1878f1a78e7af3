use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    names: Vec<&'static str>,
}

fn main() {}
