//! Counters of what a local model's worker did: prompt tokens evaluated or reused from a
//! sequence's cache, tokens generated, and how many sequences each decoding step carried.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a [`LocalModel`](super::LocalModel) has done since it was loaded, for tuning and
/// benchmarks: how much of the prompts came from a sequence's cache (shared prefixes), and
/// how many calls each decoding step served at once ([`LocalOptions::parallel`](super::LocalOptions)).
///
/// ```
/// let s = instructor_providers::LocalStats::default();
/// assert_eq!(s.sequences_per_step(), 0.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct LocalStats {
    /// Generations started.
    pub generations: u64,
    /// Prompt tokens of those generations.
    pub prompt_tokens: u64,
    /// Prompt tokens taken from a sequence's cache instead of evaluated.
    pub reused_prompt_tokens: u64,
    /// Tokens generated.
    pub generated_tokens: u64,
    /// Of those, tokens the grammar forced: appended without sampling, decoded in the
    /// same batch as the token before them (fast-forward).
    pub forced_tokens: u64,
    /// Decoding steps (one batch each).
    pub steps: u64,
    /// Sequences those steps decoded, summed.
    pub step_sequences: u64,
}

impl LocalStats {
    /// Sequences decoded per step on average (1.0 when calls never overlapped).
    pub fn sequences_per_step(&self) -> f64 {
        if self.steps == 0 {
            return 0.0;
        }
        self.step_sequences as f64 / self.steps as f64
    }
}

/// The live counters the worker updates.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    generations: AtomicU64,
    prompt_tokens: AtomicU64,
    reused_prompt_tokens: AtomicU64,
    generated_tokens: AtomicU64,
    forced_tokens: AtomicU64,
    steps: AtomicU64,
    step_sequences: AtomicU64,
}

impl Counters {
    pub fn started(&self, prompt: usize, reused: usize) {
        self.generations.fetch_add(1, Ordering::Relaxed);
        self.prompt_tokens
            .fetch_add(prompt as u64, Ordering::Relaxed);
        self.reused_prompt_tokens
            .fetch_add(reused as u64, Ordering::Relaxed);
    }

    pub fn generated(&self, tokens: u32, forced: usize) {
        self.generated_tokens
            .fetch_add(u64::from(tokens), Ordering::Relaxed);
        self.forced_tokens
            .fetch_add(forced as u64, Ordering::Relaxed);
    }

    pub fn step(&self, sequences: usize) {
        self.steps.fetch_add(1, Ordering::Relaxed);
        self.step_sequences
            .fetch_add(sequences as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> LocalStats {
        LocalStats {
            generations: self.generations.load(Ordering::Relaxed),
            prompt_tokens: self.prompt_tokens.load(Ordering::Relaxed),
            reused_prompt_tokens: self.reused_prompt_tokens.load(Ordering::Relaxed),
            generated_tokens: self.generated_tokens.load(Ordering::Relaxed),
            forced_tokens: self.forced_tokens.load(Ordering::Relaxed),
            steps: self.steps.load(Ordering::Relaxed),
            step_sequences: self.step_sequences.load(Ordering::Relaxed),
        }
    }
}
