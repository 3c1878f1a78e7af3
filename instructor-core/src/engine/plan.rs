//! Planning a request for a mode: the output spec (tools, schema) and the instructions a
//! mode adds to the conversation. Everything derived from the type is computed once per
//! type and cached in its [`TypeSchema`]; per call only the messages are assembled.

use super::modes::{spec, Prompt, Tools};
use super::parallel::tools_for;
use crate::instruct::ParallelTools;
use crate::provider::{SchemaRef, ToolSet};
use crate::settings::Call;
use crate::{Error, Message, Mode, OutputSpec, Part, Request, Role, TypeSchema};

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

/// The parallel tool set of a type, computed once.
pub(crate) fn parallel(schema: &TypeSchema) -> Result<&ParallelTools, Error> {
    schema
        .fragments
        .parallel
        .get_or_init(|| tools_for(schema))
        .as_ref()
        .map_err(|message| Error::SchemaIncompatible {
            message: message.clone(),
        })
}

// The public constructor lives here, with the planning it exposes, so that the data
// layer (`provider`) does not import the engine.
impl OutputSpec {
    /// What `mode` asks of the answer for a type with `schema`: the tools it offers, if
    /// any, as the core plans them. Fails where the type cannot be asked for that way
    /// (parallel tools for a type that is not a list of tool-shaped variants).
    ///
    /// ```
    /// use instructor_core::{provider::OutputSpec, Instruct, Mode};
    /// let output = OutputSpec::new(Mode::Tools, <Vec<String> as Instruct>::type_schema()).unwrap();
    /// assert_eq!(output.tools.len(), 1);
    /// ```
    pub fn new(mode: Mode, schema: impl Into<SchemaRef>) -> Result<Self, Error> {
        output(mode, &schema.into())
    }
}

/// The output spec for `mode`. For a type's schema this copies two pointers; for a
/// runtime schema it clones `Arc`s.
pub(crate) fn output(mode: Mode, schema: &SchemaRef) -> Result<OutputSpec, Error> {
    let kind = spec(mode).tools;
    let tools = match schema.as_static() {
        Some(fixed) => ToolSet::fixed(match kind {
            Tools::One => std::slice::from_ref(&fixed.tool),
            Tools::Parallel => &parallel(fixed)?.tools[..],
            Tools::None => &[],
        }),
        None => match (kind, schema.shared()) {
            (Tools::None, _) | (_, None) => ToolSet::fixed(&[]),
            (Tools::One, Some(shared)) => ToolSet::of(shared.clone(), false),
            (Tools::Parallel, Some(shared)) => {
                parallel(shared)?;
                ToolSet::of(shared.clone(), true)
            }
        },
    };
    Ok(OutputSpec {
        mode,
        schema: schema.clone(),
        tools,
    })
}

/// The caller's messages with what the mode needs added: for `Json` and `MdJson` the schema
/// and instructions go into the system message (appended to the caller's, or a new one).
pub(crate) fn messages(
    mode: Mode,
    schema: &TypeSchema,
    mut messages: Vec<Message>,
) -> Vec<Message> {
    let fragments = &schema.fragments;
    let text = match spec(mode).prompt {
        Prompt::Schema { fenced: false } => fragments
            .json_prompt
            .get_or_init(|| instructions(schema, false)),
        Prompt::Schema { fenced: true } => fragments
            .md_json_prompt
            .get_or_init(|| instructions(schema, true)),
        Prompt::None => return messages,
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
    schema: &SchemaRef,
    call: &Call,
    messages: Vec<Message>,
) -> Result<Request, Error> {
    Ok(Request {
        model: call.settings.model.clone(),
        messages: self::messages(mode, schema, messages),
        output: output(mode, schema)?,
        temperature: call.settings.temperature,
        top_p: call.settings.sampling.top_p,
        max_tokens: call.settings.max_tokens,
        seed: call.settings.sampling.seed,
        stop: call.settings.sampling.stop.clone(),
        extra: call.settings.sampling.extra.clone(),
    })
}
