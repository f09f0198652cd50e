//! Whether a text holds any of the comments that switch findings off (a `$schema` modeline,
//! `# kube-lsp-ignore:`, `# yaml-language-server-disable`): the filters that read them
//! (`modeline::without_switched_off_schema`, `rules::suppress::without_ignored`) cost nothing
//! when there are none. Found in one pass over the text when it is opened, then kept along
//! edits by looking only near each edit while the text has none.

use ropey::Rope;

use super::rules::suppress::{MARKER, YAML_LANGUAGE_SERVER_DISABLE};
use crate::text::TextEdit;

/// The words looked for: a modeline (either form), an ignore comment, a disable comment.
const WORDS: [&str; 4] = [
    "yaml-language-server",
    "$schema:",
    MARKER,
    YAML_LANGUAGE_SERVER_DISABLE,
];

/// Which of the comments a text may hold (a word in a value counts too: the filters look closer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Markers {
    pub modeline: bool,
    pub ignore: bool,
    pub disable: bool,
    /// Passes over the whole text so far (the open's, and one per edit while a marker exists).
    pub full_scans: usize,
}

impl Markers {
    /// The markers of `rope`, in one pass.
    pub fn of(rope: &Rope) -> Self {
        let mut markers = Markers::default();
        markers.scan(rope.slice(..));
        markers.full_scans = 1;
        markers
    }

    fn any(&self) -> bool {
        self.modeline || self.ignore || self.disable
    }

    /// Adds what `slice` holds.
    fn scan(&mut self, slice: ropey::RopeSlice<'_>) {
        let [server, schema, ignore, disable] = crate::text::contains_each(slice, &WORDS);
        self.modeline |= server || schema;
        self.ignore |= ignore;
        self.disable |= disable;
    }

    /// Follows `edit` of `rope` (the text after it): while the text held no marker, only a word
    /// the edit made can be one, so only the edit's new text and a word's length around it is
    /// read; else the whole text again (an edit may have removed the last marker).
    pub fn follow_edit(&mut self, rope: &Rope, edit: &TextEdit) {
        if self.any() {
            let scans = self.full_scans;
            *self = Markers::of(rope);
            self.full_scans += scans;
            return;
        }
        let reach = WORDS.iter().map(|w| w.len()).max().unwrap_or(0);
        let start = edit.start.saturating_sub(reach);
        let end = (edit.new_end + reach).min(rope.len_bytes());
        let (start, end) = (floor_char(rope, start), floor_char(rope, end));
        self.scan(rope.byte_slice(start..end));
    }
}

/// The start of the character holding byte `at`.
fn floor_char(rope: &Rope, at: usize) -> usize {
    rope.char_to_byte(rope.byte_to_char(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{PositionEncoding, TextDocument};

    /// Inserts `text` at the first character boundary from `at`; returns where.
    fn edited(document: &mut TextDocument, markers: &mut Markers, at: usize, text: &str) -> usize {
        let whole = document.rope().to_string();
        let at = (at..).find(|&i| whole.is_char_boundary(i)).unwrap();
        let position = document.position(at, PositionEncoding::Utf8);
        let edit = document.apply_change(Some(position..position), text, PositionEncoding::Utf8);
        markers.follow_edit(document.rope(), &edit);
        at
    }

    #[test]
    fn a_text_without_markers_is_read_once_and_then_only_near_edits() {
        let text = "apiVersion: v1\nkind: ConfigMap\ndata:\n  é: x\n".repeat(5_000);
        let mut document = TextDocument::new(&text, 1);
        let mut markers = Markers::of(document.rope());
        assert_eq!(
            markers,
            Markers {
                full_scans: 1,
                ..Markers::default()
            }
        );
        for at in [10, 60_000, text.len() - 3] {
            edited(&mut document, &mut markers, at, "y");
        }
        edited(&mut document, &mut markers, 0, "# kube");
        assert_eq!(markers.full_scans, 1);
        // A marker typed in two edits is found.
        let at = edited(&mut document, &mut markers, 100_000, "# kube-lsp");
        assert!(!markers.ignore);
        edited(&mut document, &mut markers, at + 10, "-ignore: all");
        assert!(markers.ignore && !markers.modeline && !markers.disable);
        assert_eq!(markers.full_scans, 1);
        // While one exists, each edit reads the text again: removing it is seen.
        let position = |at| document.position(at, PositionEncoding::Utf8);
        let range = position(at)..position(at + 22);
        let edit = document.apply_change(Some(range), "", PositionEncoding::Utf8);
        markers.follow_edit(document.rope(), &edit);
        assert!(!markers.ignore);
        assert_eq!(markers.full_scans, 2);
    }

    #[test]
    fn each_marker_is_told_apart() {
        let of = |text: &str| Markers::of(&Rope::from_str(text));
        let modeline = of("# yaml-language-server: $schema=none\na: 1\n");
        assert!(modeline.modeline && !modeline.ignore && !modeline.disable);
        assert!(of("# $schema: x.json\n").modeline);
        let disable = of("# yaml-language-server-disable\na: 1\n");
        assert!(disable.disable && disable.modeline);
        assert!(of("a: 1 # kube-lsp-ignore: all\n").ignore);
    }
}
