//! Runtime schemas: a JSON Schema known only when the program runs (from a config file, a
//! database, a user), compiled once into a [`DynamicSchema`] handle and asked for with
//! [`Client::create_dynamic`]. The answer is a `serde_json::Value` checked against the
//! schema by the `jsonschema` crate; each violation (a JSON pointer and a message) is fed
//! to the re-ask exactly as a derived type's validation errors are.

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::create::{Items, One, Partials};
use crate::instruct::Check;
use crate::provider::SchemaRef;
use crate::{Client, Create, Error, TypeSchema, ValidationError, ValidationErrors};

/// A JSON Schema compiled once, reusable by any number of calls (cheap to clone: one
/// `Arc`). It holds the compiled validator and everything a request needs (the request
/// schema, the tool spec, the prompts and providers' fragments once built), and frees them
/// with its last clone.
///
/// A schema whose root is not an object (a list, a string) is sent wrapped in an object
/// under one property (`items` for lists, `value` otherwise), as derived types are; the
/// answer is unwrapped before it is checked and returned.
///
/// ```
/// use instructor_core::{Client, DynamicSchema, testing::ScriptedProvider};
/// use serde_json::json;
/// # async fn demo() -> Result<(), instructor_core::Error> {
/// let schema = DynamicSchema::new(
///     "Invoice",
///     "An invoice's total and currency",
///     json!({
///         "type": "object",
///         "properties": {
///             "total": {"type": "number", "minimum": 0},
///             "currency": {"type": "string", "enum": ["EUR", "USD"]}
///         },
///         "required": ["total", "currency"]
///     }),
/// )?;
/// let provider = ScriptedProvider::new()
///     .with_text(r#"{"total": -5, "currency": "EUR"}"#) // fails `minimum`: re-asked
///     .with_text(r#"{"total": 12.5, "currency": "EUR"}"#);
/// let client = Client::new(provider);
/// let invoice = client.create_dynamic(&schema).user("Total: 12.50 EUR").send().await?;
/// assert_eq!(invoice["total"], 12.5);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone)]
pub struct DynamicSchema(Arc<Inner>);

struct Inner {
    target: Arc<TypeSchema>,
    validator: Arc<jsonschema::Validator>,
    original: Value,
    /// A list of this schema, for iterable streams; built on first use.
    list: OnceLock<Arc<TypeSchema>>,
}

impl std::fmt::Debug for DynamicSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicSchema")
            .field("name", &self.0.target.name)
            .field("schema", &self.0.original)
            .finish_non_exhaustive()
    }
}

impl DynamicSchema {
    /// Compiles `schema` (the tool / response-format `name`, a `description` for the
    /// model, empty for none). An invalid schema (one that breaks the meta-schema, a `$ref`
    /// that does not resolve inside it, a bad `pattern`) is [`Error::InvalidSchema`].
    /// Remote `$ref`s are not fetched.
    ///
    /// ```
    /// use instructor_core::{DynamicSchema, Error};
    /// use serde_json::json;
    /// let bad = DynamicSchema::new("Bad", "", json!({"type": "nope"}));
    /// assert!(matches!(bad, Err(Error::InvalidSchema { .. })));
    /// let ok = DynamicSchema::new("Tags", "", json!({"type": "array", "items": {"type": "string"}})).unwrap();
    /// assert_eq!(ok.type_schema().wrapped, Some("items"));
    /// ```
    pub fn new(
        name: impl Into<String>,
        description: impl Into<String>,
        schema: Value,
    ) -> Result<Self, Error> {
        let validator = jsonschema::validator_for(&schema).map_err(|e| Error::InvalidSchema {
            path: e.instance_path.to_string(),
            message: e.to_string(),
        })?;
        let validator = Arc::new(validator);
        let description = Some(description.into()).filter(|d| !d.is_empty());
        let mut request = schema.clone();
        modern_defs(&mut request);
        // An object schema that leaves `type` out is still sent as an object, unwrapped.
        if let Value::Object(map) = &mut request {
            let object_like = ["properties", "required", "additionalProperties"]
                .iter()
                .any(|k| map.contains_key(*k));
            if object_like && !map.contains_key("type") {
                map.insert("type".to_owned(), Value::from("object"));
            }
        }
        let mut target = TypeSchema::assemble(request, &name.into(), description, Vec::new());
        target.check = Some(check(&validator));
        Ok(Self(Arc::new(Inner {
            target: Arc::new(target),
            validator,
            original: schema,
            list: OnceLock::new(),
        })))
    }

    /// A list of this schema, whose elements are checked one by one as they stream.
    fn list(&self) -> SchemaRef {
        let list = self.0.list.get_or_init(|| {
            let mut item = self.0.target.schema.clone();
            // Definitions move to the list's root, where `#/$defs/...` now resolves.
            let mut list = serde_json::Map::new();
            list.insert("type".to_owned(), Value::from("array"));
            if let Value::Object(map) = &mut item {
                for key in ["$defs", "definitions"] {
                    if let Some(defs) = map.remove(key) {
                        list.insert(key.to_owned(), defs);
                    }
                }
            }
            list.insert("items".to_owned(), item);
            let name = format!("{}_list", self.0.target.name);
            let mut target = TypeSchema::assemble(Value::Object(list), &name, None, Vec::new());
            target.item_check = Some(check(&self.0.validator));
            Arc::new(target)
        });
        SchemaRef::from(Arc::clone(list))
    }

    /// Checks `value` against the schema: every violation, each with the JSON pointer of
    /// the offending value and a message (what a re-ask tells the model).
    ///
    /// ```
    /// use instructor_core::DynamicSchema;
    /// use serde_json::json;
    /// let s = DynamicSchema::new("Age", "", json!({"type": "object", "properties": {"age": {"type": "integer", "maximum": 150}}})).unwrap();
    /// let errors = s.validate(&json!({"age": 200})).unwrap_err();
    /// assert_eq!(errors.iter().next().unwrap().path, "/age");
    /// assert!(s.validate(&json!({"age": 30})).is_ok());
    /// ```
    pub fn validate(&self, value: &Value) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        report(&self.0.validator, value, &mut errors);
        errors.into_result()
    }

    /// The schema as given.
    ///
    /// ```
    /// # use instructor_core::DynamicSchema;
    /// let s = DynamicSchema::new("Flag", "", serde_json::json!({"type": "boolean"})).unwrap();
    /// assert_eq!(s.schema()["type"], "boolean");
    /// ```
    pub fn schema(&self) -> &Value {
        &self.0.original
    }

    /// What requests carry for this schema: the name, the (object-rooted) request schema
    /// and the tool spec.
    ///
    /// ```
    /// # use instructor_core::DynamicSchema;
    /// let s = DynamicSchema::new("Flag", "Yes or no", serde_json::json!({"type": "boolean"})).unwrap();
    /// assert_eq!(s.type_schema().tool.name, "Flag");
    /// assert_eq!(s.type_schema().request_schema["properties"]["value"]["type"], "boolean");
    /// ```
    pub fn type_schema(&self) -> &TypeSchema {
        &self.0.target
    }

    /// The schema as a request refers to it (for [`OutputSpec::new`](crate::OutputSpec::new)).
    ///
    /// ```
    /// use instructor_core::{DynamicSchema, Mode, provider::OutputSpec};
    /// let s = DynamicSchema::new("Flag", "", serde_json::json!({"type": "boolean"})).unwrap();
    /// let output = OutputSpec::new(Mode::Tools, s.schema_ref()).unwrap();
    /// assert_eq!(output.tools[0].name, "Flag");
    /// ```
    pub fn schema_ref(&self) -> SchemaRef {
        SchemaRef::from(Arc::clone(&self.0.target))
    }
}

/// Moves the root's draft-7 `definitions` to `$defs` and rewrites the `#/definitions/...`
/// references, in the copy requests carry (the check keeps the schema as given): the
/// dialects and the grammar compiler follow `#/$defs/...` only. Left alone when both
/// exist with a common name.
fn modern_defs(schema: &mut Value) {
    let Value::Object(root) = schema else {
        return;
    };
    let Some(Value::Object(old)) = root.get("definitions") else {
        return;
    };
    if let Some(Value::Object(new)) = root.get("$defs") {
        if old.keys().any(|k| new.contains_key(k)) {
            return;
        }
    }
    let Some(Value::Object(old)) = root.remove("definitions") else {
        return;
    };
    match root.get_mut("$defs") {
        Some(Value::Object(new)) => new.extend(old),
        _ => {
            root.insert("$defs".to_owned(), Value::Object(old));
        }
    }
    rewrite_refs(schema);
}

fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(r) if key == "$ref" => {
                        if let Some(rest) = r.strip_prefix("#/definitions/") {
                            *r = format!("#/$defs/{rest}");
                        }
                    }
                    other => rewrite_refs(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// The check a request's judge runs with `validator`.
fn check(validator: &Arc<jsonschema::Validator>) -> Check {
    let validator = Arc::clone(validator);
    Check(Arc::new(move |value, errors| {
        report(&validator, value, errors)
    }))
}

/// Adds every violation of `value` to `errors`.
fn report(validator: &jsonschema::Validator, value: &Value, errors: &mut ValidationErrors) {
    for e in validator.iter_errors(value) {
        errors.add(ValidationError::new(
            e.instance_path.to_string(),
            e.to_string(),
        ));
    }
}

impl Client {
    /// Starts an extraction of a value for a runtime schema: the same builder as
    /// [`Client::create`] (messages, mode, retries, ...), whose result is a
    /// `serde_json::Value` that passed `schema`. Every mode and provider takes it as it
    /// takes a derived type (with the provider's dialect rewrites and incompatibility
    /// errors).
    ///
    /// ```
    /// use instructor_core::{Client, DynamicSchema, Mode, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let schema = DynamicSchema::new("Colours", "", serde_json::json!({"type": "array", "items": {"type": "string"}}))?;
    /// let client = Client::new(ScriptedProvider::new().with_text(r#"{"items": ["red"]}"#));
    /// let colours = client.create_dynamic(&schema).user("One colour").mode(Mode::Json).send().await?;
    /// assert_eq!(colours, serde_json::json!(["red"]));
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn create_dynamic(&self, schema: &DynamicSchema) -> Create<'_, Value, One> {
        Create::dynamic(self, schema.schema_ref())
    }

    /// Starts a streamed extraction for a runtime schema: `.send().await` returns a stream
    /// of partial `Value` snapshots as the answer arrives, ending with the checked value
    /// (see [`crate::stream`]).
    ///
    /// ```
    /// use futures::StreamExt;
    /// use instructor_core::{Client, DynamicSchema, stream::Update, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let schema = DynamicSchema::new("Colours", "", serde_json::json!({"type": "array", "items": {"type": "string"}}))?;
    /// let client = Client::new(ScriptedProvider::new().with_text(r#"{"items": ["red", "blue"]}"#));
    /// let mut stream = client.create_dynamic_partial(&schema).user("Two colours").send().await?;
    /// while let Some(update) = stream.next().await {
    ///     if let Update::Complete { value, .. } = update? {
    ///         assert_eq!(value, serde_json::json!(["red", "blue"]));
    ///     }
    /// }
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn create_dynamic_partial(&self, schema: &DynamicSchema) -> Create<'_, Value, Partials> {
        Create::dynamic(self, schema.schema_ref())
    }

    /// Starts a streamed extraction of a list of values for a runtime schema (the schema
    /// of one element): `.send().await` returns a stream yielding each element, checked
    /// against the schema, the moment it closes (see [`crate::stream`]). An element that
    /// fails the check is yielded as [`Error::Validation`] and the stream goes on.
    ///
    /// ```
    /// use futures::StreamExt;
    /// use instructor_core::{Client, DynamicSchema, testing::ScriptedProvider};
    /// # async fn demo() -> Result<(), instructor_core::Error> {
    /// let colour = DynamicSchema::new("Colour", "", serde_json::json!({"type": "string"}))?;
    /// let client = Client::new(ScriptedProvider::new().with_text(r#"{"items": ["red", 7]}"#));
    /// let items: Vec<_> = client.create_dynamic_iterable(&colour).user("Colours").send().await?.collect().await;
    /// assert_eq!(items[0].as_ref().unwrap(), "red");
    /// assert!(items[1].is_err());
    /// # Ok(()) }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
    /// ```
    pub fn create_dynamic_iterable(&self, schema: &DynamicSchema) -> Create<'_, Value, Items> {
        Create::dynamic(self, schema.list())
    }
}
