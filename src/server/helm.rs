//! The server's Helm work: which chart an open file belongs to and what it is there (template,
//! helper, values), the chart handed to the open document (for its `.Values` warnings and
//! values schema), completion/hover/definition/references inside templates, and the chart
//! rendered with the real `helm template` on open and save (debounced, in the background), its
//! findings mapped back onto the open files. A missing `helm` is said once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::task::JoinHandle;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, MessageType, Uri};

use super::convert;
use super::publish::{Gather, publish};
use super::settings::HelmSettings;
use super::store::Store;
use super::workspace::{SchemaSources, file_path};
use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::features::helm::rendered::{
    FileFinding, check_rendered, failure_findings, map_back, nth,
};
use crate::features::helm::template::ChartRole;
use crate::features::helm::values;
use crate::render::helm::{HelmOptions, RenderError, RenderedDocument, render};
use crate::render::process::RunError;
use crate::workspace::chart::{ChartModel, is_helper, is_values_file, resolve_all};
use crate::yaml::template::Template;

/// How long after the last trigger a chart is rendered: files saved or opened together (an
/// editor restoring its tabs) render once; short, as it adds to every rendered diagnostic.
const RENDER_PAUSE: Duration = Duration::from_millis(20);
/// How long typing must pause before a chart file's new text counts for the chart.
const EDIT_PAUSE: Duration = Duration::from_millis(300);

pub struct HelmWork {
    client: Client,
    /// For the dry-run and diff of rendered charts when a cluster is configured.
    cluster: Arc<super::cluster::ClusterWork>,
    store: Arc<Store>,
    schemas: Arc<SchemaSources>,
    settings: Mutex<HelmSettings>,
    /// Each open chart file: its chart and role.
    open: Mutex<HashMap<Uri, (Arc<ChartModel>, ChartRole)>>,
    /// The render in progress or waiting, per chart folder.
    renders: Mutex<HashMap<PathBuf, JoinHandle<()>>>,
    /// What the last render of each chart found, per file.
    findings: Mutex<HashMap<PathBuf, HashMap<PathBuf, Vec<Diagnostic>>>>,
    /// One refresh at a time: a refresh that read the chart before a change on disk must not
    /// hand a file its old chart after a later refresh gave it the new one.
    refreshing: tokio::sync::Mutex<()>,
    told_missing: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `path` is to the chart at `root`.
fn role_of(path: &Path, root: &Path, template: bool) -> ChartRole {
    let yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if template && is_helper(path) {
        ChartRole::Helper
    } else if template && yaml {
        ChartRole::Template
    } else if path.parent() == Some(root) && is_values_file(path) {
        ChartRole::Values
    } else if path.parent() == Some(root) {
        ChartRole::ChartFile
    } else {
        ChartRole::None
    }
}

impl HelmWork {
    pub fn new(
        client: Client,
        store: Arc<Store>,
        schemas: Arc<SchemaSources>,
        cluster: Arc<super::cluster::ClusterWork>,
    ) -> Arc<HelmWork> {
        Arc::new(HelmWork {
            client,
            cluster,
            store,
            schemas,
            settings: Mutex::new(HelmSettings::default()),
            open: Mutex::new(HashMap::new()),
            renders: Mutex::new(HashMap::new()),
            findings: Mutex::new(HashMap::new()),
            refreshing: tokio::sync::Mutex::new(()),
            told_missing: AtomicBool::new(false),
        })
    }

    /// New settings: with other extra values files, every chart is read again and its open
    /// files see the values the render reads.
    pub fn configure(self: &Arc<Self>, settings: HelmSettings) {
        let mut current = lock(&self.settings);
        if *current == settings {
            return;
        }
        tracing::info!("helm settings: {settings:?}");
        self.told_missing.store(false, Ordering::Relaxed);
        let values_files = settings.values_files.clone();
        *current = settings;
        drop(current);
        let charts = &self.schemas.workspace().charts;
        if charts.set_extra_values(&values_files) {
            let mut roots = std::collections::HashSet::new();
            let open: Vec<Uri> = lock(&self.open)
                .iter()
                .filter(|(_, (chart, _))| roots.insert(chart.root.clone()))
                .map(|(uri, _)| uri.clone())
                .collect();
            for uri in open {
                let work = self.clone();
                tokio::spawn(async move {
                    work.refresh(uri, None, false).await;
                });
            }
        }
    }

    /// A file was opened (`render`: and the chart is rendered) or saved.
    pub fn opened_or_saved(self: &Arc<Self>, uri: Uri) {
        let work = self.clone();
        tokio::spawn(async move {
            work.refresh(uri, None, true).await;
        });
    }

    /// A file was edited: once typing pauses, its text counts for its chart, and the chart's
    /// open files see the new chart (a values key added or removed).
    pub fn changed(self: &Arc<Self>, uri: Uri, version: i32) {
        let work = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(EDIT_PAUSE).await;
            if work.store.version(&uri) == Some(version) {
                work.refresh(uri, Some(version), false).await;
            }
        });
    }

    /// Files or folders changed on disk (or workspace folders added or removed), once the
    /// workspace has read them: the open files they concern are given their chart again. A
    /// `Chart.yaml` made or deleted makes or unmakes the chart of every open file below it, so
    /// does a folder holding them; a chart's files changed outside the editor change what its
    /// open files see (and its render).
    /// `paths` holds no open file (its save is `did_save`'s: the chart would render twice).
    pub async fn disk_changed(self: &Arc<Self>, paths: &[PathBuf]) {
        let concerned: Vec<Uri> = self
            .store
            .uris()
            .into_iter()
            .filter(|uri| {
                let Some(path) = file_path(uri) else {
                    return false;
                };
                let root = lock(&self.open)
                    .get(uri)
                    .map(|(chart, _)| chart.root.clone());
                paths.iter().any(|changed| {
                    root.as_ref().is_some_and(|root| changed.starts_with(root))
                        || path.starts_with(changed)
                        || (changed.file_name().is_some_and(|name| name == "Chart.yaml")
                            && changed
                                .parent()
                                .is_some_and(|folder| path.starts_with(folder)))
                })
            })
            .collect();
        let mut refreshed = std::collections::HashSet::new();
        for uri in concerned {
            if !refreshed.contains(&uri) {
                refreshed.extend(self.refresh(uri, None, true).await);
            }
        }
    }

    pub fn forget(&self, uri: &Uri) {
        lock(&self.open).remove(uri);
    }

    /// Classifies the file, re-reads its chart, hands the chart to every open file of it and
    /// publishes them; renders the chart when asked. A file no longer in a chart loses it.
    /// Returns the open files that were given their chart again.
    async fn refresh(self: &Arc<Self>, uri: Uri, edited: Option<i32>, render: bool) -> Vec<Uri> {
        let _one_at_a_time = self.refreshing.lock().await;
        let Some(path) = file_path(&uri) else {
            return Vec::new();
        };
        let workspace = self.schemas.workspace().clone();
        let text = edited.and_then(|_| self.store.text_snapshot(&uri));
        let open_charts: Vec<PathBuf> = lock(&self.open)
            .values()
            .map(|(chart, _)| chart.root.clone())
            .collect();
        let found = tokio::task::spawn_blocking(move || {
            let (root, template) = workspace.chart_of(&path)?;
            if let Some(snapshot) = text {
                workspace
                    .charts
                    .changed(&path, Some(Some(&snapshot.rope.to_string())));
            }
            // The chart, and its open subcharts (their values may come from here).
            let mut models: HashMap<PathBuf, Arc<ChartModel>> = open_charts
                .into_iter()
                .filter(|other| other.starts_with(&root))
                .map(|other| (other.clone(), workspace.charts.get(&other)))
                .collect();
            let model = workspace.charts.get(&root);
            models.insert(root.clone(), model.clone());
            Some((path, root, template, model, models))
        })
        .await
        .ok()
        .flatten();
        let Some((path, root, template, model, models)) = found else {
            self.leave_chart(&uri).await;
            return vec![uri];
        };
        let role = role_of(&path, &root, template);
        lock(&self.open).insert(uri.clone(), (model.clone(), role));
        // Every open file of the chart or of a subchart of it, with the chart read again.
        let members: Vec<(Uri, ChartRole, Arc<ChartModel>)> = {
            let mut open = lock(&self.open);
            let mut members = Vec::new();
            for (other, (chart, other_role)) in open.iter_mut() {
                if let Some(fresh) = models.get(&chart.root) {
                    *chart = fresh.clone();
                    members.push((other.clone(), *other_role, chart.clone()));
                }
            }
            members
        };
        let refreshed = members
            .iter()
            .map(|(member, _, _)| member.clone())
            .collect();
        for (member, role, chart) in members {
            let rendered = self.rendered_for(&chart.root, &member);
            self.store.with_document(&member, |document| {
                document.set_chart(role, Some(chart.clone()));
                if let Some(rendered) = rendered {
                    document.set_rendered(rendered);
                }
            });
            publish(
                &self.client,
                &self.store,
                member,
                Gather::ValidatedInBackground,
            )
            .await;
        }
        if render && (role != ChartRole::None || path.ends_with("Chart.yaml")) {
            self.schedule_render(root, uri);
        }
        refreshed
    }

    /// An open file whose folder no longer holds a chart (its `Chart.yaml` deleted): it is no
    /// longer a chart's file, and the chart's render findings go.
    async fn leave_chart(&self, uri: &Uri) {
        let Some((chart, _)) = lock(&self.open).remove(uri) else {
            return;
        };
        lock(&self.findings).remove(&chart.root);
        self.store.with_document(uri, |document| {
            document.set_chart(ChartRole::None, None);
            document.set_rendered(Vec::new());
        });
        publish(
            &self.client,
            &self.store,
            uri.clone(),
            Gather::ValidatedInBackground,
        )
        .await;
    }

    /// What the last render of the chart at `root` found in the open file `uri`.
    fn rendered_for(&self, root: &Path, uri: &Uri) -> Option<Vec<Diagnostic>> {
        let path = file_path(uri)?;
        let findings = lock(&self.findings);
        let chart = findings.get(root)?;
        Some(chart.get(&path).cloned().unwrap_or_default())
    }

    /// Renders the chart at `root` after a short pause (restarted by a newer trigger).
    fn schedule_render(self: &Arc<Self>, root: PathBuf, trigger: Uri) {
        let settings = lock(&self.settings).clone();
        if !settings.render {
            return;
        }
        let work = self.clone();
        let key = root.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(RENDER_PAUSE).await;
            work.render_now(root, trigger, settings).await;
        });
        if let Some(previous) = lock(&self.renders).insert(key, task) {
            previous.abort();
        }
    }

    async fn render_now(self: &Arc<Self>, root: PathBuf, trigger: Uri, settings: HelmSettings) {
        let options = HelmOptions {
            program: settings.path.clone(),
            values_files: resolve_all(&root, &settings.values_files),
            timeout: settings.timeout,
            ..HelmOptions::default()
        };
        let workspace = self.schemas.workspace().clone();
        let catalog = self.store.catalog();
        let chart_root = root.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            // Read with the settings' extra values files: a rendered value is traced to the
            // file that set it.
            let model = workspace.charts.get(&chart_root);
            let started = std::time::Instant::now();
            let result = render(&chart_root, &options);
            let findings = match &result {
                Ok(rendered) => Ok(check_rendered(&model, &rendered.documents, &catalog)),
                Err(RenderError::Failed(failure)) => Ok(failure_findings(&model, failure)),
                Err(RenderError::Tool(error)) => Err(error.to_string()),
            };
            let missing = matches!(result, Err(RenderError::Tool(RunError::NotFound(_))));
            tracing::debug!(
                "helm template {}: {:.1?} (render and checks)",
                chart_root.display(),
                started.elapsed()
            );
            (findings, missing, result.ok().map(|r| r.documents), model)
        })
        .await;
        let Ok((findings, missing, documents, model)) = outcome else {
            return;
        };
        let mut findings = findings;
        if let (Ok(found), Some(documents)) = (&mut findings, documents) {
            found.extend(self.dry_run(&model, &documents).await);
        }
        let findings = match findings {
            Ok(findings) => findings,
            Err(_) if missing => {
                if !self.told_missing.swap(true, Ordering::Relaxed) {
                    let message = format!(
                        "kube-lsp: `{}` was not found, so Helm charts are not rendered (templates are still checked). Install Helm v4 or set kube-lsp.helm.path.",
                        settings.path.display()
                    );
                    tracing::warn!("{message}");
                    self.client
                        .show_message(MessageType::WARNING, message)
                        .await;
                }
                return;
            }
            // Helm ran too long or printed too much: one diagnostic on the file that asked.
            Err(error) => match file_path(&trigger) {
                Some(path) => vec![FileFinding {
                    path,
                    diagnostic: Diagnostic {
                        range: 0..0,
                        severity: Severity::Error,
                        code: codes::HELM_RENDER,
                        message: format!("the chart was not rendered: {error}"),
                        fix: None,
                    },
                }],
                None => return,
            },
        };
        self.install_findings(root, trigger, findings).await;
    }

    /// The cluster's dry-run (and diff) of the rendered documents, mapped back, when a cluster
    /// is configured and answers.
    async fn dry_run(
        &self,
        model: &ChartModel,
        documents: &[RenderedDocument],
    ) -> Vec<FileFinding> {
        let texts: Vec<String> = documents.iter().map(|d| d.text.clone()).collect();
        let Some(found) = self.cluster.check_rendered(&texts).await else {
            return Vec::new();
        };
        found
            .iter()
            .enumerate()
            .flat_map(|(index, diagnostics)| {
                map_back(
                    model,
                    &documents[index],
                    nth(documents, index),
                    diagnostics,
                    "rendered, dry-run",
                )
            })
            .collect()
    }

    /// Keeps a render's findings and puts them on the chart's open files. A finding for a file
    /// that is not open (Chart.yaml for missing dependencies) goes on the file that asked too.
    async fn install_findings(&self, root: PathBuf, trigger: Uri, findings: Vec<FileFinding>) {
        let open_paths: Vec<(Uri, PathBuf)> = lock(&self.open)
            .keys()
            .filter_map(|uri| Some((uri.clone(), file_path(uri)?)))
            .filter(|(_, path)| path.starts_with(&root))
            .collect();
        let mut by_path: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
        let trigger_path = file_path(&trigger);
        for finding in findings {
            let open = open_paths.iter().any(|(_, p)| *p == finding.path);
            if !open
                && finding.diagnostic.code == codes::HELM_RENDER
                && let Some(path) = &trigger_path
            {
                let mut moved = finding.diagnostic.clone();
                moved.range = 0..0;
                by_path.entry(path.clone()).or_default().push(moved);
            }
            by_path
                .entry(finding.path)
                .or_default()
                .push(finding.diagnostic);
        }
        lock(&self.findings).insert(root, by_path.clone());
        for (uri, path) in open_paths {
            let found = by_path.remove(&path).unwrap_or_default();
            let kept = self
                .store
                .with_document(&uri, |document| document.set_rendered(found));
            if kept.is_some() {
                publish(&self.client, &self.store, uri, Gather::Validated).await;
            }
        }
    }

    /// The chart and template text of an open template, for the requests below.
    fn context(&self, uri: &Uri) -> Option<(Arc<ChartModel>, ChartRole, ropey::Rope)> {
        let (chart, role) = lock(&self.open).get(uri).cloned()?;
        let snapshot = self.store.text_snapshot(uri)?;
        Some((chart, role, snapshot.rope))
    }

    /// What a request inside a template needs: its text, the chart, the offset. `None` for a
    /// text without actions (the schema's completion and hover answer there).
    fn in_template(
        &self,
        uri: &Uri,
        position: lsp::Position,
    ) -> Option<(ropey::Rope, String, Option<Arc<ChartModel>>, usize)> {
        let snapshot = self.store.text_snapshot(uri)?;
        // Most files are no template: answered without reading, or copying, the text.
        if !snapshot.templated || !crate::text::contains(snapshot.rope.slice(..), "{{") {
            return None;
        }
        let text = snapshot.rope.to_string();
        let chart = lock(&self.open).get(uri).map(|(chart, _)| chart.clone());
        let offset = convert::offset(&snapshot.rope, position, self.store.encoding());
        Some((snapshot.rope, text, chart, offset))
    }

    /// Completion inside a template action (`None` elsewhere: the schema's completion answers).
    pub fn completion(&self, params: &lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
        let position = &params.text_document_position;
        let (rope, text, chart, offset) =
            self.in_template(&position.text_document.uri, position.position)?;
        let items = values::completions(&text, offset, chart.as_deref())?;
        Some(convert::helm_completions(
            &rope,
            &items,
            self.store.encoding(),
        ))
    }

    pub fn hover(&self, params: &lsp::HoverParams) -> Option<lsp::Hover> {
        let position = &params.text_document_position_params;
        let (rope, text, chart, offset) =
            self.in_template(&position.text_document.uri, position.position)?;
        let (markdown, range) = values::hover(&Template::parse(&text), offset, chart.as_deref())?;
        Some(convert::markdown_hover(
            &rope,
            markdown,
            range,
            self.store.encoding(),
        ))
    }

    pub fn definition(
        &self,
        params: &lsp::GotoDefinitionParams,
    ) -> Option<lsp::GotoDefinitionResponse> {
        let position = &params.text_document_position_params;
        let (chart, _, rope) = self.context(&position.text_document.uri)?;
        let offset = convert::offset(&rope, position.position, self.store.encoding());
        let template = Template::parse(&rope.to_string());
        let found = values::definition(&template, offset, &chart);
        (!found.is_empty())
            .then(|| lsp::GotoDefinitionResponse::Array(self.locations(&chart, &found)))
    }

    pub fn references(&self, params: &lsp::ReferenceParams) -> Option<Vec<lsp::Location>> {
        let position = &params.text_document_position;
        let uri = &position.text_document.uri;
        let (chart, role, rope) = self.context(uri)?;
        let offset = convert::offset(&rope, position.position, self.store.encoding());
        let path = file_path(uri);
        // A values file of the chart: its own, an extra one of the settings, an alternative.
        let values_file = path.as_deref().filter(|path| {
            role == ChartRole::Values || chart.values.iter().any(|v| v.path == *path)
        });
        let found = values::references(&rope.to_string(), offset, values_file, &chart);
        Some(self.locations(&chart, &found))
    }

    /// Locations in the chart's files (texts as the chart read them).
    fn locations(&self, chart: &ChartModel, found: &[values::Location]) -> Vec<lsp::Location> {
        let encoding = self.store.encoding();
        found
            .iter()
            .filter_map(|location| {
                let text = chart.text_of(&location.path)?;
                let uri = Uri::from_file_path(&location.path)?;
                let rope = ropey::Rope::from_str(&text);
                Some(convert::location(
                    uri,
                    &rope,
                    location.range.clone(),
                    encoding,
                ))
            })
            .collect()
    }
}
