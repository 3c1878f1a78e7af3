//! The streamed attempt loop behind `create_partial` and `create_iterable`: open the
//! provider's stream, feed the answer's text (or the first tool call's argument deltas) to
//! the incremental parser, and at the end parse, validate and, if that fails, re-ask as a
//! new streamed attempt.

use std::collections::VecDeque;
use std::marker::PhantomData;

use futures::StreamExt;
use serde_json::Value;

use super::json::{JsonStream, Limits, Seg};
use super::{Budget, ItemStream, PartialStream, Update};
use crate::extract::{as_seen_by_model, check_finish, parse, plan, reask, Call};
use crate::{
    Attempt, Client, Error, Event, EventStream, FinishReason, Instruct, Message, Mode, Request,
    Response, StreamEvent, ToolArguments, ToolCall, TypeSchema, Usage,
};

/// One streamed extraction's state across attempts.
struct Run<'c> {
    client: &'c Client,
    request: Request,
    mode: Mode,
    schema: &'static TypeSchema,
    max_retries: u32,
    attempt: u32,
    usage: Usage,
    attempt_usage: Usage,
    events: Option<EventStream>,
    parser: JsonStream,
    raw: String,
    tool: Option<(String, String)>,
    finish: Option<FinishReason>,
    attempts: Vec<Attempt>,
    limits: Limits,
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
        Ok(Self {
            client,
            request: Request {
                model: call.model,
                messages: plan::messages(mode, schema, messages),
                output: plan::output(mode, schema)?,
                temperature: call.temperature,
                top_p: None,
                max_tokens: call.max_tokens,
                seed: None,
                stop: Vec::new(),
            },
            mode,
            schema,
            max_retries: call.max_retries,
            attempt: 0,
            usage: Usage::default(),
            attempt_usage: Usage::default(),
            events: None,
            parser: JsonStream::new(call.limits),
            raw: String::new(),
            tool: None,
            finish: None,
            attempts: Vec::new(),
            limits: call.limits,
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
            self.attempt,
        )
        .await?;
        self.events = Some(events);
        Ok(())
    }

    /// The next piece of answer text of this attempt; `None` when the attempt's stream ends.
    async fn next(&mut self) -> Option<Result<String, Error>> {
        let events = self.events.as_mut()?;
        loop {
            match events.next().await? {
                Err(e) => return Some(Err(e)),
                Ok(StreamEvent::TextDelta(t)) if !self.mode.uses_tools() || self.tool.is_none() => {
                    return Some(Ok(t))
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
                    if !arguments.is_empty() {
                        return Some(Ok(arguments));
                    }
                }
                Ok(StreamEvent::Usage(u)) => {
                    self.usage += u;
                    self.attempt_usage += u;
                }
                Ok(StreamEvent::Finish(r)) => self.finish = Some(r),
                Ok(_) => {}
            }
        }
    }

    fn feed(&mut self, data: &str, on_complete: &mut super::OnComplete<'_>) -> Result<(), Error> {
        self.raw.push_str(data);
        self.parser.feed(data.as_bytes(), on_complete)
    }

    /// The answer as a response (for the re-ask and for finish checks).
    fn response(&self) -> Response {
        let mut r = match &self.tool {
            Some((id, name)) => Response::tool_calls(vec![ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: ToolArguments::Text(self.raw.clone()),
            }]),
            None => Response::text(self.raw.clone()),
        };
        r.finish_reason = self.finish.clone().unwrap_or(FinishReason::Unknown);
        r.usage = self.attempt_usage;
        r
    }

    /// The attempt's stream ended: the complete root value, or why there is none.
    fn end(&mut self, on_complete: &mut super::OnComplete<'_>) -> Result<Value, Error> {
        self.events = None;
        check_finish(&self.response(), self.usage)?;
        self.parser.finish_input(on_complete)?;
        if !self.parser.is_complete() {
            return Err(Error::IncompleteOutput {
                partial: self.raw.clone(),
                usage: self.usage,
            });
        }
        Ok(self.parser.snapshot().unwrap_or(Value::Null))
    }

    /// Records a failed attempt; re-asks when attempts remain (`None`), else returns the
    /// final error.
    fn fail(&mut self, error: Error) -> Option<Error> {
        let response = self.response();
        let raw = std::mem::take(&mut self.raw);
        let feedback = reask::feedback(&error, &raw);
        for h in self.client.hooks() {
            match &error {
                Error::Validation { errors, .. } => h.on_event(&Event::ValidationError {
                    attempt: self.attempt,
                    raw: &raw,
                    errors,
                }),
                Error::Parse { message, .. } => h.on_event(&Event::ParseError {
                    attempt: self.attempt,
                    raw: &raw,
                    message,
                }),
                _ => {}
            }
        }
        self.attempts.push(Attempt {
            raw,
            error,
            usage: self.attempt_usage,
        });
        self.events = None;
        if self.attempt >= self.max_retries {
            return Some(Error::RetriesExhausted {
                attempts: std::mem::take(&mut self.attempts),
                usage: self.usage,
            });
        }
        reask::append(&mut self.request.messages, self.mode, &response, feedback);
        self.attempt += 1;
        self.attempt_usage = Usage::default();
        self.parser = JsonStream::new(self.limits);
        self.tool = None;
        self.finish = None;
        for h in self.client.hooks() {
            h.on_event(&Event::Reask {
                attempt: self.attempt,
            });
        }
        None
    }

    /// Malformed JSON mid-stream keeps the model's text in the error.
    fn with_raw(&self, e: Error) -> Error {
        match e {
            Error::Parse { message, .. } => Error::Parse {
                raw: self.raw.clone(),
                message,
            },
            other => other,
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
        let value = match self.run.end(&mut |_, _| {}) {
            Ok(v) => v,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        let raw = self.run.raw.clone();
        let error = match parse::wrapped_from_value::<T>(&value, self.run.schema.wrapped) {
            Ok(v) => match v.validate() {
                Ok(()) => {
                    self.done = true;
                    return Some(Ok(Update::Complete {
                        value: v,
                        usage: self.run.usage,
                    }));
                }
                Err(errors) => Error::Validation {
                    raw,
                    errors: as_seen_by_model(errors, self.run.schema.wrapped),
                },
            },
            Err(message) => Error::Parse { raw, message },
        };
        self.run.fail(error).map(|e| {
            self.done = true;
            Err(e)
        })
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
        match s.run.next().await {
            Some(Ok(data)) => {
                if let Err(e) = s.run.feed(&data, &mut |_, _| {}) {
                    let e = s.run.with_raw(e);
                    if let Some(e) = s.run.fail(e) {
                        s.done = true;
                        return Some((Err(e), s));
                    }
                    continue;
                }
                if let Some(p) = s.snapshot() {
                    return Some((Ok(Update::Partial(p)), s));
                }
            }
            Some(Err(e)) => {
                s.done = true;
                return Some((Err(e), s));
            }
            None => {
                if let Some(item) = s.finish() {
                    return Some((item, s));
                }
            }
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

struct ItemState<'c, T> {
    run: Run<'c>,
    queue: VecDeque<Result<T, Error>>,
    yielded: usize,
    done: bool,
}

/// Whether a completed value is an element of the answer's list: `[i]` for a bare list,
/// `{"items": [i]}` for the request's wrapper.
fn is_item(path: &[Seg]) -> Option<usize> {
    match path {
        [Seg::Index(i)] => Some(*i),
        [Seg::Key(k), Seg::Index(i)] if k == "items" => Some(*i),
        _ => None,
    }
}

fn item<T: Instruct>(value: Value, index: usize) -> Result<T, Error> {
    let t: T = parse::wrapped_from_value(&value, None).map_err(|message| Error::Parse {
        raw: value.to_string(),
        message,
    })?;
    t.validate().map_err(|errors| {
        let mut seen = crate::ValidationErrors::new();
        for mut e in errors {
            e.path = format!("/items/{index}{}", e.path);
            seen.add(e);
        }
        Error::Validation {
            raw: value.to_string(),
            errors: seen,
        }
    })?;
    Ok(t)
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
        let ItemState {
            run,
            queue,
            yielded,
            done,
        } = &mut s;
        let mut on = |path: &[Seg], v: &mut Value| {
            if let Some(i) = is_item(path) {
                queue.push_back(item::<T>(std::mem::take(v), i));
            }
        };
        match run.next().await {
            Some(Ok(data)) => {
                if let Err(e) = run.feed(&data, &mut on) {
                    let e = run.with_raw(e);
                    // Re-asking after items were shown would show them twice.
                    if *yielded > 0 || !queue.is_empty() {
                        *done = true;
                        queue.push_back(Err(e));
                    } else if let Some(e) = run.fail(e) {
                        *done = true;
                        queue.push_back(Err(e));
                    }
                }
            }
            Some(Err(e)) => {
                *done = true;
                queue.push_back(Err(e));
            }
            None => {
                *done = true;
                if let Err(e) = run.end(&mut on) {
                    queue.push_back(Err(e));
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
        yielded: 0,
        done: false,
    };
    Ok(Box::pin(futures::stream::unfold(state, item_step)))
}
