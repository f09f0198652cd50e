//! Lines and columns inside one piece of text (a document of a file), without the file's rope:
//! what the rope answers for offsets of a piece that starts a line, relative to the piece's
//! first line. Line breaks are the rope's: `\n`, `\r\n` and a lone `\r`.

/// The starts of the lines of a text.
#[derive(Debug)]
pub struct LineStarts<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

/// A position relative to the first line of a text: its line, and its column in bytes and in
/// UTF-16 code units (the two encodings a client can ask for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinePosition {
    pub line: u32,
    pub utf8: u32,
    pub utf16: u32,
}

impl<'t> LineStarts<'t> {
    pub fn new(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut at = 0;
        while let Some(found) = memchr::memchr2(b'\n', b'\r', &bytes[at..]) {
            let end = at + found;
            at = match (bytes[end], bytes.get(end + 1)) {
                (b'\r', Some(b'\n')) => end + 2,
                _ => end + 1,
            };
            starts.push(at);
        }
        LineStarts { text, starts }
    }

    /// How many line breaks the text holds.
    pub fn breaks(&self) -> usize {
        self.starts.len() - 1
    }

    /// Where line `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line]
    }

    /// The line of `offset` (the last line for offsets past the end).
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset) - 1
    }

    /// The position of `offset`, moved back to a char boundary as the rope does
    /// (`text::position_at`).
    pub fn position(&self, offset: usize) -> LinePosition {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let before = &self.text[self.starts[line]..offset];
        let utf16 = match before.is_ascii() {
            true => before.len(),
            false => before.encode_utf16().count(),
        };
        LinePosition {
            line: line as u32,
            utf8: before.len() as u32,
            utf16: utf16 as u32,
        }
    }
}

#[cfg(test)]
mod tests {
    use ropey::Rope;

    use super::*;
    use crate::text::{PositionEncoding, position_at};

    #[test]
    fn positions_are_the_rope_s() {
        let text = "a: 1\r\nb: é\rc: 日本\n\n🚀: x\r\n\r";
        let rope = Rope::from_str(text);
        let lines = LineStarts::new(text);
        assert_eq!(lines.breaks(), rope.len_lines() - 1);
        for offset in 0..=text.len() + 1 {
            let position = lines.position(offset);
            let utf8 = position_at(&rope, offset, PositionEncoding::Utf8);
            let utf16 = position_at(&rope, offset, PositionEncoding::Utf16);
            assert_eq!(
                (position.line, position.utf8, position.utf16),
                (utf8.line, utf8.character, utf16.character),
                "offset {offset}"
            );
        }
    }
}
