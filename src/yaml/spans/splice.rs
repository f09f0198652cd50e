//! A document's span tree brought up to date after an edit by parsing only the entries around
//! it: the smallest run of whole entries of one block mapping that holds the edit (lines
//! `[start, end)`, the first and the next key each starting its line at the mapping's column)
//! is parsed on its own, and its entries replace the old ones. This is the cut of
//! [`super::cut`] seen from the other side: the text outside the run is the same before and after
//! the edit, so the old tree without the run's old entries is the tree of that outer text, and
//! the run's new text parsed alone goes back between the same neighbours, under the same
//! conditions (one block mapping at the column, no alias, no error, no directive).

use std::ops::Range;

use super::cut::{is_block_mapping_at, starts_at_column};
use super::{NONE, SpanKind, SpanNode, SpanRef, SpanTree, TreeText};

/// Whole entries of one block mapping of a tree: pairs `first..next` of `mapping`, written on the
/// lines `lines` (from the line of the first key to the line of the next one, both keys at
/// `column` with only spaces before them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryRun {
    pub lines: Range<usize>,
    pub column: usize,
    mapping: u32,
    first: usize,
    next: usize,
}

impl SpanTree {
    /// The smallest run of whole block mapping entries whose lines hold `region` (offsets of this
    /// tree's text; an empty region is a place), followed by a key of the same mapping. None
    /// when no mapping around the region has one (the region holds a root key and the last
    /// one, or a flow collection holds it).
    pub fn entries_around(&self, region: Range<usize>) -> Option<EntryRun> {
        if self.roots.len() != 1 {
            return None;
        }
        let text = self.text.as_str();
        let mut node = self.root()?;
        let mut best = None;
        loop {
            if node.is_flow() {
                return best;
            }
            node = match node.kind() {
                SpanKind::Mapping => {
                    let pairs: Vec<(SpanRef<'_>, Option<SpanRef<'_>>)> = node.pairs().collect();
                    let column = column_of(text, node.range().start);
                    let line_of = |key: SpanRef<'_>| key_line(text, key, column);
                    let first = pairs
                        .iter()
                        .rposition(|(key, _)| line_of(*key).is_some_and(|l| l <= region.start));
                    let Some(first) = first else {
                        return best;
                    };
                    let next = (first + 1..pairs.len())
                        .find(|&p| line_of(pairs[p].0).is_some_and(|l| l >= region.end));
                    if let (Some(next), Some(start)) = (next, line_of(pairs[first].0)) {
                        best = Some(EntryRun {
                            lines: start..line_of(pairs[next].0).expect("found by its line"),
                            column,
                            mapping: node.id(),
                            first,
                            next,
                        });
                    }
                    // A deeper mapping may have a smaller run (its own conditions hold it).
                    match pairs[first].1 {
                        Some(value) => value,
                        None => return best,
                    }
                }
                SpanKind::Sequence => {
                    let items: Vec<SpanRef<'_>> = node.children().collect();
                    let at = items.partition_point(|item| item.range().start <= region.start);
                    match at.checked_sub(1).map(|i| items[i]) {
                        Some(item) if region.end <= item.range().end.max(region.start) => item,
                        _ => return best,
                    }
                }
                _ => return best,
            };
        }
    }

    /// Whether `self`, the tree of the new text of `run`'s lines parsed alone, can replace the
    /// run's entries (see the module's comment): one block mapping at the run's column, no alias,
    /// and not ending in an empty value (whose place a whole parse puts at the next key).
    pub fn fits_run(&self, run: &EntryRun) -> bool {
        let text = self.text.as_str();
        let ends_empty = self
            .root()
            .and_then(|root| root.pairs().last())
            .is_some_and(|(_, value)| value.is_none_or(|v| v.is_empty_scalar()));
        self.roots.len() == 1
            && !self.has_alias()
            && !ends_empty
            && starts_at_column(text, 0, run.column)
            && is_block_mapping_at(self, 0, text, run.column)
    }

    /// This tree with `run`'s entries replaced by those of `inner` (the tree of their new text,
    /// which [fits](Self::fits_run)), for the new document (the old one with `run`'s lines
    /// replaced by `inner`'s text, `delta` bytes longer; `text` gives it when the tree's text is
    /// a file's, not its own). Also the ids, in the new tree, of the run's mapping and of the
    /// nodes that came from `inner`. The tree is changed in place: the run's nodes, contiguous in
    /// document order, are replaced by `inner`'s, links past them moved by the difference in
    /// number.
    pub fn splice(
        mut self,
        run: &EntryRun,
        inner: &SpanTree,
        delta: isize,
        text: impl FnOnce() -> TreeText,
    ) -> (SpanTree, Spliced) {
        let spliced = self.splice_nodes(run, inner, delta);
        match &mut self.text {
            TreeText::Owned(own) => own.replace_range(run.lines.clone(), inner.text.as_str()),
            TreeText::Shared(..) => self.text = text(),
        }
        (self, spliced)
    }

    /// The nodes of [`splice`](Self::splice).
    fn splice_nodes(&mut self, run: &EntryRun, inner: &SpanTree, delta: isize) -> Spliced {
        let children: Vec<u32> = self.node(run.mapping).children().map(|c| c.index).collect();
        let (first, next) = (children[2 * run.first], children[2 * run.next]);
        let added = inner.nodes.len() as u32 - 1;
        let removed = next - first;
        let moved_index = |index: u32| match index {
            NONE => NONE,
            index if index >= next => index + added - removed,
            index => index,
        };
        let moved = |offset: u32| {
            let after = offset as usize >= run.lines.end;
            offset.saturating_add_signed(if after { delta as i32 } else { 0 })
        };
        for node in &mut self.nodes {
            node.start = moved(node.start);
            node.end = moved(node.end);
            if node.value_in_text {
                node.value_at = moved(node.value_at);
            }
            node.first_child = moved_index(node.first_child);
            node.next_sibling = moved_index(node.next_sibling);
        }
        for root in &mut self.roots {
            *root = moved_index(*root);
        }
        let base = run.lines.start as u32;
        let (values_base, tags_base) = (self.values.len() as u32, self.tags.len() as u32);
        // Inner node `j` (its root, 0, is the run's mapping, which stays) goes to `first + j - 1`.
        let placed = |j: u32| match j {
            NONE => NONE,
            j => first + j - 1,
        };
        let last_entry = inner.root().and_then(|root| root.children().last());
        let new_nodes = (inner.nodes.iter().enumerate().skip(1)).map(|(j, node)| SpanNode {
            first_child: placed(node.first_child),
            next_sibling: match last_entry {
                Some(last) if last.index == j as u32 => moved_index(next),
                _ => placed(node.next_sibling),
            },
            ..shifted(node, base, values_base, tags_base)
        });
        self.nodes.splice(first as usize..next as usize, new_nodes);
        self.values.push_str(&inner.values);
        self.tags.extend(inner.tags.iter().cloned());
        Spliced {
            mapping: run.mapping,
            inner: first..first + added,
        }
    }

    /// Where the new text of `run`'s lines (`inner`'s) reads differently from the old: the
    /// ranges, in the new text, of the nodes that are not the same (kind, depth, place, value,
    /// tag) before and after, walking in from both ends of the run, and of the text `edited`
    /// replaced (a range of the old text, the new one `delta` bytes longer).
    pub fn changed_in_run(
        &self,
        run: &EntryRun,
        inner: &SpanTree,
        edited: Range<usize>,
        delta: isize,
    ) -> Range<usize> {
        let moved = |offset: usize| {
            let after = offset >= edited.end;
            offset.saturating_add_signed(if after { delta } else { 0 })
        };
        let old: Vec<Fact<'_>> = (self.node(run.mapping).children())
            .skip(2 * run.first)
            .take(2 * (run.next - run.first))
            .flat_map(|entry| preorder(entry, 0))
            .map(|(depth, node)| {
                let range = node.range();
                Fact::of(depth, node, moved(range.start)..moved(range.end))
            })
            .collect();
        let base = run.lines.start;
        let new: Vec<Fact<'_>> = (inner.root().into_iter())
            .flat_map(|root| root.children().flat_map(|entry| preorder(entry, 0)))
            .map(|(depth, node)| {
                let range = node.range();
                Fact::of(depth, node, range.start + base..range.end + base)
            })
            .collect();
        let same_before = old.iter().zip(&new).take_while(|(o, n)| o == n).count();
        let same_after = (old[same_before..].iter().rev())
            .zip(new[same_before..].iter().rev())
            .take_while(|(o, n)| o == n)
            .count();
        let differing = (old[same_before..old.len() - same_after].iter())
            .chain(&new[same_before..new.len() - same_after]);
        let text = edited.start..edited.end.saturating_add_signed(delta);
        differing.fold(text, |changed, fact| {
            changed.start.min(fact.range.start)..changed.end.max(fact.range.end)
        })
    }

    /// The innermost block mapping that starts before `offset` and holds it: its start, its
    /// column, and the lines of its ancestors, outermost first, each at its column (for a pair
    /// holding it, the keys of its mapping up to its own as `key:`, for a sequence item `-`), so
    /// that a check of those lines and the text from the mapping on reads that text as a check of
    /// the whole text would, a key repeated in an ancestor included. None when there is no such
    /// mapping or an ancestor is written otherwise (a flow collection, an item not alone after
    /// its `-`, a key over several lines).
    pub fn block_mapping_around(&self, offset: usize) -> Option<(usize, usize, String)> {
        if self.roots.len() != 1 {
            return None;
        }
        let text = self.text.as_str();
        let mut found = None;
        let mut ancestors = String::new();
        let mut node = self.root()?;
        loop {
            if node.is_flow() {
                break;
            }
            let range = node.range();
            let child = match node.kind() {
                SpanKind::Mapping => {
                    if range.start < offset && offset <= range.end {
                        found =
                            Some((range.start, column_of(text, range.start), ancestors.clone()));
                    }
                    let pairs = node
                        .pairs()
                        .take_while(|(key, _)| key.range().start <= offset);
                    let mut holding = None;
                    for (key, value) in pairs {
                        let column = column_of(text, key.range().start);
                        push_key_line(&mut ancestors, column, &text[key.range()])?;
                        holding = Some(value);
                    }
                    let Some(Some(value)) = holding else {
                        break;
                    };
                    value
                }
                SpanKind::Sequence => {
                    let item = node
                        .children()
                        .take_while(|item| item.range().start <= offset);
                    let Some(item) = item.last() else {
                        break;
                    };
                    let start = item.range().start;
                    let lead = &text[start - column_of(text, start)..start];
                    let dash = lead.trim_end_matches(' ');
                    let alone =
                        dash.ends_with('-') && dash[..dash.len() - 1].bytes().all(|b| b == b' ');
                    if !alone || dash.len() == lead.len() {
                        return None;
                    }
                    ancestors.push_str(&dash[..dash.len() - 1]);
                    ancestors.push_str("-\n");
                    item
                }
                _ => break,
            };
            if !child.range().contains(&offset) && child.range().end != offset {
                break;
            }
            node = child;
        }
        found
    }

    /// The start offsets of the keys of `run`'s mapping.
    pub fn run_mapping_keys(&self, run: &EntryRun) -> Vec<usize> {
        self.node(run.mapping)
            .pairs()
            .map(|(key, _)| key.range().start)
            .collect()
    }
}

/// What [`SpanTree::changed_in_run`] compares of a node.
#[derive(PartialEq)]
struct Fact<'t> {
    depth: usize,
    kind: SpanKind,
    range: Range<usize>,
    value: Option<&'t str>,
    tag: Option<&'t str>,
}

impl<'t> Fact<'t> {
    fn of(depth: usize, node: SpanRef<'t>, range: Range<usize>) -> Self {
        Fact {
            depth,
            kind: node.kind(),
            range,
            value: node.value(),
            tag: node.tag(),
        }
    }
}

/// `node` and everything under it in document order, each with its depth below `node`'s parent.
fn preorder(node: SpanRef<'_>, depth: usize) -> Vec<(usize, SpanRef<'_>)> {
    let mut nodes = vec![(depth, node)];
    for child in node.children() {
        nodes.extend(preorder(child, depth + 1));
    }
    nodes
}

/// Where a splice put things, as ids of the new tree.
#[derive(Clone, Debug)]
pub struct Spliced {
    /// The mapping whose entries were replaced.
    pub mapping: u32,
    /// The nodes that came from the run's new text.
    pub inner: Range<u32>,
}

/// `key` (the text of a block mapping's key) as a line of its own at `column`, with no value:
/// a line standing in for an ancestor's key in a check of part of a document. None for a key
/// over several lines, or none.
pub(crate) fn push_key_line(lines: &mut String, column: usize, key: &str) -> Option<()> {
    if key.is_empty() || key.contains(['\n', '\r']) {
        return None;
    }
    lines.extend(std::iter::repeat_n(' ', column));
    lines.push_str(key);
    lines.push_str(":\n");
    Some(())
}

/// The column of `offset`: how far it is from the start of its line.
fn column_of(text: &str, offset: usize) -> usize {
    offset - text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The start of the line of `key` when only `column` spaces come before the key on it.
fn key_line(text: &str, key: SpanRef<'_>, column: usize) -> Option<usize> {
    let start = key.range().start.checked_sub(column)?;
    starts_at_column(text, start, column).then_some(start)
}

/// A node of a part's tree (a run's new entries, a graft's cut or the rest after it) as the whole
/// tree has it: its text `base` bytes further, its value and tag after the `values_base` bytes
/// and `tags_base` tags the tree had before.
pub(super) fn shifted(node: &SpanNode, base: u32, values_base: u32, tags_base: u32) -> SpanNode {
    SpanNode {
        start: node.start + base,
        end: node.end + base,
        value_at: node.value_at
            + if node.value_in_text {
                base
            } else {
                values_base
            },
        tag: match node.tag {
            NONE => NONE,
            tag => tag + tags_base,
        },
        ..*node
    }
}

#[cfg(test)]
mod tests {
    use super::super::cut::tests::nodes;
    use super::*;
    use crate::yaml::scalar::ScalarStyle;

    /// `text` with `range` replaced by `insert`, spliced into the tree of `text` when the
    /// entries around fit, one tree with a text of its own and one sharing a file's; a spliced
    /// tree must equal the whole parse of the new text. Returns whether it was spliced.
    fn splices_like_whole(text: &str, range: Range<usize>, insert: &str) -> bool {
        let new_text = format!("{}{insert}{}", &text[..range.start], &text[range.end..]);
        let delta = insert.len() as isize - range.len() as isize;
        let (tree, _) = SpanTree::parse(text);
        let Some(run) = tree.entries_around(range.clone()) else {
            return false;
        };
        assert!(
            run.lines.start <= range.start && range.end <= run.lines.end,
            "{run:?}"
        );
        let window = run.lines.start..run.lines.end.saturating_add_signed(delta);
        let (inner, error) = SpanTree::parse(&new_text[window]);
        if error.is_some() || !inner.fits_run(&run) {
            return false;
        }
        let (whole, whole_error) = SpanTree::parse(&new_text);
        let edit = format!("{insert:?} at {range:?}, {run:?}");
        assert!(whole_error.is_none(), "{edit} spliced text with an error");
        let shared = SpanTree::parse_shared(&std::sync::Arc::new(text.to_string()), 0..text.len());
        for (tree, how) in [(tree, "own text"), (shared.0, "shared text")] {
            let (spliced, _) = tree.splice(&run, &inner, delta, || new_text.as_str().into());
            assert_eq!(nodes(&spliced), nodes(&whole), "{edit} {how} of\n{text}");
            assert_eq!(spliced.roots, whole.roots);
            assert_eq!(spliced.text(), new_text, "{how}");
        }
        true
    }

    /// Edits at a `key: value` line (`line` is its range without the line break, `indent` its
    /// key's column): typing, deleting, lines added and removed, values that change kind, and
    /// edits that break the YAML or the mapping.
    fn edits_at(line: Range<usize>, text: &str) -> Vec<(Range<usize>, String)> {
        let content = &text[line.clone()];
        let indent = content.len() - content.trim_start_matches([' ', '-']).len();
        let pad = " ".repeat(indent);
        let end = line.end..line.end;
        let mut edits = vec![
            (end.clone(), "x".to_string()),
            (end.clone(), format!("\n{pad}# a note")),
            (end.clone(), format!("\n{pad}added: 1")),
            (end.clone(), format!("\n{pad}added:\n{pad}  deeper: [1, 2]")),
            (end.clone(), format!("\n{pad}- item")),
            (end.clone(), ":".to_string()),
            (line.start..line.start, " ".to_string()),
            (line.start..(line.end + 1).min(text.len()), String::new()),
        ];
        if line.end > line.start {
            edits.push((line.end - 1..line.end, String::new()));
        }
        if let Some(colon) = content.find(": ") {
            let value = line.start + colon + 2;
            edits.push((value..value, "\"".to_string()));
            edits.push((value..line.end, format!("|\n{pad}  block {{")));
            edits.push((value..line.end, "&a 1".to_string()));
            edits.push((value..line.end, String::new()));
            edits.push((line.start + indent..value - 2, "renamed".to_string()));
        }
        edits
    }

    #[test]
    fn spliced_trees_equal_whole_parses_over_the_corpus() {
        let (mut tried, mut spliced) = (0, 0);
        for (_, text) in crate::yaml::corpus::documents() {
            if text.len() > 200_000 || text.contains('\t') {
                continue; // the file tests edit argocd's big documents
            }
            let (tree, error) = SpanTree::parse(&text);
            if error.is_some() || tree.has_alias() || tree.roots.len() != 1 {
                continue;
            }
            let mut lines = Vec::new();
            let mut start = 0;
            for line in text.split_inclusive('\n') {
                let content = line.trim_end_matches(['\n', '\r']);
                if content.trim_start().contains(": ") || content.trim_end().ends_with(':') {
                    lines.push(start..start + content.len());
                }
                start += line.len();
            }
            let step = (lines.len() / 10).max(1);
            for line in lines.into_iter().step_by(step) {
                for (range, insert) in edits_at(line, &text) {
                    tried += 1;
                    spliced += usize::from(splices_like_whole(&text, range, &insert));
                }
            }
        }
        assert!(
            spliced > 20_000 && tried > spliced,
            "{spliced} of {tried} edits spliced"
        );
    }

    #[test]
    fn runs_hold_whole_entries_of_the_innermost_mapping_that_has_one() {
        let text = "a:\n  b: 1\n  c:\n    d: 2\n    e: 3\n  f: 4\ng: 5\n";
        let (tree, _) = SpanTree::parse(text);
        let at = |s: &str| text.find(s).unwrap();
        // In `d`'s value: `d`'s line and `e`'s.
        let run = tree.entries_around(at("2")..at("2")).unwrap();
        assert_eq!(run.lines, at("    d")..at("    e"));
        assert_eq!(run.column, 4);
        // In `e`, the last of its mapping: `c` and `f` of the mapping above.
        let run = tree.entries_around(at("3")..at("3")).unwrap();
        assert_eq!(run.lines, at("  c")..at("  f"));
        // Across `b` and `c`.
        let run = tree.entries_around(at("1")..at("d")).unwrap();
        assert_eq!(run.lines, at("  b")..at("  f"));
        // In `g`, the last root key: none.
        assert_eq!(tree.entries_around(at("5")..at("5")), None);
        // A first key after `- ` does not start a run.
        let text = "s:\n- a: 1\n  b: 2\nt: 3\n";
        let (tree, _) = SpanTree::parse(text);
        let run = tree.entries_around(text.find('1').unwrap()..text.find('1').unwrap());
        assert_eq!(run.unwrap().lines, 0..text.find("t:").unwrap());
        // Entries ending in an empty value do not fit: a whole parse puts it at the next key.
        let text = "a:\n  b: 1\n  c: 2\nd: 3\n";
        let (tree, _) = SpanTree::parse(text);
        let run = tree.entries_around(text.find('1').unwrap()..text.find('1').unwrap());
        let run = run.unwrap();
        let (inner, _) = SpanTree::parse("  b:\n");
        assert!(!inner.fits_run(&run));
        assert_eq!(
            inner.root().unwrap().children().nth(1).unwrap().kind(),
            SpanKind::Scalar(ScalarStyle::Plain)
        );
    }
}
