//! Token usage, summed over every model call an extraction makes.

use std::ops::{Add, AddAssign};

/// Tokens used by one model call, or summed over several. Sums saturate: a server that
/// reports absurd counts cannot overflow them.
///
/// ```
/// use instructor_core::Usage;
/// let mut total = Usage::default();
/// total += Usage::new(10, 5);
/// total += Usage::new(12, 6);
/// assert_eq!(total.input_tokens, 22);
/// assert_eq!(total.total_tokens, 33);
/// assert_eq!(total.requests, 2);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Both together (as the provider reports it, or their sum).
    pub total_tokens: u64,
    /// How many model calls this covers.
    pub requests: u32,
}

impl Usage {
    /// Usage of one call.
    ///
    /// ```
    /// let u = instructor_core::Usage::new(3, 4);
    /// assert_eq!((u.total_tokens, u.requests), (7, 1));
    /// ```
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
            requests: 1,
        }
    }
}

impl Add for Usage {
    type Output = Usage;
    fn add(self, rhs: Usage) -> Usage {
        Usage {
            input_tokens: self.input_tokens.saturating_add(rhs.input_tokens),
            output_tokens: self.output_tokens.saturating_add(rhs.output_tokens),
            total_tokens: self.total_tokens.saturating_add(rhs.total_tokens),
            requests: self.requests.saturating_add(rhs.requests),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        *self = *self + rhs;
    }
}

#[cfg(test)]
mod tests {
    use super::Usage;

    #[test]
    fn sums_saturate() {
        let huge = Usage::new(u64::MAX, u64::MAX);
        assert_eq!(huge.total_tokens, u64::MAX);
        let mut total = huge;
        total += huge;
        assert_eq!(
            (total.input_tokens, total.total_tokens),
            (u64::MAX, u64::MAX)
        );
        let many = Usage {
            requests: u32::MAX,
            ..Usage::default()
        };
        assert_eq!((many + many).requests, u32::MAX);
    }
}
