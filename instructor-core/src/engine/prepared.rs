//! The engine's public seam: an extraction planned for one type ([`Prepared`]) that turns
//! each provider response into the next [`Step`]. The drivers use it; so can a caller who
//! sends requests through their own transport, queue or batch system.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use super::judge::{judge, Verdict};
use super::{plan, reask};
use crate::provider::SchemaRef;
use crate::settings::Call;
use crate::validation::{SourceText, ValidationContext};
use crate::{
    Attempt, Capabilities, Completion, Error, Event, Hook, Instruct, Message, Mode, Request,
    Response, TypeSchema, Usage,
};

/// An extraction of `T`, planned: the request to send now, and what every earlier attempt
/// left (usage, failures). Feed it each response with [`Prepared::interpret`].
///
/// ```
/// use instructor_core::{Client, Response, engine::Step, testing::ScriptedProvider};
/// let client = Client::new(ScriptedProvider::new()).max_retries(1);
/// let mut prepared = client.create::<Vec<u8>>().user("Count to three").prepare().unwrap();
/// // Send `prepared.request()` any way you like (here: two made-up answers)...
/// assert!(matches!(prepared.interpret(Response::text("[1, 2, three]")), Step::Reask(_)));
/// // ...the re-ask is in the next request; its answer finishes the extraction.
/// match prepared.interpret(Response::text("[1, 2, 3]")) {
///     Step::Done { value, completion } => {
///         assert_eq!(value, [1, 2, 3]);
///         assert_eq!(completion.attempts.len(), 1);
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub struct Prepared<T> {
    request: Request,
    schema: SchemaRef,
    repair: bool,
    hooks: Arc<[Arc<dyn Hook>]>,
    attempt: u32,
    max_retries: u32,
    usage: Usage,
    attempts: Vec<Attempt>,
    started: Instant,
    /// How many of the request's messages the first request had: the validators' source.
    source: usize,
    /// The user text of those messages, worked out once for every validation of the call.
    source_text: SourceText,
    /// The caller's value for validators.
    context: Option<Arc<dyn Any + Send + Sync>>,
    _target: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for Prepared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("type", &self.schema.name)
            .field("mode", &self.request.output.mode)
            .field("attempt", &self.attempt)
            .field("usage", &self.usage)
            .finish_non_exhaustive()
    }
}

/// What an answer led to.
#[derive(Debug)]
pub enum Step<'p, T> {
    /// A valid value, and the completion (the answer, usage summed, failed attempts).
    Done {
        /// The value.
        value: T,
        /// What the extraction reports beside the value.
        completion: Completion,
    },
    /// The answer could not be used; send this request (the conversation with the answer
    /// and the errors appended) for the next attempt.
    Reask(&'p Request),
    /// The extraction is over: attempts ran out, or the answer ends it (a refusal, a content
    /// filter, the token limit). Earlier failed attempts are kept in the error.
    Failed(Error),
}

/// The mode a call uses (its own, else the provider's default), checked against what the
/// provider declares: an unsupported mode, or a media part the provider cannot take (a kind,
/// a URL, a media type, a size), is a typed error before any request.
pub(crate) fn choose_mode(
    capabilities: &Capabilities,
    provider: &str,
    requested: Option<Mode>,
    messages: &[Message],
) -> Result<Mode, Error> {
    let mode = requested.unwrap_or(capabilities.default_mode);
    if !capabilities.supports(mode) {
        return Err(Error::UnsupportedMode {
            mode,
            provider: provider.to_owned(),
            supported: capabilities.modes.clone(),
        });
    }
    crate::media::check(messages, provider, capabilities)?;
    Ok(mode)
}

impl<T: Instruct> Prepared<T> {
    /// Plans the first request of an extraction in `mode`.
    pub(crate) fn new(
        mode: Mode,
        call: &Call,
        messages: Vec<Message>,
        repair: bool,
        hooks: Arc<[Arc<dyn Hook>]>,
    ) -> Result<Self, Error> {
        let schema = match &call.target {
            Some(target) => target.clone(),
            None => SchemaRef::from(T::type_schema()),
        };
        let request = plan::request(mode, &schema, call, messages)?;
        Ok(Self {
            source: request.messages.len(),
            source_text: SourceText::default(),
            context: call.context.clone(),
            request,
            schema,
            repair,
            hooks,
            attempt: 0,
            max_retries: call.settings.max_retries,
            usage: Usage::default(),
            attempts: Vec::new(),
            started: Instant::now(),
            _target: PhantomData,
        })
    }

    /// The request to send for the current attempt.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.request.output.mode
    }

    /// The current attempt, from 0.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Tokens used by every answer interpreted so far.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    pub(crate) fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    pub(crate) fn hooks(&self) -> &[Arc<dyn Hook>] {
        &self.hooks
    }

    pub(crate) fn shared_hooks(&self) -> Arc<[Arc<dyn Hook>]> {
        Arc::clone(&self.hooks)
    }

    /// What this call's validators read: the first request's messages (re-asks only append
    /// to them) and the caller's value.
    pub(crate) fn validation_context(&self) -> ValidationContext<'_> {
        ValidationContext::shared(
            &self.request.messages[..self.source],
            self.context.as_deref(),
            &self.source_text,
        )
    }

    /// Interprets the answer to the current request.
    pub fn interpret(&mut self, response: Response) -> Step<'_, T> {
        self.usage += response.usage;
        let verdict = judge::<T>(
            &response,
            self.mode(),
            &self.schema,
            self.repair,
            self.usage,
            &self.hooks,
            self.attempt,
            &self.validation_context(),
        );
        match verdict {
            Verdict::Done { value, repairs } => {
                tracing::info!(
                    attempt = self.attempt,
                    input_tokens = self.usage.input_tokens,
                    output_tokens = self.usage.output_tokens,
                    latency_ms = self.started.elapsed().as_millis() as u64,
                    outcome = "ok",
                    "extraction succeeded"
                );
                let completion = Completion {
                    response,
                    usage: self.usage,
                    attempts: std::mem::take(&mut self.attempts),
                    repairs,
                    mode: self.mode(),
                    cached: false,
                };
                Step::Done { value, completion }
            }
            Verdict::Fail(e) => Step::Failed(self.fail(e)),
            Verdict::Reask(e) => match self.record(response, e) {
                Ok(()) => Step::Reask(&self.request),
                Err(e) => Step::Failed(e),
            },
        }
    }

    /// Ends the extraction with `error` (a transport failure, a refusal, a stream that
    /// broke), keeping the failed attempts before it: with none, `error` itself; else
    /// [`Error::AfterAttempts`].
    pub fn fail(&mut self, error: Error) -> Error {
        if self.attempts.is_empty() {
            return error;
        }
        Error::AfterAttempts {
            error: Box::new(error),
            attempts: std::mem::take(&mut self.attempts),
            usage: self.usage,
        }
    }

    /// Counts a failed answer that did not go through [`Prepared::interpret`] (a streamed
    /// answer that broke off malformed), then records it as [`Prepared::record`] does.
    pub(crate) fn reask(&mut self, response: Response, error: Error) -> Result<(), Error> {
        self.usage += response.usage;
        self.record(response, error)
    }

    /// Records a failed answer. When attempts remain, the answer (moved, not copied) and the
    /// feedback are appended to the request and `Ok` says to ask again; otherwise the final
    /// error, with every attempt.
    fn record(&mut self, response: Response, mut error: Error) -> Result<(), Error> {
        let raw = error.take_raw();
        let usage = response.usage;
        let again = self.attempt < self.max_retries;
        if again {
            let feedback = reask::feedback(&error, &raw);
            let mode = self.mode();
            reask::append(&mut self.request.messages, mode, response, feedback);
        }
        self.attempts.push(Attempt { raw, error, usage });
        if !again {
            tracing::warn!(
                attempts = self.attempts.len(),
                outcome = "exhausted",
                "no valid answer"
            );
            return Err(Error::RetriesExhausted {
                attempts: std::mem::take(&mut self.attempts),
                usage: self.usage,
            });
        }
        self.attempt += 1;
        for h in self.hooks.iter() {
            h.on_event(&Event::Reask {
                attempt: self.attempt,
            });
        }
        Ok(())
    }
}
