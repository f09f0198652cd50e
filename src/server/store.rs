//! The open documents: one [`OpenDocument`] per file behind a mutex of its own, the gate that
//! makes other accesses wait for an open in progress, the text snapshots completion and hover
//! read without either, and the diagnostics last sent to the client. Every open and every change
//! of a document's text takes a number ([`Stamp`]): what is computed from a snapshot in the
//! background (diagnostics, the layers' findings, the cluster's, the workspace index's entry) is
//! accepted only by the document state it was computed from.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};

use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::results::ResultHandoff;
use crate::diagnostic::Diagnostic;
use crate::features::document::{Change, Layer, OpenDocument, TextSnapshot};
use crate::features::markers::Markers;
use crate::features::rules;
use crate::schema;
use crate::text::PositionEncoding;
use crate::workspace::Workspace;
use crate::yaml::split;

#[derive(Default)]
pub struct Store {
    encoding: RwLock<PositionEncoding>,
    documents: RwLock<HashMap<Uri, Arc<Held>>>,
    /// The schema sources documents are validated against (replaced when a source changes).
    catalog: RwLock<schema::Catalog>,
    /// The latest text of each open document, readable without its lock (`server/language.rs`),
    /// with its state once the open is done.
    texts: RwLock<HashMap<Uri, Text>>,
    /// Documents whose open is running (`begin_open`): other accesses wait for it.
    opening: Mutex<HashMap<Uri, Arc<Opening>>>,
    /// Each open document's current state and what was last published of it.
    published: Mutex<HashMap<Uri, Publication>>,
    /// Numbers the document states in order (taken under the document's lock): each open, each
    /// change of a text and each gathering of diagnostics. A publication gathered from another
    /// open of the URI, before the text changed, or before another one that was sent already,
    /// is stale.
    numbers: AtomicU64,
    /// Held from noting a publication to sending it, so they reach the client in that order.
    publishing: tokio::sync::Mutex<()>,
    /// The rules that are on, and the workspace their questions about other objects go to.
    rules: RwLock<RuleSetup>,
    /// Where publications hand their JSON to the output, once it is started (`server/results.rs`).
    handoff: std::sync::OnceLock<Arc<ResultHandoff>>,
}

/// An open document and its state.
struct Held {
    opened: u64,
    /// The number its text took when it last changed (written under the document's lock).
    changed: AtomicU64,
    document: Mutex<OpenDocument>,
}

impl Held {
    /// Its state; read it under the document's lock.
    fn stamp(&self) -> Stamp {
        Stamp {
            opened: self.opened,
            changed: self.changed.load(Ordering::Acquire),
        }
    }
}

/// One state of an open document: which open of its URI, and which text of that open. Handed
/// out with a snapshot ([`Store::stamped_snapshot`]) or a gathering, and checked when what was
/// computed from it comes back: the version alone cannot tell states apart, as every open of a
/// URI counts versions from 1 again (and a client may repeat one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// The number the open took: another open of the URI (an earlier one, still being read
    /// when it closed) is another text.
    opened: u64,
    /// The number taken when the text last changed (opened, edited, parsed again).
    changed: u64,
}

impl Stamp {
    /// A number that grows with each open and each change of any document: a later state of a
    /// file has a greater one, across its opens too (the workspace index orders its entries of
    /// open files by it).
    pub fn revision(self) -> u64 {
        self.changed
    }
}

/// Which document state diagnostics were gathered from ([`Store::gather`]), and the number of
/// the reading.
#[derive(Clone, Copy, Debug)]
pub struct Gathering {
    read: Stamp,
    number: u64,
    /// Read before the layers computed outside the document were set for its text.
    without_layers: bool,
}

/// The latest text of an open document.
struct Text {
    snapshot: TextSnapshot,
    /// The state it is, once the open is done (while the open runs, the document is not
    /// readable yet and nothing computed from this text can be kept).
    stamp: Option<Stamp>,
    /// The document's markers (`None` while the open runs).
    markers: Option<Markers>,
}

/// The state of one open document and its publications.
struct Publication {
    /// The document's state now: what was computed from another one is another text's.
    current: Stamp,
    /// What was last sent, if anything was since the document was opened.
    sent: Option<Sent>,
    /// Its text was opened or edited and the layers computed outside it (kustomize's checks, a
    /// modeline's schema) are not yet set for this text: nothing is published until they are
    /// ([`Store::layers_computed`]), or a background publication would send the new version
    /// without them. A gathering reads it under the document's lock, and the layers are set
    /// under that lock before this is cleared: a gathering that saw it clear has them.
    awaiting_layers: bool,
}

/// What was last sent for a document.
struct Sent {
    version: i32,
    /// The number of the gathering it came from.
    gathering: u64,
    diagnostics: Vec<lsp::Diagnostic>,
}

/// What documents are checked with: the rules' configuration, the workspace, and the cluster's
/// objects as the references feature knows them.
#[derive(Clone, Default)]
pub struct RuleSetup {
    pub config: Arc<rules::Config>,
    pub workspace: Option<Arc<Workspace>>,
    pub cluster: Option<Weak<super::references::References>>,
}

/// A document whose open has begun ([`Store::begin_open`]); [`finish`](Self::finish) it (on
/// any thread). Finishing or dropping it lets the accesses waiting for the document in; dropped
/// unfinished (the check panicked), the document is not open.
pub struct PendingOpen {
    store: Arc<Store>,
    uri: Uri,
    /// The opened text, until the open starts.
    text: Option<OpenedText>,
    /// Set when the open completed: dropped otherwise, the document is not open.
    finished: bool,
    gate: Arc<Opening>,
    /// How the file is read (a kustomization, a patch; [`PendingOpen::set_role`]).
    role: crate::schema::validate::Role,
}

/// What `didOpen` gave, split into documents.
struct OpenedText {
    source: String,
    split: split::Split,
    version: i32,
}

/// The gate of a document being opened.
#[derive(Default)]
struct Opening {
    state: Mutex<OpeningState>,
    changed: Condvar,
}

#[derive(Default, Clone, Copy)]
struct OpeningState {
    /// The text snapshot is in place (completion and hover may read it).
    text: bool,
    /// The open is over (finished, or given up).
    done: bool,
}

impl Opening {
    fn wait_until(&self, ready: impl Fn(OpeningState) -> bool) {
        let mut state = lock(&self.state);
        while !ready(*state) {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    fn wait(&self) {
        self.wait_until(|state| state.done);
    }

    fn update(&self, change: impl FnOnce(&mut OpeningState)) {
        change(&mut lock(&self.state));
        self.changed.notify_all();
    }
}

impl PendingOpen {
    /// Opens the file as `role` (a kustomization, a patch) rather than as a manifest.
    pub fn set_role(&mut self, role: crate::schema::validate::Role) {
        self.role = role;
    }

    /// The heavy part of opening (slow for a big file; run it off the message loop):
    /// `OpenDocument::open_split`, whose text snapshot is readable as soon as its rope is
    /// built, before the check and validation are done.
    pub fn finish(mut self) {
        let Some(OpenedText {
            source,
            split,
            version,
        }) = self.text.take()
        else {
            return;
        };
        let store = &self.store;
        let catalog = store.catalog();
        let role = self.role;
        let rule_config = store.rules().config;
        let mut document = OpenDocument::open_split_as(
            source,
            split,
            version,
            &catalog,
            role,
            &rule_config,
            |snapshot| {
                store.set_snapshot(&self.uri, snapshot, None, None);
                self.gate.update(|state| state.text = true);
            },
        );
        let index_entry = document.take_index_entry();
        let snapshot = document.snapshot();
        let stamp = store.insert_document(self.uri.clone(), document, true);
        self.finished = true;
        // The index takes the text before anything is published: the rules answer and the
        // references are checked against it from the first gathering.
        if let (Some(entry), Some(workspace)) = (index_entry, store.rules().workspace) {
            let path = super::workspace::document_path(&self.uri);
            workspace.open_read(&path, stamp.revision(), &snapshot.rope, entry);
        }
    }
}

impl Drop for PendingOpen {
    fn drop(&mut self) {
        let store = &self.store;
        if !self.finished {
            // Not finished: the document is not open after all.
            store
                .texts
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&self.uri);
        }
        let mut opening = store.opening.lock().unwrap_or_else(|p| p.into_inner());
        if opening
            .get(&self.uri)
            .is_some_and(|gate| Arc::ptr_eq(gate, &self.gate))
        {
            opening.remove(&self.uri);
        }
        drop(opening);
        self.gate.update(|state| state.done = true);
    }
}

/// Locks a mutex even if a panic poisoned it: the handler that panicked has already rebuilt or
/// will rebuild the document.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Store {
    pub fn set_encoding(&self, encoding: PositionEncoding) {
        *self.encoding.write().unwrap_or_else(|p| p.into_inner()) = encoding;
    }

    pub fn encoding(&self) -> PositionEncoding {
        *self.encoding.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The current schema catalog (cheap: a few `Arc`s).
    pub fn catalog(&self) -> schema::Catalog {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the schema catalog; documents are validated against it on their next refresh.
    pub fn set_catalog(&self, catalog: schema::Catalog) {
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = catalog;
    }

    /// The rules and the workspace documents are checked with.
    pub fn rules(&self) -> RuleSetup {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the rules' configuration; documents are checked with it on their next refresh.
    pub fn set_rule_config(&self, config: rules::Config) {
        self.rules.write().unwrap_or_else(|p| p.into_inner()).config = Arc::new(config);
    }

    /// The workspace the rules ask about other objects.
    pub fn set_workspace(&self, workspace: Arc<Workspace>) {
        self.rules
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .workspace = Some(workspace);
    }

    /// Where the rules find the cluster's objects (held weakly: it holds the store).
    pub fn set_rule_cluster(&self, references: Weak<super::references::References>) {
        self.rules
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .cluster = Some(references);
    }

    /// The URIs of the open documents.
    pub fn uris(&self) -> Vec<Uri> {
        self.documents
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// The document, once any open of it in progress has finished.
    fn get(&self, uri: &Uri) -> Option<Arc<Held>> {
        self.wait_until_opened(uri);
        self.documents
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(uri)
            .cloned()
    }

    /// Runs `read` on the document under its lock, once any open of it in progress has finished.
    pub fn with_document<T>(
        &self,
        uri: &Uri,
        read: impl FnOnce(&mut OpenDocument) -> T,
    ) -> Option<T> {
        let held = self.get(uri)?;
        let mut document = lock(&held.document);
        Some(read(&mut document))
    }

    /// [`with_document`](Self::with_document) for gathering diagnostics: also says which state
    /// of the document `read` read, for [`note_published`](Self::note_published).
    pub fn gather<T>(
        &self,
        uri: &Uri,
        read: impl FnOnce(&mut OpenDocument) -> T,
    ) -> Option<(T, Gathering)> {
        let held = self.get(uri)?;
        let mut document = lock(&held.document);
        let read = read(&mut document);
        // Still under the document's lock: the state is the one just read, the number follows
        // it.
        let gathering = Gathering {
            read: held.stamp(),
            number: self.next_number(),
            without_layers: lock(&self.published)
                .get(uri)
                .is_some_and(|publication| publication.awaiting_layers),
        };
        Some((read, gathering))
    }

    /// The state of the open `held` of `uri` (call it under the document's lock); `None` when
    /// the URI was closed or opened again meanwhile.
    fn current(&self, uri: &Uri, held: &Held) -> Option<Stamp> {
        lock(&self.published)
            .get(uri)
            .map(|publication| publication.current)
            .filter(|current| current.opened == held.opened)
    }

    /// Runs `keep` on the document under its lock when it is still in state `stamp` (what
    /// `keep` stores was computed from it); `None` when it is closed, opened again or its text
    /// changed since.
    pub fn keep_if_current<T>(
        &self,
        uri: &Uri,
        stamp: Stamp,
        keep: impl FnOnce(&mut OpenDocument) -> T,
    ) -> Option<T> {
        let held = self.get(uri)?;
        let mut document = lock(&held.document);
        (self.current(uri, &held)? == stamp).then(|| keep(&mut document))
    }

    /// Opens a document in one go, on this thread.
    pub fn open(&self, uri: Uri, text: &str, version: i32) {
        let document = OpenDocument::open(text, version, &self.catalog());
        self.insert_document(uri, document, false);
    }

    /// The cheap part of opening a document: its document split and its gate. Completion and
    /// hover ([`text_snapshot`](Self::text_snapshot)) wait only until [`PendingOpen::finish`]
    /// has built the rope; every other access to the document waits until the open is finished
    /// (or dropped), so an edit sent right after `didOpen` applies to the opened document, in order.
    pub fn begin_open(self: &Arc<Self>, uri: Uri, source: String, version: i32) -> PendingOpen {
        // A second didOpen of a document still opening waits for the first.
        self.wait_until_opened(&uri);
        let split = split::split(&source);
        let gate = Arc::new(Opening::default());
        self.opening
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri.clone(), gate.clone());
        // An open always publishes, whatever was sent before; nothing is published until it is
        // done.
        lock(&self.published).remove(&uri);
        // Requests wait for the new text rather than read an older one.
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&uri);
        PendingOpen {
            store: self.clone(),
            uri,
            text: Some(OpenedText {
                source,
                split,
                version,
            }),
            finished: false,
            gate,
            role: Default::default(),
        }
    }

    /// Makes a checked and validated document the open document `uri`; the state it is in.
    /// With `awaiting_layers`, nothing is published until [`Store::layers_computed`].
    fn insert_document(&self, uri: Uri, document: OpenDocument, awaiting_layers: bool) -> Stamp {
        let opened = self.next_number();
        let current = Stamp {
            opened,
            changed: opened,
        };
        self.set_snapshot(
            &uri,
            document.snapshot(),
            Some(current),
            Some(document.markers()),
        );
        let publication = Publication {
            current,
            sent: None,
            awaiting_layers,
        };
        lock(&self.published).insert(uri.clone(), publication);
        let document = Arc::new(Held {
            opened,
            changed: AtomicU64::new(opened),
            document: Mutex::new(document),
        });
        self.documents
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri, document);
        current
    }

    /// Blocks while the document is being opened.
    fn wait_until_opened(&self, uri: &Uri) {
        let gate = self
            .opening
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(uri)
            .cloned();
        if let Some(gate) = gate {
            gate.wait();
        }
    }

    /// Closes the document; the state it was in, when it was open.
    pub fn close(&self, uri: &Uri) -> Option<Stamp> {
        self.wait_until_opened(uri);
        let closed = lock(&self.published)
            .remove(uri)
            .map(|publication| publication.current);
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uri);
        self.documents
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uri);
        closed
    }

    /// Applies one `didChange`. A change for a document that was never opened is logged; if it
    /// carries the full text, the document is opened from it.
    pub fn change(&self, uri: &Uri, version: i32, changes: &[Change<'_>]) {
        let Some(held) = self.get(uri) else {
            tracing::warn!("didChange for {} which is not open", uri.as_str());
            if let Some(full) = changes.iter().rev().find(|c| c.range.is_none()) {
                self.open(uri.clone(), full.text, version);
            }
            return;
        };
        let encoding = self.encoding();
        let mut document = lock(&held.document);
        let expected = document.version().saturating_add(1);
        if version != expected {
            tracing::warn!(
                "didChange for {} has version {version}, expected {expected}: applying it in arrival order",
                uri.as_str()
            );
        }
        document.change(version, changes.iter().cloned(), encoding);
        // Requests that must not wait for the document's lock (which schema validation of a big
        // file holds for a while) read this; unless the document was closed meanwhile (its text
        // would outlive it, or replace a new open's).
        if let Some(stamp) = self.note_text_changed(uri, &held) {
            self.set_snapshot(
                uri,
                document.snapshot(),
                Some(stamp),
                Some(document.markers()),
            );
        }
    }

    /// Notes that the text of the open `held` of `uri` (or what was parsed of it) changed, so
    /// its layers are awaited again, and says its new state (`None` when the URI was closed or
    /// opened again meanwhile); call it under the document's lock, as gatherings are numbered.
    fn note_text_changed(&self, uri: &Uri, held: &Held) -> Option<Stamp> {
        let changed = self.next_number();
        held.changed.store(changed, Ordering::Release);
        let mut published = lock(&self.published);
        let publication = published
            .get_mut(uri)
            .filter(|publication| publication.current.opened == held.opened)?;
        publication.current.changed = changed;
        publication.awaiting_layers = true;
        Some(publication.current)
    }

    /// The next number of a document state ([`Store::numbers`]).
    fn next_number(&self) -> u64 {
        self.numbers.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// The layers computed outside the document were set for its current text (or found to
    /// have nothing): its diagnostics may be published again.
    pub fn layers_computed(&self, uri: &Uri) {
        if let Some(publication) = lock(&self.published).get_mut(uri) {
            publication.awaiting_layers = false;
        }
    }

    /// Taken from noting a publication to sending it ([`Store::note_published`]).
    pub async fn publication_order(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.publishing.lock().await
    }

    /// Publications hand their JSON to the output through `handoff` from now on.
    pub fn hand_publications_to(&self, handoff: Arc<ResultHandoff>) {
        let _ = self.handoff.set(handoff);
    }

    /// Where publications hand their JSON, when the output swaps it in.
    pub fn publication_handoff(&self) -> Option<&ResultHandoff> {
        self.handoff.get().map(|handoff| &**handoff)
    }

    /// Notes `diagnostics`, read by `gathering`, as sent for `version` of `uri`; false when they
    /// must not be sent: the document is not open, they were read from another open of it or
    /// before its text changed (they belong to another text, whatever its version), diagnostics
    /// gathered later were sent (two publications racing, the older one must not win), its
    /// layers are not yet computed for its text, or exactly these were sent for that version
    /// already.
    pub fn note_published(
        &self,
        uri: &Uri,
        version: i32,
        gathering: Gathering,
        diagnostics: &[lsp::Diagnostic],
    ) -> bool {
        let mut published = lock(&self.published);
        let Some(publication) = published.get_mut(uri) else {
            return false;
        };
        if gathering.read != publication.current || gathering.without_layers {
            return false;
        }
        let gathering = gathering.number;
        if let Some(sent) = &mut publication.sent {
            if sent.gathering > gathering {
                return false;
            }
            if sent.version == version && sent.diagnostics.as_slice() == diagnostics {
                sent.gathering = gathering;
                return false;
            }
        }
        publication.sent = Some(Sent {
            version,
            gathering,
            diagnostics: diagnostics.to_vec(),
        });
        true
    }

    /// The latest text of an open document, without taking its lock (while it is being opened,
    /// once its rope is built, well before it is checked).
    pub fn text_snapshot(&self, uri: &Uri) -> Option<TextSnapshot> {
        let opening = lock(&self.opening).get(uri).cloned();
        if let Some(gate) = opening {
            gate.wait_until(|state| state.text || state.done);
        }
        self.texts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(uri)
            .map(|text| text.snapshot.clone())
    }

    /// The latest text of an open document with the state it is ([`Stamp`]), once any open of
    /// it in progress is done, without taking its lock. What is computed from it is kept by the
    /// `Stamp` ([`set_layer`](Self::set_layer),
    /// [`set_cluster_findings`](Self::set_cluster_findings)).
    pub fn stamped_snapshot(&self, uri: &Uri) -> Option<(TextSnapshot, Stamp)> {
        self.wait_until_opened(uri);
        self.stamped_snapshot_if_opened(uri)
    }

    /// [`stamped_snapshot`](Self::stamped_snapshot) without waiting: `None` while the document
    /// is being opened.
    pub fn stamped_snapshot_if_opened(&self, uri: &Uri) -> Option<(TextSnapshot, Stamp)> {
        let texts = self.texts.read().unwrap_or_else(|p| p.into_inner());
        let text = texts.get(uri)?;
        Some((text.snapshot.clone(), text.stamp?))
    }

    fn set_snapshot(
        &self,
        uri: &Uri,
        snapshot: TextSnapshot,
        stamp: Option<Stamp>,
        markers: Option<Markers>,
    ) {
        let text = Text {
            snapshot,
            stamp,
            markers,
        };
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri.clone(), text);
    }

    /// [`stamped_snapshot`](Self::stamped_snapshot) with which comments that switch findings
    /// off the text may hold (`None` when the document has not said yet).
    pub fn stamped_snapshot_with_markers(
        &self,
        uri: &Uri,
    ) -> Option<(TextSnapshot, Stamp, Option<Markers>)> {
        self.wait_until_opened(uri);
        let texts = self.texts.read().unwrap_or_else(|p| p.into_inner());
        let text = texts.get(uri)?;
        Some((text.snapshot.clone(), text.stamp?, text.markers))
    }

    /// Re-parses a document from its text (after a panic left its parsed state in doubt).
    pub fn rebuild(&self, uri: &Uri) {
        if let Some(held) = self.get(uri) {
            let mut document = lock(&held.document);
            document.rebuild();
            if let Some(stamp) = self.note_text_changed(uri, &held) {
                self.set_snapshot(
                    uri,
                    document.snapshot(),
                    Some(stamp),
                    Some(document.markers()),
                );
            }
        }
    }

    /// The version of an open document.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.with_document(uri, |document| document.version())
    }

    /// Keeps the cluster's diagnostics of the document's state `stamp`; `false` (nothing kept)
    /// when it is closed, opened again or edited since.
    pub fn set_cluster_findings(
        &self,
        uri: &Uri,
        stamp: Stamp,
        diagnostics: Vec<Diagnostic>,
    ) -> bool {
        self.keep_if_current(uri, stamp, |document| {
            document.set_cluster_findings(document.version(), diagnostics)
        })
        .unwrap_or(false)
    }

    /// Keeps a layer's findings computed from the document's state `stamp`; `false` (nothing
    /// kept) when it is closed, opened again or edited since.
    pub fn set_layer(
        &self,
        uri: &Uri,
        stamp: Stamp,
        layer: Layer,
        diagnostics: Vec<Diagnostic>,
    ) -> bool {
        self.keep_if_current(uri, stamp, |document| {
            document.set_layer(layer, diagnostics);
        })
        .is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri() -> Uri {
        "file:///work/a.yaml".parse().unwrap()
    }

    #[test]
    fn a_request_during_a_reopen_reads_the_new_text() {
        let store = Arc::new(Store::default());
        store.open(uri(), "a: 1\n", 1);
        let pending = store.begin_open(uri(), "b: 2\n".to_string(), 2);
        let reader = store.clone();
        let read = std::thread::spawn(move || reader.text_snapshot(&uri()));
        std::thread::sleep(std::time::Duration::from_millis(20));
        pending.finish();
        let snapshot = read.join().unwrap().expect("the document is open");
        assert_eq!(snapshot.rope.to_string(), "b: 2\n");
        assert_eq!(snapshot.version, 2);
        assert_eq!(store.version(&uri()), Some(2));
    }

    fn diagnostic(message: &str) -> lsp::Diagnostic {
        lsp::Diagnostic {
            message: message.into(),
            ..Default::default()
        }
    }

    /// A gathering of the document's diagnostics, now.
    fn gathered(store: &Store) -> Gathering {
        store
            .gather(&uri(), |_| ())
            .expect("the document is open")
            .1
    }

    /// Opens the document as the server does: its layers are computed (they find nothing).
    fn open_as_the_server_does(store: &Arc<Store>, text: &str, version: i32) {
        store.begin_open(uri(), text.to_string(), version).finish();
        store.layers_computed(&uri());
    }

    /// Types `x` at the start of the document, as `version`, without computing its layers.
    fn type_x_only(store: &Store, version: i32) {
        let start = crate::text::Position::new(0, 0);
        let change = Change {
            range: Some(start..start),
            text: "x",
        };
        store.change(&uri(), version, &[change]);
    }

    /// Types `x` at the start of the document, as `version`; its layers find nothing.
    fn type_x(store: &Store, version: i32) {
        type_x_only(store, version);
        store.layers_computed(&uri());
    }

    #[test]
    fn an_edit_is_published_only_with_its_layers() {
        let store = Arc::new(Store::default());
        store.begin_open(uri(), "a: 1\n".to_string(), 1).finish();
        let before_its_layers = gathered(&store);
        store.layers_computed(&uri());
        assert!(!store.note_published(&uri(), 1, before_its_layers, &[]));
        assert!(store.note_published(&uri(), 1, gathered(&store), &[]));

        type_x_only(&store, 2);
        // A background publication (a new catalog) reads the edited text before its layers.
        let before_its_layers = gathered(&store);
        let modeline = vec![found("from the modeline's schema")];
        assert!(store.set_layer(&uri(), stamp(&store), Layer::Modeline, modeline));
        store.layers_computed(&uri());
        assert!(!store.note_published(&uri(), 2, before_its_layers, &[]));
        assert!(store.note_published(&uri(), 2, gathered(&store), &[diagnostic("x")]));
    }

    #[test]
    fn the_same_diagnostics_are_sent_once_per_version() {
        let store = Store::default();
        store.open(uri(), "a: 1\n", 1);
        let one = [diagnostic("x")];
        let note = |version, diagnostics: &[lsp::Diagnostic]| {
            store.note_published(&uri(), version, gathered(&store), diagnostics)
        };
        assert!(note(1, &one));
        assert!(!note(1, &one));
        assert!(note(1, &[]));
        type_x(&store, 2);
        assert!(note(2, &[]));
        assert!(!note(2, &[]));
        let before_the_close = gathered(&store);
        store.close(&uri());
        assert!(!store.note_published(&uri(), 2, before_the_close, &[]));
        store.open(uri(), "a: 1\n", 2);
        assert!(note(2, &[]));
        assert!(!note(2, &[]));
    }

    #[test]
    fn diagnostics_gathered_before_those_sent_are_not_sent() {
        let store = Store::default();
        store.open(uri(), "a: 1\n", 1);
        let (older, newer) = (gathered(&store), gathered(&store));
        let found = [diagnostic("found later")];
        assert!(store.note_published(&uri(), 1, newer, &found));
        assert!(!store.note_published(&uri(), 1, older, &[]), "stale");
        let later = gathered(&store);
        assert!(store.note_published(&uri(), 1, later, &[]));
    }

    #[test]
    fn diagnostics_gathered_from_an_earlier_open_are_not_sent_under_its_version() {
        let store = Arc::new(Store::default());
        store.open(uri(), "a: [\n", 1);
        type_x(&store, 2);
        // Gathered at version 2 of the first open, then held up (publications wait their turn).
        let first_open = gathered(&store);
        store.close(&uri());
        open_as_the_server_does(&store, "b: 2\n", 1);
        type_x(&store, 2);
        let syntax_error = [diagnostic("from the text of the first open")];
        assert!(
            !store.note_published(&uri(), 2, first_open, &syntax_error),
            "the reopened document is at version 2 too, with another text"
        );
        assert!(store.note_published(&uri(), 2, gathered(&store), &[]));
    }

    #[test]
    fn diagnostics_read_from_an_earlier_open_after_a_reopen_are_not_sent() {
        let store = Arc::new(Store::default());
        store.open(uri(), "a: [\n", 1);
        // A gathering that got the first open's document before the close and finishes
        // reading it after the reopen.
        let (reading, read) = std::sync::mpsc::channel();
        let (go_on, reopened) = std::sync::mpsc::channel::<()>();
        let gatherer = {
            let store = store.clone();
            std::thread::spawn(move || {
                let gathered = store.gather(&uri(), |_| {
                    reading.send(()).unwrap();
                    reopened.recv().unwrap();
                });
                gathered.expect("open when it began").1
            })
        };
        read.recv().unwrap();
        store.close(&uri());
        open_as_the_server_does(&store, "b: 2\n", 1);
        go_on.send(()).unwrap();
        let late = gatherer.join().unwrap();
        assert!(!store.note_published(&uri(), 1, late, &[diagnostic("first open")]));
        assert!(store.note_published(&uri(), 1, gathered(&store), &[]));
    }

    #[test]
    fn diagnostics_gathered_before_an_edit_are_not_sent_even_with_its_version() {
        let store = Store::default();
        store.open(uri(), "a: 1\n", 1);
        let before_the_edit = gathered(&store);
        // A client repeating a version: the text changed all the same.
        type_x(&store, 1);
        assert!(!store.note_published(&uri(), 1, before_the_edit, &[]));
        assert!(store.note_published(&uri(), 1, gathered(&store), &[]));
    }

    #[test]
    fn an_open_publishes_even_what_was_sent_before() {
        let store = Arc::new(Store::default());
        store.open(uri(), "a: 1\n", 1);
        assert!(store.note_published(&uri(), 1, gathered(&store), &[]));
        open_as_the_server_does(&store, "a: 1\n", 1);
        assert!(store.note_published(&uri(), 1, gathered(&store), &[]));
    }

    fn found(message: &str) -> Diagnostic {
        Diagnostic::error(0..1, crate::diagnostic::codes::DRY_RUN_WARNING, message)
    }

    /// The messages of the document's diagnostics (every layer's).
    fn messages(store: &Store) -> Vec<String> {
        store
            .with_document(&uri(), |document| document.diagnostics())
            .expect("the document is open")
            .into_iter()
            .map(|d| d.message)
            .collect()
    }

    fn stamp(store: &Store) -> Stamp {
        store
            .stamped_snapshot(&uri())
            .expect("the document is open")
            .1
    }

    /// Opens the document, edits it to version 2, and says the state then; closes it, opens it
    /// again with another text and edits that to version 2 too.
    fn stamp_of_an_earlier_open_at_version_2(store: &Arc<Store>) -> Stamp {
        store.open(uri(), "a: 1\n", 1);
        type_x(store, 2);
        let earlier = stamp(store);
        store.close(&uri());
        open_as_the_server_does(store, "b: 2\n", 1);
        type_x(store, 2);
        assert_eq!(store.version(&uri()), Some(2));
        earlier
    }

    #[test]
    fn a_layer_computed_from_an_earlier_open_is_not_kept_under_its_version() {
        let store = Arc::new(Store::default());
        let earlier = stamp_of_an_earlier_open_at_version_2(&store);
        let missing = vec![found("from the text of the first open")];
        assert!(!store.set_layer(&uri(), earlier, Layer::References, missing.clone()));
        assert!(messages(&store).is_empty(), "{:?}", messages(&store));
        assert!(store.set_layer(&uri(), stamp(&store), Layer::References, missing));
        assert_eq!(messages(&store), ["from the text of the first open"]);
    }

    #[test]
    fn cluster_findings_of_an_earlier_open_are_not_kept_under_its_version() {
        let store = Arc::new(Store::default());
        let earlier = stamp_of_an_earlier_open_at_version_2(&store);
        let dry_run = vec![found("the first open's dry-run")];
        assert!(!store.set_cluster_findings(&uri(), earlier, dry_run.clone()));
        assert!(messages(&store).is_empty(), "{:?}", messages(&store));
        assert!(store.set_cluster_findings(&uri(), stamp(&store), dry_run));
        assert_eq!(messages(&store), ["the first open's dry-run"]);
    }

    #[test]
    fn what_was_computed_before_an_edit_is_not_kept_even_with_its_version() {
        let store = Store::default();
        store.open(uri(), "a: 1\n", 1);
        let before_the_edit = stamp(&store);
        // A client repeating a version: the text changed all the same.
        type_x(&store, 1);
        assert!(!store.set_layer(&uri(), before_the_edit, Layer::Modeline, vec![found("x")]));
        assert!(!store.set_cluster_findings(&uri(), before_the_edit, vec![found("x")]));
        assert!(messages(&store).is_empty());
        store.close(&uri());
        assert!(!store.set_layer(&uri(), before_the_edit, Layer::Modeline, vec![found("x")]));
    }

    #[test]
    fn a_reopened_document_is_in_a_later_state() {
        let store = Arc::new(Store::default());
        store.open(uri(), "a: 1\n", 1);
        let closed = store.close(&uri()).expect("it was open");
        assert!(store.close(&uri()).is_none());
        open_as_the_server_does(&store, "b: 2\n", 1);
        let reopened = stamp(&store);
        assert_ne!(reopened, closed);
        assert!(reopened.revision() > closed.revision());
    }

    #[test]
    fn an_open_given_up_leaves_nothing_behind() {
        let store = Arc::new(Store::default());
        drop(store.begin_open(uri(), "a: 1\n".to_string(), 1));
        assert!(store.text_snapshot(&uri()).is_none());
        assert_eq!(store.version(&uri()), None);
    }
}
