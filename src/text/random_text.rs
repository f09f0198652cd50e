//! Random text for the fuzz and property tests, in the unit tests and (included by path, as it
//! needs nothing of the crate) in `tests/lsp_fuzz.rs`: a seeded generator, the pieces typed and
//! char boundaries to edit at.
#![allow(dead_code)]

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

/// Pieces typed into YAML by the random edits: structure, comments, document markers,
/// multi-byte and control characters, CRLF.
pub(crate) const PIECES: &[&str] = &[
    "2",
    "x",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "\n",
    "\r\n",
    "  ",
    "#",
    " # comment\n",
    "---\n",
    "\n---\n",
    "...\n",
    "é",
    "日本",
    "🚀",
    "\t",
    "key: value\n",
    "\"",
    "'",
    "&a ",
    "*a",
    "|\n",
    "\u{7}",
    "\u{feff}",
    "\u{0}",
    "\u{1b}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "é: \u{85}x\u{0}",
    "%YAML 1.2\n",
    "apiVersion: v1\n",
    "kind: Pod\n",
];

/// A char boundary at or before `at`, not between the two bytes of a CRLF (no LSP position
/// names that point).
pub(crate) fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    if at > 0 && text.as_bytes()[at - 1] == b'\r' && text.as_bytes().get(at) == Some(&b'\n') {
        at -= 1;
    }
    at
}
