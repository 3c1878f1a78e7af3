use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
enum Never {}

fn main() {}
