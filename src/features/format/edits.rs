//! The smallest edits, by whole lines, that turn one text into another.

use std::ops::Range;

use similar::{DiffOp, TextDiff};

/// Edits (byte ranges of `before`, replacement text) covering only the lines that differ.
pub fn line_edits(before: &str, after: &str) -> Vec<(Range<usize>, String)> {
    if before == after {
        return Vec::new();
    }
    let old_starts = line_starts(before);
    let new_starts = line_starts(after);
    if old_starts.len() == new_starts.len() {
        // As many lines as before (re-indented, spaced): line for line, without a diff.
        return (0..old_starts.len() - 1)
            .map(|line| {
                let old = old_starts[line]..old_starts[line + 1];
                (old, &after[new_starts[line]..new_starts[line + 1]])
            })
            .filter(|(old, new)| before[old.clone()] != **new)
            .map(|(old, new)| (old, new.to_string()))
            .collect();
    }
    // Patience anchors on lines found once on both sides: fast where most lines changed.
    let diff = TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .timeout(std::time::Duration::from_millis(100))
        .diff_lines(before, after);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for op in diff.ops() {
        let (old, new) = match *op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index,
                old_len,
                new_index,
            } => (old_index..old_index + old_len, new_index..new_index),
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index..old_index, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        // Lines replaced one for one are separate edits: a range format keeps only its own.
        let pairs = if old.len() == new.len() {
            old.clone()
                .zip(new.clone())
                .map(|(o, n)| (o..o + 1, n..n + 1))
                .collect()
        } else {
            vec![(old, new)]
        };
        for (old, new) in pairs {
            let range = old_starts[old.start]..old_starts[old.end];
            let text = &after[new_starts[new.start]..new_starts[new.end]];
            if before[range.clone()] != *text {
                edits.push((range, text.to_string()));
            }
        }
    }
    edits
}

/// The byte offset where each line of `text` starts, and the text's length last (one past the
/// last line), as `similar` counts lines (after each `\n`).
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if *starts.last().unwrap_or(&0) != text.len() {
        starts.push(text.len());
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, edits: &[(Range<usize>, String)]) -> String {
        let mut out = text.to_string();
        for (range, replacement) in edits.iter().rev() {
            out.replace_range(range.clone(), replacement);
        }
        out
    }

    #[test]
    fn edits_cover_only_changed_lines_and_rebuild_the_text() {
        let before = "a: 1\nb:   2\nc: 3\nd:  4\n";
        let after = "a: 1\nb: 2\nc: 3\nd: 4\n";
        let edits = line_edits(before, after);
        assert_eq!(
            edits,
            [
                (5..12, "b: 2\n".to_string()),
                (17..23, "d: 4\n".to_string())
            ]
        );
        assert_eq!(apply(before, &edits), after);
        for (before, after) in [
            ("a: 1", "a: 1\n"),
            ("a: 1\n\n\nb: 2\n", "a: 1\n\nb: 2\n"),
            ("x\n", "y\nz\nx\n"),
            ("", "a\n"),
        ] {
            assert_eq!(apply(before, &line_edits(before, after)), after);
        }
        assert!(line_edits("same\n", "same\n").is_empty());
    }
}
