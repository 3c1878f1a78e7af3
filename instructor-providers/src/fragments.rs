//! Request fragments built once per type and provider shape, kept as pre-serialized JSON
//! (`RawValue`) so a request body only copies them: no per-call schema building and no
//! per-call re-serialization of a schema.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use instructor_core::Error;
use serde_json::value::RawValue;
use serde_json::Value;

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
