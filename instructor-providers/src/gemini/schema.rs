//! `responseJsonSchema`, `tools` and `toolConfig` for Gemini, built once per type. The
//! schema goes through the `responseJsonSchema` subset (see [`crate::dialect::gemini`]).

use instructor_core::{Error, Mode, OutputSpec};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::dialect::gemini;
use crate::fragments::fragment;

pub(crate) struct Fragments {
    pub response_json_schema: Option<&'static RawValue>,
    pub json_mime: bool,
    pub tools: Option<&'static RawValue>,
    pub tool_config: Option<&'static RawValue>,
}

pub(crate) fn fragments(output: &OutputSpec) -> Result<Fragments, Error> {
    let specs = output.tools;
    let mut f = Fragments {
        response_json_schema: None,
        json_mime: false,
        tools: None,
        tool_config: None,
    };
    match output.mode {
        Mode::JsonSchema => {
            let schema = output.schema;
            f.json_mime = true;
            f.response_json_schema = Some(fragment(schema, "gemini.response_json_schema", || {
                gemini(&schema.request_schema)
            })?);
        }
        Mode::Json => f.json_mime = true,
        Mode::Tools | Mode::ParallelTools => {
            f.tools = Some(fragment(specs, "gemini.tools", || {
                let declarations = specs
                    .iter()
                    .map(|s| {
                        let mut d =
                            json!({"name": s.name, "parametersJsonSchema": gemini(&s.parameters)?});
                        if let Some(desc) = &s.description {
                            d["description"] = Value::from(desc.as_str());
                        }
                        Ok(d)
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(json!([{"functionDeclarations": declarations}]))
            })?);
            f.tool_config = Some(fragment(specs, "gemini.tool_config", || {
                let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                Ok(json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": names}}))
            })?);
        }
        _ => {}
    }
    Ok(f)
}
