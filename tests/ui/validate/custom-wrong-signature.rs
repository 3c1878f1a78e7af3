use instructor::Instruct;
use serde::Deserialize;

fn check(age: &u32) -> Result<(), String> {
    if *age > 3 { Err("too old".into()) } else { Ok(()) }
}

#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(custom = check)]
    name: String,
}

fn main() {}
