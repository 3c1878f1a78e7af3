//! The runtime half of each field validator. Each check is a trait implemented for the
//! types it applies to, so a validator on the wrong type is a compile error at the field.
//! Messages are written for a model to read in a re-ask.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt::Display;
use std::sync::OnceLock;

use regex::Regex;

use crate::{JsonPointer, ValidationErrors};

/// Bounds of a `range(...)` validator.
#[derive(Debug, Clone, Copy, Default)]
pub struct Range {
    /// Inclusive lower bound.
    pub min: Option<f64>,
    /// Inclusive upper bound.
    pub max: Option<f64>,
    /// Exclusive lower bound.
    pub exclusive_min: Option<f64>,
    /// Exclusive upper bound.
    pub exclusive_max: Option<f64>,
}

/// Numbers `range` applies to.
#[diagnostic::on_unimplemented(
    message = "`range` does not apply to `{Self}`",
    label = "`range` needs a number (or an Option of one)",
    note = "for the length of strings and collections use `length(min = .., max = ..)`"
)]
pub trait CheckRange {
    /// Checks the bounds, recording a failure at `path`.
    fn check_range(&self, range: &Range, path: &JsonPointer, errors: &mut ValidationErrors);
}

fn range_failure(v: f64, shown: &dyn Display, r: &Range) -> Option<String> {
    if let Some(min) = r.min {
        if v < min {
            return Some(format!("must be at least {min}, got {shown}"));
        }
    }
    if let Some(max) = r.max {
        if v > max {
            return Some(format!("must be at most {max}, got {shown}"));
        }
    }
    if let Some(min) = r.exclusive_min {
        if v <= min {
            return Some(format!("must be greater than {min}, got {shown}"));
        }
    }
    if let Some(max) = r.exclusive_max {
        if v >= max {
            return Some(format!("must be less than {max}, got {shown}"));
        }
    }
    None
}

macro_rules! range_numbers {
    ($($t:ty),*) => {$(
        impl CheckRange for $t {
            fn check_range(&self, range: &Range, path: &JsonPointer, errors: &mut ValidationErrors) {
                if let Some(msg) = range_failure(*self as f64, self, range) {
                    errors.push(path, msg);
                }
            }
        }
    )*};
}
range_numbers!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

impl<T: CheckRange> CheckRange for Option<T> {
    fn check_range(&self, range: &Range, path: &JsonPointer, errors: &mut ValidationErrors) {
        if let Some(v) = self {
            v.check_range(range, path, errors);
        }
    }
}

/// What `length` and `non_empty` measure: characters of a string, items of a collection.
#[diagnostic::on_unimplemented(
    message = "`length`/`non_empty` do not apply to `{Self}`",
    label = "needs a String or a collection (or an Option of one)",
    note = "for numbers use `range(min = .., max = ..)`"
)]
pub trait CheckLength {
    /// The length and its unit, or `None` when there is nothing to check (`None` option).
    fn length(&self) -> Option<(usize, &'static str)>;
}

impl CheckLength for String {
    fn length(&self) -> Option<(usize, &'static str)> {
        Some((self.chars().count(), "characters"))
    }
}

macro_rules! collection_length {
    ($($t:ty),*) => {$(
        impl<T> CheckLength for $t {
            fn length(&self) -> Option<(usize, &'static str)> {
                Some((self.len(), "items"))
            }
        }
    )*};
}
collection_length!(Vec<T>, VecDeque<T>, BTreeSet<T>);

impl<T, const N: usize> CheckLength for [T; N] {
    fn length(&self) -> Option<(usize, &'static str)> {
        Some((N, "items"))
    }
}

impl<T, S> CheckLength for HashSet<T, S> {
    fn length(&self) -> Option<(usize, &'static str)> {
        Some((self.len(), "items"))
    }
}

impl<K, V, S> CheckLength for HashMap<K, V, S> {
    fn length(&self) -> Option<(usize, &'static str)> {
        Some((self.len(), "entries"))
    }
}

impl<K, V> CheckLength for BTreeMap<K, V> {
    fn length(&self) -> Option<(usize, &'static str)> {
        Some((self.len(), "entries"))
    }
}

impl<T: CheckLength> CheckLength for Option<T> {
    fn length(&self) -> Option<(usize, &'static str)> {
        self.as_ref().and_then(CheckLength::length)
    }
}

/// Checks `length(min, max)`.
pub fn check_length<T: CheckLength + ?Sized>(
    value: &T,
    min: Option<usize>,
    max: Option<usize>,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    let Some((n, unit)) = value.length() else {
        return;
    };
    if let Some(min) = min {
        if n < min {
            let msg = if min == 1 {
                "must not be empty".to_owned()
            } else {
                format!("must have at least {min} {unit}, got {n}")
            };
            errors.push(path, msg);
            return;
        }
    }
    if let Some(max) = max {
        if n > max {
            errors.push(path, format!("must have at most {max} {unit}, got {n}"));
        }
    }
}

/// Text that `pattern`, `email` and `url` look at.
#[diagnostic::on_unimplemented(
    message = "`pattern`/`email`/`url` do not apply to `{Self}`",
    label = "needs a String (or an Option of one)"
)]
pub trait CheckText {
    /// The text, or `None` when there is nothing to check.
    fn text(&self) -> Option<&str>;
}

impl CheckText for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl<T: CheckText> CheckText for Option<T> {
    fn text(&self) -> Option<&str> {
        self.as_ref().and_then(CheckText::text)
    }
}

/// A regex compiled on first use, once per process.
#[derive(Debug)]
pub struct LazyRegex {
    pattern: &'static str,
    cell: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// A regex for `pattern` (already checked to compile when the derive expanded).
    pub const fn new(pattern: &'static str) -> Self {
        Self {
            pattern,
            cell: OnceLock::new(),
        }
    }

    fn get(&self) -> Option<&Regex> {
        self.cell
            .get_or_init(|| Regex::new(self.pattern).ok())
            .as_ref()
    }
}

/// Checks `pattern = "..."`: the value must contain a match (anchor with `^…$` for a whole
/// match, as JSON Schema's `pattern` does).
pub fn check_pattern<T: CheckText + ?Sized>(
    value: &T,
    regex: &LazyRegex,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    let Some(text) = value.text() else { return };
    match regex.get() {
        Some(re) if re.is_match(text) => {}
        Some(_) => errors.push(
            path,
            format!("must match the pattern `{}`, got {text:?}", regex.pattern),
        ),
        None => errors.push(
            path,
            format!("the pattern `{}` does not compile", regex.pattern),
        ),
    }
}

/// A loose email check: one `@`, something before it, a dotted domain after it, no spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && !s.chars().any(char::is_whitespace)
        && domain
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-'))
        && domain.contains('.')
}

/// A loose URL check: `scheme://host...` with a letter-led scheme and a non-empty host.
pub fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    scheme_ok && !host.is_empty() && !s.chars().any(char::is_whitespace)
}

/// Pushes `message(text)` when the value has text and `ok(text)` is false.
fn check_text<T: CheckText + ?Sized>(
    value: &T,
    ok: fn(&str) -> bool,
    message: fn(&str) -> String,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    if let Some(text) = value.text().filter(|text| !ok(text)) {
        errors.push(path, message(text));
    }
}

/// Checks `email`.
pub fn check_email<T: CheckText + ?Sized>(
    value: &T,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    let message = |text: &str| format!("must be an email address, got {text:?}");
    check_text(value, is_email, message, path, errors);
}

/// Checks `url`.
pub fn check_url<T: CheckText + ?Sized>(
    value: &T,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    let message =
        |text: &str| format!("must be an absolute URL such as https://example.com, got {text:?}");
    check_text(value, is_url, message, path, errors);
}

/// Values `one_of = [...]` compares against literals of kind `L`.
#[diagnostic::on_unimplemented(
    message = "`one_of` with these literals does not apply to `{Self}`",
    label = "use string literals for String fields and number literals for number fields"
)]
pub trait CheckOneOf<L> {
    /// `None` when there is nothing to check, else whether the value is allowed, with the
    /// value shown for the message.
    fn one_of(&self, allowed: &[L]) -> Option<(bool, String)>;
}

impl CheckOneOf<&'static str> for String {
    fn one_of(&self, allowed: &[&'static str]) -> Option<(bool, String)> {
        Some((allowed.contains(&self.as_str()), format!("{self:?}")))
    }
}

macro_rules! one_of_int {
    ($($t:ty),*) => {$(
        impl CheckOneOf<i128> for $t {
            fn one_of(&self, allowed: &[i128]) -> Option<(bool, String)> {
                Some((allowed.contains(&(*self as i128)), self.to_string()))
            }
        }
    )*};
}
one_of_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, usize);

macro_rules! one_of_float {
    ($($t:ty),*) => {$(
        impl CheckOneOf<f64> for $t {
            fn one_of(&self, allowed: &[f64]) -> Option<(bool, String)> {
                Some((allowed.iter().any(|a| *a == *self as f64), self.to_string()))
            }
        }
    )*};
}
one_of_float!(f32, f64);

impl<L, T: CheckOneOf<L>> CheckOneOf<L> for Option<T> {
    fn one_of(&self, allowed: &[L]) -> Option<(bool, String)> {
        self.as_ref().and_then(|v| v.one_of(allowed))
    }
}

/// Checks `one_of = [...]`; `shown` lists the allowed values as the model should see them.
pub fn check_one_of<L, T: CheckOneOf<L> + ?Sized>(
    value: &T,
    allowed: &[L],
    shown: &str,
    path: &JsonPointer,
    errors: &mut ValidationErrors,
) {
    if let Some((false, got)) = value.one_of(allowed) {
        errors.push(path, format!("must be one of {shown}, got {got}"));
    }
}

/// Collections whose elements `inner(...)` validators apply to.
#[diagnostic::on_unimplemented(
    message = "`inner(...)` does not apply to `{Self}`",
    label = "`inner` validators need a collection (Vec, set, array, map) or an Option of one"
)]
pub trait Elements {
    /// The element type.
    type Item;
    /// Calls `f` with each element, the pointer already pointing at it.
    fn for_each_element(
        &self,
        path: &mut JsonPointer,
        f: &mut dyn FnMut(&Self::Item, &JsonPointer),
    );
}

/// `Elements` for collections whose elements sit at indices (`push_index`) or under string
/// keys (`push_key`).
macro_rules! elements {
    ($($push:ident: impl[$($gen:tt)*] for $t:ty, $item:ident, |$this:ident| $iter:expr;)*) => {$(
        impl<$($gen)*> Elements for $t {
            type Item = $item;
            fn for_each_element(&self, path: &mut JsonPointer, f: &mut dyn FnMut(&$item, &JsonPointer)) {
                let $this = self;
                for (at, item) in $iter {
                    path.$push(at);
                    f(item, path);
                    path.pop();
                }
            }
        }
    )*};
}
elements! {
    push_index: impl[T] for Vec<T>, T, |c| c.iter().enumerate();
    push_index: impl[T] for VecDeque<T>, T, |c| c.iter().enumerate();
    push_index: impl[T] for BTreeSet<T>, T, |c| c.iter().enumerate();
    push_index: impl[T, S] for HashSet<T, S>, T, |c| c.iter().enumerate();
    push_index: impl[T, const N: usize] for [T; N], T, |c| c.iter().enumerate();
    push_key: impl[V, S] for HashMap<String, V, S>, V, |c| c.iter();
    push_key: impl[V] for BTreeMap<String, V>, V, |c| c.iter();
}

impl<C: Elements> Elements for Option<C> {
    type Item = C::Item;
    fn for_each_element(&self, path: &mut JsonPointer, f: &mut dyn FnMut(&C::Item, &JsonPointer)) {
        if let Some(c) = self {
            c.for_each_element(path, f);
        }
    }
}

/// Runs `check` on every element of a collection, each under its own pointer.
pub fn each_element<C: Elements + ?Sized>(
    collection: &C,
    path: &mut JsonPointer,
    errors: &mut ValidationErrors,
    mut check: impl FnMut(&C::Item, &JsonPointer, &mut ValidationErrors),
) {
    collection.for_each_element(path, &mut |item, p| check(item, p, errors));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_url_checks() {
        assert!(is_email("jason@example.com"));
        assert!(!is_email("jason@example"));
        assert!(!is_email("@example.com"));
        assert!(!is_email("a b@example.com"));
        assert!(is_url("https://example.com/a?b"));
        assert!(!is_url("example.com"));
        assert!(!is_url("https://"));
        assert!(!is_url("1http://x"));
    }

    #[test]
    fn range_messages_name_the_bound() {
        let mut errors = ValidationErrors::new();
        let r = Range {
            max: Some(150.0),
            ..Range::default()
        };
        200u8.check_range(&r, &JsonPointer::new(), &mut errors);
        assert_eq!(
            errors.iter().next().map(|e| e.message.as_str()),
            Some("must be at most 150, got 200")
        );
    }
}
