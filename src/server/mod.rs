//! LSP glue on tower-lsp-server: capabilities, the store of open documents (concurrency and
//! gating around the features' `OpenDocument`), scheduling, one `publish`, and conversion between
//! the features' byte ranges and the client's positions (`convert`).
//!
//! Ordering: tower-lsp-server may run handlers concurrently, but it starts them in arrival order,
//! and every mutation here happens synchronously at the start of its handler (no `.await` before
//! the store is updated), so `didChange` N is applied before N+1.
//! Robustness: every computation runs under `catch_unwind`; a panic becomes a logged error (and,
//! for requests, an internal error response) and the document is rebuilt from its text.

mod cluster;
mod convert;
mod framing;
mod handoff;
mod helm;
mod language;
mod publish;
mod settings;
mod store;
pub mod workspace;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::text::PositionEncoding;
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
}

/// Runs the server on stdin/stdout until the client says exit.
pub async fn run_stdio() {
    let handoff = Arc::new(TextHandoff::default());
    let texts = handoff.clone();
    let builder = LspService::build(move |client| {
        let store = Arc::new(Store::default());
        let schemas = SchemaSources::new(store.clone());
        let cluster = ClusterWork::new(client.clone(), store.clone(), schemas.clone());
        Backend {
            helm: helm::HelmWork::new(
                client.clone(),
                store.clone(),
                schemas.clone(),
                cluster.clone(),
            ),
            cluster,
            schemas,
            client,
            store,
            language: language::Language::default(),
            watch_files: Default::default(),
            fold_limit: usize::MAX.into(),
            handoff: texts,
        }
    });
    #[cfg(debug_assertions)]
    let builder = builder.custom_method("kube-lsp/debugPanic", Backend::debug_panic);
    let (service, socket) = builder.finish();
    Server::new(
        framing::spawn_stdin_reader(handoff),
        tokio::io::stdout(),
        socket,
    )
    .serve(service)
    .await;
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

/// The workspace folders as paths (`workspaceFolders`, else the deprecated `rootUri`).
fn workspace_roots(params: &InitializeParams) -> Vec<std::path::PathBuf> {
    let folders = params.workspace_folders.iter().flatten().map(|f| &f.uri);
    #[allow(deprecated)]
    let root = params.root_uri.iter();
    let mut roots: Vec<std::path::PathBuf> = folders
        .filter_map(|uri| uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    if roots.is_empty() {
        roots.extend(root.filter_map(|uri| uri.to_file_path().map(|p| p.into_owned())));
    }
    roots
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

    /// Like `update_schemas`, but after an edit: waits for typing to pause, and does nothing if
    /// the document changed again meanwhile (that change schedules its own update). Each
    /// keystroke in a CRD would otherwise re-read it and re-validate every open document.
    fn update_schemas_after_edit(
        &self,
        edited: Option<(Uri, i32)>,
        update: impl FnOnce(&SchemaSources) -> bool + Send + 'static,
    ) {
        let (schemas, store, client) = (
            self.schemas.clone(),
            self.store.clone(),
            self.client.clone(),
        );
        tokio::spawn(async move {
            if let Some((uri, version)) = edited {
                tokio::time::sleep(SCHEMA_EDIT_PAUSE).await;
                if store.version(&uri) != Some(version) {
                    return;
                }
            }
            let changed = tokio::task::spawn_blocking(move || {
                guarded("schema sources", || update(&schemas)).unwrap_or(false)
            })
            .await;
            if !matches!(changed, Ok(true)) {
                return;
            }
            publish_all(&client, &store).await;
        });
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
        // Without options these are the defaults the cluster work has: nothing changes.
        self.cluster.configure(settings.cluster).await;
        self.helm.configure(settings.helm);
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
        let schema_paths = settings.schema_paths;
        self.update_schemas(move |schemas| {
            let configured = schema_paths.is_some_and(|paths| schemas.set_schema_paths(paths));
            schemas.scan_workspace() || configured
        });
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
        let Ok(pending) = pending else { return };
        let stored = started.elapsed();
        let opened =
            tokio::task::spawn_blocking(move || guarded("didOpen", || pending.finish())).await;
        if matches!(opened, Ok(Ok(()))) {
            let checked = started.elapsed();
            self.publish_after_open(uri.clone()).await;
            tracing::debug!(
                "didOpen {} ({bytes} bytes): text stored after {stored:.1?}, checked and validated after {checked:.1?}, published after {:.1?}",
                uri.as_str(),
                started.elapsed()
            );
            let changed = uri.clone();
            self.update_schemas(move |schemas| schemas.document_changed(&changed));
            self.helm.opened_or_saved(uri.clone());
            self.cluster.schedule(uri, Trigger::Open);
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
        self.update_schemas(move |schemas| schemas.disk_changed(&paths));
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        self.helm.opened_or_saved(params.text_document.uri.clone());
        self.cluster
            .schedule(params.text_document.uri, Trigger::Save);
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
        if let Some(paths) = settings.schema_paths {
            self.update_schemas(move |schemas| schemas.set_schema_paths(paths));
        }
        self.cluster.configure(settings.cluster).await;
        self.helm.configure(settings.helm);
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<Value>> {
        match params.command.as_str() {
            cluster::SHOW_DIFF => self.cluster.show_diff(&params.arguments).await,
            cluster::REFRESH_CLUSTER => {
                self.cluster.refresh().await;
                Ok(None)
            }
            other => Err(Error::invalid_params(format!("unknown command {other}"))),
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        self.store.close(&uri);
        self.cluster.forget(&uri);
        self.helm.forget(&uri);
        let closed = workspace::document_path(&uri);
        self.update_schemas(move |schemas| schemas.close_document(&closed));
        // Clear what the editor shows for a file that is no longer open.
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let symbols = guarded("documentSymbol", || {
            let encoding = self.store.encoding();
            self.store
                .with_document(&params.text_document.uri, |document| {
                    let symbols = document.symbols();
                    let rope = document.text().rope();
                    symbols
                        .iter()
                        .map(|s| convert::symbol(rope, s, encoding))
                        .collect()
                })
        })?;
        Ok(symbols.map(DocumentSymbolResponse::Nested))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        guarded("foldingRange", || {
            let limit = self.fold_limit.load(std::sync::atomic::Ordering::Relaxed);
            self.store
                .with_document(&params.text_document.uri, |document| {
                    document
                        .folds(limit)
                        .into_iter()
                        .map(convert::fold)
                        .collect()
                })
        })
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        guarded("completion", || {
            self.helm
                .completion(&params)
                .or_else(|| self.language.completion(&self.store, &params))
        })
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        guarded("hover", || {
            self.helm
                .hover(&params)
                .or_else(|| self.language.hover(&self.store, &params))
        })
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        guarded("definition", || self.helm.definition(&params))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        guarded("references", || self.helm.references(&params))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        guarded("codeAction", || {
            let (uri, encoding) = (&params.text_document.uri, self.store.encoding());
            self.store.with_document(uri, |document| {
                let rope = document.text().rope();
                let fixes = document.quick_fixes(convert::byte_range(rope, params.range, encoding));
                fixes
                    .iter()
                    .map(|fix| convert::quick_fix(uri, rope, fix, encoding))
                    .collect()
            })
        })
    }
}
