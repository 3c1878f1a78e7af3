//! Judging one answer, the same way for every driver (one answer, partial stream, iterable
//! stream): finish reason, parse (with repair), validation. Hooks and tracing hear of each
//! failure here. No I/O happens here.

use super::modes::{spec, Answer};
use super::{parallel, parse, plan};
use crate::validation::ValidationContext;
use crate::{
    Error, Event, FinishReason, Hook, Instruct, Mode, Repair, Response, TypeSchema, Usage,
    ValidationErrors,
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

/// The value's own validators, then the runtime schema's check if the target has one
/// (the target is then a `serde_json::Value`).
pub(crate) fn validate<T: Instruct>(
    value: &T,
    schema: &TypeSchema,
    context: &ValidationContext<'_>,
) -> Result<(), ValidationErrors> {
    checked(value, schema.check.as_ref(), context)
}

/// A streamed list element's validators, then the runtime list schema's element check.
pub(crate) fn validate_item<T: Instruct>(
    value: &T,
    schema: &TypeSchema,
    context: &ValidationContext<'_>,
) -> Result<(), ValidationErrors> {
    checked(value, schema.item_check.as_ref(), context)
}

fn checked<T: Instruct>(
    value: &T,
    check: Option<&crate::instruct::Check>,
    context: &ValidationContext<'_>,
) -> Result<(), ValidationErrors> {
    let own = value.validate_with(context);
    let Some(check) = check else {
        return own;
    };
    let mut errors = own.err().unwrap_or_default();
    if let Some(json) = (value as &dyn std::any::Any).downcast_ref::<serde_json::Value>() {
        (check.0)(json, &mut errors);
    }
    errors.into_result()
}

/// Judges one answer of attempt `attempt`: finish reason, parse (with repair when allowed),
/// validation with the call's `context`. Parse and validation failures are told to the
/// hooks and traced.
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge<T: Instruct>(
    response: &Response,
    mode: Mode,
    schema: &TypeSchema,
    repair: bool,
    usage: Usage,
    hooks: &[Arc<dyn Hook>],
    attempt: u32,
    context: &ValidationContext<'_>,
) -> Verdict<T> {
    if let Err(e) = check_finish(response, usage) {
        return Verdict::Fail(e);
    }
    let parsed = if spec(mode).answer == Answer::AllToolCalls {
        match plan::parallel(schema) {
            Ok(tools) => parallel::parse_calls::<T>(response, tools, repair),
            Err(e) => return Verdict::Fail(e),
        }
    } else {
        parse::parse_response::<T>(response, mode, schema, repair)
            .map(|p| (p.value, p.raw, p.repairs))
    };
    match parsed {
        Ok((value, raw, repairs)) => match validate(&value, schema, context) {
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
