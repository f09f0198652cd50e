//! Folding ranges: each document, and each key or list item whose value spans several lines.

use std::sync::Arc;

use ropey::Rope;

use super::outline::{FoldSource, Outline, OutlineCache};
use crate::text::cancel::{Cancel, Cancelled};
use crate::yaml::file::YamlFile;
use crate::yaml::spans::{SpanKind, SpanTree};

/// A foldable range of lines (zero-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fold {
    pub start_line: usize,
    pub end_line: usize,
}

/// Folding ranges of the whole file, sorted. Read from a document's tree-sitter tree if it has
/// one, else from its outline (a span tree's, see `symbols::document_symbols`: editors ask right
/// after opening a file, and tree-sitter trees of every document would cost far more time and
/// memory).
pub fn folding_ranges(
    file: &mut YamlFile,
    rope: &Rope,
    outlines: &mut OutlineCache,
    cancel: &Cancel,
) -> Result<Vec<Fold>, Cancelled> {
    folding_ranges_within(file, rope, outlines, usize::MAX, cancel)
}

/// [`within_limit`] of [`folding_ranges`], from each document's kept [`FoldSummary`]: the work
/// of a request grows with the number of documents and the folds it answers with, not with
/// every fold of the file (tens of thousands in a big one).
pub fn folding_ranges_within(
    file: &mut YamlFile,
    rope: &Rope,
    outlines: &mut OutlineCache,
    limit: usize,
    cancel: &Cancel,
) -> Result<Vec<Fold>, Cancelled> {
    let several = file.documents().len() > 1;
    let mut documents = std::mem::take(&mut outlines.fold_room);
    documents.reserve(file.documents().len());
    let mut per_level: Vec<usize> = Vec::new();
    // Documents' folds nest in no other document's: then the file's folds, sorted, are each
    // document's in turn. Otherwise (never seen) every fold is sorted and nested at once.
    let mut apart = true;
    let mut last_end: Option<usize> = None;
    outlines.begin_pass_over(file, rope);
    let mut lines = outlines.first_lines();
    for index in 0..file.documents().len() {
        let range = file.documents()[index].range();
        // An outline's head is read where the cache keeps it, without counting a reference:
        // its folds are read only if the answer may keep some of them.
        let Ok(source) = outlines.source_of_folds(file, rope, index, cancel) else {
            outlines.abandon_pass();
            return Err(Cancelled);
        };
        let (first_line, last_line, folds) = match source {
            FoldSource::Outline(at) => match outlines.outline_at(at) {
                Some(outline) => {
                    let first_line = lines.first_line(rope, range.start, Some(outline.line_breaks));
                    (first_line, outline.last_line, FoldsAt::Outline(at))
                }
                None => (lines.first_line(rope, range.start, None), 0, FoldsAt::None),
            },
            FoldSource::Tree(tree) => {
                let first_line = lines.first_line(rope, range.start, None);
                let summary = outlines.tree_folds(tree);
                let last_line = last_line_of(rope, range.start, range.end) - first_line;
                (first_line, last_line, FoldsAt::Tree(summary))
            }
        };
        let head = folds.head(outlines);
        let whole = several && last_line > 0;
        let extra = whole
            && !(head.holds_whole(last_line))
                .unwrap_or_else(|| folds.summary(outlines).holds_whole(last_line));
        let first_start = if whole { Some(0) } else { head.first_start };
        let end = head.max_end.max(if whole { last_line } else { 0 });
        if let Some(start) = first_start {
            apart &= last_end.is_none_or(|before| before < first_line + start);
            last_end = Some(first_line + end);
        }
        if extra {
            add_counts(&mut per_level, std::iter::once(1), 0);
        }
        let counts = head.per_level.iter().map(|count| *count as usize);
        add_counts(&mut per_level, counts, usize::from(extra));
        documents.push(DocumentFolds {
            first_line,
            levels: head.levels(),
            folds,
            document_fold: extra.then_some(last_line),
        });
    }
    outlines.count_line_lookups(lines);
    outlines.end_pass();
    let folds = if apart {
        within_levels(&documents, &per_level, outlines, limit)
    } else {
        all_sorted(&documents, outlines, limit)
    };
    documents.clear();
    outlines.fold_room = documents;
    Ok(folds)
}

/// The folds of every document, sorted and cut to `limit` at once (documents whose folds nest
/// in another's: never seen).
fn all_sorted(documents: &[DocumentFolds], outlines: &OutlineCache, limit: usize) -> Vec<Fold> {
    let mut folds: Vec<Fold> = Vec::new();
    for document in documents {
        let summary = document.folds.summary(outlines);
        folds.extend(summary.folds.iter().map(|f| f.shifted(document.first_line)));
    }
    for document in documents {
        if let Some(last_line) = document.document_fold {
            folds.push(Fold {
                start_line: document.first_line,
                end_line: document.first_line + last_line,
            });
        }
    }
    folds.sort();
    folds.dedup();
    within_limit(folds, limit)
}

/// The folds of documents apart, each document's in turn, cut to `limit` by nesting level
/// (`per_level`: the file's count of folds per level).
fn within_levels(
    documents: &[DocumentFolds],
    per_level: &[usize],
    outlines: &mut OutlineCache,
    limit: usize,
) -> Vec<Fold> {
    let total: usize = per_level.iter().sum();
    let (whole_levels, room) = if total <= limit {
        (per_level.len(), 0)
    } else {
        levels_kept(per_level, limit)
    };
    let mut quota = Quota { whole_levels, room };
    let mut folds = Vec::with_capacity(total.min(limit));
    for document in documents {
        if quota.used_up() {
            break;
        }
        outlines.documents_cut += 1;
        let first_line = document.first_line;
        let from = folds.len();
        let shift = usize::from(document.document_fold.is_some());
        if let Some(last_line) = document.document_fold
            && quota.keeps(0)
        {
            folds.push(Fold {
                start_line: first_line,
                end_line: first_line + last_line,
            });
        }
        // Its folds are `shift` levels deeper or more: none is kept past the levels kept.
        if document.levels > 0 && quota.may_keep(shift) {
            outlines.fold_lists_read += 1;
            let summary = document.folds.summary(outlines);
            for (fold, level) in summary.folds.iter().zip(&summary.levels) {
                if quota.keeps(*level as usize + shift) {
                    folds.push(fold.shifted(first_line));
                }
            }
        }
        if document.document_fold.is_some() {
            folds[from..].sort();
        }
    }
    folds
}

/// What a folding pass keeps of a document after reading its fold head.
pub(super) struct DocumentFolds {
    first_line: usize,
    /// How many nesting levels its own folds have.
    levels: usize,
    folds: FoldsAt,
    /// The last line of the fold of the whole document, when it is not one of its own.
    document_fold: Option<usize>,
}

/// Where a document's folds are.
enum FoldsAt {
    /// In the outline the cache holds at that place for the pass.
    Outline(usize),
    /// Read from its tree-sitter tree.
    Tree(Arc<FoldSummary>),
    /// Nowhere: it has none.
    None,
}

/// The summary of a document without folds.
static NO_FOLDS: std::sync::LazyLock<FoldSummary> = std::sync::LazyLock::new(FoldSummary::default);

impl FoldsAt {
    fn summary<'a>(&'a self, outlines: &'a OutlineCache) -> &'a FoldSummary {
        match self {
            FoldsAt::Outline(at) => {
                (outlines.outline_at(*at)).map_or(&NO_FOLDS, Outline::fold_summary)
            }
            FoldsAt::Tree(summary) => summary,
            FoldsAt::None => &NO_FOLDS,
        }
    }

    /// Its fold head: an outline's own copy, not the summary's.
    fn head<'a>(&'a self, outlines: &'a OutlineCache) -> &'a FoldHead {
        match self {
            FoldsAt::Outline(at) => {
                (outlines.outline_at(*at)).map_or(NO_FOLDS.head(), Outline::fold_head)
            }
            FoldsAt::Tree(_) | FoldsAt::None => self.summary(outlines).head(),
        }
    }
}

/// Which folds a limited answer keeps: every fold of the first `whole_levels` nesting levels,
/// and the first `room` of the next level.
struct Quota {
    whole_levels: usize,
    room: usize,
}

impl Quota {
    /// Whether a fold at `level` is kept (it takes its room).
    fn keeps(&mut self, level: usize) -> bool {
        level < self.whole_levels
            || (level == self.whole_levels && self.room > 0 && {
                self.room -= 1;
                true
            })
    }

    /// Whether a fold at `level` or deeper may still be kept.
    fn may_keep(&self, level: usize) -> bool {
        level < self.whole_levels || (level == self.whole_levels && self.room > 0)
    }

    /// Whether no later fold can be kept: the partly kept level is full and none is kept whole.
    fn used_up(&self) -> bool {
        self.whole_levels == 0 && self.room == 0
    }
}

/// A document's folds, relative to its first line: sorted, without repeats, with how many of
/// them hold each one and how many there are per nesting level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldSummary {
    folds: Vec<Fold>,
    levels: Vec<u32>,
    head: FoldHead,
}

/// What a pass over a big file's documents reads of each one's folds: their count per nesting
/// level and their extent, not the folds (an allocation of their own). An outline keeps a copy
/// at its start (see `outline::Outline`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldHead {
    /// Inline up to six levels (the size of a `Vec`'s header): a pass over a big file adds
    /// these up for every document without reading another allocation.
    per_level: smallvec::SmallVec<[u32; 6]>,
    /// The last line any fold reaches.
    max_end: usize,
    /// The first fold's start line, and the last line a fold starting on the first line
    /// reaches.
    first_start: Option<usize>,
    longest_from_first_line: Option<usize>,
}

impl FoldHead {
    /// Whether the document's fold from its first line to `last_line` is one of its folds;
    /// `None` when only its folds can say.
    fn holds_whole(&self, last_line: usize) -> Option<bool> {
        match self.longest_from_first_line {
            None => Some(false),
            Some(end) if end <= last_line => Some(end == last_line),
            Some(_) => None,
        }
    }

    /// How many nesting levels its folds have.
    fn levels(&self) -> usize {
        self.per_level.len()
    }
}

impl FoldSummary {
    pub fn new(folds: Vec<Fold>) -> Self {
        let mut summary = FoldSummary {
            folds,
            ..FoldSummary::default()
        };
        summary.update();
        // Kept with an outline: without the room the folds were gathered in.
        summary.folds.shrink_to_fit();
        summary
    }

    /// The folds, sorted, without repeats.
    pub fn folds(&self) -> &[Fold] {
        &self.folds
    }

    /// Their counts per nesting level and extent.
    pub fn head(&self) -> &FoldHead {
        &self.head
    }

    /// The folds to change in place; [`update`](Self::update) makes the summary theirs again.
    pub(super) fn folds_mut(&mut self) -> &mut Vec<Fold> {
        &mut self.folds
    }

    /// Sorts the folds, drops repeats and counts their nesting again, in the room the summary
    /// has (an edited document's summary is its previous one changed, not a new one).
    pub(super) fn update(&mut self) {
        self.folds.sort();
        self.folds.dedup();
        sorted_nesting_levels(&self.folds, &mut self.levels);
        let head = &mut self.head;
        head.per_level.clear();
        for level in self.levels.iter().map(|level| *level as usize) {
            if head.per_level.len() <= level {
                head.per_level.resize(level + 1, 0);
            }
            head.per_level[level] += 1;
        }
        head.max_end = self.folds.iter().map(|f| f.end_line).max().unwrap_or(0);
        head.first_start = self.folds.first().map(|f| f.start_line);
        head.longest_from_first_line = (self.folds.iter())
            .take_while(|f| f.start_line == 0)
            .map(|f| f.end_line)
            .max();
    }

    /// Whether the document's fold from its first line to `last_line` is one of its folds.
    fn holds_whole(&self, last_line: usize) -> bool {
        self.head.holds_whole(last_line).unwrap_or_else(|| {
            let whole = Fold {
                start_line: 0,
                end_line: last_line,
            };
            self.folds.binary_search(&whole).is_ok()
        })
    }
}

impl Fold {
    fn shifted(&self, lines: usize) -> Fold {
        Fold {
            start_line: self.start_line + lines,
            end_line: self.end_line + lines,
        }
    }
}

/// Adds `counts` (per level) to `totals`, `shift` levels deeper.
fn add_counts(totals: &mut Vec<usize>, counts: impl ExactSizeIterator<Item = usize>, shift: usize) {
    if totals.len() < counts.len() + shift {
        totals.resize(counts.len() + shift, 0);
    }
    for (level, count) in counts.enumerate() {
        totals[level + shift] += count;
    }
}

/// Of folds counted per nesting level, more than `limit` in all: the deepest level kept whole,
/// and how many of the next one fit.
fn levels_kept(per_level: &[usize], limit: usize) -> (usize, usize) {
    let (mut whole, mut room) = (0, limit);
    while whole < per_level.len() && per_level[whole] <= room {
        room -= per_level[whole];
        whole += 1;
    }
    (whole, room)
}

/// At most `limit` of `folds` (sorted), for clients that ask for a limit (`rangeLimit`: VS Code
/// 5,000; argocd's install.yaml has ~17,000): the outermost first, so a big file keeps its
/// documents and top-level keys foldable, and of the first nesting level that does not fit
/// whole, those nearest the top of the file. Fewer folds also keep the response small (each
/// one is a JSON object of its own on the way out).
pub fn within_limit(folds: Vec<Fold>, limit: usize) -> Vec<Fold> {
    if folds.len() <= limit {
        return folds;
    }
    let levels = nesting_levels(&folds);
    let mut per_level = vec![0usize; levels.iter().max().map_or(0, |l| l + 1)];
    for level in &levels {
        per_level[*level] += 1;
    }
    let (whole, mut room) = levels_kept(&per_level, limit);
    folds
        .into_iter()
        .zip(levels)
        .filter(|(_, level)| {
            *level < whole
                || (*level == whole && room > 0 && {
                    room -= 1;
                    true
                })
        })
        .map(|(fold, _)| fold)
        .collect()
}

/// How many folds hold each fold (sorted by start line, then end line).
fn nesting_levels(folds: &[Fold]) -> Vec<usize> {
    // Outer folds first where several start on one line.
    let mut order: Vec<usize> = (0..folds.len()).collect();
    order.sort_by_key(|&i| (folds[i].start_line, std::cmp::Reverse(folds[i].end_line)));
    let mut levels = vec![0; folds.len()];
    let mut open: Vec<usize> = Vec::new();
    for i in order {
        while open
            .last()
            .is_some_and(|&outer| folds[outer].end_line < folds[i].end_line)
        {
            open.pop();
        }
        levels[i] = open.len();
        open.push(i);
    }
    levels
}

/// [`nesting_levels`] of folds sorted without repeats, without a second order of them, into
/// `levels`: the folds starting on one line are read outermost (last) first.
fn sorted_nesting_levels(folds: &[Fold], levels: &mut Vec<u32>) {
    levels.clear();
    levels.resize(folds.len(), 0);
    // The end lines of the folds holding the next one.
    let mut open: Vec<usize> = Vec::new();
    let mut group = 0;
    while group < folds.len() {
        let start_line = folds[group].start_line;
        let next = group + folds[group..].partition_point(|f| f.start_line == start_line);
        for i in (group..next).rev() {
            while open.last().is_some_and(|&end| end < folds[i].end_line) {
                open.pop();
            }
            levels[i] = u32::try_from(open.len()).unwrap_or(u32::MAX);
            open.push(folds[i].end_line);
        }
        group = next;
    }
}

/// What a document's tree-sitter tree folds (see `outline/tree_folds.rs`), from a span tree: block pairs and block sequence items from their
/// first line (the key's, the `-`'s) to their value's last, and flow collections.
pub(super) fn collect_span_folds(
    spans: &SpanTree,
    line_of: impl Fn(usize) -> usize,
    folds: &mut Vec<Fold>,
) {
    let text = spans.root().map_or("", |root| root.source());
    let mut fold = |start: usize, end: usize| {
        let (start_line, end_line) = (line_of(start), line_of(end.saturating_sub(1).max(start)));
        if end_line > start_line {
            folds.push(Fold {
                start_line,
                end_line,
            });
        }
    };
    for node in spans.all() {
        match node.kind() {
            SpanKind::Mapping | SpanKind::Sequence if node.is_flow() => {
                fold(node.range().start, node.range().end)
            }
            SpanKind::Mapping => {
                for (key, value) in node.pairs() {
                    if let Some(value) = value.filter(|v| !v.is_empty_scalar()) {
                        fold(key.range().start, value.range().end);
                    }
                }
            }
            SpanKind::Sequence => {
                for item in node.children().filter(|item| !item.is_empty_scalar()) {
                    fold(dash_before(text, item.range().start), item.range().end);
                }
            }
            _ => {}
        }
    }
}

/// Where the `-` of the block sequence item whose content starts at `content` is: on the content's
/// line, or on the nearest line above it with more than blanks and comments (`- # note` then the
/// content below). The content's own start if no `-` is there.
fn dash_before(text: &str, content: usize) -> usize {
    // On the content's own line only the blanks right before it are read: a long line of nested
    // `- - - …` items was read back to its start once per item (quadratic). Only the line of the
    // position returned counts.
    let bytes = text.as_bytes();
    let mut at = content;
    while at > 0 && matches!(bytes[at - 1], b' ' | b'\t') {
        at -= 1;
    }
    match at.checked_sub(1).map(|before| bytes[before]) {
        Some(b'-') => return at - 1,
        Some(b'\n') => {}
        _ => return content,
    }
    // The content starts its line: the nearest line above with more than blanks and comments.
    let mut end = at - 1;
    loop {
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[line_start..end];
        let trimmed = line.trim_start();
        if trimmed.starts_with('-') {
            return line_start + (line.len() - trimmed.len());
        }
        let trimmed = trimmed.trim_end();
        if !(trimmed.is_empty() || trimmed.starts_with('#')) || line_start == 0 {
            return content;
        }
        end = line_start - 1;
    }
}

/// The line of the last non-line-break character in `start..end`.
pub(super) fn last_line_of(rope: &Rope, start: usize, end: usize) -> usize {
    let mut last = end;
    while last > start && matches!(rope.byte(last - 1), b'\n' | b'\r') {
        last -= 1;
    }
    rope.byte_to_line(last.max(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folds(text: &str) -> Vec<(usize, usize)> {
        let rope = Rope::from_str(text);
        let mut file = YamlFile::open(&rope);
        folding_ranges(
            &mut file,
            &rope,
            &mut OutlineCache::default(),
            &Cancel::default(),
        )
        .unwrap()
        .into_iter()
        .map(|f| (f.start_line, f.end_line))
        .collect()
    }

    #[test]
    fn folds_multi_line_values_and_documents() {
        let text = "a: 1\nmetadata:\n  name: x\n  labels:\n    app: y\n---\nlist:\n- one\n- two: 2\n  three: 3\n";
        assert_eq!(
            folds(text),
            [(0, 4), (1, 4), (3, 4), (5, 9), (6, 9), (8, 9)]
        );
    }

    /// Folds ending at their last line with content: tree-sitter's end after the comment lines
    /// that follow a value, a span tree's at the value.
    fn trimmed(text: &str, folds: Vec<Fold>) -> Vec<Fold> {
        let lines: Vec<&str> = text.lines().collect();
        let is_content = |line: usize| {
            let line = lines.get(line).map_or("", |l| l.trim());
            !line.is_empty() && !line.starts_with('#')
        };
        let mut folds: Vec<Fold> = folds
            .into_iter()
            .map(|mut fold| {
                while fold.end_line > fold.start_line && !is_content(fold.end_line) {
                    fold.end_line -= 1;
                }
                fold
            })
            .filter(|fold| fold.end_line > fold.start_line)
            .collect();
        folds.sort();
        folds.dedup();
        folds
    }

    #[test]
    fn span_trees_and_tree_sitter_trees_give_the_same_folds_on_the_corpus() {
        let folds = |file: &mut YamlFile, rope: &Rope| {
            folding_ranges(file, rope, &mut OutlineCache::default(), &Cancel::default()).unwrap()
        };
        let compared = super::super::same_on_both_trees(folds, trimmed);
        assert!(compared > 1000, "{compared} folds compared");
    }

    #[test]
    fn a_limit_keeps_the_outermost_folds_then_the_first_ones() {
        let text = "a:\n  b:\n    c: 1\n    d: 2\n  e:\n    f: 1\n    g: 2\nh:\n  i: 1\n  j: 2\n";
        let all = folds(text);
        assert_eq!(all, [(0, 6), (1, 3), (4, 6), (7, 9)]);
        let limited = |limit| {
            let rope = Rope::from_str(text);
            let mut file = YamlFile::open(&rope);
            let folds = folding_ranges(
                &mut file,
                &rope,
                &mut OutlineCache::default(),
                &Cancel::default(),
            )
            .unwrap();
            within_limit(folds, limit)
                .into_iter()
                .map(|f| (f.start_line, f.end_line))
                .collect::<Vec<_>>()
        };
        assert_eq!(limited(4), all);
        assert_eq!(limited(3), [(0, 6), (1, 3), (7, 9)]);
        assert_eq!(limited(2), [(0, 6), (7, 9)]);
        assert_eq!(limited(1), [(0, 6)]);
        assert_eq!(limited(0), []);
    }

    #[test]
    fn folds_starting_on_one_line_nest_by_their_ends() {
        let fold = |start_line, end_line| Fold {
            start_line,
            end_line,
        };
        let folds = [fold(0, 3), fold(0, 9), fold(4, 9), fold(5, 6)];
        assert_eq!(nesting_levels(&folds), [1, 0, 1, 2]);
        let mut levels = vec![7; 9];
        sorted_nesting_levels(&folds, &mut levels);
        assert_eq!(levels, [1, 0, 1, 2]);
    }

    #[test]
    fn a_single_line_document_has_no_folds() {
        assert!(folds("a: 1\n").is_empty());
    }

    /// All folds, sorted, then cut to `limit` at once: what the per-document summaries answer.
    fn limited_at_once(text: &str, limit: usize) -> Vec<Fold> {
        let rope = Rope::from_str(text);
        let mut file = YamlFile::open(&rope);
        let mut outlines = OutlineCache::default();
        let all = folding_ranges(&mut file, &rope, &mut outlines, &Cancel::default()).unwrap();
        assert!(
            all.windows(2).all(|pair| pair[0] < pair[1]),
            "sorted, no repeats"
        );
        within_limit(all, limit)
    }

    /// Whether a document's whole fold is one of its folds, read from the summary's own fields
    /// where they tell, answers as a search of its folds does.
    #[test]
    fn the_whole_document_fold_is_found_as_a_search_finds_it() {
        let fold = |start_line, end_line| Fold {
            start_line,
            end_line,
        };
        let cases = [
            vec![],
            vec![fold(1, 3)],
            vec![fold(0, 4)],
            vec![fold(0, 2), fold(0, 4), fold(1, 3)],
            vec![fold(0, 2), fold(0, 9)],
        ];
        for folds in cases {
            let summary = FoldSummary::new(folds.clone());
            for last_line in 0..10 {
                let searched = folds.contains(&fold(0, last_line));
                assert_eq!(
                    summary.holds_whole(last_line),
                    searched,
                    "{folds:?} {last_line}"
                );
            }
            assert_eq!(
                summary.head.first_start,
                folds.iter().map(|f| f.start_line).min()
            );
        }
    }

    #[test]
    fn per_document_summaries_cut_to_a_limit_as_all_folds_at_once_do() {
        let mut files: Vec<String> = crate::yaml::corpus::documents()
            .into_iter()
            .map(|(_, text)| text)
            .collect();
        files.push(crate::yaml::corpus::read("real/argocd-install.yaml"));
        files.push("a: 1\n---\nb:\n  c: 1\n---\n\n---\nitems:\n- a\n- b\n".to_string());
        let mut compared = 0;
        for text in &files {
            for limit in [0, 1, 2, 7, 50, 500, 5_000] {
                let rope = Rope::from_str(text);
                let mut file = YamlFile::open(&rope);
                let mut outlines = OutlineCache::default();
                let cancel = Cancel::default();
                let found =
                    folding_ranges_within(&mut file, &rope, &mut outlines, limit, &cancel).unwrap();
                assert_eq!(
                    found,
                    limited_at_once(text, limit),
                    "limit {limit}:\n{text}"
                );
                compared += found.len();
            }
        }
        assert!(compared > 10_000, "{compared} folds compared");
    }

    #[test]
    fn first_lines_are_carried_past_outlined_documents_and_looked_up_after_others() {
        // The second document is no YAML saphyr reads: its tree-sitter tree answers, and the
        // third document's first line is looked up.
        let text = "a: 1\n---\nb: [1\n---\nc:\n  d: 1\n";
        let rope = Rope::from_str(text);
        let mut file = YamlFile::open(&rope);
        let mut outlines = OutlineCache::default();
        let found = folding_ranges(&mut file, &rope, &mut outlines, &Cancel::default()).unwrap();
        let fold = |start_line, end_line| Fold {
            start_line,
            end_line,
        };
        assert_eq!(found, [fold(1, 2), fold(3, 5), fold(4, 5)]);
        assert_eq!(outlines.line_lookups, 1);
    }

    #[test]
    fn folds_after_an_edit_outline_only_the_edited_document_again() {
        let document = "kind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n  l: w\n";
        let text = vec![document; 50].join("---\n");
        let mut text_document = crate::text::TextDocument::new(&text, 1);
        let mut file = YamlFile::open(text_document.rope());
        let mut outlines = OutlineCache::default();
        let cancel = Cancel::default();
        let folds = |file: &mut YamlFile, outlines: &mut OutlineCache, rope: &Rope| {
            folding_ranges_within(file, rope, outlines, 5_000, &cancel).unwrap()
        };
        let before = folds(&mut file, &mut outlines, &text_document.rope().clone());
        assert_eq!(outlines.built, 50);
        assert_eq!(
            outlines.line_lookups, 0,
            "each document's first line is carried from the one before"
        );
        folds(&mut file, &mut outlines, &text_document.rope().clone());
        assert_eq!(
            outlines.built, 50,
            "nothing changed: nothing outlined again"
        );
        // A new line inside the 20th document's data.
        let line = crate::text::Position::new(20 * 7 + 4, 6);
        let edit = text_document.apply_change(
            Some(line..line),
            "\n  m: x",
            crate::text::PositionEncoding::Utf8,
        );
        let rope = text_document.rope().clone();
        file.apply_edit(&rope, &edit);
        outlines.note_edit(&edit, &rope);
        let after = folds(&mut file, &mut outlines, &rope);
        assert_eq!(outlines.built, 51, "only the edited document");
        assert_eq!(outlines.line_lookups, 0);
        assert_eq!(after, limited_at_once(&rope.to_string(), 5_000));
        assert_ne!(after, before);
    }

    #[test]
    fn a_document_an_edit_broke_is_folded_from_its_tree_once_and_not_parsed_again() {
        use crate::text::{Position, PositionEncoding, TextDocument};
        let document = "kind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n  l: w\n";
        let text = vec![document; 50].join("---\n");
        let mut text_document = TextDocument::new(&text, 1);
        let mut file = YamlFile::open(text_document.rope());
        let mut outlines = OutlineCache::default();
        let folds = |file: &mut YamlFile, outlines: &mut OutlineCache, rope: &Rope| {
            let cancel = Cancel::default();
            let found = folding_ranges_within(file, rope, outlines, 5_000, &cancel).unwrap();
            assert_eq!(found, limited_at_once(&rope.to_string(), 5_000));
            (outlines.built, outlines.tree_folded)
        };
        let edit = |text: &mut TextDocument,
                    file: &mut YamlFile,
                    outlines: &mut OutlineCache,
                    at: std::ops::Range<Position>,
                    new: &str| {
            let edit = text.apply_change(Some(at), new, PositionEncoding::Utf8);
            let rope = text.rope().clone();
            file.apply_edit(&rope, &edit);
            outlines.note_edit(&edit, &rope);
            rope
        };
        let rope = text_document.rope().clone();
        assert_eq!(folds(&mut file, &mut outlines, &rope), (50, 0));
        // `data:x` over an indented mapping: the 20th document is no YAML saphyr reads.
        let (data_end, x_end) = (Position::new(20 * 7 + 3, 5), Position::new(20 * 7 + 3, 6));
        let rope = edit(
            &mut text_document,
            &mut file,
            &mut outlines,
            data_end..data_end,
            "x",
        );
        assert!(file.documents()[20].rejected());
        assert_eq!(
            folds(&mut file, &mut outlines, &rope),
            (50, 1),
            "the YAML layer's syntax error says saphyr rejects it: not parsed again"
        );
        assert_eq!(
            folds(&mut file, &mut outlines, &rope),
            (50, 1),
            "its tree's folds are kept"
        );
        let rope = edit(
            &mut text_document,
            &mut file,
            &mut outlines,
            data_end..x_end,
            "",
        );
        assert!(!file.documents()[20].rejected());
        assert_eq!(
            folds(&mut file, &mut outlines, &rope),
            (51, 1),
            "mended: outlined again"
        );
    }

    /// 100 ConfigMaps, each folding whole, then at `metadata` and `data` (three folds), opened.
    fn hundred_config_maps() -> (String, Rope, YamlFile, OutlineCache) {
        let document = "kind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";
        let text = vec![document; 100].join("---\n");
        let rope = Rope::from_str(&text);
        let file = YamlFile::open(&rope);
        (text, rope, file, OutlineCache::default())
    }

    #[test]
    fn a_limited_answer_walks_the_documents_until_its_limit_is_reached() {
        let (text, rope, mut file, mut outlines) = hundred_config_maps();
        let cancel = Cancel::default();
        // The 100 whole-document folds fit, and 20 of the 200 folds a level deeper.
        let found = folding_ranges_within(&mut file, &rope, &mut outlines, 120, &cancel).unwrap();
        assert_eq!(found, limited_at_once(&text, 120));
        assert_eq!(
            outlines.documents_cut, 100,
            "a level is kept whole: every document"
        );
        outlines.documents_cut = 0;
        // Only 30 of the whole-document folds: the 31st document adds none, nor any after it.
        let found = folding_ranges_within(&mut file, &rope, &mut outlines, 30, &cancel).unwrap();
        assert_eq!(found, limited_at_once(&text, 30));
        assert_eq!(outlines.documents_cut, 30);
    }

    #[test]
    fn folding_passes_fill_the_same_list_of_documents() {
        let (_, rope, mut file, mut outlines) = hundred_config_maps();
        let cancel = Cancel::default();
        let mut lists = Vec::new();
        for limit in [30, 120, usize::MAX, 30] {
            folding_ranges_within(&mut file, &rope, &mut outlines, limit, &cancel).unwrap();
            assert!(outlines.fold_room.is_empty());
            assert!(outlines.fold_room.capacity() >= 100);
            lists.push(outlines.fold_room.as_ptr());
        }
        assert!(lists.iter().all(|list| *list == lists[0]));
    }

    #[test]
    fn a_limited_answer_reads_the_fold_lists_of_documents_it_may_keep_folds_of() {
        let (text, rope, mut file, mut outlines) = hundred_config_maps();
        let cancel = Cancel::default();
        // Only whole-document folds are kept: the documents' own folds are a level deeper,
        // and their heads say so.
        let found = folding_ranges_within(&mut file, &rope, &mut outlines, 30, &cancel).unwrap();
        assert_eq!(found, limited_at_once(&text, 30));
        assert_eq!(outlines.fold_lists_read, 0);
        // 20 folds a level deeper: read until they are taken.
        let found = folding_ranges_within(&mut file, &rope, &mut outlines, 120, &cancel).unwrap();
        assert_eq!(found, limited_at_once(&text, 120));
        assert_eq!(outlines.fold_lists_read, 10);
        outlines.fold_lists_read = 0;
        // No limit: every document's.
        let found = folding_ranges(&mut file, &rope, &mut outlines, &cancel).unwrap();
        assert_eq!(found, limited_at_once(&text, usize::MAX));
        assert_eq!(outlines.fold_lists_read, 100);
    }
}
