//! A big document's span tree, kept from its whole check (the open's) until something needs its
//! tree-sitter tree. An edit re-checks only the block mapping entries around it: their new text
//! is parsed alone and spliced into the kept tree (`yaml::spans::splice`), the YAML diagnostics
//! are redone for those entries and their mapping's keys, and the layers above are told the
//! document changed only there (schema validation patches its last validation on the new span
//! tree). An edit whose entries do not parse alone
//! (an opening quote) is checked whole, as before; the tree keeps its last clean state and the
//! edits since (`Dirty`), so the edit that mends them splices again. Meanwhile the document's
//! outline is read from a tree-sitter tree of its broken text (which recovers from errors, as a
//! fresh open's does), kept beside the span tree until the document is clean again.

use std::ops::Range;

use ropey::Rope;
use tree_sitter::Tree;

use super::broken::{MappingAround, check_from};
use super::{Changes, text_of};
use crate::diagnostic::{Diagnostic, codes};
use crate::text::TextEdit;
use crate::text::cancel::{Cancel, Cancelled};
use crate::yaml::spans::{SpanTree, TreeText};
use crate::yaml::{lint, syntax};

/// The span tree of a big document without a tree-sitter tree, and what an edit needs with it.
#[derive(Debug)]
pub(super) struct KeptSpans {
    /// The tree of the document's last clean text (document offsets); its text is its own.
    tree: SpanTree,
    /// The YAML diagnostics of that text (document offsets of it).
    diagnostics: Vec<Diagnostic>,
    /// Where the text differs from the tree's since an edit left the entries around it unparsable.
    dirty: Option<Dirty>,
    /// What had changed that the layers above had not taken when the entries broke.
    pending: Changes,
    /// While the document is broken: the tree-sitter tree of its text, once its outline asked for
    /// one.
    broken_tree: Option<BrokenTree>,
}

/// The tree of a broken document's text, and whether edits came since it was parsed (they are
/// applied to it, and it is parsed again against itself when next asked for).
#[derive(Debug)]
struct BrokenTree {
    tree: Tree,
    stale: bool,
}

/// The region of the kept tree's text (`old`) that edits replaced, and how much longer the
/// text is since: the current text is the tree's with `old` replaced by
/// `old.start..old.end + delta`.
#[derive(Clone, Debug)]
struct Dirty {
    old: Range<usize>,
    delta: isize,
}

/// Room left in a kept tree's text for edits spliced in place.
const SPARE_TEXT: usize = 64 * 1024;

/// What an edit did with the kept tree.
pub(super) enum Edited {
    /// The entries around the edits parsed alone and replaced the old ones.
    Spliced(Splice),
    /// They did not: the caller checks the document whole. The tree, still the last clean
    /// state's, follows the edits for the one that mends them.
    Unspliced(KeptSpans),
}

pub(super) struct Splice {
    pub(super) kept: KeptSpans,
    /// The document's YAML diagnostics now.
    pub(super) diagnostics: Vec<Diagnostic>,
    /// Where the document changed for the layers above.
    pub(super) changes: Changes,
    /// Bytes saphyr parsed.
    pub(super) checked: usize,
}

impl KeptSpans {
    /// Keeps `tree`, the span tree of a document's whole check that had `diagnostics`, when
    /// edits can be spliced into it: no alias (its anchor could be in other entries), no tab
    /// (a whole check reports tabs anywhere), no directive. Its text is copied out of the
    /// file's, so that the file's text is not kept for it.
    pub(super) fn new(mut tree: SpanTree, diagnostics: &[Diagnostic]) -> Option<Self> {
        let text = tree.text().as_bytes();
        let unsure = memchr::memchr(b'\t', text).is_some() || has_directive(text);
        if unsure || tree.has_alias() {
            return None;
        }
        tree.own_text(SPARE_TEXT);
        Some(Self {
            tree,
            diagnostics: diagnostics.to_vec(),
            dirty: None,
            pending: Changes::Nowhere,
            broken_tree: None,
        })
    }

    /// The span tree of the document's current text, unless edits left it broken.
    pub(super) fn current(&self) -> Option<&SpanTree> {
        self.dirty.is_none().then_some(&self.tree)
    }

    pub(super) fn is_broken(&self) -> bool {
        self.dirty.is_some()
    }

    /// While the document (now at `range` of `rope`) is broken, the tree-sitter tree of its text;
    /// parsed now if it has none, again against its last one if edits came since; the parse
    /// stops once `cancel` is set.
    pub(super) fn broken_tree(
        &mut self,
        rope: &Rope,
        range: Range<usize>,
        cancel: &Cancel,
    ) -> Result<Option<&Tree>, Cancelled> {
        if self.dirty.is_none() {
            return Ok(None);
        }
        let tree = match self.broken_tree.take() {
            Some(BrokenTree { tree, stale: false }) => tree,
            Some(BrokenTree { tree, stale: true }) => {
                match syntax::parse_unless(rope, range, Some(&tree), cancel) {
                    Ok(parsed) => parsed,
                    Err(cancelled) => {
                        self.broken_tree = Some(BrokenTree { tree, stale: true });
                        return Err(cancelled);
                    }
                }
            }
            None => syntax::parse_unless(rope, range, None, cancel)?,
        };
        let kept = self.broken_tree.insert(BrokenTree { tree, stale: false });
        Ok(Some(&kept.tree))
    }

    /// Whether the document keeps a tree of its broken text (tests).
    #[cfg(test)]
    pub(super) fn has_broken_tree(&self) -> bool {
        self.broken_tree.is_some()
    }

    /// While the document is broken, its YAML diagnostics from a check of its text from the
    /// block mapping of the clean tree that holds the edits on (see `broken::check_around`),
    /// when that says what a whole check would; None otherwise.
    pub(super) fn check_around(&self, rope: &Rope, range: Range<usize>) -> Option<Vec<Diagnostic>> {
        let dirty = self.dirty.as_ref()?;
        let (start, column, ancestors) = self.tree.block_mapping_around(dirty.old.start)?;
        let around = MappingAround {
            start,
            column,
            ancestors,
        };
        // The clean state's diagnostics where the text is now.
        let clean: Vec<Diagnostic> = (self.diagnostics.iter())
            .map(|d| {
                let moved = d.range.start >= dirty.old.end;
                d.clone().shifted(if moved { dirty.delta } else { 0 })
            })
            .collect();
        check_from(rope, range, &around, &clean)
    }

    /// Brings the tree up to date with `edit`, already applied to `rope`, in the document now
    /// at `range` (from line `doc_line`); `changes` are the document's changes not yet taken
    /// before the edit.
    pub(super) fn edit(
        mut self,
        rope: &Rope,
        (range, doc_line): (Range<usize>, usize),
        edit: &TextEdit,
        changes: Changes,
    ) -> Edited {
        let doc_start = range.start;
        if let Some(broken) = &mut self.broken_tree {
            syntax::edit_tree(&mut broken.tree, edit, doc_start, doc_line);
            broken.stale = true;
        }
        let dirty = self.dirty_after(edit, doc_start);
        let Some(spliced) = self.splice(rope, range, &dirty) else {
            self.pending = match self.dirty {
                Some(_) => std::mem::replace(&mut self.pending, Changes::Nowhere),
                None => changes,
            }
            .moved(edit, doc_start);
            self.dirty = Some(dirty);
            return Edited::Unspliced(self);
        };
        let (tree, diagnostics, changed, checked) = spliced;
        let before = match self.dirty {
            Some(_) => self.pending,
            None => changes,
        };
        Edited::Spliced(Splice {
            kept: KeptSpans {
                tree,
                diagnostics: diagnostics.clone(),
                dirty: None,
                pending: Changes::Nowhere,
                broken_tree: None,
            },
            diagnostics,
            changes: before.then(edit, doc_start, changed),
            checked,
        })
    }

    /// The region the edits since the clean state replaced, with `edit`.
    fn dirty_after(&self, edit: &TextEdit, doc_start: usize) -> Dirty {
        let (start, old_end) = (edit.start - doc_start, edit.old_end - doc_start);
        let Some(dirty) = &self.dirty else {
            return Dirty {
                old: start..old_end,
                delta: edit.delta(),
            };
        };
        let current_end = dirty.old.end.saturating_add_signed(dirty.delta);
        // Offsets after the replaced region are the tree's moved by `delta`.
        let end = if old_end > current_end {
            old_end.saturating_add_signed(-dirty.delta)
        } else {
            dirty.old.end
        };
        Dirty {
            old: start.min(dirty.old.start)..end,
            delta: dirty.delta + edit.delta(),
        }
    }

    /// The kept tree with the entries around `dirty` parsed again from the document at `range`
    /// of `rope`: the tree, the document's YAML diagnostics, where its nodes changed (document
    /// offsets of the new text) and the bytes parsed. None when no run of entries holds the edits or
    /// their new text does not parse alone as such.
    fn splice(
        &mut self,
        rope: &Rope,
        range: Range<usize>,
        dirty: &Dirty,
    ) -> Option<(SpanTree, Vec<Diagnostic>, Range<usize>, usize)> {
        let run = self.tree.entries_around(dirty.old.clone())?;
        let window = run.lines.start..run.lines.end.checked_add_signed(dirty.delta)?;
        let start = range.start;
        let window_text = text_of(rope, start + window.start..start + window.end);
        let bytes = window_text.as_bytes();
        if memchr::memchr(b'\t', bytes).is_some() || has_directive(bytes) {
            return None;
        }
        let (inner, error) = SpanTree::parse(&window_text);
        if error.is_some() || !inner.fits_run(&run) {
            return None;
        }
        let changed = (self.tree).changed_in_run(&run, &inner, dirty.old.clone(), dirty.delta);
        // Duplicate keys change only in the run's mapping and in the new entries.
        let mapping_keys = self.tree.run_mapping_keys(&run);
        let old = std::mem::take(&mut self.tree);
        let (tree, spliced) = old.splice(&run, &inner, dirty.delta, || {
            let mut text = text_of(rope, range.clone()).into_owned();
            text.reserve(SPARE_TEXT);
            TreeText::Owned(text)
        });
        let mut diagnostics: Vec<Diagnostic> = (self.diagnostics.iter())
            .filter(|d| !(d.code == codes::DUPLICATE_KEY && mapping_keys.contains(&d.range.start)))
            .filter(|d| d.range.end <= run.lines.start || d.range.start >= run.lines.end)
            .map(|d| {
                let moved = d.range.start >= run.lines.end;
                d.clone().shifted(if moved { dirty.delta } else { 0 })
            })
            .collect();
        diagnostics.extend(lint::duplicate_keys_in_spans(&tree, |mapping| {
            mapping.id() == spliced.mapping || spliced.inner.contains(&mapping.id())
        }));
        diagnostics.sort_by_key(|d| d.range.start);
        Some((tree, diagnostics, changed, bytes.len()))
    }
}

/// Whether a line of `text` starts with `%` (a directive: it changes what tags mean).
fn has_directive(text: &[u8]) -> bool {
    memchr::memchr_iter(b'%', text).any(|at| at == 0 || text[at - 1] == b'\n')
}
