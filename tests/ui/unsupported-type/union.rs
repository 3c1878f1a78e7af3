use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct)]
union Bits {
    a: u32,
    b: f32,
}

fn main() {}
