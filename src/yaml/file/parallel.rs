//! Checking the documents of a file being opened on all cores (up to four): documents go to
//! whichever thread is free, biggest first, and a document too big to share out is parsed as
//! two parts on two threads (see [`Cut`]).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ropey::Rope;

use super::{YamlDocument, text_of};
use crate::diagnostic::Diagnostic;
use crate::text::threads::available as threads;
use crate::yaml::lint;
use crate::yaml::spans::{Cut, Seam, SpanTree, TreeText, find_cut};

/// Documents at least this big are parsed in two parts on two threads when they are more than
/// a thread's share of the file (argocd's 1.4 MB CRD document: otherwise one thread parses it
/// while the other is done with the rest).
const TWO_PART_MIN: usize = 256 * 1024;

/// What the documents of a file are checked from.
#[derive(Clone, Copy)]
pub enum FileText<'a> {
    /// The whole file in one string: documents are slices of it, which their span trees share.
    Whole(&'a Arc<String>),
    /// Its rope: each document is copied out of it, and its span tree keeps that copy alone
    /// (the file's text is not held whole while its documents are checked).
    Rope(&'a Rope),
}

impl FileText<'_> {
    pub fn len(&self) -> usize {
        match self {
            FileText::Whole(text) => text.len(),
            FileText::Rope(rope) => rope.len_bytes(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The document at `range`, checked.
    fn check(&self, range: Range<usize>) -> YamlDocument {
        match self {
            FileText::Whole(text) => YamlDocument::checked_shared(text, range),
            FileText::Rope(rope) => YamlDocument::checked(rope, range),
        }
    }

    /// The text of the document at `range` as a string, and where the document is in it.
    fn document(&self, range: Range<usize>) -> (Arc<String>, Range<usize>) {
        match self {
            FileText::Whole(text) => (Arc::clone(text), range),
            FileText::Rope(rope) => {
                let text = text_of(rope, range).into_owned();
                let length = text.len();
                (Arc::new(text), 0..length)
            }
        }
    }
}

/// What a thread of [`check_all`] does next.
#[derive(Clone, Copy)]
enum Task {
    Whole(usize),
    /// The biggest document without its cut lines, or the cut lines alone.
    Part(PartOf),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PartOf {
    Outer,
    Inner,
}

/// One part of a document cut in two, parsed and checked as far as it can be on its own.
struct CheckedPart {
    tree: SpanTree,
    /// Where the cut entries go (the outer part's).
    seam: Option<Seam>,
    /// Duplicate keys, in the document's offsets, except in the mapping the cut splits.
    duplicates: Vec<Diagnostic>,
}

impl CheckedPart {
    /// None when the part has a syntax error or does not prove that it fits. `document` is
    /// where the cut document is in `file`.
    fn check(file: &Arc<String>, document: &Range<usize>, cut: &Cut, part: PartOf) -> Option<Self> {
        match part {
            PartOf::Outer => {
                let (tree, error) = SpanTree::parse_owned(cut.outer_text(&file[document.clone()]));
                let seam = tree.seam(cut).filter(|_| error.is_none())?;
                let after_cut = cut.lines.start + cut.indent;
                let duplicates = lint::duplicate_keys_in_spans(&tree, |m| !seam.is_mapping(m))
                    .into_iter()
                    .map(|d| {
                        let after = d.range.start >= after_cut;
                        d.shifted(if after { cut.lines.len() as isize } else { 0 })
                    })
                    .collect();
                Some(Self {
                    tree,
                    seam: Some(seam),
                    duplicates,
                })
            }
            PartOf::Inner => {
                let lines = document.start + cut.lines.start..document.start + cut.lines.end;
                let (tree, error) = SpanTree::parse_shared(file, lines);
                if error.is_some() || !tree.fits_cut(cut) {
                    return None;
                }
                // The root's keys are the split mapping's: checked once joined.
                let root = tree.root().map(|root| root.id());
                let duplicates = lint::duplicate_keys_in_spans(&tree, |m| Some(m.id()) != root)
                    .into_iter()
                    .map(|d| d.shifted(cut.lines.start as isize))
                    .collect();
                Some(Self {
                    tree,
                    seam: None,
                    duplicates,
                })
            }
        }
    }
}

/// The documents [`check_all`] checked and what `visit` gave for each, in order, and how many
/// were checked in two parts.
pub(super) struct CheckedAll<T> {
    pub documents: Vec<YamlDocument>,
    pub visited: Vec<T>,
    pub two_part: usize,
}

impl<T> CheckedAll<T> {
    fn with_capacity(documents: usize) -> Self {
        CheckedAll {
            documents: Vec::with_capacity(documents),
            visited: Vec::with_capacity(documents),
            two_part: 0,
        }
    }

    /// Adds the next document: the documents' records are moved once from the thread that
    /// checked them to where they stay (a 16,730-document file's are megabytes).
    fn push(&mut self, (document, visited): (YamlDocument, T)) {
        count_work!(RECORDS_MOVED);
        self.documents.push(document);
        self.visited.push(visited);
    }
}

work_counter!(
    /// How many documents' records this thread's [`check_all`] moved to where they stay so far.
    pub(crate) fn records_moved() => RECORDS_MOVED
);

/// Checks documents, on up to four threads when there is enough text to make it worth it.
pub(super) fn check_all<T: Send>(
    text: FileText<'_>,
    ranges: Vec<Range<usize>>,
    visit: &(dyn Fn(&mut YamlDocument) -> T + Sync),
) -> CheckedAll<T> {
    let checked = |range: Range<usize>| {
        let mut document = text.check(range);
        let visited = visit(&mut document);
        (document, visited)
    };
    let total: usize = ranges.iter().map(|r| r.len()).sum();
    let threads = threads();
    let mut all = CheckedAll::with_capacity(ranges.len());
    if total < 256 * 1024 || threads < 2 || ranges.len() < 2 && total < TWO_PART_MIN {
        for range in ranges {
            all.push(checked(range));
        }
        return all;
    }
    // Largest first, each task to whichever thread is free.
    let mut order: Vec<usize> = (0..ranges.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(ranges[i].len()));
    let biggest = order[0];
    let big_length = ranges[biggest].len();
    // The biggest document's text and where it is in it, when it is big enough to cut.
    let big_text = (big_length >= TWO_PART_MIN && big_length * threads > total)
        .then(|| text.document(ranges[biggest].clone()));
    let cut = big_text
        .as_ref()
        .and_then(|(file, range)| find_cut(&file[range.clone()], big_length / 2, big_length / 2));
    let mut tasks = Vec::with_capacity(ranges.len() + 1);
    if cut.is_some() {
        tasks.extend([Task::Part(PartOf::Outer), Task::Part(PartOf::Inner)]);
        order.remove(0);
    }
    tasks.extend(order.into_iter().map(Task::Whole));
    let next_task = AtomicUsize::new(0);
    let two_part = AtomicUsize::new(0);
    // The big document's first finished part, left for the thread that finishes the other.
    let parts: Mutex<[Option<Option<CheckedPart>>; 2]> = Mutex::new([None, None]);
    let big = |part: PartOf, cut: &Cut, (file, in_file): &(Arc<String>, Range<usize>)| {
        let checked = CheckedPart::check(file, in_file, cut, part);
        let mut parts = parts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        parts[part as usize] = Some(checked);
        if parts.iter().any(Option::is_none) {
            return None; // the thread with the other part takes it from here
        }
        let [Some(outer), Some(inner)] = std::mem::take(&mut *parts) else {
            unreachable!("both parts are there");
        };
        drop(parts);
        let range = ranges[biggest].clone();
        let joined =
            YamlDocument::checked_parts(file, in_file.clone(), range.clone(), cut, outer, inner);
        if joined.is_some() {
            two_part.store(1, Ordering::Relaxed);
        }
        let mut document = joined.unwrap_or_else(|| text.check(range));
        let visited = visit(&mut document);
        Some((biggest, (document, visited)))
    };
    // Each thread keeps what it checked, in room reserved for every document (only the pages it
    // fills are touched), taken out once the last thread is done.
    let work = || {
        let mut done: Vec<(usize, Option<(YamlDocument, T)>)> = Vec::with_capacity(tasks.len());
        while let Some(&task) = tasks.get(next_task.fetch_add(1, Ordering::Relaxed)) {
            match (task, &cut, &big_text) {
                (Task::Whole(i), ..) => done.push((i, Some(checked(ranges[i].clone())))),
                (Task::Part(part), Some(cut), Some(big_text)) => {
                    done.extend(big(part, cut, big_text).map(|(i, checked)| (i, Some(checked))));
                }
                (Task::Part(_), ..) => {}
            }
        }
        done
    };
    let mut done = crate::text::threads::scope(|scope| {
        // This thread works too: starting a thread costs more than one might think.
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut done = vec![work()];
        done.extend(handles.into_iter().map(|h| h.join().unwrap_or_default()));
        done
    });
    // Where each document's record is: which thread's list, where in it.
    let mut at = vec![(u32::MAX, 0u32); ranges.len()];
    for (thread, list) in done.iter().enumerate() {
        for (place, (i, _)) in list.iter().enumerate() {
            at[*i] = (thread as u32, place as u32);
        }
    }
    for (range, (thread, place)) in ranges.into_iter().zip(at) {
        let record = done
            .get_mut(thread as usize)
            .and_then(|list| list.get_mut(place as usize))
            .and_then(|(_, record)| record.take());
        // A thread that panicked left its documents unchecked: check them here.
        all.push(record.unwrap_or_else(|| checked(range)));
    }
    all.two_part = two_part.into_inner();
    all
}

impl YamlDocument {
    /// A document checked from its two parts (see [`Cut`]); None when either has a syntax
    /// error or they do not join into what a whole parse gives. Its text is `in_file` of
    /// `file`; `range` is where it is in its file.
    fn checked_parts(
        file: &Arc<String>,
        in_file: Range<usize>,
        range: Range<usize>,
        cut: &Cut,
        outer: Option<CheckedPart>,
        inner: Option<CheckedPart>,
    ) -> Option<Self> {
        let (outer, inner) = (outer?, inner?);
        let seam = outer.seam?;
        let text = TreeText::Shared(file.clone(), in_file.clone());
        let tree = SpanTree::graft(text, cut, outer.tree, seam, inner.tree);
        let mut duplicates = outer.duplicates;
        duplicates.extend(inner.duplicates);
        duplicates.extend(lint::duplicate_keys_in_spans(&tree, |m| seam.is_mapping(m)));
        let checked = lint::check_with_duplicates(&file[in_file], tree, None, duplicates);
        Some(Self::from_check(checked, range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;
    use crate::yaml::file::YamlFile;
    use crate::yaml::split;

    /// A ConfigMap over [`TWO_PART_MIN`], with `data` keys `k0`…, and the entries `extra`
    /// inserted before entry `at` of each pair.
    fn big_config_map(extra: &[(usize, &str)]) -> String {
        let mut text =
            String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
        for i in 0..12_000 {
            for (_, entry) in extra.iter().filter(|(at, _)| *at == i) {
                text.push_str(entry);
            }
            text.push_str(&format!("  k{i}: value number {i} of the big map\n"));
        }
        text.push_str("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: small\n");
        assert!(text.len() > TWO_PART_MIN);
        text
    }

    fn two_threads() -> bool {
        threads() >= 2
    }

    #[test]
    fn a_big_document_checked_in_two_parts_has_every_duplicate_key() {
        // Duplicates both before the cut, across it, inside it, and in nested mappings.
        let text = big_config_map(&[
            (100, "  k5: again\n"),
            (6_000, "  k10: across\n"),
            (5_900, "  k6100: inside\n"),
            (11_000, "  nested:\n    a: 1\n    a: 2\n"),
            (3_000, "  nested2:\n    b: 1\n    b: 2\n"),
        ]);
        let file = YamlFile::open(&ropey::Rope::from_str(&text));
        if two_threads() {
            assert_eq!(file.stats().two_part, 1);
        }
        let whole: Vec<Diagnostic> = split::split(&text)
            .documents
            .into_iter()
            .flat_map(|r| {
                let start = r.start as isize;
                lint::check(&text[r])
                    .diagnostics
                    .into_iter()
                    .map(move |d| d.shifted(start))
            })
            .collect();
        let found: Vec<Diagnostic> = file.diagnostics().collect();
        assert_eq!(found.len(), 5, "{found:#?}");
        assert_eq!(found, whole);
        assert!(file.documents()[0].spans.is_some());
    }

    #[test]
    fn each_document_s_record_is_moved_once_in_file_order() {
        // Many small documents and one checked in two parts, on every thread there is.
        let mut text = big_config_map(&[]);
        for i in 0..3_000 {
            text.push_str(&format!("---\nkind: ConfigMap\nmetadata:\n  name: m{i}\n"));
        }
        let split = split::split(&text);
        let ranges = split.documents.clone();
        let text = Arc::new(text);
        let before = records_moved();
        let all = check_all(FileText::Whole(&text), split.documents, &|document| {
            document.range()
        });
        assert_eq!(records_moved() - before, ranges.len());
        let documents: Vec<Range<usize>> = all.documents.iter().map(|d| d.range()).collect();
        assert_eq!(documents, ranges);
        assert_eq!(all.visited, ranges);
        if two_threads() {
            assert_eq!(all.two_part, 1);
        }
    }

    #[test]
    fn documents_checked_from_the_rope_are_those_checked_from_the_whole_text() {
        // One document checked in two parts, small ones, and one with a syntax error.
        let mut text = big_config_map(&[(7_000, "  k7000: duplicate\n")]);
        for i in 0..2_000 {
            text.push_str(&format!("---\nkind: ConfigMap\nmetadata:\n  name: m{i}\n"));
        }
        text.push_str("---\nkind: [unclosed\n");
        let split = split::split(&text);
        let rope = Rope::from_str(&text);
        let text = Arc::new(text);
        // What each check gives: the document's range, its diagnostics, its span tree's text.
        let visit = |document: &mut YamlDocument| {
            let spans = document.take_spans();
            let tree_text = spans.map(|spans| spans.text().to_string());
            (document.diagnostics().collect::<Vec<_>>(), tree_text)
        };
        let whole = check_all(FileText::Whole(&text), split.documents.clone(), &visit);
        let from_rope = check_all(FileText::Rope(&rope), split.documents.clone(), &visit);
        let ranges = |all: &CheckedAll<_>| -> Vec<Range<usize>> {
            all.documents.iter().map(|d| d.range()).collect()
        };
        assert_eq!(ranges(&from_rope), split.documents);
        assert_eq!(ranges(&whole), split.documents);
        assert_eq!(from_rope.visited, whole.visited);
        assert_eq!(from_rope.two_part, whole.two_part);
        if two_threads() {
            assert_eq!(from_rope.two_part, 1);
        }
        let codes: Vec<_> = whole
            .visited
            .iter()
            .flat_map(|(d, _)| d)
            .map(|d| d.code)
            .collect();
        assert!(codes.contains(&codes::DUPLICATE_KEY), "{codes:?}");
        assert!(codes.contains(&codes::SYNTAX), "{codes:?}");
    }

    #[test]
    fn a_syntax_error_in_a_part_gives_the_whole_parse_error() {
        for at in [500, 6_000, 11_500] {
            let text = big_config_map(&[(at, "  broken: [unclosed\n")]);
            let file = YamlFile::open(&ropey::Rope::from_str(&text));
            assert_eq!(file.stats().two_part, 0);
            let found: Vec<Diagnostic> = file.diagnostics().collect();
            let first = split::split(&text).documents[0].clone();
            assert_eq!(found, lint::check(&text[first]).diagnostics);
            assert_eq!(found[0].code, codes::SYNTAX);
        }
    }
}
