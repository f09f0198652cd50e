//! The rules' findings of a file, kept per document: an edit re-checks only the document it
//! touches (from the span tree the YAML layer built for it when there is one), and the answers to
//! the documents' questions about other objects are redone only when what they depend on moved:
//! the objects a re-checked document defines, or the workspace index's generation.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ropey::Rope;

use super::{Checked, ClusterLookup, Config, Finding, Universe, check_tree_reading, references};
use crate::diagnostic::{Diagnostic, Severity};
use crate::features::diagnostics::Found;
use crate::text::{TextEdit, retain_following};
use crate::workspace::document::{Document, read_tree};
use crate::workspace::index::Index;
use crate::yaml::detect;
use crate::yaml::file::{YamlDocument, YamlFile};
use crate::yaml::manifest::type_meta;
use crate::yaml::node::TsNode;
use crate::yaml::spans::SpanTree;
use crate::yaml::syntax::{self, RopeSource};

/// What a refresh needs besides the file: the configuration and the workspace.
pub struct Context<'a> {
    pub config: Arc<Config>,
    /// The workspace index, when there is one.
    pub index: Option<&'a Index>,
    /// The file's path in the index (its own entries there are left out).
    pub path: Option<&'a Path>,
    /// The cluster, when one is configured: what the workspace does not hold is looked for
    /// there too.
    pub cluster: Option<ClusterLookup<'a>>,
}

impl Context<'_> {
    /// Only the file itself: no workspace.
    pub fn alone(config: Arc<Config>) -> Context<'static> {
        Context {
            config,
            index: None,
            path: None,
            cluster: None,
        }
    }
}

#[derive(Debug)]
struct Entry {
    range: Range<usize>,
    edited: bool,
    /// Whether `checked.objects` were read (only when the file's questions are answered).
    objects_read: bool,
    checked: Checked,
    /// The answers to `checked.needs`, relative to the document.
    answers: Vec<Finding>,
    /// What a publication shows of the findings (`checked.findings`, then `answers`, numbered
    /// in that order): those whose rule is on, in position order. Kept so that a publication
    /// walks only the findings it sends, not every finding of the file.
    shown: Vec<u32>,
}

impl Entry {
    fn new(range: Range<usize>, objects_read: bool, checked: Checked) -> Self {
        Entry {
            range,
            edited: false,
            objects_read,
            checked,
            answers: Vec::new(),
            shown: Vec::new(),
        }
    }

    /// Finding `at` of `checked.findings` then `answers`.
    fn finding(&self, at: u32) -> &Finding {
        let at = at as usize;
        let local = self.checked.findings.len();
        match at.checked_sub(local) {
            Some(answer) => &self.answers[answer],
            None => &self.checked.findings[at],
        }
    }

    /// Chooses and orders the findings a publication shows under `config`.
    fn choose_shown(&mut self, config: &Config) {
        count_work!(SHOWN_CHOSEN);
        let all = self.checked.findings.iter().chain(&self.answers);
        self.shown = (0u32..)
            .zip(all)
            .filter(|(_, finding)| config.is_on(finding.code))
            .map(|(at, _)| at)
            .collect();
        self.sort_shown();
    }

    /// Orders the shown findings by position (stable: at the same place, the checks' order).
    fn sort_shown(&mut self) {
        let mut shown = std::mem::take(&mut self.shown);
        shown.sort_by_key(|&at| {
            let range = &self.finding(at).range;
            (range.start, range.end)
        });
        self.shown = shown;
    }
}

work_counter!(
    /// How many documents this thread chose the shown rule findings of so far.
    pub fn shown_chosen() => SHOWN_CHOSEN
);

/// Per-document rule findings of one file.
#[derive(Debug)]
pub struct RuleDiagnostics {
    entries: Vec<Entry>,
    config: Arc<Config>,
    /// The index's facts generation ([`Index::facts_generation`]) and the path the answers
    /// were computed for.
    answered_for: Option<(u64, Option<PathBuf>)>,
    /// The cluster's generation ([`ClusterLookup::generation`]) the answers were computed with,
    /// when one of them depended on the cluster.
    asked_cluster_at: Option<u64>,
    /// Documents checked by the last refresh (for tests and benchmarks).
    pub last_checked: usize,
    /// Documents whose objects the last refresh read (for tests).
    pub last_objects_read: usize,
    /// Documents whose questions the last refresh answered again (or dropped the answers of),
    /// the documents it checked included (for tests).
    pub last_answered: usize,
    /// Whether the last refresh matched the entries to the documents again (an edit added or
    /// removed a document) instead of keeping them in place (for tests).
    pub last_rematched: bool,
    /// How many findings the entries show in all.
    shown: usize,
    /// The open chose what every entry shows (a file too big for questions): the first refresh
    /// need not choose it again.
    chosen_at_open: bool,
}

impl Default for RuleDiagnostics {
    fn default() -> Self {
        RuleDiagnostics {
            entries: Vec::new(),
            config: Arc::new(Config::none()),
            answered_for: None,
            asked_cluster_at: None,
            last_checked: 0,
            last_objects_read: 0,
            last_answered: 0,
            last_rematched: false,
            shown: 0,
            chosen_at_open: false,
        }
    }
}

/// Documents over this size whose kind cannot be read cheaply are not checked.
const CHECK_LIMIT: usize = 4 << 20;

/// Files bigger than this are checked only where they are edited (as schema validation does).
const CHECK_FILE_LIMIT: usize = 16 << 20;

/// A file with more objects (or YAML documents) than this is checked document by document,
/// without the questions to other objects: answering them compares every object with every
/// other. Past that many documents the objects are not even read.
pub(super) const MAX_ANSWERED_OBJECTS: usize = 2_000;

impl RuleDiagnostics {
    /// Whether the rules read the objects of a file of `documents` YAML documents (for the
    /// questions its documents ask each other).
    pub fn reads_objects(documents: usize) -> bool {
        documents <= MAX_ANSWERED_OBJECTS
    }

    /// The findings of a file just opened, from what [`check_opened`] found with `config` on
    /// the span trees its open built (`None`: a document without one, or not checked because no
    /// rule is on; checked on the next refresh that has rules on). Nothing shows before the
    /// next [`refresh`](Self::refresh), which answers every question with the workspace; but a
    /// file too big for questions shows its findings at once: that refresh would add nothing, and
    /// the open's first publication has them.
    pub fn opened(file: &YamlFile, checked: Vec<Option<Checked>>, config: Arc<Config>) -> Self {
        let objects_read = Self::reads_objects(file.documents().len());
        // Room for every document at once: collected, a filtered list doubles up to twice that.
        let mut entries = Vec::with_capacity(file.documents().len());
        for (document, checked) in file.documents().iter().zip(checked) {
            let Some(checked) = checked else { continue };
            let mut entry = Entry::new(document.range(), objects_read, checked);
            if !objects_read {
                entry.choose_shown(&config);
            }
            entries.push(entry);
        }
        let mut opened = RuleDiagnostics {
            entries,
            config,
            chosen_at_open: !objects_read,
            ..Self::default()
        };
        opened.count_shown();
        opened
    }

    /// Notes an edit already applied to the text: the document it lands in is checked again on
    /// the next refresh; until then its findings move with the text.
    pub fn note_edit(&mut self, edit: &TextEdit) {
        if self.entries.is_empty() {
            return;
        }
        let before = self.entries.len();
        retain_following(
            &mut self.entries,
            edit,
            |entry| &mut entry.range,
            |entry, start| {
                for finding in entry
                    .checked
                    .findings
                    .iter_mut()
                    .chain(entry.answers.iter_mut())
                {
                    finding.range = edit.map_range(&finding.range, start);
                    for (range, _) in finding.fix.iter_mut().flat_map(|fix| fix.edits.iter_mut()) {
                        *range = edit.map_range(range, start);
                    }
                }
                entry.edited = true;
                entry.sort_shown();
            },
        );
        if self.entries.len() != before {
            self.count_shown();
        }
    }

    /// Forgets everything (after the whole text was replaced).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Checks the documents without an up-to-date entry, then answers the questions whose
    /// answers may have changed. Call it before schema validation takes the span trees. Only the
    /// rules that are on are checked, so another configuration checks every document again;
    /// when no rule is on, nothing is checked and nothing kept.
    pub fn refresh(&mut self, file: &YamlFile, rope: &Rope, context: &Context<'_>) {
        self.last_checked = 0;
        self.last_objects_read = 0;
        self.last_answered = 0;
        if !context.config.any() {
            *self = RuleDiagnostics {
                config: context.config.clone(),
                ..Self::default()
            };
            return;
        }
        // The findings kept are those of the rules that were on.
        let reconfigured = *self.config != *context.config;
        self.config = context.config.clone();
        let config = self.config.clone();
        // The first refresh chooses what every entry shows, with its answers (unless the open
        // did: entries checked or answered again are chosen again below).
        let first = self.answered_for.is_none() && !self.chosen_at_open;
        // Objects are read only where the answers can use them.
        let with_objects = Self::reads_objects(file.documents().len());
        // The kinds of the objects that came, went or changed.
        let mut moved = MovedKinds::default();
        let stale = |e: &Entry| e.edited || (with_objects && !e.objects_read);
        let check = Recheck {
            file,
            rope,
            config: &config,
            with_objects,
        };
        // An edit that kept every document where it was (the common case) leaves the entries
        // where they are.
        let in_place = !reconfigured && file.has_ranges(self.entries.iter().map(|e| &e.range));
        self.last_rematched = !in_place;
        let rechecked = match in_place {
            true => self.recheck_in_place(&check, stale, &mut moved),
            false => self.rematch(&check, |e| !reconfigured && !stale(e), &mut moved),
        };
        let answered = self.answer(rechecked, &moved, with_objects, context);
        self.last_answered = answered.len();
        // The entries checked again are among those answered.
        if first {
            self.entries
                .iter_mut()
                .for_each(|entry| entry.choose_shown(&config));
        } else {
            for i in answered {
                self.entries[i].choose_shown(&config);
            }
        }
        self.count_shown();
    }

    /// Checks the `stale` entries again where they are: their indexes.
    fn recheck_in_place(
        &mut self,
        check: &Recheck<'_>,
        stale: impl Fn(&Entry) -> bool,
        moved: &mut MovedKinds,
    ) -> Vec<usize> {
        let stale: Vec<usize> = (0..self.entries.len())
            .filter(|&i| stale(&self.entries[i]))
            .collect();
        for &index in &stale {
            let (entry, checked) = check.again(index, Some(&self.entries[index]), moved);
            self.note_checked(usize::from(checked), check.with_objects);
            self.entries[index] = entry;
        }
        stale
    }

    /// Matches the entries to the documents again by where they start, keeping the `current`
    /// ones at their document's range and checking the others: the indexes checked.
    fn rematch(
        &mut self,
        check: &Recheck<'_>,
        current: impl Fn(&Entry) -> bool,
        moved: &mut MovedKinds,
    ) -> Vec<usize> {
        let moved = std::cell::RefCell::new(moved);
        let mut checked = 0;
        let (entries, rechecked) = check.file.rematch(
            std::mem::take(&mut self.entries),
            |e| &e.range,
            current,
            |index, before| {
                let (entry, was_checked) =
                    check.again(index, before.as_ref(), &mut moved.borrow_mut());
                checked += usize::from(was_checked);
                entry
            },
            |gone| moved.borrow_mut().add(&gone.checked.objects),
        );
        self.note_checked(checked, check.with_objects);
        self.entries = entries;
        rechecked
    }

    /// Counts the documents [`Recheck::again`] checked (it checks none of a big file not
    /// edited).
    fn note_checked(&mut self, documents: usize, with_objects: bool) {
        self.last_checked += documents;
        self.last_objects_read += if with_objects { documents } else { 0 };
    }

    /// Answers the questions of the entries `rechecked`, of those whose questions read objects
    /// of the kinds `moved`, or of every entry when the index or the cluster moved: the entries
    /// whose answers were redone (with `rechecked`, whose findings are new).
    fn answer(
        &mut self,
        rechecked: Vec<usize>,
        moved: &MovedKinds,
        with_objects: bool,
        context: &Context<'_>,
    ) -> Vec<usize> {
        let answered_for = (
            context.index.map_or(0, Index::facts_generation),
            context.path.map(Path::to_path_buf),
        );
        let generation = context.cluster.map(|c| c.generation);
        let all =
            self.answered_for.as_ref() != Some(&answered_for) || self.awaits_cluster(generation);
        self.answered_for = Some(answered_for);
        // Answers kept from before still depend on the cluster when they did.
        let kept_asked = !all && self.asked_cluster_at.is_some();
        self.asked_cluster_at = kept_asked.then_some(generation).flatten();
        let objects: usize = self.entries.iter().map(|e| e.checked.objects.len()).sum();
        if !with_objects || objects > MAX_ANSWERED_OBJECTS {
            // No question is answered: those answered before are dropped.
            let mut changed = rechecked;
            for (i, entry) in self.entries.iter_mut().enumerate() {
                if !entry.answers.is_empty() {
                    entry.answers.clear();
                    changed.push(i);
                }
            }
            changed.sort_unstable();
            changed.dedup();
            return changed;
        }
        let mut asked = rechecked;
        if all {
            asked = (0..self.entries.len()).collect();
        } else if !moved.is_empty() {
            let reads_moved = |entry: &Entry| {
                entry
                    .checked
                    .needs
                    .iter()
                    .any(|need| moved.iter().any(|kind| need.ask.reads_kind(kind)))
            };
            asked.extend((0..self.entries.len()).filter(|&i| reads_moved(&self.entries[i])));
            asked.sort_unstable();
            asked.dedup();
        }
        if asked
            .iter()
            .all(|&i| self.entries[i].checked.needs.is_empty())
        {
            for &i in &asked {
                self.entries[i].answers.clear();
            }
            return asked;
        }
        let local = self.entries.iter().flat_map(|e| e.checked.objects.iter());
        let universe =
            Universe::new(context.index, context.path, local).with_cluster(context.cluster);
        let answers: Vec<(usize, Vec<Finding>)> = asked
            .iter()
            .map(|&i| {
                let needs = &self.entries[i].checked.needs;
                (
                    i,
                    needs
                        .iter()
                        .filter_map(|n| references::answer(n, &universe))
                        .collect(),
                )
            })
            .collect();
        if universe.asked_cluster() {
            self.asked_cluster_at = generation;
        }
        drop(universe);
        for (i, found) in answers {
            self.entries[i].answers = found;
        }
        asked
    }

    fn count_shown(&mut self) {
        self.shown = self.entries.iter().map(|entry| entry.shown.len()).sum();
    }

    /// Whether answers that depended on the cluster were computed with another of its
    /// generations than `generation` (`None`: no cluster now): the next refresh redoes them.
    pub fn awaits_cluster(&self, generation: Option<u64>) -> bool {
        self.asked_cluster_at
            .is_some_and(|asked| Some(asked) != generation)
    }

    /// The findings of the rules that are on, in file offsets, at their configured severity.
    pub fn diagnostics(&self) -> impl Iterator<Item = Diagnostic> + '_ {
        self.shown().map(|found| found.to_diagnostic())
    }

    /// [`diagnostics`](Self::diagnostics) where they are kept, in position order: walked only
    /// as far as they are taken, cloned only when one is sent.
    pub fn shown(&self) -> impl Iterator<Item = Found<'_>> + '_ {
        self.entries.iter().flat_map(move |entry| {
            entry
                .shown
                .iter()
                .filter_map(move |&at| self.found(entry, at))
        })
    }

    /// How many documents have findings kept (none while no rule is on).
    pub fn documents_kept(&self) -> usize {
        self.entries.len()
    }

    /// How many entries its list holds room for (for tests: kept as long as the file is open).
    #[cfg(test)]
    pub fn entries_room(&self) -> usize {
        self.entries.capacity()
    }

    /// How many findings and questions are kept, shown or not (for tests).
    #[cfg(test)]
    pub fn findings_kept(&self) -> (usize, usize) {
        let kept = |e: &Entry| {
            (
                e.checked.findings.len() + e.answers.len(),
                e.checked.needs.len(),
            )
        };
        let add = |(f, n): (usize, usize), (g, m)| (f + g, n + m);
        self.entries.iter().map(kept).fold((0, 0), add)
    }

    /// The range of each document with an entry and the objects it holds, in order (for
    /// tests).
    #[cfg(test)]
    pub fn objects(&self) -> Vec<(Range<usize>, &[Document])> {
        self.entries
            .iter()
            .map(|e| (e.range.clone(), &e.checked.objects[..]))
            .collect()
    }

    /// How many findings [`shown`](Self::shown) gives.
    pub fn shown_len(&self) -> usize {
        self.shown
    }

    /// The shown findings whose range is `range` (file offsets), looked up.
    pub fn shown_at(&self, range: Range<usize>) -> impl Iterator<Item = Found<'_>> + '_ {
        let first = self.entries.partition_point(|e| e.range.end < range.start);
        let at_start = range.start;
        self.entries[first..]
            .iter()
            .take_while(move |e| e.range.start <= at_start)
            .flat_map(move |entry| {
                let relative = crate::text::shift_range(&range, -(entry.range.start as isize));
                let wanted = (relative.start, relative.end);
                let key = move |at: u32| {
                    let found = &entry.finding(at).range;
                    (found.start, found.end)
                };
                let from = entry.shown.partition_point(|&at| key(at) < wanted);
                entry.shown[from..]
                    .iter()
                    .take_while(move |&&at| key(at) == wanted)
                    .filter_map(move |&at| self.found(entry, at))
            })
    }

    /// Shown finding `at` of `entry`, in file offsets, at its configured severity.
    fn found<'s>(&'s self, entry: &'s Entry, at: u32) -> Option<Found<'s>> {
        count_work!(WALKED);
        let finding = entry.finding(at);
        let severity = self.config.severity(finding.code)?;
        Some(Found::rule(finding, severity, entry.range.start as isize))
    }
}

work_counter!(
    /// How many findings this thread's publications have walked so far.
    pub fn findings_walked() => WALKED
);

/// The kinds of the objects a refresh saw come, go or change.
#[derive(Default)]
struct MovedKinds(Vec<Arc<str>>);

impl MovedKinds {
    fn add<'d>(&mut self, objects: impl IntoIterator<Item = &'d Document>) {
        for kind in objects.into_iter().filter_map(|o| o.kind.as_ref()) {
            if !self.0.contains(kind) {
                self.0.push(kind.clone());
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|kind| &**kind)
    }
}

/// Checks a document of a file being opened on the span tree its check built, as
/// [`RuleDiagnostics::refresh`] would with `config` (`with_objects`: see
/// [`RuleDiagnostics::reads_objects`]); `read` gives the tree's objects when they are needed, as
/// [`read_tree`](crate::workspace::document::read_tree) reads them (the open has the index's
/// read of the same tree).
pub fn check_opened(
    document: &YamlDocument,
    spans: &SpanTree,
    config: &Config,
    with_objects: bool,
    read: impl FnOnce(&SpanTree) -> Vec<Document>,
) -> Checked {
    if document
        .diagnostics()
        .any(|d| d.severity == Severity::Error)
    {
        return Checked::default();
    }
    check_spans_reading(spans, config, with_objects, read)
}

/// What checking a document of a file again needs.
struct Recheck<'a> {
    file: &'a YamlFile,
    rope: &'a Rope,
    config: &'a Config,
    with_objects: bool,
}

impl Recheck<'_> {
    /// Document `index`'s entry checked again, in place of `before` (its entry, when it had
    /// one), noting the kinds of objects that changed in `moved`; and whether it was checked (a
    /// file over [`CHECK_FILE_LIMIT`] is checked only where it was edited).
    fn again(&self, index: usize, before: Option<&Entry>, moved: &mut MovedKinds) -> (Entry, bool) {
        let range = self.file.documents()[index].range();
        let edited = before.is_some_and(|b| b.edited);
        let check = self.rope.len_bytes() <= CHECK_FILE_LIMIT || edited;
        let checked = if check {
            let (file, rope) = (self.file, self.rope);
            check_document(
                file,
                index,
                rope,
                range.clone(),
                self.config,
                self.with_objects,
            )
        } else {
            Checked::default()
        };
        match before {
            Some(b) if b.checked.objects == checked.objects => {}
            _ => {
                moved.add(&checked.objects);
                moved.add(before.iter().flat_map(|b| &b.checked.objects));
            }
        }
        (Entry::new(range, self.with_objects, checked), check)
    }
}

/// Checks document `index`: on the span tree the YAML layer kept for it, else on a new one
/// unless a cheap look says it is no object a rule reads (a CustomResourceDefinition). Helm
/// templates and documents with YAML errors are not checked.
fn check_document(
    file: &YamlFile,
    index: usize,
    rope: &Rope,
    range: Range<usize>,
    config: &Config,
    with_objects: bool,
) -> Checked {
    let document = &file.documents()[index];
    if document
        .diagnostics()
        .any(|d| d.severity == Severity::Error)
    {
        return Checked::default();
    }
    if let Some(spans) = file.spans(index) {
        return check_spans(spans, config, with_objects);
    }
    let kind = match file.existing_tree(index) {
        Some(tree) => {
            let source = RopeSource::new(rope, range.clone());
            syntax::document_root(tree)
                .map(|root| type_meta(TsNode::new(root, &source)))
                .and_then(|meta| Some((meta.api_version?.0, meta.kind?.0)))
        }
        None => top_level_type(rope, range.clone()),
    };
    let skip = match &kind {
        Some((api_version, kind)) => crate::schema::crd::is_crd(api_version, kind),
        None => range.len() > CHECK_LIMIT,
    };
    if skip {
        return Checked::default();
    }
    let text = crate::yaml::file::text_of(rope, range).into_owned();
    let (tree, error) = SpanTree::parse_owned(text);
    if error.is_some() {
        return Checked::default();
    }
    check_spans(&tree, config, with_objects)
}

/// The `apiVersion` and `kind` of a document from its lines at column 0 (`kind: X`), without a
/// parse: enough to leave a CustomResourceDefinition alone. Plain values only.
fn top_level_type(rope: &Rope, range: Range<usize>) -> Option<(String, String)> {
    let (mut api_version, mut kind) = (None, None);
    for line in rope.byte_slice(range).lines() {
        let Some(first) = line.chunks().next() else {
            continue;
        };
        if !first.starts_with(['a', 'k']) {
            continue;
        }
        let text: String = line.chars().take(256).collect();
        let value = |key: &str| {
            let rest = text.strip_prefix(key)?.strip_prefix(':')?;
            let value = rest.split('#').next()?.trim().trim_matches(['"', '\'']);
            (!value.is_empty()).then(|| value.to_string())
        };
        api_version = api_version.or_else(|| value("apiVersion"));
        kind = kind.or_else(|| value("kind"));
        if api_version.is_some() && kind.is_some() {
            break;
        }
    }
    Some((api_version?, kind?))
}

fn check_spans(tree: &SpanTree, config: &Config, with_objects: bool) -> Checked {
    check_spans_reading(tree, config, with_objects, read_tree)
}

/// [`check_spans`] with the objects given by `read` (see [`check_tree_reading`]).
fn check_spans_reading(
    tree: &SpanTree,
    config: &Config,
    with_objects: bool,
    read: impl FnOnce(&SpanTree) -> Vec<Document>,
) -> Checked {
    let text = tree.root().map_or("", |root| root.source());
    if detect::template_action_in(text).is_some() {
        return Checked::default();
    }
    let mut checked = check_tree_reading(tree, config, with_objects, read);
    // What other documents compare: not where it is.
    for object in &mut checked.objects {
        object.range = 0..0;
        object.name_range = None;
    }
    checked
}
