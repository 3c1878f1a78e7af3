//! How often a local model gets an extraction right: held-out sentences in four families
//! (a flat person; an enum sentiment; an order, a list of items with quantities; contact
//! details whose optional fields are often absent), each with the answer expected of it.
//! Shared by `tests/local_model.rs`, which asserts the counts, and `benches/local.rs`, which
//! prints them beside the time taken; `benches/python_instructor.py` reads the same cases
//! (as JSON) for Python instructor.
//!
//! No case is shown to the model as an example: the prompt holds only the schema and what
//! the library adds.

#![allow(dead_code, clippy::unwrap_used)]

use futures::future::BoxFuture;
use instructor::{Client, Error, Instruct, Mode, Usage};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};

#[path = "people.rs"]
mod people;
pub use people::{Person, CASES};

/// How the writer feels about what they review.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Negative,
    Neutral,
}

/// The sentiment of a product review.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
pub struct Review {
    pub sentiment: Sentiment,
}

/// One line of an order.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
pub struct OrderLine {
    /// The product, as named in the text.
    pub product: String,
    /// How many of it.
    #[instruct(range(min = 1))]
    pub quantity: u32,
}

/// What the customer ordered, each product once.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
pub struct Order {
    #[instruct(length(min = 1, max = 8))]
    pub lines: Vec<OrderLine>,
}

/// A person's contact details; a detail the text does not give is null.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
pub struct Contact {
    /// Full name as written.
    pub name: String,
    /// Email address.
    pub email: Option<String>,
    /// Phone number as written.
    pub phone: Option<String>,
    /// The company they work for.
    pub company: Option<String>,
}

/// A sentence and the answer expected of it.
pub struct Case {
    pub text: &'static str,
    pub expected: Value,
}

fn case(text: &'static str, expected: Value) -> Case {
    Case { text, expected }
}

/// An extraction of one family's type from a sentence: the answer as JSON and the usage.
pub type Extract =
    for<'a> fn(&'a Client, &'static str, Mode) -> BoxFuture<'a, Result<(Value, Usage), Error>>;

/// A family of cases and how to extract its type.
pub struct Family {
    pub name: &'static str,
    pub cases: fn() -> Vec<Case>,
    pub extract: Extract,
}

fn extract<'a, T>(
    client: &'a Client,
    text: &'static str,
    mode: Mode,
) -> BoxFuture<'a, Result<(Value, Usage), Error>>
where
    T: Instruct + DeserializeOwned + Serialize + Send + 'static,
{
    Box::pin(async move {
        let (value, completion) = client
            .create::<T>()
            .user(text)
            .mode(mode)
            .max_retries(0)
            .send_with_completion()
            .await?;
        Ok((serde_json::to_value(value).unwrap(), completion.usage))
    })
}

pub const PEOPLE: Family = Family {
    name: "person",
    extract: extract::<Person>,
    cases: || {
        let mut cases: Vec<Case> = CASES
            .iter()
            .map(|&(text, name, age, city)| {
                case(text, json!({"name": name, "age": age, "city": city}))
            })
            .collect();
        cases.push(case(
            "Priya turned 37 last week; she has lived in Mumbai all her life.",
            json!({"name": "Priya", "age": 37, "city": "Mumbai"}),
        ));
        cases
    },
};

pub const SENTIMENTS: Family = Family {
    name: "sentiment",
    extract: extract::<Review>,
    cases: || {
        [
            (
                "The battery died after two days and support never answered.",
                "negative",
            ),
            ("Absolutely love it, best purchase this year!", "positive"),
            ("It arrived on Tuesday in a brown box.", "neutral"),
            ("Terrible fit and cheap fabric. I sent it back.", "negative"),
            ("Works perfectly, and the price was fair.", "positive"),
        ]
        .into_iter()
        .map(|(text, sentiment)| case(text, json!({ "sentiment": sentiment })))
        .collect()
    },
};

pub const ORDERS: Family = Family {
    name: "order",
    extract: extract::<Order>,
    cases: || {
        let orders: [(&str, &[(&str, u32)]); 5] = [
            (
                "Please send 3 apples and 2 pears.",
                &[("apples", 3), ("pears", 2)],
            ),
            (
                "I'd like 1 coffee and 2 croissants.",
                &[("coffee", 1), ("croissants", 2)],
            ),
            (
                "Order: 5 notebooks, 10 pens, 1 stapler.",
                &[("notebooks", 5), ("pens", 10), ("stapler", 1)],
            ),
            ("Add 4 tomatoes to my basket.", &[("tomatoes", 4)]),
            (
                "We need 12 chairs and 3 tables for the office.",
                &[("chairs", 12), ("tables", 3)],
            ),
        ];
        orders
            .into_iter()
            .map(|(text, lines)| {
                let lines: Vec<Value> = lines
                    .iter()
                    .map(|(product, quantity)| json!({"product": product, "quantity": quantity}))
                    .collect();
                case(text, json!({ "lines": lines }))
            })
            .collect()
    },
};

pub const CONTACTS: Family = Family {
    name: "contact",
    extract: extract::<Contact>,
    cases: || {
        // (text, name, email, phone, company)
        type Row = (
            &'static str,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
        );
        let contacts: [Row; 6] = [
            (
                "You can reach Anna Schmidt at anna.schmidt@example.com.",
                "Anna Schmidt",
                Some("anna.schmidt@example.com"),
                None,
                None,
            ),
            (
                "Call Bob Stone on 555-0142, he works at Acme Corp.",
                "Bob Stone",
                None,
                Some("555-0142"),
                Some("Acme Corp"),
            ),
            (
                "Lena Fischer from Globex: lena@globex.io, +44 20 7946 0958.",
                "Lena Fischer",
                Some("lena@globex.io"),
                Some("+44 20 7946 0958"),
                Some("Globex"),
            ),
            (
                "Mark Evans wrote to us yesterday.",
                "Mark Evans",
                None,
                None,
                None,
            ),
            (
                "Email carlos.ruiz@fastmail.com to reach Carlos Ruiz.",
                "Carlos Ruiz",
                Some("carlos.ruiz@fastmail.com"),
                None,
                None,
            ),
            (
                "Yuki Tanaka of Initech, phone 090-1234-5678.",
                "Yuki Tanaka",
                None,
                Some("090-1234-5678"),
                Some("Initech"),
            ),
        ];
        contacts
            .into_iter()
            .map(|(text, name, email, phone, company)| {
                case(
                    text,
                    json!({"name": name, "email": email, "phone": phone, "company": company}),
                )
            })
            .collect()
    },
};

/// Every family, 22 cases in all.
pub const FAMILIES: [&Family; 4] = [&PEOPLE, &SENTIMENTS, &ORDERS, &CONTACTS];

/// Whether `got` is the expected answer: the same JSON, strings compared without regard to
/// case or surrounding space, an absent member the same as null.
pub fn same(got: &Value, want: &Value) -> bool {
    match (got, want) {
        (Value::String(a), Value::String(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), Value::Object(b)) => a.keys().chain(b.keys()).all(|k| {
            same(
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
            )
        }),
        _ => got == want,
    }
}

/// How one family (or all) came out.
#[derive(Debug, Default, Clone, Copy)]
pub struct Score {
    pub right: usize,
    pub parsed: usize,
    pub n: usize,
    /// Members of the expected answers' root objects that came out right, of `members`.
    pub members_right: usize,
    pub members: usize,
    pub output_tokens: u64,
}

impl std::ops::AddAssign for Score {
    fn add_assign(&mut self, o: Self) {
        self.right += o.right;
        self.parsed += o.parsed;
        self.n += o.n;
        self.members_right += o.members_right;
        self.members += o.members;
        self.output_tokens += o.output_tokens;
    }
}

/// Runs every case of `family` once in `mode`, printing each answer when `verbose`. An
/// answer that does not parse or validate counts as not parsed; any other error fails.
pub async fn score(client: &Client, family: &Family, mode: Mode, verbose: bool) -> Score {
    let mut score = Score::default();
    for case in (family.cases)() {
        let want = &case.expected;
        score.n += 1;
        score.members += want.as_object().map_or(1, |m| m.len());
        let outcome = (family.extract)(client, case.text, mode).await;
        let verdict = match outcome {
            Ok((got, usage)) => {
                score.parsed += 1;
                score.output_tokens += usage.output_tokens;
                let ok = same(&got, want);
                score.members_right += match want.as_object() {
                    Some(m) => m
                        .iter()
                        .filter(|(k, v)| same(got.get(k.as_str()).unwrap_or(&Value::Null), v))
                        .count(),
                    None => usize::from(ok),
                };
                score.right += usize::from(ok);
                format!("{got} {}", if ok { "ok" } else { "WRONG" })
            }
            Err(e) => {
                if let Error::RetriesExhausted { usage, .. }
                | Error::IncompleteOutput { usage, .. }
                | Error::AfterAttempts { usage, .. } = &e
                {
                    score.output_tokens += usage.output_tokens;
                }
                match e.root() {
                    Error::Parse { .. }
                    | Error::Validation { .. }
                    | Error::RetriesExhausted { .. }
                    | Error::IncompleteOutput { .. } => {
                        let raw = e.raw_output().unwrap_or_default();
                        format!(
                            "not parsed: {e}: {}",
                            raw.chars().take(240).collect::<String>()
                        )
                    }
                    _ => panic!("{}: {}: {e}", family.name, case.text),
                }
            }
        };
        if verbose {
            eprintln!("[{}] {} -> {verdict}", family.name, case.text);
        }
    }
    score
}

/// The cases as JSON, for the Python comparison: `[[family, text, expected], ...]`.
pub fn as_json() -> String {
    let cases: Vec<(&str, &str, Value)> = FAMILIES
        .iter()
        .flat_map(|f| {
            (f.cases)()
                .into_iter()
                .map(|c| (f.name, c.text, c.expected))
        })
        .collect();
    serde_json::to_string(&cases).unwrap()
}
