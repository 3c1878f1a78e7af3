use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(inner(inner(non_empty)))]
    tags: Vec<Vec<String>>,
}

fn main() {}
