//! `response_format` (`json_object` with `json_schema`) and `tools` for Cohere v2, built
//! once per type.

use instructor_core::{Error, Mode, OutputSpec};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::fragments::fragment;

static CONSTANT: u8 = 0;

pub(crate) struct Fragments {
    pub response_format: Option<&'static RawValue>,
    pub tools: Option<&'static RawValue>,
    pub tool_choice: Option<&'static str>,
    pub strict_tools: Option<bool>,
}

pub(crate) fn fragments(output: &OutputSpec) -> Result<Fragments, Error> {
    let specs = output.tools;
    let tools = || {
        fragment(specs, "cohere.tools", || {
            Ok(Value::Array(
                specs
                    .iter()
                    .map(|s| {
                        let mut f = json!({"name": s.name, "parameters": s.parameters});
                        if let Some(d) = &s.description {
                            f["description"] = Value::from(d.as_str());
                        }
                        json!({"type": "function", "function": f})
                    })
                    .collect(),
            ))
        })
    };
    let none = Fragments {
        response_format: None,
        tools: None,
        tool_choice: None,
        strict_tools: None,
    };
    Ok(match output.mode {
        Mode::Json => Fragments {
            response_format: Some(fragment(&CONSTANT, "cohere.rf.json", || {
                Ok(json!({"type": "json_object"}))
            })?),
            ..none
        },
        Mode::JsonSchema => {
            let schema = output.schema;
            Fragments {
                response_format: Some(fragment(schema, "cohere.rf.json_schema", || {
                    Ok(json!({"type": "json_object", "json_schema": schema.request_schema}))
                })?),
                ..none
            }
        }
        Mode::Tools | Mode::ParallelTools => Fragments {
            tools: Some(tools()?),
            tool_choice: Some("REQUIRED"),
            ..none
        },
        Mode::ToolsStrict => Fragments {
            tools: Some(tools()?),
            tool_choice: Some("REQUIRED"),
            strict_tools: Some(true),
            ..none
        },
        _ => none,
    })
}
