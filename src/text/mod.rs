//! Text layer: one rope per open document, conversion between LSP positions and byte offsets, and
//! moving byte ranges along with an edit ([`TextEdit::map_range`], [`shift_range`]).
//!
//! Everything above this layer works in byte offsets into the UTF-8 text. Positions exist only at the
//! edge, in the encoding negotiated with the client (UTF-8 when offered, else UTF-16). Line breaks are
//! `\n`, `\r\n` and `\r`, as the LSP defines them (ropey's Unicode line breaks are disabled).

use std::ops::Range;

use ropey::Rope;

pub use positions::Positions;

pub mod cancel;
#[cfg(test)]
pub(crate) mod fixture;
pub mod lines;
pub mod memory;
pub mod positions;
#[cfg(test)]
pub(crate) mod random_text;
pub mod threads;

/// The unit of `Position::character`, negotiated at `initialize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
}

/// A position as the client sees it: zero-based line, and a column in the negotiated unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub fn new(line: u32, character: u32) -> Self {
        Self { line, character }
    }
}

/// A line and a byte column: the coordinates tree-sitter wants alongside byte offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Point {
    pub line: usize,
    pub byte_column: usize,
}

/// One applied edit, in byte offsets of the text before (`old_end`) and after (`new_end`) it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub start_point: Point,
    pub old_end_point: Point,
    pub new_end_point: Point,
}

impl TextEdit {
    /// How far text after the edit moved.
    pub fn delta(&self) -> isize {
        self.new_end as isize - self.old_end as isize
    }

    /// Where an offset of the old text lands in the new text (offsets inside the replaced range go
    /// to the end of the insertion).
    pub fn map_offset(&self, old: usize) -> usize {
        if old < self.start {
            old
        } else if old >= self.old_end {
            old.saturating_add_signed(self.delta())
        } else {
            self.new_end
        }
    }

    /// Where a range of the old text lands in the new text, each end moved as [`map_offset`]
    /// moves it (a range inside the replaced text collapses to the end of the insertion).
    /// `range` and the answer are relative to `base`, the start of the text they belong to (a
    /// document of the edited file, not after the edit's start; 0 for the file itself).
    ///
    /// [`map_offset`]: Self::map_offset
    pub fn map_range(&self, range: &Range<usize>, base: usize) -> Range<usize> {
        let map = |offset: usize| self.map_offset(offset + base).saturating_sub(base);
        let start = map(range.start);
        start..map(range.end).max(start)
    }
}

/// Keeps the entries of per-document state (kept by document range, in file offsets) that an
/// already applied edit leaves whole: those after it move by its delta, one holding the whole edit
/// grows with it and is handed to `holds` with its start (to move what it keeps along), and those
/// the edit straddles are dropped.
pub fn retain_following<E>(
    entries: &mut Vec<E>,
    edit: &TextEdit,
    range: impl Fn(&mut E) -> &mut Range<usize>,
    holds: impl FnMut(&mut E, usize),
) {
    retain(entries, edit, range, holds, Edges::Touch);
}

/// [`retain_following`] where an entry that only touches the edit (ends where it starts, or
/// starts where it ends) is left whole: its text did not change. For entries the caller matches
/// again by exact range with the documents as split after the edit, where text that joined such
/// a document shows as a new range (a document pasted or cut between two leaves both as they
/// were).
pub fn retain_following_touching<E>(
    entries: &mut Vec<E>,
    edit: &TextEdit,
    range: impl Fn(&mut E) -> &mut Range<usize>,
    holds: impl FnMut(&mut E, usize),
) {
    retain(entries, edit, range, holds, Edges::Apart);
}

/// Whether an entry that touches an edit's edge counts as edited.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Edges {
    Touch,
    Apart,
}

fn retain<E>(
    entries: &mut Vec<E>,
    edit: &TextEdit,
    range: impl Fn(&mut E) -> &mut Range<usize>,
    mut holds: impl FnMut(&mut E, usize),
    edges: Edges,
) {
    let delta = edit.delta();
    let apart = edges == Edges::Apart;
    entries.retain_mut(|entry| {
        let entry_range = range(entry);
        if entry_range.end < edit.start || (apart && entry_range.end == edit.start) {
            true
        } else if entry_range.start > edit.old_end || (apart && entry_range.start == edit.old_end) {
            *entry_range = shift_range(entry_range, delta);
            true
        } else if apart && entry_range.start == edit.start && entry_range.end == edit.old_end {
            // The edit replaced the entry's whole text: nothing of it is left to follow.
            false
        } else if entry_range.start <= edit.start && edit.old_end <= entry_range.end {
            let start = entry_range.start;
            entry_range.end = entry_range.end.saturating_add_signed(delta);
            holds(entry, start);
            true
        } else {
            false
        }
    });
}

/// `range` moved `delta` bytes: a range of a document moved to file offsets (or back), or one
/// after an edit moved by the edit's [`delta`](TextEdit::delta).
pub fn shift_range(range: &Range<usize>, delta: isize) -> Range<usize> {
    range.start.saturating_add_signed(delta)..range.end.saturating_add_signed(delta)
}

/// An open document: its text and the version the client gave it.
#[derive(Clone, Debug)]
pub struct TextDocument {
    rope: Rope,
    version: i32,
}

impl TextDocument {
    pub fn new(text: &str, version: i32) -> Self {
        Self {
            rope: Rope::from_str(text),
            version,
        }
    }

    /// [`new`](Self::new) for a big text: its two halves built on two threads (this one and
    /// one more), then joined.
    pub fn new_on_threads(text: &str, version: i32) -> Self {
        let middle = text.len() / 2;
        // After a line break: neither a character nor a `\r\n` is cut.
        let Some(cut) = memchr::memchr(b'\n', &text.as_bytes()[middle..]) else {
            return Self::new(text, version);
        };
        let (first, second) = text.split_at(middle + cut + 1);
        let (mut rope, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| Rope::from_str(second));
            let first = Rope::from_str(first);
            let second = second
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (first, second)
        });
        rope.append(second);
        Self { rope, version }
    }

    pub fn rope(&self) -> &Rope {
        &self.rope
    }

    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn set_version(&mut self, version: i32) {
        self.version = version;
    }

    pub fn len(&self) -> usize {
        self.rope.len_bytes()
    }

    pub fn is_empty(&self) -> bool {
        self.rope.len_bytes() == 0
    }

    /// Replaces `range` (or everything, when `None`) with `text`. Out-of-range positions are clamped.
    pub fn apply_change(
        &mut self,
        range: Option<Range<Position>>,
        text: &str,
        encoding: PositionEncoding,
    ) -> TextEdit {
        let (start, old_end) = match range {
            Some(range) => {
                let start = offset_at(&self.rope, range.start, encoding);
                let end = offset_at(&self.rope, range.end, encoding);
                (start.min(end), start.max(end))
            }
            None => (0, self.rope.len_bytes()),
        };
        let start_point = point_at(&self.rope, start);
        let old_end_point = point_at(&self.rope, old_end);
        let start_char = self.rope.byte_to_char(start);
        self.rope
            .remove(start_char..self.rope.byte_to_char(old_end));
        self.rope.insert(start_char, text);
        let new_end = start + text.len();
        TextEdit {
            start,
            old_end,
            new_end,
            start_point,
            old_end_point,
            new_end_point: point_at(&self.rope, new_end),
        }
    }

    pub fn offset(&self, position: Position, encoding: PositionEncoding) -> usize {
        offset_at(&self.rope, position, encoding)
    }

    pub fn position(&self, offset: usize, encoding: PositionEncoding) -> Position {
        position_at(&self.rope, offset, encoding)
    }

    pub fn range(&self, range: Range<usize>, encoding: PositionEncoding) -> Range<Position> {
        self.position(range.start, encoding)..self.position(range.end, encoding)
    }
}

/// The byte offset of `position`, clamped: a line past the end means the end of the text, a
/// column past the end of a line means the end of that line (before its line break), and a column
/// inside a character (a surrogate pair, a multi-byte UTF-8 sequence) means that character's start.
pub fn offset_at(rope: &Rope, position: Position, encoding: PositionEncoding) -> usize {
    let line = position.line as usize;
    if line >= rope.len_lines() {
        return rope.len_bytes();
    }
    let line_start = rope.line_to_byte(line);
    let line_end = line_start + line_content_len(rope, line);
    let target = match encoding {
        PositionEncoding::Utf8 => line_start.saturating_add(position.character as usize),
        PositionEncoding::Utf16 => {
            let start_cu = rope.char_to_utf16_cu(rope.byte_to_char(line_start));
            let end_cu = rope.char_to_utf16_cu(rope.byte_to_char(line_end));
            let cu = start_cu
                .saturating_add(position.character as usize)
                .min(end_cu);
            rope.char_to_byte(rope.utf16_cu_to_char(cu))
        }
    };
    let clamped = target.min(line_end);
    rope.char_to_byte(rope.byte_to_char(clamped))
}

/// The position of a byte offset (clamped to the text; an offset inside a character counts as its start).
pub fn position_at(rope: &Rope, offset: usize, encoding: PositionEncoding) -> Position {
    let offset = rope.char_to_byte(rope.byte_to_char(offset.min(rope.len_bytes())));
    let line = rope.byte_to_line(offset);
    let line_start = rope.line_to_byte(line);
    let character = match encoding {
        PositionEncoding::Utf8 => offset - line_start,
        PositionEncoding::Utf16 => {
            rope.char_to_utf16_cu(rope.byte_to_char(offset))
                - rope.char_to_utf16_cu(rope.byte_to_char(line_start))
        }
    };
    Position::new(line as u32, character as u32)
}

/// Line and byte column of an offset.
pub fn point_at(rope: &Rope, offset: usize) -> Point {
    let offset = offset.min(rope.len_bytes());
    let line = rope.byte_to_line(offset);
    Point {
        line,
        byte_column: offset - rope.line_to_byte(line),
    }
}

/// Length in bytes of a line without its line break.
fn line_content_len(rope: &Rope, line: usize) -> usize {
    let slice = rope.line(line);
    let len = slice.len_bytes();
    let ends_with = |byte: u8| len > 0 && slice.byte(len - 1) == byte;
    if ends_with(b'\n') {
        if len > 1 && slice.byte(len - 2) == b'\r' {
            len - 2
        } else {
            len - 1
        }
    } else if ends_with(b'\r') {
        len - 1
    } else {
        len
    }
}

/// A hash of `slice`'s text, the same whatever its chunks (`write` streams) and the same as one
/// `write` of the whole text.
pub fn hash_of_slice(slice: ropey::RopeSlice<'_>) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    for chunk in slice.chunks() {
        hasher.write(chunk.as_bytes());
    }
    hasher.finish()
}

/// Whether `word` occurs in `slice`, without copying it out of the rope (a match may straddle
/// two chunks).
pub fn contains(slice: ropey::RopeSlice<'_>, word: &str) -> bool {
    contains_each(slice, &[word])[0]
}

/// Whether each of `words` occurs in `slice`, in one pass over its chunks, without copying
/// them out of the rope (a match may straddle two chunks).
pub fn contains_each<const N: usize>(slice: ropey::RopeSlice<'_>, words: &[&str; N]) -> [bool; N] {
    let finders = words.map(|word| memchr::memmem::Finder::new(word.as_bytes()));
    let keep = words
        .iter()
        .map(|w| w.len())
        .max()
        .unwrap_or(0)
        .saturating_sub(1);
    let mut found = [false; N];
    // The text's last `keep` bytes before the chunk, then the chunk's first ones.
    let mut seam: Vec<u8> = Vec::new();
    for chunk in slice.chunks() {
        let bytes = chunk.as_bytes();
        seam.extend_from_slice(&bytes[..bytes.len().min(keep)]);
        for (finder, found) in finders.iter().zip(&mut found) {
            *found = *found || finder.find(bytes).is_some() || finder.find(&seam).is_some();
        }
        if found.iter().all(|f| *f) {
            break;
        }
        if bytes.len() >= keep {
            seam.clear();
            seam.extend_from_slice(&bytes[bytes.len() - keep..]);
        } else {
            seam.drain(..seam.len().saturating_sub(keep));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> TextDocument {
        TextDocument::new(text, 1)
    }

    #[test]
    fn a_rope_built_in_two_halves_is_the_rope_of_the_text() {
        let line = "key: 注释 🚀 value\r\n";
        for text in [
            line.repeat(3_000),
            // No line break after the middle: built whole.
            format!("{}{}", line.repeat(10), "é".repeat(5_000)),
            String::new(),
        ] {
            let halves = TextDocument::new_on_threads(&text, 7);
            let whole = Rope::from_str(&text);
            assert_eq!(halves.rope(), &whole);
            assert_eq!(halves.rope().len_lines(), whole.len_lines());
            assert_eq!(halves.rope().len_utf16_cu(), whole.len_utf16_cu());
            assert_eq!(halves.version(), 7);
        }
    }

    #[test]
    fn a_slice_hashes_as_its_text_whatever_its_chunks() {
        use std::hash::Hasher;
        let text = "key: 注释 🚀 value\n".repeat(500);
        let rope = Rope::from_str(&text);
        assert!(rope.chunks().count() > 3);
        for range in [0..text.len(), 8..text.len() - 5, 100..100] {
            let mut one_write = std::hash::DefaultHasher::new();
            one_write.write(text[range.clone()].as_bytes());
            let slice = rope.byte_slice(range);
            assert_eq!(hash_of_slice(slice), one_write.finish());
        }
    }

    #[test]
    fn utf16_columns_count_cjk_as_one_unit_and_emoji_as_two() {
        // "# 注释 🚀 x": '注' and '释' are 3 UTF-8 bytes and 1 UTF-16 unit; '🚀' is 4 bytes, 2 units.
        let d = doc("a: 1\n# 注释 🚀 x\n");
        let x = d.rope().to_string().find('x').unwrap();
        let pos = d.position(x, PositionEncoding::Utf16);
        assert_eq!(pos, Position::new(1, 8));
        assert_eq!(d.offset(pos, PositionEncoding::Utf16), x);
        let pos8 = d.position(x, PositionEncoding::Utf8);
        assert_eq!(pos8, Position::new(1, 14));
        assert_eq!(d.offset(pos8, PositionEncoding::Utf8), x);
    }

    #[test]
    fn a_column_inside_a_surrogate_pair_or_utf8_sequence_snaps_to_the_character_start() {
        let d = doc("🚀x");
        assert_eq!(d.offset(Position::new(0, 1), PositionEncoding::Utf16), 0);
        assert_eq!(d.offset(Position::new(0, 2), PositionEncoding::Utf16), 4);
        assert_eq!(d.offset(Position::new(0, 2), PositionEncoding::Utf8), 0);
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let d = doc("ab\r\ncd\n");
        assert_eq!(d.offset(Position::new(0, 99), PositionEncoding::Utf16), 2);
        assert_eq!(d.offset(Position::new(1, 99), PositionEncoding::Utf8), 6);
        assert_eq!(d.offset(Position::new(99, 0), PositionEncoding::Utf16), 7);
        assert_eq!(
            d.position(999, PositionEncoding::Utf16),
            Position::new(2, 0)
        );
    }

    #[test]
    fn crlf_and_lone_cr_are_line_breaks() {
        let d = doc("a\r\nb\rc\n");
        assert_eq!(d.position(3, PositionEncoding::Utf16), Position::new(1, 0));
        assert_eq!(d.position(5, PositionEncoding::Utf16), Position::new(2, 0));
    }

    #[test]
    fn unicode_line_separators_are_not_line_breaks() {
        let d = doc("a\u{2028}b\nc");
        assert_eq!(
            d.position(d.len() - 1, PositionEncoding::Utf16),
            Position::new(1, 0)
        );
    }

    #[test]
    fn incremental_changes_report_byte_offsets_and_points() {
        let mut d = doc("kind: Pod\nmetadata:\n  name: 注\n");
        let edit = d.apply_change(
            Some(Position::new(2, 8)..Position::new(2, 9)),
            "web",
            PositionEncoding::Utf16,
        );
        assert_eq!(d.rope().to_string(), "kind: Pod\nmetadata:\n  name: web\n");
        assert_eq!((edit.start, edit.old_end, edit.new_end), (28, 31, 31));
        assert_eq!(
            edit.start_point,
            Point {
                line: 2,
                byte_column: 8
            }
        );
        assert_eq!(
            edit.old_end_point,
            Point {
                line: 2,
                byte_column: 11
            }
        );
        assert_eq!(
            edit.new_end_point,
            Point {
                line: 2,
                byte_column: 11
            }
        );
    }

    #[test]
    fn reversed_and_out_of_range_change_ranges_do_not_panic() {
        let mut d = doc("abc");
        d.apply_change(
            Some(Position::new(5, 5)..Position::new(0, 1)),
            "X",
            PositionEncoding::Utf16,
        );
        assert_eq!(d.rope().to_string(), "aX");
        d.apply_change(None, "new", PositionEncoding::Utf8);
        assert_eq!(d.rope().to_string(), "new");
    }

    #[test]
    fn offsets_and_ranges_follow_an_edit() {
        let mut d = doc("0123456789");
        let edit = d.apply_change(
            Some(Position::new(0, 2)..Position::new(0, 4)),
            "abcd",
            PositionEncoding::Utf8,
        );
        assert_eq!(edit.map_offset(1), 1);
        assert_eq!(edit.map_offset(3), 6);
        assert_eq!(edit.map_offset(5), 7);
        // Ranges before, around and after the edit; relative to a document starting at 1.
        assert_eq!(edit.map_range(&(0..1), 0), 0..1);
        assert_eq!(edit.map_range(&(1..5), 0), 1..7);
        assert_eq!(edit.map_range(&(2..3), 0), 6..6);
        assert_eq!(edit.map_range(&(4..9), 1), 6..11);
        assert_eq!(shift_range(&(4..9), -3), 1..6);
        assert_eq!(shift_range(&(4..9), 2), 6..11);
    }

    #[test]
    fn words_are_found_across_chunks() {
        let padding = "x".repeat(4_000);
        for at in 0..=padding.len() {
            let mut text = padding.clone();
            text.insert_str(at, "apiVersion");
            let rope = Rope::from_str(&text);
            assert!(contains(rope.slice(..), "apiVersion"), "at {at}");
            assert!(!contains(rope.slice(..), "apiVersionX"), "at {at}");
            // Slices start and end inside chunks.
            let inside = rope.byte_slice(at.saturating_sub(3)..(at + 13).min(text.len()));
            assert!(contains(inside, "apiVersion"), "at {at}");
        }
        assert!(Rope::from_str(&padding).chunks().count() > 3);
    }

    #[test]
    fn several_words_are_found_in_one_pass_across_chunks() {
        let padding = "x".repeat(4_000);
        for at in (0..=padding.len()).step_by(7) {
            let mut text = padding.clone();
            text.insert_str(at, "kube-lsp-ignore:");
            text.insert_str(at / 2, "$schema:");
            let rope = Rope::from_str(&text);
            let words = ["$schema:", "kube-lsp-ignore:", "yaml-language-server"];
            assert_eq!(
                contains_each(rope.slice(..), &words),
                [true, true, false],
                "at {at}"
            );
        }
    }
}
