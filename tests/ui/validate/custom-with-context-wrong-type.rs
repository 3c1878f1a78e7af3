use instructor::{Instruct, ValidationContext};
use serde::Deserialize;

fn known(age: &u32, _: &ValidationContext<'_>) -> Result<(), String> {
    if *age > 3 { Err("too old".into()) } else { Ok(()) }
}

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(custom_with_context = known)]
    name: String,
}

fn main() {}
