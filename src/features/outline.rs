//! The outline (symbols and folding ranges) of documents that have no tree-sitter tree, from one
//! saphyr pass, kept between requests. Editors ask for both after opening a file and again after
//! each change; a document the change did not touch has the same answer, which is kept rather
//! than built again (a saphyr pass over the document) on every request.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hasher};
use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;
use saphyr_parser::ScanError;
use tree_sitter::Tree;

use super::folding::{Fold, collect_span_folds};
use super::symbols::{Symbol, symbols_of_document};
use crate::yaml::file::{YamlFile, text_of};
use crate::yaml::spans::SpanTree;

/// How many symbols, and folding ranges, a file answers with at most (yaml-language-server's
/// `maxItemsComputed` default): the outermost first. A big file has tens of thousands of
/// symbols, whose response would be slow to build and big in memory as tower-lsp-server's JSON
/// values, and no editor shows them.
pub const MAX_ITEMS: usize = 5_000;

/// A document's outline, relative to its start: offsets from its first byte, lines from its
/// first line.
#[derive(Debug, PartialEq, Eq)]
pub struct Outline {
    pub symbols: Vec<Symbol>,
    pub folds: Vec<Fold>,
}

/// Outlines by document text. An entry lives while the documents of the file still have its
/// text: each pass over the file (one request) keeps the entries it used and drops the rest.
#[derive(Default)]
pub struct OutlineCache {
    /// `None`: saphyr rejects that text (its tree-sitter tree answers).
    entries: HashMap<TextKey, Option<Arc<Outline>>>,
    /// The entries of the previous pass, until this one takes them.
    previous: HashMap<TextKey, Option<Arc<Outline>>>,
}

/// Where a document's outline comes from ([`OutlineCache::source`]).
pub enum OutlineSource<'f> {
    Tree(Option<&'f Tree>),
    Outline(Arc<Outline>),
}

/// A document's text, by its length and a hash of its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct TextKey {
    len: usize,
    hash: u64,
}

impl TextKey {
    fn of(rope: &Rope, range: Range<usize>) -> Self {
        // SipHash streams: the same bytes hash the same however the rope cuts them in chunks.
        let mut hasher = DefaultHasher::new();
        for chunk in rope.byte_slice(range.clone()).chunks() {
            hasher.write(chunk.as_bytes());
        }
        TextKey {
            len: range.len(),
            hash: hasher.finish(),
        }
    }
}

impl OutlineCache {
    /// Starts a pass over the file's documents.
    pub fn begin_pass(&mut self) {
        let used = std::mem::take(&mut self.entries);
        self.previous.extend(used);
    }

    /// Ends the pass: outlines it did not ask for belong to texts the file no longer has.
    pub fn end_pass(&mut self) {
        self.previous.clear();
    }

    /// Ends a pass stopped part way (its request cancelled): the outlines it did not reach are
    /// kept for the next pass.
    pub fn abandon_pass(&mut self) {
        for (key, outline) in std::mem::take(&mut self.previous) {
            self.entries.entry(key).or_insert(outline);
        }
    }

    /// Where document `index` of `file` is outlined from: its kept outline, or one built from a
    /// span tree (one saphyr pass), whether the document was edited or not, so that an edited
    /// document's outline is exactly a fresh open's; only a document saphyr rejects is outlined
    /// from its tree-sitter tree, which recovers from errors (as a fresh open does too).
    pub fn source<'f>(
        &mut self,
        file: &'f mut YamlFile,
        rope: &Rope,
        index: usize,
    ) -> OutlineSource<'f> {
        let range = file.documents()[index].range();
        if let Some(outline) = self.outline(rope, range) {
            return OutlineSource::Outline(outline);
        }
        OutlineSource::Tree(file.tree(rope, index))
    }

    /// The outline of the document at `range` of `rope`, or `None` when saphyr rejects it.
    fn outline(&mut self, rope: &Rope, range: Range<usize>) -> Option<Arc<Outline>> {
        let key = TextKey::of(rope, range.clone());
        if let Some(outline) = self.entries.get(&key) {
            return outline.clone();
        }
        let outline = match self.previous.remove(&key) {
            Some(outline) => outline,
            None => build(rope, range).map(Arc::new),
        };
        self.entries.insert(key, outline.clone());
        outline
    }
}

/// The outline of a document from its span tree; `None` when saphyr rejects the document, but
/// an empty outline when it rejects it for nesting flow collections deeper than it reads (255
/// levels): tree-sitter's tree of such a text takes ~1 KiB and microseconds per level (a 5 MB
/// `{b: {b: …}}` took seconds and over a GiB), and no manifest nests that deep. The syntax
/// error is reported by the YAML layer as for any document.
fn build(rope: &Rope, range: Range<usize>) -> Option<Outline> {
    let (spans, error) = SpanTree::parse(&text_of(rope, range.clone()));
    if let Some(error) = error {
        return too_deep(&error).then(|| Outline {
            symbols: Vec::new(),
            folds: Vec::new(),
        });
    }
    let symbols = spans
        .root()
        .map_or_else(Vec::new, |root| symbols_of_document(root, 0));
    let first_line = rope.byte_to_line(range.start);
    let line_of = |offset: usize| rope.byte_to_line(range.start + offset) - first_line;
    let mut folds = Vec::new();
    collect_span_folds(&spans, line_of, &mut folds);
    Some(Outline { symbols, folds })
}

/// Whether saphyr stopped at its flow nesting limit.
fn too_deep(error: &ScanError) -> bool {
    error.info() == "recursion limit exceeded"
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = "kind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";

    #[test]
    fn a_text_has_one_key_however_the_rope_is_cut() {
        let long = format!("{}{DOCUMENT}", "# padding\n".repeat(5_000));
        let rope = Rope::from_str(&long);
        let at = long.len() - DOCUMENT.len();
        assert!(rope.byte_slice(at..).chunks().count() > 1 || rope.chunks().count() > 1);
        let small = Rope::from_str(DOCUMENT);
        assert_eq!(
            TextKey::of(&rope, at..long.len()),
            TextKey::of(&small, 0..DOCUMENT.len())
        );
        // A text cut across many chunks hashes as one piece.
        let big = "x: 1\n".repeat(20_000);
        let mut built = Rope::new();
        for piece in big.as_bytes().chunks(777) {
            built.insert(built.len_chars(), std::str::from_utf8(piece).unwrap());
        }
        assert!(built.chunks().count() > 10);
        assert_eq!(
            TextKey::of(&built, 0..big.len()),
            TextKey::of(&Rope::from_str(&big), 0..big.len())
        );
        assert_ne!(
            TextKey::of(&small, 0..DOCUMENT.len() - 1),
            TextKey::of(&small, 1..DOCUMENT.len())
        );
    }

    #[test]
    fn outlines_are_relative_and_kept_while_their_text_is_there() {
        let text = format!("{DOCUMENT}---\n{DOCUMENT}");
        let rope = Rope::from_str(&text);
        let second = DOCUMENT.len() + 4..text.len();
        let mut cache = OutlineCache::default();
        cache.begin_pass();
        let first = cache.outline(&rope, 0..DOCUMENT.len()).unwrap();
        let again = cache.outline(&rope, second.clone()).unwrap();
        cache.end_pass();
        assert!(Arc::ptr_eq(&first, &again), "same text, one outline");
        assert_eq!(first.symbols[0].name, "ConfigMap a");
        assert_eq!(first.symbols[0].range, 0..DOCUMENT.len() - 1);
        let fold = |start_line, end_line| Fold {
            start_line,
            end_line,
        };
        assert_eq!(first.folds, [fold(1, 2), fold(3, 4)]);
        // A pass that does not ask for a text drops its outline.
        cache.begin_pass();
        cache.end_pass();
        cache.begin_pass();
        let rebuilt = cache.outline(&rope, second).unwrap();
        assert!(!Arc::ptr_eq(&first, &rebuilt));
        assert_eq!(*first, *rebuilt);
    }

    #[test]
    fn documents_saphyr_rejects_have_no_outline() {
        let rope = Rope::from_str("a: [1\n");
        let mut cache = OutlineCache::default();
        assert!(cache.outline(&rope, 0..rope.len_bytes()).is_none());
    }

    #[test]
    fn flow_collections_nested_past_saphyr_s_limit_have_an_empty_outline() {
        let deep = |n: usize| format!("a: {}1{}\nb: 2\n", "{b: ".repeat(n), "}".repeat(n));
        let mut cache = OutlineCache::default();
        let rope = Rope::from_str(&deep(300));
        let outline = cache.outline(&rope, 0..rope.len_bytes());
        assert_eq!(
            outline.as_deref(),
            Some(&Outline {
                symbols: Vec::new(),
                folds: Vec::new()
            })
        );
        // Below the limit the outline is read as usual.
        let rope = Rope::from_str(&deep(200));
        let outline = cache.outline(&rope, 0..rope.len_bytes()).unwrap();
        assert_eq!(outline.symbols.len(), 2);
    }
}
