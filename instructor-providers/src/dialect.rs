//! Schema dialects: rewrites of a type's JSON schema into what a provider accepts. Each
//! returns a clear error for what cannot be expressed. They run once per type (the result
//! is cached as a request fragment), never per call.

use serde_json::{Map, Value};

/// An edit applied to one schema object.
type Visit<'a> = dyn FnMut(&mut Map<String, Value>) -> Result<(), String> + 'a;

/// Calls `f` on every schema object under `v` (including `v`), children first.
fn walk(v: &mut Value, f: &mut Visit<'_>) -> Result<(), String> {
    let Value::Object(map) = v else { return Ok(()) };
    for key in ["properties", "$defs", "definitions"] {
        if let Some(Value::Object(children)) = map.get_mut(key) {
            for child in children.values_mut() {
                walk(child, f)?;
            }
        }
    }
    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            walk(child, f)?;
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(children)) = map.get_mut(key) {
            for child in children {
                walk(child, f)?;
            }
        }
    }
    f(map)
}

/// A copy of `schema` with `f` applied to every schema object in it, children first.
fn rewritten(schema: &Value, f: &mut Visit<'_>) -> Result<Value, String> {
    let mut out = schema.clone();
    walk(&mut out, f)?;
    Ok(out)
}

/// A `$ref` node keeps only its reference (strict mode and Gemini take no siblings); says
/// whether it was one.
fn bare_ref(map: &mut Map<String, Value>) -> bool {
    let Some(r) = map.get("$ref").cloned() else {
        return false;
    };
    map.clear();
    map.insert("$ref".to_owned(), r);
    true
}

/// `oneOf` written as `anyOf`, which the dialects take instead.
fn one_of_as_any_of(map: &mut Map<String, Value>) {
    if let Some(branches) = map.remove("oneOf") {
        map.insert("anyOf".to_owned(), branches);
    }
}

fn accepts_null(map: &Map<String, Value>) -> bool {
    match map.get("type") {
        Some(Value::String(t)) if t == "null" => return true,
        Some(Value::Array(ts)) if ts.iter().any(|t| t == "null") => return true,
        _ => {}
    }
    map.get("anyOf")
        .and_then(Value::as_array)
        .is_some_and(|bs| {
            bs.iter()
                .any(|b| b.get("type") == Some(&Value::from("null")))
        })
}

fn is_object_schema(map: &Map<String, Value>) -> bool {
    map.contains_key("properties")
        || match map.get("type") {
            Some(Value::String(t)) => t == "object",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
            _ => false,
        }
}

/// The string formats both OpenAI's strict mode and Anthropic's JSON outputs take.
const FORMATS: &[&str] = &[
    "date-time",
    "time",
    "date",
    "duration",
    "email",
    "hostname",
    "ipv4",
    "ipv6",
    "uuid",
];

/// OpenAI's strict dialect: every object closed with every property required (optional
/// ones made nullable), `oneOf` as `anyOf`, unsupported keywords dropped, `$ref` without
/// siblings. Maps, free-form JSON and tuples cannot be expressed.
///
/// ```
/// use serde_json::json;
/// let s = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]});
/// let strict = instructor_providers::dialect::openai_strict(&s).unwrap();
/// assert_eq!(strict["required"], json!(["a", "b"]));
/// assert_eq!(strict["properties"]["b"]["type"], json!(["integer", "null"]));
/// assert_eq!(strict["additionalProperties"], false);
/// ```
pub fn openai_strict(schema: &Value) -> Result<Value, String> {
    rewritten(schema, &mut |map| {
        if map.is_empty() {
            return Err(
                "a field of type serde_json::Value (any JSON) cannot be expressed in strict mode"
                    .to_owned(),
            );
        }
        if map.contains_key("prefixItems") {
            return Err(
                "tuples (prefixItems) cannot be expressed in strict mode; use a struct".to_owned(),
            );
        }
        if bare_ref(map) {
            return Ok(());
        }
        one_of_as_any_of(map);
        for k in [
            "uniqueItems",
            "minProperties",
            "maxProperties",
            "default",
            "examples",
        ] {
            map.remove(k);
        }
        if let Some(Value::String(f)) = map.get("format") {
            if !FORMATS.contains(&f.as_str()) {
                map.remove("format");
            }
        }
        if is_object_schema(map) {
            match map.get("additionalProperties") {
                Some(Value::Object(_)) | Some(Value::Bool(true)) => {
                    return Err("maps (HashMap/BTreeMap) have no fixed keys and cannot be expressed in strict mode; use a Vec of key/value structs".to_owned())
                }
                _ => {}
            }
            let required: Vec<String> = map
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let mut all = Vec::new();
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                for (name, prop) in props.iter_mut() {
                    if !required.contains(name) {
                        let nullable = prop.as_object().is_some_and(accepts_null);
                        if !nullable {
                            *prop = instructor_core::schema::nullable(prop.take());
                        }
                    }
                    all.push(Value::from(name.as_str()));
                }
            }
            map.insert("required".to_owned(), Value::Array(all));
            map.insert("additionalProperties".to_owned(), Value::Bool(false));
            map.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
        }
        Ok(())
    })
}

/// The schema with every `$ref` replaced by its definition and `$defs` removed, for servers
/// that cannot follow references (Ollama). Recursive types cannot be inlined.
///
/// ```
/// use serde_json::json;
/// let s = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}}, "$defs": {"A": {"type": "string"}}});
/// let inlined = instructor_providers::dialect::inline_refs(&s).unwrap();
/// assert_eq!(inlined, json!({"type": "object", "properties": {"a": {"type": "string"}}}));
/// ```
pub fn inline_refs(schema: &Value) -> Result<Value, String> {
    let defs = schema
        .get("$defs")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut out = schema.clone();
    if let Value::Object(map) = &mut out {
        map.remove("$defs");
    }
    let mut stack = Vec::new();
    inline(&mut out, &defs, &mut stack)?;
    Ok(out)
}

fn inline(v: &mut Value, defs: &Map<String, Value>, stack: &mut Vec<String>) -> Result<(), String> {
    match v {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                .map(str::to_owned)
            {
                if stack.contains(&name) {
                    return Err(format!(
                        "`{name}` is recursive, and this provider cannot follow schema references; use a non-recursive type"
                    ));
                }
                let mut body = defs
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| format!("missing definition `{name}`"))?;
                stack.push(name);
                inline(&mut body, defs, stack)?;
                stack.pop();
                map.remove("$ref");
                if let Value::Object(body) = body {
                    for (k, val) in body {
                        map.entry(k).or_insert(val);
                    }
                }
                return Ok(());
            }
            for child in map.values_mut() {
                inline(child, defs, stack)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| inline(i, defs, stack)),
        _ => Ok(()),
    }
}

const GEMINI_KEYWORDS: &[&str] = &[
    "$id",
    "$defs",
    "$ref",
    "$anchor",
    "type",
    "format",
    "title",
    "description",
    "enum",
    "items",
    "prefixItems",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "anyOf",
    "oneOf",
    "properties",
    "additionalProperties",
    "required",
    "propertyOrdering",
];

/// Gemini's `responseJsonSchema` subset: unsupported keywords dropped, `$ref` nodes without
/// siblings, `oneOf` as `anyOf`.
///
/// ```
/// use serde_json::json;
/// let s = json!({"type": "string", "pattern": "^a", "minLength": 1, "description": "x"});
/// assert_eq!(instructor_providers::dialect::gemini(&s).unwrap(), json!({"type": "string", "description": "x"}));
/// ```
pub fn gemini(schema: &Value) -> Result<Value, String> {
    rewritten(schema, &mut |map| {
        if bare_ref(map) {
            return Ok(());
        }
        one_of_as_any_of(map);
        map.retain(|k, _| GEMINI_KEYWORDS.contains(&k.as_str()));
        if matches!(map.get("additionalProperties"), Some(Value::Bool(_))) {
            map.remove("additionalProperties");
        }
        Ok(())
    })
}

const ANTHROPIC_HINTS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "maxItems",
];

/// Anthropic's JSON-output dialect: objects closed, `oneOf` as `anyOf`, and constraints it
/// does not enforce moved into the description as hints (the value is still validated
/// locally). Maps and free-form JSON cannot be expressed.
///
/// ```
/// use serde_json::json;
/// let s = json!({"type": "object", "properties": {"age": {"type": "integer", "maximum": 150}}, "required": ["age"]});
/// let a = instructor_providers::dialect::anthropic(&s).unwrap();
/// assert_eq!(a["properties"]["age"]["description"], "maximum: 150");
/// assert_eq!(a["additionalProperties"], false);
/// ```
pub fn anthropic(schema: &Value) -> Result<Value, String> {
    rewritten(schema, &mut |map| {
        one_of_as_any_of(map);
        let mut hints = Vec::new();
        for k in ANTHROPIC_HINTS {
            if let Some(v) = map.remove(*k) {
                hints.push(format!("{k}: {v}"));
            }
        }
        if let Some(Value::Number(n)) = map.get("minItems") {
            if n.as_u64().is_some_and(|n| n > 1) {
                hints.push(format!("minItems: {n}"));
                map.remove("minItems");
            }
        }
        if let Some(Value::String(f)) = map.get("format") {
            // Anthropic also takes `uri`.
            if f != "uri" && !FORMATS.contains(&f.as_str()) {
                hints.push(format!("format: {f}"));
                map.remove("format");
            }
        }
        for k in ["default", "examples", "prefixItems"] {
            map.remove(k);
        }
        if !hints.is_empty() {
            let mut text = map
                .get("description")
                .and_then(Value::as_str)
                .map(|d| format!("{d} ("))
                .unwrap_or_default();
            text.push_str(&hints.join(", "));
            if text.contains(" (") {
                text.push(')');
            }
            map.insert("description".to_owned(), Value::from(text));
        }
        if is_object_schema(map) {
            if matches!(
                map.get("additionalProperties"),
                Some(Value::Object(_)) | Some(Value::Bool(true))
            ) {
                return Err("maps (HashMap/BTreeMap) cannot be expressed in Anthropic's JSON outputs; use a Vec of key/value structs".to_owned());
            }
            map.insert("additionalProperties".to_owned(), Value::Bool(false));
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strict_rejects_what_it_cannot_express() {
        let map = json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "integer"}}}});
        assert!(openai_strict(&map).unwrap_err().contains("maps"));
        let any = json!({"type": "object", "properties": {"v": {}}});
        assert!(openai_strict(&any)
            .unwrap_err()
            .contains("serde_json::Value"));
    }

    #[test]
    fn strict_keeps_refs_bare_and_turns_one_of_into_any_of() {
        let s = json!({"type": "object", "properties": {
            "a": {"$ref": "#/$defs/A", "description": "x"},
            "e": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
        }, "required": ["a", "e"], "$defs": {"A": {"type": "object", "properties": {"s": {"type": "array", "items": {"type": "integer"}, "uniqueItems": true}}}}});
        let out = openai_strict(&s).unwrap();
        assert_eq!(out["properties"]["a"], json!({"$ref": "#/$defs/A"}));
        assert!(out["properties"]["e"]["anyOf"].is_array());
        assert_eq!(out["$defs"]["A"]["required"], json!(["s"]));
        assert_eq!(
            out["$defs"]["A"]["properties"]["s"]["type"],
            json!(["array", "null"]),
            "the optional field became nullable"
        );
        assert!(out["$defs"]["A"]["properties"]["s"]
            .get("uniqueItems")
            .is_none());
    }

    #[test]
    fn inlining_refuses_recursion() {
        let s = json!({"$ref": "#/$defs/N", "$defs": {"N": {"type": "object", "properties": {"k": {"type": "array", "items": {"$ref": "#/$defs/N"}}}}}});
        assert!(inline_refs(&s).unwrap_err().contains("recursive"));
    }
}
