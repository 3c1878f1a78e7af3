use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(exclusive_min = 1.0, exclusive_max = 1.0))]
    score: f64,
}

fn main() {}
