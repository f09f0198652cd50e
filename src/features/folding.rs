//! Folding ranges: each document, and each key or list item whose value spans several lines.

use ropey::Rope;
use tree_sitter::Tree;

use crate::yaml::file::YamlFile;

/// A foldable range of lines (zero-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fold {
    pub start_line: usize,
    pub end_line: usize,
}

/// Folding ranges of the whole file, sorted.
pub fn folding_ranges(file: &mut YamlFile, rope: &Rope) -> Vec<Fold> {
    let mut folds = Vec::new();
    for index in 0..file.documents().len() {
        let range = file.documents()[index].range();
        let first_line = rope.byte_to_line(range.start);
        let last_line = last_line_of(rope, range.start, range.end);
        if file.documents().len() > 1 && last_line > first_line {
            folds.push(Fold {
                start_line: first_line,
                end_line: last_line,
            });
        }
        if let Some(tree) = file.tree(rope, index) {
            collect_folds(tree, first_line, &mut folds);
        }
    }
    folds.sort();
    folds.dedup();
    folds
}

/// Pairs and sequence items spanning lines, found with one iterative walk of the tree.
fn collect_folds(tree: &Tree, first_line: usize, folds: &mut Vec<Fold>) {
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        if matches!(
            node.kind(),
            "block_mapping_pair" | "block_sequence_item" | "flow_mapping" | "flow_sequence"
        ) {
            let start = node.start_position().row;
            // A node's end position is just past its last character; a trailing line break puts
            // it at column 0 of the next line.
            let end = node.end_position();
            let end_row = if end.column == 0 {
                end.row.saturating_sub(1)
            } else {
                end.row
            };
            if end_row > start {
                folds.push(Fold {
                    start_line: first_line + start,
                    end_line: first_line + end_row,
                });
            }
        }
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// The line of the last non-line-break character in `start..end`.
fn last_line_of(rope: &Rope, start: usize, end: usize) -> usize {
    let mut last = end;
    while last > start && matches!(rope.byte(last - 1), b'\n' | b'\r') {
        last -= 1;
    }
    rope.byte_to_line(last.max(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folds(text: &str) -> Vec<(usize, usize)> {
        let rope = Rope::from_str(text);
        let mut file = YamlFile::open(&rope);
        folding_ranges(&mut file, &rope)
            .into_iter()
            .map(|f| (f.start_line, f.end_line))
            .collect()
    }

    #[test]
    fn folds_multi_line_values_and_documents() {
        let text = "a: 1\nmetadata:\n  name: x\n  labels:\n    app: y\n---\nlist:\n- one\n- two: 2\n  three: 3\n";
        assert_eq!(
            folds(text),
            [(0, 4), (1, 4), (3, 4), (5, 9), (6, 9), (8, 9)]
        );
    }

    #[test]
    fn a_single_line_document_has_no_folds() {
        assert!(folds("a: 1\n").is_empty());
    }
}
