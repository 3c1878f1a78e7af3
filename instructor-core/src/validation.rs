//! Validation failures: every error a value has, each with the JSON pointer of the value it
//! concerns, rendered so that a model can read and fix them in a re-ask.

use std::fmt;

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
    /// ```
    pub fn push_key(&mut self, key: &str) {
        self.marks.push(self.buf.len());
        self.buf.push('/');
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
    /// ```
    pub fn push_index(&mut self, index: usize) {
        use std::fmt::Write;
        self.marks.push(self.buf.len());
        // Writing to a String cannot fail.
        let _ = write!(self.buf, "/{index}");
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
