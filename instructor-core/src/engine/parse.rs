//! From a response to a `T`: pick the answer the mode reads (tool arguments, content, a
//! fenced block, the first JSON value in prose), deserialize it with the JSON path of any
//! error, unwrap a wrapped root, and try the repair pass before giving up.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::modes::{spec, Answer};
use crate::json::locate;
use crate::json::repair::repair;
use crate::Repair;
use crate::{Instruct, Mode, Response, ToolArguments, TypeSchema};

/// Why an answer could not become a `T`; `raw` is what the model said.
pub(crate) struct ParseFailure<'r> {
    pub raw: Cow<'r, str>,
    pub message: String,
}

/// A parsed answer and what the repair pass had to change. `raw` borrows from the
/// response: it is copied only when an error has to keep it.
pub(crate) struct Parsed<'r, T> {
    pub value: T,
    pub raw: Cow<'r, str>,
    pub repairs: Vec<Repair>,
}

#[derive(Deserialize)]
struct Items<T> {
    items: T,
}

#[derive(Deserialize)]
struct Wrapped<T> {
    value: T,
}

fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> String {
    let path = e.path().to_string();
    if path.is_empty() || path == "." {
        e.inner().to_string()
    } else {
        format!("at `{path}`: {}", e.inner())
    }
}

/// `T` from JSON text. The path of an error is tracked only once there is one, by a second
/// read: tracking it costs about as much as the read itself.
pub(crate) fn from_text<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(path_error)?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    if let Ok(v) = T::deserialize(value) {
        return Ok(v);
    }
    serde_path_to_error::deserialize(value).map_err(path_error)
}

/// JSON to deserialize from: answer text, or a value already parsed.
trait Source: Copy {
    fn read<T: DeserializeOwned>(self) -> Result<T, String>;
}

impl Source for &str {
    fn read<T: DeserializeOwned>(self) -> Result<T, String> {
        from_text(self)
    }
}

impl Source for &Value {
    fn read<T: DeserializeOwned>(self) -> Result<T, String> {
        from_value(self)
    }
}

/// Deserializes `T` through the request's wrapper if there is one (a bare value is
/// accepted too: many models drop the wrapper).
fn unwrap_from<T: DeserializeOwned, S: Source>(
    source: S,
    wrapped: Option<&str>,
) -> Result<T, String> {
    let first = match wrapped {
        None => return source.read(),
        Some("items") => source.read::<Items<T>>().map(|w| w.items),
        Some(_) => source.read::<Wrapped<T>>().map(|w| w.value),
    };
    first.or_else(|e| source.read().map_err(|_| e))
}

fn wrapped_from_text<T: DeserializeOwned>(text: &str, wrapped: Option<&str>) -> Result<T, String> {
    unwrap_from(text, wrapped)
}

/// The same for an already parsed value (borrowed: the payload is not copied).
pub(crate) fn wrapped_from_value<T: DeserializeOwned>(
    value: &Value,
    wrapped: Option<&str>,
) -> Result<T, String> {
    unwrap_from(value, wrapped)
}

/// Parses the answer's text into `T`: the text itself when it is the value (the fast path),
/// else the value the shared locator finds in it (after prose, fences and `<think>`
/// blocks; the two agree whenever the text is one value), repaired when allowed.
pub(crate) fn parse_text<T: Instruct>(
    text: &str,
    schema: &TypeSchema,
    allow_repair: bool,
) -> Result<(T, Vec<Repair>), String> {
    let first = match wrapped_from_text::<T>(text, schema.wrapped) {
        Ok(v) => return Ok((v, Vec::new())),
        Err(e) => e,
    };
    let json = locate(text).map_or(text, |(value, _)| value);
    let first = if json.len() == text.len() {
        first
    } else {
        match wrapped_from_text::<T>(json, schema.wrapped) {
            Ok(v) => return Ok((v, Vec::new())),
            Err(e) => e,
        }
    };
    if allow_repair {
        if let Some((fixed, repairs)) = repair(json) {
            if let Ok(v) = wrapped_from_text::<T>(&fixed, schema.wrapped) {
                return Ok((v, repairs));
            }
        }
    }
    Err(first)
}

/// Reads one `T` from a response in a single-answer mode.
pub(crate) fn parse_response<'r, T: Instruct>(
    response: &'r Response,
    mode: Mode,
    schema: &TypeSchema,
    allow_repair: bool,
) -> Result<Parsed<'r, T>, ParseFailure<'r>> {
    let in_tools = spec(mode).answer == Answer::ToolArguments;
    if in_tools {
        let call = response
            .tool_calls
            .iter()
            .find(|c| c.name == schema.tool.name)
            .or_else(|| response.tool_calls.first());
        if let Some(call) = call {
            let raw = call.arguments.to_text();
            let result = match &call.arguments {
                ToolArguments::Json(v) => {
                    wrapped_from_value::<T>(v, schema.wrapped).map(|v| (v, Vec::new()))
                }
                ToolArguments::Text(t) => parse_text::<T>(t, schema, allow_repair),
            };
            return match result {
                Ok((value, repairs)) => Ok(Parsed {
                    value,
                    raw,
                    repairs,
                }),
                Err(message) => Err(ParseFailure { raw, message }),
            };
        }
        // No tool call: some servers put the JSON in the content instead.
    }
    let raw = Cow::Borrowed(response.text.as_deref().unwrap_or_default());
    if raw.trim().is_empty() {
        let message = if in_tools {
            "the answer had no tool call and no text; call the tool with the extracted data"
        } else {
            "the answer was empty; answer with the JSON"
        };
        return Err(ParseFailure {
            raw,
            message: message.to_owned(),
        });
    }
    match parse_text::<T>(&raw, schema, allow_repair) {
        Ok((value, repairs)) => Ok(Parsed {
            value,
            raw,
            repairs,
        }),
        Err(message) => Err(ParseFailure { raw, message }),
    }
}
