//! The runtime half of the validators that read the call's [`ValidationContext`]
//! (`verbatim`), and how a user's validator function's result is recorded (`custom`,
//! `custom_with_context`, `validate`, `validate_with_context`).

use std::fmt::Display;

use crate::validation::ValidationContext;
use crate::{JsonPointer, ValidationError, ValidationErrors};

/// What `verbatim` reads: the text of a `String`, or of each string inside an `Option` or a
/// `Vec` (each under its own pointer).
#[diagnostic::on_unimplemented(
    message = "`verbatim` does not apply to `{Self}`",
    label = "`verbatim` needs a String, or an Option or Vec of String",
    note = "a verbatim value is text copied from the input, so the field must hold text"
)]
pub trait CheckVerbatim {
    /// Calls `f` with each text the value holds and its pointer.
    fn each_text(&self, path: &JsonPointer, f: &mut dyn FnMut(&str, &JsonPointer));
}

impl CheckVerbatim for String {
    fn each_text(&self, path: &JsonPointer, f: &mut dyn FnMut(&str, &JsonPointer)) {
        f(self, path);
    }
}

impl<T: CheckVerbatim> CheckVerbatim for Option<T> {
    fn each_text(&self, path: &JsonPointer, f: &mut dyn FnMut(&str, &JsonPointer)) {
        if let Some(v) = self {
            v.each_text(path, f);
        }
    }
}

impl<T: CheckVerbatim> CheckVerbatim for Vec<T> {
    fn each_text(&self, path: &JsonPointer, f: &mut dyn FnMut(&str, &JsonPointer)) {
        if self.is_empty() {
            return;
        }
        let mut item = path.clone();
        for (i, v) in self.iter().enumerate() {
            item.push_index(i);
            v.each_text(&item, f);
            item.pop();
        }
    }
}

/// What a verbatim field's description gains, so the model knows before any re-ask.
pub const VERBATIM_NOTE: &str = "Copied verbatim from the input text.";

/// How much of an invented value the failure quotes.
const SHOWN: usize = 120;

/// Checks `verbatim`: each text must occur in the user text (see
/// [`ValidationContext::is_verbatim`]). Skipped without a source (no messages), as when
/// validating with [`Instruct::validate`](crate::Instruct::validate). `what` names the
/// field for the model ("`quote`").
pub fn check_verbatim<T: CheckVerbatim + ?Sized>(
    value: &T,
    context: &ValidationContext<'_>,
    what: &str,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    if context.messages().is_empty() {
        return;
    }
    value.each_text(path, &mut |text, at| {
        if !context.is_verbatim(text) {
            errors.push(at, verbatim_failure(what, text));
        }
    });
}

fn verbatim_failure(what: &str, text: &str) -> String {
    let mut end = text.len().min(SHOWN);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let shown = if end < text.len() {
        format!("{:?}…", &text[..end])
    } else {
        format!("{text:?}")
    };
    format!(
        "{what} must be copied verbatim from the input text, but {shown} does not occur in it; quote the text exactly as written"
    )
}

/// Appends a note to a schema's description (or starts one).
pub fn append_description(schema: &mut serde_json::Value, note: &str) {
    let text = match schema
        .get("description")
        .and_then(serde_json::Value::as_str)
    {
        Some(d) if !d.is_empty() => format!("{d}\n{note}"),
        _ => note.to_owned(),
    };
    crate::schema::describe(schema, &text);
}

/// A user validator's result, recorded by [`ReportErrors::report`] when it holds
/// validation errors (each kept at its own path, under the value's) and by
/// [`ReportDisplay::report`] for any other error that can be displayed (one failure at the
/// value's path). Generated code calls `(&Outcome(result)).report(path, errors)` with both
/// traits in scope; method resolution picks the first.
pub struct Outcome<E>(pub Result<(), E>);

/// Records validation errors returned by a validator, each under the value's path.
pub trait ReportErrors {
    /// Records the failures.
    fn report(self, path: &JsonPointer, errors: &mut ValidationErrors);
}

impl ReportErrors for &Outcome<ValidationErrors> {
    fn report(self, path: &JsonPointer, errors: &mut ValidationErrors) {
        if let Err(found) = &self.0 {
            for e in found {
                errors.add(nested(path, e));
            }
        }
    }
}

impl ReportErrors for &Outcome<ValidationError> {
    fn report(self, path: &JsonPointer, errors: &mut ValidationErrors) {
        if let Err(e) = &self.0 {
            errors.add(nested(path, e));
        }
    }
}

fn nested(path: &JsonPointer, e: &ValidationError) -> ValidationError {
    ValidationError::new(format!("{}{}", path.as_str(), e.path), e.message.clone())
}

/// Records any other error, which must be displayable, as one failure at the value's
/// path. (The bound is on the method, not the impl, so that an error type that is neither
/// is reported as "doesn't implement `Display`" at the user's function.)
pub trait ReportDisplay<E> {
    /// Records the failure.
    fn report(self, path: &JsonPointer, errors: &mut ValidationErrors)
    where
        E: Display;
}

impl<E> ReportDisplay<E> for &&Outcome<E> {
    fn report(self, path: &JsonPointer, errors: &mut ValidationErrors)
    where
        E: Display,
    {
        if let Err(e) = &self.0 {
            errors.push(path, e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn failures(f: impl FnOnce(&mut ValidationErrors)) -> Vec<String> {
        let mut errors = ValidationErrors::new();
        f(&mut errors);
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn verbatim_checks_each_text_at_its_pointer() {
        let messages = [Message::user("Jason said hello to Ann.")];
        let ctx = ValidationContext::new(&messages);
        let mut path = JsonPointer::new();
        path.push_key("quotes");
        let value = vec![
            Some("said hello".to_owned()),
            None,
            Some("waved".to_owned()),
        ];
        let got = failures(|e| check_verbatim(&value, &ctx, "`quotes`", &path, e));
        assert_eq!(
            got,
            ["/quotes/2: `quotes` must be copied verbatim from the input text, but \"waved\" does not occur in it; quote the text exactly as written"]
        );
        // No source: nothing to compare with, so nothing is checked.
        let got =
            failures(|e| check_verbatim(&value, &ValidationContext::empty(), "`quotes`", &path, e));
        assert!(got.is_empty());
    }

    #[test]
    fn long_invented_values_are_quoted_in_part() {
        let message = verbatim_failure("`q`", &"é".repeat(500));
        assert!(message.contains("…"), "{message}");
        assert!(message.len() < 400, "{}", message.len());
    }

    #[test]
    fn validator_results_keep_their_own_paths() {
        let mut path = JsonPointer::new();
        path.push_key("window");
        let mut inner = ValidationErrors::new();
        inner.add(ValidationError::new("/end", "before start"));
        inner.add(ValidationError::new("", "too long"));
        let got = failures(|e| (&Outcome(Err(inner))).report(&path, e));
        assert_eq!(got, ["/window/end: before start", "/window: too long"]);
        let got = failures(|e| (&Outcome(Err("bad"))).report(&path, e));
        assert_eq!(got, ["/window: bad"]);
        let one = ValidationError::new("/a", "x");
        let got = failures(|e| (&Outcome(Err(one))).report(&path, e));
        assert_eq!(got, ["/window/a: x"]);
        let got = failures(|e| (&Outcome::<String>(Ok(()))).report(&path, e));
        assert!(got.is_empty());
        let mut schema = serde_json::json!({"type": "string", "description": "A quote."});
        append_description(&mut schema, VERBATIM_NOTE);
        assert_eq!(
            schema["description"],
            "A quote.\nCopied verbatim from the input text."
        );
        let mut schema = serde_json::json!({"type": "string"});
        append_description(&mut schema, VERBATIM_NOTE);
        assert_eq!(schema["description"], VERBATIM_NOTE);
    }
}
