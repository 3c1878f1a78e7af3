use instructor::Instruct;
use serde::Deserialize;

// A `custom_with_context` validator also takes the context.
fn known(name: &String) -> Result<(), String> {
    if name.is_empty() { Err("empty".into()) } else { Ok(()) }
}

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(custom_with_context = known)]
    name: String,
}

fn main() {}
