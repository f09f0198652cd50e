//! The folds of a document read from its tree-sitter tree (one saphyr rejects), kept with the
//! tree they were read from. After edits, only the nodes that touch what changed are read
//! again: the edits' region together with tree-sitter's changed ranges between the kept tree
//! (edited along) and the current one. Outside those ranges every character has the same
//! ancestors in both trees, so a node that does not touch them is in both trees, at the same
//! place before them and moved by the edits after them, and so are its folds.

use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;
use tree_sitter::{Node, Tree};

use super::super::folding::{Fold, FoldSummary};
use super::splice::Dirty;
use crate::text::TextEdit;
use crate::yaml::syntax;

/// A node's fold and where the node is (bytes of the document).
#[derive(Clone, Copy, Debug)]
struct NodeFold {
    start: usize,
    end: usize,
    fold: Fold,
}

/// A document's tree folds, the tree they were read from (edited along the edits since) and
/// those edits.
pub(in crate::features) struct TreeFolds {
    tree: Tree,
    nodes: Vec<NodeFold>,
    summary: Arc<FoldSummary>,
    /// The edits since the folds were read: where they replaced text, how many bytes and lines
    /// longer they made it.
    edited: Option<Dirty>,
    line_delta: isize,
    /// Nodes read from the tree when the folds were made (for tests).
    pub nodes_read: usize,
}

impl TreeFolds {
    /// The folds of `tree`, read whole.
    pub(super) fn read(tree: &Tree) -> Self {
        let mut nodes = Vec::new();
        let nodes_read = walk(tree, |_| true, &mut nodes);
        Self::made(tree, nodes, nodes_read)
    }

    fn made(tree: &Tree, nodes: Vec<NodeFold>, nodes_read: usize) -> Self {
        let summary = Arc::new(FoldSummary::new(nodes.iter().map(|n| n.fold).collect()));
        TreeFolds {
            tree: tree.clone(),
            nodes,
            summary,
            edited: None,
            line_delta: 0,
            nodes_read,
        }
    }

    pub(super) fn summary(&self) -> Arc<FoldSummary> {
        self.summary.clone()
    }

    /// Whether edits were made since the folds were read.
    pub(super) fn is_stale(&self) -> bool {
        self.edited.is_some()
    }

    /// Follows an edit of the document starting at `doc_start` (`rope`: the text after it).
    pub(super) fn note_edit(&mut self, edit: &TextEdit, doc_start: usize, rope: &Rope) {
        let doc_line = rope.byte_to_line(doc_start);
        syntax::edit_tree(&mut self.tree, edit, doc_start, doc_line);
        self.edited = Some(Dirty::after(self.edited.take(), edit, doc_start));
        self.line_delta += edit.new_end_point.line as isize - edit.old_end_point.line as isize;
    }

    /// The folds of `tree`, the document's current tree: those of the nodes away from what
    /// changed kept (moved past it), the others read again.
    pub(super) fn updated(self, tree: &Tree) -> Self {
        let Some(edited) = &self.edited else {
            return self;
        };
        let (start, end) = self
            .tree
            .changed_ranges(tree)
            .fold(edited.new_range(), |(start, end), r| {
                (start.min(r.start_byte), end.max(r.end_byte))
            });
        let (bytes, lines) = (edited.delta(), self.line_delta);
        let old_end = end.saturating_add_signed(-bytes);
        let mut nodes: Vec<NodeFold> = (self.nodes.iter())
            .filter(|n| n.end < start || n.start > old_end)
            .map(|&n| match n.start > old_end {
                true => n.moved(bytes, lines),
                false => n,
            })
            .collect();
        let nodes_read = walk(
            tree,
            |node| node.end >= start && node.start <= end,
            &mut nodes,
        );
        Self::made(tree, nodes, nodes_read)
    }
}

impl NodeFold {
    fn moved(self, bytes: isize, lines: isize) -> Self {
        NodeFold {
            start: self.start.saturating_add_signed(bytes),
            end: self.end.saturating_add_signed(bytes),
            fold: Fold {
                start_line: self.fold.start_line.saturating_add_signed(lines),
                end_line: self.fold.end_line.saturating_add_signed(lines),
            },
        }
    }
}

/// Pairs and sequence items spanning lines, among the nodes `wanted` takes (their descendants
/// are left out with them), found with one iterative walk of the tree, which skips nodes on
/// one line (most pairs: no fold can be inside them, and the time goes into tree-sitter's
/// cursor, node by node). How many nodes it read.
fn walk(tree: &Tree, wanted: impl Fn(&Range<usize>) -> bool, found: &mut Vec<NodeFold>) -> usize {
    let mut cursor = tree.walk();
    let mut read = 0;
    loop {
        let node = cursor.node();
        read += 1;
        let range = node.byte_range();
        let taken = wanted(&range);
        let fold = taken.then(|| fold_of(node)).flatten();
        if let Some(fold) = fold.filter(|_| folds(node)) {
            found.push(NodeFold {
                start: range.start,
                end: range.end,
                fold,
            });
        }
        if fold.is_some() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return read;
            }
        }
    }
}

/// The lines a node spans, when they are more than one.
fn fold_of(node: Node<'_>) -> Option<Fold> {
    let start = node.start_position().row;
    // A node's end position is just past its last character; a trailing line break puts it
    // at column 0 of the next line.
    let end = node.end_position();
    let end_row = match end.column {
        0 => end.row.saturating_sub(1),
        _ => end.row,
    };
    (end_row > start).then_some(Fold {
        start_line: start,
        end_line: end_row,
    })
}

/// Whether a node spanning lines is a fold.
fn folds(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "block_mapping_pair" | "block_sequence_item" | "flow_mapping" | "flow_sequence"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::outline::{OutlineCache, OutlineSource};
    use crate::text::cancel::Cancel;
    use crate::text::random_text::{PIECES, Rng, boundary};
    use crate::text::{Position, PositionEncoding, TextDocument};
    use crate::yaml::file::YamlFile;

    /// A text and its documents as the open-document model keeps them.
    struct Open {
        text: TextDocument,
        file: YamlFile,
        cache: OutlineCache,
    }

    impl Open {
        fn new(text: &str) -> Open {
            let text = TextDocument::new(text, 1);
            let file = YamlFile::open(text.rope());
            Open {
                text,
                file,
                cache: OutlineCache::default(),
            }
        }

        /// Replaces bytes `at..end` with `new`.
        fn edit(&mut self, at: usize, end: usize, new: &str) {
            let rope = self.text.rope();
            let position = |at: usize| {
                let line = rope.byte_to_line(at);
                Position::new(line as u32, (at - rope.line_to_byte(line)) as u32)
            };
            let range = position(at)..position(end);
            let edit = self
                .text
                .apply_change(Some(range), new, PositionEncoding::Utf8);
            self.file.apply_edit(self.text.rope(), &edit);
            self.cache.note_edit(&edit, self.text.rope());
        }

        /// One pass over the documents: each answered from its tree has the folds a whole read of
        /// its tree finds. How many were.
        fn assert_fresh(&mut self, what: &str) -> usize {
            let rope = self.text.rope().clone();
            self.cache.begin_pass();
            let mut compared = 0;
            for index in 0..self.file.documents().len() {
                if let Ok(OutlineSource::Tree(Some(tree))) =
                    self.cache
                        .source(&mut self.file, &rope, index, &Cancel::default())
                {
                    let fresh = TreeFolds::read(tree).summary();
                    assert_eq!(self.cache.tree_folds(Some(tree)), fresh, "{what}");
                    compared += 1;
                }
            }
            self.cache.end_pass();
            compared
        }
    }

    /// Pieces typed that leave the structure around them as it was.
    const TYPED: &[&str] = &[
        "x",
        "\n",
        "  ",
        "- ",
        ": ",
        "key: value\n",
        " # note\n",
        "[",
        "\"",
    ];

    /// The biggest document of argocd's install.yaml (its big CRD), cut to `lines` lines.
    fn big_document(lines: usize) -> String {
        let text = crate::yaml::corpus::read("real/argocd-install.yaml");
        let rope = ropey::Rope::from_str(&text);
        let file = YamlFile::open(&rope);
        let range = (file.documents().iter())
            .map(|d| d.range())
            .max_by_key(|r| r.len())
            .unwrap();
        text[range]
            .lines()
            .take(lines)
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn edits_of_a_broken_document_read_only_the_tree_around_them() {
        let mut open = Open::new(&big_document(usize::MAX));
        let text = open.text.rope().to_string();
        // An opening quote before a value deep in the document: saphyr rejects the rest.
        let line_start = text.match_indices('\n').nth(9_977).unwrap().0 + 1;
        let value = line_start + text[line_start..].find(": ").unwrap() + 2;
        open.edit(value, value, "\"");
        assert_eq!(open.assert_fresh("broken"), 1);
        let whole = open.cache.tree_nodes_read;
        let line_end = value + text[value..].find('\n').unwrap() + 1;
        for round in 0..10 {
            open.edit(line_end, line_end, "x");
            assert_eq!(open.assert_fresh(&format!("x typed, round {round}")), 1);
            open.edit(line_end, line_end + 1, "");
            assert_eq!(open.assert_fresh(&format!("x deleted, round {round}")), 1);
            open.edit(line_end, line_end, "\n");
            assert_eq!(open.assert_fresh(&format!("line added, round {round}")), 1);
            open.edit(line_end, line_end + 1, "");
            assert_eq!(
                open.assert_fresh(&format!("line deleted, round {round}")),
                1
            );
        }
        assert_eq!(open.cache.tree_folded, 41);
        let per_edit = (open.cache.tree_nodes_read - whole) / 40;
        assert!(
            per_edit * 50 < whole,
            "{per_edit} nodes read per edit, {whole} for the whole tree"
        );
    }

    #[test]
    fn tree_folds_after_random_edits_of_a_broken_document_are_a_whole_read_s() {
        let text = big_document(1_500);
        // What keeps tree-sitter's structure after the edit (it recovers from a bracket or a
        // quote on one line, not from a NUL, after which it reads nothing), or anything.
        for (seed, anything) in [(3, false), (5, false), (8, true)] {
            let mut open = Open::new(&text);
            // An unclosed flow sequence near the end: saphyr rejects the document most of the
            // time; tree-sitter's tree keeps the structure before it (random edits before an
            // error often flatten what follows them).
            let at = text.rmatch_indices(": ").nth(20).unwrap().0 + 2;
            open.edit(at, at, "[");
            let mut rng = Rng::new(seed);
            let mut compared = 0;
            for round in 0..200 {
                let current = open.text.rope().to_string();
                let at = boundary(&current, rng.below(current.len()));
                // Half the time at the end of that line, where typing usually is.
                let at = match rng.below(2) {
                    0 => at,
                    _ => at + current[at..].find('\n').unwrap_or(current.len() - at),
                };
                let end = boundary(&current, at + rng.below(3) * rng.below(4));
                let new = match anything {
                    true => PIECES[rng.below(PIECES.len())],
                    false => TYPED[rng.below(TYPED.len())],
                };
                open.edit(at, end, new);
                compared +=
                    open.assert_fresh(&format!("seed {seed} round {round}: {new:?} at {at}"));
            }
            assert!(compared > 100, "{compared} tree folds compared");
        }
    }
}
