//! What a successful extraction reports beside the value: [`Completion`].

use crate::{Attempt, Mode, Repair, Response, Usage};

/// What a successful extraction reports beside the value.
#[derive(Debug)]
#[non_exhaustive]
pub struct Completion {
    /// The provider's last response (the one that passed).
    pub response: Response,
    /// Tokens used by every model call of the extraction.
    pub usage: Usage,
    /// The attempts that failed before the one that passed.
    pub attempts: Vec<Attempt>,
    /// What the repair pass changed in the answer that passed.
    pub repairs: Vec<Repair>,
    /// The mode used.
    pub mode: Mode,
    /// Whether the answer came from the client's [cache](crate::cache) (no provider call,
    /// no tokens).
    pub cached: bool,
}
