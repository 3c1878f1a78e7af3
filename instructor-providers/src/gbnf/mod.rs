//! JSON Schema → GBNF (llama.cpp's grammar format), written for small models: at most one
//! space between tokens, every key of an object in schema order, integers bounded exactly
//! by their `minimum`/`maximum` (a `u8` cannot run to 1000000000000000), other numbers by
//! digit count, and `enum`, `const`, `pattern`, `format`, `minLength`/`maxLength`,
//! `minItems`/`maxItems` honoured. `$defs` become rules, so recursive types work.
//!
//! Optional properties are written too, as `null` when the schema allows it: a fixed key
//! order leaves a base model nothing to decide but the values.

mod numbers;
mod pattern;

use std::collections::HashMap;

use serde_json::{Map, Value};

const BASE: &str = r#"ws ::= " "?
char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
string ::= "\"" char* "\""
boolean ::= "true" | "false"
null ::= "null"
number ::= "-"? ("0" | [1-9] [0-9]{0,15}) ("." [0-9]{1,8})?
value ::= object-any | array-any | string | number | boolean | null
object-any ::= "{" (string ":" ws value ("," ws string ":" ws value)*)? "}"
array-any ::= "[" (value ("," ws value)*)? "]"
"#;

/// Compiles a JSON schema into a GBNF grammar whose start rule is `root`.
///
/// ```
/// use serde_json::json;
/// let g = instructor_providers::gbnf::compile(&json!({
///     "type": "object",
///     "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0, "maximum": 150}},
///     "required": ["name", "age"]
/// })).unwrap();
/// assert!(g.starts_with("root ::= "));
/// assert!(g.contains(r#""\"name\"" ":" ws"#));
/// ```
pub fn compile(schema: &Value) -> Result<String, String> {
    let mut c = Compiler {
        root: schema,
        rules: Vec::new(),
        defs: HashMap::new(),
        memo: HashMap::new(),
    };
    let root = c.expr(schema, "root")?;
    let mut out = format!("root ::= {root}\n");
    for (name, body) in &c.rules {
        out.push_str(&format!("{name} ::= {body}\n"));
    }
    out.push_str(BASE);
    Ok(out)
}

struct Compiler<'a> {
    root: &'a Value,
    rules: Vec<(String, String)>,
    /// `$defs` name → rule name.
    defs: HashMap<String, String>,
    /// Rule body → rule name, so identical sub-grammars are written once.
    memo: HashMap<String, String>,
}

/// A GBNF literal for `text`.
fn lit(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value as a grammar literal (its serialized text).
fn json_lit(v: &Value) -> String {
    lit(&v.to_string())
}

fn rule_name(hint: &str) -> String {
    let mut name: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.truncate(40);
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name.insert_str(0, "r-");
    }
    name
}

/// One expression of `alts`: the only one bare, several grouped as a choice.
fn alternatives(alts: Vec<String>) -> String {
    if alts.len() == 1 {
        alts.into_iter().next().unwrap_or_default()
    } else {
        format!("({})", alts.join(" | "))
    }
}

fn num(map: &Map<String, Value>, key: &str) -> Option<f64> {
    map.get(key).and_then(Value::as_f64)
}

fn count(map: &Map<String, Value>, key: &str) -> Option<u64> {
    map.get(key).and_then(Value::as_u64)
}

/// `{m,n}` for a repetition.
fn repeat(min: u64, max: Option<u64>) -> String {
    match (min, max) {
        (0, None) => "*".to_owned(),
        (1, None) => "+".to_owned(),
        (m, None) => format!("{{{m},}}"),
        (m, Some(n)) if m == n => format!("{{{m}}}"),
        (m, Some(n)) => format!("{{{m},{n}}}"),
    }
}

impl Compiler<'_> {
    /// Names a rule, reusing one with the same body.
    fn rule(&mut self, hint: &str, body: String) -> String {
        if let Some(name) = self.memo.get(&body) {
            return name.clone();
        }
        let base = rule_name(hint);
        let mut name = base.clone();
        let mut n = 1;
        while self.rules.iter().any(|(r, _)| *r == name)
            || [
                "root",
                "ws",
                "char",
                "string",
                "boolean",
                "null",
                "number",
                "value",
                "object-any",
                "array-any",
            ]
            .contains(&name.as_str())
        {
            n += 1;
            name = format!("{base}-{n}");
        }
        self.memo.insert(body.clone(), name.clone());
        self.rules.push((name.clone(), body));
        name
    }

    fn reference(&mut self, r: &str) -> Result<String, String> {
        let name = r
            .strip_prefix("#/$defs/")
            .ok_or_else(|| format!("unsupported reference `{r}` (only #/$defs/... is followed)"))?;
        if let Some(rule) = self.defs.get(name) {
            return Ok(rule.clone());
        }
        let body = self
            .root
            .get("$defs")
            .and_then(|d| d.get(name))
            .ok_or_else(|| format!("missing definition `{name}`"))?;
        // Reserve the name first so a recursive reference finds it.
        let rule = rule_name(&format!("def-{name}"));
        self.defs.insert(name.to_owned(), rule.clone());
        self.rules.push((rule.clone(), String::new()));
        let expr = self.expr(body, name)?;
        if let Some(slot) = self.rules.iter_mut().find(|(r, _)| *r == rule) {
            slot.1 = expr;
        }
        Ok(rule)
    }

    /// A grammar expression for `schema`.
    fn expr(&mut self, schema: &Value, hint: &str) -> Result<String, String> {
        let map = match schema {
            Value::Bool(true) => return Ok("value".to_owned()),
            Value::Bool(false) => return Err("a `false` schema allows nothing".to_owned()),
            Value::Object(m) => m,
            _ => return Err(format!("not a schema: {schema}")),
        };
        if let Some(Value::String(r)) = map.get("$ref") {
            return self.reference(r);
        }
        if let Some(v) = map.get("const") {
            return Ok(json_lit(v));
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            return Ok(alternatives(values.iter().map(json_lit).collect()));
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(key) {
                let alts = branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let e = self.expr(b, &format!("{hint}-{i}"))?;
                        Ok(self.rule(&format!("{hint}-{i}"), e))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                return Ok(alternatives(alts));
            }
        }
        if let Some(Value::Array(all)) = map.get("allOf") {
            return match all.as_slice() {
                [only] => self.expr(only, hint),
                _ => Err("allOf with several schemas is not supported in grammars".to_owned()),
            };
        }
        match map.get("type") {
            Some(Value::String(t)) => self.typed(t, map, hint),
            Some(Value::Array(types)) => {
                let alts = types
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|t| self.typed(t, map, hint))
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(alternatives(alts))
            }
            _ if map.contains_key("properties") => self.typed("object", map, hint),
            _ if map.contains_key("items") => self.typed("array", map, hint),
            _ => Ok("value".to_owned()),
        }
    }

    fn typed(&mut self, t: &str, map: &Map<String, Value>, hint: &str) -> Result<String, String> {
        match t {
            "null" => Ok("null".to_owned()),
            "boolean" => Ok("boolean".to_owned()),
            "integer" => Ok(self.integer(map)),
            "number" => Ok(self.number(map)),
            "string" => self.string(map),
            "array" => self.array(map, hint),
            "object" => self.object(map, hint),
            other => Err(format!("unknown type `{other}`")),
        }
    }

    fn integer(&mut self, map: &Map<String, Value>) -> String {
        let lo = num(map, "minimum")
            .map(|m| m.ceil())
            .or(num(map, "exclusiveMinimum").map(|m| m.floor() + 1.0));
        let hi = num(map, "maximum")
            .map(|m| m.floor())
            .or(num(map, "exclusiveMaximum").map(|m| m.ceil() - 1.0));
        const LIMIT: f64 = 1.0e36;
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo.abs() < LIMIT && hi.abs() < LIMIT => {
                let body = numbers::int_range(lo as i128, hi as i128);
                self.rule(&format!("int-{lo}-{hi}"), body)
            }
            (Some(lo), _) if lo >= 0.0 => numbers::int_digits(18, false),
            _ => numbers::int_digits(18, true),
        }
    }

    fn number(&mut self, map: &Map<String, Value>) -> String {
        let lo = num(map, "minimum").or(num(map, "exclusiveMinimum"));
        let hi = num(map, "maximum").or(num(map, "exclusiveMaximum"));
        let fraction = "(\".\" [0-9]{1,8})?";
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo >= 0.0 && hi < 1.0e15 => {
                let int = numbers::int_range(lo.floor() as i128, hi.floor() as i128);
                self.rule(&format!("num-{lo}-{hi}"), format!("{int} {fraction}"))
            }
            (Some(lo), _) if lo >= 0.0 => format!("{} {fraction}", numbers::int_digits(16, false)),
            _ => "number".to_owned(),
        }
    }

    fn string(&mut self, map: &Map<String, Value>) -> Result<String, String> {
        if let Some(Value::String(p)) = map.get("pattern") {
            let body = pattern::pattern(p, "char")?;
            return Ok(self.rule("pattern", format!("\"\\\"\" {body} \"\\\"\"")));
        }
        let body = match map.get("format").and_then(Value::as_str) {
            Some("date") => Some(r#"[0-9]{4} "-" [0-1] [0-9] "-" [0-3] [0-9]"#.to_owned()),
            Some("time") => Some(r#"[0-2] [0-9] ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] [0-2] [0-9] ":" [0-5] [0-9])?"#.to_owned()),
            Some("date-time") => Some(r#"[0-9]{4} "-" [0-1] [0-9] "-" [0-3] [0-9] "T" [0-2] [0-9] ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] [0-2] [0-9] ":" [0-5] [0-9])"#.to_owned()),
            Some("uuid") => Some(r#"[0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}"#.to_owned()),
            Some("email") => Some(r#"[^"\\@ \x00-\x1F]+ "@" [^"\\@. \x00-\x1F]+ ("." [^"\\@. \x00-\x1F]+)+"#.to_owned()),
            Some("uri") => Some(r#"[a-zA-Z] [a-zA-Z0-9+.-]* "://" [^"\\ \x00-\x1F]+"#.to_owned()),
            _ => None,
        };
        if let Some(body) = body {
            return Ok(self.rule("format", format!("\"\\\"\" {body} \"\\\"\"")));
        }
        let min = count(map, "minLength").unwrap_or(0);
        let max = count(map, "maxLength");
        if min == 0 && max.is_none() {
            return Ok("string".to_owned());
        }
        Ok(self.rule(
            &format!("string-{min}"),
            format!("\"\\\"\" char{} \"\\\"\"", repeat(min, max)),
        ))
    }

    fn array(&mut self, map: &Map<String, Value>, hint: &str) -> Result<String, String> {
        if let Some(Value::Array(prefix)) = map.get("prefixItems") {
            let items = prefix
                .iter()
                .enumerate()
                .map(|(i, s)| self.expr(s, &format!("{hint}-{i}")))
                .collect::<Result<Vec<_>, String>>()?;
            let body = format!("\"[\" {} \"]\"", items.join(" \",\" ws "));
            return Ok(self.rule(&format!("{hint}-tuple"), body));
        }
        let item = match map.get("items") {
            Some(items) => self.expr(items, &format!("{hint}-item"))?,
            None => "value".to_owned(),
        };
        let min = count(map, "minItems").unwrap_or(0);
        let max = count(map, "maxItems");
        let body = match (min, max) {
            (_, Some(0)) => "\"[\" \"]\"".to_owned(),
            (0, max) => format!(
                "\"[\" ({item} (\",\" ws {item}){})? \"]\"",
                repeat(0, max.map(|m| m - 1))
            ),
            (min, max) => format!(
                "\"[\" {item} (\",\" ws {item}){} \"]\"",
                repeat(min - 1, max.map(|m| m - 1))
            ),
        };
        Ok(self.rule(&format!("{hint}-list"), body))
    }

    fn object(&mut self, map: &Map<String, Value>, hint: &str) -> Result<String, String> {
        let props = map.get("properties").and_then(Value::as_object);
        if props.is_none_or(|p| p.is_empty()) {
            return match map.get("additionalProperties") {
                Some(v @ Value::Object(_)) => {
                    let value = self.expr(v, &format!("{hint}-value"))?;
                    let body = format!(
                        "\"{{\" (string \":\" ws {value} (\",\" ws string \":\" ws {value})*)? \"}}\""
                    );
                    Ok(self.rule(&format!("{hint}-map"), body))
                }
                Some(Value::Bool(false)) => Ok("\"{\" \"}\"".to_owned()),
                _ => Ok("object-any".to_owned()),
            };
        }
        let mut parts = Vec::new();
        for (key, schema) in props.into_iter().flatten() {
            let value = self.expr(schema, &format!("{hint}-{key}"))?;
            parts.push(format!(
                "{} \":\" ws {value}",
                json_lit(&Value::from(key.as_str()))
            ));
        }
        let body = format!("\"{{\" {} \"}}\"", parts.join(" \",\" ws "));
        Ok(self.rule(hint, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_write_every_key_in_order() {
        let g = compile(&json!({"type": "object", "properties": {
            "name": {"type": "string"}, "city": {"type": ["string", "null"]}
        }, "required": ["name"]}))
        .unwrap();
        assert!(
            g.contains(r#"root ::= root-2"#) || g.contains(r#"root ::= root"#),
            "{g}"
        );
        assert!(
            g.contains(r#""\"name\"" ":" ws string "," ws "\"city\"" ":" ws (string | null)"#),
            "{g}"
        );
    }

    #[test]
    fn bounded_integers_and_lists() {
        let g = compile(&json!({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 255}, "maxItems": 3})).unwrap();
        assert!(
            g.contains("[0-9]") && g.contains("\"2\" \"5\" [0-5]"),
            "{g}"
        );
        assert!(g.contains("{0,2}"), "{g}");
    }

    #[test]
    fn refs_become_rules_and_recursion_works() {
        let g = compile(
            &json!({"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
                "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}}}),
        )
        .unwrap();
        assert!(g.contains("def-node ::= "), "{g}");
        assert!(g.matches("def-node").count() >= 3, "{g}");
    }

    #[test]
    fn enums_and_consts_are_literals() {
        let g = compile(&json!({"type": "string", "enum": ["a\"b", "c"]})).unwrap();
        assert!(g.starts_with(r#"root ::= ("\"a\\\"b\"" | "\"c\"")"#), "{g}");
    }

    #[test]
    fn unsupported_references_are_errors() {
        assert!(compile(&json!({"$ref": "http://x/y"})).is_err());
        assert!(compile(&json!(false)).is_err());
    }
}
