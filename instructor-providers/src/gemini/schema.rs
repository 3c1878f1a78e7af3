//! `responseJsonSchema`, `tools` and `toolConfig` for Gemini (providers.md §4), built once
//! per type. The schema goes through the `responseJsonSchema` subset (see
//! [`crate::dialect::gemini`]). Every mode is answered: `JsonSchema`, `Json` (the JSON MIME
//! type), the tool modes, `MdJson` (the schema in the prompt), and any other (strict tools,
//! which the API does not have) as a typed error.

use instructor_core::{Error, Mode, OutputSpec};
use serde_json::json;

use crate::dialect::gemini;
use crate::fragments::{constant, fragment, Members};
use crate::translate::Declared;

/// The members a mode adds at the top level (`tools`, `toolConfig`) and in
/// `generationConfig` (`responseMimeType`, `responseJsonSchema`).
pub(crate) fn members(
    output: &OutputSpec,
    declared: &Declared,
) -> Result<(Members, Members), Error> {
    let (specs, none) = (&*output.tools, Members::default());
    let json = || constant("gemini.mime.json", || json!("application/json"));
    Ok(match output.mode {
        Mode::JsonSchema => {
            let schema = &*output.schema;
            let config = none.with("responseMimeType", json()?).with(
                "responseJsonSchema",
                fragment(output, schema, "gemini.response_json_schema", || {
                    gemini(&schema.request_schema)
                })?,
            );
            (Members::default(), config)
        }
        Mode::Json => (Members::default(), none.with("responseMimeType", json()?)),
        Mode::Tools | Mode::ParallelTools => {
            let tools = fragment(output, specs, "gemini.tools", || {
                let declarations = specs
                    .iter()
                    .map(|s| {
                        let parameters = gemini(&s.parameters)?;
                        Ok(crate::shared::function(
                            s,
                            "parametersJsonSchema",
                            parameters,
                        ))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                Ok(json!([{"functionDeclarations": declarations}]))
            })?;
            let config = fragment(output, specs, "gemini.tool_config", || {
                let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
                Ok(json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": names}}))
            })?;
            let top = none.with("tools", tools).with("toolConfig", config);
            (top, Members::default())
        }
        // The schema is in the prompt.
        Mode::MdJson => (none, Members::default()),
        other => return Err(declared.unsupported(other)),
    })
}
