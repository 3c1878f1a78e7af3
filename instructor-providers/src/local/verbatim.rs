//! `#[instruct(verbatim)]` as a decoding constraint under llguidance: a verbatim string
//! property of the answer's root object can only be a run of whole words (and the
//! characters between them) of one of the call's user texts, so the model cannot invent a
//! name or a city. The rest of the object is held to its schema as before.
//!
//! The grammar is Lark: the object's keys written in the fixed layout, each other property
//! an embedded `%json` schema, and the verbatim ones a `%regex` over the substrings of the
//! user texts. The part that depends on the type is built once per type; only the
//! substring terminal is written per call. Verbatim fields nested deeper are checked after
//! parsing only, as on every provider.

use instructor_core::{Message, Role};
use serde_json::Value;

use super::guidance::with_layout;

/// The type's part of a verbatim grammar.
#[derive(Debug)]
pub(crate) struct Verbatim {
    /// Every rule but the terminal of the user texts.
    rules: String,
}

/// Whether a property is a verbatim string: its description ends with the note the derive
/// adds, and it is a string, or a string or null.
fn verbatim_string(prop: &Value) -> Option<bool> {
    let described = prop
        .get("description")
        .and_then(Value::as_str)
        .is_some_and(|d| d.ends_with(instructor_core::__private::VERBATIM_NOTE));
    if !described {
        return None;
    }
    match prop.get("type")? {
        Value::String(t) if t == "string" => Some(false),
        Value::Array(ts) if ts.len() == 2 && ts.contains(&"string".into()) => {
            ts.contains(&"null".into()).then_some(true)
        }
        _ => None,
    }
}

/// A Lark string literal for `text`.
fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

impl Verbatim {
    /// The grammar's rules for `schema` (a request schema), or `None` when no property of
    /// its root object is a verbatim string.
    pub fn build(schema: &Value) -> Option<Self> {
        let props = schema.get("properties")?.as_object()?;
        if !props.values().any(|p| verbatim_string(p).is_some()) {
            return None;
        }
        let mut start = String::from("start: \"{\"");
        let mut rules = String::new();
        for (i, (key, prop)) in props.iter().enumerate() {
            let key = serde_json::to_string(key).ok()?;
            let lead = if i == 0 { "" } else { ", " };
            start.push_str(&format!(" {} p{i}", literal(&format!("{lead}{key}: "))));
            match verbatim_string(prop) {
                Some(nullable) => {
                    let null = if nullable { " | \"null\"" } else { "" };
                    rules.push_str(&format!("p{i}: VERBATIM{null}\n"));
                }
                None => {
                    let mut sub = prop.clone();
                    if let (Some(defs), Some(map)) = (schema.get("$defs"), sub.as_object_mut()) {
                        map.insert("$defs".to_owned(), defs.clone());
                    }
                    let sub = serde_json::to_string(&with_layout(&sub)).ok()?;
                    rules.push_str(&format!("p{i}: %json {sub}\n"));
                }
            }
        }
        start.push_str(" \"}\"\n");
        Some(Self {
            rules: start + &rules,
        })
    }

    /// The whole grammar for a call whose messages are `messages`: a verbatim value is a
    /// run of whole words of one user text. `None` when the call has no user text.
    pub fn grammar(&self, messages: &[Message]) -> Option<String> {
        let mut sources: Vec<String> = Vec::new();
        for m in messages.iter().filter(|m| m.role == Role::User) {
            let text = m.text();
            if !text.trim().is_empty() && !sources.contains(&text) {
                sources.push(text);
            }
        }
        if sources.is_empty() {
            return None;
        }
        let mut out = self.rules.clone();
        let names: Vec<String> = (0..sources.len()).map(|k| format!("TEXT{k}")).collect();
        out.push_str(&format!(
            "VERBATIM: \"\\\"\" ({}) \"\\\"\"\n",
            names.join(" | ")
        ));
        for (name, text) in names.iter().zip(&sources) {
            let chunks = serde_json::to_string(&chunks(text)).ok()?;
            out.push_str(&format!(
                "{name}: %regex {{\"substring_chunks\": {chunks}}}\n"
            ));
        }
        Some(out)
    }
}

/// `text` as it is written inside a JSON string, cut into the pieces a copied value starts
/// and ends between: each run of letters and digits is one piece, every other character
/// (escaped as JSON escapes it) another.
fn chunks(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
        let escaped = serde_json::to_string(&c.to_string()).unwrap_or_default();
        out.push(escaped[1..escaped.len() - 1].to_owned());
    }
    if !word.is_empty() {
        out.push(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        let note = instructor_core::__private::VERBATIM_NOTE;
        json!({"type": "object", "properties": {
            "name": {"type": "string", "description": format!("First name. {note}")},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "city": {"type": ["string", "null"], "description": note},
        }, "required": ["name", "age"]})
    }

    #[test]
    fn only_types_with_a_verbatim_root_string_get_a_grammar() {
        assert!(Verbatim::build(&json!({"type": "object", "properties": {
            "name": {"type": "string", "description": "First name."}}}))
        .is_none());
        assert!(Verbatim::build(&json!({"type": "array"})).is_none());
        assert!(Verbatim::build(&schema()).is_some());
    }

    #[test]
    fn the_grammar_writes_every_key_and_copies_from_the_user_texts() {
        let v = Verbatim::build(&schema()).unwrap();
        let messages = [
            Message::system("Not a source."),
            Message::user("Jason \"J\" Bourne, 30."),
        ];
        let g = v.grammar(&messages).unwrap();
        assert!(
            g.starts_with(r#"start: "{" "\"name\": " p0 ", \"age\": " p1 ", \"city\": " p2 "}""#),
            "{g}"
        );
        assert!(g.contains("p0: VERBATIM\n"), "{g}");
        assert!(g.contains("p1: %json {"), "{g}");
        assert!(g.contains("p2: VERBATIM | \"null\"\n"), "{g}");
        assert!(g.contains("VERBATIM: \"\\\"\" (TEXT0) \"\\\"\""), "{g}");
        assert!(!g.contains("Not a source"), "{g}");
        assert!(v.grammar(&[Message::system("x")]).is_none());
    }

    #[test]
    fn pieces_are_whole_words_and_escaped_characters() {
        assert_eq!(
            chunks("Zoë \"O'Neil\"\n"),
            ["Zoë", " ", "\\\"", "O", "'", "Neil", "\\\"", "\\n"]
        );
    }
}
