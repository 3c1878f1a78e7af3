//! The [`Instruct`] trait: what a type must say about itself to be extracted (schema, tool
//! spec, description, validators), and the per-type cache that builds each schema once.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use serde::de::DeserializeOwned;
use serde_json::Value;

use std::future::Future;

use crate::schema::SchemaGenerator;
pub(crate) use crate::type_schema::Check;
pub use crate::type_schema::TypeSchema;
use crate::validation::ValidationContext;
use crate::{Error, JsonPointer, ValidationErrors};

/// A type a model can be asked to produce: it knows its JSON schema, its tool spec, its
/// description and how to validate a value of itself.
///
/// Derive it with `#[derive(Instruct)]` (together with `serde::Deserialize`); the standard
/// types (`String`, integers, floats, `bool`, `char`, `Option`, `Vec`, sets, maps with
/// string keys, arrays, `Box`, `Arc`, `serde_json::Value`) implement it already.
///
/// ```
/// use instructor_core::Instruct;
/// let schema = <Vec<u8> as Instruct>::json_schema();
/// assert_eq!(schema["items"]["maximum"], 255);
/// assert!(vec![1u8, 2].validate().is_ok());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be extracted from a model: it does not implement `Instruct`",
    label = "this type has no schema",
    note = "add `#[derive(instructor::Instruct, serde::Deserialize)]` to the type's definition"
)]
pub trait Instruct: DeserializeOwned + 'static {
    /// The type's name: the tool name and the `$defs` key (for derived types, the type's
    /// identifier unless `#[instruct(name = "...")]` says otherwise).
    const NAME: &'static str;

    /// What the type is, for the model (from doc comments or `#[instruct(description)]`).
    const DESCRIPTION: Option<&'static str> = None;

    /// Example values as JSON text (from `#[instruct(example = "...")]`), for prompts.
    const EXAMPLES: &'static [&'static str] = &[];

    /// Whether the type gets its own `$defs` entry (derived structs and enums do).
    #[doc(hidden)]
    const IS_DEFINITION: bool = false;

    /// Whether a missing field of this type deserializes (as for `Option`), so the field
    /// is not required.
    #[doc(hidden)]
    const OPTIONAL: bool = false;

    /// Why this type cannot be written in OpenAI's strict schema dialect, if it cannot.
    /// `#[instruct(strict)]` turns a `Some` here into a build error.
    #[doc(hidden)]
    const STRICT_INCOMPATIBLE: Option<&'static str> = None;

    /// What a value of this type looks like while it streams in: for derived structs a
    /// generated `Partial{Name}` with every field optional (nested types partial, strings
    /// as far as they have arrived); for lists, the elements so far; for numbers, enums and
    /// other scalars, the type itself, present only once complete.
    type Partial: Clone + std::fmt::Debug + Send + Sync + 'static;

    /// The partial value `value` holds so far, or `None` when nothing usable has arrived.
    /// Lenient by design: whatever does not (yet) fit is left out.
    ///
    /// ```
    /// use instructor_core::Instruct;
    /// let v = serde_json::json!([1, 2, "thr"]);
    /// assert_eq!(<Vec<u8> as Instruct>::partial_from(&v), Some(vec![1, 2]));
    /// ```
    fn partial_from(value: &Value) -> Option<Self::Partial>;

    /// The name used for this type's `$defs` entry; generic types add their parameters.
    ///
    /// ```
    /// use instructor_core::Instruct;
    /// assert_eq!(<Vec<String> as Instruct>::schema_name(), "Vec_String");
    /// ```
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed(Self::NAME)
    }

    /// Writes this type's schema body, adding nested definitions to `generator`. Called
    /// once per process per root type; use [`Instruct::json_schema`] to read a schema.
    ///
    /// ```
    /// use instructor_core::{Instruct, SchemaGenerator};
    /// let body = <bool as Instruct>::schema(&mut SchemaGenerator::new());
    /// assert_eq!(body["type"], "boolean");
    /// ```
    fn schema(generator: &mut SchemaGenerator) -> Value;

    /// Everything a request needs about this type, built once per process and cached.
    ///
    /// ```
    /// use instructor_core::Instruct;
    /// let a = <String as Instruct>::type_schema();
    /// let b = <String as Instruct>::type_schema();
    /// assert!(std::ptr::eq(a, b));
    /// ```
    fn type_schema() -> &'static TypeSchema {
        cached::<Self>()
    }

    /// The root JSON schema (with `$defs`), built once and cached.
    ///
    /// ```
    /// use instructor_core::Instruct;
    /// assert_eq!(<u8 as Instruct>::json_schema()["maximum"], 255);
    /// ```
    fn json_schema() -> &'static Value {
        &Self::type_schema().schema
    }

    /// The function-tool spec (name, description, object parameters).
    ///
    /// ```
    /// use instructor_core::Instruct;
    /// let tool = <Vec<String> as Instruct>::tool_spec();
    /// assert_eq!(tool.parameters["type"], "object");
    /// ```
    fn tool_spec() -> &'static ToolSpec {
        &Self::type_schema().tool
    }

    /// Runs every validator on the value and collects every failure. Validates with
    /// [`ValidationContext::empty`]: checks that need the call's source (such as
    /// `#[instruct(verbatim)]`) are skipped; [`Instruct::validate_with`] runs them.
    ///
    /// ```
    /// use instructor_core::Instruct;
    /// assert!(Some(3u8).validate().is_ok());
    /// ```
    fn validate(&self) -> Result<(), ValidationErrors> {
        self.validate_with(&ValidationContext::empty())
    }

    /// Runs every validator on the value with a call's context (its messages and the
    /// caller's value) and collects every failure. The extraction loop validates this way.
    ///
    /// ```
    /// use instructor_core::{Instruct, Message, ValidationContext};
    /// let messages = [Message::user("Tags: red, green")];
    /// let tags = vec!["red".to_owned(), "blue".to_owned()];
    /// assert!(tags.validate_with(&ValidationContext::new(&messages)).is_ok());
    /// ```
    fn validate_with(&self, context: &ValidationContext<'_>) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        self.validate_in(context, &mut JsonPointer::new(), &mut errors);
        errors.into_result()
    }

    /// Validates the value found at `path` without a call's context, adding failures to
    /// `errors`. Implement this for checks that need nothing but the value; the derive
    /// and the standard types implement it as [`Instruct::validate_in`] with
    /// [`ValidationContext::empty`].
    ///
    /// ```
    /// use instructor_core::{Instruct, JsonPointer, ValidationErrors};
    /// let mut errors = ValidationErrors::new();
    /// 5u32.validate_at(&mut JsonPointer::new(), &mut errors);
    /// assert!(errors.is_empty());
    /// ```
    fn validate_at(&self, path: &mut JsonPointer, errors: &mut ValidationErrors) {
        let _ = (path, errors);
    }

    /// Validates the value found at `path` with a call's context, adding failures to
    /// `errors`. By default this is [`Instruct::validate_at`], so a hand-written impl that
    /// only implements that keeps validating; implement this one to read the context, and
    /// pass `context` on to the values inside (derived types and the standard containers
    /// do).
    ///
    /// ```
    /// use instructor_core::{Instruct, JsonPointer, Message, ValidationContext, ValidationErrors};
    /// let messages = [Message::user("Jason is 30")];
    /// let mut errors = ValidationErrors::new();
    /// Some(30u8).validate_in(&ValidationContext::new(&messages), &mut JsonPointer::new(), &mut errors);
    /// assert!(errors.is_empty());
    /// ```
    fn validate_in(
        &self,
        context: &ValidationContext<'_>,
        path: &mut JsonPointer,
        errors: &mut ValidationErrors,
    ) {
        let _ = context;
        self.validate_at(path, errors);
    }

    /// Extracts a validated `Self` from `prompt` with `client`'s defaults: the shortcut for
    /// `client.create::<Self>().user(prompt).send()`.
    ///
    /// ```
    /// use instructor_core::{Client, Instruct, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let client = Client::new(ScriptedProvider::new().with_text(r#"{"items": ["a", "b"]}"#));
    /// let tags = Vec::<String>::extract(&client, "Tag this: a, b").await?;
    /// assert_eq!(tags, ["a", "b"]);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    fn extract<'c, C: Extractor>(
        client: &'c C,
        prompt: impl Into<String>,
    ) -> impl Future<Output = Result<Self, Error>> + Send + 'c {
        client.extract_one::<Self>(prompt.into())
    }
}

/// What [`Instruct::extract`] runs on: a [`Client`](crate::Client). (A trait, so that the
/// types that describe themselves need not know the client that asks for them.)
pub trait Extractor: Sync {
    /// Extracts one `T` from `prompt` with this extractor's defaults.
    ///
    /// ```
    /// use instructor_core::{Client, Extractor, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let client = Client::new(ScriptedProvider::new().with_text("true"));
    /// assert!(client.extract_one::<bool>("Is water wet?".into()).await?);
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    fn extract_one<T: Instruct>(
        &self,
        prompt: String,
    ) -> impl Future<Output = Result<T, Error>> + Send + '_;
}

/// Per-type request fragments the engine builds on first use and every later call of the
/// type reuses (prompts, the parallel tool set).
#[derive(Debug, Clone, Default)]
pub(crate) struct Fragments {
    pub json_prompt: OnceLock<String>,
    pub md_json_prompt: OnceLock<String>,
    pub parallel: OnceLock<Result<ParallelTools, String>>,
    /// The schema's hash, for cache keys.
    pub fingerprint: OnceLock<[u8; 32]>,
}

/// The tools of a parallel extraction of a list type, and how calls map to elements.
#[derive(Debug, Clone)]
pub(crate) struct ParallelTools {
    pub tools: Vec<ToolSpec>,
    /// Whether each call is wrapped as `{name: arguments}` (enum elements).
    pub tagged: bool,
}

/// A function tool: the name, description and parameter schema the model sees.
///
/// ```
/// use instructor_core::Instruct;
/// let tool = <u8 as Instruct>::tool_spec();
/// assert_eq!(tool.name, "u8");
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ToolSpec {
    /// Tool name (letters, digits, `_`, `-`; at most 64 characters).
    pub name: String,
    /// Tool description, when the type has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The parameters: always an object schema.
    pub parameters: Value,
}

type Registry = RwLock<HashMap<TypeId, &'static TypeSchema>>;

/// The process-wide cache behind [`Instruct::type_schema`] for types that cannot hold a
/// `static` of their own (a `static` in a generic function is shared by every
/// instantiation). Each type's schema is built once and kept for the life of the process.
pub(crate) fn cached<T: Instruct>() -> &'static TypeSchema {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let registry = REGISTRY.get_or_init(Registry::default);
    let id = TypeId::of::<T>();
    if let Some(found) = registry
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&id)
    {
        return found;
    }
    // Built outside the lock: building never re-enters the registry, but a user's
    // hand-written `schema` might.
    let built = TypeSchema::build::<T>();
    let mut map = registry
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    map.entry(id).or_insert_with(|| Box::leak(Box::new(built)))
}
