use std::fmt::Debug;

use instructor::Instruct;
use serde::de::DeserializeOwned;
use serde::Deserialize;

#[derive(Instruct, Deserialize, Debug)]
struct Page<T: Debug, U = String>
where
    U: Clone,
{
    items: Vec<T>,
    cursor: Option<U>,
}

/// A tree of any depth.
#[derive(Instruct, Deserialize, Debug)]
struct Node {
    label: String,
    children: Vec<Node>,
    parent: Option<Box<Node>>,
}

#[derive(Instruct, Deserialize)]
struct Even {
    next: Option<Box<Odd>>,
}

#[derive(Instruct, Deserialize)]
struct Odd {
    next: Option<Box<Even>>,
}

#[derive(Instruct, Deserialize)]
#[instruct(strict)]
struct StrictTree {
    name: String,
    kids: Vec<StrictTree>,
}

#[derive(Instruct, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
#[instruct(strict)]
struct StrictWrapper<T> {
    inner: T,
}

fn main() {
    let _ = <Page<u8>>::json_schema();
    let _ = <Page<Node, u32>>::json_schema();
    let _ = Node::json_schema();
    let _ = Even::json_schema();
    let _ = StrictTree::json_schema();
    let _ = <StrictWrapper<String>>::json_schema();
}
