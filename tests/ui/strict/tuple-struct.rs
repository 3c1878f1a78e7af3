use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
#[instruct(strict)]
struct Point(f64, f64);

fn main() {}
