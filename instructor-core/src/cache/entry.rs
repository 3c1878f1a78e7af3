//! What a cache entry holds: the provider's answer that passed (its text or tool calls,
//! finish reason, model and the usage it cost), as versioned JSON.

use serde::{Deserialize, Serialize};

use super::CacheError;
use crate::{FinishReason, Response, ToolArguments, ToolCall, Usage};

const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Entry<'a> {
    format: u32,
    #[serde(borrow)]
    text: Option<std::borrow::Cow<'a, str>>,
    tool_calls: Vec<Call>,
    finish: String,
    model: Option<String>,
    usage: [u64; 3],
}

#[derive(Serialize, Deserialize)]
struct Call {
    id: String,
    name: String,
    arguments: String,
}

/// The entry for an answer that passed.
pub(crate) fn encode(response: &Response) -> Vec<u8> {
    let u = response.usage;
    let entry = Entry {
        format: FORMAT,
        text: response.text.as_deref().map(Into::into),
        tool_calls: response
            .tool_calls
            .iter()
            .map(|c| Call {
                id: c.id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.to_text().into_owned(),
            })
            .collect(),
        finish: finish_name(&response.finish_reason).to_owned(),
        model: response.model.clone(),
        usage: [u.input_tokens, u.output_tokens, u.total_tokens],
    };
    serde_json::to_vec(&entry).unwrap_or_default()
}

/// The answer an entry holds, with no usage (a cached answer costs no tokens) and the
/// usage it cost when it was made.
pub(crate) fn decode(bytes: &[u8]) -> Result<(Response, Usage), CacheError> {
    let entry: Entry<'_> = serde_json::from_slice(bytes).map_err(|e| CacheError::Corrupt {
        message: e.to_string(),
    })?;
    if entry.format != FORMAT {
        return Err(CacheError::Corrupt {
            message: format!("entry format {} is not {FORMAT}", entry.format),
        });
    }
    let tool_calls: Vec<ToolCall> = entry
        .tool_calls
        .into_iter()
        .map(|c| ToolCall {
            id: c.id,
            name: c.name,
            arguments: ToolArguments::Text(c.arguments),
        })
        .collect();
    let mut response = match entry.text {
        Some(text) if tool_calls.is_empty() => Response::text(text.into_owned()),
        text => {
            let mut r = Response::tool_calls(tool_calls);
            r.text = text.map(std::borrow::Cow::into_owned);
            r
        }
    };
    response.finish_reason = finish_reason(&entry.finish);
    response.model = entry.model;
    let [input, output, total] = entry.usage;
    let mut made = Usage::new(input, output);
    made.total_tokens = total;
    Ok((response, made))
}

fn finish_name(reason: &FinishReason) -> &str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Refusal => "refusal",
        FinishReason::Other(other) => other,
        _ => "unknown",
    }
}

fn finish_reason(name: &str) -> FinishReason {
    match name {
        "stop" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        "refusal" => FinishReason::Refusal,
        "unknown" => FinishReason::Unknown,
        other => FinishReason::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_as_the_answer_with_no_usage() {
        let mut r = Response::tool_calls(vec![ToolCall {
            id: "c1".into(),
            name: "User".into(),
            arguments: ToolArguments::Json(serde_json::json!({"name": "Jason"})),
        }])
        .with_usage(Usage::new(10, 5));
        r.model = Some("m".into());
        let (back, made) = decode(&encode(&r)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back.tool_calls[0].arguments.to_text(),
            r#"{"name":"Jason"}"#
        );
        assert_eq!(back.finish_reason, FinishReason::ToolCalls);
        assert_eq!(back.usage, Usage::default());
        assert_eq!(made.total_tokens, 15);
        assert_eq!(back.model.as_deref(), Some("m"));
        let text = Response::text("{}");
        let back = decode(&encode(&text)).map(|(r, _)| r.text);
        assert!(
            matches!(back.as_ref().map(|t| t.as_deref()), Ok(Some("{}"))),
            "{back:?}"
        );
    }

    #[test]
    fn damaged_or_foreign_entries_are_corrupt_not_panics() {
        for bytes in [&b""[..], b"{", b"\xff\xfe", br#"{"format": 9}"#, b"[1,2]"] {
            assert!(matches!(decode(bytes), Err(CacheError::Corrupt { .. })));
        }
    }
}
