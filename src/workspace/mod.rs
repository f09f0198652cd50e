//! The workspace model: every Kubernetes document of the workspace folders, open in the editor
//! or not, and the CRD and schema files the schema catalog reads.
//!
//! [`Workspace`] owns an [`Index`](index::Index) and keeps it current: the initial scan of the
//! folders ([`Workspace::scan`], blocking: the server runs it on a blocking thread), open
//! documents' texts ([`Workspace::open_text`], [`Workspace::close`]: the open text wins over the
//! disk until it is closed) and files changed on disk ([`Workspace::files_changed`]). Clients
//! read it with [`Workspace::read`] and ask the index ("which ConfigMaps exist", "which
//! workloads carry these labels", "which CRDs are defined", "which chart or kustomization does
//! this file belong to"). Keys are file paths; this layer knows nothing of LSP.
//!
//! Concurrency: one `RwLock<Index>`, updated in place. Files are read and parsed outside the
//! lock; the write lock is held only to put a batch of parsed files in, so a query waits at most
//! for one batch. The scan inserts in batches and the index answers while it fills
//! ([`Index::status`] says so). A snapshot replaced whole (`Arc<Index>`) would make every open
//! document's edit copy the whole index; in-place updates cost what the file costs.

pub mod chart;
pub mod crd_files;
pub mod disk;
pub mod document;
pub mod index;
pub mod kustomize;
pub mod open;
pub mod references;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use disk::Contents;
use index::{File, Index, Origin};
use ropey::Rope;

/// Bounds of what is read from disk.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Files read by a scan, at most (a home folder opened by mistake).
    pub max_files: usize,
    /// Bigger files are indexed as too big, unread (the size cap of `files` applies too; the
    /// default is that cap: the `maxFileBytes` setting).
    pub max_file_bytes: u64,
    /// Threads reading files during a scan.
    pub workers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_files: disk::MAX_FILES,
            max_file_bytes: u64::MAX,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4)),
        }
    }
}

/// How many scanned files go into the index under one write lock.
const BATCH: usize = 64;

pub struct Workspace {
    roots: RwLock<Vec<PathBuf>>,
    /// One scan at a time: a scan that began before the folders changed must not leave files of
    /// a folder removed since (the later scan drops what it did not see again).
    scanning: std::sync::Mutex<()>,
    limits: Limits,
    index: RwLock<Index>,
    /// The Helm charts read so far (`chart::ChartModel`).
    pub charts: chart::ChartCache,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::new(Limits::default())
    }
}

impl Workspace {
    pub fn new(limits: Limits) -> Workspace {
        Workspace {
            roots: RwLock::default(),
            scanning: std::sync::Mutex::default(),
            limits,
            index: RwLock::default(),
            charts: chart::ChartCache::default(),
        }
    }

    /// The index, for queries. Hold the guard only for the query: updates wait for it.
    pub fn read(&self) -> RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The workspace folders (from `initialize`, then `workspace/didChangeWorkspaceFolders`).
    /// The files read from disk of a folder no longer in the workspace leave the index at once
    /// (a folder added is read by the next [`scan`](Self::scan)).
    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        let before = std::mem::replace(
            &mut *self.roots.write().unwrap_or_else(|p| p.into_inner()),
            roots,
        );
        self.charts.folders.forget_all();
        let mut index = self.write();
        for removed in before.iter().filter(|root| self.root_of(root).is_none()) {
            for gone in index.paths_under(removed) {
                let from_disk = index.file(&gone).is_some_and(|f| f.origin == Origin::Disk);
                if from_disk && self.root_of(&gone).is_none() {
                    index.remove(&gone);
                }
            }
        }
    }

    pub fn roots(&self) -> Vec<PathBuf> {
        self.roots.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether `path` is a file of the workspace folders the index reads from disk.
    pub fn is_workspace_file(&self, path: &Path) -> bool {
        disk::is_indexed(path) && self.root_of(path).is_some()
    }

    /// The Helm chart `path` belongs to (its folder), and whether it is one of its templates:
    /// as the index knows it, else by a look at the disk (a file the scan has not reached).
    pub fn chart_of(&self, path: &Path) -> Option<(PathBuf, bool)> {
        if let Some(chart) = self.read().chart_of(path) {
            return Some((chart.root.to_path_buf(), chart.template));
        }
        let root = self.charts.folders.root_of(path)?;
        let template = path.starts_with(root.join("templates"));
        Some((root, template))
    }

    fn root_of(&self, path: &Path) -> Option<PathBuf> {
        self.roots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|root| disk::inside(root, path))
            .cloned()
    }

    /// The first of `names` found at the top of a workspace folder (in folder order), with its
    /// text: a configuration file such as `.kube-linter.yaml`. Read like every workspace file
    /// (bounded, regular files only, no link followed).
    pub fn root_file(&self, names: &[&str]) -> Option<(PathBuf, String)> {
        self.roots().into_iter().find_map(|root| {
            names.iter().find_map(|name| {
                let path = root.join(name);
                match disk::read(&path, self.limits.max_file_bytes, disk::Links::Refuse) {
                    Contents::Text(text) => Some((path, text)),
                    _ => None,
                }
            })
        })
    }

    /// Reads every file of the workspace folders into the index (blocking; on
    /// [`Limits::workers`] threads). The index answers meanwhile, with what it has so far.
    pub fn scan(&self) {
        let _one_at_a_time = self.scanning.lock().unwrap_or_else(|p| p.into_inner());
        let roots = self.roots();
        if roots.is_empty() {
            return;
        }
        let started = self.write().begin_scan();
        let (paths, truncated) = disk::walk(&roots, self.limits.max_files);
        if truncated {
            tracing::warn!(
                "workspace index: stopped after {} files",
                self.limits.max_files
            );
        }
        let next = AtomicUsize::new(0);
        let worker = || {
            let mut batch = Vec::with_capacity(BATCH);
            loop {
                let at = next.fetch_add(1, Ordering::Relaxed);
                // The editor's text of an open file counts, not the disk's: not read twice.
                if let Some(path) = paths.get(at).filter(|path| !self.is_open(path)) {
                    batch.extend(self.read_disk(path).map(|file| (path, file)));
                }
                if batch.len() == BATCH || (at >= paths.len() && !batch.is_empty()) {
                    let mut index = self.write();
                    for (path, file) in batch.drain(..) {
                        index.insert_scanned(path, file, started);
                    }
                }
                if at >= paths.len() {
                    break;
                }
            }
        };
        std::thread::scope(|scope| {
            for _ in 1..self.limits.workers.max(1) {
                scope.spawn(worker);
            }
            worker();
        });
        self.write().end_scan(started, truncated);
        tracing::info!("workspace index: {} files", self.read().len());
    }

    fn is_open(&self, path: &Path) -> bool {
        self.read()
            .file(path)
            .is_some_and(|file| file.origin == Origin::Open)
    }

    /// An open document's text (on open and on every change): it replaces what the index had
    /// for that file until [`close`](Self::close).
    pub fn open_text(&self, path: &Path, text: &str) {
        self.open_revision(path, None, text);
    }

    /// [`open_text`](Self::open_text) for a workspace whose Helm charts are never asked for
    /// (`kube-lsp check`'s index of the checked files): the index only, without the chart
    /// bookkeeping (a look at the disk for the file's chart).
    pub fn index_text(&self, path: &Path, text: &str) {
        let file = self.read_text(path, Origin::Open, text.to_string());
        self.write().insert(path, file);
    }

    /// [`index_text`](Self::index_text) in two steps, for threads that read many files: the
    /// file is read here, outside the index's lock, and put in later with others
    /// ([`index_put`](Self::index_put)).
    pub fn index_read(&self, path: &Path, text: &str) -> ReadFile {
        ReadFile {
            path: path.to_path_buf(),
            file: self.read_text(path, Origin::Open, text.to_string()),
        }
    }

    /// Puts the files read with [`index_read`](Self::index_read) in the index, emptying
    /// `files`. Without `wait`, only if the index's lock is free now: `false` (and `files`
    /// left as they are) when another thread holds it, so a reading thread never waits for
    /// another one that holds the lock.
    pub fn index_put(&self, files: &mut Vec<ReadFile>, wait: bool) -> bool {
        let mut index = match self.index.try_write() {
            Ok(index) => index,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) if wait => self.write(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        for read in files.drain(..) {
            index.insert(&read.path, read.file);
        }
        true
    }

    /// [`open_text`](Self::open_text) of the document's state `revision`: recorded with the
    /// entry ([`File::revision`]), and not replacing an entry of a later state.
    pub fn open_revision(&self, path: &Path, revision: Option<u64>, text: &str) {
        self.charts.changed(path, Some(Some(text)));
        let mut file = self.read_text(path, Origin::Open, text.to_string());
        file.revision = revision;
        let mut index = self.write();
        if !index
            .file(path)
            .is_some_and(|current| is_newer(current, revision))
        {
            index.insert(path, file);
        }
    }

    /// The open document `path` in state `revision` (its rope and its YAML documents' ranges)
    /// in the index, unless the index holds that state already.
    pub fn sync_open(&self, path: &Path, revision: u64, rope: &Rope, ranges: &[Range<usize>]) {
        if self.revision_of(path) != Some(revision) {
            self.open_rope(path, Some(revision), rope, ranges);
        }
    }

    /// [`open_revision`](Self::open_revision) from the editor's rope and its YAML documents'
    /// `ranges`, without copying the text: only the documents whose text changed since the
    /// index last read this file are read. Files read whole (kustomizations, chart files,
    /// templates: their actions may span documents) take [`open_revision`](Self::open_revision).
    pub fn open_rope(
        &self,
        path: &Path,
        revision: Option<u64>,
        rope: &Rope,
        ranges: &[Range<usize>],
    ) {
        // The documents' hashes and whether one holds template actions, in one pass.
        let mut slots = Vec::new();
        let read_whole = self.read_whole_if(path, rope.len_bytes(), || {
            let actions;
            (slots, actions) = open::slots_and_actions(rope, ranges);
            actions
        });
        if read_whole {
            return self.open_revision(path, revision, &rope.to_string());
        }
        self.charts.changed(path, Some(None));
        let read_before = |file: &File| file.origin == Origin::Open && file.slots.is_some();
        // A first read reads every document: outside the lock. Later ones read what changed
        // (one document as a rule) in place, moving the rest without a copy.
        let first_read = (!self.read().file(path).is_some_and(read_before))
            .then(|| open::update(&[], Vec::new(), &slots, rope));
        let mut index = self.write();
        if index
            .file(path)
            .is_some_and(|current| is_newer(current, revision))
        {
            return;
        }
        let updated = match first_read {
            Some(mut read) => {
                read.same_for_others = false;
                read
            }
            None => {
                let old = index
                    .file(path)
                    .is_some_and(read_before)
                    .then(|| index.take_for_update(path))
                    .flatten();
                let had_entry = old.is_some();
                let (old_slots, documents) = old
                    .map(|file| (file.slots.unwrap_or_default(), file.documents))
                    .unwrap_or_default();
                let mut updated = open::update(&old_slots, documents, &slots, rope);
                // An entry that was not there is new to the others.
                updated.same_for_others &= had_entry;
                updated
            }
        };
        let mut file = File::new(Origin::Open, updated.documents);
        file.revision = revision;
        file.slots = Some(slots.into_boxed_slice());
        if updated.same_for_others {
            index.insert_same_for_others(path, file);
        } else {
            index.insert(path, file);
        }
    }

    /// Whether the open document `path`, a text of `bytes`, is read whole, not one YAML
    /// document at a time: too big to index, a kustomization, a chart's file, or a text with
    /// template actions (`has_actions` says whether one of its documents holds some: asked
    /// last).
    fn read_whole_if(&self, path: &Path, bytes: usize, has_actions: impl FnOnce() -> bool) -> bool {
        let too_big = bytes as u64 > self.limits.max_file_bytes.min(crate::files::max_bytes());
        too_big
            || kustomize::is_kustomization(path)
            || self.charts.folders.root_of(path).is_some()
            || has_actions()
    }

    /// The open document `path` in state `revision`, from the entry its open read
    /// ([`open::OpenedEntry`], from the span trees the open built): the file is not parsed again.
    /// `rope` is the text it was read from. A file read whole
    /// ([`open_rope`](Self::open_rope)) is read as it would be.
    pub fn open_read(&self, path: &Path, revision: u64, rope: &Rope, entry: open::OpenedEntry) {
        if self.revision_of(path) == Some(revision) {
            return;
        }
        if self.read_whole_if(path, rope.len_bytes(), || entry.has_actions()) {
            return self.open_revision(path, Some(revision), &rope.to_string());
        }
        self.charts.changed(path, Some(None));
        let mut index = self.write();
        if index
            .file(path)
            .is_some_and(|current| is_newer(current, Some(revision)))
        {
            return;
        }
        let mut file = File::new(Origin::Open, entry.documents);
        file.revision = Some(revision);
        file.slots = Some(entry.slots.into_boxed_slice());
        index.insert(path, file);
    }

    /// The state of the open document `path` the index holds, if it holds one.
    pub fn revision_of(&self, path: &Path) -> Option<u64> {
        self.read()
            .file(path)
            .filter(|f| f.origin == Origin::Open)
            .and_then(|f| f.revision)
    }

    /// An open document, last in state `closed` when known, was closed: the file on disk counts
    /// again (if it is a workspace file). `false` (nothing done) when the index holds a later
    /// state of the file, which only a later open of it can have written (a close taken in
    /// after that open's text).
    pub fn close(&self, path: &Path, closed: Option<u64>) -> bool {
        if self
            .read()
            .file(path)
            .is_some_and(|current| is_newer(current, closed))
        {
            return false;
        }
        self.charts.changed(path, Some(None));
        let file = self
            .is_workspace_file(path)
            .then(|| self.read_disk(path))
            .flatten();
        let mut index = self.write();
        if index
            .file(path)
            .is_some_and(|current| is_newer(current, closed))
        {
            return false;
        }
        match file {
            Some(file) => index.insert(path, file),
            None => {
                index.remove(path);
            }
        }
        true
    }

    /// Files created, changed or deleted on disk (`workspace/didChangeWatchedFiles`): read again
    /// or dropped. A folder is read (or dropped) with everything under it. Open documents keep
    /// their text; paths outside the workspace folders are ignored.
    pub fn files_changed(&self, paths: &[PathBuf]) {
        for path in paths {
            self.charts.changed(path, None);
            if self.root_of(path).is_none() {
                continue;
            }
            let is_folder = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
            let mut files = Vec::new();
            if is_folder {
                let (found, truncated) =
                    disk::walk(std::slice::from_ref(path), self.limits.max_files);
                if truncated {
                    self.write().set_truncated();
                }
                files.extend(found.into_iter().map(|p| {
                    let file = self.read_disk(&p);
                    (p, file)
                }));
            } else if disk::is_indexed(path) {
                files.push((path.clone(), self.read_disk(path)));
            }
            let mut index = self.write();
            let open = |index: &Index, path: &Path| {
                index.file(path).is_some_and(|f| f.origin == Origin::Open)
            };
            // What was under a path and is no longer there (a deleted folder, a file gone).
            for gone in index.paths_under(path) {
                let still_there = files.iter().any(|(p, f)| **p == *gone && f.is_some());
                if !still_there && !open(&index, &gone) {
                    index.remove(&gone);
                }
            }
            for (path, file) in files {
                let Some(file) = file else { continue };
                if open(&index, &path) {
                    continue;
                }
                if index.file(&path).is_none() && index.len() >= self.limits.max_files {
                    index.set_truncated();
                    continue;
                }
                index.insert(&path, file);
            }
        }
    }

    /// The file at `path` as the disk has it; `None` when it cannot be read.
    fn read_disk(&self, path: &Path) -> Option<File> {
        match disk::read(path, self.limits.max_file_bytes, disk::Links::Refuse) {
            Contents::Text(text) => Some(self.read_text(path, Origin::Disk, text)),
            Contents::TooBig(size) => {
                let mut file = File::new(Origin::Disk, Vec::new());
                file.too_big = Some(size);
                Some(file)
            }
            Contents::Nothing => None,
        }
    }

    fn read_text(&self, path: &Path, origin: Origin, text: String) -> File {
        if text.len() as u64 > self.limits.max_file_bytes.min(crate::files::max_bytes()) {
            let mut file = File::new(origin, Vec::new());
            file.too_big = Some(text.len() as u64);
            return file;
        }
        let kustomization = kustomize::is_kustomization(path).then(|| kustomize::read(path, &text));
        let mut file = File::new(origin, document::read_documents(&Arc::new(text)));
        file.kustomization = kustomization;
        file
    }
}

/// A file read for the index and not put in yet ([`Workspace::index_read`]).
pub struct ReadFile {
    path: PathBuf,
    file: File,
}

/// Whether the index's entry `current` is of a later version of the open document than
/// `version`.
/// Whether `current` is an open document's entry of a later state than `revision`.
fn is_newer(current: &File, revision: Option<u64>) -> bool {
    current.origin == Origin::Open
        && matches!((current.revision, revision), (Some(current), Some(new)) if current > new)
}

#[cfg(test)]
mod tests;
