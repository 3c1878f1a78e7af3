//! A request body: the members most wire formats share after their own leading ones
//! ([`Conversation`]), and the body's bytes: the provider's wire struct serialized once, with
//! the call's `extra` object (parameters the neutral request does not model) merged over it.

use instructor_core::{Error, Request};
use serde::Serialize;
use serde_json::Value;

use crate::fragments::Members;
use crate::shared::{Sampling, SamplingNames};
use crate::translate::Call;

/// The members that follow a body's own leading ones (the model, and whatever else the API
/// puts first) in the chat-like wire formats: the messages, the sampling settings under the
/// API's names and the mode's members (both flattened), and `stream` when streaming.
#[derive(Serialize)]
pub struct Conversation<'a, M> {
    pub(crate) messages: Vec<M>,
    #[serde(flatten)]
    pub(crate) sampling: Sampling<'a>,
    #[serde(flatten)]
    pub(crate) output: Members,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream: Option<bool>,
}

impl<'a, M> Conversation<'a, M> {
    /// `messages` and `output` (as the wire format wrote them) with the call's sampling
    /// settings under `names`, and whether it streams.
    pub(crate) fn new(
        call: &Call<'a>,
        messages: Vec<M>,
        names: SamplingNames,
        output: Members,
    ) -> Self {
        Self {
            messages,
            sampling: Sampling::new(call.request, names),
            output,
            stream: call.stream.then_some(true),
        }
    }
}

/// Serializes `body`; when the request carries `extra`, its members are merged over the
/// body's top level (an `extra` member replaces the body's member of the same name).
pub(crate) fn serialize<B: Serialize>(body: &B, request: &Request) -> Result<Vec<u8>, Error> {
    let failed =
        |e: serde_json::Error| Error::Config(format!("could not serialize the request: {e}"));
    let Some(extra) = request.extra.as_ref().filter(|m| !m.is_empty()) else {
        return serde_json::to_vec(body).map_err(failed);
    };
    let mut value = serde_json::to_value(body).map_err(failed)?;
    if let Value::Object(map) = &mut value {
        for (k, v) in extra {
            map.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&value).map_err(failed)
}
