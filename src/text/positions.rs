//! Many byte offsets of one text turned into positions, as [`position_at`] does one: a
//! publication converts up to a thousand diagnostics' ranges, which come in position order. An
//! offset near the one before (or on its line) is found by reading the bytes between them;
//! another by its line from the rope's index (two lookups, not six to eight) and the bytes from
//! the line's start; the rest, and any text with a `\r` in the way, as [`position_at`] does.

use ropey::Rope;

use super::{Position, PositionEncoding, position_at};

/// How many bytes are read at most instead of asking the rope's index.
const NEAR: usize = 2048;

/// Converts the offsets of one text, remembering the last one.
pub struct Positions<'r> {
    rope: &'r Rope,
    encoding: PositionEncoding,
    last: Option<Known>,
}

/// An offset (on a character boundary), its position, and where its line starts.
#[derive(Clone, Copy)]
struct Known {
    offset: usize,
    position: Position,
    line_start: usize,
}

impl<'r> Positions<'r> {
    pub fn new(rope: &'r Rope, encoding: PositionEncoding) -> Self {
        Positions {
            rope,
            encoding,
            last: None,
        }
    }

    /// The position of `offset`, as [`position_at`] gives it.
    pub fn at(&mut self, offset: usize) -> Position {
        count_work!(LOOKUPS);
        let offset = offset.min(self.rope.len_bytes());
        let from_last = self.last.and_then(|last| {
            if last.offset <= offset {
                Some(last)
            } else if last.line_start <= offset {
                Some(Known {
                    offset: last.line_start,
                    position: Position::new(last.position.line, 0),
                    line_start: last.line_start,
                })
            } else {
                None
            }
        });
        let known = from_last
            .filter(|base| offset - base.offset <= NEAR)
            .and_then(|base| self.read(base, offset))
            .or_else(|| self.found_from_line_start(offset))
            .unwrap_or_else(|| self.indexed(offset));
        self.last = Some(known);
        known.position
    }

    /// From the start of `offset`'s line, found in the rope's index, when that is near.
    fn found_from_line_start(&self, offset: usize) -> Option<Known> {
        count_work!(INDEXED);
        let line = self.rope.byte_to_line(offset);
        let line_start = self.rope.line_to_byte(line);
        if offset - line_start > NEAR {
            return None;
        }
        let base = Known {
            offset: line_start,
            position: Position::new(line as u32, 0),
            line_start,
        };
        self.read(base, offset)
    }

    /// As [`position_at`] finds it (and its line's start).
    fn indexed(&self, offset: usize) -> Known {
        let position = position_at(self.rope, offset, self.encoding);
        let line_start = self.rope.line_to_byte(position.line as usize);
        let offset = self.rope.char_to_byte(self.rope.byte_to_char(offset));
        Known {
            offset,
            position,
            line_start,
        }
    }

    /// `offset` (after `base`) by reading the bytes from `base` to it; `None` at a `\r` (a line
    /// break of its own or half of `\r\n`: the rope's index knows).
    fn read(&self, base: Known, offset: usize) -> Option<Known> {
        let Known {
            mut position,
            mut line_start,
            ..
        } = base;
        let utf16 = self.encoding == PositionEncoding::Utf16;
        let (chunks, chunk_start, _, _) = self.rope.chunks_at_byte(base.offset);
        let mut at = chunk_start;
        for chunk in chunks {
            if at >= offset {
                break;
            }
            let bytes = chunk.as_bytes();
            let from = base.offset.saturating_sub(at);
            let mut to = (offset - at).min(bytes.len());
            // Chunks hold whole characters: one that `offset` falls inside starts in this one.
            while to < bytes.len() && to > from && is_continuation(bytes[to]) {
                to -= 1;
            }
            let read = &bytes[from..to];
            if memchr::memchr(b'\r', read).is_some() {
                return None;
            }
            let last_line = match memchr::memrchr(b'\n', read) {
                Some(last_break) => {
                    position.line += memchr::memchr_iter(b'\n', read).count() as u32;
                    position.character = 0;
                    line_start = at + from + last_break + 1;
                    &read[last_break + 1..]
                }
                None => read,
            };
            position.character += columns(last_line, utf16);
            if to < bytes.len() {
                return Some(Known {
                    offset: at + to,
                    position,
                    line_start,
                });
            }
            at += bytes.len();
        }
        Some(Known {
            offset: at.min(offset),
            position,
            line_start,
        })
    }
}

/// The columns `bytes` (whole characters, no line break) take: bytes, or UTF-16 code units
/// (one per character, two for those of four bytes).
fn columns(bytes: &[u8], utf16: bool) -> u32 {
    if !utf16 {
        return bytes.len() as u32;
    }
    (bytes.iter())
        .map(|&byte| u32::from(!is_continuation(byte)) + u32::from(byte >= 0xF0))
        .sum()
}

fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

work_counter!(fn asked() => LOOKUPS);
work_counter!(fn indexed() => INDEXED);

/// Positions asked and how many of them went to the rope's index (this thread, so far).
#[cfg(test)]
pub fn lookups() -> (usize, usize) {
    (asked(), indexed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::random_text::{PIECES, Rng};

    /// Every offset of texts with multi-byte characters, CRLF, lone CR and long lines, in
    /// ascending, descending and random order, in both encodings: as `position_at` gives.
    #[test]
    fn positions_equal_position_at_in_any_order() {
        let mut rng = Rng::new(7);
        let long_line = "x".repeat(2_500);
        for round in 0..8 {
            let mut text = String::new();
            for _ in 0..rng.below(120) {
                text.push_str(PIECES[rng.below(PIECES.len())]);
                if rng.below(40) == 0 {
                    text.push_str(&long_line);
                }
            }
            if round % 2 == 1 {
                text.push_str("a\rb\r\r\nc");
            }
            if round % 4 == 0 {
                text.push_str(&"é\n".repeat(1_500));
            }
            let rope = Rope::from_str(&text);
            let len = text.len();
            let ascending: Vec<usize> = (0..=len + 2).collect();
            let descending: Vec<usize> = ascending.iter().rev().copied().collect();
            let random: Vec<usize> = (0..1_000).map(|_| rng.below(len + 3)).collect();
            for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                for offsets in [&ascending, &descending, &random] {
                    let mut positions = Positions::new(&rope, encoding);
                    for &offset in offsets {
                        assert_eq!(
                            positions.at(offset),
                            position_at(&rope, offset, encoding),
                            "offset {offset} of {text:?}"
                        );
                    }
                }
            }
        }
    }

    /// Offsets in order, close together (a publication's): read, not looked up in the index.
    #[test]
    fn offsets_close_together_are_read_not_looked_up() {
        let text = "key: value # a comment\n".repeat(20_000);
        let rope = Rope::from_str(&text);
        let mut positions = Positions::new(&rope, PositionEncoding::Utf16);
        let (asked, indexed) = lookups();
        for line in 0..1_000 {
            let start = line * 23 * 5 + 5;
            positions.at(start);
            positions.at(start + 5);
        }
        let (asked_now, indexed_now) = lookups();
        assert_eq!(asked_now - asked, 2_000);
        assert_eq!(indexed_now - indexed, 1, "only the first");
    }
}
