//! The people the in-process model is tested and benchmarked on: one type and five
//! sentences with the answers expected of them (shared by `tests/local_model.rs` and
//! `benches/local.rs`, so the bench measures what the test checks).

use instructor::Instruct;
use serde::{Deserialize, Serialize};

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
pub struct Person {
    /// First name as written.
    pub name: String,
    /// Age in years.
    #[instruct(range(max = 150))]
    pub age: u8,
    /// The city they live in.
    pub city: String,
}

/// Each sentence with the name, age and city in it.
pub const CASES: &[(&str, &str, u8, &str)] = &[
    (
        "Jason is 30 years old and lives in Paris.",
        "Jason",
        30,
        "Paris",
    ),
    ("Maria, 45, comes from Madrid.", "Maria", 45, "Madrid"),
    ("Tom lives in London. He is 22.", "Tom", 22, "London"),
    (
        "Aiko is a 28 year old engineer from Tokyo.",
        "Aiko",
        28,
        "Tokyo",
    ),
    (
        "In Berlin lives Hans, who is 61 years old.",
        "Hans",
        61,
        "Berlin",
    ),
];
