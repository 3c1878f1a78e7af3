//! Choosing the next token under a grammar, cheaply: the greedy token (or, when sampling,
//! the top-k candidates) is checked against the grammar first, and the grammar is applied
//! to the whole vocabulary only when none of them is allowed. A 262k-token vocabulary
//! masked on every step costs about three times the decoding itself; the check costs
//! almost nothing when the model already wants a valid token, which it usually does.

use instructor_core::Error;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use llguidance::Matcher;
use toktrie::{SimpleVob, TokEnv};

use super::ground::Continues;

/// Sampling settings of one generation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub temperature: f32,
    pub top_k: usize,
    pub top_p: f32,
    pub repeat_penalty: f32,
    pub seed: u64,
    /// The bonus to the logits of tokens that go on copying the user text.
    pub copy_bias: f32,
}

/// What constrains the tokens: llama.cpp's GBNF sampler or an llguidance matcher.
pub(crate) enum Rule {
    Gbnf(LlamaSampler),
    Guided(Box<Matcher>),
}

pub(crate) struct Sampler {
    grammar: Option<Rule>,
    /// The vocabulary's bytes (under llguidance), for the copy bonus.
    vocab: Option<TokEnv>,
    /// The matcher's mask for the current step, computed once when first needed.
    mask: Option<SimpleVob>,
    settings: Settings,
    rng: fastrand::Rng,
    recent: Vec<LlamaToken>,
    /// The last tokens taken (at most `3 * MAX_PERIOD`), for runs and cycles.
    tail: std::collections::VecDeque<LlamaToken>,
    /// The token out of the candidates for this step: a run's, or the one that would
    /// start a cycle's next turn.
    breaking: Option<LlamaToken>,
    /// How often the full-vocabulary mask was needed (for tracing).
    pub full_masks: usize,
}

fn data(id: usize, logit: f32) -> LlamaTokenData {
    LlamaTokenData::new(LlamaToken(id as i32), logit, 0.0)
}

/// How many candidates are checked against the grammar before the whole vocabulary.
const WIDE: usize = 64;

/// The longest run of one token a constrained answer may hold: a small model that starts
/// repeating a token inside a value (`"phone": "1100000000…`, a number's zeros) rarely stops
/// before the token limit. After this many, the token must give way to the next best the
/// grammar allows (the value's end, as a rule); where nothing else is allowed, it stays.
const MAX_RUN: usize = 8;

/// The longest cycle of tokens looked for inside a string: a block of 2 to this many tokens
/// written three times in a row (`Ltd. (UK) Ltd. (UK) Ltd. (UK)`) does not get a fourth
/// turn; its first token must give way to the next best the grammar allows.
const MAX_PERIOD: usize = 8;

/// The token that ends `tail` `MAX_RUN` times in a row, if one does.
fn run(tail: &std::collections::VecDeque<LlamaToken>) -> Option<LlamaToken> {
    let last = *tail.back()?;
    (tail.len() >= MAX_RUN && tail.iter().rev().take(MAX_RUN).all(|&t| t == last)).then_some(last)
}

/// The token that would start a fourth turn of a block the end of `tail` repeats three
/// times, if it does.
fn cycle(tail: &std::collections::VecDeque<LlamaToken>) -> Option<LlamaToken> {
    let n = tail.len();
    (2..=MAX_PERIOD)
        .find(|&p| {
            n >= 3 * p
                && (0..2 * p).all(|i| tail[n - 1 - i] == tail[n - 1 - i - p])
                // One token over and over is a run (`MAX_RUN`), not a cycle.
                && (n - p..n).any(|i| tail[i] != tail[n - 1])
        })
        .map(|p| tail[n - p])
}

/// The `k` highest logits in one pass, without sorting the vocabulary: only a logit above
/// the current k-th best does any work.
fn top_k(logits: &[f32], k: usize) -> Vec<LlamaTokenData> {
    let mut top: Vec<LlamaTokenData> = Vec::with_capacity(k);
    let (mut min_i, mut min_l) = (0, f32::NEG_INFINITY);
    for (i, &l) in logits.iter().enumerate() {
        if top.len() < k {
            top.push(data(i, l));
            if top.len() == k {
                (min_i, min_l) = lowest(&top);
            }
        } else if l > min_l {
            top[min_i] = data(i, l);
            (min_i, min_l) = lowest(&top);
        }
    }
    top
}

fn lowest(top: &[LlamaTokenData]) -> (usize, f32) {
    top.iter()
        .enumerate()
        .map(|(j, c)| (j, c.logit()))
        .fold((0, f32::INFINITY), |a, b| if b.1 < a.1 { b } else { a })
}

impl Sampler {
    pub fn new(grammar: Option<Rule>, settings: Settings) -> Self {
        let vocab = match &grammar {
            Some(Rule::Guided(m)) if settings.copy_bias != 0.0 => m.tok_env().ok(),
            _ => None,
        };
        Self {
            grammar,
            vocab,
            mask: None,
            settings,
            rng: fastrand::Rng::with_seed(settings.seed),
            recent: Vec::new(),
            tail: std::collections::VecDeque::with_capacity(3 * MAX_PERIOD),
            breaking: None,
            full_masks: 0,
        }
    }

    /// Records a chosen token in the grammar and the repeat window.
    pub fn accept(&mut self, token: LlamaToken) {
        self.mask = None;
        if self.tail.len() == 3 * MAX_PERIOD {
            self.tail.pop_front();
        }
        self.tail.push_back(token);
        match &mut self.grammar {
            Some(Rule::Gbnf(g)) => g.accept(token),
            Some(Rule::Guided(m)) if !m.is_stopped() => {
                // A refused token leaves the matcher in error; the next choice reports it.
                let _ = m.consume_token(token.0.cast_unsigned());
            }
            _ => {}
        }
        if self.settings.repeat_penalty != 1.0 {
            self.recent.push(token);
            if self.recent.len() > 64 {
                self.recent.remove(0);
            }
        }
    }

    fn penalized(&self, logits: &[f32]) -> Option<Vec<f32>> {
        if self.settings.repeat_penalty == 1.0 || self.recent.is_empty() {
            return None;
        }
        let mut l = logits.to_vec();
        for t in &self.recent {
            if let Some(v) = l.get_mut(t.0 as usize) {
                *v = if *v > 0.0 {
                    *v / self.settings.repeat_penalty
                } else {
                    *v * self.settings.repeat_penalty
                };
            }
        }
        Some(l)
    }

    /// The tokens the grammar forces next (llguidance only), not yet accepted.
    pub fn forced(&mut self) -> Vec<LlamaToken> {
        match &mut self.grammar {
            Some(Rule::Guided(m)) if !m.is_stopped() => m
                .compute_ff_tokens()
                .into_iter()
                .map(|t| LlamaToken(t.cast_signed()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Takes back the last `drop` tokens and writes `closing` instead, if the grammar (an
    /// llguidance matcher) allows that; the tokens of `closing`, already accepted. With
    /// `commit` false, only whether it would be allowed (`Some` of no tokens).
    pub fn rewrite(&mut self, drop: usize, closing: &str, commit: bool) -> Option<Vec<LlamaToken>> {
        let Some(Rule::Guided(matcher)) = &mut self.grammar else {
            return None;
        };
        let mut trial = matcher.deep_clone();
        trial.rollback(drop).ok()?;
        let tokens = trial.tok_env().ok()?.tokenize_bytes(closing.as_bytes());
        if tokens.is_empty() || trial.validate_tokens(&tokens).ok()? != tokens.len() {
            return None;
        }
        if !commit {
            return Some(Vec::new());
        }
        trial.consume_tokens(&tokens).ok()?;
        **matcher = trial;
        // What the cycle check saw was partly taken back.
        self.tail.clear();
        self.mask = None;
        Some(
            tokens
                .into_iter()
                .map(|t| LlamaToken(t.cast_signed()))
                .collect(),
        )
    }

    /// Keeps the candidates the grammar allows.
    fn allowed(
        &mut self,
        mut candidates: Vec<LlamaTokenData>,
    ) -> Result<Vec<LlamaTokenData>, Error> {
        match &mut self.grammar {
            Some(Rule::Gbnf(g)) => {
                let mut arr = LlamaTokenDataArray::new(candidates, false);
                g.apply(&mut arr);
                candidates = arr.data;
                candidates.retain(|c| c.logit().is_finite());
            }
            Some(Rule::Guided(m)) => {
                if self.mask.is_none() {
                    let mask = m.compute_mask_or_eos().map_err(|e| Error::Backend {
                        message: format!("the grammar failed: {e}"),
                        source: None,
                    })?;
                    self.mask = Some(mask);
                }
                if let Some(mask) = &self.mask {
                    candidates.retain(|c| mask.is_allowed(c.id().0.cast_unsigned()));
                }
            }
            None => {}
        }
        if let Some(banned) = self.breaking {
            candidates.retain(|c| c.id() != banned);
        }
        Ok(candidates)
    }

    /// The bonus on `candidates` that go on copying the text (see [`Continues`]).
    /// The tokens that copy are added to the candidates where missing.
    fn copy_bonus(
        &self,
        logits: &[f32],
        candidates: &mut Vec<LlamaTokenData>,
        copying: &Continues<'_>,
    ) {
        let Some(vocab) = &self.vocab else {
            return;
        };
        let trie = vocab.tok_trie();
        for id in copying.walk(trie) {
            let token = LlamaToken(id.cast_signed());
            if let Some(&l) = logits.get(id as usize) {
                if !candidates.iter().any(|c| c.id() == token) {
                    candidates.push(data(id as usize, l));
                }
            }
        }
        for c in candidates {
            let share = copying.share(trie.token(c.id().0.cast_unsigned()));
            c.set_logit(c.logit() + share * self.settings.copy_bias);
        }
    }

    /// Chooses the next token from `logits`; where the answer is copying the user text
    /// (`copying`), from the best `WIDE` with the copy bonus; inside a string
    /// (`in_string`), never a cycle's fourth turn.
    pub fn choose(
        &mut self,
        logits: &[f32],
        copying: Option<&Continues<'_>>,
        in_string: bool,
    ) -> Result<LlamaToken, Error> {
        let owned = self.penalized(logits);
        let logits = owned.as_deref().unwrap_or(logits);
        let greedy = self.settings.temperature <= 0.0;
        let copying = copying.filter(|_| self.vocab.is_some());
        let k = if copying.is_some() {
            WIDE
        } else if greedy {
            1
        } else {
            self.settings.top_k.max(1)
        };
        self.breaking = if self.grammar.is_none() {
            None
        } else if let Some(token) = run(&self.tail) {
            Some(token)
        } else if in_string {
            cycle(&self.tail)
        } else {
            None
        };
        let mut top = top_k(logits, k);
        if let Some(copying) = copying {
            self.copy_bonus(logits, &mut top, copying);
        }
        let mut candidates = self.allowed(top)?;
        if candidates.is_empty() && self.grammar.is_some() && k < WIDE {
            // The model's favourite was not allowed: the allowed token is nearly always
            // among its next few, far cheaper to check than the whole vocabulary.
            candidates = self.allowed(top_k(logits, WIDE))?;
        }
        if candidates.is_empty() && self.grammar.is_some() {
            self.full_masks += 1;
            let all = || {
                logits
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| data(i, l))
                    .collect()
            };
            candidates = self.allowed(all())?;
            if candidates.is_empty() && self.breaking.is_some() {
                // Only the run's (or cycle's) token is allowed: the grammar wins.
                self.breaking = None;
                candidates = self.allowed(all())?;
            }
        }
        if candidates.is_empty() {
            return Err(Error::Backend {
                message: "the grammar allows no next token".to_owned(),
                source: None,
            });
        }
        candidates.sort_by(|a, b| b.logit().total_cmp(&a.logit()));
        if greedy {
            return Ok(candidates[0].id());
        }
        self.sample(candidates)
    }

    /// Temperature and top-p sampling among allowed candidates (sorted, best first).
    fn sample(&mut self, mut candidates: Vec<LlamaTokenData>) -> Result<LlamaToken, Error> {
        candidates.truncate(self.settings.top_k.max(1));
        let t = self.settings.temperature.max(1e-4);
        let max = candidates[0].logit();
        let weights: Vec<f32> = candidates
            .iter()
            .map(|c| ((c.logit() - max) / t).exp())
            .collect();
        let total: f32 = weights.iter().sum();
        let mut kept = 0.0;
        let mut cut = weights.len();
        for (i, w) in weights.iter().enumerate() {
            kept += w / total;
            if kept >= self.settings.top_p {
                cut = i + 1;
                break;
            }
        }
        let total: f32 = weights[..cut].iter().sum();
        let mut r = self.rng.f32() * total;
        for (c, w) in candidates.iter().zip(&weights[..cut]) {
            if r < *w {
                return Ok(c.id());
            }
            r -= w;
        }
        Ok(candidates[0].id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail(ids: &[i32]) -> std::collections::VecDeque<LlamaToken> {
        ids.iter().map(|&i| LlamaToken(i)).collect()
    }

    #[test]
    fn a_block_written_three_times_gets_no_fourth_turn() {
        let at = |ids: &[i32]| cycle(&tail(ids));
        assert_eq!(at(&[9, 1, 2, 3, 1, 2, 3, 1, 2, 3]), Some(LlamaToken(1)));
        assert_eq!(at(&[5, 6, 5, 6, 5, 6]), Some(LlamaToken(5)));
        // Twice is not yet a cycle; one token repeated is a run, not a cycle.
        assert_eq!(at(&[1, 2, 3, 1, 2, 3]), None);
        assert_eq!(at(&[4, 4, 4, 4, 4, 4]), None);
        assert_eq!(run(&tail(&[4, 4, 4, 4, 4, 4])), None);
        assert_eq!(
            run(&tail(&[1, 4, 4, 4, 4, 4, 4, 4, 4])),
            Some(LlamaToken(4))
        );
    }
}
