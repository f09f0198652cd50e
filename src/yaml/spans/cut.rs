//! One big document parsed as two parts on two threads, then joined into the tree a whole parse
//! gives.
//!
//! saphyr's pass is sequential, and argocd's 1.4 MB CRD document is most of the time a file takes
//! to open. So the opener cuts out a run of sibling entries of one block mapping (lines
//! `[start, end)`, each entry's key at column `indent`), parses that run on its own on one thread
//! and the document without it on another, and grafts the run's entries back between their
//! neighbours. A line scan picks the cut from indentation alone; the two trees then prove it: the
//! line after the cut must be a key of a block mapping (at the same column), the run must
//! parse as one block mapping at that column, both lines must start with the key (no `- `
//! before it), and neither part may hold an alias (its anchor could
//! be on the other side) or an error. Anything else falls back to a whole parse, so the result is
//! always the whole parse's tree (tests compare them node by node over the corpus).

use std::ops::Range;

use super::splice::shifted;
use super::{NONE, SpanKind, SpanRef, SpanTree, TreeText};

/// Lines of a document that hold whole entries of one block mapping, keys at column `indent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cut {
    pub lines: Range<usize>,
    pub indent: usize,
}

impl Cut {
    /// The document without the cut lines: what the other thread parses.
    pub fn outer_text(&self, text: &str) -> String {
        let mut outer = String::with_capacity(text.len() - self.lines.len());
        outer.push_str(&text[..self.lines.start]);
        outer.push_str(&text[self.lines.end..]);
        outer
    }

    /// The cut lines.
    pub fn inner_text<'t>(&self, text: &'t str) -> &'t str {
        &text[self.lines.clone()]
    }
}

/// A cut of `text` whose lines come closest to `want` bytes, among the sibling entries of the
/// mappings that enclose the line at byte `around`; None when the best is under half of `want`
/// or the document has directives (`%TAG` changes what tags mean, and the cut part would not see
/// it).
pub fn find_cut(text: &str, around: usize, want: usize) -> Option<Cut> {
    if text.starts_with('%') || text.contains("\n%") {
        return None;
    }
    let around = text[..around.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let bytes = text.as_bytes();
    // Walking out from the middle line, a line indented no deeper than every line between is an
    // entry of a mapping (or sequence) that encloses it: the siblings of that level.
    let mut siblings: Vec<(usize, usize)> = Vec::new(); // (indent, line start), keys only
    let before = memchr::memrchr_iter(b'\n', &bytes[..around.saturating_sub(1)]).map(|i| i + 1);
    let first_line = (around > 0).then_some(0);
    entries_out_from(bytes, before.chain(first_line), &mut siblings);
    let after = memchr::memchr_iter(b'\n', &bytes[around..]).map(|i| around + i + 1);
    entries_out_from(bytes, std::iter::once(around).chain(after), &mut siblings);
    siblings.sort_unstable();
    let mut best: Option<Cut> = None;
    for level in siblings.chunk_by(|a, b| a.0 == b.0) {
        let indent = level[0].0;
        for (i, &(_, start)) in level.iter().enumerate() {
            // The sibling after `start` whose distance is closest to `want`.
            let rest = &level[i + 1..];
            let at = rest.partition_point(|&(_, end)| end - start < want);
            for &(_, end) in &rest[at.saturating_sub(1)..(at + 1).min(rest.len())] {
                let better = best
                    .as_ref()
                    .is_none_or(|b| (end - start).abs_diff(want) < b.lines.len().abs_diff(want));
                if better {
                    best = Some(Cut {
                        lines: start..end,
                        indent,
                    });
                }
            }
        }
    }
    best.filter(|cut| cut.lines.len() * 2 >= want)
}

/// Adds to `siblings` the key lines among `line_starts` (walking away from the middle) that are
/// indented no deeper than any content line walked before them.
fn entries_out_from(
    bytes: &[u8],
    line_starts: impl Iterator<Item = usize>,
    siblings: &mut Vec<(usize, usize)>,
) {
    let mut shallowest = usize::MAX;
    for start in line_starts {
        let line = &bytes[start..];
        // Only the first `shallowest + 1` bytes decide whether the line is that shallow.
        let limit = shallowest.saturating_add(1).min(line.len());
        let Some(indent) = line[..limit].iter().position(|&b| b != b' ') else {
            continue;
        };
        let first = line[indent];
        if matches!(first, b'\n' | b'\r' | b'#') {
            continue; // blank or a comment
        }
        shallowest = indent;
        let rest = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
        let is_key = (first.is_ascii_alphanumeric() || matches!(first, b'_' | b'"' | b'\''))
            && memchr::memchr(b':', rest).is_some();
        if is_key {
            siblings.push((indent, start));
        }
    }
}

/// Where the cut's entries go back into the tree of the document without them: the key that
/// follows the cut, and its block mapping.
#[derive(Clone, Copy, Debug)]
pub struct Seam {
    mapping: u32,
    key: u32,
}

impl Seam {
    /// Whether `node` is the mapping the cut entries belong to.
    pub fn is_mapping(&self, node: SpanRef<'_>) -> bool {
        node.id() == self.mapping
    }
}

impl SpanTree {
    /// For the tree of [`Cut::outer_text`]: where the cut's entries go, if this tree proves
    /// that they can go there (one document, no alias, the line after the cut a key of a block
    /// mapping at the cut's column).
    pub fn seam(&self, cut: &Cut) -> Option<Seam> {
        let outer_text = self.text.as_str();
        let fits = self.roots.len() == 1
            && !self.has_alias()
            && starts_at_column(outer_text, cut.lines.start, cut.indent);
        let seam = self.block_key_at(outer_text, cut.lines.start + cut.indent);
        seam.filter(|_| fits)
    }

    /// For the tree of [`Cut::inner_text`]: whether it holds whole entries of one block
    /// mapping at the cut's column, and no alias.
    pub fn fits_cut(&self, cut: &Cut) -> bool {
        let inner_text = self.text.as_str();
        self.roots.len() == 1
            && !self.has_alias()
            && starts_at_column(inner_text, 0, cut.indent)
            && is_block_mapping_at(self, 0, inner_text, cut.indent)
    }

    /// The tree of `text` from the tree of [`Cut::outer_text`] with its [`seam`](Self::seam),
    /// and the tree of [`Cut::inner_text`] that [fits](Self::fits_cut): what a whole parse gives,
    /// in document order (so that edits can be [spliced](Self::splice) into it in place). Both
    /// trees keep their text (their duplicate keys can be found on their own threads); the
    /// grafted tree reads `text`, the whole document's.
    pub fn graft(text: TreeText, cut: &Cut, outer: SpanTree, seam: Seam, inner: SpanTree) -> Self {
        let removed = cut.lines.len() as u32;
        // In the outer text, the next key sits where the cut's first key sits in `text`:
        // offsets up to there (an empty value may point at the next token) are the same in both.
        let seam_offset = (cut.lines.start + cut.indent) as u32;
        // Document order: the outer nodes before the seam's key, the cut's entries (without
        // their root mapping), then the rest of the outer nodes.
        let before = seam.key;
        let added = inner.nodes.len() as u32 - 1;
        let outer_moved = |i: u32| match i {
            NONE => NONE,
            i if i < before => i,
            i => i + added,
        };
        let inner_moved = |j: u32| match j {
            NONE => NONE,
            j => before + j - 1,
        };
        let mut nodes = Vec::with_capacity(outer.nodes.len() + added as usize);
        nodes.extend(outer.nodes[..before as usize].iter().map(|node| {
            let mut node = *node;
            if node.end > seam_offset {
                node.end += removed; // an enclosing collection
            }
            // The mapping's first key or the value before the cut: now the cut's first key.
            for link in [&mut node.first_child, &mut node.next_sibling] {
                *link = match *link {
                    key if key == seam.key => before,
                    other => outer_moved(other),
                };
            }
            node
        }));
        let (values_base, tags_base) = (outer.values.len() as u32, outer.tags.len() as u32);
        let inner_start = cut.lines.start as u32;
        let last_entry = inner.node(0).children().last().map_or(0, |c| c.index);
        nodes.extend(inner.nodes.iter().enumerate().skip(1).map(|(j, node)| {
            let mut node = shifted(node, inner_start, values_base, tags_base);
            node.first_child = inner_moved(node.first_child);
            node.next_sibling = match j as u32 {
                j if j == last_entry => outer_moved(seam.key),
                _ => inner_moved(node.next_sibling),
            };
            node
        }));
        nodes.extend(outer.nodes[before as usize..].iter().map(|node| {
            let mut node = shifted(node, removed, 0, 0);
            node.first_child = outer_moved(node.first_child);
            node.next_sibling = outer_moved(node.next_sibling);
            node
        }));
        let mut values = outer.values;
        values.push_str(&inner.values);
        let mut tags = outer.tags;
        tags.extend(inner.tags);
        SpanTree {
            nodes,
            roots: outer.roots.iter().map(|&root| outer_moved(root)).collect(),
            text,
            values,
            tags,
        }
    }

    pub fn has_alias(&self) -> bool {
        self.nodes.iter().any(|n| n.kind == SpanKind::Alias)
    }

    /// The key of a block mapping at `offset`, with its mapping.
    fn block_key_at(&self, text: &str, offset: usize) -> Option<Seam> {
        let mut node = self.node(*self.roots.first()?);
        loop {
            let mut inside = None;
            for (position, child) in node.children().enumerate() {
                let range = child.range();
                let is_key = node.kind() == SpanKind::Mapping && position % 2 == 0;
                if is_key && range.start == offset {
                    let block = !text[node.range().start..].starts_with('{');
                    return block.then_some(Seam {
                        mapping: node.index,
                        key: child.index,
                    });
                }
                if range.start <= offset && offset < range.end {
                    inside = Some(child);
                    break;
                }
            }
            node = inside?;
        }
    }
}

/// Whether a line starts at `at`, with `indent` spaces and then content.
pub(super) fn starts_at_column(text: &str, at: usize, indent: usize) -> bool {
    let bytes = text.as_bytes();
    let line_start = at == 0 || bytes.get(at - 1) == Some(&b'\n');
    let content = bytes
        .get(at + indent)
        .is_some_and(|b| !b.is_ascii_whitespace());
    line_start && content && bytes[at..at + indent].iter().all(|&b| b == b' ')
}

/// Whether node `index` of `tree` is a block mapping starting at `offset` of `text`.
pub(super) fn is_block_mapping_at(tree: &SpanTree, index: u32, text: &str, offset: usize) -> bool {
    let node = tree.node(index);
    node.kind() == SpanKind::Mapping
        && node.range().start == offset
        && !matches!(text.as_bytes().get(offset), Some(b'{' | b'['))
        && node.children().count().is_multiple_of(2)
}

#[cfg(test)]
pub(super) mod tests {
    use saphyr_parser::ScanError;

    use super::*;

    type NodeFacts<'t> = (
        usize,
        SpanKind,
        Range<usize>,
        Option<&'t str>,
        Option<&'t str>,
    );

    /// Every node of a tree, walked from its roots in document order: (depth, what it is).
    pub(in crate::yaml::spans) fn nodes(tree: &SpanTree) -> Vec<NodeFacts<'_>> {
        fn walk<'t>(node: SpanRef<'t>, depth: usize, out: &mut Vec<NodeFacts<'t>>) {
            out.push((depth, node.kind(), node.range(), node.value(), node.tag()));
            for child in node.children() {
                walk(child, depth + 1, out);
            }
        }
        let mut out = Vec::new();
        for root in tree.roots() {
            walk(root, 0, &mut out);
        }
        assert_eq!(out.len(), tree.len(), "every node is reachable");
        out
    }

    /// Whether a walk from the roots meets the nodes in index order (edits are spliced into
    /// such a tree in place).
    fn in_document_order(tree: &SpanTree) -> bool {
        fn walk(node: SpanRef<'_>, next: &mut u32) -> bool {
            let here = node.index == *next;
            *next += 1;
            here && node.children().all(|child| walk(child, next))
        }
        let mut next = 0;
        tree.roots().all(|root| walk(root, &mut next))
    }

    /// Parses `text` in two parts at `cut`; when the graft is accepted, it must equal the whole
    /// parse. Returns whether it was accepted.
    fn grafts_like_whole(text: &str, cut: &Cut) -> bool {
        grafts_like(&SpanTree::parse(text), text, cut)
    }

    /// [`grafts_like_whole`] with the whole parse done already.
    fn grafts_like(whole: &(SpanTree, Option<ScanError>), text: &str, cut: &Cut) -> bool {
        let (whole, whole_error) = whole;
        let Some(grafted) = graft(text, cut) else {
            return false;
        };
        assert!(whole_error.is_none(), "{cut:?} grafted text with an error");
        let (whole_nodes, grafted_nodes) = (nodes(whole), nodes(&grafted));
        for (i, (w, g)) in whole_nodes.iter().zip(&grafted_nodes).enumerate() {
            assert_eq!(w, g, "node {i}, cut {cut:?} of\n{text}");
        }
        assert_eq!(whole_nodes.len(), grafted_nodes.len(), "{cut:?}");
        assert!(in_document_order(&grafted), "{cut:?}");
        assert_eq!(whole.roots, grafted.roots);
        assert_eq!(grafted.text.as_str(), text);
        true
    }

    /// Both parts parsed and grafted, when they fit.
    fn graft(text: &str, cut: &Cut) -> Option<SpanTree> {
        let (outer, outer_error) = SpanTree::parse_owned(cut.outer_text(text));
        let (inner, inner_error) = SpanTree::parse(cut.inner_text(text));
        if outer_error.is_some() || inner_error.is_some() {
            return None;
        }
        let seam = outer.seam(cut)?;
        inner
            .fits_cut(cut)
            .then(|| SpanTree::graft(text.into(), cut, outer, seam, inner))
    }

    /// The cut from the line holding `from` to the line holding `to`.
    fn cut(text: &str, from: &str, to: &str) -> Cut {
        let start = text.find(from).expect("from");
        let end = text.find(to).expect("to");
        let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
        Cut {
            lines: line_start(start)..line_start(end),
            indent: start - line_start(start),
        }
    }

    /// Asserts that `text` cut from each `from` key's line to each `to` key's line grafts back.
    fn assert_grafts(text: &str, cuts: &[(&str, &str)]) {
        for (from, to) in cuts {
            assert!(
                grafts_like_whole(text, &cut(text, from, to)),
                "{from}..{to}"
            );
        }
    }

    #[test]
    fn entries_of_a_nested_mapping_graft_back() {
        let text = "a:\n  b: 1\n  c:\n    d: [1, 2]\n  e: 'x'\n  f: |\n    text\n  g: 3\nh: 4\n";
        assert_grafts(text, &[("c:", "f:"), ("e:", "g:")]);
    }

    #[test]
    fn top_level_entries_and_empty_values_at_the_seams() {
        let text = "a:\nb:\nc: 1\nd:\ne: 2\n";
        assert_grafts(text, &[("b:", "e:"), ("c:", "d:")]);
        let nested = "x:\n  a:\n  b:\n  c:\ny: 1\n";
        assert_grafts(nested, &[("b:", "c:")]);
    }

    #[test]
    fn block_scalars_keep_their_lines_at_both_seams() {
        let text = "a:\n  k: |+\n    one\n\n  l: >-\n    two\n\n  m: |+\n    three\n\n\n  n: 1\n";
        assert_grafts(text, &[("l:", "n:"), ("m:", "n:")]);
    }

    #[test]
    fn tags_quoted_values_comments_and_multibyte_text() {
        let text = "a:\n  b: !!str 1 # note\n# out of line\n  c: \"é\\n\"\n  d: 注释 # 中文\n  e: !custom\n    f: g\n  h: 'it''s'\n";
        assert_grafts(text, &[("c:", "h:"), ("d:", "h:")]);
        let crlf = text.replace('\n', "\r\n");
        assert_grafts(&crlf, &[("c:", "h:")]);
    }

    #[test]
    fn cuts_that_do_not_hold_whole_entries_are_refused() {
        // Inside a block scalar: the lines look like keys.
        let text = "a: |\n  b: 1\n  c: 2\n  d: 3\ne: 4\n";
        assert!(!grafts_like_whole(text, &cut(text, "c:", "d:")));
        // Across the end of the mapping: the part after the cut is not a key of it.
        let text = "a:\n  b: 1\n  c: 2\nd: 3\n";
        assert!(!grafts_like_whole(text, &cut(text, "c:", "d:")));
        // The first key of its mapping after the cut.
        let text = "a:\n  b: 1\nc:\n  d: 2\n  e: 3\n";
        assert!(!grafts_like_whole(text, &cut(text, "b:", "d:")));
        // A multi-line flow mapping.
        let text = "a: {\n  b: 1,\n  c: 2,\n  d: 3\n  }\n";
        assert!(!grafts_like_whole(text, &cut(text, "c:", "d:")));
        // A multi-line quoted scalar.
        let text = "a: \"x\n  b: 1\n  c: 2\"\nd: 1\n";
        assert!(!grafts_like_whole(text, &cut(text, "b:", "c:")));
        // An alias whose anchor is on the other side.
        let text = "a: &x 1\nb: *x\nc: 2\n";
        assert!(!grafts_like_whole(text, &cut(text, "b:", "c:")));
    }

    #[test]
    fn the_cut_found_in_argocds_big_document_grafts() {
        let Some(text) = crate::yaml::corpus::documents()
            .into_iter()
            .map(|(_, doc)| doc)
            .max_by_key(|doc| doc.len())
        else {
            return;
        };
        assert!(text.len() > 1_000_000, "the corpus holds argocd's CRDs");
        let found = find_cut(&text, text.len() / 2, text.len() / 2).expect("a cut");
        assert!(found.lines.len() > text.len() / 4, "{found:?}");
        assert!(grafts_like_whole(&text, &found));
    }

    /// A line with content (not blank, not a comment).
    struct ContentLine {
        start: usize,
        indent: usize,
    }

    fn content_lines(text: &str) -> Vec<ContentLine> {
        let mut start = 0;
        let mut lines = Vec::new();
        for line in text.split_inclusive('\n') {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let content = line.trim();
            if !content.is_empty() && !content.starts_with('#') {
                lines.push(ContentLine { start, indent });
            }
            start += line.len();
        }
        lines
    }

    /// Cuts at many points of every corpus document, good and bad: an accepted graft is always
    /// the whole parse.
    #[test]
    fn grafts_equal_whole_parses_over_the_corpus() {
        let (mut tried, mut grafted) = (0, 0);
        for (_, text) in crate::yaml::corpus::documents() {
            if text.len() > 200_000 {
                continue; // covered by the test above; a parse per cut would be slow here
            }
            let whole = SpanTree::parse(&text);
            let lines = content_lines(&text);
            let step = (lines.len() / 12).max(1);
            for (i, line) in lines.iter().enumerate().step_by(step) {
                let same_indent = lines[i + 1..].iter().find(|l| l.indent == line.indent);
                let ends = [same_indent, lines.get(i + 1), lines.get(i + 3)];
                for end in ends.into_iter().flatten() {
                    let cut = Cut {
                        lines: line.start..end.start,
                        indent: line.indent,
                    };
                    tried += 1;
                    grafted += usize::from(grafts_like(&whole, &text, &cut));
                }
                for fraction in [3, 5] {
                    let around = line.start;
                    if let Some(cut) = find_cut(&text, around, text.len() / fraction) {
                        tried += 1;
                        grafted += usize::from(grafts_like(&whole, &text, &cut));
                    }
                }
            }
        }
        assert!(
            grafted > 1000 && tried > grafted,
            "{grafted} of {tried} cuts grafted"
        );
    }
}
