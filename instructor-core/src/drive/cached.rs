//! The cache around a driver: the first request is looked up before the provider is
//! asked, and the answer that passes is stored. Identical calls in flight at once take
//! turns (single flight), so only the first asks the provider; a backend's failure is
//! logged and told to the hooks, never the call's failure.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use crate::cache::{self, Cache, CacheError, CacheKey, CacheUse, Flight, Flights};
use crate::engine::Prepared;
use crate::settings::Call;
use crate::{Event, EventStream, Hook, Instruct, Response, StreamEvent};

/// One call's place in the client's cache.
pub(crate) struct CacheSlot {
    store: Arc<dyn Cache>,
    flights: Arc<Flights>,
    key: CacheKey,
    ttl: Option<Duration>,
    read: bool,
    /// This call's turn at the key, held from a miss until its answer is stored.
    flight: Option<Flight>,
}

impl CacheSlot {
    /// The slot for a call whose client has a cache, unless the call bypasses it.
    pub fn for_call<T: Instruct>(call: &Call, prepared: &Prepared<T>) -> Option<Self> {
        let s = &call.settings;
        let config = s.cache.as_ref()?;
        if s.cache_use == CacheUse::Bypass {
            return None;
        }
        Some(Self {
            store: Arc::clone(&config.store),
            flights: Arc::clone(&config.flights),
            key: cache::key(&config.identity, prepared.request()),
            ttl: s.cache_ttl,
            read: s.cache_use == CacheUse::Use,
            flight: None,
        })
    }

    /// The stored answer, if any. On a miss, or while a call with the same key is in flight
    /// (its answer may be on its way to the store), waits for this key's turn and looks
    /// again.
    pub async fn lookup(&mut self, hooks: &[Arc<dyn Hook>]) -> Option<Response> {
        if self.read && !self.flights.busy(&self.key) {
            if let Some(hit) = self.get(hooks).await {
                return Some(hit);
            }
        }
        self.flight = Some(self.flights.enter(self.key).await);
        if !self.read {
            return None;
        }
        let hit = self.get(hooks).await;
        if hit.is_some() {
            self.flight = None;
        }
        hit
    }

    async fn get(&self, hooks: &[Arc<dyn Hook>]) -> Option<Response> {
        let read = match self.store.get(&self.key).await {
            Ok(Some(bytes)) => cache::decode(&bytes),
            Ok(None) => return None,
            Err(e) => Err(e),
        };
        match read {
            Ok((response, _)) => {
                tracing::debug!(key = %self.key, "cache hit");
                for h in hooks {
                    h.on_event(&Event::CacheHit { key: &self.key });
                }
                Some(response)
            }
            Err(e) => {
                self.report(&e, hooks);
                None
            }
        }
    }

    /// Stores the answer that passed, in a task of its own (the caller has its value and
    /// goes on); the calls waiting for this key go on once it is stored.
    pub fn store(self, response: &Response, hooks: Arc<[Arc<dyn Hook>]>) {
        let entry = cache::encode(response);
        tokio::spawn(async move {
            match self.store.put(&self.key, entry, self.ttl).await {
                Ok(()) => {
                    for h in hooks.iter() {
                        h.on_event(&Event::CacheStored { key: &self.key });
                    }
                }
                Err(e) => self.report(&e, &hooks),
            }
            drop(self);
        });
    }

    fn report(&self, error: &CacheError, hooks: &[Arc<dyn Hook>]) {
        tracing::warn!(key = %self.key, error = %error, "cache failed; asking the provider");
        for h in hooks {
            h.on_event(&Event::CacheError {
                key: &self.key,
                error,
            });
        }
    }
}

/// A cached answer as the events of a stream, for the streaming drivers.
pub(crate) fn replay(response: Response) -> EventStream {
    let mut events = Vec::with_capacity(2);
    match response.tool_calls.into_iter().next() {
        Some(call) => events.push(StreamEvent::ToolCallDelta {
            index: 0,
            id: Some(call.id),
            name: Some(call.name),
            arguments: call.arguments.to_text().into_owned(),
        }),
        None => events.push(StreamEvent::TextDelta(response.text.unwrap_or_default())),
    }
    events.push(StreamEvent::Finish(response.finish_reason));
    futures::stream::iter(events.into_iter().map(Ok)).boxed()
}
