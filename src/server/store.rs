//! The open documents: one [`OpenDocument`] per file behind a mutex of its own, the gate that
//! makes other accesses wait for an open in progress, the text snapshots completion and hover
//! read without either, and the diagnostics last sent to the client.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, RwLock, Weak};

use tower_lsp_server::ls_types::{self as lsp, Uri};

use crate::diagnostic::Diagnostic;
use crate::features::document::{Change, Layer, OpenDocument, TextSnapshot};
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
    /// The latest text of each open document, readable without its lock (`server/language.rs`).
    texts: RwLock<HashMap<Uri, TextSnapshot>>,
    /// Documents whose open is running (`begin_open`): other accesses wait for it.
    opening: Mutex<HashMap<Uri, Arc<Opening>>>,
    /// Each open document's publications: which open they are of, when its text last changed
    /// and what was last sent.
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
}

/// An open document and the number its open took.
struct Held {
    opened: u64,
    document: Mutex<OpenDocument>,
}

/// Which document state diagnostics were gathered from ([`Store::gather`]): the open of the URI
/// they read, and the number of the reading.
#[derive(Clone, Copy, Debug)]
pub struct Gathering {
    opened: u64,
    number: u64,
}

/// The publications of one open document.
struct Publication {
    /// The number its open took: diagnostics gathered from another open of the URI (an
    /// earlier one, still being read when it closed) are another text's.
    opened: u64,
    /// The number taken when its text last changed (opened, edited): a gathering numbered
    /// before read another text, even one with the same version (versions start again at each
    /// open, and a client may repeat one).
    text_changed: u64,
    /// What was last sent, if anything was since the document was opened.
    sent: Option<Sent>,
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
        let document =
            OpenDocument::open_split_as(source, split, version, &catalog, role, |snapshot| {
                store.set_snapshot(&self.uri, snapshot);
                self.gate.update(|state| state.text = true);
            });
        store.insert_document(self.uri.clone(), document);
        self.finished = true;
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
        // Still under the document's lock: the number follows the state just read.
        let gathering = Gathering {
            opened: held.opened,
            number: self.next_number(),
        };
        Some((read, gathering))
    }

    /// Opens a document in one go, on this thread.
    pub fn open(&self, uri: Uri, text: &str, version: i32) {
        let document = OpenDocument::open(text, version, &self.catalog());
        self.insert_document(uri, document);
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

    /// Makes a checked and validated document the open document `uri`.
    fn insert_document(&self, uri: Uri, document: OpenDocument) {
        self.set_snapshot(&uri, document.snapshot());
        let opened = self.next_number();
        let publication = Publication {
            opened,
            text_changed: opened,
            sent: None,
        };
        lock(&self.published).insert(uri.clone(), publication);
        let document = Arc::new(Held {
            opened,
            document: Mutex::new(document),
        });
        self.documents
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri, document);
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

    pub fn close(&self, uri: &Uri) {
        self.wait_until_opened(uri);
        lock(&self.published).remove(uri);
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uri);
        self.documents
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(uri);
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
        self.note_text_changed(uri, &held);
        // Requests that must not wait for the document's lock (which schema validation of a big
        // file holds for a while) read this.
        self.set_snapshot(uri, document.snapshot());
    }

    /// Notes that the text of the open `held` of `uri` (or what was parsed of it) changed; call
    /// it under the document's lock, as gatherings are numbered.
    fn note_text_changed(&self, uri: &Uri, held: &Held) {
        let changed = self.next_number();
        if let Some(publication) = lock(&self.published)
            .get_mut(uri)
            .filter(|publication| publication.opened == held.opened)
        {
            publication.text_changed = changed;
        }
    }

    /// The next number of a document state ([`Store::numbers`]).
    fn next_number(&self) -> u64 {
        self.numbers.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Taken from noting a publication to sending it ([`Store::note_published`]).
    pub async fn publication_order(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.publishing.lock().await
    }

    /// Notes `diagnostics`, read by `gathering`, as sent for `version` of `uri`; false when they
    /// must not be sent: the document is not open, they were read from another open of it or
    /// before its text changed (they belong to another text, whatever its version), diagnostics
    /// gathered later were sent (two publications racing, the older one must not win), or
    /// exactly these were sent for that version already.
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
        if gathering.opened != publication.opened || gathering.number < publication.text_changed {
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
            .cloned()
    }

    fn set_snapshot(&self, uri: &Uri, snapshot: TextSnapshot) {
        self.texts
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(uri.clone(), snapshot);
    }

    /// Re-parses a document from its text (after a panic left its parsed state in doubt).
    pub fn rebuild(&self, uri: &Uri) {
        if let Some(held) = self.get(uri) {
            let mut document = lock(&held.document);
            document.rebuild();
            self.note_text_changed(uri, &held);
        }
    }

    /// The version of an open document.
    pub fn version(&self, uri: &Uri) -> Option<i32> {
        self.with_document(uri, |document| document.version())
    }

    /// Keeps the cluster's diagnostics of `version` of the document; `false` when it is closed
    /// or at another version now.
    pub fn set_cluster_findings(
        &self,
        uri: &Uri,
        version: i32,
        diagnostics: Vec<Diagnostic>,
    ) -> bool {
        self.with_document(uri, |document| {
            document.set_cluster_findings(version, diagnostics)
        })
        .unwrap_or(false)
    }

    /// Keeps a layer's findings computed for `version` of the document; `false` when it is closed
    /// or at another version now.
    pub fn set_layer_of(
        &self,
        uri: &Uri,
        version: i32,
        layer: Layer,
        diagnostics: Vec<Diagnostic>,
    ) -> bool {
        self.with_document(uri, |document| {
            document.set_layer_of(version, layer, diagnostics)
        })
        .unwrap_or(false)
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

    /// Types `x` at the start of the document, as `version`.
    fn type_x(store: &Store, version: i32) {
        let start = crate::text::Position::new(0, 0);
        let change = Change {
            range: Some(start..start),
            text: "x",
        };
        store.change(&uri(), version, &[change]);
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
        store.begin_open(uri(), "b: 2\n".to_string(), 1).finish();
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
        store.begin_open(uri(), "b: 2\n".to_string(), 1).finish();
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
        store.begin_open(uri(), "a: 1\n".to_string(), 1).finish();
        assert!(store.note_published(&uri(), 1, gathered(&store), &[]));
    }

    #[test]
    fn an_open_given_up_leaves_nothing_behind() {
        let store = Arc::new(Store::default());
        drop(store.begin_open(uri(), "a: 1\n".to_string(), 1));
        assert!(store.text_snapshot(&uri()).is_none());
        assert_eq!(store.version(&uri()), None);
    }
}
