//! The extraction loop: plan the request for the mode, send it (through the transport
//! retry loop), read the answer, deserialize and validate it, and re-ask with the error
//! until it passes or the attempts run out. Usage is summed over every call.

mod parallel;
pub(crate) mod parse;
pub(crate) mod plan;
pub(crate) mod reask;
pub(crate) mod repair;
mod text;

use std::time::Instant;

use tracing::Instrument;

pub(crate) use plan::Plans;

use crate::{
    Attempt, Client, Completion, Error, Event, Instruct, Message, Mode, Request, Response,
    ValidationErrors,
};
use repair::Repair;

/// Per-call settings, already merged with the client's.
pub(crate) struct Call {
    pub model: Option<String>,
    pub mode: Option<Mode>,
    pub max_retries: u32,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub limits: crate::stream::Limits,
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

pub(crate) fn check_finish(response: &Response, usage: crate::Usage) -> Result<(), Error> {
    use crate::FinishReason;
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

/// Runs one extraction of `T`.
pub(crate) async fn run<T: Instruct>(
    client: &Client,
    call: Call,
    messages: Vec<Message>,
) -> Result<(T, Completion), Error> {
    let provider = client.provider();
    let settings = client.settings();
    let (mode, _) = plan::mode(provider, call.mode)?;
    let schema = T::type_schema();
    let span = tracing::info_span!(
        "instructor.extract",
        target_type = %schema.name,
        mode = mode.as_str(),
        model = call.model.as_deref().unwrap_or(""),
        provider = provider.name(),
    );
    async move {
        let started = Instant::now();
        let mut request = Request {
            model: call.model,
            messages: plan::messages(mode, schema, messages),
            output: plan::output(mode, schema)?,
            temperature: call.temperature,
            top_p: None,
            max_tokens: call.max_tokens,
            seed: None,
            stop: Vec::new(),
        };
        let hooks = client.hooks();
        let mut usage = crate::Usage::default();
        let mut attempts: Vec<Attempt> = Vec::new();
        for attempt in 0..=call.max_retries {
            let attempt_span = tracing::debug_span!("instructor.attempt", attempt);
            let (response, latency) = crate::retry::send(
                provider,
                &request,
                &settings.transport,
                settings.timeout,
                hooks,
                attempt,
            )
            .instrument(attempt_span.clone())
            .await?;
            usage += response.usage;
            for h in hooks {
                h.on_event(&Event::ResponseReceived { attempt, response: &response, latency });
            }
            check_finish(&response, usage)?;
            let parsed: Result<(T, std::borrow::Cow<'_, str>, Vec<Repair>), parse::ParseFailure<'_>> = if mode == Mode::ParallelTools {
                let tools = plan::parallel(schema)?;
                parallel::parse_calls::<T>(&response, tools, settings.repair)
            } else {
                parse::parse_response::<T>(&response, mode, schema, settings.repair)
                    .map(|p| (p.value, p.raw, p.repairs))
            };
            let error = match parsed {
                Ok((value, raw, repairs)) => match value.validate() {
                    Ok(()) => {
                        // The raw text borrows from the response, which moves into the
                        // completion.
                        drop(raw);
                        tracing::info!(
                            attempt,
                            input_tokens = usage.input_tokens,
                            output_tokens = usage.output_tokens,
                            latency_ms = started.elapsed().as_millis() as u64,
                            outcome = "ok",
                            "extraction succeeded"
                        );
                        let completion = Completion {
                            response,
                            usage,
                            attempts,
                            repairs,
                            mode,
                        };
                        return Ok((value, completion));
                    }
                    Err(errors) => {
                        let errors = as_seen_by_model(errors, schema.wrapped);
                        for h in hooks {
                            h.on_event(&Event::ValidationError { attempt, raw: &raw, errors: &errors });
                        }
                        tracing::info!(attempt, errors = %errors, outcome = "invalid", "answer failed validation");
                        Error::Validation { raw: raw.into_owned(), errors }
                    }
                },
                Err(failure) => {
                    for h in hooks {
                        h.on_event(&Event::ParseError { attempt, raw: &failure.raw, message: &failure.message });
                    }
                    tracing::info!(attempt, error = %failure.message, outcome = "unparsable", "answer could not be parsed");
                    Error::Parse {
                        raw: failure.raw.into_owned(),
                        message: failure.message,
                    }
                }
            };
            let raw = error.raw_output().unwrap_or_default().to_owned();
            if attempt < call.max_retries {
                reask::append(&mut request.messages, mode, &response, reask::feedback(&error, &raw));
                for h in hooks {
                    h.on_event(&Event::Reask { attempt: attempt + 1 });
                }
            }
            attempts.push(Attempt {
                raw,
                error,
                usage: response.usage,
            });
        }
        tracing::warn!(attempts = attempts.len(), outcome = "exhausted", "no valid answer");
        Err(Error::RetriesExhausted { attempts, usage })
    }
    .instrument(span)
    .await
}
