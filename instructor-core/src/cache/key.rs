//! The cache key: a SHA-256 of everything that changes the answer, written straight into
//! the hasher (no intermediate buffer), with the type's schema hashed once per type.

use std::io::Write;

use sha2::{Digest, Sha256};

use super::CacheKey;
use crate::{Request, TypeSchema};

/// Bumped when what goes into a key (or an entry's format) changes, so old entries are
/// never read.
const VERSION: &[u8] = b"instructor-cache-v1\0";

/// `io::Write` into a hasher.
struct Hashing<'h>(&'h mut Sha256);

impl Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A field: its name, then its JSON, then a separator no JSON text contains.
fn field(h: &mut Sha256, name: &str, value: &impl serde::Serialize) {
    h.update(name.as_bytes());
    h.update(b"=");
    // Serializing plain data into a hasher cannot fail; a failure would only make the key
    // differ (a miss), never collide.
    let _ = serde_json::to_writer(Hashing(h), value);
    h.update(b"\0");
}

/// The schema's fingerprint: its name, description, request schema and tool, once per type.
pub(crate) fn schema_fingerprint(schema: &TypeSchema) -> &[u8; 32] {
    schema.fragments.fingerprint.get_or_init(|| {
        let mut h = Sha256::new();
        field(&mut h, "name", &schema.name);
        field(&mut h, "description", &schema.description);
        h.update(schema.request_schema_text.as_bytes());
        h.update(b"\0");
        field(&mut h, "tool", &schema.tool);
        h.finalize().into()
    })
}

/// The key of the first request of an extraction on the provider with `identity`
/// ([`Provider::cache_identity`](crate::Provider::cache_identity)).
pub(crate) fn key(identity: &str, request: &Request) -> CacheKey {
    let mut h = Sha256::new();
    h.update(VERSION);
    field(&mut h, "provider", &identity);
    field(&mut h, "model", &request.model);
    field(&mut h, "mode", &request.output.mode);
    h.update(b"schema=");
    // The tools a mode offers follow from the mode and the schema.
    h.update(schema_fingerprint(&request.output.schema));
    field(&mut h, "messages", &request.messages);
    field(&mut h, "temperature", &request.temperature);
    field(&mut h, "top_p", &request.top_p);
    field(&mut h, "max_tokens", &request.max_tokens);
    field(&mut h, "seed", &request.seed);
    field(&mut h, "stop", &request.stop);
    field(&mut h, "extra", &request.extra);
    CacheKey(h.finalize().into())
}
