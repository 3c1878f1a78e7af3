use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    any: Box<dyn std::any::Any>,
}

fn main() {}
