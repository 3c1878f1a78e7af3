//! The on-disk cache (to be written).
