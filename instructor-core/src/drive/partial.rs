//! `create_partial`: typed partial values as the answer arrives, then the validated value.
//! The final value comes from the engine's judge, exactly as a whole answer's would.

use std::pin::Pin;

use futures::Stream;
use serde_json::Value;
use tracing::Instrument;

use super::streamed::{next_chunk, Run};
use super::Ctx;
use crate::engine::{Prepared, Step};
use crate::settings::Call;
use crate::{Error, Instruct, Usage};

/// One item of a partial stream.
#[derive(Debug, Clone)]
pub enum Update<T: Instruct> {
    /// The value as far as it has arrived.
    Partial(T::Partial),
    /// The final, validated value, and the tokens every attempt used.
    Complete {
        /// The value.
        value: T,
        /// Tokens used by every attempt.
        usage: Usage,
    },
}

/// A stream of [`Update`]s.
pub type PartialStream<'c, T> = Pin<Box<dyn Stream<Item = Result<Update<T>, Error>> + Send + 'c>>;

/// Decides when a snapshot may be taken: every change while the snapshots' total size is
/// within `FACTOR` times the bytes received plus `ALLOWANCE`. A snapshot costs about the
/// bytes received (the partial value is a copy), so with `FACTOR = 1` that is every change
/// until `ALLOWANCE` is spent (the first ~1.4 KB of an answer in 16-byte chunks, ~11 KB in
/// 1 KB chunks), and after that none: later changes wait for the final value. A larger
/// `FACTOR` would space snapshots geometrically instead (at `FACTOR = 2`, each at about
/// twice the bytes of the last), at up to `FACTOR` times the answer in snapshot work.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    spent: usize,
}

impl Budget {
    const FACTOR: usize = 1;
    const ALLOWANCE: usize = 64 * 1024;

    pub fn allow(&mut self, size: usize, received: usize) -> bool {
        let cost = size.max(1);
        if self.spent + cost <= Self::FACTOR * received + Self::ALLOWANCE {
            self.spent += cost;
            true
        } else {
            false
        }
    }
}

/// The value inside the request's wrapper, if the answer has it.
fn unwrapped<'v>(v: &'v Value, wrapped: Option<&str>) -> &'v Value {
    match wrapped.and_then(|k| v.get(k)) {
        Some(inner) => inner,
        None => v,
    }
}

struct State<'c, T> {
    run: Run<'c, T>,
    budget: Budget,
    done: bool,
    /// The parser rejected this attempt's text: the rest is kept and judged whole.
    whole: bool,
}

impl<T: Instruct> State<'_, T> {
    /// The attempt cannot go on (past a limit): counted as failed, re-asked if attempts
    /// remain.
    fn malformed(&mut self, e: Error) -> Option<Result<Update<T>, Error>> {
        self.whole = false;
        self.run.malformed(e).map(Err)
    }

    /// A snapshot if something visible changed and the budget allows one.
    fn snapshot(&mut self) -> Option<T::Partial> {
        let parser = &mut self.run.parser;
        if !parser.is_started() || !parser.take_changed() {
            return None;
        }
        let received = parser.bytes();
        if !self.budget.allow(received, received) {
            // Held back: the next change (or the final value) shows it.
            return None;
        }
        // Read from the answer's text (the parser builds no tree): only what arrived since
        // the last snapshot is parsed.
        let wrapped = self.run.prepared.schema().wrapped;
        parser
            .read_snapshot(self.run.raw.as_bytes(), |v| {
                T::partial_from(unwrapped(v, wrapped))
            })
            .flatten()
    }

    /// The attempt ended: the final value, a re-ask (`None`), or the error.
    fn finish(&mut self) -> Option<Result<Update<T>, Error>> {
        let whole = std::mem::take(&mut self.whole);
        let run = &mut self.run;
        if !whole {
            if let Err(e) = run.parser.finish_input(&mut |_, _, _| {}) {
                return run.malformed(e).map(Err);
            }
            if !run.parser.is_complete() {
                return Some(Err(run.incomplete()));
            }
        }
        let response = run.end_attempt();
        match run.prepared.interpret(response) {
            Step::Done { value, completion } => {
                run.store_cached(&completion.response);
                Some(Ok(Update::Complete {
                    value,
                    usage: completion.usage,
                }))
            }
            Step::Reask(_) => None,
            Step::Failed(e) => Some(Err(e)),
        }
    }
}

/// One item of the stream. The state is boxed: it moves in and out of every step.
async fn step<T: Instruct>(
    mut s: Box<State<'_, T>>,
) -> Option<(Result<Update<T>, Error>, Box<State<'_, T>>)> {
    loop {
        if s.done {
            return None;
        }
        let next = next_chunk!(s);
        let item = match next {
            Some(Ok(data)) if s.whole => s.run.keep(&data).err().and_then(|e| s.malformed(e)),
            Some(Ok(data)) => match s.run.feed(&data, &mut |_, _, _| {}) {
                Ok(()) => s.snapshot().map(|p| Ok(Update::Partial(p))),
                // Text the parser rejects (a trailing comma, a raw line break in a string)
                // shows no more partials; the answer is judged whole at its end, repaired
                // exactly as a whole answer would be.
                Err(Error::Parse { .. }) => {
                    s.whole = true;
                    None
                }
                Err(e) => s.malformed(e),
            },
            Some(Err(e)) => Some(Err(e)),
            None => s.finish(),
        };
        if let Some(item) = item {
            s.done = !matches!(item, Ok(Update::Partial(_)));
            return Some((item, s));
        }
    }
}

/// Starts a partial stream.
pub(crate) async fn run<'c, T: Instruct + Send>(
    ctx: Ctx<'c>,
    prepared: Prepared<T>,
    call: &Call,
) -> Result<PartialStream<'c, T>, Error> {
    let run = Run::start(ctx, prepared, call).await?;
    let state = Box::new(State::<T> {
        run,
        budget: Budget::default(),
        done: false,
        whole: false,
    });
    Ok(Box::pin(futures::stream::unfold(state, |s| {
        let span = s.run.span.clone();
        step(s).instrument(span)
    })))
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn budget_keeps_total_work_linear() {
        // A 1 MB answer in 16-byte chunks: a snapshot per chunk would cost 32 GB of work.
        let (mut b, mut work, size) = (Budget::default(), 0usize, 1usize << 20);
        for received in (16..=size).step_by(16) {
            if b.allow(received, received) {
                work += received;
            }
        }
        assert!(work <= Budget::FACTOR * size + Budget::ALLOWANCE);
        // A small answer gets every change.
        let mut b = Budget::default();
        assert!((16..=1024).step_by(16).all(|r| b.allow(r, r)));
    }
}
