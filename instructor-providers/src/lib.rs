//! Providers: filled in by the providers issue.
