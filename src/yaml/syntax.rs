//! Error-tolerant syntax trees: tree-sitter-yaml (vendored, see vendor/tree-sitter-yaml/README.md),
//! one tree per document, parsed from the rope without copying and re-parsed incrementally.
//!
//! Trees hold offsets relative to their document's start, so an edit in one document leaves the
//! trees of the others valid as they are.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ops::Range;

use ropey::Rope;
use tree_sitter::{InputEdit, Node, Parser, Point as TsPoint, Tree};

use crate::text::cancel::{Cancel, Cancelled};
use crate::text::{Point, TextEdit};

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new(new_parser());
    /// Progress steps of this thread's parses so far (one per hundred parser operations).
    static STEPS: Cell<usize> = const { Cell::new(0) };
}

fn new_parser() -> Parser {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_yaml::LANGUAGE.into())
        .expect("the vendored tree-sitter-yaml grammar matches the tree-sitter ABI");
    parser
}

/// Parses `range` of `rope` as one YAML stream, reusing `old` (already edited) when given.
pub fn parse(rope: &Rope, range: Range<usize>, old: Option<&Tree>) -> Tree {
    parse_until(rope, range.clone(), old, || false).unwrap_or_else(|| {
        // Only a stopped or timed-out parse returns None, and this one is neither; start over
        // (the parser was reset) rather than fail.
        parse_until(rope, range, None, || false).expect("an unstopped parse returns a tree")
    })
}

/// [`parse`], stopped (`Err`) once `cancel` is set.
pub fn parse_unless(
    rope: &Rope,
    range: Range<usize>,
    old: Option<&Tree>,
    cancel: &Cancel,
) -> Result<Tree, Cancelled> {
    match parse_until(rope, range.clone(), old, || cancel.is_cancelled()) {
        Some(tree) => Ok(tree),
        None => {
            cancel.check()?;
            Ok(parse(rope, range, None))
        }
    }
}

/// [`parse`], with `stop` asked every hundred parser operations: None once it says so.
fn parse_until(
    rope: &Rope,
    range: Range<usize>,
    old: Option<&Tree>,
    stop: impl Fn() -> bool,
) -> Option<Tree> {
    let mut read = |offset: usize, _: TsPoint| -> &[u8] { chunk_from(rope, range.clone(), offset) };
    let mut stop = |_: &tree_sitter::ParseState| {
        STEPS.set(STEPS.get() + 1);
        stop()
    };
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut stop);
    PARSER.with_borrow_mut(|parser| {
        let tree = parser.parse_with_options(&mut read, old, Some(options));
        if tree.is_none() {
            // A stopped parse would be resumed by the next one.
            parser.reset();
        }
        tree
    })
}

/// Progress steps of the parses of the calling thread so far: the parser's work, which tests
/// count.
pub fn parse_steps() -> usize {
    STEPS.get()
}

/// The bytes of `rope` from `range.start + offset` to the end of its chunk, cut at `range.end`.
fn chunk_from(rope: &Rope, range: Range<usize>, offset: usize) -> &[u8] {
    let at = range.start + offset;
    if at >= range.end {
        return &[];
    }
    let (chunk, chunk_start, _, _) = rope.chunk_at_byte(at);
    let end = (range.end - chunk_start).min(chunk.len());
    &chunk.as_bytes()[at - chunk_start..end]
}

/// Tells `tree` (for a document starting at byte `doc_start`, line `doc_line`) about `edit`.
pub fn edit_tree(tree: &mut Tree, edit: &TextEdit, doc_start: usize, doc_line: usize) {
    let point = |p: Point| {
        let row = p.line - doc_line;
        // On the document's first line, columns count from the document's start. Documents start
        // at line starts, so this is the byte column itself.
        TsPoint::new(row, p.byte_column)
    };
    tree.edit(&InputEdit {
        start_byte: edit.start - doc_start,
        old_end_byte: edit.old_end - doc_start,
        new_end_byte: edit.new_end - doc_start,
        start_position: point(edit.start_point),
        old_end_position: point(edit.old_end_point),
        new_end_position: point(edit.new_end_point),
    });
}

/// What a syntax node is, seen through tree-sitter-yaml's wrappers (`block_node`, `flow_node`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeShape {
    Mapping,
    Sequence,
    Scalar,
    Alias,
    /// A node with only properties (`&a`, `!tag`) and no content: null.
    Empty,
}

/// The content node under wrappers and properties: the mapping, sequence, scalar or alias.
pub fn content(node: Node<'_>) -> Option<Node<'_>> {
    let mut node = node;
    loop {
        match node.kind() {
            "block_node" | "flow_node" => {
                let mut cursor = node.walk();
                let inner = node
                    .named_children(&mut cursor)
                    .find(|child| !matches!(child.kind(), "anchor" | "tag" | "comment"));
                node = inner?;
            }
            _ => return Some(node),
        }
    }
}

pub fn shape(node: Node<'_>) -> NodeShape {
    match content(node).map(|n| n.kind()) {
        Some("block_mapping" | "flow_mapping") => NodeShape::Mapping,
        Some("block_sequence" | "flow_sequence") => NodeShape::Sequence,
        Some("alias") => NodeShape::Alias,
        Some("plain_scalar" | "double_quote_scalar" | "single_quote_scalar" | "block_scalar") => {
            NodeShape::Scalar
        }
        _ => NodeShape::Empty,
    }
}

/// The top-level content node of a parsed document, if it has one.
pub fn document_root(tree: &Tree) -> Option<Node<'_>> {
    let stream = tree.root_node();
    let mut cursor = stream.walk();
    let document = stream
        .named_children(&mut cursor)
        .find(|n| n.kind() == "document")?;
    let mut cursor = document.walk();
    document
        .named_children(&mut cursor)
        .find(|n| matches!(n.kind(), "block_node" | "flow_node"))
}

/// A key/value pair of a mapping: `block_mapping_pair`, `flow_pair`, or a bare key in a flow
/// mapping (`{a, b: 1}`).
#[derive(Clone, Copy, Debug)]
pub struct Pair<'t> {
    pub node: Node<'t>,
    pub key: Option<Node<'t>>,
    pub value: Option<Node<'t>>,
}

/// The pairs of a mapping node (any wrapper), in order.
pub fn pairs(mapping: Node<'_>) -> Vec<Pair<'_>> {
    let Some(mapping) = content(mapping) else {
        return Vec::new();
    };
    let mut cursor = mapping.walk();
    mapping
        .named_children(&mut cursor)
        .filter_map(|child| match child.kind() {
            "block_mapping_pair" | "flow_pair" => Some(Pair {
                node: child,
                key: child.child_by_field_name("key"),
                value: child.child_by_field_name("value"),
            }),
            "flow_node" if mapping.kind() == "flow_mapping" => Some(Pair {
                node: child,
                key: Some(child),
                value: None,
            }),
            _ => None,
        })
        .collect()
}

/// The items of a sequence node (any wrapper), in order. Missing items (`- ` with nothing) are None.
pub fn items(sequence: Node<'_>) -> Vec<Option<Node<'_>>> {
    let Some(sequence) = content(sequence) else {
        return Vec::new();
    };
    let mut cursor = sequence.walk();
    sequence
        .named_children(&mut cursor)
        .filter_map(|child| match child.kind() {
            "block_sequence_item" => {
                let mut inner = child.walk();
                let value = child
                    .named_children(&mut inner)
                    .find(|n| matches!(n.kind(), "block_node" | "flow_node"));
                Some(value.or(Some(child)))
            }
            "flow_node" | "flow_pair" => Some(Some(child)),
            _ => None,
        })
        .collect()
}

/// Text of a document by tree offsets: a `&str` in tests and tools, a rope range in the server.
pub trait Source {
    /// The text of `range` (document-relative); empty when out of bounds.
    fn text(&self, range: Range<usize>) -> Cow<'_, str>;
}

impl Source for str {
    fn text(&self, range: Range<usize>) -> Cow<'_, str> {
        Cow::Borrowed(self.get(range).unwrap_or(""))
    }
}

/// A document inside a rope, addressed by document-relative offsets.
#[derive(Clone, Copy)]
pub struct RopeSource<'r> {
    pub rope: &'r Rope,
    pub range: (usize, usize),
}

impl<'r> RopeSource<'r> {
    pub fn new(rope: &'r Rope, range: Range<usize>) -> Self {
        Self {
            rope,
            range: (range.start, range.end),
        }
    }
}

impl Source for RopeSource<'_> {
    fn text(&self, range: Range<usize>) -> Cow<'_, str> {
        let (start, end) = self.range;
        let from = (start + range.start).min(end);
        let to = (start + range.end).min(end).max(from);
        match self.rope.get_byte_slice(from..to) {
            Some(slice) => Cow::from(slice),
            None => Cow::Borrowed(""),
        }
    }
}

/// The text of a scalar node as YAML means it (quotes and escapes resolved, block scalars folded
/// by their indicators, plain multi-line scalars folded).
pub fn scalar_text<S: Source + ?Sized>(node: Node<'_>, source: &S) -> Option<String> {
    let node = content(node)?;
    let raw = source.text(node.byte_range());
    let raw = raw.as_ref();
    Some(match node.kind() {
        "plain_scalar" => fold_plain(raw),
        "single_quote_scalar" => {
            let inner = raw.strip_prefix('\'').unwrap_or(raw);
            fold_plain(inner.strip_suffix('\'').unwrap_or(inner)).replace("''", "'")
        }
        "double_quote_scalar" => unescape_double(raw),
        "block_scalar" => block_scalar(raw),
        _ => return None,
    })
}

/// Joins the lines of a multi-line plain scalar as YAML folding does (one line break → space).
fn fold_plain(raw: &str) -> String {
    if !raw.contains(['\n', '\r']) {
        return raw.to_string();
    }
    let mut out = String::new();
    let mut blank_lines = 0;
    for (i, line) in raw.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if i > 0 {
            if blank_lines == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', blank_lines));
            }
        }
        blank_lines = 0;
        out.push_str(line);
    }
    out
}

fn unescape_double(raw: &str) -> String {
    let inner = raw
        .strip_prefix('"')
        .map(|s| s.strip_suffix('"').unwrap_or(s))
        .unwrap_or(raw);
    let folded = fold_plain(inner);
    let mut out = String::with_capacity(folded.len());
    let mut chars = folded.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some(' ') => out.push(' '),
            Some('e') => out.push('\u{1b}'),
            Some(kind @ ('x' | 'u' | 'U')) => {
                let digits = match kind {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = chars.by_ref().take(digits).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => out.push(decoded),
                    None => out.push('\u{fffd}'),
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The content of a `|` or `>` block scalar.
fn block_scalar(raw: &str) -> String {
    let mut lines = raw.lines();
    let header = lines.next().unwrap_or("");
    let folded = header.starts_with('>');
    let keep = header.contains('+');
    let strip = header.contains('-');
    let body: Vec<&str> = lines.collect();
    let indent = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut text = String::new();
    for (i, line) in body.iter().enumerate() {
        let content = line.get(indent..).unwrap_or("");
        if i > 0 {
            let previous = body[i - 1].get(indent..).unwrap_or("");
            let fold = folded
                && !content.is_empty()
                && !previous.is_empty()
                && !content.starts_with([' ', '\t'])
                && !previous.starts_with([' ', '\t']);
            text.push(if fold { ' ' } else { '\n' });
        }
        text.push_str(content);
    }
    let trimmed = text.trim_end_matches('\n');
    match (keep, strip) {
        (true, _) => format!("{text}\n"),
        (_, true) => trimmed.to_string(),
        _ if trimmed.is_empty() => String::new(),
        _ => format!("{trimmed}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> (Rope, Tree) {
        let rope = Rope::from_str(text);
        let tree = parse(&rope, 0..text.len(), None);
        (rope, tree)
    }

    #[test]
    fn parses_a_manifest_without_errors() {
        let (_, tree) = tree("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n");
        assert!(!tree.root_node().has_error());
        let root = document_root(&tree).unwrap();
        assert_eq!(shape(root), NodeShape::Mapping);
        assert_eq!(pairs(root).len(), 3);
    }

    #[test]
    fn parses_documents_longer_than_32768_lines() {
        // Upstream tree-sitter-yaml's scanner wraps its int16 row past line 32,767 and turns the
        // whole input into one ERROR node; the vendored scanner keeps rows in 32 bits.
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\ndata:\n");
        for i in 0..40_000 {
            text.push_str(&format!("  key{i}: value {i}\n"));
        }
        let (_, tree) = tree(&text);
        assert!(!tree.root_node().has_error());
        let data = pairs(document_root(&tree).unwrap())[2].value.unwrap();
        assert_eq!(pairs(data).len(), 40_000);
    }

    #[test]
    fn deep_nesting_parses_without_crashing() {
        // Past ~1,000 open block levels (a byte each) the scanner's serialized state is cut
        // short, so the parse has errors; it must still end, with a tree.
        let block: String = (0..2000)
            .map(|d| format!("{}k:\n", " ".repeat(d)))
            .collect();
        let flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        for text in [block, flow] {
            let (_, tree) = tree(&text);
            assert!(tree.root_node().end_byte() > 0);
        }
        let (_, shallow) = tree(
            &(0..200)
                .map(|d| format!("{}k:\n", " ".repeat(d)))
                .collect::<String>(),
        );
        assert!(!shallow.root_node().has_error());
    }

    /// Applies a client's edit to `document` and re-parses `tree` incrementally, asserting that
    /// the result is the tree a fresh parse gives (`context` names the edit); returns how many
    /// tokens the incremental parse lexed.
    fn reparse_after(
        document: &mut crate::text::TextDocument,
        tree: &mut Tree,
        range: std::ops::Range<crate::text::Position>,
        insert: &str,
        context: &dyn Fn() -> String,
    ) -> usize {
        let edit = document.apply_change(Some(range), insert, crate::text::PositionEncoding::Utf8);
        edit_tree(tree, &edit, 0, 0);
        let len = document.rope().len_bytes();
        let (reparsed, lexed) = tokens_lexed(|| parse(document.rope(), 0..len, Some(&*tree)));
        *tree = reparsed;
        let fresh = parse(document.rope(), 0..len, None);
        assert_eq!(
            tree.root_node().to_sexp(),
            fresh.root_node().to_sexp(),
            "{}",
            context()
        );
        lexed
    }

    /// The scanner keeps its state in the tree in a compact form (varints, indentation levels as
    /// differences): an incremental re-parse restarts it from those states, so re-parses after
    /// edits deep inside a long document must give the tree a fresh parse gives.
    #[test]
    fn incremental_reparses_of_deep_long_documents_match_fresh_parses() {
        use crate::text::{Position, TextDocument};
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\ndata:\n");
        for i in 0..33_000 {
            text.push_str(&format!("  key{i}: value {i}\n"));
        }
        text.push_str("spec:\n");
        for depth in 1..60 {
            let indent = "  ".repeat(depth);
            text.push_str(&format!(
                "{indent}level{depth}:\n{indent}  - item: {depth}\n"
            ));
            text.push_str(&format!(
                "{indent}  - text: |\n{indent}      block {depth}\n"
            ));
            text.push_str(&format!("{indent}  name{depth}: n\n"));
        }
        let mut document = TextDocument::new(&text, 0);
        let mut tree = parse(document.rope(), 0..text.len(), None);
        let lines = document.rope().len_lines() as u32;
        let edits = [
            (lines - 20, 4, "x: 1\n    "),
            (lines - 60, 0, "  "),
            (16_000, 2, "k"),
            (lines - 30, 0, "#"),
        ];
        for (line, column, insert) in edits {
            let at = Position::new(line, column);
            let context = || format!("after inserting {insert:?} at {line}:{column}");
            reparse_after(&mut document, &mut tree, at..at, insert, &context);
        }
    }

    /// How many tokens tree-sitter lexes while `parse` runs.
    fn tokens_lexed(parse: impl FnOnce() -> Tree) -> (Tree, usize) {
        let lexed = std::rc::Rc::new(std::cell::Cell::new(0));
        let counter = lexed.clone();
        PARSER.with_borrow_mut(|parser| {
            parser.set_logger(Some(Box::new(move |kind, message| {
                if kind == tree_sitter::LogType::Parse && message.starts_with("lexed_lookahead") {
                    counter.set(counter.get() + 1);
                }
            })))
        });
        let tree = parse();
        PARSER.with_borrow_mut(|parser| parser.set_logger(None));
        (tree, lexed.get())
    }

    /// The scanner's state holds no absolute row, so after lines are added or removed the
    /// tokens below keep their states and tree-sitter reuses them: the re-parse lexes around the
    /// edit, not the rest of the document.
    #[test]
    fn a_line_added_or_removed_above_leaves_the_rest_of_a_long_document_unlexed() {
        use crate::text::{Position, TextDocument};
        let mut text = String::from("kind: CustomResourceDefinition\nspec:\n  versions:\n");
        for i in 0..2_000 {
            text.push_str(&format!(
                "    - name: v{i}\n      schema:\n        properties:\n          field{i}:\n            type: string\n            description: |\n              text {i}\n            enum: [a, b]\n"
            ));
        }
        let mut document = TextDocument::new(&text, 0);
        let (mut tree, fresh_tokens) = tokens_lexed(|| parse(document.rope(), 0..text.len(), None));
        for (line, column, insert, delete_line) in [
            (3, 0, "    - name: extra\n", 0),
            (3, 0, "", 1),
            (6, 17, "x", 0),
            (9, 0, "            # a comment\n", 0),
        ] {
            let at = Position::new(line, column);
            let range = if delete_line == 1 {
                at..Position::new(line + 1, 0)
            } else {
                at..at
            };
            let context = || format!("after {insert:?} at line {line}");
            let lexed = reparse_after(&mut document, &mut tree, range, insert, &context);
            assert!(
                lexed * 100 < fresh_tokens,
                "{lexed} of {fresh_tokens} tokens lexed again after {insert:?} at line {line}"
            );
        }
    }

    /// Random edits (lines added, removed, characters typed and deleted) over varied YAML: each
    /// incremental re-parse gives the tree a fresh parse gives.
    #[test]
    fn incremental_reparses_after_random_edits_match_fresh_parses() {
        use crate::text::{Position, TextDocument};
        let text = "a: 1\nlist:\n  - x\n  - {k: v, n: [1, 2]}\n  - |\n    block\n\n    more\nanchor: &a\n  deep:\n    key: 'quoted\n      on lines'\n    other: \"d\"\nalias: *a\n? complex\n: value\n# comment\nend: ~\n---\nsecond: [a,\n  b]\nplain: multi\n  line text\n";
        let pieces = [
            "k: v\n", "  ", "- ", "{", "]", "'", "\"", "#", ":", "\n", "x", "|\n", "&b ", "*a",
        ];
        let mut document = TextDocument::new(&text.repeat(4), 0);
        let mut tree = parse(document.rope(), 0..document.rope().len_bytes(), None);
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below.max(1) as u64) as usize
        };
        for step in 0..400 {
            let rope = document.rope().clone();
            let line = next(rope.len_lines());
            let line_len = rope.line(line).len_bytes();
            let column = next(line_len + 1).min(line_len);
            let at = Position::new(line as u32, column as u32);
            let (range, insert) = match next(3) {
                0 if line + 1 < rope.len_lines() => (at..Position::new(line as u32 + 1, 0), ""),
                1 if column < line_len => (at..Position::new(line as u32, column as u32 + 1), ""),
                _ => (at..at, pieces[next(pieces.len())]),
            };
            let before = document.rope().clone();
            let context = || format!("step {step}, {insert:?} at {line}:{column} of:\n{before}");
            reparse_after(&mut document, &mut tree, range, insert, &context);
        }
    }

    #[test]
    fn the_tree_reads_only_its_range_of_the_rope() {
        let text = "a: 1\n---\nb: 2\n";
        let rope = Rope::from_str(text);
        let tree = parse(&rope, 5..text.len(), None);
        let root = document_root(&tree).unwrap();
        let key = pairs(root)[0].key.unwrap();
        assert_eq!(
            scalar_text(key, &RopeSource::new(&rope, 5..text.len())).unwrap(),
            "b"
        );
    }

    #[test]
    fn scalar_texts() {
        let text = "a: plain\nb: 'it''s'\nc: \"tab\\there\\u00e9\"\nd: |\n  line1\n  line2\ne: >-\n  folded\n  text\nf: multi\n  line\n";
        let (_, tree) = tree(text);
        let values: Vec<String> = pairs(document_root(&tree).unwrap())
            .iter()
            .map(|p| scalar_text(p.value.unwrap(), text).unwrap())
            .collect();
        assert_eq!(
            values,
            [
                "plain",
                "it's",
                "tab\thereé",
                "line1\nline2\n",
                "folded text",
                "multi line"
            ]
        );
    }
}
