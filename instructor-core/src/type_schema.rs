//! [`TypeSchema`]: everything a request needs about its target (the schema, the request
//! schema wrapped to an object root, the tool spec, cached prompt fragments), built once
//! per type or per runtime schema.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::instruct::Fragments;
use crate::schema::{describe, sanitize_name, SchemaGenerator};
use crate::{Instruct, ToolSpec, ValidationErrors};

/// Everything about a type that requests need, computed once per process.
///
/// Non-object types (lists, enums, numbers) are wrapped in an object under one property
/// for the request, because tools and most strict formats need an object at the root;
/// [`TypeSchema::wrapped`] names that property so the answer can be unwrapped.
///
/// ```
/// use instructor_core::Instruct;
/// let ts = <Vec<String> as Instruct>::type_schema();
/// assert_eq!(ts.wrapped, Some("items"));
/// assert_eq!(ts.request_schema["properties"]["items"]["type"], "array");
/// assert!(ts.request_schema_text.starts_with('{'));
/// ```
#[derive(Debug, Clone)]
pub struct TypeSchema {
    /// The tool / response-format name.
    pub name: String,
    /// The type's description.
    pub description: Option<String>,
    /// The type's own root schema.
    pub schema: Value,
    /// The schema requests carry: `schema` itself, or an object wrapping it.
    pub request_schema: Value,
    /// `request_schema` serialized once, for prompts and request bodies.
    pub request_schema_text: String,
    /// The property a non-object root is wrapped under, if it is.
    pub wrapped: Option<&'static str>,
    /// The tool spec.
    pub tool: ToolSpec,
    /// Example values (already parsed), for prompts.
    pub examples: Vec<Value>,
    /// Request fragments per mode, built on first use.
    pub(crate) fragments: Fragments,
    /// For a runtime schema: the check every answer must pass, beside the type's own
    /// validators.
    pub(crate) check: Option<Check>,
    /// For a runtime list schema: the check each element must pass as it streams.
    pub(crate) item_check: Option<Check>,
    /// What providers built from this schema, when it is not a type's (see
    /// [`crate::provider::SchemaRef::as_static`]).
    pub(crate) runtime: crate::schema_ref::RuntimeCache,
}

/// A runtime schema's check of an answer: adds every violation, with its JSON pointer.
#[derive(Clone)]
pub(crate) struct Check(pub(crate) Arc<CheckFn>);

/// Adds every violation of a value, with its JSON pointer.
pub(crate) type CheckFn = dyn Fn(&Value, &mut ValidationErrors) + Send + Sync;

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Check")
    }
}

impl TypeSchema {
    /// Builds the whole description of `T`. Use [`Instruct::type_schema`] instead, which
    /// caches this.
    ///
    /// ```
    /// let ts = instructor_core::TypeSchema::build::<bool>();
    /// assert_eq!(ts.wrapped, Some("value"));
    /// ```
    pub fn build<T: Instruct>() -> Self {
        let examples = T::EXAMPLES
            .iter()
            .filter_map(|e| serde_json::from_str(e).ok())
            .collect();
        Self::assemble(
            SchemaGenerator::root::<T>(),
            &T::schema_name(),
            T::DESCRIPTION.map(str::to_owned),
            examples,
        )
    }

    /// What providers built from this schema, kept with it. Empty for a type's schema,
    /// whose fragments providers keep process-wide; see
    /// [`SchemaRef::as_static`](crate::provider::SchemaRef::as_static).
    ///
    /// ```
    /// let schema = instructor_core::TypeSchema::build::<bool>();
    /// let n = schema.runtime_cache().get_or_build(&schema, "n", || 1);
    /// assert_eq!(*n, 1);
    /// ```
    pub fn runtime_cache(&self) -> &crate::schema_ref::RuntimeCache {
        &self.runtime
    }

    /// The description of a root `schema`: wrapped in an object when it is not one, the
    /// tool spec and the serialized request schema.
    pub(crate) fn assemble(
        mut schema: Value,
        name: &str,
        description: Option<String>,
        examples: Vec<Value>,
    ) -> Self {
        if let Some(d) = &description {
            if schema.get("description").is_none() {
                describe(&mut schema, d);
            }
        }
        let is_object = schema.get("type") == Some(&Value::from("object"));
        let (request_schema, wrapped) = if is_object {
            (schema.clone(), None)
        } else {
            let key = if schema.get("type") == Some(&Value::from("array")) {
                "items"
            } else {
                "value"
            };
            (wrap(&schema, key), Some(key))
        };
        let name = sanitize_name(name);
        // The tool's own description says what the root is; the parameters need not repeat it.
        let mut parameters = request_schema.clone();
        if let Value::Object(map) = &mut parameters {
            map.remove("description");
        }
        Self {
            tool: ToolSpec {
                name: name.clone(),
                description: description.clone(),
                parameters,
            },
            request_schema_text: request_schema.to_string(),
            name,
            description,
            schema,
            request_schema,
            wrapped,
            examples,
            fragments: Fragments::default(),
            check: None,
            item_check: None,
            runtime: crate::schema_ref::RuntimeCache::default(),
        }
    }
}

/// `{"type":"object","properties":{key: inner},"required":[key]}` with `$defs` hoisted to
/// the wrapper so references still resolve from the root.
fn wrap(inner: &Value, key: &str) -> Value {
    let mut inner = inner.clone();
    let defs = inner.as_object_mut().and_then(|m| m.remove("$defs"));
    // A runtime schema may keep its definitions under the older name.
    let definitions = inner.as_object_mut().and_then(|m| m.remove("definitions"));
    let mut props = Map::new();
    props.insert(key.to_owned(), inner);
    let mut map = Map::new();
    map.insert("type".to_owned(), Value::from("object"));
    map.insert("properties".to_owned(), Value::Object(props));
    map.insert("required".to_owned(), Value::Array(vec![Value::from(key)]));
    map.insert("additionalProperties".to_owned(), Value::Bool(false));
    if let Some(defs) = defs {
        map.insert("$defs".to_owned(), defs);
    }
    if let Some(definitions) = definitions {
        map.insert("definitions".to_owned(), definitions);
    }
    Value::Object(map)
}
