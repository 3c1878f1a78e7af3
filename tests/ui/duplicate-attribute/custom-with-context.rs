use instructor::{Instruct, ValidationContext};
use serde::Deserialize;

fn a(_: &String, _: &ValidationContext<'_>) -> Result<(), String> { Ok(()) }
fn b(_: &String, _: &ValidationContext<'_>) -> Result<(), String> { Ok(()) }

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(custom_with_context = a, custom_with_context = b)]
    name: String,
}

fn main() {}
