//! The extraction loop: plan the request for the mode, send it (through the transport
//! retry loop), judge the answer (parse, repair, validate), and re-ask with the error until
//! it passes or the attempts run out. Usage is summed over every call.

pub(crate) mod attempt;
mod parallel;
pub(crate) mod parse;
pub(crate) mod plan;
pub(crate) mod reask;

use std::time::{Duration, Instant};

use tracing::Instrument;

pub(crate) use plan::Plans;

use crate::{Client, Completion, Error, Event, Instruct, Message, Mode};
use attempt::{judge, Tally, Verdict};

/// Per-call settings, already merged with the client's.
pub(crate) struct Call {
    pub model: Option<String>,
    pub mode: Option<Mode>,
    pub max_retries: u32,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    pub sampling: crate::client::Sampling,
    pub limits: crate::stream::Limits,
    /// The longest one streamed answer may take, start to end.
    pub stream_timeout: Duration,
    /// The longest a stream may go without a new byte of the answer.
    pub idle_timeout: Duration,
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
        let mut request = plan::request(mode, schema, &call, messages)?;
        let hooks = client.hooks();
        let mut tally = Tally::new(call.max_retries);
        loop {
            let attempt = tally.attempt;
            let attempt_span = tracing::debug_span!("instructor.attempt", attempt);
            let (response, latency) = crate::retry::send(
                provider,
                &request,
                &settings.transport,
                settings.timeout,
                hooks,
                attempt,
            )
            .instrument(attempt_span)
            .await?;
            tally.usage += response.usage;
            for h in hooks {
                h.on_event(&Event::ResponseReceived {
                    attempt,
                    response: &response,
                    latency,
                });
            }
            match judge::<T>(
                &response,
                mode,
                schema,
                settings.repair,
                tally.usage,
                hooks,
                attempt,
            ) {
                Verdict::Done { value, repairs } => {
                    tracing::info!(
                        attempt,
                        input_tokens = tally.usage.input_tokens,
                        output_tokens = tally.usage.output_tokens,
                        latency_ms = started.elapsed().as_millis() as u64,
                        outcome = "ok",
                        "extraction succeeded"
                    );
                    let completion = Completion {
                        response,
                        usage: tally.usage,
                        attempts: tally.attempts,
                        repairs,
                        mode,
                    };
                    return Ok((value, completion));
                }
                Verdict::Fail(e) => return Err(e),
                Verdict::Reask(error) => tally.failed(&mut request, response, error, hooks)?,
            }
        }
    }
    .instrument(span)
    .await
}
