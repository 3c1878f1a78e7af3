use instructor::{Instruct, ValidationContext};
use serde::Deserialize;

struct Opaque;

fn known(_: &String, _: &ValidationContext<'_>) -> Result<(), Opaque> {
    Err(Opaque)
}

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(custom_with_context = known)]
    name: String,
}

fn main() {}
