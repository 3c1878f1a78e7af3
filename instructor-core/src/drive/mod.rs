//! The drivers: thin loops that call the provider (through the transport retry loop) and
//! feed each answer to the engine's [`Prepared`](crate::engine::Prepared) — one answer
//! ([`once`]), partial values and list items as a stream arrives ([`partial`], [`items`],
//! sharing [`streamed`]). This layer imports the engine and the data layer, never the
//! client or the builder.

pub(crate) mod cached;
pub(crate) mod items;
pub(crate) mod once;
pub(crate) mod partial;
pub(crate) mod retry;
mod streamed;

use crate::settings::Settings;
use crate::Provider;

/// What a driver runs with: the provider and the client's settings.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'c> {
    pub provider: &'c dyn Provider,
    pub settings: &'c Settings,
}
