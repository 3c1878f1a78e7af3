//! Request fragments built once per type and provider shape, kept as pre-serialized JSON
//! (`RawValue`) so a request body only copies them: no per-call schema building and no
//! per-call re-serialization of a schema. [`Members`] are the named fragments a mode adds to
//! a body (`tools`, `tool_choice`, `response_format`, ...), flattened into it.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use instructor_core::Error;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// The owner of fragments that do not depend on a type (`{"type": "json_object"}`).
pub(crate) static CONSTANT: u8 = 0;

type Key = (usize, &'static str);
type Cache = RwLock<HashMap<Key, &'static Result<Box<RawValue>, String>>>;

/// The fragment for `(owner, tag)`, built by `build` the first time. `owner` is the
/// address of a `'static` schema or tool list, `tag` names the provider and shape. A build
/// error (a schema the provider's dialect cannot express) is cached and returned as
/// [`Error::SchemaIncompatible`] every time, before any request is sent.
pub(crate) fn fragment<T: ?Sized>(
    owner: &'static T,
    tag: &'static str,
    build: impl FnOnce() -> Result<Value, String>,
) -> Result<&'static RawValue, Error> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let key = (owner as *const T as *const () as usize, tag);
    let found = cache
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .copied();
    let entry = match found {
        Some(entry) => entry,
        None => {
            let built = build()
                .and_then(|v| serde_json::value::to_raw_value(&v).map_err(|e| e.to_string()));
            let mut map = cache.write().unwrap_or_else(|p| p.into_inner());
            *map.entry(key).or_insert_with(|| Box::leak(Box::new(built)))
        }
    };
    entry
        .as_deref()
        .map_err(|message| Error::SchemaIncompatible {
            message: message.clone(),
        })
}

/// The members a mode adds to a request body, each a name and a fragment, in order;
/// serialized as members of the body they are flattened into.
#[derive(Debug, Default)]
pub struct Members(Vec<(&'static str, &'static RawValue)>);

impl Members {
    /// These members and `name: value`.
    pub(crate) fn with(mut self, name: &'static str, value: &'static RawValue) -> Self {
        self.0.push((name, value));
        self
    }
}

impl Serialize for Members {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// A fragment that depends on no type, built from `value` once.
pub(crate) fn constant(
    tag: &'static str,
    value: fn() -> Value,
) -> Result<&'static RawValue, Error> {
    fragment(&CONSTANT, tag, || Ok(value()))
}
