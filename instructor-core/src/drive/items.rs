//! `create_iterable`: each element of the answer's list, validated, the moment it closes.
//! An element is read from its own text, exactly as a whole answer would be, and validated
//! with the call's context; one that fails validation is yielded as an error and the stream
//! goes on.

use std::collections::VecDeque;
use std::ops::Range;
use std::pin::Pin;

use futures::Stream;
use serde_json::Value;
use tracing::Instrument;

use super::streamed::{next_chunk, Run};
use super::Ctx;
use crate::engine::{check_finish, parse, validate_item, Prepared};
use crate::json::{Path, Seg};
use crate::settings::Call;
use crate::{Error, Instruct, JsonPointer, ValidationErrors};

/// A stream of validated list items.
pub type ItemStream<'c, T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send + 'c>>;

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
        // Most values are inside an element: nothing to read there.
        if path.len() > 2 {
            return None;
        }
        match (path.len(), path.get(0), path.get(1)) {
            (1, Some(Seg::Index(i)), _) => Some(i),
            (2, Some(Seg::Key(k)), Some(Seg::Index(i))) if self.members == 0 => {
                if self.key.is_none() {
                    let mut pointer = JsonPointer::new();
                    pointer.push_key(k);
                    self.key = Some(pointer.as_str().to_owned());
                }
                Some(i)
            }
            (1, Some(Seg::Key(k)), _) => {
                self.members += 1;
                let problem = if self.members > 1 {
                    "the object has another property,"
                } else if !value.is_array() {
                    "this property of the object is not a list:"
                } else {
                    return None;
                };
                self.error = Some(format!(
                    "expected a list, or an object whose only property is a list; {problem} `{}`",
                    excerpt(k)
                ));
                None
            }
            // The parser passes containers as empty stand-ins: no member closed means `{}`.
            (0, ..) if value.is_object() && self.members == 0 => {
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

struct State<'c, T> {
    run: Run<'c, Vec<T>>,
    queue: VecDeque<Result<T, Error>>,
    /// Elements closed in the last chunk: index and byte span in the answer.
    closed: Vec<(usize, Range<usize>)>,
    shape: Shape,
    yielded: usize,
    done: bool,
    /// Whether an item failed: such an answer is not cached.
    item_failed: bool,
}

impl<T: Instruct> State<'_, T> {
    /// Feeds a chunk and queues the elements that closed in it.
    fn feed(&mut self, data: &str) -> Result<(), Error> {
        let State {
            run, closed, shape, ..
        } = self;
        let fed = run.feed(data, &mut |path, v, span| {
            if let Some(i) = shape.classify(path, v) {
                closed.push((i, span));
            }
        });
        let context = self.run.prepared.validation_context();
        let schema = self.run.prepared.schema();
        for (i, span) in self.closed.drain(..) {
            let text = &self.run.raw[span];
            let item = parse::from_text::<T>(text)
                .map_err(|message| Error::Parse {
                    raw: text.to_owned(),
                    message,
                })
                .and_then(|t| {
                    validate_item(&t, schema, &context)
                        .map(|()| t)
                        .map_err(|errors| {
                            let mut seen = ValidationErrors::new();
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
            self.item_failed |= item.is_err();
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
            let e = self.run.stop(e);
            self.done = true;
            self.queue.push_back(Err(e));
        } else if let Some(e) = self.run.malformed(e) {
            self.done = true;
            self.queue.push_back(Err(e));
        } else {
            self.shape = Shape::default();
        }
    }

    /// The attempt's stream ended.
    fn end(&mut self) {
        if let Err(e) = self.run.parser.finish_input(&mut |_, _, _| {}) {
            return self.unusable(e);
        }
        self.done = true;
        if !self.run.parser.is_complete() {
            let e = self.run.incomplete();
            self.queue.push_back(Err(e));
            return;
        }
        let response = self.run.end_attempt();
        let usage = self.run.prepared.usage() + response.usage;
        match check_finish(&response, usage) {
            Err(e) => {
                let e = self.run.stop(e);
                self.queue.push_back(Err(e));
            }
            Ok(()) if !self.item_failed => self.run.store_cached(&response),
            Ok(()) => {}
        }
    }
}

/// One item of the stream. The state is boxed: it moves in and out of every step.
async fn step<T: Instruct>(
    mut s: Box<State<'_, T>>,
) -> Option<(Result<T, Error>, Box<State<'_, T>>)> {
    loop {
        if let Some(next) = s.queue.pop_front() {
            s.yielded += 1;
            return Some((next, s));
        }
        if s.done {
            return None;
        }
        let next = next_chunk!(s);
        match next {
            Some(Ok(data)) => {
                if let Err(e) = s.feed(&data) {
                    s.unusable(e);
                }
            }
            Some(Err(e)) => {
                s.done = true;
                s.queue.push_back(Err(e));
            }
            None => s.end(),
        }
    }
}

/// Starts an iterable stream.
pub(crate) async fn run<'c, T: Instruct + Send>(
    ctx: Ctx<'c>,
    prepared: Prepared<Vec<T>>,
    call: &Call,
) -> Result<ItemStream<'c, T>, Error> {
    let run = Run::start(ctx, prepared, call).await?;
    let state = Box::new(State::<T> {
        run,
        queue: VecDeque::new(),
        closed: Vec::new(),
        shape: Shape::default(),
        yielded: 0,
        done: false,
        item_failed: false,
    });
    Ok(Box::pin(futures::stream::unfold(state, |s| {
        let span = s.run.span.clone();
        step(s).instrument(span)
    })))
}
