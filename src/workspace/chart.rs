//! A Helm chart as the features ask about it: its values files (and, for a subchart, its parent's
//! values under the subchart's key), `values.schema.json`, and every template and helper under
//! `templates/` with its actions. Read from disk on first use (bounded, like the index), with the
//! texts of open documents winning, and dropped when one of its files changes.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::disk::{self, Contents, Links};
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};
use crate::yaml::template::Template;

/// Files read under `templates/`, at most.
const MAX_TEMPLATES: usize = 2_000;
/// Alternative `values-*.yaml` files read, at most.
const MAX_ALTERNATIVES: usize = 32;
/// Bigger chart files are not read.
const MAX_FILE_BYTES: u64 = 8 << 20;

/// The shape of a value in a values file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueShape {
    Map { empty: bool },
    List,
    Scalar,
    Null,
}

/// One key of a values file, at its path from `.Values`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueEntry {
    pub path: Vec<String>,
    pub key: Range<usize>,
    pub value: Range<usize>,
    pub shape: ValueShape,
}

/// Where a values file's keys come from, as Helm merges them for a render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValuesSource {
    /// The chart's own `values.yaml`.
    Chart,
    /// An extra values file of the settings (`helm template -f`), relative to the chart.
    Extra,
    /// A parent chart's `values.yaml`, its `<subchart>:` section and `global:`.
    Parent,
    /// A parent chart's extra values file, its `<subchart>:` section and `global:`.
    ParentExtra,
    /// Another `values-*.yaml` of the chart: Helm reads it only when given with `-f`, so its
    /// keys are offered but define nothing.
    Alternative,
}

/// A values file of the chart.
#[derive(Clone, Debug)]
pub struct ValuesFile {
    pub path: PathBuf,
    pub text: Arc<String>,
    pub source: ValuesSource,
    pub entries: Vec<ValueEntry>,
}

impl ValuesFile {
    /// Whether a render reads it (every file but an alternative `values-*.yaml`).
    pub fn is_applied(&self) -> bool {
        self.source != ValuesSource::Alternative
    }

    /// Whether its keys are a parent chart's for this subchart (under the subchart's name).
    pub fn from_parent(&self) -> bool {
        matches!(
            self.source,
            ValuesSource::Parent | ValuesSource::ParentExtra
        )
    }

    /// The value's text as written (cut to a few lines for hovers).
    pub fn value_text(&self, entry: &ValueEntry) -> &str {
        self.text.get(entry.value.clone()).unwrap_or_default()
    }
}

/// A file under `templates/` (a manifest template or a `_*.tpl` helper).
#[derive(Clone, Debug)]
pub struct TemplateFile {
    pub path: PathBuf,
    pub text: Arc<String>,
    pub template: Template,
}

impl TemplateFile {
    pub fn is_helper(&self) -> bool {
        is_helper(&self.path)
    }
}

#[derive(Clone, Debug)]
pub struct ChartModel {
    pub root: PathBuf,
    /// `name` of its Chart.yaml (the folder's name when it has none).
    pub name: String,
    /// The values files a render reads in Helm's merge order (a later file wins): its
    /// `values.yaml`, the extra files of the settings, then what a parent chart sets for it
    /// (the parent's values.yaml, then the parent's extra files); after them the chart's other
    /// `values-*.yaml` ([`ValuesSource::Alternative`], not read by a render).
    pub values: Vec<ValuesFile>,
    /// `values.schema.json`, when the chart has one.
    pub schema: Option<(PathBuf, Arc<String>)>,
    pub templates: Vec<TemplateFile>,
    /// Chart.yaml's text.
    pub chart_yaml: Option<Arc<String>>,
}

/// Whether a file under `templates/` is a helper (`_*.tpl`, or any `_*` file), not a manifest.
pub fn is_helper(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('_'))
}

/// Whether `path` is a values file of a chart (`values.yaml`, `values-*.yaml`).
pub fn is_values_file(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        let stem = n.trim_end_matches(".yaml").trim_end_matches(".yml");
        (stem == "values" || stem.starts_with("values-")) && stem.len() < n.len()
    })
}

/// The chart folder holding `path` by a look at the disk: the nearest folder above it with a
/// `Chart.yaml` (for a file the index has not seen yet).
pub fn chart_root_on_disk(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .skip(CHART_ROOT_SEARCH.start)
        .take(CHART_ROOT_SEARCH.len())
        .find(|folder| is_chart_folder(folder))
        .map(Path::to_path_buf)
}

/// Which of a file's ancestors [`chart_root_on_disk`] looks in: its folder and 31 above.
const CHART_ROOT_SEARCH: Range<usize> = 1..33;

fn is_chart_folder(folder: &Path) -> bool {
    folder.join("Chart.yaml").is_file()
}

/// [`chart_root_on_disk`] for many files at once (`kube-lsp check`): whether a folder holds a
/// `Chart.yaml` is looked up on disk once per folder, not once per file under it.
#[derive(Default)]
pub struct ChartFolders {
    /// Folder → whether it holds a `Chart.yaml`.
    known: std::sync::RwLock<HashMap<PathBuf, bool>>,
    /// How many folders were looked up on disk.
    looked_up: std::sync::atomic::AtomicUsize,
}

impl ChartFolders {
    /// What [`chart_root_on_disk`] says of `path`, with each folder looked up once.
    pub fn root_of(&self, path: &Path) -> Option<PathBuf> {
        path.ancestors()
            .skip(CHART_ROOT_SEARCH.start)
            .take(CHART_ROOT_SEARCH.len())
            .find(|folder| self.is_chart_folder(folder))
            .map(Path::to_path_buf)
    }

    fn is_chart_folder(&self, folder: &Path) -> bool {
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        if let Some(is_chart) = known.get(folder) {
            return *is_chart;
        }
        drop(known);
        self.looked_up
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let is_chart = is_chart_folder(folder);
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(folder.to_path_buf(), is_chart);
        is_chart
    }

    /// How many folders were looked up on disk so far.
    pub fn looked_up(&self) -> usize {
        self.looked_up.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `path` was created, changed or deleted on disk (a file or a folder): what is known of its
    /// folder and of every folder under it is looked up again when next asked.
    pub fn forget(&self, path: &Path) {
        let folder = path.parent();
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|known, _| !(known.starts_with(path) || Some(known.as_path()) == folder));
    }

    /// Everything known is looked up again when next asked (other workspace folders).
    pub fn forget_all(&self) {
        self.known
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl ChartModel {
    /// Reads the chart at `root`; `open(path)` gives an open document's text, which wins.
    pub fn load(root: &Path, open: &dyn Fn(&Path) -> Option<Arc<String>>) -> ChartModel {
        ChartModel::load_with(root, &[], open)
    }

    /// Reads the chart at `root` as a render with the extra values files `extra` (`-f`, a
    /// relative path taken from the chart folder being rendered) sees it.
    pub fn load_with(
        root: &Path,
        extra: &[PathBuf],
        open: &dyn Fn(&Path) -> Option<Arc<String>>,
    ) -> ChartModel {
        let read = |path: &Path| -> Option<Arc<String>> {
            open(path).or_else(|| match disk::read(path, MAX_FILE_BYTES, Links::Refuse) {
                Contents::Text(text) => Some(Arc::new(text)),
                _ => None,
            })
        };
        let chart_yaml = read(&root.join("Chart.yaml"));
        let name = chart_yaml
            .as_deref()
            .and_then(|text| top_level_string(text, "name"))
            .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let mut values = Vec::new();
        let own = ["values.yaml", "values.yml"]
            .iter()
            .map(|file| root.join(file))
            .find_map(|path| Some((read(&path)?, path)));
        if let Some((text, path)) = own {
            values.push(ValuesFile::new(path, text, ValuesSource::Chart, &[]));
        }
        for path in resolve_all(root, extra) {
            if let Some(text) = read(&path) {
                values.push(ValuesFile::new(path, text, ValuesSource::Extra, &[]));
            }
        }
        // A subchart (`parent/charts/<name>/`): the parent's values under its key, and `global`.
        if let Some(parent) = root
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == "charts"))
            .and_then(Path::parent)
            .filter(|p| p.join("Chart.yaml").is_file())
        {
            let parents = std::iter::once((parent.join("values.yaml"), ValuesSource::Parent))
                .chain(
                    resolve_all(parent, extra)
                        .into_iter()
                        .map(|path| (path, ValuesSource::ParentExtra)),
                );
            for (path, source) in parents {
                if let Some(text) = read(&path) {
                    values.push(ValuesFile::new(path, text, source, &[name.as_str()]));
                }
            }
        }
        // The chart's other `values-*.yaml`: offered in completion, marked as not applied.
        let mut alternatives: Vec<PathBuf> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| is_values_file(path) && values.iter().all(|v| v.path != *path))
            .filter(|path| {
                !matches!(
                    path.file_name().and_then(|n| n.to_str()),
                    Some("values.yaml" | "values.yml")
                )
            })
            .take(MAX_ALTERNATIVES)
            .collect();
        alternatives.sort();
        for path in alternatives {
            if let Some(text) = read(&path) {
                values.push(ValuesFile::new(path, text, ValuesSource::Alternative, &[]));
            }
        }
        let schema_path = root.join("values.schema.json");
        let schema = read(&schema_path).map(|text| (schema_path, text));
        let mut templates = Vec::new();
        let folder = root.join("templates");
        let mut found: Vec<PathBuf> = walkdir::WalkDir::new(&folder)
            .max_depth(8)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(walkdir::DirEntry::into_path)
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "tpl")
                )
            })
            .take(MAX_TEMPLATES)
            .collect();
        found.sort();
        for path in found {
            if let Some(text) = read(&path) {
                let template = Template::parse(&text);
                templates.push(TemplateFile {
                    path,
                    text,
                    template,
                });
            }
        }
        ChartModel {
            root: root.to_path_buf(),
            name,
            values,
            schema,
            templates,
            chart_yaml,
        }
    }

    /// The text of one of the chart's files as the chart read it: a values file, a template,
    /// Chart.yaml.
    pub fn text_of(&self, path: &Path) -> Option<Arc<String>> {
        let values = self.values.iter().find(|v| v.path == path).map(|v| &v.text);
        let template = || {
            self.templates
                .iter()
                .find(|t| t.path == path)
                .map(|t| &t.text)
        };
        let chart_yaml = || {
            (path == self.root.join("Chart.yaml"))
                .then_some(self.chart_yaml.as_ref())
                .flatten()
        };
        values.or_else(template).or_else(chart_yaml).cloned()
    }

    /// The entry at `path` of every values file a render reads, in merge order (the last wins).
    pub fn lookup(&self, path: &[String]) -> Vec<(&ValuesFile, &ValueEntry)> {
        self.lookup_all(path)
            .into_iter()
            .filter(|(file, _)| file.is_applied())
            .collect()
    }

    /// The entry at `path` of every values file, the alternative `values-*.yaml` last.
    pub fn lookup_all(&self, path: &[String]) -> Vec<(&ValuesFile, &ValueEntry)> {
        self.values
            .iter()
            .flat_map(|file| {
                file.entries
                    .iter()
                    .filter(|e| e.path == path)
                    .map(move |e| (file, e))
            })
            .collect()
    }

    /// The keys under `path` (`.Values.<path>.…`) in any values file, each once, with the
    /// entry a render reads (the last applied file's), else the first alternative's.
    pub fn children(&self, path: &[String]) -> Vec<(&ValuesFile, &ValueEntry)> {
        let mut order: Vec<&str> = Vec::new();
        let mut chosen: HashMap<&str, (&ValuesFile, &ValueEntry)> = HashMap::new();
        for file in &self.values {
            for entry in &file.entries {
                if entry.path.len() != path.len() + 1 || !entry.path.starts_with(path) {
                    continue;
                }
                let key = entry.path[path.len()].as_str();
                // The alternatives come last: they never replace an applied file's entry.
                if !chosen.contains_key(key) {
                    order.push(key);
                    chosen.insert(key, (file, entry));
                } else if file.is_applied() {
                    chosen.insert(key, (file, entry));
                }
            }
        }
        order
            .into_iter()
            .filter_map(|key| chosen.remove(key))
            .collect()
    }

    /// The values files a render reads.
    pub fn applied_values(&self) -> impl Iterator<Item = &ValuesFile> {
        self.values.iter().filter(|file| file.is_applied())
    }

    /// Whether some values file a render reads defines `path`, or leaves it open: a parent
    /// that is an empty mapping, null or a list (anything may be set there).
    pub fn is_defined(&self, path: &[String]) -> bool {
        if path.is_empty() || self.applied_values().next().is_none() {
            return true;
        }
        self.applied_values().any(|file| {
            file.entries.iter().any(|e| {
                e.path == path
                    || (path.starts_with(&e.path)
                        && matches!(
                            e.shape,
                            ValueShape::Map { empty: true } | ValueShape::Null | ValueShape::List
                        ))
            })
        })
    }

    /// Every `define` of the chart: name, file, range of the name.
    pub fn defines(&self) -> impl Iterator<Item = (&str, &Path, Range<usize>)> {
        self.templates.iter().flat_map(|file| {
            file.template
                .actions
                .iter()
                .filter_map(move |a| match &a.kind {
                    crate::yaml::template::ActionKind::Define(name, range)
                    | crate::yaml::template::ActionKind::Block(name, range) => {
                        Some((name.as_str(), file.path.as_path(), range.clone()))
                    }
                    _ => None,
                })
        })
    }

    /// Every place a template reads `.Values.<path>` (or something under it).
    pub fn reads_of(&self, path: &[String]) -> Vec<(&Path, Range<usize>)> {
        let mut out = Vec::new();
        for file in &self.templates {
            for action in &file.template.actions {
                for read in action.values_refs() {
                    if read.path.starts_with(path) && read.path.len() >= path.len() {
                        let last = read.ranges
                            [path.len().saturating_sub(1).min(read.ranges.len() - 1)]
                        .clone();
                        out.push((file.path.as_path(), read.ranges[0].start..last.end));
                    }
                }
            }
        }
        out
    }
}

impl ValuesFile {
    /// A values file's keys; `under` a subchart's name for a parent's file (its section
    /// re-rooted at `.Values`, and its `global:`).
    fn new(path: PathBuf, text: Arc<String>, source: ValuesSource, under: &[&str]) -> ValuesFile {
        let mut entries = value_entries(&text, under);
        if !under.is_empty() {
            entries.extend(
                value_entries(&text, &[])
                    .into_iter()
                    .filter(|e| e.path.first().is_some_and(|k| k == "global")),
            );
        }
        ValuesFile {
            path,
            text,
            source,
            entries,
        }
    }
}

/// Extra values files as paths: a relative one is taken from the chart folder `root`.
pub fn resolve_all(root: &Path, files: &[PathBuf]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|file| {
            if file.is_relative() {
                root.join(file)
            } else {
                file.clone()
            }
        })
        .collect()
}

/// The keys of a values file's text, depth first, each with its path under `prefix` (the entries
/// of `prefix` itself are left out and its children re-rooted at `.Values`).
pub fn value_entries(text: &str, prefix: &[&str]) -> Vec<ValueEntry> {
    let (tree, _) = SpanTree::parse(text);
    let mut out = Vec::new();
    let Some(mut root) = tree.root() else {
        return out;
    };
    for key in prefix {
        let Some(value) = root.get(key) else {
            return out;
        };
        root = value;
    }
    collect(root, &mut Vec::new(), &mut out, 0);
    out
}

fn collect(node: SpanRef<'_>, path: &mut Vec<String>, out: &mut Vec<ValueEntry>, depth: usize) {
    if node.kind() != SpanKind::Mapping || depth > 64 {
        return;
    }
    for (key, value) in node.pairs() {
        let Some(name) = key.value() else { continue };
        path.push(name.to_string());
        let shape = match value.map(|v| v.kind()) {
            Some(SpanKind::Mapping) => ValueShape::Map {
                empty: value.is_some_and(|v| v.pairs().next().is_none()),
            },
            Some(SpanKind::Sequence) => ValueShape::List,
            Some(SpanKind::Scalar(_)) if value.is_some_and(|v| is_null(v)) => ValueShape::Null,
            Some(_) => ValueShape::Scalar,
            None => ValueShape::Null,
        };
        out.push(ValueEntry {
            path: path.clone(),
            key: key.range(),
            value: value.map_or(key.range().end..key.range().end, |v| v.range()),
            shape,
        });
        if let Some(value) = value {
            collect(value, path, out, depth + 1);
        }
        path.pop();
    }
}

fn is_null(node: SpanRef<'_>) -> bool {
    node.is_empty_scalar()
        || (node.style() == Some(crate::yaml::scalar::ScalarStyle::Plain)
            && matches!(node.value(), Some("~" | "null" | "Null" | "NULL")))
}

/// A top-level string value of a YAML text (`name` of a Chart.yaml).
fn top_level_string(text: &str, key: &str) -> Option<String> {
    let (tree, _) = SpanTree::parse(text);
    let value = tree.root()?.get(key)?;
    value.value().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_folders_are_looked_up_once_each() {
        let dir = tempfile::tempdir().unwrap();
        let chart = dir.path().join("chart");
        std::fs::create_dir_all(chart.join("templates")).unwrap();
        std::fs::create_dir_all(dir.path().join("plain/deep")).unwrap();
        std::fs::write(chart.join("Chart.yaml"), "name: c\n").unwrap();
        let folders = ChartFolders::default();
        let files: Vec<PathBuf> = (0..50)
            .flat_map(|n| {
                [
                    chart.join(format!("templates/t{n}.yaml")),
                    chart.join(format!("values-{n}.yaml")),
                    dir.path().join(format!("plain/deep/f{n}.yaml")),
                ]
            })
            .collect();
        for file in &files {
            assert_eq!(folders.root_of(file), chart_root_on_disk(file), "{file:?}");
        }
        assert_eq!(folders.root_of(&files[0]), Some(chart.clone()));
        // templates/ and chart/ (found there); plain/deep/, plain/ and every folder above.
        let above = dir
            .path()
            .ancestors()
            .count()
            .min(CHART_ROOT_SEARCH.len() - 2);
        assert_eq!(folders.looked_up(), 2 + 2 + above);
    }

    #[test]
    fn values_entries_with_paths_and_shapes() {
        let text = "image:\n  repository: nginx\n  tag: \"\"\npodAnnotations: {}\nlist: [1]\nempty:\nsub:\n  a: 1\n";
        let entries = value_entries(text, &[]);
        let find = |p: &str| {
            entries
                .iter()
                .find(|e| e.path.join(".") == p)
                .unwrap_or_else(|| panic!("{p}"))
        };
        assert_eq!(&text[find("image.repository").value.clone()], "nginx");
        assert_eq!(
            find("podAnnotations").shape,
            ValueShape::Map { empty: true }
        );
        assert_eq!(find("empty").shape, ValueShape::Null);
        assert_eq!(find("list").shape, ValueShape::List);
        let under = value_entries(text, &["sub"]);
        assert_eq!(under.len(), 1);
        assert_eq!(under[0].path, ["a"]);
        assert!(is_values_file(Path::new("/c/values-prod.yaml")));
        assert!(!is_values_file(Path::new("/c/values.schema.json")));
        assert!(is_helper(Path::new("/c/templates/_helpers.tpl")));
    }

    #[test]
    fn a_subchart_reads_its_parents_values_under_its_key_and_global() {
        let dir = tempfile::tempdir().unwrap();
        let parent = dir.path().join("shop");
        let sub = parent.join("charts/db");
        std::fs::create_dir_all(sub.join("templates")).unwrap();
        std::fs::write(parent.join("Chart.yaml"), "apiVersion: v2\nname: shop\n").unwrap();
        std::fs::write(
            parent.join("values.yaml"),
            "global:\n  region: eu\ndb:\n  size: 10Gi\nweb:\n  replicas: 2\n",
        )
        .unwrap();
        std::fs::write(sub.join("Chart.yaml"), "apiVersion: v2\nname: db\n").unwrap();
        std::fs::write(sub.join("values.yaml"), "size: 1Gi\nimage: postgres\n").unwrap();
        let model = ChartModel::load(&sub, &|_| None);
        assert_eq!(model.name, "db");
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        let size = model.lookup(&path("size"));
        assert_eq!(size.len(), 2, "the subchart's and the parent's");
        assert!(!size[0].0.from_parent() && size[1].0.from_parent());
        assert_eq!(size[1].0.value_text(size[1].1), "10Gi");
        assert!(model.is_defined(&path("global.region")));
        assert!(!model.is_defined(&path("web")));
        // An open text wins over the disk.
        let open = Arc::new("size: 5Gi\n".to_string());
        let values = sub.join("values.yaml");
        let model = ChartModel::load(&sub, &|p| (p == values).then(|| open.clone()));
        assert!(model.lookup(&path("image")).is_empty());
    }

    #[test]
    fn extra_values_files_are_read_in_merge_order_and_alternatives_define_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let parent = dir.path().join("shop");
        let sub = parent.join("charts/db");
        std::fs::create_dir_all(sub.join("templates")).unwrap();
        std::fs::write(parent.join("Chart.yaml"), "apiVersion: v2\nname: shop\n").unwrap();
        std::fs::write(parent.join("values.yaml"), "db:\n  size: 10Gi\n").unwrap();
        std::fs::write(parent.join("ci.yaml"), "db:\n  size: 20Gi\nreplicas: 3\n").unwrap();
        std::fs::write(parent.join("values-prod.yaml"), "prodOnly: true\n").unwrap();
        std::fs::write(sub.join("Chart.yaml"), "apiVersion: v2\nname: db\n").unwrap();
        std::fs::write(sub.join("values.yaml"), "size: 1Gi\n").unwrap();
        let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
        let extra = [PathBuf::from("ci.yaml")];

        let model = ChartModel::load_with(&parent, &extra, &|_| None);
        let sources: Vec<ValuesSource> = model.values.iter().map(|v| v.source).collect();
        assert_eq!(
            sources,
            [
                ValuesSource::Chart,
                ValuesSource::Extra,
                ValuesSource::Alternative
            ]
        );
        assert!(model.is_defined(&path("replicas")));
        assert!(!model.is_defined(&path("prodOnly")));
        assert_eq!(model.lookup_all(&path("prodOnly")).len(), 1);
        let keys: Vec<(String, ValuesSource)> = model
            .children(&[])
            .into_iter()
            .map(|(file, entry)| (entry.path[0].clone(), file.source))
            .collect();
        assert_eq!(
            keys,
            [
                ("db".to_string(), ValuesSource::Extra),
                ("replicas".to_string(), ValuesSource::Extra),
                ("prodOnly".to_string(), ValuesSource::Alternative),
            ]
        );

        // The subchart: its own, then the parent's values.yaml and extra file under `db:`.
        let model = ChartModel::load_with(&sub, &extra, &|_| None);
        let size: Vec<&str> = model
            .lookup(&path("size"))
            .into_iter()
            .map(|(file, entry)| file.value_text(entry))
            .collect();
        assert_eq!(size, ["1Gi", "10Gi", "20Gi"]);
        assert_eq!(model.values[2].source, ValuesSource::ParentExtra);
    }
}

/// The charts read so far, and the open documents' texts of chart files (which win over disk).
#[derive(Default)]
pub struct ChartCache {
    /// Which folders hold a `Chart.yaml`, looked up on disk once each until a change on disk
    /// is reported ([`ChartCache::changed`], [`ChartCache::disk_changed`]).
    pub folders: ChartFolders,
    models: std::sync::Mutex<HashMap<PathBuf, Arc<ChartModel>>>,
    open: std::sync::RwLock<HashMap<PathBuf, Arc<String>>>,
    /// The extra values files a render is given (the settings'), as written there.
    extra_values: std::sync::RwLock<Vec<PathBuf>>,
}

impl ChartCache {
    /// The chart at `root`, read now if it is not known (blocking).
    pub fn get(&self, root: &Path) -> Arc<ChartModel> {
        if let Some(model) = self.lock().get(root) {
            return model.clone();
        }
        let open = self.open.read().unwrap_or_else(|p| p.into_inner()).clone();
        let extra = self.extra_values();
        let model = Arc::new(ChartModel::load_with(root, &extra, &|path| {
            open.get(path).cloned()
        }));
        self.lock().insert(root.to_path_buf(), model.clone());
        model
    }

    /// The extra values files of the settings (relative ones are taken from each chart).
    pub fn extra_values(&self) -> Vec<PathBuf> {
        self.extra_values
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sets the extra values files; when they differ, every chart is read again when next
    /// asked. Whether they differed.
    pub fn set_extra_values(&self, files: &[PathBuf]) -> bool {
        let mut current = self.extra_values.write().unwrap_or_else(|p| p.into_inner());
        if current.as_slice() == files {
            return false;
        }
        *current = files.to_vec();
        drop(current);
        self.lock().clear();
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<ChartModel>>> {
        self.models.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A file changed (on disk, or its open text: `Some`, or closed: `None`): the charts that
    /// read it are read again when next asked.
    pub fn changed(&self, path: &Path, open_text: Option<Option<&str>>) {
        // A change on disk, or a `Chart.yaml` opened or closed (a client that does not watch
        // files still tells of the chart made in it).
        if open_text.is_none() || path.file_name().is_some_and(|name| name == "Chart.yaml") {
            self.folders.forget(path);
        }
        let read_by_a_chart = || {
            self.lock()
                .values()
                .any(|m| m.values.iter().any(|v| v.path == path))
        };
        if let Some(text) = open_text {
            let mut open = self.open.write().unwrap_or_else(|p| p.into_inner());
            match text {
                Some(text) if self.folders.root_of(path).is_some() || read_by_a_chart() => {
                    open.insert(path.to_path_buf(), Arc::new(text.to_string()));
                }
                _ => {
                    open.remove(path);
                }
            }
        }
        let folder = path.parent().unwrap_or(path);
        self.lock().retain(|root, model| {
            !(path.starts_with(root)
                || root.starts_with(folder)
                || model.values.iter().any(|v| v.path == path))
        });
    }
}
