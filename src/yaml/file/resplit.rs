//! Splitting a file again around an edit that adds or removes a marker line.

use std::ops::Range;

use ropey::Rope;

use super::{YamlDocument, YamlFile, text_of};
use crate::text::{TextEdit, shift_range};
use crate::yaml::split::{self, MarkerLine};

impl YamlFile {
    /// Splits the file again around the edit, keeping documents (and their trees) whose text
    /// did not change. Only a window is split: from the start of the document before the one
    /// the edit starts in (its boundary depends on no line the edit touched) to the first
    /// boundary after the edit that was a boundary before it (from there on the text, and so
    /// the split, is the old one moved); the window grows until it reaches one.
    pub(super) fn resplit(&mut self, rope: &Rope, edit: &TextEdit) {
        self.stats.resplits += 1;
        let delta = edit.delta();
        let first = self
            .document_index_at(edit.start.saturating_sub(1))
            .saturating_sub(1);
        let from = self.documents[first].range.start;
        let mut reach = RESPLIT_FIRST_REACH;
        let (window, rejoin) = loop {
            let end = line_start_after(rope, edit.new_end.saturating_add(reach));
            let text = text_of(rope, from..end);
            self.stats.resplit_bytes += text.len();
            let window = split::split(&text);
            let rejoin = window.documents.iter().skip(1).find_map(|document| {
                let boundary = from + document.start;
                let old = boundary.checked_add_signed(-delta)?;
                (boundary >= edit.new_end && old >= edit.old_end)
                    .then(|| self.documents.binary_search_by_key(&old, |d| d.range.start))?
                    .ok()
                    .map(|index| (boundary, index))
            });
            if rejoin.is_some() || end >= rope.len_bytes() {
                break (window, rejoin);
            }
            reach = reach.saturating_mul(2);
        };
        let (until, rejoined) = rejoin.unwrap_or((usize::MAX, self.documents.len()));
        let ranges: Vec<Range<usize>> = window
            .documents
            .iter()
            .map(|d| shift_range(d, from as isize))
            .take_while(|d| d.start < until)
            .collect();
        self.stats.resplit_documents += ranges.len();
        let old_until = self
            .documents
            .get(rejoined)
            .map_or(usize::MAX, |d| d.range.start);
        let replaced: Vec<YamlDocument> = self.documents.drain(first..rejoined).collect();
        for document in &mut self.documents[first..] {
            document.range = shift_range(&document.range, delta);
        }
        let kept = self.reuse_or_check(rope, edit, replaced, ranges);
        self.documents.splice(first..first, kept);
        let markers_before = self.markers.partition_point(|m| m.range.start < from);
        let markers_after = self.markers.partition_point(|m| m.range.start < old_until);
        let window_markers = window
            .markers
            .into_iter()
            .map(|m| MarkerLine {
                range: shift_range(&m.range, from as isize),
                kind: m.kind,
            })
            .take_while(|m| m.range.start < until);
        let mut markers: Vec<MarkerLine> = self.markers.drain(markers_before..).collect();
        let after = markers.split_off(markers_after - markers_before);
        self.markers.extend(window_markers);
        self.markers.extend(after.into_iter().map(|m| MarkerLine {
            range: shift_range(&m.range, delta),
            kind: m.kind,
        }));
    }

    /// The documents at `ranges` (of the new text): the old document of the same text where
    /// `old` has one (moved by the edit), else checked afresh.
    fn reuse_or_check(
        &mut self,
        rope: &Rope,
        edit: &TextEdit,
        old: Vec<YamlDocument>,
        ranges: Vec<Range<usize>>,
    ) -> Vec<YamlDocument> {
        let mut old = old.into_iter().peekable();
        let mut documents = Vec::with_capacity(ranges.len());
        for range in ranges {
            let kept = loop {
                let Some(candidate) = old.peek() else {
                    break None;
                };
                let moved = if candidate.range.end <= edit.start {
                    candidate.range.clone()
                } else if candidate.range.start >= edit.old_end {
                    shift_range(&candidate.range, edit.delta())
                } else {
                    old.next();
                    continue;
                };
                if moved.start > range.start {
                    break None;
                }
                let candidate = old.next().expect("peeked");
                if moved == range {
                    break Some(YamlDocument {
                        range: moved,
                        ..candidate
                    });
                }
            };
            documents.push(kept.unwrap_or_else(|| {
                self.stats.full += 1;
                YamlDocument::checked(rope, range)
            }));
        }
        documents
    }
}

/// How far past an edit that changes the split [`YamlFile::resplit`] first reads (doubled until
/// the split meets the old one again).
pub(super) const RESPLIT_FIRST_REACH: usize = 4 * 1024;

/// The start of the first line that starts at or after `offset` (the end of the text if none).
fn line_start_after(rope: &Rope, offset: usize) -> usize {
    if offset >= rope.len_bytes() {
        return rope.len_bytes();
    }
    let line = rope.byte_to_line(offset);
    match rope.line_to_byte(line) == offset {
        true => offset,
        false => rope.line_to_byte(line + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixture, manifest};
    use super::*;
    use crate::text::PositionEncoding;

    /// Document ranges and marker lines, to compare with a fresh open's.
    fn split_of(file: &YamlFile) -> (Vec<Range<usize>>, Vec<MarkerLine>) {
        let ranges = file.documents().iter().map(|d| d.range()).collect();
        (ranges, file.markers.clone())
    }

    #[test]
    fn a_marker_edit_splits_only_around_the_edit() {
        let text = (0..2_000).map(manifest).collect::<Vec<_>>().join("---\n");
        let mut fx = Fixture::new(&text);
        let before = fx.file.stats();
        // Split document 1,000 in two, between `metadata` and `data`.
        fx.edit(1_000 * 7 + 4, 0, 0, "---\n");
        let after = fx.file.stats();
        assert_eq!(fx.file.documents().len(), 2_001);
        assert_eq!(after.resplits - before.resplits, 1);
        assert_eq!(after.full - before.full, 2, "the two halves");
        // The document before the edited one, and the edited one's two halves.
        assert_eq!(after.resplit_documents - before.resplit_documents, 3);
        let split_bytes = after.resplit_bytes - before.resplit_bytes;
        assert!(
            split_bytes <= RESPLIT_FIRST_REACH + 4 * manifest(1_000).len(),
            "{split_bytes} of {} bytes split again",
            text.len()
        );
        assert_eq!(split_of(&fx.file), split_of(&fx.reopened()));
        // And merged again.
        fx.edit(1_000 * 7 + 4, 0, 3, "");
        assert_eq!(fx.file.documents().len(), 2_000);
        assert_eq!(
            fx.file.stats().resplit_documents - after.resplit_documents,
            2
        );
        assert_eq!(split_of(&fx.file), split_of(&fx.reopened()));
    }

    #[test]
    fn a_split_around_random_marker_edits_is_a_fresh_open_s() {
        use crate::text::random_text::{Rng, boundary};
        let pieces = [
            "---\n",
            "\n---\n",
            "...\n",
            "%YAML 1.2\n",
            "%TAG ! x\n",
            "\r\n",
            "\r",
            "\n",
            "---",
            "- ",
            "a: 1\n",
            "# c\n",
            ".",
            "-",
            "%",
        ];
        let seed_text =
            "a: 1\n---\nb: 2\n...\n%YAML 1.2\n---\nc: |\n  ---x\n# end\r\n---\r\nd: [1,\n 2]\n";
        for seed in 1..200 {
            let mut rng = Rng::new(seed);
            let mut fx = Fixture::new(&seed_text.repeat(1 + rng.below(3)));
            for _ in 0..20 {
                let text = fx.text.rope().to_string();
                let start = boundary(&text, rng.below(text.len() + 1));
                let end = boundary(&text, start + rng.below(6));
                let insert = match rng.below(3) {
                    0 => "",
                    _ => pieces[rng.below(pieces.len())],
                };
                let rope = fx.text.rope();
                let at = |offset| crate::text::position_at(rope, offset, PositionEncoding::Utf8);
                let range = at(start)..at(end.max(start));
                let edit = fx
                    .text
                    .apply_change(Some(range), insert, PositionEncoding::Utf8);
                fx.file.apply_edit(fx.text.rope(), &edit);
                assert_eq!(
                    split_of(&fx.file),
                    split_of(&fx.reopened()),
                    "seed {seed}: {:?}",
                    fx.text.rope().to_string()
                );
            }
        }
    }
}
