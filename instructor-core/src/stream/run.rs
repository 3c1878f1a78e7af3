//! The streamed drivers behind `create_partial` and `create_iterable`: open the provider's
//! stream, feed the answer's text (or the first tool call's argument deltas) to the
//! incremental parser, and when the attempt's stream ends hand the answer to the same judge
//! as a whole answer (so both paths accept and reject exactly the same text); a failed
//! answer is re-asked as a new streamed attempt. Every wait is bounded by the stream's total
//! deadline and by its idle timeout (no new answer bytes).

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::ops::Range;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use tokio::time::Instant;

use super::{Budget, ItemStream, PartialStream, Update};
use crate::extract::attempt::{check_finish, judge, Tally, Verdict};
use crate::extract::{parse, plan, Call};
use crate::json::stream::{JsonStream, Limits, Path, Seg};
use crate::{
    Client, Error, Event, EventStream, FinishReason, Instruct, Message, Mode, Request, Response,
    StreamEvent, ToolArguments, ToolCall, TypeSchema, Usage,
};

/// One streamed extraction's state across attempts.
struct Run<'c> {
    client: &'c Client,
    request: Request,
    mode: Mode,
    schema: &'static TypeSchema,
    tally: Tally,
    attempt_usage: Usage,
    events: Option<EventStream>,
    parser: JsonStream,
    raw: String,
    tool: Option<(String, String)>,
    finish: Option<FinishReason>,
    limits: Limits,
    stream_timeout: Duration,
    idle_timeout: Duration,
    opened: Instant,
    deadline: Instant,
    idle_until: Instant,
}

impl<'c> Run<'c> {
    fn start(
        client: &'c Client,
        call: Call,
        messages: Vec<Message>,
        schema: &'static TypeSchema,
    ) -> Result<Self, Error> {
        let provider = client.provider();
        let (mode, capabilities) = plan::mode(provider, call.mode)?;
        if !capabilities.streaming || mode == Mode::ParallelTools {
            return Err(Error::Unsupported {
                what: format!(
                    "streaming in {mode} mode with the {} provider",
                    provider.name()
                ),
            });
        }
        let now = Instant::now();
        Ok(Self {
            client,
            request: plan::request(mode, schema, &call, messages)?,
            mode,
            schema,
            tally: Tally::new(call.max_retries),
            attempt_usage: Usage::default(),
            events: None,
            parser: JsonStream::new(call.limits),
            raw: String::new(),
            tool: None,
            finish: None,
            limits: call.limits,
            stream_timeout: call.stream_timeout,
            idle_timeout: call.idle_timeout,
            opened: now,
            deadline: now,
            idle_until: now,
        })
    }

    async fn open(&mut self) -> Result<(), Error> {
        let settings = self.client.settings();
        let events = crate::retry::open(
            self.client.provider(),
            &self.request,
            &settings.transport,
            settings.timeout,
            self.client.hooks(),
            self.tally.attempt,
        )
        .await?;
        self.events = Some(events);
        self.opened = Instant::now();
        self.deadline = self.opened + self.stream_timeout;
        self.idle_until = self.opened + self.idle_timeout;
        Ok(())
    }

    /// The next piece of answer text of this attempt; `None` when the attempt's stream ends.
    async fn next(&mut self) -> Option<Result<String, Error>> {
        let events = self.events.as_mut()?;
        loop {
            let wake = self.deadline.min(self.idle_until);
            let event = match tokio::time::timeout_at(wake, events.next()).await {
                Ok(event) => event?,
                Err(_) => {
                    let what = if wake == self.deadline {
                        "total"
                    } else {
                        "idle"
                    };
                    tracing::warn!(
                        attempt = self.tally.attempt,
                        timeout = what,
                        "stream timed out"
                    );
                    return Some(Err(Error::Timeout));
                }
            };
            let data = match event {
                Err(e) => return Some(Err(e)),
                Ok(StreamEvent::TextDelta(t)) if !self.mode.uses_tools() || self.tool.is_none() => {
                    t
                }
                Ok(StreamEvent::ToolCallDelta {
                    index: 0,
                    id,
                    name,
                    arguments,
                }) => {
                    let slot = self.tool.get_or_insert_with(Default::default);
                    if let Some(id) = id {
                        slot.0 = id;
                    }
                    if let Some(name) = name {
                        slot.1 = name;
                    }
                    arguments
                }
                Ok(StreamEvent::Usage(u)) => {
                    self.tally.usage += u;
                    self.attempt_usage += u;
                    continue;
                }
                Ok(StreamEvent::Finish(r)) => {
                    self.finish = Some(r);
                    continue;
                }
                Ok(_) => continue,
            };
            if !data.is_empty() {
                self.idle_until = Instant::now() + self.idle_timeout;
                return Some(Ok(data));
            }
        }
    }

    fn feed(&mut self, data: &str, on_complete: &mut super::OnComplete<'_>) -> Result<(), Error> {
        self.raw.push_str(data);
        self.parser.feed(data.as_bytes(), on_complete)
    }

    /// Ends the attempt's stream and turns what arrived into a response (the text moves,
    /// it is not copied), told to the hooks.
    fn end_attempt(&mut self) -> Response {
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
        r.usage = std::mem::take(&mut self.attempt_usage);
        for h in self.client.hooks() {
            h.on_event(&Event::ResponseReceived {
                attempt: self.tally.attempt,
                response: &r,
                latency: self.opened.elapsed(),
            });
        }
        r
    }

    /// The answer text of a response this run built.
    fn text(response: &Response) -> &str {
        match response.tool_calls.first() {
            Some(ToolCall {
                arguments: ToolArguments::Text(t),
                ..
            }) => t,
            _ => response.text.as_deref().unwrap_or_default(),
        }
    }

    /// Ends an attempt whose stream stopped before the root value closed.
    fn incomplete(&mut self) -> Error {
        let response = self.end_attempt();
        if let Err(e) = check_finish(&response, self.tally.usage) {
            return e;
        }
        Error::IncompleteOutput {
            partial: Self::text(&response).to_owned(),
            usage: self.tally.usage,
        }
    }

    /// Records a failed answer; re-asks when attempts remain (`None`), else returns the
    /// final error.
    fn fail(&mut self, response: Response, error: Error) -> Option<Error> {
        let hooks = self.client.hooks();
        match self.tally.failed(&mut self.request, response, error, hooks) {
            Ok(()) => {
                self.parser = JsonStream::new(self.limits);
                None
            }
            Err(e) => Some(e),
        }
    }

    /// The attempt's answer is malformed (or past a limit) mid-stream: stop reading it and
    /// count it as a failed attempt.
    fn malformed(&mut self, e: Error) -> Option<Error> {
        let response = self.end_attempt();
        let e = match e {
            Error::Parse { message, .. } => Error::Parse {
                raw: Self::text(&response).to_owned(),
                message,
            },
            other => other,
        };
        for h in self.client.hooks() {
            if let Error::Parse { raw, message } = &e {
                h.on_event(&Event::ParseError {
                    attempt: self.tally.attempt,
                    raw,
                    message,
                });
            }
        }
        self.fail(response, e)
    }
}

/// The value inside the request's wrapper, if the answer has it.
fn unwrapped<'v>(v: &'v Value, wrapped: Option<&str>) -> &'v Value {
    match wrapped.and_then(|k| v.get(k)) {
        Some(inner) => inner,
        None => v,
    }
}

struct PartialState<'c, T> {
    run: Run<'c>,
    budget: Budget,
    done: bool,
    _target: PhantomData<fn() -> T>,
}

impl<T: Instruct> PartialState<'_, T> {
    /// A snapshot if something visible changed and the budget allows one.
    fn snapshot(&mut self) -> Option<T::Partial> {
        if !self.run.parser.is_started() {
            return None;
        }
        let received = self.run.parser.bytes();
        if !self.run.parser.take_changed() {
            return None;
        }
        if !self.budget.allow(received, received) {
            // Held back: the next change (or the final value) shows it.
            return None;
        }
        let v = self.run.parser.snapshot()?;
        T::partial_from(unwrapped(&v, self.run.schema.wrapped))
    }

    /// The attempt ended: the final value, a re-ask (`None`), or the error.
    fn finish(&mut self) -> Option<Result<Update<T>, Error>> {
        let run = &mut self.run;
        if let Err(e) = run.parser.finish_input(&mut |_, _, _| {}) {
            return run.malformed(e).map(Err);
        }
        if !run.parser.is_complete() {
            return Some(Err(run.incomplete()));
        }
        let response = run.end_attempt();
        let settings = run.client.settings();
        let verdict = judge::<T>(
            &response,
            run.mode,
            run.schema,
            settings.repair,
            run.tally.usage,
            run.client.hooks(),
            run.tally.attempt,
        );
        match verdict {
            Verdict::Done { value, .. } => Some(Ok(Update::Complete {
                value,
                usage: run.tally.usage,
            })),
            Verdict::Fail(e) => Some(Err(e)),
            Verdict::Reask(e) => run.fail(response, e).map(Err),
        }
    }
}

async fn partial_step<T: Instruct>(
    mut s: PartialState<'_, T>,
) -> Option<(Result<Update<T>, Error>, PartialState<'_, T>)> {
    loop {
        if s.done {
            return None;
        }
        if s.run.events.is_none() {
            if let Err(e) = s.run.open().await {
                s.done = true;
                return Some((Err(e), s));
            }
        }
        let item = match s.run.next().await {
            Some(Ok(data)) => match s.run.feed(&data, &mut |_, _, _| {}) {
                Ok(()) => s.snapshot().map(|p| Ok(Update::Partial(p))),
                Err(e) => s.run.malformed(e).map(Err),
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

pub(crate) async fn partial<'c, T: Instruct + Send>(
    client: &'c Client,
    call: Call,
    messages: Vec<Message>,
) -> Result<PartialStream<'c, T>, Error> {
    let mut run = Run::start(client, call, messages, T::type_schema())?;
    run.open().await?;
    let state = PartialState::<T> {
        run,
        budget: Budget::default(),
        done: false,
        _target: PhantomData,
    };
    Ok(Box::pin(futures::stream::unfold(state, partial_step)))
}

/// Where the list is: a bare list, or the only property of the root object (the request's
/// `items` wrapper, or whatever name the model chose). Anything else is a typed error.
#[derive(Default)]
struct Shape {
    /// Root members seen closed.
    members: usize,
    /// The pointer to the property holding the list, once an element of it has closed.
    key: Option<String>,
    error: Option<String>,
}

impl Shape {
    /// Reads one closed value; `Some(index)` when it is a list element.
    fn classify(&mut self, path: Path<'_>, value: &Value) -> Option<usize> {
        match (path.len(), path.get(0), path.get(1)) {
            (1, Some(Seg::Index(i)), _) => Some(i),
            (2, Some(Seg::Key(k)), Some(Seg::Index(i))) if self.members == 0 => {
                if self.key.is_none() {
                    let mut pointer = crate::JsonPointer::new();
                    pointer.push_key(k);
                    self.key = Some(pointer.as_str().to_owned());
                }
                Some(i)
            }
            (1, Some(Seg::Key(k)), _) => {
                self.members += 1;
                if self.members > 1 {
                    self.error = Some(format!(
                        "expected a list, or an object whose only property is a list; the object has another property, `{}`",
                        excerpt(k)
                    ));
                } else if !value.is_array() {
                    self.error = Some(format!(
                        "expected a list, or an object whose only property is a list; property `{}` is not a list",
                        excerpt(k)
                    ));
                }
                None
            }
            (0, ..) if value.as_object().is_some_and(|m| m.is_empty()) => {
                self.error = Some("expected a list, found an empty object".to_owned());
                None
            }
            _ => None,
        }
    }

    /// The JSON pointer of element `i`, as the model wrote it.
    fn pointer(&self, i: usize) -> String {
        match &self.key {
            Some(k) => format!("{k}/{i}"),
            None => format!("/{i}"),
        }
    }
}

fn excerpt(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

struct ItemState<'c, T> {
    run: Run<'c>,
    queue: VecDeque<Result<T, Error>>,
    /// Elements closed in the last chunk: index and byte span in the answer.
    closed: Vec<(usize, Range<usize>)>,
    shape: Shape,
    yielded: usize,
    done: bool,
}

impl<T: Instruct> ItemState<'_, T> {
    /// Feeds a chunk and queues the elements that closed in it, each read from its own text
    /// exactly as a whole answer would be.
    fn feed(&mut self, data: &str) -> Result<(), Error> {
        let ItemState {
            run, closed, shape, ..
        } = self;
        let fed = run.feed(data, &mut |path, v, span| {
            if let Some(i) = shape.classify(path, v) {
                closed.push((i, span));
                // The element is read from its text; the tree need not keep it.
                *v = Value::Null;
            }
        });
        for (i, span) in self.closed.drain(..) {
            let text = &self.run.raw[span];
            let item = parse::from_text::<T>(text)
                .map_err(|message| Error::Parse {
                    raw: text.to_owned(),
                    message,
                })
                .and_then(|t| {
                    t.validate().map(|()| t).map_err(|errors| {
                        let mut seen = crate::ValidationErrors::new();
                        for mut e in errors {
                            e.path = format!("{}{}", self.shape.pointer(i), e.path);
                            seen.add(e);
                        }
                        Error::Validation {
                            raw: text.to_owned(),
                            errors: seen,
                        }
                    })
                });
            self.queue.push_back(item);
        }
        fed?;
        match self.shape.error.take() {
            Some(message) => Err(Error::Parse {
                raw: String::new(),
                message,
            }),
            None => Ok(()),
        }
    }

    /// The answer is unusable: re-ask if nothing was shown yet, else end with the error.
    fn unusable(&mut self, e: Error) {
        if self.yielded > 0 || !self.queue.is_empty() {
            self.run.events = None;
            self.done = true;
            self.queue.push_back(Err(e));
        } else if let Some(e) = self.run.malformed(e) {
            self.done = true;
            self.queue.push_back(Err(e));
        } else {
            self.shape = Shape::default();
        }
    }
}

async fn item_step<T: Instruct>(
    mut s: ItemState<'_, T>,
) -> Option<(Result<T, Error>, ItemState<'_, T>)> {
    loop {
        if let Some(next) = s.queue.pop_front() {
            s.yielded += 1;
            return Some((next, s));
        }
        if s.done {
            return None;
        }
        if s.run.events.is_none() {
            if let Err(e) = s.run.open().await {
                s.done = true;
                return Some((Err(e), s));
            }
        }
        match s.run.next().await {
            Some(Ok(data)) => {
                if let Err(e) = s.feed(&data) {
                    s.unusable(e);
                }
            }
            Some(Err(e)) => {
                s.done = true;
                s.queue.push_back(Err(e));
            }
            None => {
                if let Err(e) = s.run.parser.finish_input(&mut |_, _, _| {}) {
                    s.unusable(e);
                    continue;
                }
                s.done = true;
                if !s.run.parser.is_complete() {
                    let e = s.run.incomplete();
                    s.queue.push_back(Err(e));
                } else {
                    let response = s.run.end_attempt();
                    if let Err(e) = check_finish(&response, s.run.tally.usage) {
                        s.queue.push_back(Err(e));
                    }
                }
            }
        }
    }
}

pub(crate) async fn items<'c, T: Instruct + Send>(
    client: &'c Client,
    call: Call,
    messages: Vec<Message>,
) -> Result<ItemStream<'c, T>, Error> {
    let mut run = Run::start(client, call, messages, <Vec<T> as Instruct>::type_schema())?;
    run.open().await?;
    let state = ItemState::<T> {
        run,
        queue: VecDeque::new(),
        closed: Vec::new(),
        shape: Shape::default(),
        yielded: 0,
        done: false,
    };
    Ok(Box::pin(futures::stream::unfold(state, item_step)))
}
