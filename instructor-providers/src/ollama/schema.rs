//! `format` (the schema with `$ref`s inlined, since Ollama cannot follow them, or
//! `"json"`) and `tools` for Ollama's native API, built once per type.

use instructor_core::{Error, Mode, OutputSpec};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::dialect::inline_refs;
use crate::fragments::fragment;

static CONSTANT: u8 = 0;

pub(crate) fn format(output: &OutputSpec) -> Result<Option<&'static RawValue>, Error> {
    match output.mode {
        Mode::Json => Ok(Some(fragment(&CONSTANT, "ollama.format.json", || {
            Ok(json!("json"))
        })?)),
        Mode::JsonSchema => {
            let schema = output.schema;
            Ok(Some(fragment(schema, "ollama.format.schema", || {
                inline_refs(&schema.request_schema)
            })?))
        }
        _ => Ok(None),
    }
}

pub(crate) fn tools(output: &OutputSpec) -> Result<Option<&'static RawValue>, Error> {
    if !matches!(output.mode, Mode::Tools | Mode::ParallelTools) {
        return Ok(None);
    }
    let specs = output.tools;
    Ok(Some(fragment(specs, "ollama.tools", || {
        specs
            .iter()
            .map(|s| {
                let mut f = json!({"name": s.name, "parameters": inline_refs(&s.parameters)?});
                if let Some(d) = &s.description {
                    f["description"] = Value::from(d.as_str());
                }
                Ok(json!({"type": "function", "function": f}))
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Value::Array)
    })?))
}
