//! Request fragments built once per type and provider shape, kept as pre-serialized JSON
//! (`RawValue`) so a request body only copies them: no per-call schema building and no
//! per-call re-serialization of a schema. [`Members`] are the named fragments a mode adds to
//! a body (`tools`, `tool_choice`, `response_format`, ...), flattened into it.
//!
//! A type's schema lives for the whole process, so its fragments are kept process-wide,
//! keyed by its address. A runtime schema's fragments are kept in the schema itself
//! ([`RuntimeCache`](instructor_core::provider::RuntimeCache)) and freed with it: its
//! address may be reused by a later schema, so it must never key a process-wide cache.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use instructor_core::{Error, OutputSpec};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// The owner of fragments that do not depend on a type (`{"type": "json_object"}`).
pub(crate) static CONSTANT: u8 = 0;

type Key = (usize, &'static str);
type Cache = RwLock<HashMap<Key, &'static Result<Box<RawValue>, String>>>;

/// A built fragment: process-wide (a type's, or a constant), or owned by a runtime schema.
#[derive(Debug, Clone)]
pub(crate) enum Frag {
    Static(&'static RawValue),
    Shared(Arc<Built>),
}

type Built = Result<Box<RawValue>, String>;

impl Serialize for Frag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Frag::Static(raw) => raw.serialize(serializer),
            Frag::Shared(built) => match &**built {
                Ok(raw) => raw.serialize(serializer),
                // Never made: a failed build is returned as an error instead.
                Err(message) => Err(serde::ser::Error::custom(message)),
            },
        }
    }
}

fn build_raw(build: impl FnOnce() -> Result<Value, String>) -> Built {
    build().and_then(|v| serde_json::value::to_raw_value(&v).map_err(|e| e.to_string()))
}

fn incompatible(message: &str) -> Error {
    Error::SchemaIncompatible {
        message: message.to_owned(),
    }
}

/// The fragment for `owner` (the request's schema or its tools) under `tag` (the provider
/// and shape), built by `build` the first time for that schema. A build error (a schema the
/// provider's dialect cannot express) is cached and returned as
/// [`Error::SchemaIncompatible`] every time, before any request is sent.
pub(crate) fn fragment<T: ?Sized>(
    output: &OutputSpec,
    owner: &T,
    tag: &'static str,
    build: impl FnOnce() -> Result<Value, String>,
) -> Result<Frag, Error> {
    if output.schema.as_static().is_some() {
        // `owner` is part of a schema that lives for the process: its address is its own.
        return keyed(owner as *const T as *const () as usize, tag, build).map(Frag::Static);
    }
    let built = output
        .schema
        .runtime_cache()
        .get_or_build(owner, tag, || build_raw(build));
    match &*built {
        Ok(_) => Ok(Frag::Shared(built)),
        Err(message) => Err(incompatible(message)),
    }
}

/// The process-wide fragment for `(key, tag)`.
fn keyed(
    key: usize,
    tag: &'static str,
    build: impl FnOnce() -> Result<Value, String>,
) -> Result<&'static RawValue, Error> {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Cache::default);
    let key = (key, tag);
    let found = cache
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(&key)
        .copied();
    let entry = match found {
        Some(entry) => entry,
        None => {
            let built = build_raw(build);
            let mut map = cache.write().unwrap_or_else(|p| p.into_inner());
            *map.entry(key).or_insert_with(|| Box::leak(Box::new(built)))
        }
    };
    entry.as_deref().map_err(|message| incompatible(message))
}

/// The members a mode adds to a request body, each a name and a fragment, in order;
/// serialized as members of the body they are flattened into.
#[derive(Debug, Default)]
pub struct Members(Vec<(&'static str, Frag)>);

impl Members {
    /// These members and `name: value`.
    pub(crate) fn with(mut self, name: &'static str, value: Frag) -> Self {
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
pub(crate) fn constant(tag: &'static str, value: fn() -> Value) -> Result<Frag, Error> {
    keyed(&CONSTANT as *const u8 as usize, tag, || Ok(value())).map(Frag::Static)
}
