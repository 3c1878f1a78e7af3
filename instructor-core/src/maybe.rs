//! [`Maybe`]: a value extracted from the text, or no value and the reason the text holds
//! none (Python instructor's `Maybe(Model)`), so that a model asked for something the text
//! does not contain can say so instead of inventing it.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Value};

use crate::schema::{describe, nullable, SchemaGenerator};
use crate::std_impls::validate_in_context;
use crate::validation::ValidationContext;
use crate::{Instruct, JsonPointer, ValidationErrors};

const DESCRIPTION: &str = "The requested value if the text contains it; otherwise no value and a short explanation of why the text holds none.";
const RESULT: &str = "The value, extracted from the text. Null when the text does not contain it: never guess or invent a value the text does not state.";
const ERROR: &str = "True when the text does not contain the value (then `result` is null and `message` says why), false otherwise.";
const MESSAGE: &str = "When `result` is null: a short explanation of why the text holds no such value. Otherwise null.";

/// A value the text may not contain: `result` holds it when it was found; otherwise
/// `result` is `None`, `error` is `true` and `message` says why.
///
/// Ask for `Maybe<T>` instead of `T` when the answer may be absent from the text: a model
/// that must produce a `T` invents one; a model asked for a `Maybe<T>` can answer "none"
/// and explain. The schema is an object with a nullable `result` (`T`'s schema), a boolean
/// `error` and a nullable string `message`, all three required (so the model writes `null`
/// explicitly), each described so the model leaves `result` null rather than guess. It
/// works in strict tool mode whenever `T` does. Missing `error` or `message` deserialize
/// as `false` and `None` (as does a `null` `error`).
///
/// Validation runs `T`'s validators on `result` (at `/result/...`, with the call's
/// context), then checks that the answer is consistent, re-asking the model when it is not:
///
/// - `error: true` with a `result`: the model said both "found" and "not found", and
///   which to trust cannot be told; it is asked to choose (at `/error`).
/// - no `result` and no `message` (or a blank one): a bare `null` cannot be told apart from
///   a model that skipped the field, and the explanation is what the caller shows or logs;
///   the model is asked for it (at `/message`).
///
/// No `result` with `error: false` is accepted: `result` is what counts
/// ([`Maybe::is_found`]), `error` only echoes it.
///
/// While it streams in, a `Maybe<T>`'s partial form is a `Maybe` of `T`'s partial form
/// (`error` is `false` until it arrives).
///
/// ```
/// use instructor_core::{Client, Maybe, testing::ScriptedProvider};
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// let answer = r#"{"result": null, "error": true, "message": "No price is given."}"#;
/// let client = Client::new(ScriptedProvider::new().with_text(answer));
/// let price = client
///     .create::<Maybe<u32>>()
///     .user("The new model ships in March.")
///     .send()
///     .await?;
/// assert!(!price.is_found());
/// assert_eq!(price.message.as_deref(), Some("No price is given."));
/// assert_eq!(price.into_option(), None);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Maybe<T> {
    /// The value, when the text contains it.
    pub result: Option<T>,
    /// Whether the model reported that the text holds no value.
    #[serde(default, deserialize_with = "false_if_null")]
    pub error: bool,
    /// Why the text holds no value, when it holds none.
    #[serde(default)]
    pub message: Option<String>,
}

/// `error` as written, with `null` read as `false`.
fn false_if_null<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(deserializer)?.unwrap_or(false))
}

impl<T> Maybe<T> {
    /// A value that was found.
    ///
    /// ```
    /// let found = instructor_core::Maybe::found(30u8);
    /// assert!(found.is_found() && !found.error);
    /// ```
    pub fn found(value: T) -> Self {
        Self {
            result: Some(value),
            error: false,
            message: None,
        }
    }

    /// No value, and why.
    ///
    /// ```
    /// let absent = instructor_core::Maybe::<u8>::absent("The age is not mentioned.");
    /// assert!(absent.error && absent.result.is_none());
    /// ```
    pub fn absent(message: impl Into<String>) -> Self {
        Self {
            result: None,
            error: true,
            message: Some(message.into()),
        }
    }

    /// Whether a value was found (`result` is present).
    ///
    /// ```
    /// use instructor_core::Maybe;
    /// assert!(Maybe::found("Paris").is_found());
    /// assert!(!Maybe::<&str>::absent("No city is named.").is_found());
    /// ```
    pub fn is_found(&self) -> bool {
        self.result.is_some()
    }

    /// The value, if found, by reference.
    ///
    /// ```
    /// assert_eq!(instructor_core::Maybe::found(7).as_option(), Some(&7));
    /// ```
    pub fn as_option(&self) -> Option<&T> {
        self.result.as_ref()
    }

    /// The value, if found.
    ///
    /// ```
    /// use instructor_core::Maybe;
    /// assert_eq!(Maybe::found(7).into_option(), Some(7));
    /// assert_eq!(Maybe::<i32>::absent("none").into_option(), None);
    /// ```
    pub fn into_option(self) -> Option<T> {
        self.result
    }

    /// The value, or the message saying why there is none (empty if the model gave none).
    ///
    /// ```
    /// use instructor_core::Maybe;
    /// assert_eq!(Maybe::found(7).into_result(), Ok(7));
    /// assert_eq!(Maybe::<i32>::absent("No total.").into_result(), Err("No total.".to_owned()));
    /// ```
    pub fn into_result(self) -> Result<T, String> {
        self.result.ok_or_else(|| self.message.unwrap_or_default())
    }
}

impl<T> From<Maybe<T>> for Option<T> {
    fn from(maybe: Maybe<T>) -> Self {
        maybe.result
    }
}

impl<T: Instruct> Instruct for Maybe<T> {
    const NAME: &'static str = "Maybe";
    const DESCRIPTION: Option<&'static str> = Some(DESCRIPTION);
    const IS_DEFINITION: bool = true;
    const STRICT_INCOMPATIBLE: Option<&'static str> = T::STRICT_INCOMPATIBLE;

    type Partial = Maybe<T::Partial>;

    fn partial_from(value: &Value) -> Option<Self::Partial> {
        let map = value.as_object()?;
        Some(Maybe {
            result: map.get("result").and_then(<Option<T>>::partial_from),
            error: map.get("error").and_then(Value::as_bool).unwrap_or(false),
            message: map.get("message").and_then(<String>::partial_from),
        })
    }

    fn schema_name() -> Cow<'static, str> {
        Cow::Owned(format!("Maybe_{}", T::schema_name()))
    }

    fn schema(generator: &mut SchemaGenerator) -> Value {
        let mut result = nullable(generator.subschema::<T>());
        describe(&mut result, RESULT);
        json!({
            "type": "object",
            "properties": {
                "result": result,
                "error": {"type": "boolean", "description": ERROR},
                "message": {"type": ["string", "null"], "description": MESSAGE},
            },
            "required": ["result", "error", "message"],
            "description": DESCRIPTION,
        })
    }

    validate_in_context!(|this, context, path, errors| {
        if let Some(value) = &this.result {
            path.push_key("result");
            value.validate_in(context, path, errors);
            path.pop();
            if this.error {
                path.push_key("error");
                errors.push(
                    path,
                    "`error` is true but `result` holds a value: set `error` to false to keep the value, or set `result` to null and say in `message` why the text does not contain one",
                );
                path.pop();
            }
        } else if this.message.as_deref().is_none_or(|m| m.trim().is_empty()) {
            path.push_key("message");
            errors.push(
                path,
                "`result` is null, so `message` must say briefly why the text does not contain the value",
            );
            path.pop();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(maybe: &Maybe<u8>) -> Vec<String> {
        match maybe.validate() {
            Ok(()) => Vec::new(),
            Err(errors) => errors.iter().map(|e| e.path.clone()).collect(),
        }
    }

    #[test]
    fn consistent_answers_pass() {
        assert!(paths(&Maybe::found(3)).is_empty());
        assert!(paths(&Maybe::absent("not said")).is_empty());
        let quiet = Maybe::<u8> {
            result: None,
            error: false,
            message: Some("not said".into()),
        };
        assert!(paths(&quiet).is_empty(), "`error` only echoes `result`");
    }

    #[test]
    fn contradictions_are_errors_at_their_field() {
        let both = Maybe {
            result: Some(3u8),
            error: true,
            message: None,
        };
        assert_eq!(paths(&both), ["/error"]);
        let bare = Maybe::<u8> {
            result: None,
            error: true,
            message: Some("  ".into()),
        };
        assert_eq!(paths(&bare), ["/message"]);
    }

    #[test]
    fn the_result_is_validated_under_its_field() {
        let mut errors = ValidationErrors::new();
        let list = Maybe::found(vec![Maybe::<u8>::absent("")]);
        list.validate_in(
            &ValidationContext::empty(),
            &mut JsonPointer::new(),
            &mut errors,
        );
        let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/result/0/message"]);
    }

    #[test]
    fn lenient_reading_and_partials() {
        let m: Maybe<u8> = serde_json::from_str(r#"{"result": 4, "error": null}"#).unwrap();
        assert_eq!(m, Maybe::found(4));
        let p = <Maybe<Vec<u8>>>::partial_from(&json!({"result": [1, 2], "message": "ha"}));
        assert_eq!(
            p,
            Some(Maybe {
                result: Some(vec![1, 2]),
                error: false,
                message: Some("ha".into()),
            })
        );
        assert_eq!(<Maybe<u8>>::partial_from(&json!([])), None);
    }

    #[test]
    fn schema_names_its_parameter() {
        assert_eq!(<Maybe<Vec<String>>>::schema_name(), "Maybe_Vec_String");
        let schema = <Maybe<u8>>::json_schema();
        assert_eq!(
            schema["properties"]["result"]["type"],
            json!(["integer", "null"])
        );
        assert_eq!(schema["required"], json!(["result", "error", "message"]));
    }
}
