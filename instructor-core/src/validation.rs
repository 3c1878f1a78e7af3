//! Validation failures: every error a value has, each with the JSON pointer of the value it
//! concerns, rendered so that a model can read and fix them in a re-ask; and the
//! [`ValidationContext`] validators may read: the call's messages and a caller's value.

use std::any::Any;
use std::fmt;
use std::sync::OnceLock;

use crate::{Message, Part, Role};

/// One failed check: where (a JSON pointer such as `/users/2/age`) and what.
///
/// ```
/// use instructor_core::ValidationError;
/// let e = ValidationError::new("/age", "must be at most 150, got 200");
/// assert_eq!(e.to_string(), "/age: must be at most 150, got 200");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// JSON pointer (RFC 6901) to the offending value; empty for the whole value.
    pub path: String,
    /// What is wrong, written for a model to read.
    pub message: String,
}

impl ValidationError {
    /// A failure at `path` with `message`.
    ///
    /// ```
    /// # use instructor_core::ValidationError;
    /// let e = ValidationError::new("", "start must come before end");
    /// assert_eq!(e.path, "");
    /// ```
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "(root): {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every validation failure of a value, collected rather than stopping at the first.
///
/// ```
/// use instructor_core::{ValidationErrors, JsonPointer};
/// let mut errors = ValidationErrors::new();
/// let mut path = JsonPointer::new();
/// path.push_key("age");
/// errors.push(&path, "must be at most 150, got 200");
/// assert_eq!(errors.len(), 1);
/// assert!(errors.to_string().contains("/age"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: Vec<ValidationError>,
}

impl ValidationErrors {
    /// No errors yet.
    ///
    /// ```
    /// assert!(instructor_core::ValidationErrors::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a failure at the pointer's current position.
    ///
    /// ```
    /// # use instructor_core::{ValidationErrors, JsonPointer};
    /// let mut errors = ValidationErrors::new();
    /// errors.push(&JsonPointer::new(), "empty list");
    /// assert_eq!(errors.iter().next().map(|e| e.path.as_str()), Some(""));
    /// ```
    pub fn push(&mut self, path: &JsonPointer, message: impl Into<String>) {
        self.errors
            .push(ValidationError::new(path.as_str(), message.into()));
    }

    /// Adds an already built error.
    ///
    /// ```
    /// # use instructor_core::{ValidationErrors, ValidationError};
    /// let mut errors = ValidationErrors::new();
    /// errors.add(ValidationError::new("/a", "bad"));
    /// assert_eq!(errors.len(), 1);
    /// ```
    pub fn add(&mut self, error: ValidationError) {
        self.errors.push(error);
    }

    /// Whether nothing failed.
    ///
    /// ```
    /// assert!(instructor_core::ValidationErrors::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// How many failures.
    ///
    /// ```
    /// assert_eq!(instructor_core::ValidationErrors::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// The failures in the order they were found.
    ///
    /// ```
    /// assert_eq!(instructor_core::ValidationErrors::new().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.errors.iter()
    }

    /// `Ok(())` when empty, else `Err(self)`.
    ///
    /// ```
    /// assert!(instructor_core::ValidationErrors::new().into_result().is_ok());
    /// ```
    pub fn into_result(self) -> Result<(), Self> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "- {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// A JSON pointer built while walking a value: push a segment before validating a child,
/// pop it after. One buffer, no allocation per level once it has grown.
///
/// ```
/// use instructor_core::JsonPointer;
/// let mut p = JsonPointer::new();
/// p.push_key("users");
/// p.push_index(2);
/// p.push_key("a/b");
/// assert_eq!(p.as_str(), "/users/2/a~1b");
/// p.pop();
/// p.pop();
/// assert_eq!(p.as_str(), "/users");
/// ```
#[derive(Debug, Clone, Default)]
pub struct JsonPointer {
    buf: String,
    marks: Vec<usize>,
}

impl JsonPointer {
    /// The root pointer (`""`).
    ///
    /// ```
    /// assert_eq!(instructor_core::JsonPointer::new().as_str(), "");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Descends into an object member, escaping `~` and `/` as RFC 6901 requires.
    ///
    /// ```
    /// # let mut p = instructor_core::JsonPointer::new();
    /// p.push_key("x~y");
    /// assert_eq!(p.as_str(), "/x~0y");
    /// p.push_key("a/b");
    /// p.push_key("été");
    /// assert_eq!(p.as_str(), "/x~0y/a~1b/été");
    /// ```
    pub fn push_key(&mut self, key: &str) {
        self.marks.push(self.buf.len());
        self.buf.push('/');
        if !key.bytes().any(|b| b == b'~' || b == b'/') {
            self.buf.push_str(key);
            return;
        }
        for c in key.chars() {
            match c {
                '~' => self.buf.push_str("~0"),
                '/' => self.buf.push_str("~1"),
                c => self.buf.push(c),
            }
        }
    }

    /// Descends into an array element.
    ///
    /// ```
    /// # let mut p = instructor_core::JsonPointer::new();
    /// p.push_index(3);
    /// assert_eq!(p.as_str(), "/3");
    /// p.push_index(1020);
    /// assert_eq!(p.as_str(), "/3/1020");
    /// ```
    pub fn push_index(&mut self, index: usize) {
        self.marks.push(self.buf.len());
        self.buf.push('/');
        // The digits, last first (no formatting machinery: this runs for every element).
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        let mut n = index;
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf
            .extend(digits[start..].iter().map(|&d| char::from(d)));
    }

    /// Returns to the parent; a no-op at the root.
    ///
    /// ```
    /// # let mut p = instructor_core::JsonPointer::new();
    /// p.pop();
    /// assert_eq!(p.as_str(), "");
    /// ```
    pub fn pop(&mut self) {
        if let Some(mark) = self.marks.pop() {
            self.buf.truncate(mark);
        }
    }

    /// The pointer as text.
    ///
    /// ```
    /// assert_eq!(instructor_core::JsonPointer::new().as_str(), "");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.buf
    }
}

/// What a validator may know about the call it validates for: the messages the caller sent
/// (as the first request carried them, never the re-asks) and a value the caller attached
/// with [`Create::context`](crate::Create::context). Python instructor calls this
/// `validation_context`.
///
/// The extraction loop, the streams and [`Prepared::interpret`](crate::engine::Prepared::interpret)
/// validate with the call's context; [`Instruct::validate`](crate::Instruct::validate)
/// validates with [`ValidationContext::empty`], where checks that need the source (such as
/// `#[instruct(verbatim)]`) are skipped.
///
/// ```
/// use instructor_core::{Message, ValidationContext};
/// struct Glossary(Vec<&'static str>);
///
/// let messages = [Message::system("Extract quotes."), Message::user("Jason  said:\n\"hello\"")];
/// let glossary = Glossary(vec!["hello"]);
/// let ctx = ValidationContext::new(&messages).with_value(&glossary);
/// assert_eq!(ctx.messages().len(), 2);
/// assert_eq!(ctx.user_text(), "Jason  said:\n\"hello\"");
/// assert!(ctx.is_verbatim("Jason said: \"hello\""));
/// assert!(!ctx.is_verbatim("jason said"));
/// assert_eq!(ctx.value::<Glossary>().map(|g| g.0.len()), Some(1));
/// assert!(ctx.value::<String>().is_none());
/// ```
pub struct ValidationContext<'a> {
    messages: &'a [Message],
    value: Option<&'a (dyn Any + Send + Sync)>,
    texts: Texts<'a>,
}

/// The user text of a context, worked out on first use. An extraction keeps one for all its
/// attempts and items, so a long source is read once per call, not once per validation.
#[derive(Debug, Default)]
pub(crate) struct SourceText {
    /// The user messages' text parts, joined.
    joined: OnceLock<String>,
    /// Each user text part with its whitespace collapsed (see [`collapse`]).
    collapsed: OnceLock<Vec<String>>,
}

enum Texts<'a> {
    Owned(SourceText),
    Shared(&'a SourceText),
}

impl SourceText {
    fn joined(&self, messages: &[Message]) -> &str {
        self.joined.get_or_init(|| {
            let mut out = String::new();
            for text in user_texts(messages) {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(text);
            }
            out
        })
    }

    fn collapsed(&self, messages: &[Message]) -> &[String] {
        self.collapsed.get_or_init(|| {
            user_texts(messages)
                .map(|t| {
                    let mut out = String::with_capacity(t.len());
                    collapse(t, &mut out);
                    out
                })
                .collect()
        })
    }
}

/// Every text part of every user message, in order.
fn user_texts(messages: &[Message]) -> impl Iterator<Item = &str> {
    messages
        .iter()
        .filter(|m| m.role == Role::User)
        .flat_map(|m| &m.content)
        .filter_map(|p| match p {
            Part::Text(t) => Some(t.as_str()),
            _ => None,
        })
}

/// Appends `s` to `out` with every run of whitespace written as one space and none at
/// either end: the normalisation of [`ValidationContext::is_verbatim`].
fn collapse(s: &str, out: &mut String) {
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

impl<'a> ValidationContext<'a> {
    /// No call: no messages, no value. What [`Instruct::validate`](crate::Instruct::validate)
    /// uses.
    ///
    /// ```
    /// let ctx = instructor_core::ValidationContext::empty();
    /// assert!(ctx.messages().is_empty());
    /// assert_eq!(ctx.user_text(), "");
    /// ```
    pub const fn empty() -> Self {
        Self {
            messages: &[],
            value: None,
            texts: Texts::Owned(SourceText {
                joined: OnceLock::new(),
                collapsed: OnceLock::new(),
            }),
        }
    }

    /// A context for a conversation, to validate a value against it yourself (with
    /// [`Instruct::validate_with`](crate::Instruct::validate_with)).
    ///
    /// ```
    /// let messages = [instructor_core::Message::user("Jason is 30")];
    /// let ctx = instructor_core::ValidationContext::new(&messages);
    /// assert_eq!(ctx.messages().len(), 1);
    /// ```
    pub fn new(messages: &'a [Message]) -> Self {
        Self {
            messages,
            value: None,
            texts: Texts::Owned(SourceText::default()),
        }
    }

    /// The context of a call, sharing the call's cache of the user text.
    pub(crate) fn shared(
        messages: &'a [Message],
        value: Option<&'a (dyn Any + Send + Sync)>,
        texts: &'a SourceText,
    ) -> Self {
        Self {
            messages,
            value,
            texts: Texts::Shared(texts),
        }
    }

    /// Attaches a value for validators to read with [`ValidationContext::value`] (what
    /// [`Create::context`](crate::Create::context) does for a call).
    ///
    /// ```
    /// let limit = 3usize;
    /// let ctx = instructor_core::ValidationContext::empty().with_value(&limit);
    /// assert_eq!(ctx.value::<usize>(), Some(&3));
    /// ```
    pub fn with_value<C: Any + Send + Sync>(mut self, value: &'a C) -> Self {
        self.value = Some(value);
        self
    }

    /// The caller's messages, as the first request sent them: in the `Json` and `MdJson`
    /// modes the system message also carries the schema instructions. Re-asks (the model's
    /// failed answers and the feedback) are not included.
    ///
    /// ```
    /// let ctx = instructor_core::ValidationContext::empty();
    /// assert!(ctx.messages().is_empty());
    /// ```
    pub fn messages(&self) -> &'a [Message] {
        self.messages
    }

    /// The value the caller attached, if it is a `C` (the type given to
    /// [`Create::context`](crate::Create::context)).
    ///
    /// ```
    /// let name = String::from("Jason");
    /// let ctx = instructor_core::ValidationContext::empty().with_value(&name);
    /// assert_eq!(ctx.value::<String>().map(String::as_str), Some("Jason"));
    /// assert_eq!(ctx.value::<&str>(), None);
    /// ```
    pub fn value<C: Any>(&self) -> Option<&'a C> {
        self.value.and_then(|v| v.downcast_ref::<C>())
    }

    /// The text of every user message (their text parts; images are left out), joined with
    /// newlines. Worked out once per call.
    ///
    /// ```
    /// use instructor_core::{Message, ValidationContext};
    /// let messages = [Message::system("Be brief."), Message::user("a"), Message::user("b")];
    /// assert_eq!(ValidationContext::new(&messages).user_text(), "a\nb");
    /// ```
    pub fn user_text(&self) -> &str {
        self.texts().joined(self.messages)
    }

    /// Whether `value` was copied from the user text: it occurs as a substring of one user
    /// text part once whitespace is normalised on both sides (each run of spaces, tabs or
    /// line breaks counts as one space; leading and trailing whitespace is ignored). Case,
    /// punctuation and every other character must match exactly. An empty (or all
    /// whitespace) value occurs in any text.
    ///
    /// ```
    /// use instructor_core::{Message, ValidationContext};
    /// let messages = [Message::user("The meeting is on\n  Tuesday, 3 May.")];
    /// let ctx = ValidationContext::new(&messages);
    /// assert!(ctx.is_verbatim("on Tuesday, 3 May"));
    /// assert!(ctx.is_verbatim("  meeting   is "));
    /// assert!(!ctx.is_verbatim("on tuesday"));
    /// assert!(!ctx.is_verbatim("Tuesday 3 May"));
    /// ```
    pub fn is_verbatim(&self, value: &str) -> bool {
        let mut needle = String::with_capacity(value.len());
        collapse(value, &mut needle);
        needle.is_empty()
            || self
                .texts()
                .collapsed(self.messages)
                .iter()
                .any(|t| t.contains(&needle))
    }

    fn texts(&self) -> &SourceText {
        match &self.texts {
            Texts::Owned(t) => t,
            Texts::Shared(t) => t,
        }
    }
}

impl Default for ValidationContext<'_> {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for ValidationContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidationContext")
            .field("messages", &self.messages.len())
            .field("value", &self.value.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Image;

    #[test]
    fn verbatim_collapses_whitespace_and_nothing_else() {
        let messages = [
            Message::system("System text is not a source."),
            Message::user_with_image("Zoë  O'Neil\twrote:\r\n«ça va»", Image::Url("u".into())),
            Message::assistant("Assistant text is not a source."),
            Message::user("second turn"),
        ];
        let ctx = ValidationContext::new(&messages);
        assert!(ctx.is_verbatim("Zoë O'Neil wrote: «ça va»"));
        assert!(ctx.is_verbatim("\n O'Neil\u{a0}wrote "));
        assert!(ctx.is_verbatim("second turn"));
        assert!(ctx.is_verbatim(""));
        assert!(!ctx.is_verbatim("zoë"));
        assert!(!ctx.is_verbatim("ZoëO'Neil"));
        assert!(!ctx.is_verbatim("System text"));
        assert!(!ctx.is_verbatim("Assistant text"));
        // Each user text part is its own source: no match across two of them.
        assert!(!ctx.is_verbatim("ça va» second"));
        assert_eq!(
            ctx.user_text(),
            "Zoë  O'Neil\twrote:\r\n«ça va»\nsecond turn"
        );
    }

    #[test]
    fn values_are_found_by_their_type() {
        #[derive(Debug, PartialEq)]
        struct Source(&'static str);
        let source = Source("doc");
        let ctx = ValidationContext::empty().with_value(&source);
        assert_eq!(ctx.value::<Source>(), Some(&Source("doc")));
        assert_eq!(ctx.value::<&'static str>(), None);
        assert!(ValidationContext::empty().value::<Source>().is_none());
        assert_eq!(
            format!("{ctx:?}"),
            "ValidationContext { messages: 0, value: true }"
        );
    }

    #[test]
    fn a_shared_cache_is_filled_once() {
        let messages = [Message::user("a  b")];
        let cache = SourceText::default();
        let first = ValidationContext::shared(&messages, None, &cache);
        assert!(first.is_verbatim("a b"));
        let second = ValidationContext::shared(&messages, None, &cache);
        assert_eq!(second.texts().collapsed.get().map(Vec::len), Some(1));
        assert!(second.is_verbatim("b"));
    }
}
