//! Building a type's JSON schema once: the generator that composes nested types through
//! `$defs` (so recursive types work), and the small schema edits validators and `Option`
//! need. Nothing here runs per call: [`crate::Instruct::type_schema`] caches the result.

use std::any::TypeId;
use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::Instruct;

/// Composes a root schema: types that are definitions (derived structs and enums) are
/// written once under `$defs` and referenced with `$ref` everywhere they appear.
///
/// ```
/// use instructor_core::{SchemaGenerator, Instruct};
/// let mut generator = SchemaGenerator::new();
/// let schema = generator.subschema::<Vec<u8>>();
/// assert_eq!(schema["type"], "array");
/// assert_eq!(schema["items"]["maximum"], 255);
/// ```
#[derive(Debug, Default)]
pub struct SchemaGenerator {
    defs: Map<String, Value>,
    names: HashMap<TypeId, String>,
    taken: HashMap<String, TypeId>,
}

impl SchemaGenerator {
    /// An empty generator.
    ///
    /// ```
    /// let generator = instructor_core::SchemaGenerator::new();
    /// # let _ = generator;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The schema to use where a `T` appears: a `$ref` for definitions, inline otherwise.
    ///
    /// ```
    /// # use instructor_core::SchemaGenerator;
    /// let mut generator = SchemaGenerator::new();
    /// assert_eq!(generator.subschema::<bool>(), serde_json::json!({"type": "boolean"}));
    /// ```
    pub fn subschema<T: Instruct>(&mut self) -> Value {
        if !T::IS_DEFINITION {
            return T::schema(self);
        }
        let id = TypeId::of::<T>();
        if let Some(name) = self.names.get(&id) {
            return reference(name);
        }
        let name = self.unique_name(T::schema_name().into_owned(), id);
        self.names.insert(id, name.clone());
        // A placeholder first, so a recursive type finds its own name while it is built.
        self.defs.insert(name.clone(), Value::Bool(true));
        let body = T::schema(self);
        self.defs.insert(name.clone(), body);
        reference(&name)
    }

    fn unique_name(&mut self, base: String, id: TypeId) -> String {
        let base = sanitize_name(&base);
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains_key(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.taken.insert(name.clone(), id);
        name
    }

    /// The root schema of `T`: its own body inline, with every definition it reached under
    /// `$defs`.
    ///
    /// ```
    /// # use instructor_core::SchemaGenerator;
    /// let schema = SchemaGenerator::root::<Option<String>>();
    /// assert_eq!(schema["type"], serde_json::json!(["string", "null"]));
    /// ```
    pub fn root<T: Instruct>() -> Value {
        let mut generator = Self::new();
        let mut body = T::schema(&mut generator);
        if !generator.defs.is_empty() {
            if let Value::Object(map) = &mut body {
                map.insert("$defs".to_owned(), Value::Object(generator.defs));
            } else {
                let mut map = Map::new();
                map.insert("allOf".to_owned(), Value::Array(vec![body]));
                map.insert("$defs".to_owned(), Value::Object(generator.defs));
                body = Value::Object(map);
            }
        }
        body
    }

    /// Merges the properties of a flattened type into an object schema under construction.
    /// Types that are not plain objects (maps, `Value`) make the parent accept any other
    /// property.
    ///
    /// ```
    /// # use instructor_core::SchemaGenerator;
    /// let mut generator = SchemaGenerator::new();
    /// let mut props = serde_json::Map::new();
    /// let mut required = Vec::new();
    /// let mut open = false;
    /// generator.flatten_into::<std::collections::HashMap<String, u8>>(&mut props, &mut required, &mut open);
    /// assert!(open);
    /// ```
    pub fn flatten_into<T: Instruct>(
        &mut self,
        properties: &mut Map<String, Value>,
        required: &mut Vec<Value>,
        open: &mut bool,
    ) {
        let body = T::schema(self);
        let Value::Object(mut map) = body else {
            *open = true;
            return;
        };
        match map.remove("properties") {
            Some(Value::Object(props)) => {
                properties.extend(props);
                if let Some(Value::Array(req)) = map.remove("required") {
                    required.extend(req);
                }
                if matches!(map.get("additionalProperties"), Some(v) if v != &Value::Bool(false)) {
                    *open = true;
                }
            }
            _ => *open = true,
        }
    }
}

fn reference(name: &str) -> Value {
    let mut map = Map::new();
    map.insert("$ref".to_owned(), Value::String(format!("#/$defs/{name}")));
    Value::Object(map)
}

/// Names usable as `$defs` keys and tool names everywhere: ASCII letters, digits, `_`, `-`,
/// at most 64 characters.
pub(crate) fn sanitize_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.truncate(64);
    if out.is_empty() {
        out.push_str("Output");
    }
    out
}

/// Makes a schema also accept `null`, in the form most servers understand: a `type` array
/// for plain types, `anyOf` with a null branch otherwise.
///
/// ```
/// use serde_json::json;
/// let s = instructor_core::schema::nullable(json!({"type": "integer"}));
/// assert_eq!(s, json!({"type": ["integer", "null"]}));
/// let r = instructor_core::schema::nullable(json!({"$ref": "#/$defs/A"}));
/// assert_eq!(r["anyOf"][1], json!({"type": "null"}));
/// ```
pub fn nullable(schema: Value) -> Value {
    if let Value::Object(mut map) = schema {
        let simple = matches!(map.get("type"), Some(Value::String(_)))
            && !map.contains_key("$ref")
            && !map.contains_key("anyOf")
            && !map.contains_key("oneOf");
        if simple {
            if let Some(Value::String(t)) = map.remove("type") {
                map.insert(
                    "type".to_owned(),
                    Value::Array(vec![Value::String(t), Value::String("null".to_owned())]),
                );
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.push(Value::Null);
            }
            return Value::Object(map);
        }
        let mut null = Map::new();
        null.insert("type".to_owned(), Value::String("null".to_owned()));
        let mut out = Map::new();
        out.insert(
            "anyOf".to_owned(),
            Value::Array(vec![Value::Object(map), Value::Object(null)]),
        );
        return Value::Object(out);
    }
    schema
}

/// Where in a (possibly nullable) schema validator keywords belong, as a JSON pointer: the
/// non-null branch of an `anyOf` made by [`nullable`], else the schema itself.
fn keyword_target(schema: &Value) -> &'static str {
    let is_nullable_any_of =
        schema
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|branches| {
                branches.len() == 2 && branches[1].get("type") == Some(&Value::from("null"))
            });
    if is_nullable_any_of {
        "/anyOf/0"
    } else {
        ""
    }
}

/// One schema keyword a validator contributes.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Keyword {
    /// `minimum` (kept if tighter than one already there).
    Minimum(f64),
    /// `maximum` (kept if tighter than one already there).
    Maximum(f64),
    /// `exclusiveMinimum`.
    ExclusiveMinimum(f64),
    /// `exclusiveMaximum`.
    ExclusiveMaximum(f64),
    /// `minLength` on strings, `minItems` on arrays, `minProperties` on objects.
    MinLength(u64),
    /// `maxLength` / `maxItems` / `maxProperties`.
    MaxLength(u64),
    /// `pattern`.
    Pattern(&'static str),
    /// `enum` with these values.
    OneOf(Vec<Value>),
    /// `format` (`email`, `uri`, ...).
    Format(&'static str),
}

fn number(v: f64) -> Value {
    // Integral values are written as integers so integer schemas stay integer-typed.
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Value::from(v as i64)
    } else {
        Value::from(v)
    }
}

fn tighten(map: &mut Map<String, Value>, key: &str, v: f64, lower: bool) {
    let keep = match map.get(key).and_then(Value::as_f64) {
        Some(old) if lower => v > old,
        Some(old) => v < old,
        None => true,
    };
    if keep {
        map.insert(key.to_owned(), number(v));
    }
}

fn kind_of(map: &Map<String, Value>) -> &'static str {
    let has = |t: &str| match map.get("type") {
        Some(Value::String(s)) => s == t,
        Some(Value::Array(a)) => a.iter().any(|x| x == t),
        _ => false,
    };
    if has("array") {
        "array"
    } else if has("object") {
        "object"
    } else {
        "string"
    }
}

/// Adds validator keywords to a field's schema (to the non-null branch of a nullable one).
///
/// ```
/// use serde_json::json;
/// use instructor_core::schema::{apply_keywords, Keyword};
/// let mut s = json!({"type": "integer", "minimum": 0, "maximum": 255});
/// apply_keywords(&mut s, &[Keyword::Maximum(150.0)]);
/// assert_eq!(s["maximum"], 150);
/// ```
pub fn apply_keywords(schema: &mut Value, keywords: &[Keyword]) {
    let target = keyword_target(schema);
    let Some(Value::Object(map)) = schema.pointer_mut(target) else {
        return;
    };
    for kw in keywords {
        match kw {
            Keyword::Minimum(v) => tighten(map, "minimum", *v, true),
            Keyword::Maximum(v) => tighten(map, "maximum", *v, false),
            Keyword::ExclusiveMinimum(v) => {
                map.insert("exclusiveMinimum".to_owned(), number(*v));
            }
            Keyword::ExclusiveMaximum(v) => {
                map.insert("exclusiveMaximum".to_owned(), number(*v));
            }
            Keyword::MinLength(n) | Keyword::MaxLength(n) => {
                let min = matches!(kw, Keyword::MinLength(_));
                let key = match (kind_of(map), min) {
                    ("array", true) => "minItems",
                    ("array", false) => "maxItems",
                    ("object", true) => "minProperties",
                    ("object", false) => "maxProperties",
                    (_, true) => "minLength",
                    (_, false) => "maxLength",
                };
                tighten(map, key, *n as f64, min);
            }
            Keyword::Pattern(p) => {
                map.insert("pattern".to_owned(), Value::from(*p));
            }
            Keyword::OneOf(values) => {
                map.insert("enum".to_owned(), Value::Array(values.clone()));
            }
            Keyword::Format(f) => {
                map.insert("format".to_owned(), Value::from(*f));
            }
        }
    }
}

/// Adds keywords to the element schema of a collection schema (`items` of an array,
/// `additionalProperties` of a map), through a nullable wrapper if there is one.
///
/// ```
/// use serde_json::json;
/// use instructor_core::schema::{apply_inner_keywords, Keyword};
/// let mut s = json!({"type": "array", "items": {"type": "string"}});
/// apply_inner_keywords(&mut s, &[Keyword::MinLength(1)]);
/// assert_eq!(s["items"]["minLength"], 1);
/// ```
pub fn apply_inner_keywords(schema: &mut Value, keywords: &[Keyword]) {
    let target = keyword_target(schema);
    let Some(Value::Object(map)) = schema.pointer_mut(target) else {
        return;
    };
    if let Some(items) = map.get_mut("items") {
        apply_keywords(items, keywords);
    } else if let Some(values) = map.get_mut("additionalProperties") {
        if values.is_object() {
            apply_keywords(values, keywords);
        }
    }
}

/// Sets `description` on a schema unless it is a bare boolean.
///
/// ```
/// let mut s = serde_json::json!({"type": "string"});
/// instructor_core::schema::describe(&mut s, "First name");
/// assert_eq!(s["description"], "First name");
/// ```
pub fn describe(schema: &mut Value, description: &str) {
    if description.is_empty() {
        return;
    }
    if let Value::Object(map) = schema {
        map.insert("description".to_owned(), Value::from(description));
    }
}
