use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Quote {
    #[instruct(verbatim = true)]
    text: String,
}

fn main() {}
