//! Single flight: identical calls in flight at once wait for the first, then read what it
//! stored, so a hundred identical calls make one provider call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::OwnedMutexGuard;

use super::CacheKey;

type Gate = Arc<tokio::sync::Mutex<()>>;

/// The calls in flight, one gate per key. A gate lives while a call holds or awaits it.
#[derive(Debug, Default)]
pub(crate) struct Flights {
    gates: Mutex<HashMap<CacheKey, Gate>>,
}

/// A call's turn at a key: the others with the same key wait until it is dropped.
#[derive(Debug)]
pub(crate) struct Flight {
    flights: Arc<Flights>,
    key: CacheKey,
    gate: Gate,
    turn: Option<OwnedMutexGuard<()>>,
}

impl Flights {
    /// Waits for this key's turn.
    pub async fn enter(self: &Arc<Self>, key: CacheKey) -> Flight {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(gates.entry(key).or_default())
        };
        let turn = Arc::clone(&gate).lock_owned().await;
        Flight {
            flights: Arc::clone(self),
            key,
            gate,
            turn: Some(turn),
        }
    }

    /// Whether a call holds or awaits this key's turn.
    pub fn busy(&self, key: &CacheKey) -> bool {
        self.gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(key)
    }

    /// How many keys have a call in flight (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        let mut gates = self
            .flights
            .gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Holders: the map, `gate` and `turn`; any more are calls waiting for the key.
        if Arc::strong_count(&self.gate) <= 3 {
            gates.remove(&self.key);
        }
        drop(self.turn.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_call_per_key_at_a_time_and_no_gate_left_behind() {
        let flights = Arc::new(Flights::default());
        let key = CacheKey::from_bytes([1; 32]);
        let first = flights.enter(key).await;
        let waiter = {
            let flights = Arc::clone(&flights);
            tokio::spawn(async move { flights.enter(key).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished(), "the second call waits for the first");
        // Another key is not held up.
        let other = flights.enter(CacheKey::from_bytes([2; 32])).await;
        drop(other);
        drop(first);
        let second = waiter
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        drop(second);
        assert_eq!(flights.len(), 0);
    }
}
