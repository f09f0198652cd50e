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

/// A values file of the chart.
#[derive(Clone, Debug)]
pub struct ValuesFile {
    pub path: PathBuf,
    pub text: Arc<String>,
    /// Set by the chart itself (`values.yaml`), or by a parent chart for this subchart.
    pub from_parent: bool,
    pub entries: Vec<ValueEntry>,
}

impl ValuesFile {
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
    /// Its values first, then those a parent chart sets for it, then the extra values files a
    /// render is given (`add_values_files`): a later file wins.
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
        .skip(1)
        .take(32)
        .find(|folder| folder.join("Chart.yaml").is_file())
        .map(Path::to_path_buf)
}

impl ChartModel {
    /// Reads the chart at `root`; `open(path)` gives an open document's text, which wins.
    pub fn load(root: &Path, open: &dyn Fn(&Path) -> Option<Arc<String>>) -> ChartModel {
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
        for file in ["values.yaml", "values.yml"] {
            let path = root.join(file);
            if let Some(text) = read(&path) {
                values.push(ValuesFile {
                    entries: value_entries(&text, &[]),
                    path,
                    text,
                    from_parent: false,
                });
                break;
            }
        }
        // A subchart (`parent/charts/<name>/`): the parent's values under its key, and `global`.
        if let Some(parent) = root
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == "charts"))
            .and_then(Path::parent)
            .filter(|p| p.join("Chart.yaml").is_file())
        {
            let path = parent.join("values.yaml");
            if let Some(text) = read(&path) {
                let mut entries = value_entries(&text, &[name.as_str()]);
                entries.extend(
                    value_entries(&text, &[])
                        .into_iter()
                        .filter(|e| e.path.first().is_some_and(|k| k == "global")),
                );
                values.push(ValuesFile {
                    path,
                    text,
                    from_parent: true,
                    entries,
                });
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

    /// Adds the extra values files a render is given (`helm template --values`, in order), so
    /// a rendered value is traced to the file that set it. Unreadable files are left out (Helm
    /// says so itself).
    pub fn add_values_files(&mut self, files: &[PathBuf]) {
        for path in files {
            if let Contents::Text(text) = disk::read(path, MAX_FILE_BYTES, Links::Refuse) {
                self.values.push(ValuesFile {
                    entries: value_entries(&text, &[]),
                    path: path.clone(),
                    text: Arc::new(text),
                    from_parent: false,
                });
            }
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

    /// Every values file's entry at `path`, the chart's own first.
    pub fn lookup(&self, path: &[String]) -> Vec<(&ValuesFile, &ValueEntry)> {
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

    /// The keys under `path` (`.Values.<path>.…`), each once, with its first entry.
    pub fn children(&self, path: &[String]) -> Vec<(&ValuesFile, &ValueEntry)> {
        let mut seen: HashMap<&str, ()> = HashMap::new();
        let mut out = Vec::new();
        for file in &self.values {
            for entry in &file.entries {
                if entry.path.len() == path.len() + 1
                    && entry.path.starts_with(path)
                    && seen.insert(entry.path[path.len()].as_str(), ()).is_none()
                {
                    out.push((file, entry));
                }
            }
        }
        out
    }

    /// Whether some values file defines `path`, or leaves it open: a parent that is an empty
    /// mapping, null or a list (anything may be set there).
    pub fn is_defined(&self, path: &[String]) -> bool {
        if path.is_empty() || self.values.is_empty() {
            return true;
        }
        self.values.iter().any(|file| {
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
        assert!(!size[0].0.from_parent && size[1].0.from_parent);
        assert_eq!(size[1].0.value_text(size[1].1), "10Gi");
        assert!(model.is_defined(&path("global.region")));
        assert!(!model.is_defined(&path("web")));
        // An open text wins over the disk.
        let open = Arc::new("size: 5Gi\n".to_string());
        let values = sub.join("values.yaml");
        let model = ChartModel::load(&sub, &|p| (p == values).then(|| open.clone()));
        assert!(model.lookup(&path("image")).is_empty());
    }
}

/// The charts read so far, and the open documents' texts of chart files (which win over disk).
#[derive(Default)]
pub struct ChartCache {
    models: std::sync::Mutex<HashMap<PathBuf, Arc<ChartModel>>>,
    open: std::sync::RwLock<HashMap<PathBuf, Arc<String>>>,
}

impl ChartCache {
    /// The chart at `root`, read now if it is not known (blocking).
    pub fn get(&self, root: &Path) -> Arc<ChartModel> {
        if let Some(model) = self.lock().get(root) {
            return model.clone();
        }
        let open = self.open.read().unwrap_or_else(|p| p.into_inner()).clone();
        let model = Arc::new(ChartModel::load(root, &|path| open.get(path).cloned()));
        self.lock().insert(root.to_path_buf(), model.clone());
        model
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<ChartModel>>> {
        self.models.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A file changed (on disk, or its open text: `Some`, or closed: `None`): the charts that
    /// read it are read again when next asked.
    pub fn changed(&self, path: &Path, open_text: Option<Option<&str>>) {
        if let Some(text) = open_text {
            let mut open = self.open.write().unwrap_or_else(|p| p.into_inner());
            match text {
                Some(text) if chart_root_on_disk(path).is_some() => {
                    open.insert(path.to_path_buf(), Arc::new(text.to_string()));
                }
                _ => {
                    open.remove(path);
                }
            }
        }
        let folder = path.parent().unwrap_or(path);
        self.lock()
            .retain(|root, _| !(path.starts_with(root) || root.starts_with(folder)));
    }
}
