//! Every way an extraction can fail, as one typed [`enum@Error`]. Errors keep the model's raw
//! output and the HTTP status where there is one; they never hold credentials.

use std::time::Duration;

use crate::{Mode, Usage, ValidationErrors};

/// An extraction's failure.
///
/// ```
/// use instructor_core::Error;
/// let e = Error::Http { status: 503, body: "overloaded".into() };
/// assert!(e.is_transient());
/// assert_eq!(e.status(), Some(503));
/// let e = Error::Http { status: 401, body: "bad key".into() };
/// assert!(!e.is_transient());
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error status.
    #[error("HTTP {status}: {}", excerpt(body))]
    Http {
        /// The status code.
        status: u16,
        /// The response body (as much as was read).
        body: String,
    },

    /// HTTP 429: too many requests.
    #[error("rate limited (HTTP 429){}: {}", retry_after.map(|d| format!(", retry after {:.1}s", d.as_secs_f64())).unwrap_or_default(), excerpt(body))]
    RateLimited {
        /// How long the server asked us to wait.
        retry_after: Option<Duration>,
        /// The response body.
        body: String,
    },

    /// The account's quota or credit is used up; retrying will not help.
    #[error("quota exhausted (HTTP {status}): {}", excerpt(body))]
    QuotaExhausted {
        /// The status code.
        status: u16,
        /// The response body.
        body: String,
    },

    /// No answer within the timeout.
    #[error("the request timed out")]
    Timeout,

    /// The server redirected the request to another origin (scheme, host or port). Model
    /// APIs do not redirect in normal use, so neither the key nor the prompt is sent there by
    /// the providers' own HTTP clients. (A caller-supplied `reqwest` client follows redirects
    /// by its own policy; when its answer comes from another origin, this error names it
    /// with `status` 0, the redirect status being unknown.)
    #[error("the server redirected{} to another origin, {location}; the answer from there is not used", if *status == 0 { String::new() } else { format!(" (HTTP {status})") })]
    Redirect {
        /// The redirect status (301, 302, 303, 307 or 308), or 0 when a caller-supplied
        /// client followed the redirect and the status is unknown.
        status: u16,
        /// Where it pointed, without credentials, query string or fragment.
        location: String,
    },

    /// The connection failed or broke.
    #[error("connection failed: {message}")]
    Connect {
        /// What the transport said.
        message: String,
        /// The transport's error (without the URL), when there was one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The server's answer did not have the documented shape (or was too large, or not
    /// UTF-8).
    #[error("unexpected answer from the server: {message}")]
    Protocol {
        /// What was wrong.
        message: String,
        /// The raw body, as much as was read.
        raw: Option<String>,
        /// The decoder's error (JSON, UTF-8, transport), when there was one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The model's answer held no usable JSON, or JSON of the wrong shape.
    #[error("could not parse the model's answer: {message}")]
    Parse {
        /// The model's raw output.
        raw: String,
        /// What serde (or the extraction) said, with the JSON path.
        message: String,
    },

    /// The answer parsed but failed validation.
    #[error("the model's answer failed validation:\n{errors}")]
    Validation {
        /// The model's raw output.
        raw: String,
        /// Every failure, with JSON pointers.
        errors: ValidationErrors,
    },

    /// Every attempt failed to parse or validate; each attempt is kept.
    #[error("no valid answer after {} attempt(s); last: {}", attempts.len(), attempts.last().map(|a| a.error.to_string()).unwrap_or_default())]
    RetriesExhausted {
        /// Each attempt's raw output and error.
        attempts: Vec<Attempt>,
        /// Tokens used by all attempts together.
        usage: Usage,
    },

    /// The extraction failed with `error` after earlier attempts had failed to parse or
    /// validate (a transport error, a refusal or a broken stream on a re-ask); those
    /// attempts are kept.
    #[error("{error} (after {} failed attempt(s))", attempts.len())]
    AfterAttempts {
        /// What ended the extraction.
        #[source]
        error: Box<Error>,
        /// Each earlier attempt's raw output and error.
        attempts: Vec<Attempt>,
        /// Tokens used by all attempts together.
        usage: Usage,
    },

    /// The model refused to answer.
    #[error("the model refused: {message}")]
    Refusal {
        /// The refusal text.
        message: String,
    },

    /// The provider's content filter withheld the answer.
    #[error("the answer was withheld by the provider's content filter")]
    ContentFilter {
        /// Whatever text came back.
        raw: String,
    },

    /// The answer stopped at the token limit before it was complete; raise `max_tokens`.
    #[error("the answer hit the token limit before it was complete ({} characters so far); raise max_tokens", partial.len())]
    IncompleteOutput {
        /// The text generated so far.
        partial: String,
        /// Tokens used so far.
        usage: Usage,
    },

    /// The provider cannot honour this mode.
    #[error(
        "mode `{mode}` is not supported by the {provider} provider; it supports: {}",
        list(supported)
    )]
    UnsupportedMode {
        /// The mode asked for.
        mode: Mode,
        /// The provider's name.
        provider: String,
        /// The modes it does support.
        supported: Vec<Mode>,
    },

    /// The type's schema cannot be expressed in the provider's schema dialect.
    #[error("the schema cannot be used with this provider: {message}")]
    SchemaIncompatible {
        /// What cannot be expressed, and where.
        message: String,
    },

    /// A runtime JSON schema is not a valid schema (it breaks the meta-schema, has an
    /// unresolvable `$ref` or a bad regular expression); found when it is compiled, before
    /// any request.
    #[error("invalid JSON schema at `{path}`: {message}")]
    InvalidSchema {
        /// JSON pointer to the offending part of the schema (empty for its root).
        path: String,
        /// What is wrong.
        message: String,
    },

    /// The prompt does not fit the model's context window.
    #[error("the prompt is {prompt_tokens} tokens, and the model's context holds {context_tokens}; shorten it or raise the context size")]
    ContextOverflow {
        /// Tokens in the prompt.
        prompt_tokens: usize,
        /// The context size.
        context_tokens: usize,
    },

    /// A local model could not be loaded (missing or corrupt file, too little memory).
    #[error("could not load the model at {path}: {message}")]
    ModelLoad {
        /// The model file.
        path: String,
        /// What went wrong.
        message: String,
    },

    /// An in-process model failed while running: a decode error, a worker that stopped, a
    /// grammar that allows no next token. The backend's own error is kept as the source.
    #[error("the local model failed: {message}")]
    Backend {
        /// What failed.
        message: String,
        /// The backend's error, when it gave one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A streamed answer passed a configured limit (size or nesting depth).
    #[error("the answer exceeds the {what} limit of {limit}")]
    LimitExceeded {
        /// Which limit.
        what: String,
        /// Its value.
        limit: usize,
    },

    /// Something the provider or client cannot do.
    #[error("not supported: {what}")]
    Unsupported {
        /// What was asked.
        what: String,
    },

    /// A media part could not be made: a file that cannot be read, base64 text that does
    /// not decode, bytes of no known media type or of another kind than asked, or more bytes
    /// than [`media::MAX_BYTES`](crate::media::MAX_BYTES).
    #[error("media part: {message}")]
    Media {
        /// What was wrong.
        message: String,
        /// The file system's or decoder's error, when there was one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A message part the provider (for this mode and model) cannot take; nothing was sent.
    #[error("message {message}, part {part}: the {provider} provider cannot take this {kind} part: {reason}")]
    UnsupportedPart {
        /// The provider's name.
        provider: String,
        /// Which message (0-based, in the request's messages; a mode's instructions may have
        /// put a system message before the caller's first).
        message: usize,
        /// Which part of that message (0-based).
        part: usize,
        /// The part's kind.
        kind: crate::media::MediaKind,
        /// Why it cannot be taken.
        reason: String,
    },

    /// A media part larger than the provider takes; nothing was sent.
    #[error("message {message}, part {part}: the {kind} is {bytes} bytes, over the {provider} provider's limit of {limit} bytes")]
    PartTooLarge {
        /// The provider's name.
        provider: String,
        /// Which message (0-based, in the request's messages; a mode's instructions may have
        /// put a system message before the caller's first).
        message: usize,
        /// Which part of that message (0-based).
        part: usize,
        /// The part's kind.
        kind: crate::media::MediaKind,
        /// Its size, in decoded bytes.
        bytes: u64,
        /// The provider's limit, in bytes.
        limit: u64,
    },

    /// A bulk run's journal could not be opened, read or written, or a file that is not a
    /// journal was given as one (it is then left untouched).
    #[error("bulk journal {path}: {message}")]
    Journal {
        /// The journal's path.
        path: String,
        /// What failed.
        message: String,
        /// The file system's or decoder's error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A provider batch, or one item of it, gave no answer: the batch failed validation,
    /// expired or was cancelled, the item errored, or the results hold no line for it.
    #[error("batch {outcome}: {message}")]
    Batch {
        /// What happened.
        outcome: crate::batch::BatchOutcome,
        /// The provider's words, or ours.
        message: String,
    },

    /// A configuration problem (a missing environment variable, an unknown provider, ...).
    #[error("configuration error: {0}")]
    Config(String),
}

/// One failed attempt of an extraction: the raw output and why it was rejected.
#[derive(Debug)]
pub struct Attempt {
    /// The model's raw output (tool arguments or text).
    pub raw: String,
    /// The parse or validation error. Its own copy of the raw output is moved to
    /// [`Attempt::raw`] (so a large answer is not held twice): read the output there.
    pub error: Error,
    /// Tokens this attempt used.
    pub usage: Usage,
}

fn excerpt(body: &str) -> &str {
    const MAX: usize = 500;
    if body.len() <= MAX {
        return body;
    }
    let mut end = MAX;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    &body[..end]
}

fn list(modes: &[Mode]) -> String {
    modes
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    /// Whether retrying the same request may succeed: connection failures, timeouts,
    /// 429, and 5xx (and 408) statuses.
    ///
    /// ```
    /// assert!(instructor_core::Error::Timeout.is_transient());
    /// assert!(!instructor_core::Error::Config("x".into()).is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        match self {
            Error::AfterAttempts { error, .. } => error.is_transient(),
            Error::Timeout | Error::Connect { .. } | Error::RateLimited { .. } => true,
            Error::Http { status, .. } => *status == 408 || (500..600).contains(status),
            _ => false,
        }
    }

    /// The HTTP status, when the error came with one.
    ///
    /// ```
    /// use instructor_core::Error;
    /// assert_eq!(Error::RateLimited { retry_after: None, body: String::new() }.status(), Some(429));
    /// ```
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::AfterAttempts { error, .. } => error.status(),
            Error::Http { status, .. } | Error::QuotaExhausted { status, .. } => Some(*status),
            Error::Redirect { status, .. } => (*status != 0).then_some(*status),
            Error::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The model's raw output, for parse and validation failures.
    ///
    /// ```
    /// let e = instructor_core::Error::Parse { raw: "{".into(), message: "EOF".into() };
    /// assert_eq!(e.raw_output(), Some("{"));
    /// ```
    pub fn raw_output(&self) -> Option<&str> {
        match self {
            Error::Parse { raw, .. }
            | Error::Validation { raw, .. }
            | Error::ContentFilter { raw } => Some(raw),
            Error::IncompleteOutput { partial, .. } => Some(partial),
            Error::RetriesExhausted { attempts, .. } => attempts.last().map(|a| a.raw.as_str()),
            Error::AfterAttempts { error, .. } => error.raw_output(),
            _ => None,
        }
    }
}

impl Error {
    /// What ended the extraction, behind [`Error::AfterAttempts`] if it is one.
    ///
    /// ```
    /// use instructor_core::{Error, Usage};
    /// let e = Error::AfterAttempts { error: Box::new(Error::Timeout), attempts: Vec::new(), usage: Usage::default() };
    /// assert!(matches!(e.root(), Error::Timeout));
    /// ```
    pub fn root(&self) -> &Error {
        match self {
            Error::AfterAttempts { error, .. } => error.root(),
            other => other,
        }
    }

    /// Moves the raw output out of a parse or validation error (leaving it empty).
    pub(crate) fn take_raw(&mut self) -> String {
        match self {
            Error::Parse { raw, .. } | Error::Validation { raw, .. } => std::mem::take(raw),
            _ => String::new(),
        }
    }
}

/// `Result` with this crate's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
