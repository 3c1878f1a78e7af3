//! `tools`, `tool_choice` and `output_config` for the Messages API (providers.md §3), built
//! once per type. Every mode is answered: the tool modes, `JsonSchema`, `Json` and `MdJson`
//! (the schema in the prompt; the API has no JSON-object switch), and any other as a typed
//! error.

use instructor_core::{Error, Mode, OutputSpec, ToolSpec};
use serde_json::{json, Value};

use crate::dialect::anthropic;
use crate::fragments::{fragment, Frag, Members};
use crate::translate::Declared;

fn tools(output: &OutputSpec, strict: bool, tag: &'static str) -> Result<Frag, Error> {
    let specs: &[ToolSpec] = &output.tools;
    fragment(output, specs, tag, move || {
        specs
            .iter()
            .map(|s| {
                let schema = if strict {
                    anthropic(&s.parameters)?
                } else {
                    s.parameters.clone()
                };
                let mut t = crate::shared::function(s, "input_schema", schema);
                if strict {
                    t["strict"] = Value::Bool(true);
                }
                Ok(t)
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Value::Array)
    })
}

/// `{"type": "tool", "name": ...}`: the one tool, forced.
fn forced(output: &OutputSpec) -> Result<Frag, Error> {
    let specs: &[ToolSpec] = &output.tools;
    fragment(output, specs, "anthropic.choice.tool", || {
        let name = specs.first().map(|s| s.name.as_str()).unwrap_or_default();
        Ok(json!({"type": "tool", "name": name}))
    })
}

/// `tools` + `tool_choice` for tool modes, or `output_config` for `JsonSchema`.
pub(crate) fn members(output: &OutputSpec, declared: &Declared) -> Result<Members, Error> {
    let (specs, none) = (&*output.tools, Members::default());
    Ok(match output.mode {
        Mode::Tools => none
            .with("tools", tools(output, false, "anthropic.tools")?)
            .with("tool_choice", forced(output)?),
        Mode::ToolsStrict => none
            .with("tools", tools(output, true, "anthropic.tools.strict")?)
            .with("tool_choice", forced(output)?),
        Mode::ParallelTools => none
            .with("tools", tools(output, false, "anthropic.tools")?)
            .with(
                "tool_choice",
                fragment(output, specs, "anthropic.choice.any", || {
                    Ok(json!({"type": "any", "disable_parallel_tool_use": false}))
                })?,
            ),
        Mode::JsonSchema => {
            let schema = &*output.schema;
            none.with(
                "output_config",
                fragment(output, schema, "anthropic.output_config", || {
                    Ok(
                        json!({"format": {"type": "json_schema", "schema": anthropic(&schema.request_schema)?}}),
                    )
                })?,
            )
        }
        // The schema is in the prompt.
        Mode::Json | Mode::MdJson => none,
        other => return Err(declared.unsupported(other)),
    })
}
