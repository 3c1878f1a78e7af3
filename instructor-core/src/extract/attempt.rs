//! What every driver (one answer, partial stream, iterable stream) does with an answer: judge
//! it (finish reason, parse, repair, validate), and on failure record the attempt and append
//! the re-ask. Hooks and tracing hear of each step here, the same way for every driver. No
//! I/O happens here.

use crate::extract::{parallel, parse, plan, reask};
use crate::{
    Attempt, Error, Event, FinishReason, Hook, Instruct, Mode, Repair, Request, Response,
    TypeSchema, Usage, ValidationErrors,
};
use std::sync::Arc;

/// What the judge made of one answer.
pub(crate) enum Verdict<T> {
    /// A valid value, and what the repair pass changed to get it.
    Done { value: T, repairs: Vec<Repair> },
    /// The answer could not be used; the model may be asked again.
    Reask(Error),
    /// The answer ends the extraction (a refusal, a content filter, the token limit).
    Fail(Error),
}

/// Prefixes validation paths with the wrapper property the model saw.
pub(crate) fn as_seen_by_model(
    mut errors: ValidationErrors,
    wrapped: Option<&str>,
) -> ValidationErrors {
    if let Some(key) = wrapped {
        let mut out = ValidationErrors::new();
        for mut e in std::mem::take(&mut errors) {
            e.path = format!("/{key}{}", e.path);
            out.add(e);
        }
        return out;
    }
    errors
}

/// Refusals, content filters and the token limit end an extraction whatever the text says.
pub(crate) fn check_finish(response: &Response, usage: Usage) -> Result<(), Error> {
    if let Some(message) = &response.refusal {
        return Err(Error::Refusal {
            message: message.clone(),
        });
    }
    match response.finish_reason {
        FinishReason::Refusal => Err(Error::Refusal {
            message: response.text.clone().unwrap_or_default(),
        }),
        FinishReason::ContentFilter => Err(Error::ContentFilter {
            raw: response.text.clone().unwrap_or_default(),
        }),
        FinishReason::Length => Err(Error::IncompleteOutput {
            partial: match (&response.text, response.tool_calls.first()) {
                (Some(t), _) if !t.is_empty() => t.clone(),
                (_, Some(call)) => call.arguments.to_text().into_owned(),
                _ => String::new(),
            },
            usage,
        }),
        _ => Ok(()),
    }
}

/// Judges one answer of attempt `attempt`: finish reason, parse (with repair when allowed),
/// validation. Parse and validation failures are told to the hooks and traced.
pub(crate) fn judge<T: Instruct>(
    response: &Response,
    mode: Mode,
    schema: &'static TypeSchema,
    repair: bool,
    usage: Usage,
    hooks: &[Arc<dyn Hook>],
    attempt: u32,
) -> Verdict<T> {
    if let Err(e) = check_finish(response, usage) {
        return Verdict::Fail(e);
    }
    let parsed = if mode == Mode::ParallelTools {
        match plan::parallel(schema) {
            Ok(tools) => parallel::parse_calls::<T>(response, tools, repair),
            Err(e) => return Verdict::Fail(e),
        }
    } else {
        parse::parse_response::<T>(response, mode, schema, repair)
            .map(|p| (p.value, p.raw, p.repairs))
    };
    match parsed {
        Ok((value, raw, repairs)) => match value.validate() {
            Ok(()) => Verdict::Done { value, repairs },
            Err(errors) => {
                // The rejected value goes before its raw text is copied for the re-ask.
                drop(value);
                let errors = as_seen_by_model(errors, schema.wrapped);
                for h in hooks {
                    h.on_event(&Event::ValidationError {
                        attempt,
                        raw: &raw,
                        errors: &errors,
                    });
                }
                tracing::info!(attempt, errors = %errors, outcome = "invalid", "answer failed validation");
                Verdict::Reask(Error::Validation {
                    raw: raw.into_owned(),
                    errors,
                })
            }
        },
        Err(failure) => {
            for h in hooks {
                h.on_event(&Event::ParseError {
                    attempt,
                    raw: &failure.raw,
                    message: &failure.message,
                });
            }
            tracing::info!(attempt, error = %failure.message, outcome = "unparsable", "answer could not be parsed");
            Verdict::Reask(Error::Parse {
                raw: failure.raw.into_owned(),
                message: failure.message,
            })
        }
    }
}

/// The attempts of one extraction: their count, usage and failures.
pub(crate) struct Tally {
    pub attempt: u32,
    pub max_retries: u32,
    pub usage: Usage,
    pub attempts: Vec<Attempt>,
}

impl Tally {
    pub fn new(max_retries: u32) -> Self {
        Self {
            attempt: 0,
            max_retries,
            usage: Usage::default(),
            attempts: Vec::new(),
        }
    }

    /// Records a failed answer. When attempts remain, the answer (moved, not copied) and the
    /// feedback are appended to `request` and `Ok` says to ask again; otherwise the final
    /// error, with every attempt, is returned.
    pub fn failed(
        &mut self,
        request: &mut Request,
        response: Response,
        mut error: Error,
        hooks: &[Arc<dyn Hook>],
    ) -> Result<(), Error> {
        let raw = error.take_raw();
        let usage = response.usage;
        let again = self.attempt < self.max_retries;
        if again {
            let feedback = reask::feedback(&error, &raw);
            reask::append(
                &mut request.messages,
                request.output.mode,
                response,
                feedback,
            );
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
        for h in hooks {
            h.on_event(&Event::Reask {
                attempt: self.attempt,
            });
        }
        Ok(())
    }
}
