use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Quote {
    text: String,
    #[serde(skip)]
    #[instruct(verbatim)]
    source: String,
}

fn main() {}
