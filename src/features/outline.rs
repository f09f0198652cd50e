//! The outline (symbols and folding ranges) of documents that have no tree-sitter tree, from one
//! saphyr pass, kept between requests per document. Editors ask for both after opening a file
//! and again after each change; a document the change did not touch has the same answer, which
//! is kept (with its folds sorted and nested, see [`FoldSummary`]) rather than built again on
//! every request: edits mark the documents they touch ([`OutlineCache::note_edit`]), and a
//! request builds only those.

use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;
use saphyr_parser::ScanError;
use tree_sitter::Tree;

use super::folding::{DocumentFolds, Fold, FoldHead, FoldSummary, collect_span_folds};
use super::symbols::{Symbol, SymbolLines, symbols_in_lines, symbols_of_document};
use crate::text::cancel::{Cancel, Cancelled};
use crate::text::lines::LineStarts;
use crate::text::{TextEdit, retain_following};
use crate::yaml::file::{YamlFile, text_of};
use crate::yaml::spans::SpanTree;

mod splice;
mod tree_folds;
use splice::{Block, Dirty, SPLICE_MIN};
use tree_folds::TreeFolds;

/// How many symbols, and folding ranges, a file answers with at most (yaml-language-server's
/// `maxItemsComputed` default): the outermost first. A big file has tens of thousands of
/// symbols, whose response would be slow to build and big in memory as tower-lsp-server's JSON
/// values, and no editor shows them.
pub const MAX_ITEMS: usize = 5_000;

/// A document's outline, relative to its start: offsets from its first byte, lines from its
/// first line. What a folding pass reads of it comes first (`repr(C)`): with the reference
/// counts, in the first two cache lines of its allocation.
#[derive(Clone, Debug)]
#[repr(C)]
pub struct Outline {
    /// The line of the document's last character that is no line break.
    pub last_line: usize,
    /// How many line breaks the document holds: the next document starts that many lines
    /// further.
    pub line_breaks: usize,
    /// `folds`' head, kept here too: a pass over a big file's documents reads this, not the
    /// summary (an allocation of its own).
    fold_head: FoldHead,
    pub symbols: Vec<Symbol>,
    /// Where each symbol is in lines and columns, symbols and their children in order (each
    /// symbol, then its children): a response needs only the document's first line.
    pub symbol_lines: Vec<SymbolLines>,
    /// The folds sorted, without repeats, with their nesting: the folding requests read this
    /// one, not a copy.
    folds: Arc<FoldSummary>,
    /// A big document's block collections, which an edit's outline is spliced from (see
    /// `outline/splice.rs`); none for small documents and those holding an alias.
    blocks: Option<Vec<Block>>,
}

impl Outline {
    pub fn new(symbols: Vec<Symbol>, folds: Vec<Fold>, last_line: usize) -> Self {
        let folds = FoldSummary::new(folds);
        Outline {
            last_line,
            line_breaks: 0,
            fold_head: folds.head().clone(),
            symbols,
            symbol_lines: Vec::new(),
            folds: Arc::new(folds),
            blocks: None,
        }
    }

    /// The folds, sorted, without repeats.
    pub fn folds(&self) -> &[Fold] {
        self.folds.folds()
    }

    /// The folds with their nesting (see [`FoldSummary`]).
    pub fn fold_summary(&self) -> &FoldSummary {
        &self.folds
    }

    /// The folds' counts per nesting level and extent.
    pub fn fold_head(&self) -> &FoldHead {
        &self.fold_head
    }
}

impl PartialEq for Outline {
    fn eq(&self, other: &Self) -> bool {
        self.symbols == other.symbols
            && self.folds() == other.folds()
            && self.fold_head == other.fold_head
            && self.last_line == other.last_line
    }
}

impl Eq for Outline {}

/// The outlines of a file's documents, by document range (file offsets, moved by edits), in
/// order. A pass over the file (one request) keeps the outlines of the documents it finds
/// unedited at the same range and builds the others.
#[derive(Default)]
pub struct OutlineCache {
    entries: Vec<Entry>,
    /// The entries of the previous pass the current one has not reached yet, in order.
    previous: std::collections::VecDeque<Entry>,
    /// The room of the list before the previous one, empty: the next pass's.
    spare: Vec<Entry>,
    /// Outlines built since the cache was made (for tests: an edit rebuilds one document's).
    pub built: usize,
    /// Documents' first lines looked up in the rope since the cache was made (for tests: the
    /// others are carried from the document before, see [`FirstLines`]).
    pub line_lookups: usize,
    /// Outlines of edited documents spliced from their previous one (see `outline/splice.rs`)
    /// instead of built, and the bytes parsed for them (for tests).
    pub spliced: usize,
    pub spliced_bytes: usize,
    /// Fold summaries made from documents' tree-sitter trees, and the tree nodes read for them
    /// (for tests: one per text of a document saphyr rejects, however often it is asked, and
    /// after an edit only the nodes around what changed).
    pub tree_folded: usize,
    pub tree_nodes_read: usize,
    /// Documents whose folds a limited folding answer walked to pick those it keeps (for tests:
    /// it stops at the first document after the limit is reached).
    pub documents_cut: usize,
    /// Documents whose fold lists a limited folding answer read (for tests: only those it may
    /// keep folds of; the others' heads say how many folds they have).
    pub fold_lists_read: usize,
    /// Outlines the first pass over a big file built ahead on every core, in document order,
    /// by document range (`None`: saphyr rejects it); the pass takes them in turn.
    prebuilt: std::collections::VecDeque<(Range<usize>, Option<Outline>)>,
    /// Outlines built ahead so (for tests).
    pub prebuilt_count: usize,
    /// The room of a folding pass's list of documents, empty between passes: each pass fills
    /// it again (a new list, as long as a big file's thousands of documents, would be faulted
    /// in again by every request).
    pub(super) fold_room: Vec<DocumentFolds>,
}

/// A first pass with at least this many bytes of documents to outline builds their outlines on
/// every core: otherwise the editor's first outline request after opening a big file parses
/// its documents one after the other. Less is done in a few milliseconds, not worth a thread
/// (and the memory it keeps).
const PREBUILD_MIN: usize = 1024 * 1024;

/// Each document's first line in a pass over the documents in order: the line after the
/// previous document's when that one has an outline (which counts its line breaks), else looked
/// up in the rope.
#[derive(Default)]
pub struct FirstLines {
    next: Option<usize>,
    lookups: usize,
}

impl FirstLines {
    /// The first line of the document starting at `start`, whose outline (if it has one: its
    /// folds are then not read from its tree) counts `line_breaks`.
    pub fn first_line(&mut self, rope: &Rope, start: usize, line_breaks: Option<usize>) -> usize {
        let line = match self.next {
            Some(line) => line,
            None if start == 0 => 0,
            None => {
                self.lookups += 1;
                rope.byte_to_line(start)
            }
        };
        self.next = line_breaks.map(|breaks| line + breaks);
        line
    }
}

struct Entry {
    range: Range<usize>,
    edited: bool,
    /// Where the edits since the outline was built changed the text.
    dirty: Option<Dirty>,
    /// `None`: saphyr rejects that text (its tree-sitter tree answers).
    outline: Option<Arc<Outline>>,
    /// The folds of its tree-sitter tree, once asked for (then followed along edits); boxed:
    /// most documents have none, and every pass moves every entry.
    tree_folds: Option<Box<TreeFolds>>,
}

/// Where a document's outline comes from ([`OutlineCache::source`]).
pub enum OutlineSource<'f> {
    Tree(Option<&'f Tree>),
    Outline(Arc<Outline>),
}

impl OutlineSource<'_> {
    /// The line breaks its outline counts, when it has one.
    pub fn line_breaks(&self) -> Option<usize> {
        match self {
            OutlineSource::Outline(outline) => Some(outline.line_breaks),
            OutlineSource::Tree(_) => None,
        }
    }
}

/// Where a document's folds come from ([`OutlineCache::source_of_folds`]): its outline, where
/// the cache holds it ([`OutlineCache::outline_at`]), or its tree.
pub enum FoldSource<'f> {
    Tree(Option<&'f Tree>),
    Outline(usize),
}

impl OutlineCache {
    /// Notes an edit already applied to the text (`rope`: the text after it): the documents it
    /// touches are outlined again.
    pub fn note_edit(&mut self, edit: &TextEdit, rope: &Rope) {
        // Built ahead for the text before the edit (a pass stopped part way).
        self.prebuilt.clear();
        retain_following(
            &mut self.entries,
            edit,
            |entry| &mut entry.range,
            |entry, start| {
                entry.edited = true;
                entry.dirty = Some(Dirty::after(entry.dirty.take(), edit, start));
                if let Some(folds) = &mut entry.tree_folds {
                    folds.note_edit(edit, start, rope);
                }
            },
        );
    }

    /// Forgets every outline (the text was replaced, or is read another way).
    pub fn reset(&mut self) {
        self.entries.clear();
        self.previous.clear();
        self.spare = Vec::new();
        self.prebuilt.clear();
    }

    /// Starts a pass over the documents of `file`: a first pass over a big file builds their
    /// outlines ahead on every core (see [`PREBUILD_MIN`]).
    pub fn begin_pass_over(&mut self, file: &YamlFile, rope: &Rope) {
        self.begin_pass();
        if self.previous.is_empty() && self.prebuilt.is_empty() && rope.len_bytes() >= PREBUILD_MIN
        {
            self.prebuild(file, rope);
        }
    }

    /// Starts a pass over the file's documents.
    pub fn begin_pass(&mut self) {
        let mut used = std::mem::take(&mut self.entries);
        // The entries of a pass stopped part way come after those it reached.
        used.extend(std::mem::take(&mut self.previous));
        // The two lists swap their room from pass to pass: a pass usually keeps as many
        // entries, and a new list each time (a MiB for 16,730 documents) would be faulted in
        // again by every request.
        self.entries = std::mem::take(&mut self.spare);
        self.entries.reserve(used.len());
        self.previous = used.into();
    }

    /// Builds the outlines a first pass builds, of the documents saphyr reads and that keep no
    /// span tree, on every core.
    fn prebuild(&mut self, file: &YamlFile, rope: &Rope) {
        let ranges: Vec<Range<usize>> = (file.documents().iter().enumerate())
            .filter(|(index, document)| !document.rejected() && file.kept_spans(*index).is_none())
            .map(|(_, document)| document.range())
            .collect();
        let sizes: Vec<usize> = ranges.iter().map(|range| range.len()).collect();
        if sizes.iter().sum::<usize>() < PREBUILD_MIN {
            return;
        }
        let built = crate::text::threads::biggest_first(&sizes, |index| {
            build(rope, ranges[index].clone(), None)
        });
        self.prebuilt_count += built.len();
        self.prebuilt = ranges.into_iter().zip(built).collect();
    }

    /// The outline built ahead for the document at `range`, if there is one.
    fn take_prebuilt(&mut self, range: &Range<usize>) -> Option<Option<Outline>> {
        while self
            .prebuilt
            .front()
            .is_some_and(|(at, _)| at.start < range.start)
        {
            self.prebuilt.pop_front();
        }
        let (at, _) = self.prebuilt.front()?;
        if at != range {
            return None;
        }
        self.prebuilt.pop_front().map(|(_, outline)| outline)
    }

    /// A pass's [`FirstLines`].
    pub fn first_lines(&self) -> FirstLines {
        FirstLines::default()
    }

    /// Counts the rope lookups of a pass's [`FirstLines`].
    pub fn count_line_lookups(&mut self, lines: FirstLines) {
        self.line_lookups += lines.lookups;
    }

    /// Ends the pass: outlines it did not ask for belong to texts the file no longer has.
    pub fn end_pass(&mut self) {
        self.previous.clear();
        self.spare = Vec::from(std::mem::take(&mut self.previous));
        // Only a first pass builds ahead: its room (an outline's size per document) goes too.
        self.prebuilt = Default::default();
    }

    /// Ends a pass stopped part way (its request cancelled): the outlines it did not reach are
    /// kept for the next pass.
    pub fn abandon_pass(&mut self) {
        self.entries.extend(std::mem::take(&mut self.previous));
    }

    /// Where document `index` of `file` is outlined from: its kept outline, or one built from a
    /// span tree (one saphyr pass), whether the document was edited or not, so that an edited
    /// document's outline is exactly a fresh open's; only a document saphyr rejects is outlined
    /// from its tree-sitter tree, which recovers from errors (as a fresh open does too). Call it
    /// for the documents in order, within a pass.
    pub fn source<'f>(
        &mut self,
        file: &'f mut YamlFile,
        rope: &Rope,
        index: usize,
        cancel: &Cancel,
    ) -> Result<OutlineSource<'f>, Cancelled> {
        Ok(match self.source_of_folds(file, rope, index, cancel)? {
            FoldSource::Outline(at) => match self.entries.get(at) {
                Some(Entry {
                    outline: Some(outline),
                    ..
                }) => OutlineSource::Outline(outline.clone()),
                _ => OutlineSource::Tree(None),
            },
            FoldSource::Tree(tree) => OutlineSource::Tree(tree),
        })
    }

    /// [`source`](Self::source) without a reference to the outline: where the cache holds it
    /// ([`outline_at`](Self::outline_at)). `Err` once `cancel` is set, before the document is
    /// read or while its tree is parsed (the caller abandons the pass).
    pub fn source_of_folds<'f>(
        &mut self,
        file: &'f mut YamlFile,
        rope: &Rope,
        index: usize,
        cancel: &Cancel,
    ) -> Result<FoldSource<'f>, Cancelled> {
        cancel.check()?;
        let document = &file.documents()[index];
        let (range, rejected) = (document.range(), document.rejected());
        let outlined = self.outline(rope, range, file.kept_spans(index), rejected);
        // A first tree parsed meanwhile frees the span tree kept for edits, once read.
        file.adopt_ready_tree(rope, index);
        if outlined {
            return Ok(FoldSource::Outline(self.entries.len() - 1));
        }
        Ok(FoldSource::Tree(file.tree_unless(rope, index, cancel)?))
    }

    /// The outline [`source_of_folds`](Self::source_of_folds) answered with `at`, until the
    /// next pass begins.
    pub fn outline_at(&self, at: usize) -> Option<&Outline> {
        self.entries.get(at)?.outline.as_deref()
    }

    /// The folds of `tree`, the tree of the document [`source`](Self::source) last answered
    /// with it: those kept from the previous pass when its text is the same, else read (after
    /// edits, only around what they changed), kept for the next pass (an editor asks again after
    /// every change, of any document).
    pub fn tree_folds(&mut self, tree: Option<&Tree>) -> Arc<FoldSummary> {
        let Some(tree) = tree else {
            return Arc::new(FoldSummary::new(Vec::new()));
        };
        let kept = self.entries.last_mut().and_then(|e| e.tree_folds.take());
        let folds = match kept {
            Some(folds) if !folds.is_stale() => folds,
            kept => {
                let folds = match kept {
                    Some(stale) => Box::new((*stale).updated(tree)),
                    None => Box::new(TreeFolds::read(tree)),
                };
                self.tree_folded += 1;
                self.tree_nodes_read += folds.nodes_read;
                folds
            }
        };
        let summary = folds.summary();
        if let Some(entry) = self.entries.last_mut() {
            entry.tree_folds = Some(folds);
        }
        summary
    }

    /// The tree folds of the previous pass's document at `range`, if it has some.
    fn take_previous_tree_folds(&mut self, range: &Range<usize>) -> Option<Box<TreeFolds>> {
        let previous = self
            .previous
            .front_mut()
            .filter(|entry| entry.range == *range)?;
        previous.tree_folds.take()
    }

    /// The outline of the document at `range` of `rope`, or `None` when saphyr rejects it, which
    /// the YAML layer knows when `rejected` (then it is not parsed again); `kept_spans` is the
    /// span tree of its current text a big document keeps until its tree-sitter tree comes, if
    /// it has one (read instead of parsing the document again).
    fn outline(
        &mut self,
        rope: &Rope,
        range: Range<usize>,
        kept_spans: Option<&SpanTree>,
        rejected: bool,
    ) -> bool {
        while self
            .previous
            .front()
            .is_some_and(|entry| entry.range.start < range.start)
        {
            self.previous.pop_front();
        }
        let same = self.previous.front().filter(|entry| entry.range == range);
        let kept = same.is_some_and(|entry| !entry.edited);
        // An edited big document: its outline spliced from the previous one if it can be, in
        // the previous one's room (its entry is taken for that).
        let spliced = match same {
            Some(Entry {
                outline: Some(_),
                dirty: Some(_),
                ..
            }) if !kept && !rejected => self.previous.pop_front().and_then(|entry| {
                splice::splice(entry.outline?, rope, range.clone(), &entry.dirty?)
            }),
            _ => None,
        };
        let (outline, tree_folds) = match (kept, spliced) {
            (true, _) => (self.previous.pop_front())
                .map_or((None, None), |entry| (entry.outline, entry.tree_folds)),
            // Still no YAML saphyr reads: its tree's folds are followed from the previous ones.
            (false, None) if rejected => (None, self.take_previous_tree_folds(&range)),
            (false, Some((outline, parsed))) => {
                self.spliced += 1;
                self.spliced_bytes += parsed;
                (Some(Arc::new(outline)), None)
            }
            (false, None) => {
                self.built += 1;
                let built = self
                    .take_prebuilt(&range)
                    .unwrap_or_else(|| build(rope, range.clone(), kept_spans));
                match built {
                    Some(outline) => (Some(Arc::new(outline)), None),
                    None => (None, self.take_previous_tree_folds(&range)),
                }
            }
        };
        let outlined = outline.is_some();
        self.entries.push(Entry {
            range,
            edited: false,
            dirty: None,
            outline,
            tree_folds,
        });
        outlined
    }
}

/// The outline of a document from its span tree; `None` when saphyr rejects the document, but
/// an empty outline when it rejects it for nesting flow collections deeper than it reads (255
/// levels): tree-sitter's tree of such a text takes ~1 KiB and microseconds per level (a 5 MB
/// `{b: {b: …}}` took seconds and over a GiB), and no manifest nests that deep. The syntax
/// error is reported by the YAML layer as for any document.
fn build(rope: &Rope, range: Range<usize>, kept: Option<&SpanTree>) -> Option<Outline> {
    if let Some(spans) = kept {
        return Some(outline_of(spans, spans.text()));
    }
    // The text copied out of the rope (a big document's) is the tree's, not copied again: one
    // copy less at the peak of a first outline.
    let (spans, error) = match text_of(rope, range.clone()) {
        std::borrow::Cow::Borrowed(text) => SpanTree::parse(text),
        std::borrow::Cow::Owned(text) => SpanTree::parse_owned(text),
    };
    let text = spans.text();
    if let Some(error) = error {
        let lines = LineStarts::new(text);
        let last_line = lines.line_of(text.trim_end_matches(['\n', '\r']).len());
        return too_deep(&error).then(|| Outline {
            line_breaks: lines.breaks(),
            ..Outline::new(Vec::new(), Vec::new(), last_line)
        });
    }
    Some(outline_of(&spans, text))
}

/// The outline of a document of `text` from its span tree.
fn outline_of(spans: &SpanTree, text: &str) -> Outline {
    let lines = LineStarts::new(text);
    let last_line = lines.line_of(text.trim_end_matches(['\n', '\r']).len());
    let symbols = spans
        .root()
        .map_or_else(Vec::new, |root| symbols_of_document(root, 0));
    let mut folds = Vec::new();
    collect_span_folds(spans, |offset| lines.line_of(offset), &mut folds);
    let mut symbol_lines = Vec::with_capacity(count_symbols(&symbols));
    symbols_in_lines(&symbols, &lines, &mut symbol_lines);
    let blocks = match text.len() >= SPLICE_MIN {
        true => splice::blocks_of(spans, &lines),
        false => None,
    };
    Outline {
        symbol_lines,
        line_breaks: lines.breaks(),
        blocks,
        ..Outline::new(symbols, folds, last_line)
    }
}

/// How many symbols there are, their children's children included.
fn count_symbols(symbols: &[Symbol]) -> usize {
    symbols
        .iter()
        .map(|symbol| 1 + count_symbols(&symbol.children))
        .sum()
}

/// Whether saphyr stopped at its flow nesting limit.
fn too_deep(error: &ScanError) -> bool {
    error.info() == crate::yaml::lint::RECURSION_LIMIT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::PositionEncoding;

    const DOCUMENT: &str = "kind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";

    /// One pass over every document of `file`: their outlines.
    fn pass(cache: &mut OutlineCache, rope: &Rope) -> Vec<Option<Arc<Outline>>> {
        let mut file = YamlFile::open(rope);
        cache.begin_pass();
        let outlines = (0..file.documents().len())
            .map(|index| {
                match cache
                    .source(&mut file, rope, index, &Cancel::default())
                    .unwrap()
                {
                    OutlineSource::Outline(outline) => Some(outline),
                    OutlineSource::Tree(_) => None,
                }
            })
            .collect();
        cache.end_pass();
        outlines
    }

    #[test]
    fn passes_take_turns_with_two_lists_of_entries() {
        let rope = Rope::from_str(&vec!["a: 1\nb:\n  c: 2\n"; 50].join("---\n"));
        let mut cache = OutlineCache::default();
        let lists: Vec<*const Entry> = (0..4)
            .map(|_| {
                pass(&mut cache, &rope);
                cache.entries.as_ptr()
            })
            .collect();
        assert_eq!(cache.entries.len(), 50);
        // Each pass after the first fills the room the one before the previous one left: none
        // allocates a list (a big file's would be faulted in again by every request).
        assert_ne!(lists[1], lists[2]);
        assert_eq!(lists[1], lists[3]);
    }

    #[test]
    fn outlines_are_relative_and_built_once_until_an_edit_touches_their_document() {
        let text = format!("{DOCUMENT}---\n{DOCUMENT}---\n{DOCUMENT}");
        let mut rope = Rope::from_str(&text);
        let mut cache = OutlineCache::default();
        let first = pass(&mut cache, &rope);
        assert_eq!(cache.built, 3);
        let outline = first[0].as_ref().unwrap();
        assert_eq!(&*outline.symbols[0].name, "ConfigMap a");
        assert_eq!(outline.symbols[0].range, 0..DOCUMENT.len() - 1);
        let fold = |start_line, end_line| Fold {
            start_line,
            end_line,
        };
        assert_eq!(outline.folds(), [fold(1, 2), fold(3, 4)]);
        // Asked again: the same outlines, none built.
        let again = pass(&mut cache, &rope);
        assert_eq!(cache.built, 3);
        assert!(
            first
                .iter()
                .zip(&again)
                .all(|(a, b)| Arc::ptr_eq(a.as_ref().unwrap(), b.as_ref().unwrap()))
        );
        // An edit in the second document: only its outline is built again; the third moved.
        let mut document = crate::text::TextDocument::new(&text, 1);
        let line = crate::text::Position::new(8, 9);
        let edit = document.apply_change(Some(line..line), "bc", PositionEncoding::Utf8);
        cache.note_edit(&edit, document.rope());
        rope = document.rope().clone();
        let edited = pass(&mut cache, &rope);
        assert_eq!(cache.built, 4);
        assert!(Arc::ptr_eq(
            first[0].as_ref().unwrap(),
            edited[0].as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(
            first[2].as_ref().unwrap(),
            edited[2].as_ref().unwrap()
        ));
        assert_eq!(
            &*edited[1].as_ref().unwrap().symbols[0].name,
            "ConfigMap abc"
        );
        // A pass drops the outlines of documents that are gone.
        let shorter = Rope::from_str(DOCUMENT);
        let mut cache_of_shorter = OutlineCache::default();
        pass(&mut cache_of_shorter, &shorter);
        assert_eq!(cache_of_shorter.entries.len(), 1);
    }

    /// The outlines a first pass over a big file builds ahead on every core are each document's
    /// as a pass builds it alone; a later pass keeps them and builds nothing ahead.
    #[test]
    fn a_first_pass_over_a_big_file_builds_its_outlines_ahead() {
        let documents: Vec<String> = (0..24000)
            .map(|i| match i {
                2500 => "kind: ConfigMap\ndata: {k: \"unclosed\n".to_string(),
                _ => DOCUMENT.replace("name: a", &format!("name: a{i}")),
            })
            .collect();
        let text = documents.join("---\n");
        assert!(text.len() >= PREBUILD_MIN);
        let rope = Rope::from_str(&text);
        let mut file = YamlFile::open(&rope);
        let mut cache = OutlineCache::default();
        let mut first_pass = |cache: &mut OutlineCache| {
            cache.begin_pass_over(&file, &rope);
            let outlines: Vec<Option<Arc<Outline>>> = (0..file.documents().len())
                .map(|index| {
                    match cache
                        .source(&mut file, &rope, index, &Cancel::default())
                        .unwrap()
                    {
                        OutlineSource::Outline(outline) => Some(outline),
                        OutlineSource::Tree(_) => None,
                    }
                })
                .collect();
            cache.end_pass();
            outlines
        };
        let ahead = first_pass(&mut cache);
        assert_eq!((cache.prebuilt_count, cache.built), (23999, 23999));
        assert_eq!(
            cache.prebuilt.capacity(),
            0,
            "nothing kept of what was built ahead"
        );
        assert!(ahead[2500].is_none());
        assert_eq!(ahead, pass(&mut OutlineCache::default(), &rope));
        let again = first_pass(&mut cache);
        assert_eq!((cache.prebuilt_count, cache.built), (23999, 23999));
        assert_eq!(again, ahead);

        // Under a MiB to outline: built in the pass.
        let small = Rope::from_str(&documents[..1000].join("---\n"));
        let mut cache = OutlineCache::default();
        cache.begin_pass_over(&YamlFile::open(&small), &small);
        assert_eq!(cache.prebuilt_count, 0);
    }

    #[test]
    fn a_document_s_entry_stays_small() {
        // Every pass moves every document's entry (16,730 in the 10 MB bench file) twice: what
        // only some documents have is boxed.
        assert!(
            std::mem::size_of::<Entry>() <= 80,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }

    #[test]
    fn documents_saphyr_rejects_have_no_outline() {
        let rope = Rope::from_str("a: [1\n");
        let mut cache = OutlineCache::default();
        assert!(!cache.outline(&rope, 0..rope.len_bytes(), None, false));
        assert!(cache.outline_at(0).is_none());
    }

    #[test]
    fn flow_collections_nested_past_saphyr_s_limit_have_an_empty_outline() {
        let deep = |n: usize| format!("a: {}1{}\nb: 2\n", "{b: ".repeat(n), "}".repeat(n));
        let mut cache = OutlineCache::default();
        let rope = Rope::from_str(&deep(300));
        assert!(cache.outline(&rope, 0..rope.len_bytes(), None, false));
        assert_eq!(
            cache.outline_at(0),
            Some(&Outline::new(Vec::new(), Vec::new(), 1))
        );
        // Below the limit the outline is read as usual.
        let mut cache = OutlineCache::default();
        let rope = Rope::from_str(&deep(200));
        assert!(cache.outline(&rope, 0..rope.len_bytes(), None, false));
        assert_eq!(cache.outline_at(0).unwrap().symbols.len(), 2);
    }
}
