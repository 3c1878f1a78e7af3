use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Quote {
    #[instruct(verbatim)]
    page: u32,
}

fn main() {}
