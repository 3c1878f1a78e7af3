use instructor::Instruct;
use serde::Deserialize;

fn ordered(w: &Window) -> Result<(), String> {
    if w.start <= w.end { Ok(()) } else { Err("start after end".into()) }
}

#[derive(Instruct, Deserialize)]
#[instruct(validate_with_context = ordered)]
struct Window {
    start: u32,
    end: u32,
}

fn main() {}
