//! What a bulk run records of one finished item: the answer's JSON, the error's kind, the
//! usage and the number of attempts, settled with the budgets, journaled and counted.

use serde_json::Value;

use super::budget::{Budget, Ticket};
use super::journal::{Entry, ErrorEntry, Journal};
use super::progress::Tally;
use super::Progress;
use crate::{Completion, Error, Response, Usage};

/// The name of an error's kind, as the journal and [`Totals::failures`](super::Totals)
/// record it: the [`enum@Error`] variant's name, looking through
/// [`Error::AfterAttempts`] to what ended the extraction.
///
/// ```
/// use instructor_core::{bulk::error_kind, Error, Usage};
/// assert_eq!(error_kind(&Error::Timeout), "Timeout");
/// let after = Error::AfterAttempts { error: Box::new(Error::Timeout), attempts: Vec::new(), usage: Usage::default() };
/// assert_eq!(error_kind(&after), "Timeout");
/// ```
pub fn error_kind(error: &Error) -> &'static str {
    match error.root() {
        Error::Http { .. } => "Http",
        Error::RateLimited { .. } => "RateLimited",
        Error::QuotaExhausted { .. } => "QuotaExhausted",
        Error::Timeout => "Timeout",
        Error::Redirect { .. } => "Redirect",
        Error::Connect { .. } => "Connect",
        Error::Protocol { .. } => "Protocol",
        Error::Parse { .. } => "Parse",
        Error::Validation { .. } => "Validation",
        Error::RetriesExhausted { .. } => "RetriesExhausted",
        Error::AfterAttempts { .. } => "AfterAttempts",
        Error::Refusal { .. } => "Refusal",
        Error::ContentFilter { .. } => "ContentFilter",
        Error::IncompleteOutput { .. } => "IncompleteOutput",
        Error::UnsupportedMode { .. } => "UnsupportedMode",
        Error::SchemaIncompatible { .. } => "SchemaIncompatible",
        Error::InvalidSchema { .. } => "InvalidSchema",
        Error::ContextOverflow { .. } => "ContextOverflow",
        Error::ModelLoad { .. } => "ModelLoad",
        Error::Backend { .. } => "Backend",
        Error::LimitExceeded { .. } => "LimitExceeded",
        Error::Unsupported { .. } => "Unsupported",
        Error::Config(_) => "Config",
        Error::Journal { .. } => "Journal",
        Error::Batch { .. } => "Batch",
        Error::Media { .. } => "Media",
        Error::UnsupportedPart { .. } => "UnsupportedPart",
        Error::PartTooLarge { .. } => "PartTooLarge",
    }
}

/// Tokens a failed extraction used, where the error says.
pub(crate) fn error_usage(error: &Error) -> Usage {
    match error {
        Error::RetriesExhausted { usage, .. }
        | Error::AfterAttempts { usage, .. }
        | Error::IncompleteOutput { usage, .. } => *usage,
        _ => Usage::default(),
    }
}

/// How many answers a failed extraction asked for (transport retries not counted).
pub(crate) fn error_attempts(error: &Error) -> usize {
    match error {
        Error::RetriesExhausted { attempts, .. } => attempts.len().max(1),
        Error::AfterAttempts { attempts, .. } => attempts.len() + 1,
        _ => 1,
    }
}

/// The answer that passed, as JSON: the tool call's arguments (an array of them for
/// several), else the value in the text, repaired if it needed repair; the raw text as a
/// JSON string if no JSON can be read from it.
pub(crate) fn answer_json(response: &Response) -> Value {
    match response.tool_calls.as_slice() {
        [] => lenient(response.text.as_deref().unwrap_or_default()),
        [one] => lenient(&one.arguments.to_text()),
        many => Value::Array(
            many.iter()
                .map(|call| lenient(&call.arguments.to_text()))
                .collect(),
        ),
    }
}

fn lenient(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str(text) {
        return value;
    }
    crate::json::locate(text)
        .and_then(|(located, _)| {
            serde_json::from_str(located).ok().or_else(|| {
                crate::json::repair(located)
                    .and_then(|(fixed, _)| serde_json::from_str(&fixed).ok())
            })
        })
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

/// Where a finished item is recorded.
pub(super) struct Done<'a> {
    pub journal: Option<&'a Journal>,
    pub tally: &'a Tally,
    pub notify: Option<&'a (dyn Fn(&Progress) + Send + Sync + 'a)>,
    pub budget: Option<(&'a Budget, Ticket)>,
}

impl Done<'_> {
    /// Settles, journals and counts one finished item.
    pub(super) fn finish<T>(
        self,
        key: String,
        result: Result<(T, Completion), Error>,
    ) -> (String, Result<T, Error>) {
        let (usage, attempts) = match &result {
            Ok((_, c)) => (c.usage, c.attempts.len() + 1),
            Err(e) => (error_usage(e), error_attempts(e)),
        };
        if let Some((budget, ticket)) = self.budget {
            let sent = u32::try_from(attempts).unwrap_or(u32::MAX);
            budget.settle(ticket, usage, usage.requests.max(sent));
        }
        let mut result = result.map(|(value, completion)| (value, Some(completion)));
        if let Some(journal) = self.journal {
            let answer = match &result {
                Ok((_, Some(c))) => Some(answer_json(&c.response)),
                _ => None,
            };
            let error = result.as_ref().err().map(|e| ErrorEntry {
                kind: error_kind(e),
                message: e.to_string(),
            });
            let entry = Entry {
                key: &key,
                ok: answer.as_ref(),
                error,
                usage: usage.into(),
                attempts,
            };
            if let Err(e) = journal.append(&entry) {
                // Not recorded, so not finished: the caller is told, and a resume runs it again.
                result = Err(e);
            }
        }
        let result = result.map(|(value, _)| value);
        let progress = self
            .tally
            .finish(usage, result.as_ref().err().map(error_kind));
        if let Some(notify) = self.notify {
            notify(&progress);
        }
        (key, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_json_reads_prose_and_falls_back_to_text() {
        let r = Response::text("Sure! {\"a\": 1} done");
        assert_eq!(answer_json(&r), serde_json::json!({"a": 1}));
        let r = Response::text("no json here");
        assert_eq!(answer_json(&r), Value::String("no json here".into()));
    }

    #[test]
    fn attempts_and_usage_of_errors() {
        let e = Error::AfterAttempts {
            error: Box::new(Error::Timeout),
            attempts: Vec::new(),
            usage: Usage::new(1, 2),
        };
        assert_eq!(error_attempts(&e), 1);
        assert_eq!(error_usage(&e).total_tokens, 3);
        assert_eq!(error_attempts(&Error::Timeout), 1);
    }
}
