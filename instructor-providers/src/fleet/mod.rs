//! A fleet of servers behind one provider: [`Pool`] spreads calls over several providers
//! and sets aside one that keeps failing; [`Fallback`] tries providers in order until one
//! answers. Both are [`Provider`](instructor_core::Provider)s themselves, so every mode,
//! stream and re-ask works through them, and they nest (a pool of local servers as the
//! primary of a fallback to a hosted API).

mod fallback;
mod member;
mod pool;

pub use fallback::Fallback;
pub use member::MemberStatus;
pub use pool::{Pool, Strategy};
