use instructor::Instruct;
use serde::Deserialize;

// One mistake, one error: the stub impl keeps every use of `User` below compiling.
#[derive(Instruct, Deserialize)]
struct User {
    #[instruct(range(max = "old"))]
    age: u8,
}

#[derive(Instruct, Deserialize)]
struct Team {
    members: Vec<User>,
}

fn main() {
    let _ = User::json_schema();
    let _ = Team::tool_spec();
}
