//! Prompts for a local model: the model's own chat template when its GGUF has one, a
//! built-in Gemma turn format for Gemma models without one, a plain format otherwise. All
//! turns are kept (system text goes into the first user turn where the format has no system
//! role). For grammar-constrained extraction an instruction derived from the schema leads.

use instructor_core::{Message, Role, TypeSchema};
use serde_json::Value;

/// How a local model's prompt is written.
///
/// ```
/// use instructor_providers::{LocalOptions, PromptFormat};
/// let o = LocalOptions { format: Some(PromptFormat::Gemma), ..LocalOptions::default() };
/// # let _ = o;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// The GGUF's chat template, applied by llama.cpp.
    Template,
    /// `<start_of_turn>user\n…<end_of_turn>\n<start_of_turn>model\n`.
    Gemma,
    /// `User: …\nAssistant: …`.
    Plain,
}

/// Plain turns, ready for a template or a built-in format.
pub(crate) struct Turn {
    pub role: &'static str,
    pub text: String,
}

/// The schema a property's `$ref` points to, or the property itself.
fn resolve<'a>(root: &'a Value, prop: &'a Value) -> &'a Value {
    prop.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs").and_then(|d| d.get(name)))
        .unwrap_or(prop)
}

/// One line per property: name, kind (the allowed values of an enum) and description.
fn fields(root: &Value, schema: &Value, out: &mut String) {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let target = resolve(root, prop);
        let kind = if let Some(Value::Array(values)) = target.get("enum") {
            let values: Vec<String> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect();
            format!("one of: {}", values.join(", "))
        } else {
            match target.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" or "),
                _ => "value".to_owned(),
            }
        };
        out.push_str(&format!("- {name} ({kind})"));
        if let Some(d) = prop
            .get("description")
            .or_else(|| target.get("description"))
            .and_then(Value::as_str)
        {
            out.push_str(": ");
            out.push_str(d);
        }
        out.push('\n');
    }
}

/// Writes JSON as the fixed layout of the llguidance engine does: one space after `:` and
/// `,`, none elsewhere.
struct Spaced;

impl serde_json::ser::Formatter for Spaced {
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        separator(writer, first)
    }
}

/// `, ` before every member or element but the first.
fn separator<W: ?Sized + std::io::Write>(writer: &mut W, first: bool) -> std::io::Result<()> {
    if first {
        Ok(())
    } else {
        writer.write_all(b", ")
    }
}

/// `value` in the layout an answer is held to: compact (the model chooses its spacing
/// under the GBNF grammar, which allows at most one space), or spaced as llguidance's
/// fixed layout writes it, so the examples a prompt shows are written as the answer must be.
pub(crate) fn json_text(value: &Value, spaced: bool) -> String {
    if !spaced {
        return value.to_string();
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    match serde::Serialize::serialize(value, &mut ser) {
        Ok(()) => String::from_utf8(out).unwrap_or_else(|_| value.to_string()),
        Err(_) => value.to_string(),
    }
}

/// A JSON answer in a turn, rewritten in the spaced layout (other text is kept).
fn respaced(text: String) -> String {
    let trimmed = text.trim();
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return text;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => json_text(&value, true),
        Err(_) => text,
    }
}

/// The instruction for an extraction of `schema` (built once per type), its examples in
/// the compact or the spaced layout.
pub(crate) fn instruction(schema: &TypeSchema, spaced: bool) -> String {
    let mut text = String::from("Extract the data from the text below as JSON.");
    if let Some(d) = &schema.description {
        text.push(' ');
        text.push_str(d);
    }
    let mut list = String::new();
    fields(&schema.request_schema, &schema.request_schema, &mut list);
    if !list.is_empty() {
        text.push_str("\nFields:\n");
        text.push_str(&list);
    }
    for example in &schema.examples {
        text.push_str("Example answer: ");
        text.push_str(&json_text(example, spaced));
        text.push('\n');
    }
    text
}

/// The conversation as turns, the instruction (if any) leading the first user turn, system
/// text merged into it; with `spaced`, the JSON answers of earlier turns (worked examples,
/// re-asked answers) rewritten in the spaced layout.
pub(crate) fn turns(messages: &[Message], instruction: Option<&str>, spaced: bool) -> Vec<Turn> {
    let mut system: Vec<String> = instruction.map(str::to_owned).into_iter().collect();
    let mut out: Vec<Turn> = Vec::new();
    for m in messages {
        match m.role {
            Role::System => system.push(m.text()),
            Role::Assistant => {
                let mut text = m.text();
                for call in &m.tool_calls {
                    text.push_str(&call.arguments.to_text());
                }
                if spaced {
                    text = respaced(text);
                }
                out.push(Turn {
                    role: "assistant",
                    text,
                });
            }
            _ => {
                let mut text = m.text();
                if !system.is_empty() && out.iter().all(|t| t.role != "user") {
                    text = format!("{}\n\n{text}", system.join("\n\n"));
                    system.clear();
                }
                out.push(Turn { role: "user", text });
            }
        }
    }
    if !system.is_empty() {
        out.insert(
            0,
            Turn {
                role: "user",
                text: system.join("\n\n"),
            },
        );
    }
    out
}

/// Turns written in a built-in format, ending with the model's turn opened.
pub(crate) fn render(format: &Format, turns: &[Turn]) -> String {
    let mut out = String::new();
    for t in turns {
        match format {
            Format::Gemma => {
                let role = if t.role == "assistant" {
                    "model"
                } else {
                    "user"
                };
                out.push_str(&format!("<start_of_turn>{role}\n{}<end_of_turn>\n", t.text));
            }
            _ => {
                let role = if t.role == "assistant" {
                    "Assistant"
                } else {
                    "User"
                };
                out.push_str(&format!("{role}: {}\n", t.text));
            }
        }
    }
    match format {
        Format::Gemma => out.push_str("<start_of_turn>model\n"),
        _ => out.push_str("Assistant: "),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemma_turns_keep_every_message() {
        let messages = vec![
            Message::system("Be brief."),
            Message::user("Jason is 30"),
            Message::assistant("{\"age\": 300}"),
            Message::user("age must be at most 150"),
        ];
        let t = turns(&messages, Some("Extract."), false);
        let p = render(&Format::Gemma, &t);
        assert_eq!(
            p,
            "<start_of_turn>user\nExtract.\n\nBe brief.\n\nJason is 30<end_of_turn>\n\
             <start_of_turn>model\n{\"age\": 300}<end_of_turn>\n\
             <start_of_turn>user\nage must be at most 150<end_of_turn>\n<start_of_turn>model\n"
        );
        assert!(render(&Format::Plain, &t).ends_with("Assistant: "));
    }

    #[test]
    fn answers_are_shown_in_the_layout_they_are_held_to() {
        let messages = vec![
            Message::user("Lovely."),
            Message::assistant(r#"{"sentiment":"positive","tags":["a","b"]}"#),
        ];
        let t = turns(&messages, None, true);
        assert_eq!(
            t[1].text,
            r#"{"sentiment": "positive", "tags": ["a", "b"]}"#
        );
        let t = turns(&messages, None, false);
        assert_eq!(t[1].text, r#"{"sentiment":"positive","tags":["a","b"]}"#);
        // Text that is not JSON is kept as written.
        let t = turns(&[Message::assistant("not {json")], None, true);
        assert_eq!(t[0].text, "not {json");
    }
}
