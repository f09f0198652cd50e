//! LSP glue on tower-lsp-server: capabilities, the store of open documents (concurrency and
//! gating around the features' `OpenDocument`), scheduling, one `publish`, and conversion between
//! the features' byte ranges and the client's positions (`convert`).
//!
//! Ordering: tower-lsp-server may run handlers concurrently, but it starts them in arrival order,
//! and every mutation here happens synchronously at the start of its handler (no `.await` before
//! the store is updated), so `didChange` N is applied before N+1.
//! Robustness: every computation runs under `catch_unwind`; a panic becomes a logged error (and,
//! for requests, an internal error response) and the document is rebuilt from its text.

mod anchors;
mod cluster;
mod consent;
mod convert;
mod format;
mod framing;
mod handoff;
mod helm;
mod kustomize;
mod language;
mod links;
mod modeline;
mod outline_json;
mod output;
mod publish;
mod references;
mod results;
mod settings;
mod store;
pub mod workspace;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::features::rules::config::{
    KUBE_LINTER_FILES, KubeLinterConfig, Settings as RuleSettings,
};
use crate::text::PositionEncoding;
use crate::text::cancel::{Cancel, Cancelled};
use cluster::{ClusterWork, Trigger};
use handoff::TextHandoff;
use publish::{Gather, publish, publish_all};
use settings::Settings;
use store::Store;
use workspace::SchemaSources;

/// How long typing must pause before an edited document's CRDs are read again.
const SCHEMA_EDIT_PAUSE: std::time::Duration = std::time::Duration::from_millis(300);

pub struct Backend {
    client: Client,
    store: Arc<Store>,
    /// Background dry-run and diff against the cluster (`server/cluster.rs`).
    cluster: Arc<ClusterWork>,
    /// CRDs and schema files that make up the schema catalog (`server/workspace.rs`).
    schemas: Arc<SchemaSources>,
    /// Completion and hover (`server/language.rs`).
    language: language::Language,
    /// Helm charts: the chart of each open file, rendering, template intelligence (`server/helm.rs`).
    helm: Arc<helm::HelmWork>,
    /// Whether the client lets the server register file watchers (`initialized` does).
    watch_files: std::sync::atomic::AtomicBool,
    /// How many folding ranges the client wants at most (its `rangeLimit`).
    fold_limit: std::sync::atomic::AtomicUsize,
    /// Big didOpen texts that went around tower-lsp-server's decoding (`server/handoff.rs`).
    handoff: Arc<TextHandoff>,
    /// Results written as JSON that go around tower-lsp-server's response path
    /// (`server/results.rs`).
    results: Arc<results::ResultHandoff>,
    /// Set by `shutdown`: the exit code says whether the client shut the server down first.
    shut_down: Arc<std::sync::atomic::AtomicBool>,
    /// The `rules` settings; with the workspace's `.kube-linter.yaml` they make the rules'
    /// configuration (`Backend::apply_rules`).
    rule_settings: std::sync::Mutex<RuleSettings>,
    /// Kustomizations: roles, checks, navigation, rendering (`server/kustomize.rs`).
    kustomize: Arc<kustomize::KustomizeWork>,
    /// References between objects (`server/references.rs`).
    references: Arc<references::References>,
    /// Formatting and its settings (`server/format.rs`).
    formatting: Arc<format::Formatting>,
    /// The schemas modelines name (`server/modeline.rs`).
    modeline: Arc<modeline::ModelineSchemas>,
}

pub use framing::FrameLimits;

/// How the session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// `shutdown`, then `exit` (or the end of input): exit code 0.
    Clean,
    /// `exit` or the end of input without `shutdown` first: exit code 1, as the LSP says.
    WithoutShutdown,
}

/// Runs the server on stdin/stdout until the client says exit (or closes stdin).
pub async fn run_stdio(limits: FrameLimits) -> Ending {
    let handoff = Arc::new(TextHandoff::default());
    let texts = handoff.clone();
    let results = Arc::new(results::ResultHandoff::default());
    let handed_off = results.clone();
    let shut_down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let noted = shut_down.clone();
    let builder = LspService::build(move |client| {
        let store = Arc::new(Store::default());
        store.hand_publications_to(handed_off.clone());
        let schemas = SchemaSources::new(store.clone());
        store.set_workspace(schemas.workspace().clone());
        let cluster = ClusterWork::new(client.clone(), store.clone(), schemas.clone());
        Backend {
            references: references::References::new(
                client.clone(),
                store.clone(),
                schemas.clone(),
                cluster.clone(),
            ),
            kustomize: kustomize::KustomizeWork::new(
                client.clone(),
                store.clone(),
                schemas.clone(),
                cluster.clone(),
            ),
            helm: helm::HelmWork::new(
                client.clone(),
                store.clone(),
                schemas.clone(),
                cluster.clone(),
            ),
            modeline: modeline::ModelineSchemas::new(
                client.clone(),
                store.clone(),
                schemas.clone(),
            ),
            cluster,
            schemas,
            client,
            store,
            language: language::Language::default(),
            watch_files: Default::default(),
            fold_limit: usize::MAX.into(),
            handoff: texts,
            results: handed_off.clone(),
            shut_down: noted,
            rule_settings: Default::default(),
            formatting: Default::default(),
        }
    });
    #[cfg(debug_assertions)]
    let builder = builder.custom_method("kube-lsp/debugPanic", Backend::debug_panic);
    let (service, socket) = builder.finish();
    let (replies, output, writer) = output::start(tokio::io::stdout(), results);
    Server::new(
        framing::spawn_stdin_reader(handoff, replies, limits),
        output,
        socket,
    )
    // Requests on a big document wait on blocking threads; more of them in flight than
    // tower-lsp-server's default of 4 keeps them from holding up other documents' requests.
    .concurrency_level(64)
    .serve(service)
    .await;
    // Everything answered by now reaches the client (not waiting on a client that stopped
    // reading).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await;
    if shut_down.load(std::sync::atomic::Ordering::SeqCst) {
        Ending::Clean
    } else {
        Ending::WithoutShutdown
    }
}

/// Runs `compute`, turning a panic into an error instead of taking the server down.
fn guarded<T>(what: &str, compute: impl FnOnce() -> T) -> Result<T> {
    catch_unwind(AssertUnwindSafe(compute)).map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!("internal error in {what}: {message}");
        Error::internal_error()
    })
}

/// Runs a request's computation on a blocking thread under [`guarded`]: a long one (a big
/// document's first outline) never holds one of the async workers, so other documents' requests
/// and notifications go on meanwhile. A `$/cancelRequest` makes tower-lsp-server drop this
/// future and answer RequestCancelled at once; dropping it sets the computation's [`Cancel`],
/// which its loops check (per document, per diagnostic) to stop early and let go of the
/// document's lock; a result given anyway is dropped.
async fn off_the_loop<T: Send + 'static>(
    what: &'static str,
    compute: impl FnOnce(&Cancel) -> T + Send + 'static,
) -> Result<T> {
    let cancel = Cancel::default();
    let _cancel_when_dropped = cancel.on_drop();
    tokio::task::spawn_blocking(move || guarded(what, || compute(&cancel)))
        .await
        .unwrap_or_else(|_| Err(Error::internal_error()))
}

/// The result of work that checks for cancellation; `None` (and a debug line in the log) when
/// it stopped because the client cancelled.
fn stopped_unless<T>(what: &str, result: std::result::Result<T, Cancelled>) -> Option<T> {
    result
        .inspect_err(|_| tracing::debug!("{what}: cancelled by the client, stopped before the end"))
        .ok()
}

/// The workspace folders as paths (`workspaceFolders`, else the deprecated `rootUri`).
fn workspace_roots(params: &InitializeParams) -> Vec<std::path::PathBuf> {
    let mut roots = folder_paths(params.workspace_folders.iter().flatten());
    if roots.is_empty() {
        #[allow(deprecated)]
        let root = params.root_uri.iter();
        roots.extend(root.filter_map(workspace::file_path));
    }
    roots
}

fn folder_paths<'a>(folders: impl Iterator<Item = &'a WorkspaceFolder>) -> Vec<std::path::PathBuf> {
    folders
        .filter_map(|folder| workspace::file_path(&folder.uri))
        .collect()
}

fn negotiate_encoding(params: &InitializeParams) -> PositionEncoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|general| general.position_encodings.as_ref());
    match offered {
        Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
        _ => PositionEncoding::Utf16,
    }
}

impl Backend {
    /// The layers an open or an edit computes at once beside the document's own (kustomize's
    /// checks, a modeline's schema); its diagnostics are published only after them.
    fn compute_layers(&self, uri: &Uri) {
        guarded("kustomize", || self.kustomize.check(uri)).ok();
        guarded("modeline", || self.modeline.check(uri)).ok();
        self.store.layers_computed(uri);
    }

    /// Publishes what is ready at once (the YAML layer's diagnostics, quick even for big files),
    /// then validates every document against the schema in the background and publishes
    /// the complete set, unless the document changed meanwhile (its edit publishes then).
    async fn publish_after_open(&self, uri: Uri) {
        publish(&self.client, &self.store, uri.clone(), Gather::Known).await;
        let (store, client) = (self.store.clone(), self.client.clone());
        tokio::spawn(async move {
            publish(&client, &store, uri, Gather::ValidatedInBackground).await;
        });
    }
}

/// Parses the built-in schemas of the common kinds on a thread of its own while the editor is
/// still starting: the first files opened find them ready. A request that needs one of
/// them first waits only for that one. Normal priority on purpose: a starved low-priority thread
/// would hold up any request waiting for the schema it is parsing.
fn preload_builtin_schemas() {
    let spawned = std::thread::Builder::new()
        .name("schema-preload".into())
        .spawn(|| {
            let started = std::time::Instant::now();
            crate::schema::store::Store::builtin().preload_common();
            tracing::debug!(
                "common built-in schemas loaded in {:.1?}",
                started.elapsed()
            );
        });
    if let Err(error) = spawned {
        tracing::warn!("cannot preload the built-in schemas: {error}");
    }
}

/// Whether the client can watch files for the server (dynamic registration of
/// `workspace/didChangeWatchedFiles`).
fn can_watch_files(params: &InitializeParams) -> bool {
    params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false)
}

/// How many folding ranges the client prefers per document (VS Code: 5,000), if it says.
fn fold_limit(params: &InitializeParams) -> Option<usize> {
    let limit = params
        .capabilities
        .text_document
        .as_ref()?
        .folding_range
        .as_ref()?
        .range_limit?;
    Some(limit as usize)
}

/// Asks the client to report changes to YAML files, so files edited or checked out outside the
/// editor reach the workspace index and CRDs among them the schema catalog.
async fn watch_yaml_files(client: Client) {
    let options = DidChangeWatchedFilesRegistrationOptions {
        // Kustomize also reads a kustomization from a file named `Kustomization`.
        watchers: [
            "**/*.{yaml,yml}",
            "**/Kustomization",
            "**/*.tpl",
            "**/values.schema.json",
        ]
        .into_iter()
        .map(|glob| FileSystemWatcher {
            glob_pattern: GlobPattern::String(glob.to_string()),
            kind: None,
        })
        .collect(),
    };
    let registration = Registration {
        id: "kube-lsp/yaml-files".to_string(),
        method: "workspace/didChangeWatchedFiles".to_string(),
        register_options: serde_json::to_value(options).ok(),
    };
    let asked = client.register_capability(vec![registration]);
    match tokio::time::timeout(std::time::Duration::from_secs(30), asked).await {
        Ok(Ok(())) => tracing::debug!("watching YAML files for CRD changes"),
        Ok(Err(error)) => tracing::warn!("the client refused to watch YAML files: {error}"),
        Err(_) => tracing::warn!("the client did not answer the file watcher registration"),
    }
}

impl Backend {
    /// Runs `update` (blocking: it may read files or parse CRDs) off the request path; when it
    /// changed the schema catalog, every open document is validated again and re-published.
    fn update_schemas(&self, update: impl FnOnce(&SchemaSources) -> bool + Send + 'static) {
        self.update_schemas_after_edit(None, update);
    }

    /// Like `update_schemas`, then runs `after` (whether or not the catalog changed).
    fn update_schemas_then<F>(
        &self,
        update: impl FnOnce(&SchemaSources) -> bool + Send + 'static,
        after: impl FnOnce() -> F + Send + 'static,
    ) where
        F: std::future::Future<Output = ()> + Send,
    {
        self.schedule_schema_update(None, update, after);
    }

    /// Like `update_schemas`, but after an edit: waits for typing to pause, and does nothing if
    /// the document changed again meanwhile (that change schedules its own update). Each
    /// keystroke in a CRD would otherwise re-read it and re-validate every open document.
    fn update_schemas_after_edit(
        &self,
        edited: Option<(Uri, i32)>,
        update: impl FnOnce(&SchemaSources) -> bool + Send + 'static,
    ) {
        self.schedule_schema_update(edited, update, || async {});
    }

    /// The one background task behind the three above: after the pause an edit waits for,
    /// `update`, then the references checked again, the open documents published again when
    /// the catalog (or, with rules on, the index) changed, then `after`.
    fn schedule_schema_update<F>(
        &self,
        edited: Option<(Uri, i32)>,
        update: impl FnOnce(&SchemaSources) -> bool + Send + 'static,
        after: impl FnOnce() -> F + Send + 'static,
    ) where
        F: std::future::Future<Output = ()> + Send,
    {
        let (schemas, store, client) = (
            self.schemas.clone(),
            self.store.clone(),
            self.client.clone(),
        );
        let references = self.references.clone();
        tokio::spawn(async move {
            if let Some((uri, version)) = edited {
                tokio::time::sleep(SCHEMA_EDIT_PAUSE).await;
                if store.version(&uri) != Some(version) {
                    return;
                }
            }
            // The rules ask the index about other objects: when what it says of them changed,
            // their answers may.
            let rules_on = store.rules().config.any();
            let changed = tokio::task::spawn_blocking(move || {
                guarded("schema sources", || {
                    let before = schemas.workspace().read().facts_generation();
                    let catalog_changed = update(&schemas);
                    let index_changed = schemas.workspace().read().facts_generation() != before;
                    catalog_changed || (rules_on && index_changed)
                })
                .unwrap_or(false)
            })
            .await;
            // The index took the change: references are checked again.
            references.recheck_all();
            if matches!(changed, Ok(true)) {
                publish_all(&client, &store).await;
            }
            after().await;
        });
    }
}

impl Backend {
    /// Makes the rules' configuration from the settings and the workspace's `.kube-linter.yaml`
    /// (a small file, read bounded like every workspace file), installs it, then checks every
    /// open document with it again in the background.
    fn apply_rules(&self) {
        let configured = guarded("rules configuration", || {
            let settings = self
                .rule_settings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let file = self
                .schemas
                .workspace()
                .root_file(&KUBE_LINTER_FILES)
                .and_then(|(path, text)| {
                    KubeLinterConfig::parse(&text)
                        .inspect_err(|e| tracing::warn!("{}: {e}", path.display()))
                        .ok()
                });
            let (config, unknown) = crate::features::rules::Config::build(&settings, file.as_ref());
            for name in unknown {
                tracing::warn!("rules: no rule or group named {name:?}");
            }
            self.store.set_rule_config(config);
        });
        if configured.is_ok() {
            let (store, client) = (self.store.clone(), self.client.clone());
            tokio::spawn(async move { publish_all(&client, &store).await });
        }
    }
}

#[cfg(debug_assertions)]
impl Backend {
    /// Debug builds only: panics inside a request, so tests can prove the server survives it.
    async fn debug_panic(&self) -> Result<()> {
        guarded("kube-lsp/debugPanic", || {
            panic!("requested by kube-lsp/debugPanic")
        })
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = negotiate_encoding(&params);
        let options = params.initialization_options.as_ref();
        let settings = Settings::from_json(options.unwrap_or(&Value::Null));
        if let Some(bytes) = settings.max_file_bytes {
            crate::files::set_max_bytes(bytes);
        }
        // Without options these are the defaults the cluster work has: nothing changes.
        self.cluster.configure(settings.cluster).await;
        self.kustomize.configure(settings.kustomize);
        self.references.cluster_changed();
        self.helm.configure(settings.helm);
        self.formatting.configure(settings.format);
        self.modeline.configure(settings.schema_download);
        self.store.set_encoding(encoding);
        self.language.configure(&params);
        self.schemas.set_roots(workspace_roots(&params));
        self.watch_files.store(
            can_watch_files(&params),
            std::sync::atomic::Ordering::Relaxed,
        );
        self.fold_limit.store(
            fold_limit(&params).unwrap_or(usize::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
        if let Some(rules) = settings.rules {
            *self.rule_settings.lock().unwrap_or_else(|p| p.into_inner()) = rules;
        }
        self.apply_rules();
        if let Some(associations) = settings.schema_associations {
            self.modeline.associate(associations);
        }
        let schema_paths = settings.schema_paths;
        let kustomize = self.kustomize.clone();
        self.update_schemas_then(
            move |schemas| {
                let configured = schema_paths.is_some_and(|paths| schemas.set_schema_paths(paths));
                schemas.scan_workspace() || configured
            },
            // The index knows the kustomizations now: patch files open meanwhile are patches.
            move || async move { kustomize.refresh_roles().await },
        );
        preload_builtin_schemas();
        tracing::info!(
            "initialize: client {:?}, position encoding {encoding:?}",
            params.client_info.map(|c| c.name)
        );
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(convert::encoding_kind(encoding)),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                document_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                completion_provider: Some(language::completion_options()),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                document_link_provider: Some(DocumentLinkOptions {
                    resolve_provider: Some(false),
                    work_done_progress_options: Default::default(),
                }),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_range_formatting_provider: Some(OneOf::Left(true)),
                document_on_type_formatting_provider: Some(format::on_type_options()),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: vec![
                        cluster::SHOW_DIFF.to_string(),
                        cluster::REFRESH_CLUSTER.to_string(),
                    ],
                    ..Default::default()
                }),
                ..Default::default()
            },
            server_info: Some(ServerInfo {
                name: "kube-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        self.shut_down
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    /// The document is split and gated at once; on a blocking thread its rope is built (then
    /// completion and hover answer) while it is checked and validated. Every other access to
    /// the document (an edit sent right after, diagnostics, close) waits for that
    /// (`Store::begin_open`).
    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let TextDocumentItem {
            uri, text, version, ..
        } = params.text_document;
        let text = self.handoff.text(text);
        let started = std::time::Instant::now();
        let bytes = text.len();
        // The decoded string goes along: the check reads the documents from it (no copies out
        // of the rope) and drops it when done.
        let pending = guarded("didOpen", || {
            self.store.begin_open(uri.clone(), text, version)
        });
        let Ok(mut pending) = pending else { return };
        pending.set_role(self.kustomize.role_for(&uri));
        let stored = started.elapsed();
        let opened =
            tokio::task::spawn_blocking(move || guarded("didOpen", || pending.finish())).await;
        if matches!(opened, Ok(Ok(()))) {
            let checked = started.elapsed();
            self.compute_layers(&uri);
            self.publish_after_open(uri.clone()).await;
            // The index holds the open's text already: the references need not wait for the
            // CRDs the text may define to be read (`update_schemas` checks them again after).
            self.references.recheck_all();
            self.kustomize.opened(&uri).await;
            self.kustomize.schedule_render(&uri);
            tracing::debug!(
                "didOpen {} ({bytes} bytes): text stored after {stored:.1?}, checked and validated after {checked:.1?}, published after {:.1?}",
                uri.as_str(),
                started.elapsed()
            );
            let changed = uri.clone();
            self.update_schemas(move |schemas| schemas.document_changed(&changed));
            self.helm.opened_or_saved(uri.clone());
            self.cluster.schedule(uri, Trigger::Open);
        } else {
            // An open that panicked after the document was stored: it must not wait for layers
            // that nothing computes.
            self.store.layers_computed(&uri);
        }
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        let changed = guarded("didChange", || {
            let changes: Vec<_> = params.content_changes.iter().map(convert::change).collect();
            self.store.change(&uri, version, &changes)
        });
        if changed.is_err() {
            guarded("recovery", || self.store.rebuild(&uri)).ok();
        }
        self.compute_layers(&uri);
        publish(&self.client, &self.store, uri.clone(), Gather::Validated).await;
        let changed_uri = uri.clone();
        self.update_schemas_after_edit(Some((uri.clone(), version)), move |schemas| {
            schemas.document_changed(&changed_uri)
        });
        self.helm.changed(uri.clone(), version);
        self.cluster.schedule(uri, Trigger::Change);
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.watch_files.load(std::sync::atomic::Ordering::Relaxed) {
            // Not awaited here: notifications are handled in order, and the client answers
            // when it likes.
            tokio::spawn(watch_yaml_files(self.client.clone()));
        }
    }

    /// Files changed on disk: the index reads them again, and the CRDs of closed workspace files.
    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths: Vec<std::path::PathBuf> = params
            .changes
            .iter()
            .filter_map(|change| workspace::file_path(&change.uri))
            .collect();
        let kube_linter_config = paths.iter().any(|path| {
            path.file_name()
                .is_some_and(|name| KUBE_LINTER_FILES.iter().any(|f| name == *f))
        });
        // An open file written to disk is the editor's save, which `did_save` handles (the
        // editor's text counts, not the disk's): Helm and kustomize leave it to that.
        let open: Vec<std::path::PathBuf> = self
            .store
            .uris()
            .iter()
            .filter_map(workspace::file_path)
            .collect();
        let changed: Vec<std::path::PathBuf> = paths
            .iter()
            .filter(|p| !open.contains(p))
            .cloned()
            .collect();
        let (helm, kustomize) = (self.helm.clone(), self.kustomize.clone());
        self.update_schemas_then(
            move |schemas| schemas.disk_changed(&paths),
            // The index holds the files on disk now: open files are given their chart again,
            // a patch named by a kustomization made or deleted on disk becomes or stops being
            // a patch, and the kustomizations concerned are rendered again.
            move || async move {
                helm.disk_changed(&changed).await;
                kustomize.disk_changed(&changed).await;
            },
        );
        if kube_linter_config {
            self.apply_rules();
        }
    }

    /// Workspace folders added or removed: the removed ones' files leave the index at once, the
    /// rules' configuration is read again (the first folder's `.kube-linter.yaml`), then the
    /// folders are read again and open files are given their chart and kustomize role again.
    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let removed = folder_paths(params.event.removed.iter());
        let added = folder_paths(params.event.added.iter());
        let mut roots = self.schemas.workspace().roots();
        roots.retain(|root| !removed.contains(root));
        for root in &added {
            if !roots.contains(root) {
                roots.push(root.clone());
            }
        }
        tracing::info!("workspace folders now: {roots:?}");
        guarded("workspace folders", || self.schemas.set_roots(roots)).ok();
        self.apply_rules();
        let changed: Vec<std::path::PathBuf> = removed.into_iter().chain(added).collect();
        let (helm, kustomize) = (self.helm.clone(), self.kustomize.clone());
        self.update_schemas_then(
            |schemas| schemas.rescan_workspace(),
            move || async move {
                helm.disk_changed(&changed).await;
                kustomize.refresh_roles().await;
            },
        );
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let uri = params.text_document.uri;
        self.helm.opened_or_saved(uri.clone());
        self.kustomize.refresh_roles().await;
        self.kustomize.schedule_render(&uri);
        self.cluster.schedule(uri, Trigger::Save);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let mut payload = params.settings;
        if Settings::must_be_pulled(&payload) {
            // Pull model: ask the client for the section.
            let item = ConfigurationItem {
                scope_uri: None,
                section: Some(settings::SECTION.to_string()),
            };
            match self.client.configuration(vec![item]).await {
                Ok(mut values) if !values.is_empty() => payload = values.remove(0),
                _ => return,
            }
        }
        let settings = Settings::from_json(&payload);
        if let Some(bytes) = settings.max_file_bytes {
            crate::files::set_max_bytes(bytes);
        }
        if let Some(rules) = settings.rules {
            *self.rule_settings.lock().unwrap_or_else(|p| p.into_inner()) = rules;
            self.apply_rules();
        }
        self.kustomize.configure(settings.kustomize);
        if let Some(paths) = settings.schema_paths {
            self.update_schemas(move |schemas| schemas.set_schema_paths(paths));
        }
        if let Some(associations) = settings.schema_associations
            && self.modeline.associate(associations)
        {
            // Open documents are checked against the schemas now associated with them.
            for uri in self.store.uris() {
                guarded("modeline", || self.modeline.check(&uri)).ok();
            }
            publish_all(&self.client, &self.store).await;
        }
        let before = self.cluster.settings();
        self.cluster.configure(settings.cluster).await;
        if self.cluster.settings() != before {
            self.references.cluster_changed();
        }
        self.helm.configure(settings.helm);
        self.formatting.configure(settings.format);
        self.modeline.configure(settings.schema_download);
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        match params.command.as_str() {
            cluster::SHOW_DIFF => self.cluster.show_diff(&params.arguments).await,
            cluster::REFRESH_CLUSTER => {
                self.cluster.refresh().await;
                self.references.cluster_changed();
                Ok(None)
            }
            other => Err(Error::invalid_params(format!("unknown command {other}"))),
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let state = self.store.close(&uri).map(|stamp| stamp.revision());
        self.cluster.forget(&uri);
        self.helm.forget(&uri);
        let closed = workspace::document_path(&uri);
        self.update_schemas(move |schemas| schemas.close_document(&closed, state));
        // Clear what the editor shows for a file that is no longer open, after any publication
        // of it already on its way.
        let _in_order = self.store.publication_order().await;
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let store = self.store.clone();
        let json = off_the_loop("documentSymbol", move |cancel| {
            let encoding = store.encoding();
            store
                .with_document(&params.text_document.uri, |document| {
                    let answer =
                        stopped_unless("documentSymbol", document.symbol_answer_unless(cancel))?;
                    let rope = document.text().rope();
                    Some(outline_json::symbols(&answer, rope, encoding))
                })
                .flatten()
        })
        .await?;
        Ok(json.map(|json| {
            self.results
                .hand_off(json, outline_json::symbols_placeholder)
        }))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let store = self.store.clone();
        let limit = self.fold_limit.load(std::sync::atomic::Ordering::Relaxed);
        off_the_loop("foldingRange", move |cancel| {
            store
                .with_document(&params.text_document.uri, |document| {
                    let folds =
                        stopped_unless("foldingRange", document.folds_unless(limit, cancel))?;
                    Some(outline_json::folds(&folds))
                })
                .flatten()
        })
        .await
        .map(|json| json.map(|json| self.results.hand_off(json, outline_json::folds_placeholder)))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        // Inside a Helm template action: `.Values`, `.Chart`, `include` names; else the schema's
        // completion with the references' names.
        let uri = &params.text_document_position.text_document.uri;
        guarded("completion", || {
            self.helm.completion(&params).or_else(|| {
                self.language
                    .completion(&self.store, &params, |snapshot, offset| {
                        self.references.completions(uri, snapshot, offset)
                    })
            })
        })
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let uri = &params.text_document_position_params.text_document.uri;
        guarded("hover", || {
            anchors::hover(&self.store, &params)
                .or_else(|| self.helm.hover(&params))
                .or_else(|| {
                    self.language.hover(&self.store, &params, |_, offset| {
                        self.references.hover(uri, offset)
                    })
                })
        })
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        guarded("prepareRename", || {
            anchors::prepare_rename(&self.store, &params)
                .or_else(|| self.references.prepare_rename(&params))
        })
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        guarded("rename", || {
            anchors::rename(&self.store, &params).unwrap_or_else(|| self.references.rename(&params))
        })?
        .map_err(Error::invalid_params)
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        guarded("codeLens", || self.references.code_lenses(&params))
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        // A kustomization's paths, and every document's web URLs.
        let uri = &params.text_document.uri;
        guarded("documentLink", || {
            let mut found = self.kustomize.links(uri).unwrap_or_default();
            found.extend(links::url_links(&self.store, uri));
            Some(found)
        })
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        // An alias's anchor; a `.Values` key or `include` name in a chart; a kustomization's
        // path entry; else a reference between objects.
        let position = &params.text_document_position_params;
        guarded("definition", || {
            anchors::definition(&self.store, &params)
                .or_else(|| self.helm.definition(&params))
                .or_else(|| {
                    self.kustomize
                        .definition(&position.text_document.uri, position.position)
                        .map(GotoDefinitionResponse::Scalar)
                })
                .or_else(|| self.references.definition(&params))
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        // An anchor's aliases; a values key's readers in a chart; else the objects that point
        // at the one under the cursor; else the kustomizations that include the file.
        let uri = &params.text_document_position.text_document.uri;
        guarded("references", || {
            if let Some(found) = anchors::references(&self.store, &params) {
                return Some(found);
            }
            if let Some(found) = self.helm.references(&params) {
                return Some(found);
            }
            let found = self.references.references(&params).unwrap_or_default();
            if found.is_empty() {
                return Some(self.kustomize.references(uri));
            }
            Some(found)
        })
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let store = self.store.clone();
        off_the_loop("codeAction", move |cancel| {
            let (uri, encoding) = (&params.text_document.uri, store.encoding());
            store
                .with_document(uri, |document| {
                    let rope = document.text().rope();
                    let range = convert::byte_range(rope, params.range, encoding);
                    let fixes =
                        stopped_unless("codeAction", document.quick_fixes_unless(range, cancel))?;
                    Some(
                        fixes
                            .iter()
                            .map(|fix| convert::quick_fix(uri, rope, fix, encoding))
                            .collect(),
                    )
                })
                .flatten()
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.format(params.text_document.uri, format::Request::Document)
            .await
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        let request = format::Request::Range(params.range);
        self.format(params.text_document.uri, request).await
    }

    async fn on_type_formatting(
        &self,
        params: DocumentOnTypeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        let at = params.text_document_position;
        let request = format::Request::NewLine(at.position);
        self.format(at.text_document.uri, request).await
    }
}

impl Backend {
    /// Formatting runs off the loop: a big file takes tens of milliseconds.
    async fn format(&self, uri: Uri, request: format::Request) -> Result<Option<Vec<TextEdit>>> {
        let (store, formatting) = (self.store.clone(), self.formatting.clone());
        off_the_loop("formatting", move |_| {
            formatting.edits(&store, &uri, request)
        })
        .await
    }
}
