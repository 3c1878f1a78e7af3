use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Quotes {
    #[instruct(verbatim, inner(verbatim))]
    lines: Vec<String>,
}

fn main() {}
