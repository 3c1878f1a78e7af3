//! `tools`, `tool_choice` and `output_config` for the Messages API, built once per type.

use instructor_core::{Error, Mode, OutputSpec};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::dialect::anthropic;
use crate::fragments::fragment;

/// `tools` + `tool_choice` for tool modes, or `output_config` for `JsonSchema`.
pub(crate) struct Fragments {
    pub tools: Option<&'static RawValue>,
    pub tool_choice: Option<&'static RawValue>,
    pub output_config: Option<&'static RawValue>,
}

pub(crate) fn fragments(output: &OutputSpec) -> Result<Fragments, Error> {
    let specs = output.tools;
    let tools = |strict: bool, tag: &'static str| {
        fragment(specs, tag, move || {
            specs
                .iter()
                .map(|s| {
                    let schema = if strict {
                        anthropic(&s.parameters)?
                    } else {
                        s.parameters.clone()
                    };
                    let mut t = json!({"name": s.name, "input_schema": schema});
                    if let Some(d) = &s.description {
                        t["description"] = Value::from(d.as_str());
                    }
                    if strict {
                        t["strict"] = Value::Bool(true);
                    }
                    Ok(t)
                })
                .collect::<Result<Vec<_>, String>>()
                .map(Value::Array)
        })
    };
    let forced = || {
        fragment(specs, "anthropic.choice.tool", || {
            let name = specs.first().map(|s| s.name.as_str()).unwrap_or_default();
            Ok(json!({"type": "tool", "name": name}))
        })
    };
    Ok(match output.mode {
        Mode::Tools => Fragments {
            tools: Some(tools(false, "anthropic.tools")?),
            tool_choice: Some(forced()?),
            output_config: None,
        },
        Mode::ToolsStrict => Fragments {
            tools: Some(tools(true, "anthropic.tools.strict")?),
            tool_choice: Some(forced()?),
            output_config: None,
        },
        Mode::ParallelTools => Fragments {
            tools: Some(tools(false, "anthropic.tools")?),
            tool_choice: Some(fragment(specs, "anthropic.choice.any", || {
                Ok(json!({"type": "any", "disable_parallel_tool_use": false}))
            })?),
            output_config: None,
        },
        Mode::JsonSchema => {
            let schema = output.schema;
            Fragments {
                tools: None,
                tool_choice: None,
                output_config: Some(fragment(schema, "anthropic.output_config", || {
                    Ok(
                        json!({"format": {"type": "json_schema", "schema": anthropic(&schema.request_schema)?}}),
                    )
                })?),
            }
        }
        _ => Fragments {
            tools: None,
            tool_choice: None,
            output_config: None,
        },
    })
}
