//! Placeholder until the loop bench lands.
fn main() {}
