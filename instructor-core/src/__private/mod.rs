//! What `#[derive(Instruct)]` expands to reaches the world through here, so a user's
//! `Cargo.toml` needs only `instructor` and `serde`. Not a public API: anything in this
//! module may change in any release.

mod checks;
mod context;

pub use checks::*;
pub use context::*;

pub use serde;
pub use serde_json;
pub use serde_json::{Map, Value};
pub use std::borrow::Cow;
pub use std::sync::OnceLock;

pub use crate::partial::{complete, Complete};
pub use crate::schema::{apply_inner_keywords, apply_keywords, describe, nullable, Keyword};
pub use crate::validation::ValidationContext;
pub use crate::{Instruct, JsonPointer, SchemaGenerator, TypeSchema, ValidationErrors};
pub use std::fmt::{Debug, Formatter, Result as FmtResult};

/// Trims the whitespace around a doc comment's text, at compile time.
pub const fn trim_doc(s: &'static str) -> &'static str {
    s.trim_ascii()
}

/// The first of two reasons, at compile time (chained, not collected in an array, so that
/// nothing is promoted and recursive types do not form a cycle of constants).
pub const fn or_reason(
    first: Option<&'static str>,
    second: Option<&'static str>,
) -> Option<&'static str> {
    match first {
        Some(r) => Some(r),
        None => second,
    }
}

/// A type's strict-dialect reason behind a generic call, so that building the constant of
/// a (mutually) recursive type does not evaluate the constants it refers to.
pub const fn strict_reason<T: Instruct>() -> Option<&'static str> {
    T::STRICT_INCOMPATIBLE
}

/// Fails the build (the generated `const` that calls it) when a field's type cannot be
/// written in OpenAI's strict dialect.
#[allow(clippy::panic)] // a compile-time assertion: it only ever runs in const evaluation
pub const fn assert_strict(reason: Option<&'static str>) {
    if let Some(reason) = reason {
        panic!("{}", reason)
    }
}

/// Builds an object schema from its parts (what a derived struct's `schema` ends with).
pub fn object(properties: Map<String, Value>, required: Vec<Value>, closed: bool) -> Value {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::from("object"));
    map.insert("properties".to_owned(), Value::Object(properties));
    if !required.is_empty() {
        map.insert("required".to_owned(), Value::Array(required));
    }
    if closed {
        map.insert("additionalProperties".to_owned(), Value::Bool(false));
    }
    Value::Object(map)
}

/// `{"type": "string", "enum": [...]}` for unit variants.
pub fn string_enum(values: &[&str]) -> Value {
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::from("string"));
    map.insert(
        "enum".to_owned(),
        Value::Array(values.iter().map(|v| Value::from(*v)).collect()),
    );
    Value::Object(map)
}

/// A string schema fixed to one value (an enum tag).
pub fn string_const(value: &str) -> Value {
    string_enum(&[value])
}

/// `{"oneOf": [...]}` or `{"anyOf": [...]}`.
pub fn union(keyword: &str, branches: Vec<Value>) -> Value {
    let mut map = Map::new();
    map.insert(keyword.to_owned(), Value::Array(branches));
    Value::Object(map)
}

/// A tuple (or tuple variant) as a fixed-length array.
pub fn tuple(items: Vec<Value>) -> Value {
    let n = items.len();
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::from("array"));
    map.insert("prefixItems".to_owned(), Value::Array(items));
    map.insert("items".to_owned(), Value::Bool(false));
    map.insert("minItems".to_owned(), Value::from(n));
    map.insert("maxItems".to_owned(), Value::from(n));
    Value::Object(map)
}

/// Adds parsed example values (`examples`) to a schema.
pub fn examples(schema: &mut Value, examples: &[&str]) {
    let values: Vec<Value> = examples
        .iter()
        .filter_map(|e| serde_json::from_str(e).ok())
        .collect();
    if let (Value::Object(map), false) = (schema, values.is_empty()) {
        map.insert("examples".to_owned(), Value::Array(values));
    }
}

/// Appends the descriptions of string-enum values (`- value: what it means`) to a
/// schema's description.
pub fn describe_values(schema: &mut Value, values: &[(&str, &str)]) {
    if values.is_empty() {
        return;
    }
    let mut text = schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_default();
    for (name, description) in values {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str("- ");
        text.push_str(name);
        text.push_str(": ");
        text.push_str(description);
    }
    crate::schema::describe(schema, &text);
}

/// The composed name of a generic type's `$defs` entry: `Page_User`.
pub fn generic_name(base: &str, params: &[Cow<'static, str>]) -> Cow<'static, str> {
    let mut name = base.to_owned();
    for p in params {
        name.push('_');
        name.push_str(p);
    }
    Cow::Owned(name)
}
