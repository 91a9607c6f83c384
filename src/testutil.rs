//! Test-only helpers shared by the fuzz tests: one fixed-seed generator (xorshift64*) and
//! the iteration budget.
//!
//! Every fuzz test is named `…fuzz…` so `cargo test fuzz` runs them all. The budget is
//! `DSD_FUZZ_ITERS` rounds per harness (default [`DEFAULT_ITERS`], a few seconds for the
//! whole set in CI); for a long local run:
//!
//! ```text
//! DSD_FUZZ_ITERS=1000000 cargo test --release fuzz
//! ```
//!
//! `DSD_FUZZ_SEED` changes the seed (printed on failure) to explore other inputs.

/// Rounds per harness when `DSD_FUZZ_ITERS` is not set.
pub const DEFAULT_ITERS: usize = 1000;

/// Rounds per harness: `DSD_FUZZ_ITERS`, else `DEFAULT_ITERS`.
pub fn fuzz_iters() -> usize {
    std::env::var("DSD_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_ITERS)
}

/// xorshift64*: small, deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The harness's own seed, mixed with `DSD_FUZZ_SEED` when that is set.
    pub fn seeded(seed: u64) -> Rng {
        let extra: u64 = std::env::var("DSD_FUZZ_SEED")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        Rng((seed ^ extra.wrapping_mul(0x9E37_79B9_7F4A_7C15)).max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
    /// Up to `n` arbitrary bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..self.below(n + 1)).map(|_| self.next() as u8).collect()
    }
    /// Up to `n` pieces from `vocab`, with a sprinkle of arbitrary bytes (made valid
    /// UTF-8 the way the loaders do).
    pub fn soup(&mut self, vocab: &[&str], n: usize) -> String {
        let mut s = String::new();
        for _ in 0..self.below(n + 1) {
            if self.below(10) == 0 {
                let b = self.bytes(8);
                s.push_str(&String::from_utf8_lossy(&b));
            } else {
                s.push_str(self.pick(vocab));
            }
        }
        s
    }
    /// `s` with a few byte-wise mutations: flips, cuts, deletions, duplications, inserts.
    pub fn mutate_bytes(&mut self, s: &[u8]) -> Vec<u8> {
        let mut b = s.to_vec();
        for _ in 0..1 + self.below(8) {
            if b.is_empty() {
                break;
            }
            let i = self.below(b.len());
            match self.below(5) {
                0 => b[i] = self.next() as u8,
                1 => b.truncate(i),
                2 => {
                    b.remove(i);
                }
                3 => {
                    let j = self.below(b.len());
                    let (lo, hi) = (i.min(j), i.max(j));
                    let chunk = b[lo..hi.min(lo + 64)].to_vec();
                    b.splice(i..i, chunk);
                }
                _ => b.insert(i, b"{}[]\",:-!@ 0\r\n\x1b"[self.below(15)]),
            }
        }
        b
    }
    /// `mutate_bytes` for text, made valid UTF-8 again.
    pub fn mutate(&mut self, s: &str) -> String {
        let b = self.mutate_bytes(s.as_bytes());
        String::from_utf8_lossy(&b).into_owned()
    }
}

/// Whether `s` is safe to print: no C0/C1 control (ESC, BEL, CSI …) and no bidi override.
pub fn is_inert(s: &str) -> bool {
    !s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    })
}
