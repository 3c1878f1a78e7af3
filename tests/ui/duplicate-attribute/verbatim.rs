use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Quote {
    #[instruct(verbatim, verbatim)]
    text: String,
}

fn main() {}
