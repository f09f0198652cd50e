//! `kube-lsp check` on Helm charts: each chart among the inputs rendered with the real `helm
//! template`, the rendered documents checked, and every finding reported on the template line
//! (or values key) it comes from; chart files checked as the editor checks them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ropey::Rope;

use super::check::{Reported, report};
use crate::features::diagnostics::chart_file_diagnostics;
use crate::features::helm::rendered::{check_rendered, failure_findings};
use crate::features::helm::template::ChartRole;
use crate::render::helm::{HelmOptions, RenderError, render};
use crate::render::process::RunError;
use crate::schema::Catalog;
use crate::workspace::chart::{ChartFolders, ChartModel, is_helper, is_values_file};

/// How `check` renders charts.
#[derive(Clone, Debug)]
pub struct RenderSettings {
    pub helm: PathBuf,
    pub values_files: Vec<PathBuf>,
    pub timeout: std::time::Duration,
}

/// The charts read so far, by folder (files of several charts are checked at once).
#[derive(Default)]
pub struct Charts {
    models: Mutex<HashMap<PathBuf, Arc<ChartModel>>>,
    /// The extra values files a render is given (`--helm-values`), as absolute paths.
    values_files: Vec<PathBuf>,
    /// Which folders are charts: every checked file asks.
    folders: ChartFolders,
}

impl Charts {
    /// Charts read as a render with the extra values files `values_files` sees them.
    pub fn new(values_files: &[PathBuf]) -> Charts {
        Charts {
            models: Mutex::default(),
            values_files: absolute(values_files),
            folders: ChartFolders::default(),
        }
    }

    /// The chart a file belongs to and what the file is there.
    fn of(&self, path: &Path) -> Option<(Arc<ChartModel>, ChartRole)> {
        let root = self.folders.root_of(path)?;
        let model = self
            .models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(root.clone())
            .or_insert_with(|| {
                Arc::new(ChartModel::load_with(&root, &self.values_files, &|_| None))
            })
            .clone();
        let template = path.starts_with(root.join("templates"));
        let role = if template && is_helper(path) {
            ChartRole::Helper
        } else if template {
            ChartRole::Template
        } else if path.parent() == Some(root.as_path()) && is_values_file(path) {
            ChartRole::Values
        } else if path.parent() == Some(root.as_path()) {
            ChartRole::ChartFile
        } else {
            ChartRole::None
        };
        Some((model, role))
    }

    /// The diagnostics of a file of a chart, `None` when it is in none.
    pub fn file_diagnostics(
        &self,
        path: &Path,
        name: &str,
        text: &str,
        catalog: &Catalog,
    ) -> Option<Vec<Reported>> {
        let (model, role) = self.of(path)?;
        let rope = Rope::from_str(text);
        let found = chart_file_diagnostics(&rope, catalog, role, Some(model));
        Some(found.iter().map(|d| report(name, &rope, d)).collect())
    }
}

/// The chart folders to render among the folders holding a `Chart.yaml` found under the
/// folders checked and the charts of the files checked: subcharts render with their parent.
pub fn chart_roots(mut roots: Vec<PathBuf>) -> Vec<PathBuf> {
    roots.sort();
    roots.dedup();
    // A subchart (`<chart>/charts/<sub>`) is rendered as part of its parent.
    let all = roots.clone();
    roots.retain(|root| {
        !all.iter()
            .any(|other| other != root && root.starts_with(other.join("charts")))
    });
    roots
}

/// Renders each chart and reports what its rendered documents and Helm itself say, on the
/// chart's files. `Err` when Helm could not be run at all.
pub fn render_reports(
    roots: &[PathBuf],
    settings: &RenderSettings,
    catalog: &Catalog,
) -> Result<Vec<Reported>, RunError> {
    let mut reported = Vec::new();
    for root in roots {
        let values_files = absolute(&settings.values_files);
        let model = ChartModel::load_with(root, &values_files, &|_| None);
        let options = HelmOptions {
            program: settings.helm.clone(),
            values_files,
            timeout: settings.timeout,
            ..HelmOptions::default()
        };
        let findings = match render(root, &options) {
            Ok(rendered) => check_rendered(&model, &rendered.documents, catalog),
            Err(RenderError::Failed(failure)) => failure_findings(&model, &failure),
            Err(RenderError::Tool(error)) => return Err(error),
        };
        for finding in findings {
            let text = model.text_of(&finding.path).unwrap_or_default();
            let rope = Rope::from_str(&text);
            reported.push(report(
                &finding.path.display().to_string(),
                &rope,
                &finding.diagnostic,
            ));
        }
    }
    Ok(reported)
}

/// Paths given on the command line, made absolute from the current folder (the chart model
/// would take a relative one from the chart).
fn absolute(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .map(|path| std::path::absolute(path).unwrap_or_else(|_| path.clone()))
        .collect()
}
