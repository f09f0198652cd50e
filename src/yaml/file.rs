//! A YAML file as a list of documents, kept up to date edit by edit.
//!
//! Opening a file splits it (by lines) and checks each document with saphyr's event parser — fast,
//! no syntax tree needed. A document's tree-sitter tree is built the first time something needs it
//! (an edit inside it, a broken document's outline) and from then on re-parsed incrementally. A
//! big document that keeps the span tree of its check has its edits re-check only the entries
//! around them on that tree (see [`kept`]) and gets a tree-sitter tree only for a broken text's
//! outline; another big one gets its first tree on a thread of its own at its first edit (see
//! [`background`]). An edit touches one
//! document unless it adds or removes a marker line (`---`, `...`, `%…`); then the file is split
//! again and only documents whose text changed are parsed again.

use std::ops::Range;
use std::sync::Arc;

use ropey::Rope;
use tree_sitter::{Node, Tree};

use super::lint;
use super::spans::SpanTree;
use super::split::{self, MarkerLine};
use super::syntax::{self, RopeSource};
use crate::diagnostic::{Diagnostic, codes};
use crate::text::cancel::{Cancel, Cancelled};
use crate::text::{TextEdit, shift_range};

mod background;
mod broken;
mod kept;
mod parallel;
mod resplit;
use background::{BACKGROUND_TREE_MIN, TreeInProgress};
use broken::{LastGood, mend};
use kept::{Edited, KeptSpans};
pub use parallel::FileText;
use parallel::check_all;

/// Documents up to this size are re-checked whole with saphyr after each edit (cheap at this
/// size); bigger ones are re-checked only where the tree changed.
const WHOLE_RECHECK_LIMIT: usize = 64 * 1024;

/// One document of a file.
#[derive(Debug)]
pub struct YamlDocument {
    range: Range<usize>,
    tree: Option<Tree>,
    /// The first tree of a big document, while it is parsed in the background.
    building: Option<Box<TreeInProgress>>,
    /// The span tree saphyr's check built on open, until validation takes it.
    spans: Option<Box<SpanTree>>,
    /// YAML diagnostics, relative to the document's start.
    diagnostics: Vec<Diagnostic>,
    /// Where the text changed since the layer above last asked ([`YamlFile::take_changes`]).
    changes: Changes,
    /// While an edit left the document broken (its tree has errors): its last clean state,
    /// followed along the edits since, to re-parse against once it parses again.
    last_good: Option<Box<LastGood>>,
    /// A big document's span tree, until it gets a tree-sitter tree: its edits re-check only
    /// the entries around them (see `file/kept.rs`).
    kept: Option<Box<KeptSpans>>,
}

/// Where a document's text changed since [`YamlFile::take_changes`] last asked: what an edit
/// can have changed for the layers above (validation redoes only that part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Changes {
    Nowhere,
    /// Only inside this range (of the new text, relative to the document's start); tree-sitter's
    /// changed ranges included, so it covers every node whose shape changed.
    Within(Range<usize>),
    /// Unknown: the document was checked from scratch.
    Anywhere,
}

impl Changes {
    /// These changes, in the text after `edit` (offsets relative to the document at `doc_start`).
    fn moved(self, edit: &TextEdit, doc_start: usize) -> Changes {
        match self {
            Changes::Within(before) => Changes::Within(edit.map_range(&before, doc_start)),
            other => other,
        }
    }

    /// These changes followed by an edit (offsets relative to the document) that changed the
    /// syntax tree inside `changed`.
    fn then(self, edit: &TextEdit, doc_start: usize, changed: Range<usize>) -> Changes {
        match self {
            Changes::Nowhere => Changes::Within(changed),
            Changes::Within(before) => {
                let before = edit.map_range(&before, doc_start);
                Changes::Within(before.start.min(changed.start)..before.end.max(changed.end))
            }
            Changes::Anywhere => Changes::Anywhere,
        }
    }
}

impl YamlDocument {
    fn checked(rope: &Rope, range: Range<usize>) -> Self {
        match text_of(rope, range.clone()) {
            std::borrow::Cow::Borrowed(text) => Self::checked_text(text, range),
            // Copied out of the rope already: the span tree keeps this copy, not one more (an
            // edit in a big document before its tree is there: one copy of it less).
            std::borrow::Cow::Owned(text) => {
                let length = text.len();
                Self::from_check(lint::check_shared(&Arc::new(text), 0..length), range)
            }
        }
    }

    /// A document checked from its text (`text` is the document's, `range` where it is).
    fn checked_text(text: &str, range: Range<usize>) -> Self {
        Self::from_check(lint::check(text), range)
    }

    /// A document checked from `range` of the file's text, its span tree sharing the text.
    fn checked_shared(file: &Arc<String>, range: Range<usize>) -> Self {
        Self::from_check(lint::check_shared(file, range.clone()), range)
    }

    fn from_check(checked: lint::Checked, range: Range<usize>) -> Self {
        Self {
            range,
            tree: None,
            building: None,
            spans: checked.tree.map(Box::new),
            diagnostics: checked.diagnostics,
            changes: Changes::Anywhere,
            last_good: None,
            kept: None,
        }
    }

    /// Takes the span tree saphyr's check built, if it is still there (none after a syntax error).
    pub fn take_spans(&mut self) -> Option<SpanTree> {
        self.spans.take().map(|spans| *spans)
    }

    /// Gives back the span tree [`take_spans`](Self::take_spans) gave, once read: a big
    /// document without a tree-sitter tree keeps it for its next edits (see `file/kept.rs`).
    pub fn keep_spans(&mut self, spans: SpanTree) {
        self.keep_spans_from(spans, BACKGROUND_TREE_MIN);
    }

    /// [`keep_spans`](Self::keep_spans) when the document has at least `big` bytes.
    fn keep_spans_from(&mut self, spans: SpanTree, big: usize) {
        let waits_for_tree = self.tree.is_none() && self.range.len() >= big;
        if waits_for_tree && !has_syntax_error(&self.diagnostics) {
            self.kept = KeptSpans::new(spans, &self.diagnostics).map(Box::new);
        }
    }

    /// The document's byte range in the file.
    pub fn range(&self) -> Range<usize> {
        self.range.clone()
    }

    /// Whether saphyr rejects the document's current text (other than for nesting too deep), as
    /// its diagnostics, which are a whole check's, say. `false` does not prove that it parses: a
    /// tab in the indentation of the error's line is reported instead of the syntax error.
    pub fn rejected(&self) -> bool {
        self.diagnostics.iter().any(lint::rejects_text)
    }

    /// YAML diagnostics with file offsets.
    pub fn diagnostics(&self) -> impl Iterator<Item = Diagnostic> + '_ {
        self.diagnostics_kept().map(|(d, by)| d.clone().shifted(by))
    }

    /// YAML diagnostics as kept (document offsets), each with what shifts it to file offsets.
    pub fn diagnostics_kept(&self) -> impl Iterator<Item = (&Diagnostic, isize)> + '_ {
        let start = self.range.start as isize;
        self.diagnostics.iter().map(move |d| (d, start))
    }
}

/// Counters that tests and benchmarks read to prove edits stay local.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Documents checked or parsed from scratch.
    pub full: usize,
    /// Incremental re-parses of an existing tree.
    pub incremental: usize,
    /// Times an edit changed the document split.
    pub resplits: usize,
    /// Bytes split again by those edits (the window around each, not the whole file).
    pub resplit_bytes: usize,
    /// Document ranges the windows held.
    pub resplit_documents: usize,
    /// Documents (of `full`) parsed as two parts on two threads.
    pub two_part: usize,
    /// Documents checked whole by saphyr again after an incremental re-parse (broken, small, or
    /// changed over a big region).
    pub whole_rechecks: usize,
    /// Edits of a big document without its tree whose entries around them were parsed alone
    /// and spliced into its kept span tree (`file/kept.rs`), and the bytes parsed for them.
    pub spliced: usize,
    pub spliced_bytes: usize,
    /// Re-parses of a mended document against its last clean tree ([`LastGood`]).
    pub mended: usize,
    /// Broken documents whose syntax error was found by checking only the block mapping around
    /// the edits (`broken::check_around`).
    pub checked_around: usize,
}

#[derive(Debug)]
pub struct YamlFile {
    documents: Vec<YamlDocument>,
    markers: Vec<MarkerLine>,
    stats: ParseStats,
    /// Documents up to this size are re-checked whole after an edit ([`WHOLE_RECHECK_LIMIT`];
    /// tests lower it to take the incremental path on small documents).
    whole_recheck_limit: usize,
    /// Documents from this size keep their span tree for their edits, or (when they keep none)
    /// get their first tree-sitter tree in the background ([`BACKGROUND_TREE_MIN`]; tests
    /// lower it).
    big_document: usize,
    /// Whether edits give documents their tree-sitter tree (tests turn it off to keep a document
    /// on its kept span tree).
    builds_trees: bool,
}

impl YamlFile {
    /// Splits and checks every document of `rope` (on all cores for big files).
    pub fn open(rope: &Rope) -> Self {
        Self::open_with(rope, &|_| ()).0
    }

    /// [`open`](Self::open), calling `visit` on each document right after its check, on the
    /// same thread (documents are spread over the cores): the caller can use and drop the span
    /// tree while it is hot, instead of keeping every document's tree until all are checked.
    pub fn open_with<T: Send>(
        rope: &Rope,
        visit: &(dyn Fn(&mut YamlDocument) -> T + Sync),
    ) -> (Self, Vec<T>) {
        Self::open_text_with(
            Arc::new(text_of(rope, 0..rope.len_bytes()).into_owned()),
            visit,
        )
    }

    /// [`open_with`](Self::open_with) from the file's text as one string (what the rope holds):
    /// documents are checked on slices of it, without copying them out of a rope.
    pub fn open_text_with<T: Send>(
        text: Arc<String>,
        visit: &(dyn Fn(&mut YamlDocument) -> T + Sync),
    ) -> (Self, Vec<T>) {
        let split = split::split(&text);
        Self::open_split_with(FileText::Whole(&text), split, visit)
    }

    /// [`open_text_with`](Self::open_text_with) when the text is already split, from `text`
    /// (see [`FileText`]: the span trees of the documents share the whole text, or each has
    /// its own copy out of the rope).
    pub fn open_split_with<T: Send>(
        text: FileText<'_>,
        split: split::Split,
        visit: &(dyn Fn(&mut YamlDocument) -> T + Sync),
    ) -> (Self, Vec<T>) {
        let parallel::CheckedAll {
            documents,
            visited,
            two_part,
        } = check_all(text, split.documents, visit);
        let stats = ParseStats {
            full: documents.len(),
            two_part,
            ..ParseStats::default()
        };
        let file = Self {
            documents,
            markers: split.markers,
            stats,
            whole_recheck_limit: WHOLE_RECHECK_LIMIT,
            big_document: BACKGROUND_TREE_MIN,
            builds_trees: true,
        };
        (file, visited)
    }

    /// Re-checks documents over `limit` bytes incrementally after edits (tests use small ones).
    #[cfg(test)]
    pub(crate) fn recheck_whole_up_to(&mut self, limit: usize) {
        self.whole_recheck_limit = limit;
    }

    /// Keeps the span tree of documents from `big` bytes, and never gives a document its
    /// tree-sitter tree on an edit: edits take the kept span tree's path (tests).
    #[cfg(test)]
    pub(crate) fn keep_spans_without_trees(&mut self, big: usize) {
        self.big_document = big;
        self.builds_trees = false;
    }

    pub fn documents(&self) -> &[YamlDocument] {
        &self.documents
    }

    /// Whether `ranges` are the documents' ranges, in order (a layer's per-document entries
    /// still line up with the documents: the edit added or removed none).
    pub fn has_ranges<'r>(&self, ranges: impl ExactSizeIterator<Item = &'r Range<usize>>) -> bool {
        ranges.len() == self.documents.len()
            && ranges
                .zip(&self.documents)
                .all(|(range, document)| *range == document.range())
    }

    /// A layer's per-document entries (in document order) matched to the documents again after
    /// an edit added or removed some: an entry at a document's range is kept when `keep` says
    /// so; a document without one gets `fresh(its index, the entry that started where it
    /// starts)`; the entries of documents that are gone go to `gone`. The entries, and the
    /// indexes of the fresh ones.
    pub fn rematch<E>(
        &self,
        entries: Vec<E>,
        range: impl Fn(&E) -> &Range<usize>,
        keep: impl Fn(&E) -> bool,
        mut fresh: impl FnMut(usize, Option<E>) -> E,
        mut gone: impl FnMut(E),
    ) -> (Vec<E>, Vec<usize>) {
        let mut old = entries.into_iter().peekable();
        let mut matched = Vec::with_capacity(self.documents.len());
        let mut fresh_at = Vec::new();
        for (index, document) in self.documents.iter().enumerate() {
            let at = document.range();
            while let Some(entry) = old.next_if(|e| range(e).start < at.start) {
                gone(entry);
            }
            match old.next_if(|e| *range(e) == at && keep(e)) {
                Some(entry) => matched.push(entry),
                None => {
                    let before = old.next_if(|e| range(e).start == at.start);
                    fresh_at.push(matched.len());
                    matched.push(fresh(index, before));
                }
            }
        }
        old.for_each(gone);
        (matched, fresh_at)
    }

    pub fn stats(&self) -> ParseStats {
        self.stats
    }

    /// All YAML diagnostics of the file, in file offsets.
    pub fn diagnostics(&self) -> impl Iterator<Item = Diagnostic> + '_ {
        self.documents.iter().flat_map(YamlDocument::diagnostics)
    }

    /// All YAML diagnostics as kept, each with what shifts it to file offsets (nothing cloned).
    pub fn diagnostics_kept(&self) -> impl Iterator<Item = (&Diagnostic, isize)> + '_ {
        self.documents
            .iter()
            .flat_map(YamlDocument::diagnostics_kept)
    }

    /// The index of the document holding `offset` (the last one for offsets past the end).
    pub fn document_index_at(&self, offset: usize) -> usize {
        let after = self.documents.partition_point(|d| d.range.start <= offset);
        after.saturating_sub(1)
    }

    /// Takes the span tree document `index` got when the file was opened (valid until an edit).
    pub fn take_spans(&mut self, index: usize) -> Option<SpanTree> {
        self.documents.get_mut(index)?.take_spans()
    }

    /// The span tree of document `index`, while it is there (see [`take_spans`](Self::take_spans)),
    /// else the one a big document keeps for its edits.
    pub fn spans(&self, index: usize) -> Option<&SpanTree> {
        let document = self.documents.get(index)?;
        document.spans.as_deref().or_else(|| self.kept_spans(index))
    }

    /// [`YamlDocument::keep_spans`] of document `index`.
    pub fn keep_spans(&mut self, index: usize, spans: SpanTree) {
        if let Some(document) = self.documents.get_mut(index) {
            document.keep_spans_from(spans, self.big_document);
        }
    }

    /// The span tree of the current text that big document `index` keeps for its edits (see
    /// `file/kept.rs`); none while an edit left it broken.
    pub fn kept_spans(&self, index: usize) -> Option<&SpanTree> {
        self.documents.get(index)?.kept.as_ref()?.current()
    }

    /// Drops the span trees nobody took: they are only good for the text they were built from.
    pub fn discard_spans(&mut self) {
        for document in &mut self.documents {
            document.spans = None;
        }
    }

    /// Where document `index` changed since the last call (see [`Changes`]).
    pub fn take_changes(&mut self, index: usize) -> Changes {
        self.documents
            .get_mut(index)
            .map_or(Changes::Anywhere, |d| {
                std::mem::replace(&mut d.changes, Changes::Nowhere)
            })
    }

    /// Whether an edit broke document `index` (its tree has errors) and it keeps its last clean
    /// state for the edit that mends it.
    pub fn is_broken(&self, index: usize) -> bool {
        self.documents.get(index).is_some_and(|d| {
            d.last_good.is_some() || d.kept.as_deref().is_some_and(KeptSpans::is_broken)
        })
    }

    /// The syntax tree of document `index` if it has one already.
    pub fn existing_tree(&self, index: usize) -> Option<&Tree> {
        self.documents.get(index)?.tree.as_ref()
    }

    /// Whether document `index`'s first tree is being parsed in the background (see
    /// `file/background.rs`); [`YamlFile::tree_unless`] waits for it.
    pub fn tree_in_progress(&self, index: usize) -> bool {
        self.documents
            .get(index)
            .is_some_and(|d| d.building.is_some())
    }

    /// Takes document `index`'s first tree if its background parse is done (no edit came since
    /// to take it), dropping the span tree the document kept meanwhile; not while an edit left
    /// the document broken (the edit that mends it takes the tree).
    pub fn adopt_ready_tree(&mut self, rope: &Rope, index: usize) {
        let Some(document) = self.documents.get_mut(index) else {
            return;
        };
        if document.kept.as_deref().is_some_and(KeptSpans::is_broken) {
            return;
        }
        if let Some(building) = document.building.take() {
            match building.try_finish(rope, document.range.clone()) {
                Ok(tree) => {
                    document.tree = tree;
                    document.kept = None;
                }
                Err(building) => document.building = Some(Box::new(building)),
            }
        }
    }

    /// [`tree_unless`](Self::tree_unless), never stopped (tests).
    #[cfg(test)]
    pub fn tree(&mut self, rope: &Rope, index: usize) -> Option<&Tree> {
        self.tree_unless(rope, index, &Cancel::default()).ok()?
    }

    /// The syntax tree of document `index`, parsed now if it has none yet; the parse stops once
    /// `cancel` is set (a big document's parse would hold the document from the edit that made
    /// the request stale). A broken document on its kept span tree gets a tree of its text
    /// beside it (see `file/kept.rs`): the edit that mends it splices the span tree again, and no
    /// tree is kept after that.
    pub fn tree_unless(
        &mut self,
        rope: &Rope,
        index: usize,
        cancel: &Cancel,
    ) -> Result<Option<&Tree>, Cancelled> {
        let Some(document) = self.documents.get_mut(index) else {
            return Ok(None);
        };
        let range = document.range.clone();
        if document.kept.as_deref().is_some_and(KeptSpans::is_broken) {
            let kept = document.kept.as_deref_mut().expect("a kept span tree");
            return kept.broken_tree(rope, range, cancel);
        }
        if document.tree.is_none() {
            // A tree on its way is nearer done than a new parse.
            document.tree = match document.building.take() {
                Some(building) => building.finish(rope, range.clone()),
                None => None,
            };
            if document.tree.is_none() {
                document.tree = Some(syntax::parse_unless(rope, range, None, cancel)?);
                self.stats.full += 1;
            }
            document.kept = None;
        }
        Ok(document.tree.as_ref())
    }

    /// Brings the file up to date with `rope`, which already has `edit` applied.
    pub fn apply_edit(&mut self, rope: &Rope, edit: &TextEdit) {
        self.discard_spans();
        if self.edit_changes_split(rope, edit) {
            self.resplit(rope, edit);
            return;
        }
        let index = self.document_index_at(edit.start);
        self.shift_after(index, edit);
        let doc_line = rope.byte_to_line(self.documents[index].range.start);
        let document = &mut self.documents[index];
        document.range.end = document.range.end.saturating_add_signed(edit.delta());
        match document.tree.take() {
            Some(mut old_tree) => {
                let doc_start = document.range.start;
                syntax::edit_tree(&mut old_tree, edit, doc_start, doc_line);
                if let Some(last_good) = &mut document.last_good {
                    last_good.follow(edit, doc_start, doc_line);
                }
                // A broken document is re-parsed against its last clean tree: against the broken
                // tree, the edit that mends it would have tree-sitter read all the rest of the
                // document again. What differs from the clean state holds what differs from the
                // broken tree before the edit.
                let (base, edited) = match &document.last_good {
                    Some(good) => (&good.tree, good.edited.clone()),
                    None => {
                        let start = edit.start - doc_start;
                        (&old_tree, start..start + (edit.new_end - edit.start))
                    }
                };
                let tree = syntax::parse(rope, document.range.clone(), Some(base));
                let changed = changed_span(base, &tree, edited.start, edited.end);
                self.stats.incremental += 1;
                let clean = !tree.root_node().has_error();
                let had_syntax_error = has_syntax_error(&document.diagnostics);
                if clean && let Some(last_good) = document.last_good.take() {
                    drop(old_tree);
                    self.stats.mended += 1;
                    self.stats.whole_rechecks += mend(
                        document,
                        rope,
                        *last_good,
                        (tree, changed),
                        self.whole_recheck_limit,
                    ) as usize;
                    return;
                }
                if !clean && !had_syntax_error && document.last_good.is_none() {
                    document.last_good = Some(Box::new(LastGood {
                        tree: old_tree.clone(),
                        diagnostics: moved_along(&document.diagnostics, edit, doc_start),
                        edited: edit.start - doc_start..edit.new_end - doc_start,
                        pending: document.changes.clone().moved(edit, doc_start),
                    }));
                }
                let changes = std::mem::replace(&mut document.changes, Changes::Anywhere);
                document.changes = changes.then(edit, doc_start, changed.clone());
                let around = match &document.last_good {
                    Some(last_good) if document.range.len() > self.whole_recheck_limit => {
                        broken::check_around(rope, document.range.clone(), last_good)
                    }
                    _ => None,
                };
                if let Some(diagnostics) = around {
                    self.stats.checked_around += 1;
                    document.diagnostics = diagnostics;
                    document.spans = None;
                    document.tree = Some(tree);
                    return;
                }
                let kept = kept_past(std::mem::take(&mut document.diagnostics), edit, doc_start);
                self.stats.whole_rechecks += recheck(
                    document,
                    rope,
                    kept,
                    had_syntax_error,
                    changed,
                    &tree,
                    self.whole_recheck_limit,
                ) as usize;
                document.tree = Some(tree);
            }
            None => self.edit_without_tree(rope, edit, index, doc_line),
        }
    }

    /// [`apply_edit`](Self::apply_edit) of document `index`, which has no tree-sitter tree: the
    /// first edit of the document, a big one on its kept span tree, or one whose first tree is
    /// still being parsed.
    fn edit_without_tree(&mut self, rope: &Rope, edit: &TextEdit, index: usize, doc_line: usize) {
        let document = &mut self.documents[index];
        let range = document.range.clone();
        if let Some(building) = &mut document.building {
            building.record(edit, range.start, doc_line);
        }
        let changes = document.changes.clone();
        let keeps_spans = document.kept.is_some();
        let edited = (document.kept.take())
            .map(|kept| kept.edit(rope, (range.clone(), doc_line), edit, changes));
        let unspliced = match edited {
            Some(Edited::Spliced(splice)) => {
                self.stats.spliced += 1;
                self.stats.spliced_bytes += splice.checked;
                document.diagnostics = splice.diagnostics;
                document.changes = splice.changes;
                document.kept = Some(Box::new(splice.kept));
                None
            }
            Some(Edited::Unspliced(kept)) => Some(kept),
            None => None,
        };
        let around = unspliced
            .as_ref()
            .and_then(|kept| kept.check_around(rope, range.clone()));
        if let Some(diagnostics) = around {
            // Broken: its syntax error found from the block mapping around the edits on.
            self.stats.checked_around += 1;
            document.diagnostics = diagnostics;
            document.changes = Changes::Anywhere;
            document.kept = unspliced.map(Box::new);
        } else if document.kept.is_none() {
            // Checked whole; a tree kept for the edit that mends the entries stays while the
            // document is broken.
            let building = document.building.take();
            *document = YamlDocument::checked(rope, range.clone());
            self.stats.full += 1;
            document.building = building;
            if has_syntax_error(&document.diagnostics) {
                document.kept = unspliced.map(Box::new);
            }
        }
        let broken = document.kept.as_deref().is_some_and(KeptSpans::is_broken);
        if !self.builds_trees {
            return;
        }
        match document.building.take() {
            // Taken once the edit that mends the document comes, with that edit.
            Some(building) if broken => {
                document.building = Some(building);
                return;
            }
            Some(building) => match building.try_finish(rope, range.clone()) {
                Ok(tree) => document.tree = tree,
                Err(building) => {
                    document.building = Some(Box::new(building));
                    return;
                }
            },
            None if range.len() >= self.big_document => {
                // A document on its kept span tree gets its tree only once something needs it
                // (a broken document's folds): its edits, validation and outline need none.
                // Others are started from a clean text only: the edit that mends a broken one
                // would have tree-sitter read the rest of the document again.
                if keeps_spans || broken || has_syntax_error(&document.diagnostics) {
                    return;
                }
                document.building = TreeInProgress::start(rope, range.clone()).map(Box::new);
                if document.building.is_some() {
                    return;
                }
            }
            None => {}
        }
        if document.tree.is_none() {
            document.tree = Some(syntax::parse(rope, range, None));
        }
        document.kept = None;
    }

    /// Whether the edit touched a marker line before, or made one.
    fn edit_changes_split(&self, rope: &Rope, edit: &TextEdit) -> bool {
        let first = self.markers.partition_point(|m| m.range.end < edit.start);
        let touched_old = self
            .markers
            .get(first)
            .is_some_and(|m| m.range.start <= edit.old_end);
        touched_old || !new_markers(rope, edit.start, edit.new_end).is_empty()
    }

    /// Moves the documents and markers after document `index` by the edit's delta.
    fn shift_after(&mut self, index: usize, edit: &TextEdit) {
        let delta = edit.delta();
        for document in &mut self.documents[index + 1..] {
            document.range = shift_range(&document.range, delta);
        }
        for marker in self
            .markers
            .iter_mut()
            .filter(|m| m.range.start >= edit.old_end)
        {
            marker.range = shift_range(&marker.range, delta);
        }
    }
}

fn has_syntax_error(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.code == codes::SYNTAX)
}

/// `diagnostics` (document offsets) moved along an edit.
fn moved_along(diagnostics: &[Diagnostic], edit: &TextEdit, doc_start: usize) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.follow_edit(edit, doc_start);
            d
        })
        .collect()
}

/// The diagnostics (document offsets) outside the text an edit replaced, moved by it.
fn kept_past(diagnostics: Vec<Diagnostic>, edit: &TextEdit, doc_start: usize) -> Vec<Diagnostic> {
    let start = edit.start - doc_start;
    let old_end = edit.old_end - doc_start;
    diagnostics
        .into_iter()
        .filter(|d| d.range.end <= start || d.range.start >= old_end)
        .map(|d| {
            if d.range.start >= start {
                d.shifted(edit.delta())
            } else {
                d
            }
        })
        .collect()
}

/// Updates a document's diagnostics after an incremental re-parse whose tree changed inside
/// `changed`: `kept` are the diagnostics from before outside the edited text, moved along
/// (`had_syntax_error`: whether the document had a syntax error). Whether it was checked whole.
fn recheck(
    document: &mut YamlDocument,
    rope: &Rope,
    kept: Vec<Diagnostic>,
    had_syntax_error: bool,
    changed: Range<usize>,
    tree: &Tree,
    whole_recheck_limit: usize,
) -> bool {
    let (lo, hi) = (changed.start, changed.end);
    // Small documents, broken ones (to tree-sitter, or to saphyr, which stops at things a clean
    // tree-sitter tree takes, such as a NUL), and big changed regions (an edit that ends an error
    // can change the whole tree) are checked whole by saphyr: walking a big tree-sitter subtree
    // costs several times more. The span tree that check builds is kept for validation.
    if document.range.len() <= whole_recheck_limit
        || tree.root_node().has_error()
        || hi.saturating_sub(lo) > WHOLE_RECHECK_LIMIT
        || had_syntax_error
    {
        let checked = lint::check(&text_of(rope, document.range.clone()));
        document.diagnostics = checked.diagnostics;
        document.spans = checked.tree.map(Box::new);
        return true;
    }
    // A big document whose tree is clean: only the changed region can have new problems.
    let source = RopeSource::new(rope, document.range.clone());
    let changed = tree
        .root_node()
        .descendant_for_byte_range(lo, hi)
        .unwrap_or(tree.root_node());
    let mapping = enclosing_mapping(changed);
    let mapping_keys: Vec<usize> = mapping.map(direct_key_starts).unwrap_or_default();
    let line_span = line_span(&source, lo, hi);

    let mut kept: Vec<Diagnostic> = kept
        .into_iter()
        .filter(|d| match d.code {
            // The tree is clean, so the document parses: old syntax errors are gone.
            codes::SYNTAX => false,
            codes::DUPLICATE_KEY => {
                !contains(&changed.byte_range(), &d.range) && !mapping_keys.contains(&d.range.start)
            }
            codes::TAB_INDENTATION => !line_span.contains(&d.range.start),
            _ => true,
        })
        .collect();
    kept.extend(lint::duplicate_keys_in(changed, &source));
    if let Some(mapping) = mapping.filter(|m| *m != changed) {
        kept.extend(lint::duplicate_keys(direct_keys(mapping, &source)));
    }
    let line_text = source.text(line_span.clone());
    let inside_scalar = |offset: usize| in_scalar(tree, line_span.start + offset);
    kept.extend(
        lint::tab_indentation(&line_text, inside_scalar)
            .into_iter()
            .map(|d| d.shifted(line_span.start as isize)),
    );
    kept.sort_by_key(|d| d.range.start);
    kept.dedup();
    document.diagnostics = kept;
    false
}

use syntax::Source as _;

/// The span (new tree offsets) covering the edit and every range tree-sitter says changed.
fn changed_span(old_tree: &Tree, tree: &Tree, edit_start: usize, edit_end: usize) -> Range<usize> {
    old_tree
        .changed_ranges(tree)
        .fold(edit_start..edit_end, |span, r| {
            span.start.min(r.start_byte)..span.end.max(r.end_byte)
        })
}

fn enclosing_mapping(node: Node<'_>) -> Option<Node<'_>> {
    let mut current = Some(node);
    while let Some(n) = current {
        if matches!(n.kind(), "block_mapping" | "flow_mapping") {
            return Some(n);
        }
        current = n.parent();
    }
    None
}

fn direct_keys<S: syntax::Source + ?Sized>(mapping: Node<'_>, source: &S) -> Vec<lint::Key> {
    syntax::pairs(mapping)
        .into_iter()
        .filter_map(|pair| {
            let key = pair.key?;
            Some(lint::Key {
                text: syntax::scalar_text(key, source)?,
                range: syntax::content(key).unwrap_or(key).byte_range(),
            })
        })
        .collect()
}

fn direct_key_starts(mapping: Node<'_>) -> Vec<usize> {
    syntax::pairs(mapping)
        .into_iter()
        .filter_map(|pair| pair.key)
        .map(|key| syntax::content(key).unwrap_or(key).start_byte())
        .collect()
}

fn in_scalar(tree: &Tree, offset: usize) -> bool {
    let node = tree
        .root_node()
        .descendant_for_byte_range(offset, offset + 1);
    let mut current = node;
    while let Some(n) = current {
        if matches!(
            n.kind(),
            "block_scalar" | "double_quote_scalar" | "single_quote_scalar" | "plain_scalar"
        ) {
            return true;
        }
        current = n.parent();
    }
    false
}

/// The whole lines around `lo..hi` (document offsets).
fn line_span<S: syntax::Source + ?Sized>(source: &S, lo: usize, hi: usize) -> Range<usize> {
    // Lines are short: look back and forward a bounded distance for the line breaks.
    const REACH: usize = 4096;
    let before = source.text(lo.saturating_sub(REACH)..lo);
    let start = before
        .rfind(['\n', '\r'])
        .map_or(lo.saturating_sub(before.len()), |i| {
            lo - before.len() + i + 1
        });
    let after = source.text(hi..hi + REACH);
    let end = after
        .find(['\n', '\r'])
        .map_or(hi + after.len(), |i| hi + i);
    start..end
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Marker lines among the whole lines that `start..end` of the new text touches.
fn new_markers(rope: &Rope, start: usize, end: usize) -> Vec<MarkerLine> {
    let first_line = rope.byte_to_line(start.min(rope.len_bytes()));
    let last_line = rope.byte_to_line(end.min(rope.len_bytes()));
    let from = rope.line_to_byte(first_line);
    let to = rope.line_to_byte((last_line + 1).min(rope.len_lines()));
    split::find_markers(text_of(rope, from..to).as_bytes(), from)
}

/// A range of the rope as text (borrowed when it lies in one chunk).
pub fn text_of(rope: &Rope, range: Range<usize>) -> std::borrow::Cow<'_, str> {
    rope.get_byte_slice(range)
        .map_or(std::borrow::Cow::Borrowed(""), std::borrow::Cow::from)
}

#[cfg(test)]
mod tests;
