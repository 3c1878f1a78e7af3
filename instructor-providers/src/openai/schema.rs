//! The schema-bearing members of a Chat Completions request (`tools`, `tool_choice`,
//! `parallel_tool_calls`, `response_format`; providers.md §1) in each server's shape, built
//! once per type and cached as pre-serialized fragments. Every mode is answered: the ones this family sends a
//! schema for, `MdJson` (the schema is in the prompt), and any other as a typed error.

use instructor_core::{Error, Mode, OutputSpec, ToolSpec};
use serde_json::{json, Value};

use super::Preset;
use crate::dialect::{inline_refs, openai_strict};
use crate::fragments::{constant, fragment, Frag, Members};
use crate::translate::Declared;

/// How a server takes a schema-enforced answer ([`Mode::JsonSchema`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonSchemaShape {
    /// `{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`, strict when
    /// the type fits the strict dialect.
    OpenAi,
    /// `{"type": "json_schema", "json_schema": {"name", "schema"}}` without `strict`.
    Plain,
    /// `{"type": "json_object", "schema": {...}}` (llama-cpp-python, Anyscale).
    ObjectWithSchema,
}

/// How a server forces a tool call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolChoiceShape {
    /// `{"type": "function", "function": {"name": ...}}`.
    Function,
    /// `"required"` (llama.cpp server).
    Required,
    /// `"any"` (Mistral).
    Any,
    /// Not sent (Ollama ignores it).
    Omit,
}

/// The members `output`'s mode adds to a request on the server `preset` describes.
pub(crate) fn members(
    output: &OutputSpec,
    preset: &Preset,
    declared: &Declared,
) -> Result<Members, Error> {
    let none = Members::default();
    match output.mode {
        Mode::Tools => tools(output, false, false, preset),
        Mode::ToolsStrict => tools(output, true, false, preset),
        Mode::ParallelTools => tools(output, false, true, preset),
        Mode::Json => Ok(none.with(
            "response_format",
            constant("openai.rf.json_object", || json!({"type": "json_object"}))?,
        )),
        Mode::JsonSchema => Ok(none.with(
            "response_format",
            json_schema(output, preset.json_schema, preset.inline_refs)?,
        )),
        // The schema is in the prompt.
        Mode::MdJson => Ok(none),
        other => Err(declared.unsupported(other)),
    }
}

fn schema_for(parameters: &Value, strict: bool, inline: bool) -> Result<Value, String> {
    let base = if inline {
        inline_refs(parameters)?
    } else {
        parameters.clone()
    };
    if strict {
        openai_strict(&base)
    } else {
        Ok(base)
    }
}

fn tool(spec: &ToolSpec, strict: bool, inline: bool) -> Result<Value, String> {
    let parameters = schema_for(&spec.parameters, strict, inline)?;
    let mut function = crate::shared::function(spec, "parameters", parameters);
    if strict {
        function["strict"] = Value::Bool(true);
    }
    Ok(json!({"type": "function", "function": function}))
}

/// `tools`, `tool_choice` and `parallel_tool_calls` for a tool mode.
fn tools(
    output: &OutputSpec,
    strict: bool,
    parallel: bool,
    preset: &Preset,
) -> Result<Members, Error> {
    let specs: &[ToolSpec] = &output.tools;
    let inline = preset.inline_refs;
    let tag = match (strict, inline) {
        (true, true) => "openai.tools.strict.inline",
        (true, false) => "openai.tools.strict",
        (false, true) => "openai.tools.inline",
        (false, false) => "openai.tools",
    };
    let tools = fragment(output, specs, tag, || {
        specs
            .iter()
            .map(|s| tool(s, strict, inline))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    })?;
    let choice = match (preset.tool_choice, parallel) {
        (ToolChoiceShape::Omit, _) => None,
        (ToolChoiceShape::Any, _) => Some(constant("openai.choice.any", || json!("any"))?),
        (ToolChoiceShape::Required, _) | (ToolChoiceShape::Function, true) => {
            Some(constant("openai.choice.required", || json!("required"))?)
        }
        (ToolChoiceShape::Function, false) => {
            Some(fragment(output, specs, "openai.choice.function", || {
                let name = specs.first().map(|s| s.name.as_str()).unwrap_or_default();
                Ok(json!({"type": "function", "function": {"name": name}}))
            })?)
        }
    };
    let mut members = Members::default().with("tools", tools);
    if let Some(choice) = choice {
        members = members.with("tool_choice", choice);
        if parallel {
            members = members.with("parallel_tool_calls", constant("true", || json!(true))?);
        }
    }
    Ok(members)
}

/// `response_format` for [`Mode::JsonSchema`] in the server's shape.
fn json_schema(output: &OutputSpec, shape: JsonSchemaShape, inline: bool) -> Result<Frag, Error> {
    let schema = &*output.schema;
    let tag = match (shape, inline) {
        (JsonSchemaShape::OpenAi, _) => "openai.rf.json_schema.openai",
        (JsonSchemaShape::Plain, true) => "openai.rf.json_schema.plain.inline",
        (JsonSchemaShape::Plain, false) => "openai.rf.json_schema.plain",
        (JsonSchemaShape::ObjectWithSchema, true) => "openai.rf.json_object_schema.inline",
        (JsonSchemaShape::ObjectWithSchema, false) => "openai.rf.json_object_schema",
    };
    fragment(output, schema, tag, || {
        let params = schema_for(&schema.request_schema, false, inline)?;
        Ok(match shape {
            JsonSchemaShape::OpenAi => match openai_strict(&params) {
                Ok(strict) => {
                    json!({"type": "json_schema", "json_schema": {"name": schema.name, "schema": strict, "strict": true}})
                }
                Err(_) => {
                    json!({"type": "json_schema", "json_schema": {"name": schema.name, "schema": params, "strict": false}})
                }
            },
            JsonSchemaShape::Plain => {
                json!({"type": "json_schema", "json_schema": {"name": schema.name, "schema": params}})
            }
            JsonSchemaShape::ObjectWithSchema => json!({"type": "json_object", "schema": params}),
        })
    })
}
