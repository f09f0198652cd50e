//! The index: every indexed file with its Kubernetes documents, looked up by kind and by name,
//! with the Helm charts and kustomizations of the workspace. Pure data: it reads no file; the
//! [`Workspace`](super::Workspace) fills it.

use std::collections::{BTreeMap, BTreeSet, HashMap, btree_map};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use super::document::{Document, Labels, SELECTING_KINDS, Selector, WORKLOAD_KINDS};
use super::kustomize::Kustomization;
use super::open::Slot;
use super::references::Ref;
use crate::schema::crd::CRD_KIND;

/// Where a file's entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    Disk,
    /// An open document's text, which wins over the disk until it is closed.
    Open,
}

/// An indexed file.
#[derive(Clone, Debug)]
pub struct File {
    pub origin: Origin,
    /// Its size when it was over the size bound and not read (it then has no documents).
    pub too_big: Option<u64>,
    pub documents: Vec<Document>,
    /// What it names, when it is a kustomization file.
    pub kustomization: Option<Kustomization>,
    /// The state of the open document this entry was read from (open documents only, when
    /// known): a number that grows with each edit and each open of any document, so a later
    /// open's text is never taken for an earlier one's (their versions both start at 1).
    pub revision: Option<u64>,
    /// An open document's YAML documents as they were read (`super::open`): the next version
    /// reads only those that changed.
    pub(super) slots: Option<Box<[Slot]>>,
    /// The generation that wrote it.
    written: u64,
}

impl File {
    pub(super) fn new(origin: Origin, documents: Vec<Document>) -> File {
        File {
            origin,
            too_big: None,
            documents,
            kustomization: None,
            revision: None,
            slots: None,
            written: 0,
        }
    }
}

/// How far the scan of the workspace folders got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanStatus {
    /// No scan yet (or no workspace folder): only open documents are known.
    NotStarted,
    /// Files are still being read; answers are partial.
    Running,
    Complete,
    /// Stopped at the bound on the number of files.
    Truncated,
}

/// How namespaces are matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace<'q> {
    Any,
    /// Documents of this namespace, and those that name none (they land in whichever
    /// namespace they are applied to).
    In(&'q str),
}

impl Namespace<'_> {
    fn admits(&self, document: &Document) -> bool {
        match (self, document.namespace.as_deref()) {
            (Namespace::Any, _) | (Namespace::In(_), None) => true,
            (Namespace::In(wanted), Some(namespace)) => *wanted == namespace,
        }
    }
}

/// A document and the file it is in.
#[derive(Clone, Copy, Debug)]
pub struct Found<'i> {
    pub path: &'i Path,
    pub origin: Origin,
    pub document: &'i Document,
}

/// A Helm chart a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chart<'i> {
    /// The folder holding `Chart.yaml`.
    pub root: &'i Path,
    /// Whether the file is one of its templates (under `templates/`).
    pub template: bool,
}

/// A replaced file with this many documents is freed on a thread of its own: freeing thousands
/// of documents takes milliseconds that the open replacing it would otherwise wait for before
/// it publishes.
const DROP_ASIDE_MIN: usize = 2_000;

/// Files by path.
type Files = BTreeMap<Arc<Path>, Arc<File>>;

/// The documents of one file that a lookup's key holds: a query visits them alone, not every
/// document of the file (one file may hold thousands).
#[derive(Clone, Debug)]
struct Posting {
    file: Arc<File>,
    /// Indices into the file's documents, ascending.
    documents: Vec<u32>,
}

impl Posting {
    fn new(file: &Arc<File>) -> Posting {
        Posting {
            file: file.clone(),
            documents: Vec::new(),
        }
    }

    /// Adds the document at `index` (documents are added in order, each once).
    fn add(&mut self, index: u32) {
        add_index(&mut self.documents, index);
    }
}

/// Postings by path.
type Postings = BTreeMap<Arc<Path>, Posting>;
/// Documents by their file's path and their index in it.
type DocumentsAt = Arc<[(Arc<Path>, u32)]>;
/// Postings in path order.
type PostingList = Vec<(Arc<Path>, Posting)>;

#[derive(Debug)]
pub struct Index {
    files: Files,
    by_kind: HashMap<Box<str>, Postings>,
    /// Most names are in one file or two: a short list each, not a map.
    by_name: HashMap<Box<str>, PostingList>,
    /// Documents by the names their references point at.
    by_target: HashMap<Box<str>, Postings>,
    /// Workloads by their Pods' labels (`key\0value`): a selector's workloads are looked up,
    /// not scanned for.
    by_pod_label: HashMap<Box<str>, Postings>,
    /// Services by a label asked for (`key\0value`): found by one scan of the Services the
    /// first time the label is asked for, and kept until the index changes. A ServiceMonitor's
    /// selector looks its Services up; only the labels asked for take memory.
    services_by_label: Mutex<HashMap<Box<str>, DocumentsAt>>,
    /// How many Services those scans read (what the lookups cost).
    services_scanned: AtomicUsize,
    /// Kustomization files by the files and folders they name.
    kustomized: HashMap<PathBuf, BTreeSet<Arc<Path>>>,
    /// Folders with a `Chart.yaml`.
    charts: BTreeSet<Arc<Path>>,
    kustomizations: BTreeSet<Arc<Path>>,
    too_big: usize,
    generation: u64,
    /// See [`Index::facts_generation`].
    facts_generation: u64,
    status: ScanStatus,
    /// While a scan runs: files removed since it started (what it read of them is stale).
    removed: HashMap<Arc<Path>, u64>,
}

impl Default for Index {
    fn default() -> Self {
        Index {
            files: BTreeMap::new(),
            by_kind: HashMap::new(),
            by_name: HashMap::new(),
            by_target: HashMap::new(),
            by_pod_label: HashMap::new(),
            services_by_label: Mutex::default(),
            services_scanned: AtomicUsize::new(0),
            kustomized: HashMap::new(),
            charts: BTreeSet::new(),
            kustomizations: BTreeSet::new(),
            too_big: 0,
            generation: 0,
            facts_generation: 0,
            status: ScanStatus::NotStarted,
            removed: HashMap::new(),
        }
    }
}

impl Index {
    // ------------------------------------------------------------------ state

    /// Grows with every change: an answer computed at one generation holds until it moves.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Grows with every change but an open file's edit that left each of its documents the same
    /// for the others ([`Document::same_for_others`]): an answer a document gets from the
    /// others (a reference's target, the Pods a selector selects, a rule's question) holds until
    /// it moves. An answer about the edited documents themselves moves with [`generation`].
    ///
    /// [`generation`]: Self::generation
    pub fn facts_generation(&self) -> u64 {
        self.facts_generation
    }

    /// One more generation of both kinds.
    fn moved(&mut self) {
        self.generation += 1;
        self.facts_generation += 1;
    }

    pub fn status(&self) -> ScanStatus {
        self.status
    }

    /// Whether some of the workspace may be missing: no complete scan, files past the bound, or
    /// files too big to read.
    pub fn is_partial(&self) -> bool {
        self.status != ScanStatus::Complete || self.too_big > 0
    }

    /// How many files are indexed.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    // ------------------------------------------------------------------ queries

    pub fn file(&self, path: &Path) -> Option<&File> {
        self.files.get(path).map(|file| &**file)
    }

    /// Every indexed file, by path.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &File)> + '_ {
        self.files.iter().map(|(path, file)| (&**path, &**file))
    }

    /// The documents of a file.
    pub fn documents_of(&self, path: &Path) -> impl Iterator<Item = Found<'_>> + '_ {
        self.files
            .get_key_value(path)
            .into_iter()
            .flat_map(|(path, file)| found_in(path, file))
    }

    /// The first document of a file whose range holds `offset` (its end included: a cursor just
    /// after a document's last character is still in it). A binary search: a file's documents
    /// are in text order and do not overlap, and a big file's are asked on every hover.
    pub fn document_at(&self, path: &Path, offset: usize) -> Option<Found<'_>> {
        let (path, file) = self.files.get_key_value(path)?;
        let first_reaching = file.documents.partition_point(|document| {
            count_work!(LOCATED_VISITED);
            document.range.end < offset
        });
        let document = file.documents.get(first_reaching)?;
        (document.range.start <= offset).then_some(Found {
            path,
            origin: file.origin,
            document,
        })
    }

    /// The documents named `name` of `kind` (in `group` when given: `""` is the core group).
    pub fn named<'q>(
        &'q self,
        kind: &'q str,
        group: Option<&'q str>,
        namespace: Namespace<'q>,
        name: &'q str,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        let postings = self.by_name.get(name).into_iter().flatten();
        postings
            .flat_map(|(path, posting)| posted(path, posting))
            .filter(move |found| {
                let document = found.document;
                of_kind(document, kind, group) && namespace.admits(document)
            })
    }

    /// Every document of `kind` (in `group` when given).
    pub fn of_kind<'q>(
        &'q self,
        kind: &'q str,
        group: Option<&'q str>,
        namespace: Namespace<'q>,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        self.in_postings(self.by_kind.get(kind))
            .filter(move |found| {
                of_kind(found.document, kind, group) && namespace.admits(found.document)
            })
    }

    /// The workloads (and Pods) whose Pods `selector` selects, by kind (in `WORKLOAD_KINDS`'
    /// order), then in path order. Those a selector's first label names are looked up; a
    /// selector without labels scans them all.
    pub fn workloads_matching<'q>(
        &'q self,
        namespace: Namespace<'q>,
        selector: &'q Selector,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        let candidates: Box<dyn Iterator<Item = Found<'q>> + 'q> =
            match selector.match_labels.iter().next() {
                Some((key, value)) => {
                    let mut labelled: Vec<Found<'q>> =
                        self.workloads_labelled(key, value, namespace).collect();
                    // Stable: in path order within a kind, as `of_kinds` gives them.
                    labelled.sort_by_key(|found| {
                        let kind = found.document.kind.as_deref();
                        WORKLOAD_KINDS.iter().position(|k| Some(*k) == kind)
                    });
                    Box::new(labelled.into_iter())
                }
                None => Box::new(self.of_kinds(&WORKLOAD_KINDS, namespace)),
            };
        candidates.filter(|found| {
            found
                .document
                .pod_labels
                .as_ref()
                .is_some_and(|l| selector.matches(l))
        })
    }

    /// The workloads (and Pods) whose Pods have the label `key: value`, in path order (not by
    /// kind): looked up, where [`workloads_matching`](Self::workloads_matching) scans them all.
    pub fn workloads_labelled<'q>(
        &'q self,
        key: &'q str,
        value: &'q str,
        namespace: Namespace<'q>,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        let mut label = String::new();
        pod_label_key(&mut label, key, value);
        self.in_postings(self.by_pod_label.get(label.as_str()))
            .filter(move |found| {
                let document = found.document;
                document
                    .kind
                    .as_deref()
                    .is_some_and(|kind| WORKLOAD_KINDS.contains(&kind))
                    && namespace.admits(document)
                    && document
                        .pod_labels
                        .as_ref()
                        .is_some_and(|labels| labels.get(key) == Some(value))
            })
    }

    /// The Services (of any namespace) labelled `key: value`, in path order: every Service is
    /// read the first time a label is asked for, not each time.
    pub fn services_labelled(&self, key: &str, value: &str) -> impl Iterator<Item = Found<'_>> {
        let found = {
            let mut known = self
                .services_by_label
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let mut label = String::new();
            pod_label_key(&mut label, key, value);
            match known.get(label.as_str()) {
                Some(found) => found.clone(),
                None => {
                    let services = self.by_kind.get("Service").into_iter().flatten();
                    let found: DocumentsAt = services
                        .flat_map(|(path, posting)| {
                            posting.documents.iter().map(move |&at| (path, posting, at))
                        })
                        .inspect(|_| {
                            self.services_scanned.fetch_add(1, AtomicOrdering::Relaxed);
                        })
                        .filter(|(_, posting, at)| {
                            let document = &posting.file.documents[*at as usize];
                            of_kind(document, "Service", None)
                                && document.labels.get(key) == Some(value)
                        })
                        .map(|(path, _, at)| (path.clone(), at))
                        .collect();
                    known.insert(label.into(), found.clone());
                    found
                }
            }
        };
        (0..found.len()).filter_map(move |at| {
            let (path, document) = &found[at];
            let (path, file) = self.files.get_key_value(&**path)?;
            Some(Found {
                path,
                origin: file.origin,
                document: file.documents.get(*document as usize)?,
            })
        })
    }

    /// How many Services the lookups by label read so far.
    pub fn services_scanned(&self) -> usize {
        self.services_scanned.load(AtomicOrdering::Relaxed)
    }

    fn forget_services_by_label(&mut self) {
        self.services_by_label
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// The documents whose selector selects Pods with `labels` (Services, workloads,
    /// PodDisruptionBudgets, NetworkPolicies).
    pub fn selecting<'q>(
        &'q self,
        namespace: Namespace<'q>,
        labels: &'q Labels,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        self.of_kinds(&SELECTING_KINDS, namespace).filter(|found| {
            found
                .document
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(labels))
        })
    }

    /// The CustomResourceDefinitions of the workspace.
    pub fn crds(&self) -> impl Iterator<Item = Found<'_>> + '_ {
        self.of_kind(CRD_KIND, None, Namespace::Any)
            .filter(|found| found.document.crd.is_some())
    }

    /// The Helm chart `path` belongs to: the nearest folder above it with a `Chart.yaml`.
    pub fn chart_of(&self, path: &Path) -> Option<Chart<'_>> {
        let root = path
            .ancestors()
            .skip(1)
            .find_map(|folder| self.charts.get(folder))?;
        Some(Chart {
            root,
            template: path.starts_with(root.join("templates")),
        })
    }

    /// The kustomizations that name `path` itself (in any of their fields): looked up, not
    /// searched for among every kustomization.
    pub fn kustomizations_naming(
        &self,
        path: &Path,
    ) -> impl Iterator<Item = (&Path, &Kustomization)> + '_ {
        self.kustomized
            .get(path)
            .into_iter()
            .flatten()
            .filter_map(|named_by| {
                let kustomization = self.files.get(named_by)?.kustomization.as_ref()?;
                Some((&**named_by, kustomization))
            })
    }

    /// The kustomizations that name `path` or a folder holding it.
    pub fn kustomizations_including(
        &self,
        path: &Path,
    ) -> impl Iterator<Item = (&Path, &Kustomization)> + '_ {
        let path = path.to_path_buf();
        self.kustomizations()
            .filter(move |(_, k)| k.includes(&path))
    }

    /// Every kustomization of the workspace.
    pub fn kustomizations(&self) -> impl Iterator<Item = (&Path, &Kustomization)> + '_ {
        self.kustomizations.iter().filter_map(|path| {
            let kustomization = self.files.get(path)?.kustomization.as_ref()?;
            Some((&**path, kustomization))
        })
    }

    /// The documents with a reference to an object named `name` (with the references, each
    /// document once per reference).
    pub fn referring<'q>(
        &'q self,
        name: &'q str,
    ) -> impl Iterator<Item = (Found<'q>, &'q Ref)> + 'q {
        self.in_postings(self.by_target.get(name))
            .flat_map(move |found| {
                found
                    .document
                    .refs
                    .iter()
                    .filter(move |r| r.target_name() == name)
                    .map(move |r| (found, r))
            })
    }

    /// Every kustomization that builds `path`: those naming it or a folder above it, then those
    /// naming them (an overlay of a base), transitively; nearest first, each once.
    pub fn kustomizations_of(&self, path: &Path) -> Vec<(&Path, &Kustomization)> {
        const DEPTH: usize = 16;
        let mut found: Vec<&Arc<Path>> = Vec::new();
        let mut from: Vec<&Path> = vec![path];
        for _ in 0..DEPTH {
            let mut next = Vec::new();
            for path in from {
                for named in path.ancestors() {
                    for kustomization in self.kustomized.get(named).into_iter().flatten() {
                        if !found.contains(&kustomization) && **kustomization != *path {
                            found.push(kustomization);
                            next.push(&**kustomization);
                        }
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            from = next;
        }
        found
            .into_iter()
            .filter_map(|path| Some((&**path, self.files.get(path)?.kustomization.as_ref()?)))
            .collect()
    }

    /// Whether anything is indexed at `path` or under it.
    pub fn has_files_at(&self, path: &Path) -> bool {
        self.files
            .range::<Path, _>((Bound::Included(path), Bound::Unbounded))
            .next()
            .is_some_and(|(key, _)| key.starts_with(path))
    }

    fn in_postings<'q>(
        &'q self,
        postings: Option<&'q Postings>,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        postings
            .into_iter()
            .flatten()
            .flat_map(|(path, posting)| posted(path, posting))
    }

    fn of_kinds<'q>(
        &'q self,
        kinds: &'q [&'q str],
        namespace: Namespace<'q>,
    ) -> impl Iterator<Item = Found<'q>> + 'q {
        kinds
            .iter()
            .flat_map(move |kind| self.of_kind(kind, None, namespace))
    }

    // ------------------------------------------------------------------ updates

    /// Puts `file` at `path`, replacing what was there.
    pub(super) fn insert(&mut self, path: &Path, file: File) {
        self.moved();
        self.put(path, file);
    }

    /// [`insert`](Self::insert) of an open file's edit whose documents are the same for the
    /// others: [`facts_generation`](Self::facts_generation) does not move.
    pub(super) fn insert_same_for_others(&mut self, path: &Path, file: File) {
        self.generation += 1;
        self.put(path, file);
    }

    fn put(&mut self, path: &Path, mut file: File) {
        self.forget_services_by_label();
        file.written = self.generation;
        let file = Arc::new(file);
        let path = self.unlink(path).unwrap_or_else(|| Arc::from(path));
        // A file's documents by kind, target and label first: a file of thousands of documents
        // posts each key once (each posting is found by comparing paths).
        let mut by_kind: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut by_target: HashMap<&str, Vec<u32>> = HashMap::new();
        let mut by_pod_label: HashMap<String, Vec<u32>> = HashMap::new();
        let mut label_key = String::new();
        for (index, document) in (0u32..).zip(&file.documents) {
            if let Some(kind) = &document.kind {
                gather(&mut by_kind, kind, index);
            }
            if let Some(name) = &document.name {
                // In path order, like the other lookups: answers list duplicates the same way
                // whatever order the files were read in.
                let postings = match self.by_name.get_mut(&**name) {
                    Some(postings) => postings,
                    None => self.by_name.entry(name.clone()).or_default(),
                };
                let at = match postings.binary_search_by(|(known, _)| known.cmp(&path)) {
                    Ok(at) => at,
                    Err(at) => {
                        if postings.is_empty() {
                            // Most names are in one file: room for one, where a first insert
                            // reserves four.
                            postings.reserve_exact(1);
                        }
                        postings.insert(at, (path.clone(), Posting::new(&file)));
                        at
                    }
                };
                postings[at].1.add(index);
            }
            for target in document.refs.iter().map(Ref::target_name) {
                gather(&mut by_target, target, index);
            }
            for (label, value) in pod_labels(document) {
                let key = pod_label_key(&mut label_key, label, value);
                // Looked up by reference first: the key is copied only when it is new.
                match by_pod_label.get_mut(key) {
                    Some(indexes) => add_index(indexes, index),
                    None => {
                        by_pod_label.insert(key.to_string(), vec![index]);
                    }
                }
            }
        }
        for (kind, indexes) in by_kind {
            post(&mut self.by_kind, kind, &path, &file, indexes);
        }
        for (target, indexes) in by_target {
            post(&mut self.by_target, target, &path, &file, indexes);
        }
        for (label, indexes) in by_pod_label {
            post(&mut self.by_pod_label, &label, &path, &file, indexes);
        }
        if let Some(kustomization) = &file.kustomization {
            self.kustomizations.insert(path.clone());
            for named in &kustomization.entries {
                let by = self.kustomized.entry(named.path.clone()).or_default();
                by.insert(path.clone());
            }
        }
        if file.too_big.is_some() {
            self.too_big += 1;
        }
        if is_chart_file(&path)
            && let Some(folder) = path.parent()
        {
            self.charts.insert(Arc::from(folder));
        }
        if let Some(old) = self.files.insert(path, file)
            && old.documents.len() >= DROP_ASIDE_MIN
        {
            count_work!(DROPPED_ASIDE);
            crate::text::threads::drop_aside(old);
        }
    }

    /// Takes `path`'s entry out to write it anew (the caller inserts the new one at once, under
    /// the same lock): its documents come without a copy when nothing else holds them.
    pub(super) fn take_for_update(&mut self, path: &Path) -> Option<File> {
        self.forget_services_by_label();
        let key = self.unlink(path)?;
        let file = self.files.remove(&key)?;
        Some(Arc::try_unwrap(file).unwrap_or_else(|shared| (*shared).clone()))
    }

    /// Forgets `path`; `true` when it was indexed.
    pub(super) fn remove(&mut self, path: &Path) -> bool {
        let Some(key) = self.unlink(path) else {
            return false;
        };
        self.moved();
        self.forget_services_by_label();
        self.files.remove(&key);
        if is_chart_file(&key)
            && let Some(folder) = key.parent()
        {
            self.charts.remove(folder);
        }
        if self.status == ScanStatus::Running {
            self.removed.insert(key, self.generation);
        }
        true
    }

    /// The indexed files at or under `path`.
    pub(super) fn paths_under(&self, path: &Path) -> Vec<Arc<Path>> {
        self.files
            .range::<Path, _>((Bound::Included(path), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(path))
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Takes `path`'s entry out of the lookups (it stays in `files`): its key there, when it is
    /// indexed. One lookup in `files`, whose paths compare component by component; the entry
    /// is let go of before this returns, so that a caller taking it out of `files` takes its
    /// documents without a copy.
    fn unlink(&mut self, path: &Path) -> Option<Arc<Path>> {
        let (key, old) = self.files.get_key_value(path)?;
        let (key, old) = (key.clone(), old.clone());
        let path = &key;
        let mut label_key = String::new();
        for document in &old.documents {
            if let Some(kind) = &document.kind {
                unlink_from(&mut self.by_kind, kind, path);
            }
            // Taken out and put back only when other files have the name: one lookup for most.
            if let Some(name) = &document.name
                && let Some((name, mut files)) = self.by_name.remove_entry(&**name)
            {
                files.retain(|(known, _)| known != path);
                if !files.is_empty() {
                    self.by_name.insert(name, files);
                }
            }
            for target in document.refs.iter().map(Ref::target_name) {
                unlink_from(&mut self.by_target, target, path);
            }
            for (label, value) in pod_labels(document) {
                let key = pod_label_key(&mut label_key, label, value);
                unlink_from(&mut self.by_pod_label, key, path);
            }
        }
        if let Some(kustomization) = &old.kustomization {
            self.kustomizations.remove(path);
            for named in &kustomization.entries {
                if let Some(by) = self.kustomized.get_mut(&named.path) {
                    by.remove(path);
                    if by.is_empty() {
                        self.kustomized.remove(&named.path);
                    }
                }
            }
        }
        if old.too_big.is_some() {
            self.too_big -= 1;
        }
        Some(key)
    }

    /// A scan starts: returns the generation its results are compared with.
    pub(super) fn begin_scan(&mut self) -> u64 {
        self.status = ScanStatus::Running;
        self.removed.clear();
        self.generation
    }

    /// A file the scan read, unless something newer came first: an open document, a change
    /// seen since the scan started, or its removal meanwhile.
    pub(super) fn insert_scanned(&mut self, path: &Path, file: File, started: u64) {
        let newer = match self.files.get(path) {
            Some(current) => current.origin == Origin::Open || current.written > started,
            None => self.removed.contains_key(path),
        };
        if !newer {
            self.insert(path, file);
        }
    }

    /// The scan ended: files from disk it did not see again (deleted before it started) go.
    pub(super) fn end_scan(&mut self, started: u64, truncated: bool) {
        let stale: Vec<Arc<Path>> = self
            .files
            .iter()
            .filter(|(_, file)| file.origin == Origin::Disk && file.written <= started)
            .map(|(path, _)| path.clone())
            .collect();
        if !truncated {
            for path in stale {
                self.remove(&path);
            }
        }
        self.removed.clear();
        self.status = if truncated {
            ScanStatus::Truncated
        } else {
            ScanStatus::Complete
        };
        self.moved();
    }

    /// Files are over the count bound.
    pub(super) fn set_truncated(&mut self) {
        if self.status == ScanStatus::Complete {
            self.status = ScanStatus::Truncated;
            self.moved();
        }
    }
}

/// The documents a posting holds.
fn posted<'i>(path: &'i Arc<Path>, posting: &'i Posting) -> impl Iterator<Item = Found<'i>> + 'i {
    let file = &*posting.file;
    posting.documents.iter().map(move |&index| {
        count_work!(POSTED_VISITED);
        Found {
            path,
            origin: file.origin,
            document: &file.documents[index as usize],
        }
    })
}

work_counter!(
    /// How many replaced files this thread's index inserts left to another thread to free.
    pub fn dropped_aside() => DROPPED_ASIDE
);

work_counter!(
    /// How many documents this thread's [`Index::document_at`] looked at so far.
    pub fn located_visited() => LOCATED_VISITED
);

work_counter!(
    /// How many documents this thread's lookups took from the index's postings so far.
    pub fn posted_visited() => POSTED_VISITED
);

fn found_in<'i>(path: &'i Arc<Path>, file: &'i File) -> impl Iterator<Item = Found<'i>> + 'i {
    file.documents.iter().map(move |document| Found {
        path,
        origin: file.origin,
        document,
    })
}

fn of_kind(document: &Document, kind: &str, group: Option<&str>) -> bool {
    document.kind.as_deref() == Some(kind)
        && group.is_none_or(|group| document.group() == Some(group))
}

fn is_chart_file(path: &Path) -> bool {
    path.file_name().is_some_and(|name| name == "Chart.yaml")
}

/// The key of a Pod label in `by_pod_label`, written in `buffer` (reused: one per label of
/// every workload would be allocated otherwise).
fn pod_label_key<'b>(buffer: &'b mut String, key: &str, value: &str) -> &'b str {
    buffer.clear();
    buffer.extend([key, "\0", value]);
    buffer
}

/// The labels a document is looked up by in `by_pod_label`: its Pods', if it is a workload.
fn pod_labels(document: &Document) -> impl Iterator<Item = (&str, &str)> {
    let is_workload = document
        .kind
        .as_deref()
        .is_some_and(|kind| WORKLOAD_KINDS.contains(&kind));
    document
        .pod_labels
        .as_ref()
        .filter(|_| is_workload)
        .into_iter()
        .flat_map(|labels| labels.iter())
}

work_counter!(
    /// How many postings (a key's documents of one file) this thread wrote so far.
    fn postings_written() => POSTED
);

/// Notes the document at `index` under `key` (documents come in order).
fn gather<'k>(gathered: &mut HashMap<&'k str, Vec<u32>>, key: &'k str, index: u32) {
    add_index(gathered.entry(key).or_default(), index);
}

/// Adds `index` to ascending `indexes` unless it is the last already (a document posted under
/// one key twice, e.g. two refs to the same target).
fn add_index(indexes: &mut Vec<u32>, index: u32) {
    if indexes.last() != Some(&index) {
        indexes.push(index);
    }
}

/// Posts the file's documents at `indexes` (ascending) under `key`.
fn post(
    map: &mut HashMap<Box<str>, Postings>,
    key: &str,
    path: &Arc<Path>,
    file: &Arc<File>,
    indexes: Vec<u32>,
) {
    count_work!(POSTED);
    // Looked up by reference first: the key is copied only when it is new.
    let postings = match map.get_mut(key) {
        Some(postings) => postings,
        None => map.entry(key.into()).or_default(),
    };
    // One descent of the postings, which compares paths.
    match postings.entry(path.clone()) {
        btree_map::Entry::Occupied(mut posting) => {
            let posting = posting.get_mut();
            indexes.into_iter().for_each(|index| posting.add(index));
        }
        btree_map::Entry::Vacant(place) => {
            let mut posting = Posting::new(file);
            posting.documents = indexes;
            place.insert(posting);
        }
    }
}

fn unlink_from(map: &mut HashMap<Box<str>, Postings>, key: &str, path: &Path) {
    if let Some(files) = map.get_mut(key) {
        files.remove(path);
        if files.is_empty() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests;
