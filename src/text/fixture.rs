//! Test fixtures: a cursor marked `$0` in a text; a seeded random generator for the fuzz and
//! property tests.

/// `text` without its first `$0` marker, and the byte offset where the marker was.
pub(crate) fn cursor(text: &str) -> (String, usize) {
    let offset = text.find("$0").expect("fixture has a $0 cursor");
    (text.replacen("$0", "", 1), offset)
}

/// A small deterministic generator (xorshift): a failing generated case is replayed from its seed.
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is made odd).
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
