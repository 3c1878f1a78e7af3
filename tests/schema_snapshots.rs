//! Generated schemas and tool specs compared with committed JSON snapshots
//! (`tests/snapshots/*.json`; rewrite them with `SNAPSHOTS=overwrite` and review the diff),
//! sample values checked against each schema with the `jsonschema` crate and agreeing with
//! serde + `validate()`, and serde round trips.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;
use std::path::PathBuf;

use instructor::Instruct;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A person mentioned in the text.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct UserDetail {
    /// First name as written.
    name: String,
    #[instruct(range(max = 150))]
    age: u8,
    /// Where they live, if said.
    city: Option<String>,
}

fn not_reserved(name: &String) -> Result<(), String> {
    if name == "admin" {
        Err("`admin` is reserved".to_owned())
    } else {
        Ok(())
    }
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Account {
    #[instruct(length(min = 3, max = 12), pattern = "^[a-z]+$", custom = not_reserved)]
    login: String,
    #[instruct(email)]
    email: String,
    #[instruct(url)]
    homepage: Option<String>,
    #[instruct(one_of = ["free", "pro"])]
    plan: String,
    #[instruct(one_of = [1, 2, 3])]
    tier: u8,
    #[instruct(non_empty, inner(length(max = 5)))]
    tags: Vec<String>,
    #[instruct(range(exclusive_min = 0.0, max = 1.0))]
    score: f64,
    #[instruct(inner(range(min = 0)))]
    balances: BTreeMap<String, i64>,
}

/// How the text feels.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Sentiment {
    /// Happy, approving.
    VeryPositive,
    Neutral,
    Negative,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
enum Command {
    Stop,
    Move { x: i32, y: i32 },
    Say(String),
    Turn(#[instruct(range(max = 360))] u16, bool),
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Shape {
    /// A round shape.
    Circle {
        #[instruct(range(exclusive_min = 0.0))]
        radius: f64,
    },
    Rect(Rect),
    Empty,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Rect {
    w: f64,
    h: f64,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[serde(tag = "t", content = "c")]
enum Message {
    Text(String),
    Ping,
    Pos { lat: f64, lon: f64 },
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[serde(untagged)]
enum Amount {
    Exact(u32),
    Described(String),
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Page<T> {
    items: Vec<T>,
    next: Option<u32>,
}

/// A comment thread.
#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Comment {
    text: String,
    replies: Vec<Comment>,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Order {
    order_id: String,
    #[serde(default)]
    gift_wrap: bool,
    #[serde(flatten)]
    shipping: Shipping,
    #[serde(skip)]
    internal: u32,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Shipping {
    street: String,
    zip: String,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Collections {
    set: BTreeSet<u8>,
    fixed: [i8; 2],
    map: HashMap<String, bool>,
    pair: (String, u16),
    point: Point,
    id: UserId,
    marker: Marker,
    any: Value,
    letter: char,
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Point(f32, f32);

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct UserId(#[instruct(range(min = 1))] u64);

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
struct Marker;

fn window(r: &Window) -> Result<(), String> {
    if r.start <= r.end {
        Ok(())
    } else {
        Err(format!(
            "start ({}) must not be after end ({})",
            r.start, r.end
        ))
    }
}

#[derive(Instruct, Deserialize, Serialize, Debug, PartialEq)]
#[instruct(validate = window, name = "time_window", description = "A span of hours.")]
struct Window {
    start: u8,
    end: u8,
}

/// Whether the value may pass, according to the schema and according to serde +
/// `validate()`. Runtime-only checks (`custom`, `validate`) are where they may differ.
struct Sample {
    value: Value,
    valid: bool,
    schema_valid: bool,
}

impl Sample {
    fn new(value: Value, valid: bool, schema_valid: bool) -> Self {
        Self {
            value,
            valid,
            schema_valid,
        }
    }
}

fn ok(value: Value) -> Sample {
    Sample::new(value, true, true)
}

fn bad(value: Value) -> Sample {
    Sample::new(value, false, false)
}

/// Passes the schema, fails a check the schema cannot express.
fn runtime_bad(value: Value) -> Sample {
    Sample::new(value, false, true)
}

/// Fails the schema, yet serde accepts it (a set silently drops duplicates).
fn lenient(value: Value) -> Sample {
    Sample::new(value, true, false)
}

/// `good` with one field set to another value.
fn patched(good: &Value) -> impl Fn(&str, Value) -> Value + '_ {
    |k, v| {
        let mut x = good.clone();
        x[k] = v;
        x
    }
}

fn snapshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"))
}

fn check<T>(name: &str, samples: Vec<Sample>)
where
    T: Instruct + Serialize + PartialEq + Debug + DeserializeOwned,
{
    let tool = T::tool_spec();
    let actual = json!({
        "schema": T::json_schema(),
        "tool": {"name": tool.name, "description": tool.description, "parameters": tool.parameters},
    });
    let path = snapshot_path(name);
    let pretty = serde_json::to_string_pretty(&actual).expect("serializable") + "\n";
    if std::env::var("SNAPSHOTS").as_deref() == Ok("overwrite") {
        std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
        std::fs::write(&path, &pretty).expect("write snapshot");
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing snapshot {path:?}; run with SNAPSHOTS=overwrite"));
    assert_eq!(pretty, expected, "schema of {name} changed");

    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(T::json_schema())
        .unwrap_or_else(|e| panic!("{name}: schema does not compile: {e}"));
    let tool_validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&tool.parameters)
        .expect("tool schema compiles");
    for s in samples {
        let schema_says = validator.is_valid(&s.value);
        assert_eq!(
            schema_says,
            s.schema_valid,
            "{name}: schema validity of {} (errors: {:?})",
            s.value,
            validator
                .iter_errors(&s.value)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        );
        let parsed = serde_json::from_value::<T>(s.value.clone());
        let rust_says = match &parsed {
            Ok(v) => v.validate().is_ok(),
            Err(_) => false,
        };
        assert_eq!(
            rust_says, s.valid,
            "{name}: serde + validate() on {} gave {parsed:?}",
            s.value
        );
        if let Ok(v) = parsed {
            // Round trip: what serde writes reads back to the same value.
            let written = serde_json::to_value(&v).expect("serializes");
            let back: T = serde_json::from_value(written).expect("reads back");
            assert_eq!(back, v, "{name}: round trip");
            // The tool parameters accept the value, wrapped as requests wrap it.
            let wrapped = match T::type_schema().wrapped {
                Some(key) => json!({ key: s.value }),
                None => s.value.clone(),
            };
            assert_eq!(
                tool_validator.is_valid(&wrapped),
                s.schema_valid,
                "{name}: tool params on {wrapped}"
            );
        }
    }
}

#[test]
fn user_detail() {
    check::<UserDetail>(
        "user_detail",
        vec![
            ok(json!({"name": "Jason", "age": 30})),
            ok(json!({"name": "Jason", "age": 30, "city": null})),
            ok(json!({"name": "Jason", "age": 30, "city": "Paris"})),
            bad(json!({"name": "Jason", "age": 151})),
            bad(json!({"name": "Jason", "age": -1})),
            bad(json!({"name": "Jason"})),
            bad(json!({"name": 5, "age": 3})),
        ],
    );
}

#[test]
fn account_validators() {
    let good = json!({"login": "jason", "email": "j@example.com", "homepage": "https://j.dev",
        "plan": "pro", "tier": 2, "tags": ["a", "bc"], "score": 0.5, "balances": {"eur": 3}});
    let with = patched(&good);
    check::<Account>(
        "account",
        vec![
            ok(good.clone()),
            ok(with("homepage", Value::Null)),
            bad(with("login", json!("jo"))),
            bad(with("login", json!("Jason"))),
            bad(with("login", json!("averyveryverylongname"))),
            runtime_bad(with("login", json!("admin"))),
            bad(with("email", json!("not-an-email"))),
            bad(with("homepage", json!("j.dev"))),
            bad(with("plan", json!("gold"))),
            bad(with("tier", json!(4))),
            bad(with("tags", json!([]))),
            bad(with("tags", json!(["toolong"]))),
            bad(with("score", json!(0.0))),
            bad(with("score", json!(1.5))),
            bad(with("balances", json!({"eur": -1}))),
        ],
    );
}

#[test]
fn string_enum() {
    check::<Sentiment>(
        "sentiment",
        vec![
            ok(json!("VERY_POSITIVE")),
            ok(json!("NEUTRAL")),
            bad(json!("VeryPositive")),
            bad(json!(1)),
        ],
    );
}

#[test]
fn externally_tagged_enum() {
    check::<Command>(
        "command",
        vec![
            ok(json!("Stop")),
            ok(json!({"Move": {"x": 1, "y": -2}})),
            ok(json!({"Say": "hi"})),
            ok(json!({"Turn": [90, true]})),
            bad(json!({"Turn": [361, true]})),
            bad(json!({"Move": {"x": 1}})),
            bad(json!("Go")),
            bad(json!({"Say": "hi", "Stop": null})),
        ],
    );
}

#[test]
fn internally_tagged_enum() {
    check::<Shape>(
        "shape",
        vec![
            ok(json!({"type": "circle", "radius": 2.0})),
            ok(json!({"type": "rect", "w": 1.0, "h": 2.0})),
            ok(json!({"type": "empty"})),
            bad(json!({"type": "circle", "radius": 0.0})),
            bad(json!({"type": "triangle"})),
            bad(json!({"type": "rect", "w": 1.0})),
        ],
    );
}

#[test]
fn adjacently_tagged_enum() {
    check::<Message>(
        "message",
        vec![
            ok(json!({"t": "Text", "c": "hello"})),
            ok(json!({"t": "Ping"})),
            ok(json!({"t": "Pos", "c": {"lat": 1.0, "lon": 2.0}})),
            bad(json!({"t": "Text", "c": 5})),
            bad(json!({"t": "Pos"})),
        ],
    );
}

#[test]
fn untagged_enum() {
    check::<Amount>(
        "amount",
        vec![
            ok(json!(5)),
            ok(json!("a few")),
            bad(json!(-5)),
            bad(json!([1])),
        ],
    );
}

#[test]
fn generic_page() {
    check::<Page<UserDetail>>(
        "page_of_user_detail",
        vec![
            ok(json!({"items": [{"name": "A", "age": 1}], "next": 2})),
            ok(json!({"items": []})),
            bad(json!({"items": [{"name": "A", "age": 200}]})),
        ],
    );
    // Two instantiations, two schemas: the cache is per type, not per generic definition.
    assert_ne!(
        <Page<UserDetail>>::json_schema(),
        <Page<String>>::json_schema()
    );
    assert_eq!(<Page<String>>::tool_spec().name, "Page_String");
}

#[test]
fn recursive_type() {
    check::<Comment>(
        "comment",
        vec![
            ok(
                json!({"text": "a", "replies": [{"text": "b", "replies": [{"text": "c", "replies": []}]}]}),
            ),
            bad(json!({"text": "a", "replies": [{"text": "b"}]})),
        ],
    );
}

#[test]
fn flatten_default_skip_rename() {
    check::<Order>(
        "order",
        vec![
            ok(json!({"orderId": "1", "street": "Main", "zip": "1000"})),
            ok(json!({"orderId": "1", "giftWrap": true, "street": "Main", "zip": "1000"})),
            bad(json!({"order_id": "1", "street": "Main", "zip": "1000"})),
            bad(json!({"orderId": "1", "street": "Main"})),
        ],
    );
}

#[test]
fn collections_and_structs() {
    let good = json!({"set": [1, 2], "fixed": [1, -1], "map": {"a": true}, "pair": ["x", 2],
        "point": [1.0, 2.0], "id": 7, "marker": null, "any": {"k": [1]}, "letter": "x"});
    let with = patched(&good);
    check::<Collections>(
        "collections",
        vec![
            ok(good.clone()),
            lenient(with("set", json!([1, 1]))),
            bad(with("fixed", json!([1]))),
            bad(with("fixed", json!([1, 2, 3]))),
            bad(with("map", json!({"a": 1}))),
            bad(with("pair", json!(["x"]))),
            bad(with("id", json!(0))),
            bad(with("letter", json!("xy"))),
        ],
    );
}

#[test]
fn container_validator_and_name() {
    check::<Window>(
        "window",
        vec![
            ok(json!({"start": 1, "end": 2})),
            runtime_bad(json!({"start": 3, "end": 2})),
        ],
    );
    let err = serde_json::from_value::<Window>(json!({"start": 3, "end": 2}))
        .expect("parses")
        .validate()
        .expect_err("start after end");
    assert_eq!(
        err.to_string(),
        "- (root): start (3) must not be after end (2)"
    );
}

#[test]
fn list_root_is_wrapped_for_requests() {
    check::<Vec<UserDetail>>(
        "vec_of_user_detail",
        vec![
            ok(json!([{"name": "A", "age": 1}, {"name": "B", "age": 2}])),
            bad(json!([{"name": "A", "age": 300}])),
        ],
    );
    let ts = <Vec<UserDetail>>::type_schema();
    assert_eq!(ts.wrapped, Some("items"));
    assert!(ts.request_schema["$defs"]["UserDetail"].is_object());
}

#[test]
fn validation_errors_carry_every_path() {
    let page: Page<Account> = serde_json::from_value(json!({"items": [
        {"login": "ok", "email": "x", "plan": "pro", "tier": 9, "tags": [], "score": 2.0, "balances": {"a": -3}}
    ]}))
    .expect("parses");
    let errors = page.validate().expect_err("invalid");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/items/0/login",
            "/items/0/email",
            "/items/0/tier",
            "/items/0/tags",
            "/items/0/score",
            "/items/0/balances/a",
        ]
    );
    assert!(errors
        .to_string()
        .contains("/items/0/tier: must be one of [1, 2, 3], got 9"));
}

#[test]
fn descriptions_come_from_docs_and_overrides() {
    assert_eq!(
        UserDetail::DESCRIPTION,
        Some("A person mentioned in the text.")
    );
    assert_eq!(Window::DESCRIPTION, Some("A span of hours."));
    assert_eq!(Window::NAME, "time_window");
    assert_eq!(
        Sentiment::json_schema()["description"],
        "How the text feels.\n- VERY_POSITIVE: Happy, approving."
    );
    assert_eq!(
        Shape::json_schema()["oneOf"][0]["description"],
        "A round shape."
    );
}

#[test]
fn strict_reasons_compose_through_nesting() {
    assert!(UserDetail::STRICT_INCOMPATIBLE.is_none());
    assert!(Collections::STRICT_INCOMPATIBLE.is_some());
    assert!(<Page<HashMap<String, u8>>>::STRICT_INCOMPATIBLE.is_some());
    assert!(<Page<Comment>>::STRICT_INCOMPATIBLE.is_none());
}

#[test]
fn schema_is_built_once() {
    assert!(std::ptr::eq(
        UserDetail::json_schema(),
        UserDetail::json_schema()
    ));
    assert!(std::ptr::eq(
        <Page<UserDetail>>::type_schema(),
        <Page<UserDetail>>::type_schema()
    ));
}
