//! A small deterministic generator (SplitMix64): every input of a run follows from the
//! run's seed and the input's number, so a failure is reproduced by its seed alone.

/// SplitMix64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// True once in `n` times.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `pick` from `first` and `then` as one list.
    pub fn pick_of<T: Copy>(&mut self, first: &[T], then: &[T]) -> T {
        let i = self.below(first.len() + then.len());
        first
            .get(i)
            .copied()
            .unwrap_or_else(|| then[i - first.len()])
    }

    /// Small numbers are likelier: 0 half the time, 1 a quarter, and so on, up to `max`.
    pub fn geometric(&mut self, max: usize) -> usize {
        (self.next_u64().trailing_ones() as usize).min(max)
    }
}

/// FNV-1a: the chunk splits of a check follow from its input, so a saved input replays.
pub fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Cut points splitting `len` bytes into a few random chunks (empty ones included).
pub fn cuts(rng: &mut Rng, len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = match rng.below(4) {
        // Byte by byte, for short inputs.
        0 if len <= 64 => (0..=len).collect(),
        1 => (0..rng.range(1, 3)).map(|_| rng.below(len + 1)).collect(),
        _ => (0..rng.range(1, 12)).map(|_| rng.below(len + 1)).collect(),
    };
    cuts.push(0);
    cuts.push(len);
    cuts.sort_unstable();
    cuts
}

/// Like [`cuts`], moved back to character boundaries.
pub fn char_cuts(rng: &mut Rng, text: &str) -> Vec<usize> {
    let mut cuts = cuts(rng, text.len());
    for c in &mut cuts {
        while !text.is_char_boundary(*c) {
            *c -= 1;
        }
    }
    cuts
}
