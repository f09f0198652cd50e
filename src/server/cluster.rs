//! The server's cluster work: per-file background dry-run + diff (debounced, cancelled by newer
//! edits, kept by the open document only for the version it checked), the cluster's
//! schema as the top layer of the catalog (from the disk cache at once, then fetched, then
//! refreshed every five minutes), the `kube-lsp/status` and `kube-lsp/clusterSchema`
//! notifications and the `kube-lsp.showDiff` / `kube-lsp.refreshCluster` commands.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tower_lsp_server::Client;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::notification::Notification;
use tower_lsp_server::ls_types::{self as lsp, MessageType, Uri};

use super::convert;
use super::publish::{Gather, publish, publish_all};
use super::settings::{ClusterOptions, DryRunMode};
use super::store::{Stamp, Store};
use super::workspace::SchemaSources;
use crate::cluster::ClusterError;
use crate::cluster::cache::DiskCache;
use crate::cluster::check::{
    CheckedDocument, check_documents, holds_secret, kubernetes_documents, without_build_annotations,
};
use crate::cluster::connection::Connection;
use crate::cluster::live_schema::LiveSchema;
use crate::diagnostic::Diagnostic;
use crate::features::cluster_diagnostics::{self as cd, DocumentInput};
use crate::schema::validate::Role;

pub const SHOW_DIFF: &str = "kube-lsp.showDiff";
pub const REFRESH_CLUSTER: &str = "kube-lsp.refreshCluster";

/// Files larger than this are not dry-run (finding their documents alone would take too long).
const MAX_FILE: usize = 8 << 20;

/// How often the cluster's schema is fetched again while it answers (three small requests when
/// nothing changed).
const SCHEMA_REFRESH: Duration = Duration::from_secs(300);

/// Retries of an unreachable cluster wait this long at first, doubling up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A cheap first look: a file without `apiVersion` and `kind` keys, or too big, is not checked
/// (and never makes kube-lsp talk to a cluster).
fn might_hold_manifests(text: &ropey::Rope) -> bool {
    if text.len_bytes() > MAX_FILE {
        tracing::debug!("not dry-run: the file is larger than {MAX_FILE} bytes");
        return false;
    }
    crate::yaml::detect::TypeKeys::in_rope(text.slice(..)).both()
}

/// The diagnostics of a text's checked documents, in the text's offsets.
fn diagnostics_of(text: &str, documents: &[CheckedDocument], with_diff: bool) -> Vec<Diagnostic> {
    documents
        .iter()
        .flat_map(|d| {
            let input = DocumentInput {
                text: &text[d.range.clone()],
                offset: d.range.start,
                manifest: &d.manifest,
            };
            cd::diagnostics(&input, &d.result, with_diff)
        })
        .collect()
}

/// Where a checked text comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    /// An open document, sent as written.
    Document,
    /// A render's output: kustomize's build annotations are not sent.
    Rendered,
}

/// What started a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Open,
    Change,
    Save,
    Refresh,
}

/// `kube-lsp/status`: whether the cluster of the current context answers.
enum StatusNotification {}

impl Notification for StatusNotification {
    type Params = Value;
    const METHOD: &'static str = "kube-lsp/status";
}

/// `kube-lsp/clusterSchema`: the cluster's schema was installed (`origin`: `disk` or `cluster`)
/// or removed (`origin`: null).
enum ClusterSchemaNotification {}

impl Notification for ClusterSchemaNotification {
    type Params = Value;
    const METHOD: &'static str = "kube-lsp/clusterSchema";
}

/// The documents the last check of a file found, for the state it checked (`showDiff` reads
/// them; the diagnostics are kept by the open document).
struct FileResult {
    /// The document state checked.
    stamp: Stamp,
    documents: Vec<CheckedDocument>,
}

#[derive(Default)]
struct ContextState {
    reachable: Option<bool>,
    warned: bool,
}

pub struct ClusterWork {
    client: Client,
    store: Arc<Store>,
    /// The schema sources of the catalog; the cluster's schema is their top layer.
    schemas: Arc<SchemaSources>,
    settings: Mutex<ClusterOptions>,
    connection: tokio::sync::Mutex<Option<Arc<Connection>>>,
    results: Mutex<HashMap<Uri, FileResult>>,
    tasks: Mutex<HashMap<Uri, JoinHandle<()>>>,
    contexts: Mutex<HashMap<String, ContextState>>,
    /// The task keeping the cluster's schema current.
    schema_task: Mutex<Option<JoinHandle<()>>>,
    /// The cluster schema installed in the catalog.
    live: Mutex<Option<Arc<LiveSchema>>>,
    /// Woken when a context answers again, so files waiting to retry do not sleep on.
    recovered: Notify,
    /// Which contexts open documents may be sent to (`server/consent.rs`).
    consent: super::consent::Consent,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClusterWork {
    pub fn new(client: Client, store: Arc<Store>, schemas: Arc<SchemaSources>) -> Arc<ClusterWork> {
        Arc::new(ClusterWork {
            client,
            store,
            schemas,
            settings: Mutex::new(ClusterOptions::default()),
            connection: tokio::sync::Mutex::new(None),
            results: Mutex::new(HashMap::new()),
            tasks: Mutex::new(HashMap::new()),
            contexts: Mutex::new(HashMap::new()),
            schema_task: Mutex::new(None),
            live: Mutex::new(None),
            recovered: Notify::new(),
            consent: Default::default(),
        })
    }

    pub fn settings(&self) -> ClusterOptions {
        lock(&self.settings).clone()
    }

    /// New settings; when they changed, forget the connection and check every open file again.
    pub async fn configure(self: &Arc<Self>, settings: ClusterOptions) {
        let changed = {
            let mut current = lock(&self.settings);
            let changed = *current != settings;
            *current = settings;
            changed
        };
        if changed {
            tracing::info!("cluster settings: {:?}", self.settings());
            self.consent.clear().await;
            self.refresh().await;
        }
    }

    /// Drops the connection and caches, re-checks every file that has been checked or opened,
    /// and fetches the cluster's schema again (kept meanwhile when the context is the same).
    pub async fn refresh(self: &Arc<Self>) {
        if let Some(task) = lock(&self.schema_task).take() {
            task.abort();
        }
        *self.connection.lock().await = None;
        lock(&self.contexts).clear();
        self.ensure_schema_sync().await;
        let uris: Vec<Uri> = {
            let mut uris: Vec<Uri> = lock(&self.results).keys().cloned().collect();
            uris.extend(lock(&self.tasks).keys().cloned());
            uris.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            uris.dedup();
            uris
        };
        for uri in uris {
            self.schedule(uri, Trigger::Refresh);
        }
    }

    /// Starts (or restarts) the background check of a file, as the settings say for `trigger`.
    pub fn schedule(self: &Arc<Self>, uri: Uri, trigger: Trigger) {
        if trigger == Trigger::Open {
            let work = self.clone();
            tokio::spawn(async move { work.ensure_schema_sync().await });
        }
        let settings = self.settings();
        let run = !matches!(
            (settings.dry_run, trigger),
            (DryRunMode::Off, _) | (DryRunMode::OnSave, Trigger::Change)
        );
        let mut tasks = lock(&self.tasks);
        if let Some(previous) = tasks.remove(&uri) {
            previous.abort();
        }
        if !run {
            return;
        }
        let delay = if trigger == Trigger::Change {
            settings.debounce
        } else {
            Duration::ZERO
        };
        let work = self.clone();
        let task_uri = uri.clone();
        tasks.insert(
            uri,
            tokio::spawn(async move { work.run(task_uri, delay).await }),
        );
    }

    /// A closed file: cancel its work and forget its results.
    pub fn forget(&self, uri: &Uri) {
        if let Some(task) = lock(&self.tasks).remove(uri) {
            task.abort();
        }
        lock(&self.results).remove(uri);
    }

    pub(super) async fn connection(&self) -> std::result::Result<Arc<Connection>, ClusterError> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = Arc::new(Connection::connect(&self.settings().connection).await?);
        *slot = Some(connection.clone());
        Ok(connection)
    }

    async fn check(
        &self,
        text: &Arc<str>,
    ) -> std::result::Result<(String, Vec<CheckedDocument>), (String, ClusterError)> {
        self.check_as(text, Sent::Document).await
    }

    /// Dry-runs the documents of `text` (an open document's, or a render's output), if the
    /// user allows sending documents to the context: Secrets only with `dryRunSecrets`.
    async fn check_as(
        &self,
        text: &Arc<str>,
        sent: Sent,
    ) -> std::result::Result<(String, Vec<CheckedDocument>), (String, ClusterError)> {
        let connection = self
            .connection()
            .await
            .map_err(|e| (self.configured_context(), e))?;
        let settings = self.settings();
        let decision = self
            .consent
            .may_send(
                &self.client,
                &settings,
                &connection.context,
                &connection.server,
            )
            .await;
        if decision.new {
            let message = format!(
                "open documents {} sent to context {} ({})",
                if decision.allowed { "are" } else { "are not" },
                connection.context,
                decision.why
            );
            tracing::info!("{message}");
            self.client
                .send_notification::<StatusNotification>(json!({
                    "context": connection.context,
                    "server": connection.server,
                    "sendsDocuments": decision.allowed,
                    "sendsSecrets": decision.allowed && settings.send_secrets,
                    "message": message,
                }))
                .await;
        }
        if !decision.allowed {
            return Ok((connection.context.clone(), Vec::new()));
        }
        // Finding and converting the documents is CPU work: keep it off the async workers.
        let scan = text.clone();
        let send_secrets = settings.send_secrets;
        let found = tokio::task::spawn_blocking(move || {
            let mut found = kubernetes_documents(&scan);
            if !send_secrets {
                found.retain(|(_, manifest)| !holds_secret(manifest));
            }
            if sent == Sent::Rendered {
                for (_, manifest) in &mut found {
                    without_build_annotations(manifest);
                }
            }
            found
        })
        .await
        .unwrap_or_default();
        let documents = check_documents(&connection, found)
            .await
            .map_err(|e| (connection.context.clone(), e))?;
        self.set_reachable(
            &connection.context,
            true,
            format!("connected to {}", connection.server),
        )
        .await;
        Ok((connection.context.clone(), documents))
    }

    /// Dry-runs (and, as the settings say, diffs) rendered documents, a Helm chart's or a
    /// kustomization's output, as an open document's (the same consent, Secrets only with
    /// `dryRunSecrets`), without the annotations a render adds for kube-lsp: the diagnostics of
    /// each text, in its own offsets. `None` when dry-runs are off or no cluster answers (the
    /// files' own checks report why).
    pub async fn check_rendered(&self, texts: &[String]) -> Option<Vec<Vec<Diagnostic>>> {
        let settings = self.settings();
        if settings.dry_run == DryRunMode::Off {
            return None;
        }
        let mut out = Vec::with_capacity(texts.len());
        for text in texts {
            let text: Arc<str> = Arc::from(text.as_str());
            let (_, documents) = self.check_as(&text, Sent::Rendered).await.ok()?;
            out.push(diagnostics_of(&text, &documents, settings.diff));
        }
        Some(out)
    }

    /// The context the settings name, for messages before a connection says which one it is.
    fn configured_context(&self) -> String {
        self.settings()
            .connection
            .context
            .unwrap_or_else(|| "(current-context)".into())
    }

    async fn run(self: Arc<Self>, uri: Uri, delay: Duration) {
        tokio::time::sleep(delay).await;
        let mut backoff = FIRST_BACKOFF;
        let mut cleared = false;
        loop {
            let Some((snapshot, stamp)) = self.store.stamped_snapshot(&uri) else {
                return;
            };
            if !might_hold_manifests(&snapshot.rope) {
                lock(&self.results).remove(&uri);
                return;
            }
            // A kustomize patch is not an object: the overlays rendering it are dry-run.
            if self.store.with_document(&uri, |d| d.role()) == Some(Role::Patch) {
                let nothing = FileResult {
                    stamp,
                    documents: Vec::new(),
                };
                self.finish(&uri, nothing, Vec::new()).await;
                return;
            }
            let with_diff = self.settings().diff;
            // Connected first: without a cluster the text is not copied out of the rope.
            let checked = match self.connection().await {
                Ok(_) => {
                    let text: Arc<str> = Arc::from(snapshot.rope.to_string());
                    let checked = self.check(&text).await;
                    checked.map(|(_, documents)| (text, documents))
                }
                Err(error) => Err((self.configured_context(), error)),
            };
            match checked {
                Ok((text, documents)) => {
                    let diagnostics = diagnostics_of(&text, &documents, with_diff);
                    self.finish(&uri, FileResult { stamp, documents }, diagnostics)
                        .await;
                    return;
                }
                Err((context, error)) => {
                    self.set_reachable(&context, false, error.to_string()).await;
                    if !cleared {
                        // Drop cluster diagnostics of an earlier version, once.
                        let nothing = FileResult {
                            stamp,
                            documents: Vec::new(),
                        };
                        self.finish(&uri, nothing, Vec::new()).await;
                        cleared = true;
                    }
                    if matches!(error, ClusterError::Config(_)) {
                        return; // nothing to retry until the settings change
                    }
                    // Try again later, or as soon as another request finds the cluster back.
                    // A newer edit aborts this task.
                    self.wait_to_retry(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    *self.connection.lock().await = None;
                }
            }
        }
    }

    /// Hands a result's diagnostics to the open document and publishes them, unless the file
    /// moved on meanwhile.
    async fn finish(&self, uri: &Uri, result: FileResult, diagnostics: Vec<Diagnostic>) {
        if !self
            .store
            .set_cluster_findings(uri, result.stamp, diagnostics)
        {
            return;
        }
        lock(&self.results).insert(uri.clone(), result);
        publish(&self.client, &self.store, uri.clone(), Gather::Validated).await;
    }

    async fn set_reachable(&self, context: &str, reachable: bool, message: String) {
        let (notify, warn) = {
            let mut contexts = lock(&self.contexts);
            let state = contexts.entry(context.to_string()).or_default();
            let notify = state.reachable != Some(reachable);
            state.reachable = Some(reachable);
            let warn = !reachable && !state.warned;
            if warn {
                state.warned = true;
            }
            (notify, warn)
        };
        if notify {
            if reachable {
                self.recovered.notify_waiters();
                tracing::info!("cluster context {context}: {message}");
            } else {
                tracing::warn!("cluster context {context}: {message}");
            }
            self.client
                .send_notification::<StatusNotification>(
                    json!({"context": context, "reachable": reachable, "message": message}),
                )
                .await;
        }
        if warn {
            self.client
                .show_message(
                    MessageType::WARNING,
                    format!("kube-lsp: no cluster dry-run or diff (context {context}): {message}"),
                )
                .await;
        }
    }

    /// Sleeps `backoff`, or less when a context answers again meanwhile.
    async fn wait_to_retry(&self, backoff: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = self.recovered.notified() => {}
        }
    }

    /// Starts the task that keeps the cluster's schema current, unless it runs already.
    async fn ensure_schema_sync(self: &Arc<Self>) {
        if !self.settings().cluster_schema {
            self.install(None, "").await;
            return;
        }
        let mut task = lock(&self.schema_task);
        if task.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let work = self.clone();
        *task = Some(tokio::spawn(async move { work.sync_schema().await }));
    }

    /// The cluster's schema: from the disk cache at once, then fetched (only changed documents),
    /// then again every [`SCHEMA_REFRESH`]; retried with backoff while the cluster is away.
    async fn sync_schema(self: Arc<Self>) {
        // Without a usable kubeconfig there is nothing to do; the file checks report why.
        let Ok(connection) = self.connection().await else {
            self.install(None, "").await;
            return;
        };
        let cache = DiskCache::for_cluster(&connection.server, &connection.context);
        if self.installed_for(&connection).is_none() {
            self.install_from_disk(&connection, cache.clone()).await;
        }
        let mut backoff = FIRST_BACKOFF;
        loop {
            let previous = self.installed_for(&connection);
            match LiveSchema::fetch(&connection, cache.as_ref(), previous.as_deref()).await {
                Ok(fresh) => {
                    connection.set_discovery(fresh.discovery.clone()).await;
                    let message = format!("connected to {}", connection.server);
                    self.set_reachable(&connection.context, true, message).await;
                    if previous.is_none_or(|p| !p.same_as(&fresh)) {
                        self.install(Some(Arc::new(fresh)), "cluster").await;
                    }
                    backoff = FIRST_BACKOFF;
                    tokio::time::sleep(SCHEMA_REFRESH).await;
                }
                Err(error) => {
                    if error.is_connection() {
                        let context = connection.context.clone();
                        self.set_reachable(&context, false, error.to_string()).await;
                    } else {
                        tracing::warn!("cluster schema of context {}: {error}", connection.context);
                    }
                    self.wait_to_retry(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// The installed cluster schema, when it is the one of `connection`'s cluster and context.
    fn installed_for(&self, connection: &Connection) -> Option<Arc<LiveSchema>> {
        lock(&self.live)
            .clone()
            .filter(|l| l.context == connection.context && l.server == connection.server)
    }

    /// Installs the schema the disk cache holds for `connection` (none: removes the installed
    /// one, which belongs to another context).
    async fn install_from_disk(&self, connection: &Connection, cache: Option<DiskCache>) {
        let (context, server) = (connection.context.clone(), connection.server.clone());
        let cached = match cache {
            Some(cache) => tokio::task::spawn_blocking(move || {
                LiveSchema::from_disk(&cache, &context, &server)
            })
            .await
            .ok()
            .flatten(),
            None => None,
        };
        self.install(cached.map(Arc::new), "disk").await;
    }

    /// Makes `live` the catalog's cluster layer (none: built-in and workspace schemas only),
    /// then validates and publishes every open file again.
    async fn install(&self, live: Option<Arc<LiveSchema>>, origin: &str) {
        let had = lock(&self.live).is_some();
        if live.is_none() && !had {
            return;
        }
        let layer = match &live {
            Some(live) => build_layer(live.clone()).await,
            None => None,
        };
        let summary = match (&live, &layer) {
            (Some(live), Some(store)) => json!({
                "context": live.context,
                "origin": origin,
                "resources": store.resources().len(),
                "groupVersions": live.openapi.len(),
                "downloaded": live.downloaded.len(),
            }),
            _ => json!({"context": Value::Null, "origin": Value::Null}),
        };
        *lock(&self.live) = if layer.is_some() { live } else { None };
        // The plug-in point: the catalog's top layer (above workspace CRDs and schemaPaths).
        self.schemas.set_live(layer);
        tracing::info!("cluster schema: {summary}");
        self.client
            .send_notification::<ClusterSchemaNotification>(summary)
            .await;
        publish_all(&self.client, &self.store).await;
    }

    /// `kube-lsp.showDiff` with `[uri]` or `[{uri, position}]`.
    pub async fn show_diff(&self, arguments: &[Value]) -> Result<Option<Value>> {
        let argument = arguments.first().cloned().unwrap_or(Value::Null);
        let (uri_text, position) = match &argument {
            Value::String(uri) => (uri.clone(), None),
            Value::Object(map) => (
                map.get("uri")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                map.get("position")
                    .and_then(|p| serde_json::from_value::<lsp::Position>(p.clone()).ok()),
            ),
            _ => (String::new(), None),
        };
        let uri: Uri = uri_text.parse().map_err(|_| {
            Error::invalid_params(format!(
                "{SHOW_DIFF}: expected [uri] or [{{uri, position}}]"
            ))
        })?;
        let encoding = self.store.encoding();
        let read = self.store.with_document(&uri, |document| {
            let rope = document.text().rope();
            let offset = position.map(|p| convert::offset(rope, p, encoding));
            (rope.to_string(), offset)
        });
        let Some((text, offset)) = read else {
            return Err(Error::invalid_params(format!(
                "{SHOW_DIFF}: {} is not open",
                uri.as_str()
            )));
        };
        let current = self.store.stamped_snapshot(&uri).map(|(_, stamp)| stamp);
        let fresh = {
            let results = lock(&self.results);
            results
                .get(&uri)
                .filter(|r| Some(r.stamp) == current)
                .map(|r| r.documents.clone())
        };
        let documents = match fresh {
            Some(documents) => documents,
            None => match self.check(&Arc::from(text)).await {
                Ok((_, documents)) => documents,
                Err((context, error)) => {
                    self.set_reachable(&context, false, error.to_string()).await;
                    return Err(Error {
                        code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(1),
                        message: format!("{SHOW_DIFF}: {error}").into(),
                        data: None,
                    });
                }
            },
        };
        let chosen = match offset {
            Some(offset) => documents
                .iter()
                .find(|d| d.range.contains(&offset) || d.range.end == offset),
            None => documents
                .iter()
                .find(|d| cd::diff_view(&d.result).is_some()),
        };
        Ok(chosen
            .and_then(|d| cd::diff_view(&d.result))
            .map(|view| serde_json::to_value(view).unwrap_or(Value::Null)))
    }
}

/// The schema store of a cluster schema, built off the async workers.
async fn build_layer(live: Arc<LiveSchema>) -> Option<Arc<crate::schema::Store>> {
    let context = live.context.clone();
    match tokio::task::spawn_blocking(move || live.store()).await {
        Ok(Ok(store)) => Some(Arc::new(store)),
        Ok(Err(error)) => {
            tracing::warn!("cluster schema of context {context}: {error}");
            None
        }
        Err(_) => None,
    }
}
