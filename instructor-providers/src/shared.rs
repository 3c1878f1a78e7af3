//! Conversions several wire formats share, each written once: message parts as a wire format
//! sees them (a part it cannot carry is a typed error, never dropped), chat roles, tool calls
//! in both directions (arguments as text or as an object, call ids), finish reasons (one table
//! of every provider's words, providers.md §18), usage, the sampling settings under each API's
//! own names, function declarations, and reading a body or a stream item as JSON.

use std::borrow::Cow;

use instructor_core::media::MediaKind;
use instructor_core::{
    Audio, Capabilities, Document, Error, FinishReason, Image, Message, Part, Request, Role,
    ToolArguments, ToolCall, ToolSpec, Usage,
};
use serde::de::DeserializeOwned;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

/// A message part as a wire format sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Piece<'a> {
    Text(&'a str),
    /// A media part at a URL.
    Url {
        kind: MediaKind,
        url: &'a str,
    },
    /// A media part's base64 bytes and media type.
    Data {
        kind: MediaKind,
        media_type: &'a str,
        data: &'a str,
    },
}

/// The parts of `m` as [`Piece`]s. A part of a kind this crate does not know (the neutral
/// enums are non-exhaustive) is [`Error::Unsupported`], never left out.
pub(crate) fn pieces<'a>(m: &'a Message, provider: &str) -> Result<Vec<Piece<'a>>, Error> {
    m.content
        .iter()
        .map(|p| {
            let (kind, url, data) = match p {
                Part::Text(t) => return Ok(Piece::Text(t)),
                Part::Image(Image::Url(url)) => (MediaKind::Image, Some(url), None),
                Part::Image(Image::Base64 { media_type, data }) => {
                    (MediaKind::Image, None, Some((media_type, data)))
                }
                Part::Document(Document::Url(url)) => (MediaKind::Document, Some(url), None),
                Part::Document(Document::Base64 { media_type, data }) => {
                    (MediaKind::Document, None, Some((media_type, data)))
                }
                Part::Audio(Audio::Url(url)) => (MediaKind::Audio, Some(url), None),
                Part::Audio(Audio::Base64 { media_type, data }) => {
                    (MediaKind::Audio, None, Some((media_type, data)))
                }
                _ => return Err(unknown_part(provider)),
            };
            match (url, data) {
                (Some(url), _) => Ok(Piece::Url { kind, url }),
                (None, Some((media_type, data))) => Ok(Piece::Data {
                    kind,
                    media_type,
                    data,
                }),
                (None, None) => Err(unknown_part(provider)),
            }
        })
        .collect()
}

fn unknown_part(provider: &str) -> Error {
    Error::Unsupported {
        what: format!("a message part of a kind the {provider} provider does not know"),
    }
}

/// The error for a piece a wire format has no shape for, reached only when a translator's
/// declaration lets through what its body cannot carry (the declared check runs first).
pub(crate) fn piece_unsupported(provider: &str, kind: MediaKind, form: &str) -> Error {
    Error::Unsupported {
        what: format!("a {kind} part given {form} with the {provider} provider (it would be lost)"),
    }
}

/// A request with a media part, for a provider that takes none, is an error before
/// anything is built or sent: [`Error::UnsupportedPart`] naming the first such part.
#[cfg_attr(not(feature = "local"), allow(dead_code))]
pub(crate) fn no_images(request: &Request, provider: &str) -> Result<(), Error> {
    instructor_core::media::check(&request.messages, provider, &Capabilities::new(&[]))
}

/// The text of a message for a wire format that carries text only.
pub(crate) fn text_only(m: &Message, provider: &str) -> Result<String, Error> {
    for piece in pieces(m, provider)? {
        match piece {
            Piece::Text(_) => {}
            Piece::Url { kind, .. } => return Err(piece_unsupported(provider, kind, "by URL")),
            Piece::Data { kind, .. } => return Err(piece_unsupported(provider, kind, "as bytes")),
        }
    }
    Ok(m.text())
}

/// A role in the chat shape (OpenAI, Cohere, Ollama).
pub(crate) fn chat_role(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
        // `Role` is non-exhaustive upstream; a newer role speaks as the user.
        _ => "user",
    }
}

/// The name of the call a tool result answers, for APIs that key results by name (Gemini's
/// `functionResponse`, Ollama's `tool_name`).
pub(crate) fn called_name<'a>(messages: &'a [Message], id: Option<&str>) -> Option<&'a str> {
    messages
        .iter()
        .flat_map(|m| &m.tool_calls)
        .find(|c| Some(c.id.as_str()) == id)
        .map(|c| c.name.as_str())
}

/// Tool arguments as an object, for APIs that take them parsed (Anthropic `input`, Gemini
/// `args`, Ollama `arguments`). Text that is not JSON (a model's broken call being answered
/// in a re-ask) becomes `{}`.
pub(crate) fn arguments_object(arguments: &ToolArguments) -> Value {
    match arguments {
        ToolArguments::Json(v) => v.clone(),
        ToolArguments::Text(t) => {
            serde_json::from_str(t).unwrap_or(Value::Object(Default::default()))
        }
    }
}

/// Tool arguments as a server gave them: a JSON string (OpenAI, Cohere), or an object
/// (Mistral, Ollama, some compatible servers).
pub(crate) fn arguments_from(v: Value) -> ToolArguments {
    match v {
        Value::String(s) => ToolArguments::Text(s),
        Value::Null => ToolArguments::Text(String::new()),
        other => ToolArguments::Json(other),
    }
}

/// A call's id, or `call_<i>` when the server gave none (Gemini, Ollama) or a placeholder
/// (Mistral's SDK default `"null"`).
pub(crate) fn call_id(id: Option<String>, index: usize) -> String {
    id.filter(|id| !id.is_empty() && id != "null")
        .unwrap_or_else(|| format!("call_{index}"))
}

/// A tool call in the chat shape, its arguments as JSON text (OpenAI, Cohere requests).
#[derive(Serialize)]
pub(crate) struct TextToolCall<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: TextFunction<'a>,
}

#[derive(Serialize)]
pub(crate) struct TextFunction<'a> {
    pub name: &'a str,
    pub arguments: Cow<'a, str>,
}

/// The tool calls an assistant message made, in the chat shape; `None` when it made none.
pub(crate) fn text_tool_calls(m: &Message) -> Option<Vec<TextToolCall<'_>>> {
    (!m.tool_calls.is_empty()).then(|| {
        m.tool_calls
            .iter()
            .map(|c| TextToolCall {
                id: &c.id,
                kind: "function",
                function: TextFunction {
                    name: &c.name,
                    arguments: c.arguments.to_text(),
                },
            })
            .collect()
    })
}

/// A tool call in an answer of the chat shape (OpenAI, Cohere, Ollama).
#[derive(Deserialize)]
pub(crate) struct AnsweredCall {
    pub id: Option<String>,
    pub function: AnsweredFunction,
}

#[derive(Deserialize)]
pub(crate) struct AnsweredFunction {
    pub name: String,
    /// A JSON string, or an object.
    #[serde(default)]
    pub arguments: Value,
}

/// The message of an answer in a native chat shape (Cohere, Ollama): its content (text, or
/// as the API writes it) and its tool calls.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct AnsweredMessage<C = String> {
    pub content: C,
    pub tool_calls: Vec<AnsweredCall>,
}

/// An answer's tool calls → neutral calls.
pub(crate) fn tool_calls(calls: Vec<AnsweredCall>) -> Vec<ToolCall> {
    calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| ToolCall {
            id: call_id(c.id, i),
            name: c.function.name,
            arguments: arguments_from(c.function.arguments),
        })
        .collect()
}

/// A finish reason in any provider's words → neutral (providers.md §18). `calls` says
/// whether the answer holds tool calls: a plain stop with calls (Gemini, Ollama, some
/// compatible servers) is a stop for tool calls.
pub(crate) fn finish_reason(reason: Option<&str>, calls: bool) -> FinishReason {
    let Some(reason) = reason else {
        return FinishReason::Unknown;
    };
    let mapped = match reason {
        // OpenAI, Ollama, Mistral; Together's `eos`; Anthropic; Gemini; Cohere.
        "stop" | "eos" | "end_turn" | "stop_sequence" | "STOP" | "COMPLETE" | "STOP_SEQUENCE" => {
            FinishReason::Stop
        }
        "length"
        | "model_length"
        | "max_tokens"
        | "model_context_window_exceeded"
        | "MAX_TOKENS" => FinishReason::Length,
        "tool_calls" | "function_call" | "tool_use" | "TOOL_CALL" => FinishReason::ToolCalls,
        "content_filter" | "SAFETY" | "PROHIBITED_CONTENT" | "BLOCKLIST" | "SPII"
        | "RECITATION" | "IMAGE_SAFETY" => FinishReason::ContentFilter,
        "refusal" => FinishReason::Refusal,
        other => FinishReason::Other(other.to_owned()),
    };
    match mapped {
        FinishReason::Stop if calls => FinishReason::ToolCalls,
        other => other,
    }
}

/// Usage of one call; `total` as the server reports it, else the (saturating) sum.
pub(crate) fn usage(input: u64, output: u64, total: Option<u64>) -> Usage {
    Usage {
        total_tokens: total.unwrap_or(input.saturating_add(output)),
        ..Usage::new(input, output)
    }
}

/// A success body read as `T`; a body of another shape is [`Error::Protocol`] keeping it.
pub(crate) fn parse_body<T: DeserializeOwned>(body: &str, what: &str) -> Result<T, Error> {
    serde_json::from_str(body).map_err(|e| Error::Protocol {
        message: format!("not {what}: {e}"),
        raw: Some(body.to_owned()),
        source: Some(Box::new(e)),
    })
}

/// One stream item read as JSON.
pub(crate) fn parse_event(data: &str) -> Result<Value, Error> {
    serde_json::from_str(data).map_err(|e| Error::Protocol {
        message: format!("a stream event is not JSON: {e}"),
        raw: Some(data.to_owned()),
        source: Some(Box::new(e)),
    })
}

/// A function declaration as every API writes one: `name`, the parameters' schema under
/// the API's key for it, and the description when there is one.
pub(crate) fn function(spec: &ToolSpec, parameters_key: &str, parameters: Value) -> Value {
    let mut f = serde_json::Map::new();
    f.insert("name".to_owned(), Value::from(spec.name.as_str()));
    f.insert(parameters_key.to_owned(), parameters);
    if let Some(d) = &spec.description {
        f.insert("description".to_owned(), Value::from(d.as_str()));
    }
    Value::Object(f)
}

/// What an API calls the neutral request's sampling settings; `None` where it has no such
/// setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SamplingNames {
    pub temperature: &'static str,
    pub top_p: &'static str,
    pub max_tokens: Option<&'static str>,
    pub seed: Option<&'static str>,
    pub stop: &'static str,
}

impl SamplingNames {
    /// The names of OpenAI's Chat Completions (and most compatible servers).
    pub const CHAT: SamplingNames = SamplingNames {
        temperature: "temperature",
        top_p: "top_p",
        max_tokens: Some("max_tokens"),
        seed: Some("seed"),
        stop: "stop",
    };
}

/// A request's sampling settings under an API's names: serialized as the members that are
/// set (flattened into a body, or as an object of its own).
pub(crate) struct Sampling<'a> {
    request: &'a Request,
    names: SamplingNames,
}

impl<'a> Sampling<'a> {
    pub fn new(request: &'a Request, names: SamplingNames) -> Self {
        Self { request, names }
    }

    /// Whether no setting is set (or none the API names).
    pub fn is_empty(&self) -> bool {
        let r = self.request;
        r.temperature.is_none()
            && r.top_p.is_none()
            && (r.max_tokens.is_none() || self.names.max_tokens.is_none())
            && (r.seed.is_none() || self.names.seed.is_none())
            && r.stop.is_empty()
    }
}

impl Serialize for Sampling<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn entry<M: SerializeMap, T: Serialize>(
            map: &mut M,
            name: Option<&str>,
            value: Option<T>,
        ) -> Result<(), M::Error> {
            match (name, value) {
                (Some(name), Some(value)) => map.serialize_entry(name, &value),
                _ => Ok(()),
            }
        }
        let (r, n) = (self.request, self.names);
        let mut map = serializer.serialize_map(None)?;
        entry(&mut map, Some(n.temperature), r.temperature)?;
        entry(&mut map, Some(n.top_p), r.top_p)?;
        entry(&mut map, n.max_tokens, r.max_tokens)?;
        entry(&mut map, n.seed, r.seed)?;
        entry(
            &mut map,
            Some(n.stop),
            (!r.stop.is_empty()).then_some(&r.stop),
        )?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check the local provider runs (it reads text only): any media part is refused by
    /// name, text passes.
    #[test]
    fn a_text_only_provider_refuses_every_media_part() {
        use instructor_core::{Instruct, OutputSpec};
        let output = OutputSpec::new(
            instructor_core::Mode::Json,
            <Vec<u8> as Instruct>::type_schema(),
        );
        let Ok(output) = output else { return };
        let text = Request::new(vec![Message::user("hi")], output.clone());
        assert!(no_images(&text, "local").is_ok());
        for part in [
            Part::from(Image::from_url("https://x/y.png")),
            Part::from(Document::from_url("https://x/y.pdf")),
            Part::from(Audio::from_url("https://x/y.wav")),
        ] {
            let kind = part.media_kind();
            let request =
                Request::new(vec![Message::user_with_parts("hi", [part])], output.clone());
            let err = no_images(&request, "local");
            assert!(
                matches!(err, Err(Error::UnsupportedPart { message: 0, part: 1, kind: k, .. }) if Some(k) == kind),
                "{err:?}"
            );
        }
    }

    #[test]
    fn every_providers_finish_words() {
        use FinishReason::*;
        // The words, whether the answer holds calls, and what they all mean.
        for (words, calls, expected) in [
            (&["stop", "end_turn", "COMPLETE"][..], false, Stop),
            (&["stop", "STOP"], true, ToolCalls),
            (&["length", "MAX_TOKENS"], false, Length),
            (&["max_tokens"], true, Length),
            (&["tool_use", "TOOL_CALL"], false, ToolCalls),
            (&["SAFETY", "content_filter"], false, ContentFilter),
            (&["refusal"], false, Refusal),
        ] {
            for word in words {
                assert_eq!(finish_reason(Some(word), calls), expected, "{word}");
            }
        }
        assert_eq!(
            finish_reason(Some("pause_turn"), false),
            Other("pause_turn".into())
        );
        assert_eq!(finish_reason(None, true), Unknown);
    }

    #[test]
    fn call_ids_and_arguments() {
        assert_eq!(call_id(Some("null".into()), 2), "call_2");
        assert_eq!(call_id(Some(String::new()), 0), "call_0");
        assert_eq!(call_id(Some("c".into()), 0), "c");
        assert_eq!(
            arguments_object(&ToolArguments::Text("{\"a\":1".into())),
            serde_json::json!({})
        );
        assert_eq!(
            arguments_from(serde_json::json!({"a": 1})),
            ToolArguments::Json(serde_json::json!({"a": 1}))
        );
    }
}
