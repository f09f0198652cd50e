//! YAML-level diagnostics of one document: syntax errors, duplicate keys, tabs in indentation.
//!
//! Two passes produce them. `check_text` runs saphyr's event parser over a document's text: it is
//! fast (it is what a first open uses, before any syntax tree exists) and gives the clearest syntax
//! error messages. `duplicate_keys_in` walks a tree-sitter subtree: after an edit only the region the
//! edit changed is walked again. Both report through `duplicate_keys`, so they agree.

use std::ops::Range;
use std::sync::Arc;

use saphyr_parser::ScanError;
use tree_sitter::Node;

use super::scalar::ScalarStyle;
use super::spans::{SpanKind, SpanRef, SpanTree};
use super::syntax::{self, Source};
use crate::diagnostic::{Diagnostic, codes};

/// A mapping key as YAML means it, and where it is.
pub struct Key {
    pub text: String,
    pub range: Range<usize>,
}

/// Duplicate-key diagnostics for the keys of one mapping, on every occurrence after the first.
pub fn duplicate_keys(keys: impl IntoIterator<Item = Key>) -> Vec<Diagnostic> {
    let keys: Vec<Key> = keys.into_iter().collect();
    let texts: Vec<&str> = keys.iter().map(|k| k.text.as_str()).collect();
    let mut diagnostics = Vec::new();
    for_each_repeated(&texts, |i| {
        diagnostics.push(duplicate_key(&keys[i].text, keys[i].range.clone()))
    });
    diagnostics
}

/// Calls `repeated` with the index of every key that repeats an earlier key of the same mapping.
fn for_each_repeated<K: AsRef<str>>(keys: &[K], mut repeated: impl FnMut(usize)) {
    // Most mappings are small: comparing pairwise avoids building a set for each of them.
    if keys.len() <= 16 {
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.as_ref() == key.as_ref()) {
                repeated(i);
            }
        }
        return;
    }
    let mut first_seen = std::collections::HashSet::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        if !first_seen.insert(key.as_ref()) {
            repeated(i);
        }
    }
}

fn duplicate_key(text: &str, range: Range<usize>) -> Diagnostic {
    Diagnostic::error(
        range,
        codes::DUPLICATE_KEY,
        format!("duplicate key `{text}`: a mapping's keys must be unique"),
    )
}

/// The result of checking a text: its YAML diagnostics and, when it parsed without a syntax
/// error, its span tree (for validation without a tree-sitter parse).
pub struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    pub tree: Option<SpanTree>,
}

/// Syntax error (the first), duplicate keys and tab indentation of one document's text, in one
/// saphyr pass. Offsets are relative to `text`.
pub fn check_text(text: &str) -> Vec<Diagnostic> {
    check(text).diagnostics
}

/// [`check_text`], keeping the span tree that the pass built.
pub fn check(text: &str) -> Checked {
    let (tree, error) = SpanTree::parse(text);
    check_tree(text, tree, error)
}

/// [`check`] of `range` of a file's text, the span tree sharing the text instead of copying it.
pub fn check_shared(file: &Arc<String>, range: Range<usize>) -> Checked {
    let (tree, error) = SpanTree::parse_shared(file, range.clone());
    check_tree(&file[range], tree, error)
}

/// [`check`] from the span tree of `text` and the syntax error its parse stopped at.
pub fn check_tree(text: &str, tree: SpanTree, error: Option<ScanError>) -> Checked {
    let duplicates = duplicate_keys_in_spans(&tree, |_| true);
    check_with_duplicates(text, tree, error, duplicates)
}

/// [`check_tree`] with the tree's duplicate keys found already.
pub fn check_with_duplicates(
    text: &str,
    tree: SpanTree,
    error: Option<ScanError>,
    duplicates: Vec<Diagnostic>,
) -> Checked {
    let mut diagnostics = duplicates;
    let tabs = if memchr::memchr(b'\t', text.as_bytes()).is_some() {
        let scalars: Vec<Range<usize>> = tree
            .all()
            .filter(|node| {
                node.style()
                    .is_some_and(|style| style != ScalarStyle::Plain)
                    || node.value().is_some_and(|v| v.contains('\n'))
            })
            .map(|node| node.range())
            .collect();
        tab_indentation(text, |offset| scalars.iter().any(|r| r.contains(&offset)))
    } else {
        Vec::new()
    };
    let syntax_error = error.is_some();
    if let Some(error) = error {
        let index = LineIndex::new(text);
        let error = syntax_diagnostic(&error, &index, text);
        // A tab in the indentation is what saphyr usually trips over there: say so once, precisely.
        let same_line =
            |tab: &Diagnostic| index.line_of(tab.range.start) == index.line_of(error.range.start);
        if !tabs.iter().any(same_line) {
            diagnostics.push(error);
        }
    }
    diagnostics.extend(tabs);
    diagnostics.sort_by_key(|d| d.range.start);
    Checked {
        diagnostics,
        tree: (!syntax_error).then_some(tree),
    }
}

/// Duplicate keys of the mappings of a span tree that `include` selects (scalar keys, by value).
pub fn duplicate_keys_in_spans(
    tree: &SpanTree,
    include: impl Fn(SpanRef<'_>) -> bool,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    // One buffer for all mappings: this runs on every node of every file opened.
    let mut keys: Vec<&str> = Vec::new();
    let mut nodes = Vec::new();
    let mappings = tree.all().filter(|node| node.kind() == SpanKind::Mapping);
    for mapping in mappings.filter(|&node| include(node)) {
        keys.clear();
        nodes.clear();
        for (key, _) in mapping.pairs() {
            if let Some(text) = key.value() {
                keys.push(text);
                nodes.push(key);
            }
        }
        for_each_repeated(&keys, |i| {
            diagnostics.push(duplicate_key(keys[i], nodes[i].range()))
        });
    }
    diagnostics
}

/// saphyr's error when flow collections nest deeper than it reads (255 levels).
pub const RECURSION_LIMIT: &str = "recursion limit exceeded";

/// Whether `diagnostic` is saphyr rejecting the text for anything but nesting deeper than it
/// reads (the outline of such a text is empty rather than tree-sitter's, see `features/outline`).
pub fn rejects_text(diagnostic: &Diagnostic) -> bool {
    diagnostic.code == codes::SYNTAX && !diagnostic.message.eq_ignore_ascii_case(RECURSION_LIMIT)
}

fn syntax_diagnostic(error: &ScanError, index: &LineIndex, text: &str) -> Diagnostic {
    let start = index.offset(error.marker().line(), error.marker().col());
    if error.info() == super::anchors::UNKNOWN_ANCHOR {
        return undefined_alias(text, start);
    }
    let end = text[start..]
        .char_indices()
        .nth(1)
        .map_or(text.len(), |(i, _)| start + i);
    let end = if text[start..end].starts_with(['\n', '\r']) || start == end {
        start
    } else {
        end
    };
    Diagnostic::error(start..end, codes::SYNTAX, clean_message(error.info()))
}

/// An alias whose anchor is not defined before it, over the whole alias.
fn undefined_alias(text: &str, start: usize) -> Diagnostic {
    let name = super::anchors::alias_name_at(text, start);
    let message =
        format!("Alias *{name} is not defined: no anchor &{name} before it in this document");
    Diagnostic::error(start..start + 1 + name.len(), codes::SYNTAX, message)
}

/// saphyr's messages come from libyaml ("while parsing a block mapping, did not find expected
/// key"); keep them, minus trailing position noise.
fn clean_message(info: &str) -> String {
    let message = info.trim();
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => format!("{}{}", first.to_uppercase(), chars.as_str()),
        None => "invalid YAML".to_string(),
    }
}

/// Tabs used for indentation: a tab among a line's leading blanks, outside scalar text.
pub fn tab_indentation(text: &str, inside_scalar: impl Fn(usize) -> bool) -> Vec<Diagnostic> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'\t', bytes)
        .filter(|&tab| {
            let line_start = bytes[..tab]
                .iter()
                .rposition(|&b| b == b'\n' || b == b'\r')
                .map_or(0, |i| i + 1);
            let leading = &bytes[line_start..tab];
            let rest = &bytes[tab..];
            let first_content = rest.iter().position(|&b| b != b' ' && b != b'\t');
            let has_content =
                first_content.is_some_and(|i| !matches!(rest[i], b'\n' | b'\r' | b'#'));
            leading.iter().all(|&b| b == b' ') && has_content && !inside_scalar(tab)
        })
        .map(|tab| {
            Diagnostic::error(
                tab..tab + 1,
                codes::TAB_INDENTATION,
                "Tab character used for indentation: YAML indents with spaces only",
            )
        })
        .collect()
}

/// Duplicate keys of every mapping in `node`'s subtree (including `node`), walking iteratively.
pub fn duplicate_keys_in<S: Source + ?Sized>(node: Node<'_>, source: &S) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut cursor = node.walk();
    let mut descending = true;
    loop {
        if descending {
            let current = cursor.node();
            if matches!(current.kind(), "block_mapping" | "flow_mapping") {
                diagnostics.extend(duplicate_keys(mapping_keys(current, source)));
            }
            if cursor.goto_first_child() {
                continue;
            }
        }
        if cursor.node() == node {
            break;
        }
        if cursor.goto_next_sibling() {
            descending = true;
        } else if cursor.goto_parent() {
            descending = false;
        } else {
            break;
        }
    }
    diagnostics
}

fn mapping_keys<'s, S: Source + ?Sized>(
    mapping: Node<'_>,
    source: &'s S,
) -> impl Iterator<Item = Key> + 's {
    syntax::pairs(mapping)
        .into_iter()
        .filter_map(|pair| pair.key)
        .filter_map(|key| {
            let text = syntax::scalar_text(key, source)?;
            Some(Key {
                text,
                range: syntax::content(key).unwrap_or(key).byte_range(),
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// Line starts of a text, to turn saphyr's (line, character column) markers into byte offsets.
struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let mut starts = vec![0];
        starts.extend(super::split::lines(text.as_bytes()).map(|line| line.end));
        Self { text, starts }
    }

    /// Byte offset of a 1-based line and a 0-based column counted in characters.
    fn offset(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start.min(self.text.len())..];
        rest.char_indices()
            .nth(column)
            .map_or(self.text.len(), |(i, _)| start + i)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ropey::Rope;

    fn codes_and_text(text: &str) -> Vec<(crate::diagnostic::Code, String)> {
        check_text(text)
            .into_iter()
            .map(|d| (d.code, text[d.range].to_string()))
            .collect()
    }

    #[test]
    fn a_valid_manifest_is_clean() {
        assert!(
            check_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web # 注释\n").is_empty()
        );
    }

    #[test]
    fn duplicate_keys_are_flagged_on_the_later_key() {
        let text = "metadata:\n  name: a\n  labels: {}\n  name: b\n";
        let diagnostics = check_text(text);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, codes::DUPLICATE_KEY);
        assert_eq!(&text[diagnostics[0].range.clone()], "name");
        assert_eq!(diagnostics[0].range.start, 35);
        assert!(diagnostics[0].message.contains("`name`"));
    }

    #[test]
    fn quoted_and_plain_spellings_of_one_key_are_duplicates() {
        assert_eq!(
            codes_and_text("a: 1\n'a': 2\n"),
            [(codes::DUPLICATE_KEY, "'a'".to_string())]
        );
    }

    #[test]
    fn same_keys_in_different_mappings_are_fine() {
        assert!(check_text("- name: a\n- name: b\n").is_empty());
        assert!(check_text("a:\n  name: 1\nb:\n  name: 2\n").is_empty());
    }

    #[test]
    fn syntax_errors_have_a_message_and_a_precise_position() {
        let text = "kind: Pod\nmetadata:\n  name: web\n labels: x\n";
        let diagnostics = check_text(text);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].code, codes::SYNTAX);
        assert!(diagnostics[0].range.start >= 32, "{diagnostics:?}");
        assert!(!diagnostics[0].message.is_empty());
    }

    #[test]
    fn unclosed_flow_sequence_is_a_syntax_error() {
        let diagnostics = check_text("args: [a, b\nkind: Pod\n");
        assert_eq!(diagnostics[0].code, codes::SYNTAX);
    }

    #[test]
    fn ten_thousand_deep_nesting_does_not_overflow_the_stack() {
        let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let block: String = (0..10_000)
            .map(|d| format!("{}k:\n", " ".repeat(d)))
            .collect();
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || (check_text(&text), check_text(&block)))
            .unwrap()
            .join()
            .expect("no stack overflow");
    }

    #[test]
    fn a_byte_order_mark_at_the_start_is_fine() {
        assert!(check_text("\u{feff}apiVersion: v1\nkind: Pod\n").is_empty());
        let text = "\u{feff}a: 1\n";
        let rope = Rope::from_str(text);
        assert!(
            !syntax::parse(&rope, 0..text.len(), None)
                .root_node()
                .has_error()
        );
    }

    #[test]
    fn tabs_in_indentation_are_reported_once_per_tab() {
        let diagnostics = codes_and_text("a:\n\tb: 1\n");
        assert_eq!(diagnostics, [(codes::TAB_INDENTATION, "\t".to_string())]);
    }

    #[test]
    fn tabs_inside_block_scalars_and_after_content_are_fine() {
        assert!(check_text("script: |\n  make\n  \techo ok\nk: v\t# comment\n").is_empty());
    }

    #[test]
    fn tree_walk_and_event_walk_agree_on_duplicates() {
        let text = "a: 1\nb:\n  c: 1\n  c: 2\n  d: [1, {e: 1, e: 2}]\na: 3\n";
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let mut from_tree = duplicate_keys_in(tree.root_node(), text);
        from_tree.sort_by_key(|d| d.range.start);
        let from_events: Vec<_> = check_text(text)
            .into_iter()
            .filter(|d| d.code == codes::DUPLICATE_KEY)
            .collect();
        assert_eq!(from_tree, from_events);
        assert_eq!(from_tree.len(), 3);
    }
}
