use instructor::{Instruct, ValidationContext};
use serde::Deserialize;

fn a(_: &User, _: &ValidationContext<'_>) -> Result<(), String> { Ok(()) }

#[derive(Instruct, Deserialize)]
#[instruct(validate_with_context = a)]
#[instruct(validate_with_context = a)]
struct User {
    name: String,
}

fn main() {}
