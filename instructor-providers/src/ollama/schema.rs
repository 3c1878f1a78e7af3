//! `format` (the schema with `$ref`s inlined, since Ollama cannot follow them, or `"json"`)
//! and `tools` for Ollama's native API, built once per type. Every mode is answered: the JSON
//! modes, the tool modes, `MdJson` (the schema in the prompt), and any other (strict tools,
//! grammars) as a typed error.

use instructor_core::{Error, Mode, OutputSpec};
use serde_json::{json, Value};

use crate::dialect::inline_refs;
use crate::fragments::{constant, fragment, Members};
use crate::translate::Declared;

pub(crate) fn members(output: &OutputSpec, declared: &Declared) -> Result<Members, Error> {
    let (specs, none) = (&*output.tools, Members::default());
    Ok(match output.mode {
        Mode::Json => none.with("format", constant("ollama.format.json", || json!("json"))?),
        Mode::JsonSchema => {
            let schema = &*output.schema;
            none.with(
                "format",
                fragment(output, schema, "ollama.format.schema", || {
                    inline_refs(&schema.request_schema)
                })?,
            )
        }
        Mode::Tools | Mode::ParallelTools => none.with(
            "tools",
            fragment(output, specs, "ollama.tools", || {
                specs
                    .iter()
                    .map(|s| {
                        let parameters = inline_refs(&s.parameters)?;
                        let f = crate::shared::function(s, "parameters", parameters);
                        Ok(json!({"type": "function", "function": f}))
                    })
                    .collect::<Result<Vec<_>, String>>()
                    .map(Value::Array)
            })?,
        ),
        // The schema is in the prompt.
        Mode::MdJson => none,
        other => return Err(declared.unsupported(other)),
    })
}
