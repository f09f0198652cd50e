//! A document an edit broke (an opening quote typed: the rest of it reads as a string), and the
//! edit that mends it. The document keeps its last clean state ([`LastGood`]) meanwhile: while it
//! is broken, its syntax error is found by checking it from the block mapping around the edits on
//! (its ancestors stood in for by one line each) when that is sure to say what a check of the
//! whole document would; once it parses again, it is re-parsed against the clean tree, so only
//! what differs from that state is checked again.

use std::ops::Range;

use ropey::Rope;
use tree_sitter::{Node, Tree};

use super::{Changes, YamlDocument, recheck, text_of};
use crate::diagnostic::Diagnostic;
use crate::text::TextEdit;
use crate::yaml::spans::push_key_line;
use crate::yaml::{lint, syntax};

/// A document's last clean tree and YAML diagnostics, followed along the edits made since the
/// document broke. When an edit mends it (an opening quote deleted again), the text is re-parsed
/// against this tree: tree-sitter then reports as changed only what differs from the clean state,
/// not everything the broken text read differently, and the YAML diagnostics and the layers
/// above are redone only there.
#[derive(Debug)]
pub(super) struct LastGood {
    pub(super) tree: Tree,
    /// The YAML diagnostics of the clean state (document offsets), moved along.
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Where the edits since touched the text (document offsets of the current text).
    pub(super) edited: Range<usize>,
    /// What had changed before the document broke that the layers above had not asked for yet.
    pub(super) pending: Changes,
}

impl LastGood {
    pub(super) fn follow(&mut self, edit: &TextEdit, doc_start: usize, doc_line: usize) {
        syntax::edit_tree(&mut self.tree, edit, doc_start, doc_line);
        for diagnostic in &mut self.diagnostics {
            diagnostic.follow_edit(edit, doc_start);
        }
        let touched = edit.start - doc_start..edit.new_end - doc_start;
        let edited = edit.map_range(&self.edited, doc_start);
        self.edited = edited.start.min(touched.start)..edited.end.max(touched.end);
        self.pending =
            std::mem::replace(&mut self.pending, Changes::Nowhere).moved(edit, doc_start);
    }
}

/// A mended document ([`LastGood`]), `tree` re-parsed against its last clean tree and `changed`
/// where the two differ: its YAML diagnostics and changes redone only there. Whether it was
/// checked whole.
pub(super) fn mend(
    document: &mut YamlDocument,
    rope: &Rope,
    last_good: LastGood,
    (tree, changed): (Tree, Range<usize>),
    whole_recheck_limit: usize,
) -> bool {
    let edited = last_good.edited;
    document.changes = match last_good.pending {
        Changes::Nowhere => Changes::Within(changed.clone()),
        Changes::Within(before) => {
            Changes::Within(before.start.min(changed.start)..before.end.max(changed.end))
        }
        Changes::Anywhere => Changes::Anywhere,
    };
    let kept = last_good
        .diagnostics
        .into_iter()
        .filter(|d| d.range.end <= edited.start || d.range.start >= edited.end)
        .collect();
    // A character saphyr rejects where tree-sitter does not (a NUL) makes it check whole.
    let start = document.range.start;
    let unprintable = text_of(rope, start + edited.start..start + edited.end)
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7f);
    let whole = recheck(
        document,
        rope,
        kept,
        unprintable,
        changed,
        &tree,
        whole_recheck_limit,
    );
    document.tree = Some(tree);
    whole
}

/// The YAML diagnostics of the broken document at `range` of `rope`, from a saphyr check of its
/// text from the block mapping of its last clean tree that holds the edits on, after one line
/// per ancestor of that mapping (so the check reads the same tokens in the same states as one of
/// the whole document from there on, and the text before it is unchanged since it was clean).
/// `None` (check it whole) when the document has a tab (whose diagnostics a whole check finds
/// anywhere), an alias whose anchor came before, or a repeated key between the mapping and the
/// error.
pub(super) fn check_around(
    rope: &Rope,
    range: Range<usize>,
    last_good: &LastGood,
) -> Option<Vec<Diagnostic>> {
    let mapping = block_mapping_holding(last_good.tree.root_node(), last_good.edited.start)?;
    // The text before the mapping is the clean state's.
    let text = |node: Node<'_>| {
        text_of(
            rope,
            range.start + node.start_byte()..range.start + node.end_byte(),
        )
    };
    let around = MappingAround {
        start: mapping.start_byte(),
        column: mapping.start_position().column,
        ancestors: ancestor_lines(mapping, text)?,
    };
    check_from(rope, range, &around, &last_good.diagnostics)
}

/// The block mapping of a document's last clean state that holds the edits since: where it
/// starts, its column, and one synthetic line per ancestor (see [`check_around`]).
pub(super) struct MappingAround {
    pub(super) start: usize,
    pub(super) column: usize,
    pub(super) ancestors: String,
}

/// [`check_around`] from the mapping `around`, `clean` the YAML diagnostics of the clean state
/// (moved along the edits since).
pub(super) fn check_from(
    rope: &Rope,
    range: Range<usize>,
    around: &MappingAround,
    clean: &[Diagnostic],
) -> Option<Vec<Diagnostic>> {
    let document = rope.get_byte_slice(range.clone())?;
    if document
        .chunks()
        .any(|chunk| memchr::memchr(b'\t', chunk.as_bytes()).is_some())
    {
        return None;
    }
    let column = around.column;
    let mapping_start = around.start;
    let line_start = mapping_start.checked_sub(column)?;
    // Only indentation and sequence indicators before the mapping on its line.
    let lead = text_of(rope, range.start + line_start..range.start + mapping_start);
    if !lead.bytes().all(|b| b == b' ' || b == b'-') {
        return None;
    }
    // The mapping's ancestors stand in as one synthetic line each (a key, or a sequence item):
    // the lines after the mapping that are indented less land in them as in the document, and
    // the check can go on to the document's end.
    let ancestors = &around.ancestors;
    let mut window = ancestors.clone();
    window.push_str(&" ".repeat(column));
    window.push_str(&text_of(rope, range.start + mapping_start..range.end));
    let padding = ancestors.len() + column;
    let checked = lint::check(&window);
    let error = checked
        .diagnostics
        .iter()
        .find(|d| d.code == crate::diagnostic::codes::SYNTAX)?;
    let to_document = |at: usize| at + mapping_start - padding;
    if error.range.start < padding || error.message.contains("is not defined: no anchor") {
        return None;
    }
    let error_at = to_document(error.range.start);
    // A repeated key of an ancestor between the mapping and the error is seen by a whole check
    // only: leave such a document to it.
    let repeated_between = clean.iter().any(|d| {
        d.code == crate::diagnostic::codes::DUPLICATE_KEY
            && (line_start..error_at).contains(&d.range.start)
    });
    if repeated_between {
        return None;
    }
    let mut diagnostics: Vec<Diagnostic> = clean
        .iter()
        .filter(|d| d.range.end <= line_start)
        .cloned()
        .collect();
    diagnostics.extend(
        checked
            .diagnostics
            .into_iter()
            .filter(|d| d.range.start >= padding)
            .map(|d| d.shifted(mapping_start as isize - padding as isize)),
    );
    Some(diagnostics)
}

/// The lines of the block mapping pairs and sequence items above `mapping`, outermost first,
/// each at its column: for a pair, the keys of its mapping up to its own as `key:` (a key the
/// edits repeat in an ancestor is then seen), for an item `-`. `text` gives a node's text.
/// `None` when an ancestor is of another kind that holds blocks (none should), or a key has no
/// text on one line.
fn ancestor_lines<'t>(
    mapping: Node<'_>,
    text: impl Fn(Node<'_>) -> std::borrow::Cow<'t, str>,
) -> Option<String> {
    let mut levels = Vec::new();
    let mut node = mapping.parent();
    while let Some(n) = node {
        match n.kind() {
            "block_mapping_pair" => {
                let mut keys = String::new();
                let pairs = std::iter::successors(Some(n), |pair| pair.prev_named_sibling());
                let pairs: Vec<Node<'_>> = pairs.filter(|pair| pair.kind() == n.kind()).collect();
                for pair in pairs.into_iter().rev() {
                    let key = pair.child_by_field_name("key")?;
                    push_key_line(&mut keys, pair.start_position().column, &text(key))?;
                }
                levels.push(keys);
            }
            "block_sequence_item" => {
                levels.push(" ".repeat(n.start_position().column) + "-\n");
            }
            "block_node" | "block_mapping" | "block_sequence" | "document" | "stream" => {}
            _ => return None,
        }
        node = n.parent();
    }
    Some(levels.into_iter().rev().collect())
}

/// The innermost block mapping of `root` that starts before `offset` and holds it.
fn block_mapping_holding(root: Node<'_>, offset: usize) -> Option<Node<'_>> {
    let mut node = root.descendant_for_byte_range(offset, offset);
    while let Some(n) = node {
        if n.kind() == "block_mapping" && n.start_byte() < offset && offset <= n.end_byte() {
            return Some(n);
        }
        node = n.parent();
    }
    None
}
