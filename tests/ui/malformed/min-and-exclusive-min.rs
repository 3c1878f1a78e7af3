use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(min = 1, exclusive_min = 0))]
    score: f64,
}

fn main() {}
