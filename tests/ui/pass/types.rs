use std::collections::{BTreeSet, HashMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use instructor::Instruct;
use serde::Deserialize;

#[derive(Instruct, Deserialize)]
struct Unit;

#[derive(Instruct, Deserialize)]
struct Newtype(String);

#[derive(Instruct, Deserialize)]
struct Pair(u8, #[instruct(range(max = 3))] i8);

#[derive(Instruct, Deserialize)]
struct All {
    a: i8,
    b: i16,
    c: i32,
    d: i64,
    e: i128,
    f: isize,
    g: u8,
    h: u16,
    i: u32,
    j: u64,
    k: u128,
    l: usize,
    m: f32,
    n: f64,
    o: bool,
    p: char,
    q: String,
    r: VecDeque<Box<Unit>>,
    s: BTreeSet<u8>,
    t: HashMap<String, Arc<Newtype>>,
    u: [Pair; 3],
    v: (u8, String),
    w: serde_json::Value,
    x: Rc<()>,
    y: Option<Option<u8>>,
    /// Skipped fields are never extracted: any type with a default is fine.
    #[serde(skip)]
    z: Option<Box<dyn Fn() -> u8>>,
}

fn main() {
    let _ = All::json_schema();
}
