//! A request body's bytes: the provider's wire struct serialized once, with the call's
//! `extra` object (parameters the neutral request does not model) merged over it.

use instructor_core::{Error, Request};
use serde::Serialize;
use serde_json::Value;

/// Serializes `body`; when the request carries `extra`, its members are merged over the
/// body's top level (an `extra` member replaces the body's member of the same name).
pub(crate) fn serialize<B: Serialize>(body: &B, request: &Request) -> Result<Vec<u8>, Error> {
    let failed =
        |e: serde_json::Error| Error::Config(format!("could not serialize the request: {e}"));
    let Some(extra) = request.extra.as_ref().filter(|m| !m.is_empty()) else {
        return serde_json::to_vec(body).map_err(failed);
    };
    let mut value = serde_json::to_value(body).map_err(failed)?;
    if let Value::Object(map) = &mut value {
        for (k, v) in extra {
            map.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&value).map_err(failed)
}
