//! One streamed extraction across its attempts, shared by the partial and iterable
//! drivers: open the provider's stream (through the transport retry loop), read the
//! answer's text (or the first tool call's argument deltas) into the incremental parser,
//! and end each attempt with a [`Response`] for the engine. Every wait is bounded by the
//! stream's total deadline and by its idle timeout (no new answer bytes); an event that is
//! already there is taken without arming a timer or reading the clock.

use std::time::Duration;

use futures::{FutureExt, StreamExt};
use tokio::time::Instant;

use super::cached::{self, CacheSlot};
use super::{retry, Ctx};
use crate::engine::{check_finish, spec, Prepared};
use crate::json::{JsonStream, Limits, OnComplete};
use crate::settings::Call;
use crate::{
    Error, Event, EventStream, FinishReason, Instruct, Response, StreamEvent, ToolArguments,
    ToolCall, Usage,
};

pub(crate) struct Run<'c, T> {
    ctx: Ctx<'c>,
    pub prepared: Prepared<T>,
    pub span: tracing::Span,
    events: Option<EventStream>,
    /// The attempt's parser; it builds no values: the drivers read them from `raw`.
    pub parser: JsonStream,
    /// The attempt's answer text so far.
    pub raw: String,
    tool: Option<(String, String)>,
    finish: Option<FinishReason>,
    /// The call's place in the client's cache, until its answer is stored.
    cache: Option<CacheSlot>,
    /// Whether this attempt replays a cached answer.
    cached: bool,
    usage: Usage,
    limits: Limits,
    stream_timeout: Duration,
    idle_timeout: Duration,
    opened: Instant,
    deadline: Instant,
    /// When the current wait for answer bytes times out: set when a wait starts after
    /// answer bytes, kept across events that carry none.
    idle_until: Option<Instant>,
    /// Events taken without waiting since the clock was last read.
    ready: u32,
}

/// How many events in a row are taken without waiting before the total deadline is
/// checked (an endless stream that never makes us wait still ends at its deadline).
const READY_BETWEEN_CHECKS: u32 = 64;

impl<'c, T: Instruct> Run<'c, T> {
    /// Checks that the mode and the provider stream, and opens the first attempt's stream.
    pub async fn start(ctx: Ctx<'c>, prepared: Prepared<T>, call: &Call) -> Result<Self, Error> {
        let mode = prepared.mode();
        if !ctx.provider.capabilities().streaming || !spec(mode).streams {
            return Err(Error::Unsupported {
                what: format!(
                    "streaming in {mode} mode with the {} provider",
                    ctx.provider.name()
                ),
            });
        }
        let span = tracing::info_span!(
            "instructor.extract",
            target_type = %prepared.schema().name,
            mode = mode.as_str(),
            model = prepared.request().model.as_deref().unwrap_or(""),
            provider = ctx.provider.name(),
            streamed = true,
        );
        let cache = CacheSlot::for_call(call, &prepared);
        let now = Instant::now();
        let mut run = Self {
            ctx,
            prepared,
            span,
            events: None,
            parser: JsonStream::without_values(call.limits),
            raw: String::new(),
            tool: None,
            finish: None,
            cache,
            cached: false,
            usage: Usage::default(),
            limits: call.limits,
            stream_timeout: call.stream_timeout,
            idle_timeout: call.idle_timeout,
            opened: now,
            deadline: now,
            idle_until: None,
            ready: 0,
        };
        run.open().await?;
        Ok(run)
    }

    /// Whether the current attempt's stream is open (the drivers check before each chunk:
    /// awaiting [`Run::ensure_open`] costs more than reading the chunk). Folding the open
    /// into [`Run::next`] instead made that future larger and cost 20% more CPU per
    /// streamed answer (`cargo bench --bench stream`: iterable 1.9× → 2.3× the baseline).
    pub fn is_open(&self) -> bool {
        self.events.is_some()
    }

    /// Opens the current attempt's stream unless it is open (a re-ask closed the last).
    pub async fn ensure_open(&mut self) -> Result<(), Error> {
        if self.events.is_some() {
            return Ok(());
        }
        self.open().await
    }

    /// Opens the current attempt's stream.
    async fn open(&mut self) -> Result<(), Error> {
        let hit = match &mut self.cache {
            // Boxed: the lookup's state would otherwise sit in every driver step's future.
            Some(slot) if self.prepared.attempt() == 0 => {
                Box::pin(slot.lookup(self.prepared.hooks())).await
            }
            _ => None,
        };
        self.cached = hit.is_some();
        let events = match hit {
            Some(response) => cached::replay(response),
            None => retry::open(self.ctx, &self.prepared)
                .await
                .map_err(|e| self.prepared.fail(e))?,
        };
        self.events = Some(events);
        self.parser = JsonStream::without_values(self.limits);
        self.opened = Instant::now();
        self.deadline = self.opened + self.stream_timeout;
        self.idle_until = Some(self.opened + self.idle_timeout);
        self.ready = 0;
        Ok(())
    }

    /// The next piece of answer text of this attempt if the stream has it ready, without
    /// waiting: `None` when it would have to wait (then [`Run::next`] waits), else what
    /// [`Run::next`] gives. The drivers read every chunk that is already there through here,
    /// so a busy stream costs no future, timer or clock read per chunk.
    // Inlined into the drivers' loops: returned through memory, its result cost more than
    // the call (measured on the stream bench).
    #[inline(always)]
    pub fn next_ready(&mut self) -> Option<Option<Result<String, Error>>> {
        loop {
            let Some(events) = self.events.as_mut() else {
                return Some(None);
            };
            let event = events.next().now_or_never()?;
            self.ready += 1;
            if self.ready >= READY_BETWEEN_CHECKS {
                self.ready = 0;
                if let Some(e) = self.check_clock() {
                    return Some(Some(Err(e)));
                }
            }
            if let Some(data) = self.accept(event) {
                return Some(data);
            }
        }
    }

    /// The next piece of answer text of this attempt; `None` when its stream ends.
    pub async fn next(&mut self) -> Option<Result<String, Error>> {
        loop {
            if let Some(data) = self.next_ready() {
                return data;
            }
            self.ready = 0;
            let idle_timeout = self.idle_timeout;
            let idle = *self
                .idle_until
                .get_or_insert_with(|| Instant::now() + idle_timeout);
            let wake = self.deadline.min(idle);
            let events = self.events.as_mut()?;
            let event = match tokio::time::timeout_at(wake, events.next()).await {
                Ok(event) => event,
                Err(_) => {
                    let what = if wake == self.deadline {
                        "total"
                    } else {
                        "idle"
                    };
                    return Some(Err(self.timed_out(what)));
                }
            };
            if let Some(data) = self.accept(event) {
                return data;
            }
        }
    }

    /// After events that came without waiting: the total deadline, and the idle timeout
    /// (an endless stream that never makes us wait still ends).
    fn check_clock(&mut self) -> Option<Error> {
        let now = Instant::now();
        if now >= self.deadline {
            return Some(self.timed_out("total"));
        }
        match self.idle_until {
            Some(idle) if now >= idle => Some(self.timed_out("idle")),
            Some(_) => None,
            None => {
                self.idle_until = Some(now + self.idle_timeout);
                None
            }
        }
    }

    /// An event from the stream: `Some` with what [`Run::next`] returns for it (answer text,
    /// an error, or the end), `None` for an event that carries no answer text.
    #[inline(always)]
    fn accept(
        &mut self,
        event: Option<Result<StreamEvent, Error>>,
    ) -> Option<Option<Result<String, Error>>> {
        let data = match event {
            None => return Some(None),
            Some(Err(e)) => return Some(Some(Err(self.stop(e)))),
            Some(Ok(StreamEvent::TextDelta(t)))
                if !self.prepared.mode().uses_tools() || self.tool.is_none() =>
            {
                t
            }
            Some(Ok(StreamEvent::ToolCallDelta {
                index: 0,
                id,
                name,
                arguments,
            })) => {
                let slot = self.tool.get_or_insert_with(Default::default);
                if let Some(id) = id {
                    slot.0 = id;
                }
                if let Some(name) = name {
                    slot.1 = name;
                }
                arguments
            }
            Some(Ok(StreamEvent::Usage(u))) => {
                self.usage += u;
                return None;
            }
            Some(Ok(StreamEvent::Finish(r))) => {
                self.finish = Some(r);
                return None;
            }
            Some(Ok(_)) => return None,
        };
        if data.is_empty() {
            return None;
        }
        // The idle clock starts again at the next wait.
        self.idle_until = None;
        Some(Some(Ok(data)))
    }

    fn timed_out(&mut self, what: &str) -> Error {
        tracing::warn!(
            attempt = self.prepared.attempt(),
            timeout = what,
            "stream timed out"
        );
        self.stop(Error::Timeout)
    }

    /// Keeps answer text without parsing it (the answer is judged whole at its end), within
    /// the answer size limit.
    pub fn keep(&mut self, data: &str) -> Result<(), Error> {
        self.raw.push_str(data);
        if self.raw.len() > self.limits.max_bytes {
            return Err(Error::LimitExceeded {
                what: "answer bytes".to_owned(),
                limit: self.limits.max_bytes,
            });
        }
        Ok(())
    }

    /// Feeds answer text to the parser.
    pub fn feed(&mut self, data: &str, on_complete: &mut OnComplete<'_>) -> Result<(), Error> {
        self.raw.push_str(data);
        self.parser.feed(data.as_bytes(), on_complete)
    }

    /// Stores the answer that passed in the client's cache (unless it came from there).
    pub fn store_cached(&mut self, response: &Response) {
        if let (Some(slot), false) = (self.cache.take(), self.cached) {
            slot.store(response, self.prepared.shared_hooks());
        }
    }

    /// A failure that ends the extraction: the stream is closed and earlier attempts kept.
    pub fn stop(&mut self, e: Error) -> Error {
        self.events = None;
        self.prepared.fail(e)
    }

    /// Ends the attempt's stream and turns what arrived into a response (the text moves,
    /// it is not copied), told to the hooks.
    pub fn end_attempt(&mut self) -> Response {
        self.events = None;
        let raw = std::mem::take(&mut self.raw);
        let mut r = match self.tool.take() {
            Some((id, name)) => Response::tool_calls(vec![ToolCall {
                id,
                name,
                arguments: ToolArguments::Text(raw),
            }]),
            None => Response::text(raw),
        };
        r.finish_reason = self.finish.take().unwrap_or(FinishReason::Unknown);
        r.usage = std::mem::take(&mut self.usage);
        for h in self.prepared.hooks() {
            h.on_event(&Event::ResponseReceived {
                attempt: self.prepared.attempt(),
                response: &r,
                latency: self.opened.elapsed(),
            });
        }
        r
    }

    /// The answer text of a response this run built.
    pub fn text(response: &Response) -> &str {
        match response.tool_calls.first() {
            Some(ToolCall {
                arguments: ToolArguments::Text(t),
                ..
            }) => t,
            _ => response.text.as_deref().unwrap_or_default(),
        }
    }

    /// Ends an attempt whose stream stopped before the root value closed.
    pub fn incomplete(&mut self) -> Error {
        let response = self.end_attempt();
        let usage = self.prepared.usage() + response.usage;
        let e = check_finish(&response, usage)
            .err()
            .unwrap_or_else(|| Error::IncompleteOutput {
                partial: Self::text(&response).to_owned(),
                usage,
            });
        self.prepared.fail(e)
    }

    /// The attempt's answer is malformed (or past a limit) mid-stream: stop reading it and
    /// count it as a failed attempt. `None` when it is re-asked, else the final error.
    pub fn malformed(&mut self, e: Error) -> Option<Error> {
        let response = self.end_attempt();
        let e = match e {
            Error::Parse { message, .. } => {
                let raw = Self::text(&response).to_owned();
                for h in self.prepared.hooks() {
                    h.on_event(&Event::ParseError {
                        attempt: self.prepared.attempt(),
                        raw: &raw,
                        message: &message,
                    });
                }
                Error::Parse { raw, message }
            }
            other => other,
        };
        self.prepared.reask(response, e).err()
    }
}

/// The next piece of a driver step's answer text, as [`Run::next`] gives it, after opening
/// the attempt's stream if a re-ask closed it; an error opening it ends the step's stream
/// (`done`) and is returned from the step. A macro, not a method, so that the drivers keep
/// the cheap checks inline and await the open and the wait only when they must (see
/// [`Run::is_open`] and [`Run::next_ready`]).
macro_rules! next_chunk {
    ($s:ident) => {{
        if !$s.run.is_open() {
            if let Err(e) = $s.run.ensure_open().await {
                $s.done = true;
                return Some((Err(e), $s));
            }
        }
        match $s.run.next_ready() {
            Some(next) => next,
            None => $s.run.next().await,
        }
    }};
}
pub(crate) use next_chunk;
