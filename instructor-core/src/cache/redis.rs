//! The Redis cache (to be written).
