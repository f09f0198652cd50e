//! References between objects, wired: the requests (definition, references, rename, code
//! lenses, and the parts of completion and hover) answered by `features::references` from the
//! workspace index and the cluster's metadata lists; the reference diagnostics of every open
//! document, computed again whenever the index or a list changes; and the lists themselves,
//! fetched in the background (`cluster::objects`) so that no request waits for the cluster.
//!
//! A request first makes sure the index holds the document's current text (the index takes an
//! edited document only after typing pauses), then answers under the index's read lock, and
//! converts offsets with each file's text: an open document's snapshot, else the file on disk.
//! Renames check that each file still holds the text they replace.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ropey::Rope;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::cluster::ClusterWork;
use super::convert;
use super::publish::{Gather, publish};
use super::store::Store;
use super::workspace::{SchemaSources, document_path};
use crate::cluster::connection::Connection;
use crate::cluster::objects::{self, ListKey, Listing, ObjectCache};
use crate::features::completion::Item;
use crate::features::document::{Layer, TextSnapshot, Touched};
use crate::features::hover::Hover;
use crate::features::references::{self as features, ClusterObjects, ClusterStatus, Scope};
use crate::features::rules::ClusterLookup;
use crate::workspace::references::TargetType;

/// What is known of the cluster, for references.
#[derive(Clone)]
enum Side {
    /// Not asked yet since the settings changed.
    Unknown,
    Connecting,
    NotConfigured,
    Connected(Arc<Connection>),
    Unreachable(Arc<Connection>, Arc<str>),
}

struct ClusterSide {
    side: Side,
    /// The lists of the current connection.
    cache: Arc<ObjectCache>,
}

pub struct References {
    client: Client,
    store: Arc<Store>,
    schemas: Arc<SchemaSources>,
    cluster: Arc<ClusterWork>,
    side: Mutex<ClusterSide>,
    /// Whether the diagnostics of the open documents are being computed again, and whether
    /// they must be once more after that.
    rechecking: AtomicBool,
    again: AtomicBool,
    /// Counts the changes of what is known of the cluster (a list stored, a connection made or
    /// found impossible): the rules' answers that asked the cluster are redone when it moves.
    generation: AtomicU64,
    /// What each open document's reference diagnostics were last computed from. A recheck with
    /// the same inputs is skipped (a file of thousands of objects takes seconds, and every edit
    /// of any file asks again); one with only the document's state moved checks the documents
    /// its edits touched.
    computed_from: Mutex<HashMap<Uri, Inputs>>,
}

/// The inputs of a document's reference diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Inputs {
    /// The document's state (`Stamp::revision`: a version repeats when the URI is opened again).
    revision: u64,
    /// The index's [`facts_generation`](crate::workspace::index::Index::facts_generation).
    facts: u64,
    /// What is known of the cluster.
    cluster: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a request asked of the cluster that is not known yet.
#[derive(Default)]
struct Wanted {
    lists: Vec<ListKey>,
    connect: bool,
}

/// The cluster as features see it during one request: the lists known now; what is missing is
/// noted and fetched after the request.
struct View<'a> {
    side: Side,
    cache: &'a ObjectCache,
    wanted: Mutex<Wanted>,
}

impl ClusterObjects for View<'_> {
    fn status(&self) -> ClusterStatus {
        match &self.side {
            Side::Unknown => {
                lock(&self.wanted).connect = true;
                ClusterStatus::Connecting
            }
            Side::Connecting => ClusterStatus::Connecting,
            Side::NotConfigured => ClusterStatus::NotConfigured,
            Side::Connected(connection) => ClusterStatus::Connected {
                context: connection.context.as_str().into(),
            },
            Side::Unreachable(connection, why) => ClusterStatus::Unreachable {
                context: connection.context.as_str().into(),
                why: why.clone(),
            },
        }
    }

    fn list(
        &self,
        target: &TargetType<'_>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Listing {
        let key = features::list_key(target, namespace);
        let (listing, fetch) = self.cache.lookup(&key, name);
        if fetch {
            lock(&self.wanted).lists.push(key);
        }
        listing
    }
}

impl References {
    pub fn new(
        client: Client,
        store: Arc<Store>,
        schemas: Arc<SchemaSources>,
        cluster: Arc<ClusterWork>,
    ) -> Arc<References> {
        let references = Arc::new(References {
            client,
            store,
            schemas,
            cluster,
            side: Mutex::new(ClusterSide {
                side: Side::Unknown,
                cache: Arc::default(),
            }),
            rechecking: AtomicBool::new(false),
            again: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            computed_from: Mutex::default(),
        });
        references
            .store
            .set_rule_cluster(Arc::downgrade(&references));
        references
    }

    /// The cluster settings changed or a refresh was asked (or the server starts): forget the
    /// lists and the connection, find out whether there is a cluster, and check the open
    /// documents again.
    pub fn cluster_changed(self: &Arc<Self>) {
        let cache = Arc::<ObjectCache>::default();
        *lock(&self.side) = ClusterSide {
            side: Side::Unknown,
            cache: cache.clone(),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
        let connect = Wanted {
            lists: Vec::new(),
            connect: true,
        };
        self.fetch(connect, cache);
    }

    /// The namespace of objects that name none and no kustomization puts in one: the settings',
    /// else the context's, else `default`.
    fn default_namespace(&self, side: &Side) -> String {
        match side {
            Side::Connected(connection) | Side::Unreachable(connection, _) => {
                connection.namespace.clone()
            }
            _ => self
                .cluster
                .settings()
                .connection
                .namespace
                .unwrap_or_else(|| "default".into()),
        }
    }

    /// Runs `answer` with a scope over the index and the cluster as known now, then fetches in
    /// the background what it asked for and did not find.
    fn with_scope<R>(self: &Arc<Self>, answer: impl FnOnce(&Scope<'_>) -> R) -> R {
        let workspace = self.schemas.workspace();
        let roots = workspace.roots();
        self.with_cluster(|lookup| {
            let index = workspace.read();
            let scope = Scope {
                index: &index,
                default_namespace: lookup.default_namespace,
                cluster: lookup.objects,
                roots: &roots,
            };
            answer(&scope)
        })
    }

    /// Runs `answer` with the cluster as known now (for the references and for the rules'
    /// questions about other objects), then fetches in the background what it asked for and
    /// did not find; when that arrives, the open documents are checked again.
    pub fn with_cluster<R>(self: &Arc<Self>, answer: impl FnOnce(ClusterLookup<'_>) -> R) -> R {
        let (side, cache, generation) = {
            let state = lock(&self.side);
            let generation = self.generation.load(Ordering::Acquire);
            (state.side.clone(), state.cache.clone(), generation)
        };
        let view = View {
            side: side.clone(),
            cache: &cache,
            wanted: Mutex::default(),
        };
        let namespace = self.default_namespace(&side);
        let result = answer(ClusterLookup {
            objects: &view,
            default_namespace: &namespace,
            generation,
        });
        let wanted = view.wanted.into_inner().unwrap_or_else(|p| p.into_inner());
        if wanted.connect || !wanted.lists.is_empty() {
            self.fetch(wanted, cache);
        }
        result
    }

    /// Connects (when not known yet) and fetches `wanted`'s lists, then checks the open
    /// documents again.
    fn fetch(self: &Arc<Self>, wanted: Wanted, cache: Arc<ObjectCache>) {
        if wanted.connect {
            let mut state = lock(&self.side);
            if !matches!(state.side, Side::Unknown) {
                return;
            }
            state.side = Side::Connecting;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let connection = match this.cluster.connection().await {
                Ok(connection) => connection,
                Err(error) => {
                    // Making a connection sends nothing: only the kubeconfig can fail here.
                    tracing::debug!("references: no cluster ({error})");
                    this.set_side(&cache, Side::NotConfigured);
                    this.recheck_all();
                    return;
                }
            };
            if wanted.connect {
                this.set_side(&cache, Side::Connected(connection.clone()));
            }
            let mut failed = false;
            for key in wanted.lists {
                let result = objects::fetch(&connection, &key).await;
                cache.store(&key, &result);
                failed |= result.is_err();
                match &result {
                    Err(error) if error.is_connection() => {
                        let why: Arc<str> = error.to_string().into();
                        this.set_side(&cache, Side::Unreachable(connection.clone(), why));
                    }
                    _ => this.set_side(&cache, Side::Connected(connection.clone())),
                }
            }
            this.recheck_all();
            if failed {
                // Asked again once the cache lets it: the answers come back without an edit.
                tokio::time::sleep(objects::REFETCH_MISSING + Duration::from_millis(100)).await;
                this.recheck_all();
            }
        });
    }

    /// Sets what is known of the cluster, unless the cache was replaced meanwhile (the
    /// settings changed).
    fn set_side(&self, cache: &Arc<ObjectCache>, side: Side) {
        let mut state = lock(&self.side);
        if Arc::ptr_eq(&state.cache, cache) {
            state.side = side;
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    // ---------------------------------------------------------------- diagnostics

    /// Computes the reference diagnostics of every open document again (once more after the
    /// current round when one runs), publishing those that changed.
    pub fn recheck_all(self: &Arc<Self>) {
        if self.rechecking.swap(true, Ordering::AcqRel) {
            self.again.store(true, Ordering::Release);
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                this.again.store(false, Ordering::Release);
                let open = this.store.uris();
                lock(&this.computed_from).retain(|uri, _| open.contains(uri));
                for uri in open {
                    this.recheck(uri).await;
                }
                if !this.again.swap(false, Ordering::AcqRel) {
                    break;
                }
            }
            this.rechecking.store(false, Ordering::Release);
            // Asked for while the flag was being cleared.
            if this.again.swap(false, Ordering::AcqRel) {
                this.recheck_all();
            }
        });
    }

    /// The reference diagnostics of one open document, when the index holds its current text
    /// (otherwise the index takes it soon and asks again). When nothing the others read changed
    /// since they were last computed (the index's facts, the cluster), only the documents its
    /// edits touched are checked again.
    async fn recheck(self: &Arc<Self>, uri: Uri) {
        let Some((_, stamp)) = self.store.stamped_snapshot(&uri) else {
            return;
        };
        let path = document_path(&uri);
        let workspace = self.schemas.workspace();
        if workspace.revision_of(&path) != Some(stamp.revision()) {
            return;
        }
        let inputs = Inputs {
            revision: stamp.revision(),
            facts: workspace.read().facts_generation(),
            cluster: self.generation.load(Ordering::Acquire),
        };
        let before = lock(&self.computed_from).get(&uri).copied();
        if before == Some(inputs) {
            return;
        }
        let touched = before
            .filter(|before| (before.facts, before.cluster) == (inputs.facts, inputs.cluster))
            .and_then(|_| {
                self.store.keep_if_current(&uri, stamp, |document| {
                    document.touched(Layer::References).clone()
                })
            });
        let touched = match touched {
            Some(Touched::Nothing) => {
                lock(&self.computed_from).insert(uri, inputs);
                return;
            }
            Some(Touched::Within(touched)) => Some(touched),
            Some(Touched::Everything) | None => None,
        };
        tracing::debug!(
            "references: diagnostics of {} ({inputs:?}, touched: {touched:?})",
            uri.as_str()
        );
        let this = self.clone();
        let computed = tokio::task::spawn_blocking(move || {
            super::guarded("reference diagnostics", || {
                this.with_scope(|scope| match touched {
                    Some(touched) => features::diagnostics_within(scope, &path, touched)
                        .map(|(found, part)| (found, Some(part))),
                    None => Some((features::diagnostics(scope, &path), None)),
                })
            })
        })
        .await;
        let Ok(Ok(Some((diagnostics, part)))) = computed else {
            return;
        };
        // A whole computation is published (the rules' answers are gathered with it); a part
        // only when it changed something.
        let changed = self
            .store
            .keep_if_current(&uri, stamp, |document| match part {
                Some(part) => document.splice_layer(Layer::References, part, diagnostics),
                None => {
                    document.set_layer(Layer::References, diagnostics);
                    true
                }
            });
        let Some(changed) = changed else {
            return;
        };
        lock(&self.computed_from).insert(uri.clone(), inputs);
        // The rules' answers that asked the cluster are redone as the diagnostics are gathered.
        let generation = Some(self.generation.load(Ordering::Acquire));
        let rules_moved = self
            .store
            .with_document(&uri, |document| document.rules_await_cluster(generation))
            .unwrap_or(false);
        if changed || rules_moved {
            publish(
                &self.client,
                &self.store,
                uri,
                Gather::ValidatedInBackground,
            )
            .await;
        }
    }

    // ---------------------------------------------------------------- requests

    /// The document's path, after making sure the index holds its current text, with the
    /// snapshot and the offset of `position`.
    fn indexed(
        &self,
        uri: &Uri,
        position: lsp::Position,
    ) -> Option<(PathBuf, TextSnapshot, usize)> {
        let snapshot = self.sync_index(uri)?;
        let path = document_path(uri);
        let offset = convert::offset(&snapshot.rope, position, self.store.encoding());
        Some((path, snapshot, offset))
    }

    pub fn definition(
        self: &Arc<Self>,
        params: &lsp::GotoDefinitionParams,
    ) -> Option<lsp::GotoDefinitionResponse> {
        let at = &params.text_document_position_params;
        let (path, _, offset) = self.indexed(&at.text_document.uri, at.position)?;
        let found = self.with_scope(|scope| features::definition(scope, &path, offset));
        (!found.is_empty()).then(|| convert::definitions(self.locations(found)))
    }

    pub fn references(
        self: &Arc<Self>,
        params: &lsp::ReferenceParams,
    ) -> Option<Vec<lsp::Location>> {
        let at = &params.text_document_position;
        let (path, _, offset) = self.indexed(&at.text_document.uri, at.position)?;
        let declaration = params.context.include_declaration;
        let found =
            self.with_scope(|scope| features::references(scope, &path, offset, declaration));
        Some(self.locations(found))
    }

    pub fn prepare_rename(
        self: &Arc<Self>,
        params: &lsp::TextDocumentPositionParams,
    ) -> Option<lsp::PrepareRenameResponse> {
        let (path, snapshot, offset) = self.indexed(&params.text_document.uri, params.position)?;
        let (range, placeholder) =
            self.with_scope(|scope| features::prepare_rename(scope, &path, offset))?;
        Some(convert::prepare_rename(
            &snapshot.rope,
            range,
            placeholder,
            self.store.encoding(),
        ))
    }

    pub fn rename(
        self: &Arc<Self>,
        params: &lsp::RenameParams,
    ) -> Result<Option<lsp::WorkspaceEdit>, String> {
        let at = &params.text_document_position;
        let Some((path, _, offset)) = self.indexed(&at.text_document.uri, at.position) else {
            return Ok(None);
        };
        self.sync_open_documents();
        let edits =
            self.with_scope(|scope| features::rename(scope, &path, offset, &params.new_name))?;
        let encoding = self.store.encoding();
        let mut changes: Vec<(Uri, Vec<lsp::TextEdit>)> = Vec::new();
        for (file, edits) in by_path(edits, |e| e.path.clone()) {
            let Some((uri, rope)) = self.text_of(&file) else {
                continue;
            };
            let mut converted = Vec::new();
            for edit in edits {
                let holds = rope
                    .get_byte_slice(edit.range.clone())
                    .is_some_and(|slice| slice == *edit.old);
                if !holds {
                    tracing::warn!(
                        "rename: {} changed since it was indexed; not edited there",
                        file.display()
                    );
                    continue;
                }
                converted.push(convert::text_edit(&rope, edit.range, edit.new, encoding));
            }
            if !converted.is_empty() {
                changes.push((uri, converted));
            }
        }
        Ok(Some(convert::workspace_edit(changes)))
    }

    pub fn code_lenses(
        self: &Arc<Self>,
        params: &lsp::CodeLensParams,
    ) -> Option<Vec<lsp::CodeLens>> {
        let uri = &params.text_document.uri;
        let (path, snapshot, _) = self.indexed(uri, lsp::Position::default())?;
        let lenses = self.with_scope(|scope| features::lenses(scope, &path));
        let encoding = self.store.encoding();
        Some(
            lenses
                .iter()
                .map(|lens| convert::code_lens(&snapshot.rope, lens, encoding))
                .collect(),
        )
    }

    /// The completion items of references at `offset` of a snapshot (file offsets), and whether
    /// the cluster's part is still to come.
    pub fn completions(
        self: &Arc<Self>,
        uri: &Uri,
        snapshot: &TextSnapshot,
        offset: usize,
    ) -> (Vec<Item>, bool) {
        let path = document_path(uri);
        let found = crate::features::completion::with_document_text(
            &snapshot.rope,
            &snapshot.documents,
            offset,
            |start, text| {
                self.with_scope(|scope| features::completions(scope, &path, text, start, offset))
            },
        );
        found.map_or((Vec::new(), false), |c| (c.items, c.incomplete))
    }

    /// The hover of references at `offset` of the document's latest text.
    pub fn hover(self: &Arc<Self>, uri: &Uri, offset: usize) -> Option<Hover> {
        let path = document_path(uri);
        // Not waiting for an open in progress: hover answers as soon as the text is there.
        if let Some((snapshot, stamp)) = self.store.stamped_snapshot_if_opened(uri) {
            let workspace = self.schemas.workspace();
            workspace.sync_open(&path, stamp.revision(), &snapshot.rope, &snapshot.documents);
        }
        self.with_scope(|scope| features::hover(scope, &path, offset))
    }

    /// Every open document's current text in the index (a rename edits them all).
    fn sync_open_documents(&self) {
        for uri in self.store.uris() {
            self.sync_index(&uri);
        }
    }

    /// The open document's current text in the index, unless the index holds it already (its
    /// state, [`Stamp`](super::store::Stamp)), once any open of it in progress is done; that
    /// text.
    fn sync_index(&self, uri: &Uri) -> Option<TextSnapshot> {
        let (snapshot, stamp) = self.store.stamped_snapshot(uri)?;
        let path = document_path(uri);
        let workspace = self.schemas.workspace();
        workspace.sync_open(&path, stamp.revision(), &snapshot.rope, &snapshot.documents);
        Some(snapshot)
    }

    /// The URI and text of a file: an open document's snapshot, else the file on disk.
    fn text_of(&self, path: &Path) -> Option<(Uri, Rope)> {
        for uri in self.store.uris() {
            if document_path(&uri) == path {
                return self.store.text_snapshot(&uri).map(|s| (uri, s.rope));
            }
        }
        let uri = Uri::from_file_path(path)?;
        let text = std::fs::read_to_string(path).ok()?;
        Some((uri, Rope::from_str(&text)))
    }

    fn locations(&self, found: Vec<features::Location>) -> Vec<lsp::Location> {
        let encoding = self.store.encoding();
        let mut out = Vec::new();
        for (path, ranges) in by_path(found, |l| l.path.clone()) {
            let Some((uri, rope)) = self.text_of(&path) else {
                continue;
            };
            for location in ranges {
                out.push(convert::location(
                    uri.clone(),
                    &rope,
                    location.range,
                    encoding,
                ));
            }
        }
        out
    }
}

/// Items grouped by file, in the order files first appear.
fn by_path<T>(items: Vec<T>, path: impl Fn(&T) -> PathBuf) -> Vec<(PathBuf, Vec<T>)> {
    let mut groups: Vec<(PathBuf, Vec<T>)> = Vec::new();
    let mut at: HashMap<PathBuf, usize> = HashMap::new();
    for item in items {
        let key = path(&item);
        match at.get(&key) {
            Some(&i) => groups[i].1.push(item),
            None => {
                at.insert(key.clone(), groups.len());
                groups.push((key, vec![item]));
            }
        }
    }
    groups
}
