//! Planning a request for a mode: the output spec (tools, schema) and the instructions a
//! mode adds to the conversation. Everything derived from the type is computed once per
//! type and cached in its [`TypeSchema`]; per call only the messages are assembled.

use std::sync::OnceLock;

use super::parallel::{tools_for, ParallelTools};
use crate::{Error, Message, Mode, OutputSpec, Part, Request, Role, TypeSchema};

/// Per-type request fragments, filled on first use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plans {
    json_prompt: OnceLock<String>,
    md_json_prompt: OnceLock<String>,
    parallel: OnceLock<Result<ParallelTools, String>>,
}

fn instructions(schema: &TypeSchema, fenced: bool) -> String {
    let mut text = String::with_capacity(schema.request_schema_text.len() + 256);
    if let Some(d) = &schema.description {
        text.push_str(d);
        text.push_str("\n\n");
    }
    text.push_str("Answer with one JSON value that conforms to this JSON Schema:\n");
    text.push_str(&schema.request_schema_text);
    text.push_str("\n\nReturn the data itself, not the schema");
    if fenced {
        text.push_str(", inside a single ```json code block.");
    } else {
        text.push_str(", and no other text.");
    }
    text
}

/// The mode a call uses (its own, else the provider's default) and the provider's
/// capabilities; a mode the provider cannot honour is an error before any request.
pub(crate) fn mode(
    provider: &dyn crate::Provider,
    requested: Option<Mode>,
) -> Result<(Mode, crate::Capabilities), Error> {
    let capabilities = provider.capabilities();
    let mode = requested.unwrap_or(capabilities.default_mode);
    if !capabilities.supports(mode) {
        return Err(Error::UnsupportedMode {
            mode,
            provider: provider.name().to_owned(),
            supported: capabilities.modes.clone(),
        });
    }
    Ok((mode, capabilities))
}

/// The parallel tool set of a type, computed once.
pub(crate) fn parallel(schema: &'static TypeSchema) -> Result<&'static ParallelTools, Error> {
    schema
        .plans
        .parallel
        .get_or_init(|| tools_for(schema))
        .as_ref()
        .map_err(|message| Error::SchemaIncompatible {
            message: message.clone(),
        })
}

/// The output spec for `mode`.
pub(crate) fn output(mode: Mode, schema: &'static TypeSchema) -> Result<OutputSpec, Error> {
    let tools = match mode {
        Mode::Tools | Mode::ToolsStrict => std::slice::from_ref(&schema.tool),
        Mode::ParallelTools => &parallel(schema)?.tools[..],
        _ => &[],
    };
    Ok(OutputSpec {
        mode,
        schema,
        tools,
    })
}

/// The caller's messages with what the mode needs added: for `Json` and `MdJson` the schema
/// and instructions go into the system message (appended to the caller's, or a new one).
pub(crate) fn messages(
    mode: Mode,
    schema: &'static TypeSchema,
    mut messages: Vec<Message>,
) -> Vec<Message> {
    let text = match mode {
        Mode::Json => schema
            .plans
            .json_prompt
            .get_or_init(|| instructions(schema, false)),
        Mode::MdJson => schema
            .plans
            .md_json_prompt
            .get_or_init(|| instructions(schema, true)),
        _ => return messages,
    };
    match messages.first_mut() {
        Some(first) if first.role == Role::System => {
            first.content.push(Part::Text(text.clone()));
        }
        _ => messages.insert(0, Message::system(text.clone())),
    }
    messages
}

/// The first request of an extraction: the caller's messages with the mode's additions,
/// the output spec and the call's sampling settings.
pub(crate) fn request(
    mode: Mode,
    schema: &'static TypeSchema,
    call: &super::Call,
    messages: Vec<Message>,
) -> Result<Request, Error> {
    Ok(Request {
        model: call.model.clone(),
        messages: self::messages(mode, schema, messages),
        output: output(mode, schema)?,
        temperature: call.temperature,
        top_p: call.sampling.top_p,
        max_tokens: call.max_tokens,
        seed: call.sampling.seed,
        stop: call.sampling.stop.clone(),
        extra: call.sampling.extra.clone(),
    })
}
