//! Test fixtures: a cursor marked `$0` in a text; a seeded random generator for the fuzz and
//! property tests (from `random_text`).

/// `text` without its first `$0` marker, and the byte offset where the marker was.
pub(crate) fn cursor(text: &str) -> (String, usize) {
    let offset = text.find("$0").expect("fixture has a $0 cursor");
    (text.replacen("$0", "", 1), offset)
}

pub(crate) use super::random_text::Rng;
