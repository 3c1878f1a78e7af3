//! The schema-bearing parts of a Chat Completions request (`tools`, `tool_choice`,
//! `response_format`) in each server's shape, built once per type and cached as
//! pre-serialized fragments.

use instructor_core::{Error, Mode, OutputSpec, ToolSpec};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::dialect::{inline_refs, openai_strict};
use crate::fragments::fragment;

/// How a server takes a schema-enforced answer ([`Mode::JsonSchema`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonSchemaShape {
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
pub(crate) enum ToolChoiceShape {
    /// `{"type": "function", "function": {"name": ...}}`.
    Function,
    /// `"required"` (llama.cpp server).
    Required,
    /// `"any"` (Mistral).
    Any,
    /// Not sent (Ollama ignores it).
    Omit,
}

/// Marker owners for fragments that do not depend on a type.
static CONSTANT: u8 = 0;

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
    let mut function = json!({
        "name": spec.name,
        "parameters": schema_for(&spec.parameters, strict, inline)?,
    });
    if let Some(d) = &spec.description {
        function["description"] = Value::from(d.as_str());
    }
    if strict {
        function["strict"] = Value::Bool(true);
    }
    Ok(json!({"type": "function", "function": function}))
}

/// `tools`, `tool_choice` and `parallel_tool_calls` for a tool mode.
#[allow(clippy::type_complexity)]
pub(crate) fn tools(
    output: &OutputSpec,
    choice: ToolChoiceShape,
    inline: bool,
) -> Result<
    (
        Option<&'static RawValue>,
        Option<&'static RawValue>,
        Option<bool>,
    ),
    Error,
> {
    let (strict, parallel) = match output.mode {
        Mode::Tools => (false, false),
        Mode::ToolsStrict => (true, false),
        Mode::ParallelTools => (false, true),
        _ => return Ok((None, None, None)),
    };
    let specs = output.tools;
    let tag = match (strict, inline) {
        (true, true) => "openai.tools.strict.inline",
        (true, false) => "openai.tools.strict",
        (false, true) => "openai.tools.inline",
        (false, false) => "openai.tools",
    };
    let tools = fragment(specs, tag, || {
        specs
            .iter()
            .map(|s| tool(s, strict, inline))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)
    })?;
    let choice = match (choice, parallel) {
        (ToolChoiceShape::Omit, _) => None,
        (ToolChoiceShape::Any, _) => Some(fragment(&CONSTANT, "openai.choice.any", || {
            Ok(json!("any"))
        })?),
        (ToolChoiceShape::Required, _) | (ToolChoiceShape::Function, true) => {
            Some(fragment(&CONSTANT, "openai.choice.required", || {
                Ok(json!("required"))
            })?)
        }
        (ToolChoiceShape::Function, false) => {
            Some(fragment(specs, "openai.choice.function", || {
                let name = specs.first().map(|s| s.name.as_str()).unwrap_or_default();
                Ok(json!({"type": "function", "function": {"name": name}}))
            })?)
        }
    };
    let parallel_flag = (parallel && choice.is_some()).then_some(true);
    Ok((Some(tools), choice, parallel_flag))
}

/// `response_format` for `Json` and `JsonSchema` modes.
pub(crate) fn response_format(
    output: &OutputSpec,
    shape: JsonSchemaShape,
    inline: bool,
) -> Result<Option<&'static RawValue>, Error> {
    let schema = output.schema;
    match output.mode {
        Mode::Json => Ok(Some(fragment(&CONSTANT, "openai.rf.json_object", || {
            Ok(json!({"type": "json_object"}))
        })?)),
        Mode::JsonSchema => {
            let tag = match (shape, inline) {
                (JsonSchemaShape::OpenAi, _) => "openai.rf.json_schema.openai",
                (JsonSchemaShape::Plain, true) => "openai.rf.json_schema.plain.inline",
                (JsonSchemaShape::Plain, false) => "openai.rf.json_schema.plain",
                (JsonSchemaShape::ObjectWithSchema, true) => "openai.rf.json_object_schema.inline",
                (JsonSchemaShape::ObjectWithSchema, false) => "openai.rf.json_object_schema",
            };
            Ok(Some(fragment(schema, tag, || {
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
                    JsonSchemaShape::ObjectWithSchema => {
                        json!({"type": "json_object", "schema": params})
                    }
                })
            })?))
        }
        _ => Ok(None),
    }
}
