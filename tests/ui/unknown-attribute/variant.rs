use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
enum Label {
    #[instruct(range(min = 1))]
    Positive,
    Negative,
}

fn main() {}
