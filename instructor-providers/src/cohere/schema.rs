//! `response_format` (`json_object` with `json_schema`) and `tools` for Cohere v2
//! (providers.md §15), built once per type. Every mode is answered: the JSON modes, the tool
//! modes, `MdJson` (the schema in the prompt), and any other as a typed error.

use instructor_core::{Error, Mode, OutputSpec, ToolSpec};
use serde_json::{json, Value};

use crate::fragments::{constant, fragment, Frag, Members};
use crate::translate::Declared;

/// `tools` and `tool_choice: REQUIRED` (with `strict_tools` when strict).
fn tools(output: &OutputSpec, strict: bool) -> Result<Members, Error> {
    let specs: &[ToolSpec] = &output.tools;
    let tools: Frag = fragment(output, specs, "cohere.tools", || {
        Ok(Value::Array(
            specs
                .iter()
                .map(|s| {
                    let f = crate::shared::function(s, "parameters", s.parameters.clone());
                    json!({"type": "function", "function": f})
                })
                .collect(),
        ))
    })?;
    let members = Members::default().with("tools", tools).with(
        "tool_choice",
        constant("cohere.required", || json!("REQUIRED"))?,
    );
    Ok(match strict {
        true => members.with("strict_tools", constant("true", || json!(true))?),
        false => members,
    })
}

pub(crate) fn members(output: &OutputSpec, declared: &Declared) -> Result<Members, Error> {
    let none = Members::default();
    Ok(match output.mode {
        Mode::Json => none.with(
            "response_format",
            constant("cohere.rf.json", || json!({"type": "json_object"}))?,
        ),
        Mode::JsonSchema => {
            let schema = &*output.schema;
            none.with(
                "response_format",
                fragment(output, schema, "cohere.rf.json_schema", || {
                    Ok(json!({"type": "json_object", "json_schema": schema.request_schema}))
                })?,
            )
        }
        Mode::Tools | Mode::ParallelTools => tools(output, false)?,
        Mode::ToolsStrict => tools(output, true)?,
        // The schema is in the prompt.
        Mode::MdJson => none,
        other => return Err(declared.unsupported(other)),
    })
}
