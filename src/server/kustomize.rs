//! Kustomize in the server: the role a file is opened with (a kustomization, a patch), the
//! quick checks of a kustomization or patch after each change (paths, deprecations, patches),
//! navigation (document links, definition, references, path completion), and rendering in the
//! background on open and save, whose findings go to the files that produced them (open ones
//! through their document, others published as they are on disk).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use ropey::Rope;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::convert;
use super::publish::{Gather, publish, publish_file};
use super::settings::KustomizeOptions;
use super::store::Store;
use super::workspace::{SchemaSources, document_path};
use crate::diagnostic::Diagnostic;
use crate::features::document::Layer;
use crate::features::kustomize::{self, Context, navigation};
use crate::render::kustomize::{RenderError, Rendered, Settings as RenderSettings, Tool, render};
use crate::schema::validate::Role;
use crate::workspace::kustomize::{Disk, Files, is_kustomization};

/// Findings by the file they are on.
type ByFile = HashMap<PathBuf, Vec<Diagnostic>>;

/// At most this many kustomizations are rendered for one save.
const MAX_RENDERS: usize = 8;

pub struct KustomizeWork {
    client: Client,
    store: Arc<Store>,
    /// For the dry-run and diff of rendered kustomizations when a cluster is configured.
    cluster: Arc<super::cluster::ClusterWork>,
    schemas: Arc<SchemaSources>,
    options: Mutex<KustomizeOptions>,
    /// The "no kustomize found" message was shown.
    told_missing: AtomicBool,
    /// The findings of each rendered kustomization, by the file they are on.
    findings: Mutex<HashMap<PathBuf, HashMap<PathBuf, Vec<Diagnostic>>>>,
    /// Files not open that were sent rendered findings (to clear them later).
    published_closed: Mutex<HashSet<PathBuf>>,
    /// Renders running, by kustomization (a newer one replaces it).
    running: Mutex<HashMap<PathBuf, tokio::task::AbortHandle>>,
}

impl KustomizeWork {
    pub fn new(
        client: Client,
        store: Arc<Store>,
        schemas: Arc<SchemaSources>,
        cluster: Arc<super::cluster::ClusterWork>,
    ) -> Arc<Self> {
        Arc::new(KustomizeWork {
            client,
            store,
            cluster,
            schemas,
            options: Mutex::new(KustomizeOptions::default()),
            told_missing: AtomicBool::new(false),
            findings: Mutex::default(),
            published_closed: Mutex::default(),
            running: Mutex::default(),
        })
    }

    /// New options; another kustomize is said again if it is missing too.
    pub fn configure(&self, options: KustomizeOptions) {
        let mut current = self.options.lock().unwrap_or_else(|p| p.into_inner());
        if current.path != options.path {
            self.told_missing.store(false, Ordering::Relaxed);
        }
        *current = options;
    }

    /// How the document at `uri` is read.
    pub fn role_for(&self, uri: &Uri) -> Role {
        let path = document_path(uri);
        let index = self.schemas.workspace().read();
        match kustomize::role_of(&path, &index) {
            // The scan may not have reached the kustomization yet: look around the file.
            Role::Manifest if index.is_partial() => kustomize::role_near(&path, &Disk),
            role => role,
        }
    }

    /// After the index changed (a scan, a kustomization edited): every open document whose role
    /// changed is validated again and published.
    pub async fn refresh_roles(&self) {
        for uri in self.store.uris() {
            let role = self.role_for(&uri);
            let changed = self
                .store
                .with_document(&uri, |document| document.set_role(role))
                .unwrap_or(false);
            if changed {
                publish(
                    &self.client,
                    &self.store,
                    uri,
                    Gather::ValidatedInBackground,
                )
                .await;
            }
        }
    }

    /// `f` with what kustomize's checks read: the disk, the workspace folders, the catalog.
    fn in_context<R>(&self, f: impl FnOnce(&Context<'_>) -> R) -> R {
        let roots = self.schemas.workspace().roots();
        let catalog = self.store.catalog();
        f(&Context {
            files: &Disk,
            roots: &roots,
            catalog: &catalog,
        })
    }

    /// kustomize's checks of the document at `uri` (a kustomization or a patch file), kept in its
    /// kustomize layer; `false` when it is neither.
    pub fn check(&self, uri: &Uri) -> bool {
        let path = document_path(uri);
        let Some((snapshot, stamp)) = self.store.stamped_snapshot(uri) else {
            return false;
        };
        let index = self.schemas.workspace().read();
        if !is_kustomization(&path) && kustomize::naming_as_patch(&path, &index).is_empty() {
            return false;
        }
        let text = snapshot.rope.to_string();
        let found = self.in_context(|context| kustomize::check_file(&path, &text, &index, context));
        drop(index);
        self.store.set_layer(uri, stamp, Layer::Kustomize, found)
    }

    /// Document links of a kustomization.
    pub fn links(&self, uri: &Uri) -> Option<Vec<lsp::DocumentLink>> {
        let path = document_path(uri);
        if !is_kustomization(&path) {
            return None;
        }
        let snapshot = self.store.text_snapshot(uri)?;
        let text = snapshot.rope.to_string();
        let encoding = self.store.encoding();
        let links = navigation::links(&path, &text, &Disk)
            .into_iter()
            .filter_map(|link| {
                Some(lsp::DocumentLink {
                    range: convert::range(&snapshot.rope, link.range, encoding),
                    target: Some(Uri::from_file_path(&link.target)?),
                    tooltip: Some(link.target.display().to_string()),
                    data: None,
                })
            })
            .collect();
        Some(links)
    }

    /// The file a kustomization's path at `position` names.
    pub fn definition(&self, uri: &Uri, position: lsp::Position) -> Option<lsp::Location> {
        let path = document_path(uri);
        if !is_kustomization(&path) {
            return None;
        }
        let snapshot = self.store.text_snapshot(uri)?;
        let offset = convert::offset(&snapshot.rope, position, self.store.encoding());
        let text = snapshot.rope.to_string();
        let link = navigation::definition(&path, &text, offset, &Disk)?;
        Some(lsp::Location {
            uri: Uri::from_file_path(&link.target)?,
            range: lsp::Range::default(),
        })
    }

    /// The kustomization entries that include the document at `uri` (directly or through bases).
    pub fn references(&self, uri: &Uri) -> Vec<lsp::Location> {
        let path = document_path(uri);
        let found = navigation::references(&path, &self.schemas.workspace().read(), &Disk);
        let encoding = self.store.encoding();
        found
            .into_iter()
            .filter_map(|(file, range)| {
                let target = Uri::from_file_path(&file)?;
                let rope = match self.store.text_snapshot(&target) {
                    Some(snapshot) => snapshot.rope,
                    None => Rope::from_str(&Disk.read(&file)?),
                };
                Some(lsp::Location {
                    range: convert::range(&rope, range, encoding),
                    uri: target,
                })
            })
            .collect()
    }

    /// Renders, in the background, the kustomizations `uri` concerns: itself when it is one, and
    /// the kustomizations that include it (up to the overlays), once the workspace scan is done
    /// (roles and includes come from the index).
    pub fn schedule_render(self: &Arc<Self>, uri: &Uri) {
        self.schedule_renders(vec![document_path(uri)]);
    }

    /// Files changed on disk (none open: the editor's save is `did_save`'s), once the index has
    /// read them: open documents' roles are read again, the kustomizations they concern are
    /// rendered again, and a kustomization deleted takes its findings with it.
    pub async fn disk_changed(self: &Arc<Self>, paths: &[PathBuf]) {
        self.refresh_roles().await;
        let mut changed = Vec::new();
        for path in paths {
            if is_kustomization(path) && !path.exists() {
                self.install(path.clone(), Some(ByFile::new())).await;
            } else {
                changed.push(path.clone());
            }
        }
        self.schedule_renders(changed);
    }

    /// [`schedule_render`](Self::schedule_render) of several files at once: each kustomization
    /// they concern is rendered once, at most [`MAX_RENDERS`] of them.
    fn schedule_renders(self: &Arc<Self>, paths: Vec<PathBuf>) {
        let options = self
            .options
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if !options.render || paths.is_empty() {
            return;
        }
        let work = self.clone();
        tokio::spawn(async move {
            work.scanned().await;
            let mut targets: Vec<PathBuf> = Vec::new();
            let index = work.schemas.workspace().read();
            for path in &paths {
                let including = navigation::references(path, &index, &Disk);
                let itself = is_kustomization(path).then(|| path.clone());
                for file in itself
                    .into_iter()
                    .chain(including.into_iter().map(|(f, _)| f))
                {
                    if !targets.contains(&file) {
                        targets.push(file);
                    }
                }
            }
            drop(index);
            for kustomization in targets.into_iter().take(MAX_RENDERS) {
                work.spawn_render(kustomization, &options);
            }
        });
    }

    /// Waits (at most 30 s) until the workspace scan is done.
    async fn scanned(&self) {
        use crate::workspace::index::ScanStatus;
        for _ in 0..600 {
            let workspace = self.schemas.workspace();
            let scanning = !workspace.roots().is_empty()
                && matches!(
                    workspace.read().status(),
                    ScanStatus::NotStarted | ScanStatus::Running
                );
            if !scanning {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    fn spawn_render(self: &Arc<Self>, kustomization: PathBuf, options: &KustomizeOptions) {
        let settings = RenderSettings {
            tool: Tool::from_setting(options.path.as_deref()),
            timeout: options.timeout,
            ..RenderSettings::default()
        };
        let work = self.clone();
        let key = kustomization.clone();
        let task = tokio::spawn(async move {
            let done = kustomization.clone();
            let worker = work.clone();
            let found =
                tokio::task::spawn_blocking(move || worker.render_one(&done, &settings)).await;
            let Ok(Some((mut found, output))) = found else {
                return;
            };
            // The render's own findings at once; the cluster's (one request per object) after.
            work.install(kustomization.clone(), Some(found.clone()))
                .await;
            let Some(output) = output else { return };
            let from_cluster = work.dry_run(&kustomization, output).await;
            if from_cluster.is_empty() {
                return;
            }
            for (file, diagnostics) in from_cluster {
                found.entry(file).or_default().extend(diagnostics);
            }
            work.install(kustomization, Some(found)).await;
        });
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(previous) = running.insert(key, task.abort_handle()) {
            previous.abort();
        }
    }

    /// The cluster's dry-run (and diff) of a render's output, mapped back to the files that
    /// produced it, when a cluster is configured and answers.
    async fn dry_run(&self, kustomization: &Path, output: Rendered) -> ByFile {
        let texts = [output.output];
        let Some(found) = self.cluster.check_rendered(&texts).await else {
            return ByFile::new();
        };
        let [output_text] = texts;
        let kustomization = kustomization.to_path_buf();
        let mapped = tokio::task::spawn_blocking(move || {
            let found = found.into_iter().flatten().collect::<Vec<_>>();
            kustomize::rendered::cluster_findings(
                &kustomization,
                &output.base,
                &output_text,
                &found,
                &Disk,
            )
        })
        .await
        .unwrap_or_default();
        let mut by_file = ByFile::new();
        for finding in mapped {
            by_file
                .entry(finding.path)
                .or_default()
                .push(finding.diagnostic);
        }
        by_file
    }

    /// Renders one kustomization (blocking) and maps its findings: by file, and the output
    /// (for the cluster's checks) when the render succeeded.
    fn render_one(
        &self,
        kustomization: &Path,
        settings: &RenderSettings,
    ) -> Option<(ByFile, Option<Rendered>)> {
        let text = Disk.read(kustomization)?;
        let folder = kustomization.parent()?;
        if kustomize::is_component(&text) {
            return None;
        }
        let started = std::time::Instant::now();
        let mut by_file = ByFile::new();
        let mut rendered = None;
        match render(folder, settings) {
            Ok(output) => {
                let catalog = self.store.catalog();
                let index = self.schemas.workspace().read();
                let findings = kustomize::render_findings(
                    kustomization,
                    &output.base,
                    &output.output,
                    &catalog,
                    &index,
                    &Disk,
                );
                for finding in findings {
                    by_file
                        .entry(finding.path)
                        .or_default()
                        .push(finding.diagnostic);
                }
                tracing::debug!(
                    "kustomize: {} rendered in {:.1?} (kustomize {:.1?}), {} files with findings",
                    kustomization.display(),
                    started.elapsed(),
                    output.elapsed,
                    by_file.len()
                );
                rendered = Some(output);
            }
            Err(error) if error.is_not_found() => {
                self.tell_missing(&error);
                return None;
            }
            Err(error) => {
                let message = error.to_string();
                let failure = self.in_context(|context| {
                    kustomize::render_failure(kustomization, &text, &message, context)
                });
                if let Some(failure) = failure {
                    by_file
                        .entry(kustomization.to_path_buf())
                        .or_default()
                        .push(failure);
                }
            }
        }
        Some((by_file, rendered))
    }

    fn tell_missing(&self, error: &RenderError) {
        if self.told_missing.swap(true, Ordering::Relaxed) {
            return;
        }
        let client = self.client.clone();
        let message = format!(
            "kube-lsp: kustomizations are not rendered: {error}. Install kubectl (it bundles kustomize) or set kube-lsp.kustomize.path."
        );
        tokio::spawn(async move {
            client
                .show_message(lsp::MessageType::WARNING, message)
                .await;
        });
    }

    /// Keeps a render's findings and sends every file they touch (and those they no longer
    /// touch) its rendered findings from every render.
    async fn install(
        &self,
        kustomization: PathBuf,
        found: Option<HashMap<PathBuf, Vec<Diagnostic>>>,
    ) {
        let Some(found) = found else { return };
        let touched: HashSet<PathBuf> = {
            let mut all = self.findings.lock().unwrap_or_else(|p| p.into_inner());
            let before = all.insert(kustomization, found).unwrap_or_default();
            let now = all.values().flat_map(|by_file| by_file.keys());
            before.into_keys().chain(now.cloned()).collect()
        };
        for file in touched {
            self.send(&file).await;
        }
    }

    /// The rendered findings of every render for `file`, to its open document or as published.
    async fn send(&self, file: &Path) {
        let diagnostics: Vec<Diagnostic> = {
            let all = self.findings.lock().unwrap_or_else(|p| p.into_inner());
            let mut merged: Vec<Diagnostic> = Vec::new();
            for d in all
                .values()
                .filter_map(|by_file| by_file.get(file))
                .flatten()
            {
                if !merged.contains(d) {
                    merged.push(d.clone());
                }
            }
            merged
        };
        let Some(uri) = Uri::from_file_path(file) else {
            return;
        };
        if self.store.version(&uri).is_some() {
            self.store.with_document(&uri, |document| {
                document.set_layer(Layer::Rendered, diagnostics)
            });
            // Validated: right after an edit, what is known holds schema findings the edit
            // moved but did not check again.
            publish(&self.client, &self.store, uri, Gather::Validated).await;
            return;
        }
        let Some(text) = Disk.read(file) else { return };
        let rope = Rope::from_str(&text);
        let mut published = self
            .published_closed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if diagnostics.is_empty() && !published.remove(file) {
            return;
        }
        if !diagnostics.is_empty() {
            published.insert(file.to_path_buf());
        }
        *self
            .published_closed
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = published;
        let converted = convert::diagnostics(&rope, &diagnostics, self.store.encoding());
        publish_file(&self.client, uri, converted).await;
    }

    /// A document was opened: its rendered findings so far (they were computed on its disk text).
    pub async fn opened(&self, uri: &Uri) {
        let path = document_path(uri);
        let has = self
            .findings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|by_file| by_file.contains_key(&path));
        self.published_closed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&path);
        if has {
            self.send(&path).await;
        }
    }
}
