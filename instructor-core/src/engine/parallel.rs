//! [`Mode::ParallelTools`](crate::Mode::ParallelTools): the tools a `Vec<E>` offers and how
//! several tool calls become one `Vec<E>`.
//!
//! `E` is either a struct (one tool, called any number of times) or an externally tagged
//! enum whose variants hold structs (one tool per variant, named after it; each call
//! becomes `{"Variant": arguments}`). The tool set is computed once per type.

use serde_json::{Map, Value};

use super::parse::ParseFailure;
use crate::instruct::ParallelTools;
use crate::Repair;
use crate::{Instruct, Response, ToolArguments, ToolSpec, TypeSchema};

fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
        .and_then(|name| root.get("$defs").and_then(|d| d.get(name)))
        .unwrap_or(schema)
}

fn with_defs(schema: &Value, root: &Value) -> Value {
    let mut schema = schema.clone();
    if let (Value::Object(map), Some(defs)) = (&mut schema, root.get("$defs")) {
        map.insert("$defs".to_owned(), defs.clone());
    }
    schema
}

fn is_object(schema: &Value) -> bool {
    schema.get("type") == Some(&Value::from("object"))
}

/// Builds the tool set for `schema` (the root schema of a `Vec<E>`).
pub(crate) fn tools_for(schema: &TypeSchema) -> Result<ParallelTools, String> {
    let root = &schema.schema;
    let items = match (root.get("type").and_then(Value::as_str), root.get("items")) {
        (Some("array"), Some(items)) => resolve(items, root),
        _ => {
            return Err(format!(
                "parallel tools need a list type such as Vec<E> (E a struct or an enum of structs); `{}` is not a list",
                schema.name
            ))
        }
    };
    if is_object(items) {
        let name = root
            .get("items")
            .and_then(|i| i.get("$ref"))
            .and_then(Value::as_str)
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or("item")
            .to_owned();
        return Ok(ParallelTools {
            tools: vec![ToolSpec {
                name,
                description: items
                    .get("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                parameters: with_defs(items, root),
            }],
            tagged: false,
        });
    }
    let Some(branches) = items.get("oneOf").and_then(Value::as_array) else {
        return Err("parallel tools need Vec of a struct or of an externally tagged enum whose variants hold structs".to_owned());
    };
    let mut tools = Vec::new();
    for branch in branches {
        let Some(props) = branch.get("properties").and_then(Value::as_object) else {
            continue; // unit variants (a string enum branch) cannot be tools
        };
        let (Some((name, inner)), 1) = (props.iter().next(), props.len()) else {
            return Err(
                "parallel tools need an externally tagged enum (no serde `tag`)".to_owned(),
            );
        };
        let body = resolve(inner, root);
        if !is_object(body) {
            return Err(format!(
                "variant `{name}` must hold a struct (named fields) to be a tool"
            ));
        }
        let description = branch
            .get("description")
            .or_else(|| body.get("description"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        tools.push(ToolSpec {
            name: name.clone(),
            description,
            parameters: with_defs(body, root),
        });
    }
    if tools.is_empty() {
        return Err("the enum has no variant that holds a struct".to_owned());
    }
    Ok(ParallelTools {
        tools,
        tagged: true,
    })
}

/// Turns every tool call into one element and deserializes the list.
pub(crate) fn parse_calls<T: Instruct>(
    response: &Response,
    plan: &ParallelTools,
    allow_repair: bool,
) -> Result<(T, std::borrow::Cow<'static, str>, Vec<Repair>), ParseFailure<'static>> {
    let raw = Value::Array(
        response
            .tool_calls
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("name".to_owned(), Value::from(c.name.as_str()));
                m.insert(
                    "arguments".to_owned(),
                    Value::from(c.arguments.to_text().as_ref()),
                );
                Value::Object(m)
            })
            .collect(),
    )
    .to_string();
    let fail = |message: String| ParseFailure {
        raw: raw.clone().into(),
        message,
    };
    if response.tool_calls.is_empty() {
        return Err(fail(
            "the answer had no tool calls; call the tools with the extracted data".to_owned(),
        ));
    }
    let mut repairs = Vec::new();
    let mut elements = Vec::with_capacity(response.tool_calls.len());
    for call in &response.tool_calls {
        if !plan.tools.iter().any(|t| t.name == call.name) {
            let names: Vec<&str> = plan.tools.iter().map(|t| t.name.as_str()).collect();
            return Err(fail(format!(
                "unknown tool `{}`; the tools are: {}",
                call.name,
                names.join(", ")
            )));
        }
        let args = match &call.arguments {
            ToolArguments::Json(v) => v.clone(),
            ToolArguments::Text(t) => match serde_json::from_str(t) {
                Ok(v) => v,
                Err(e) => {
                    let fixed = if allow_repair {
                        crate::json::repair::repair(t)
                    } else {
                        None
                    };
                    match fixed.and_then(|(s, r)| serde_json::from_str(&s).ok().map(|v| (v, r))) {
                        Some((v, r)) => {
                            repairs.extend(r);
                            v
                        }
                        None => return Err(fail(format!("arguments of `{}`: {e}", call.name))),
                    }
                }
            },
        };
        elements.push(if plan.tagged {
            let mut m = Map::new();
            m.insert(call.name.clone(), args);
            Value::Object(m)
        } else {
            args
        });
    }
    match super::parse::wrapped_from_value::<T>(&Value::Array(elements), None) {
        Ok(v) => Ok((v, raw.into(), repairs)),
        Err(message) => Err(fail(message)),
    }
}
