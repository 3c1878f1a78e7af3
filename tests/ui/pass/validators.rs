use std::collections::{BTreeMap, HashSet};

use instructor::Instruct;
use serde::Deserialize;

fn not_jason(name: &String) -> Result<(), String> {
    if name == "Jason" {
        Err("must not be Jason".to_owned())
    } else {
        Ok(())
    }
}

fn ordered(r: &Window) -> Result<(), &'static str> {
    if r.start <= r.end {
        Ok(())
    } else {
        Err("start must not be after end")
    }
}

#[derive(Instruct, Deserialize)]
#[instruct(validate = ordered, example = r#"{"start": 1, "end": 2}"#)]
struct Window {
    #[instruct(range(min = -10, max = 10))]
    start: i32,
    #[instruct(range(exclusive_min = -10.5, exclusive_max = 1e3))]
    end: i32,
}

#[derive(Instruct, Deserialize)]
struct Everything {
    #[instruct(length(min = 1, max = 20), pattern = "^[A-Z]", custom = not_jason)]
    name: String,
    #[instruct(range(max = 150))]
    age: Option<u8>,
    #[instruct(email)]
    email: Option<String>,
    #[instruct(url, description = "Home page")]
    site: String,
    #[instruct(one_of = ["red", "green"])]
    colour: String,
    #[instruct(one_of = [1, 2, 3])]
    rank: u8,
    #[instruct(one_of = [0.5, 1])]
    weight: f32,
    #[instruct(non_empty, inner(length(max = 10), pattern = "^[a-z]+$"))]
    tags: HashSet<String>,
    #[instruct(inner(range(min = 0)))]
    scores: BTreeMap<String, i64>,
    #[instruct(inner(email))]
    cc: Option<Vec<String>>,
    #[instruct(length(max = 2))]
    pair: [u8; 2],
    windows: Vec<Window>,
}

#[doc = "Built from a macro"]
#[doc = concat!("and ", "more")]
#[derive(Instruct, Deserialize)]
#[instruct(crate = "instructor", name = "everything_tool")]
struct Documented {
    /// One
    ///
    /// Two
    field: char,
}

fn main() {
    let _ = Everything::json_schema();
    let _ = Documented::tool_spec();
}
