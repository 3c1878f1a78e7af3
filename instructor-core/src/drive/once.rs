//! One answer: send the request (through the transport retry loop), interpret the answer,
//! and send the re-ask until the engine says done or failed.

use tracing::Instrument;

use super::cached::CacheSlot;
use super::{retry, Ctx};
use crate::engine::{Prepared, Step};
use crate::{Completion, Error, Event, Instruct};

/// Runs one extraction of `T` to its end, first looking it up in `cache` if there is one.
pub(crate) async fn run<T: Instruct>(
    ctx: Ctx<'_>,
    mut prepared: Prepared<T>,
    mut cache: Option<CacheSlot>,
) -> Result<(T, Completion), Error> {
    let span = tracing::info_span!(
        "instructor.extract",
        target_type = %prepared.schema().name,
        mode = prepared.mode().as_str(),
        model = prepared.request().model.as_deref().unwrap_or(""),
        provider = ctx.provider.name(),
    );
    async move {
        loop {
            let attempt = prepared.attempt();
            let hit = match &mut cache {
                Some(slot) if attempt == 0 => slot.lookup(prepared.hooks()).await,
                _ => None,
            };
            let cached = hit.is_some();
            let (response, latency) = match hit {
                Some(response) => (response, std::time::Duration::ZERO),
                None => match retry::send(ctx, &prepared)
                    .instrument(tracing::debug_span!("instructor.attempt", attempt))
                    .await
                {
                    Ok(r) => r,
                    Err(e) => return Err(prepared.fail(e)),
                },
            };
            for h in prepared.hooks() {
                h.on_event(&Event::ResponseReceived {
                    attempt,
                    response: &response,
                    latency,
                });
            }
            match prepared.interpret(response) {
                Step::Done {
                    value,
                    mut completion,
                } => {
                    completion.cached = cached;
                    if let (Some(slot), false) = (cache.take(), cached) {
                        slot.store(&completion.response, prepared.shared_hooks());
                    }
                    return Ok((value, completion));
                }
                Step::Reask(_) => {}
                Step::Failed(e) => return Err(e),
            }
        }
    }
    .instrument(span)
    .await
}
