//! Document symbols: one per Kubernetes manifest (`Deployment web`, namespace as detail) with its
//! top-level keys as children; for other YAML, the top-level keys themselves.

use std::ops::Range;

use ropey::Rope;

use std::sync::Arc;

use super::outline::{Outline, OutlineCache, OutlineSource};
use crate::text::cancel::{Cancel, Cancelled};
use crate::text::lines::{LinePosition, LineStarts};
use crate::text::shift_range;
use crate::yaml::file::YamlFile;
use crate::yaml::node::{TsNode, YamlNode};
use crate::yaml::syntax::{self, NodeShape, RopeSource};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A Kubernetes object.
    Object,
    /// A key whose value is a mapping.
    Module,
    /// A key whose value is a sequence.
    Array,
    /// A key with a scalar value.
    Field,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: Box<str>,
    pub detail: Option<Box<str>>,
    pub kind: SymbolKind,
    /// The whole manifest or pair, in file offsets.
    pub range: Range<usize>,
    /// What to highlight: the name (or kind) value, or the key.
    pub selection_range: Range<usize>,
    pub children: Box<[Symbol]>,
}

/// Where a symbol is, relative to its document's first line: its range's start and end, then its
/// selection's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SymbolLines {
    pub range: [LinePosition; 2],
    pub selection: [LinePosition; 2],
}

/// Each symbol's [`SymbolLines`], then its children's, in order, into `out`.
pub(super) fn symbols_in_lines(symbols: &[Symbol], lines: &LineStarts, out: &mut Vec<SymbolLines>) {
    for symbol in symbols {
        let at = |offset| lines.position(offset);
        out.push(SymbolLines {
            range: [at(symbol.range.start), at(symbol.range.end)],
            selection: [
                at(symbol.selection_range.start),
                at(symbol.selection_range.end),
            ],
        });
        symbols_in_lines(&symbol.children, lines, out);
    }
}

/// Symbols of every document of the file, at most `limit` counting children: all top-level ones
/// that fit, then the children of the first ones whose children all fit. A document read from a
/// tree-sitter tree if it has one (or is getting one: an edited big document), else from its
/// outline (a span tree's): a first request on a big file (editors ask right after opening it)
/// then costs one saphyr pass, not a tree-sitter tree of every document (much slower to build,
/// and kept in memory).
pub fn document_symbols(
    file: &mut YamlFile,
    rope: &Rope,
    outlines: &mut OutlineCache,
    limit: usize,
    cancel: &Cancel,
) -> Result<Vec<Symbol>, Cancelled> {
    Ok(answer_symbols(file, rope, outlines, limit, cancel)?.to_symbols())
}

/// The symbols a request answers with ([`document_symbols`]), read in place: each document's
/// kept outline and how much of it the answer holds, nothing copied.
pub struct SymbolAnswer {
    pub documents: Vec<AnsweredDocument>,
}

impl SymbolAnswer {
    /// The answer without its documents' kept lines ([`AnsweredDocument::lines`]): for symbols
    /// placed in another text than the one outlined.
    pub fn without_kept_lines(mut self) -> Self {
        for document in &mut self.documents {
            document.kept_lines = false;
        }
        self
    }
}

/// The symbols of one document in a [`SymbolAnswer`].
pub struct AnsweredDocument {
    /// The document's first byte and first line in the file.
    pub start: usize,
    pub first_line: usize,
    relative: Relative,
    /// How many of the document's symbols the answer holds (its first ones).
    taken: usize,
    /// How many of those come with their children (the first ones).
    with_children: usize,
    /// Whether [`lines`](Self::lines) gives the outline's kept lines.
    kept_lines: bool,
}

impl AnsweredDocument {
    /// The symbols answered, relative to the document's start; only the first
    /// [`with_children`](Self::with_children) with their children.
    pub fn symbols(&self) -> &[Symbol] {
        &self.relative.symbols()[..self.taken]
    }

    pub fn with_children(&self) -> usize {
        self.with_children
    }

    /// The [`SymbolLines`] of every symbol of the document and its children, in order, when
    /// it was read from an outline.
    pub fn lines(&self) -> Option<&[SymbolLines]> {
        match &self.relative {
            Relative::Outline(outline) if self.kept_lines => Some(&outline.symbol_lines),
            _ => None,
        }
    }
}

impl SymbolAnswer {
    /// The symbols in file offsets.
    pub fn to_symbols(&self) -> Vec<Symbol> {
        let mut symbols = Vec::new();
        for document in &self.documents {
            for (index, symbol) in document.symbols().iter().enumerate() {
                let with_children = index < document.with_children;
                symbols.push(symbol.shifted(document.start, with_children));
            }
        }
        symbols
    }
}

/// [`document_symbols`] as a [`SymbolAnswer`].
pub fn answer_symbols(
    file: &mut YamlFile,
    rope: &Rope,
    outlines: &mut OutlineCache,
    limit: usize,
    cancel: &Cancel,
) -> Result<SymbolAnswer, Cancelled> {
    let per_document = relative_symbols(file, rope, outlines, cancel)?;
    let total: usize = per_document
        .iter()
        .map(|d| d.relative.symbols().len())
        .sum();
    let mut room = limit.saturating_sub(total);
    let mut left = limit;
    let mut documents = Vec::new();
    for mut document in per_document {
        if left == 0 {
            break;
        }
        let symbols = document.relative.symbols();
        document.taken = symbols.len().min(left);
        left -= document.taken;
        // Once a symbol's children do not fit, no later symbol's do (those without children
        // are the same either way).
        for symbol in &symbols[..document.taken] {
            if symbol.children.len() > room {
                room = 0;
                break;
            }
            room -= symbol.children.len();
            document.with_children += 1;
        }
        documents.push(document);
    }
    Ok(SymbolAnswer { documents })
}

/// A document's symbols relative to its start: its outline's, or read from its tree.
enum Relative {
    Outline(Arc<Outline>),
    Tree(Vec<Symbol>),
}

impl Relative {
    fn symbols(&self) -> &[Symbol] {
        match self {
            Relative::Outline(outline) => &outline.symbols,
            Relative::Tree(symbols) => symbols,
        }
    }
}

/// Each document's start, first line and symbols (none taken yet).
fn relative_symbols(
    file: &mut YamlFile,
    rope: &Rope,
    outlines: &mut OutlineCache,
    cancel: &Cancel,
) -> Result<Vec<AnsweredDocument>, Cancelled> {
    outlines.begin_pass_over(file, rope);
    let mut per_document = Vec::with_capacity(file.documents().len());
    let mut lines = outlines.first_lines();
    for index in 0..file.documents().len() {
        let range = file.documents()[index].range();
        let Ok(source) = outlines.source(file, rope, index, cancel) else {
            outlines.abandon_pass();
            return Err(Cancelled);
        };
        let first_line = lines.first_line(rope, range.start, source.line_breaks());
        let relative = match source {
            OutlineSource::Outline(outline) => Relative::Outline(outline),
            OutlineSource::Tree(tree) => {
                let source = RopeSource::new(rope, range.clone());
                match tree.and_then(syntax::document_root) {
                    Some(root) => {
                        Relative::Tree(symbols_of_document(TsNode::new(root, &source), 0))
                    }
                    None => continue,
                }
            }
        };
        per_document.push(AnsweredDocument {
            start: range.start,
            first_line,
            relative,
            taken: 0,
            with_children: 0,
            kept_lines: true,
        });
    }
    outlines.count_line_lookups(lines);
    outlines.end_pass();
    Ok(per_document)
}

impl Symbol {
    /// The symbol `offset` bytes further in the file, with or without its children.
    fn shifted(&self, offset: usize, with_children: bool) -> Symbol {
        let shift = |r: &Range<usize>| shift_range(r, offset as isize);
        let children = match with_children {
            true => self
                .children
                .iter()
                .map(|c| c.shifted(offset, true))
                .collect(),
            false => Box::default(),
        };
        Symbol {
            name: self.name.clone(),
            detail: self.detail.clone(),
            kind: self.kind,
            range: shift(&self.range),
            selection_range: shift(&self.selection_range),
            children,
        }
    }
}

pub(super) fn symbols_of_document<N: YamlNode>(root: N, offset: usize) -> Vec<Symbol> {
    if root.shape() != NodeShape::Mapping {
        return Vec::new();
    }
    let shift = |r: Range<usize>| shift_range(&r, offset as isize);
    let mut kind = None;
    let mut name = None;
    let mut namespace = None;
    let pairs = root.pairs();
    // Kept with the document's outline: room for its keys, not a doubled vector's.
    let mut children = Vec::with_capacity(pairs.len());
    for pair in pairs {
        let Some(key_node) = pair.key else { continue };
        let Some(key) = key_node.text() else {
            continue;
        };
        let value_shape = pair.value.map_or(NodeShape::Empty, |v| v.shape());
        let text = |n: N| n.text().map(|t| t.into_owned());
        match &*key {
            "kind" => kind = pair.value.and_then(|v| Some((text(v)?, v.range()))),
            "metadata" if value_shape == NodeShape::Mapping => {
                for meta in pair.value.map(|v| v.pairs()).unwrap_or_default() {
                    match meta.key.and_then(|k| k.text()).as_deref() {
                        Some("name") => name = meta.value.and_then(|v| Some((text(v)?, v.range()))),
                        Some("generateName") if name.is_none() => {
                            name = meta
                                .value
                                .and_then(|v| Some((format!("{}*", text(v)?), v.range())))
                        }
                        Some("namespace") => namespace = meta.value.and_then(text),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        let pair_end = match pair.value {
            Some(value) => value.range().end,
            None => key_node.range().end,
        };
        children.push(Symbol {
            name: key.into(),
            detail: None,
            kind: match value_shape {
                NodeShape::Mapping => SymbolKind::Module,
                NodeShape::Sequence => SymbolKind::Array,
                _ => SymbolKind::Field,
            },
            range: shift(key_node.start()..pair_end),
            selection_range: shift(key_node.range()),
            children: Box::default(),
        });
    }
    let Some((kind, kind_range)) = kind else {
        return children;
    };
    let (label, selection) = match name {
        Some((name, name_range)) => (format!("{kind} {name}"), name_range),
        None => (kind, kind_range),
    };
    vec![Symbol {
        name: label.into(),
        detail: namespace.map(String::into_boxed_str),
        kind: SymbolKind::Object,
        range: shift(root.start()..root.range().end),
        selection_range: shift(selection),
        children: children.into_boxed_slice(),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(text: &str) -> Vec<Symbol> {
        let rope = Rope::from_str(text);
        let mut file = YamlFile::open(&rope);
        document_symbols(
            &mut file,
            &rope,
            &mut OutlineCache::default(),
            usize::MAX,
            &Cancel::default(),
        )
        .unwrap()
    }

    #[test]
    fn one_symbol_per_manifest_with_namespace_and_top_level_keys() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n---\napiVersion: v1\nkind: Service\nmetadata:\n  generateName: svc-\n";
        let symbols = symbols(text);
        assert_eq!(symbols.len(), 2);
        assert_eq!(&*symbols[0].name, "Deployment web");
        assert_eq!(symbols[0].detail.as_deref(), Some("shop"));
        assert_eq!(&text[symbols[0].selection_range.clone()], "web");
        let keys: Vec<_> = symbols[0].children.iter().map(|c| &*c.name).collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
        assert_eq!(&*symbols[1].name, "Service svc-*");
        assert!(symbols[1].range.start > symbols[0].range.end);
    }

    #[test]
    fn non_kubernetes_yaml_lists_its_top_level_keys() {
        let symbols = symbols("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n");
        let names: Vec<_> = symbols.iter().map(|s| (&*s.name, s.kind)).collect();
        assert_eq!(
            names,
            [("on", SymbolKind::Field), ("jobs", SymbolKind::Module)]
        );
    }

    /// Symbols with their ranges ending at their last character: tree-sitter ends some nodes
    /// after the line break or the comment lines that follow them, a span tree at the character.
    fn trimmed(text: &str, symbols: impl IntoIterator<Item = Symbol>) -> Vec<Symbol> {
        let content_end = |range: Range<usize>| {
            let mut lines: Vec<&str> = text[range.clone()].trim_end().lines().collect();
            while lines.len() > 1
                && lines
                    .last()
                    .is_some_and(|l| l.trim_start().starts_with('#'))
            {
                lines.pop();
            }
            // ... and after a comment at the end of their last line.
            if let Some(last) = lines.last_mut()
                && let Some(comment) = last.find(" #")
            {
                *last = &last[..comment];
            }
            let kept = lines.iter().map(|l| l.len() + 1).sum::<usize>() - 1;
            let kept = &text[range.start..range.start + kept.min(range.len())];
            range.start..range.start + kept.trim_end().len()
        };
        symbols
            .into_iter()
            .map(|s| Symbol {
                range: content_end(s.range),
                children: trimmed(text, s.children).into(),
                ..s
            })
            .collect()
    }

    #[test]
    fn span_trees_and_tree_sitter_trees_give_the_same_symbols_on_the_corpus() {
        let symbols = |file: &mut YamlFile, rope: &Rope| {
            document_symbols(
                file,
                rope,
                &mut OutlineCache::default(),
                usize::MAX,
                &Cancel::default(),
            )
            .unwrap()
        };
        let compared = super::super::same_on_both_trees(symbols, trimmed);
        assert!(compared > 100, "{compared} symbols compared");
    }

    #[test]
    fn a_limit_keeps_the_manifests_then_the_keys_of_the_first_ones() {
        let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata: {}\n";
        let text = [manifest; 3].join("---\n");
        let rope = Rope::from_str(&text);
        let mut file = YamlFile::open(&rope);
        // Read from outlines, then from trees.
        for _ in 0..2 {
            let mut shape = |limit| -> Vec<usize> {
                let mut outlines = OutlineCache::default();
                let symbols =
                    document_symbols(&mut file, &rope, &mut outlines, limit, &Cancel::default())
                        .unwrap();
                symbols.iter().map(|s| s.children.len()).collect()
            };
            assert_eq!(shape(15), [4, 4, 4]);
            assert_eq!(shape(14), [4, 4, 0]);
            assert_eq!(shape(10), [4, 0, 0]);
            assert_eq!(shape(6), [0, 0, 0]);
            assert_eq!(shape(2), [0, 0]);
            for index in 0..3 {
                file.tree(&rope, index);
            }
        }
    }

    /// The smallest case random edits found: after an edit (the document has a tree-sitter
    /// tree then), `a` ended on the comment line below it; a fresh open ends it at `1`.
    #[test]
    fn an_edited_document_is_outlined_as_a_fresh_open_is() {
        use crate::text::{Position, PositionEncoding, TextDocument};
        let mut document = TextDocument::new("a:\n  b: 1\n  # c\nd: 2\n", 0);
        let mut file = YamlFile::open(document.rope());
        let at = Position::new(1, 6);
        let edit = document.apply_change(Some(at..at), "2", PositionEncoding::Utf16);
        file.apply_edit(document.rope(), &edit);
        file.tree(document.rope(), 0);
        let rope = document.rope().clone();
        let edited = document_symbols(
            &mut file,
            &rope,
            &mut OutlineCache::default(),
            usize::MAX,
            &Cancel::default(),
        )
        .unwrap();
        let edited_folds = super::super::folding::folding_ranges(
            &mut file,
            &rope,
            &mut OutlineCache::default(),
            &Cancel::default(),
        )
        .unwrap();
        let mut fresh = YamlFile::open(&rope);
        let symbols = document_symbols(
            &mut fresh,
            &rope,
            &mut OutlineCache::default(),
            usize::MAX,
            &Cancel::default(),
        )
        .unwrap();
        assert_eq!(edited, symbols);
        assert_eq!(symbols[0].range, 0..10, "{symbols:?}");
        let folds = super::super::folding::folding_ranges(
            &mut fresh,
            &rope,
            &mut OutlineCache::default(),
            &Cancel::default(),
        )
        .unwrap();
        assert_eq!(edited_folds, folds);
    }

    #[test]
    fn empty_and_scalar_documents_have_no_symbols() {
        assert!(symbols("").is_empty());
        assert!(symbols("# just a comment\n---\nhello\n").is_empty());
    }
}
