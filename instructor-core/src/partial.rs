//! [`Complete`]: the partial form of values that are shown only once whole (enums, tuples,
//! tuple structs): the completed JSON, turned into the value on demand.

use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A value that has arrived whole, kept as its JSON. Always `Clone`, `Debug` and `Send`,
/// whatever `T` is; [`Complete::get`] turns it into a `T`.
///
/// ```
/// use instructor_core::stream::Complete;
/// let c: Complete<u8> = Complete::new(serde_json::json!(7));
/// assert_eq!(c.get(), Some(7));
/// ```
pub struct Complete<T> {
    value: Value,
    _target: PhantomData<fn() -> T>,
}

impl<T> Complete<T> {
    /// Wraps completed JSON.
    pub fn new(value: Value) -> Self {
        Self {
            value,
            _target: PhantomData,
        }
    }

    /// The JSON as it arrived.
    ///
    /// ```
    /// # use instructor_core::stream::Complete;
    /// let c: Complete<bool> = Complete::new(serde_json::json!(true));
    /// assert_eq!(c.json(), &serde_json::json!(true));
    /// ```
    pub fn json(&self) -> &Value {
        &self.value
    }
}

impl<T: DeserializeOwned> Complete<T> {
    /// The value.
    ///
    /// ```
    /// # use instructor_core::stream::Complete;
    /// let c: Complete<String> = Complete::new(serde_json::json!("positive"));
    /// assert_eq!(c.get().as_deref(), Some("positive"));
    /// ```
    pub fn get(&self) -> Option<T> {
        T::deserialize(&self.value).ok()
    }

    /// `Some` when `value` is a complete `T`.
    pub(crate) fn check(value: &Value) -> Option<Self> {
        T::deserialize(value)
            .ok()
            .map(|_: T| Self::new(value.clone()))
    }
}

impl<T> Clone for Complete<T> {
    fn clone(&self) -> Self {
        Self::new(self.value.clone())
    }
}

impl<T> fmt::Debug for Complete<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Complete({})", self.value)
    }
}

impl<T> PartialEq for Complete<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// The partial form of a type shown only once whole.
#[doc(hidden)]
pub fn complete<T: DeserializeOwned>(value: &Value) -> Option<Complete<T>> {
    Complete::check(value)
}
