//! Kustomization files as the index records them: the files and folders they include, resolved
//! relative to the kustomization, and their `namespace`. Remote resources are left alone.

use std::path::{Component, Path, PathBuf};

use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};

/// The file names kustomize reads in a folder.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether `path` is a kustomization file.
pub fn is_kustomization(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| FILE_NAMES.iter().any(|n| name == *n))
}

/// What a kustomization names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kustomization {
    pub namespace: Option<Box<str>>,
    pub entries: Vec<Entry>,
    /// The ConfigMaps and Secrets its generators make (`configMapGenerator`, `secretGenerator`).
    pub generated: Vec<Generated>,
    /// Whether it names remote resources (a URL, a Git repository), which are not indexed.
    pub remote: bool,
}

/// An object a kustomization's generator makes: its kind and name (before the hash suffix,
/// which kustomize also adds to the references it rewrites).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    pub kind: &'static str,
    pub name: Box<str>,
}

/// A file or folder a kustomization names, resolved (lexically) against its folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub field: Field,
    pub path: PathBuf,
}

/// The field an [`Entry`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Resources,
    Components,
    Bases,
    /// `patches[].path`.
    Patches,
    PatchesStrategicMerge,
    /// `patchesJson6902[].path`.
    PatchesJson6902,
}

impl Kustomization {
    /// Whether it names `path` or a folder holding it.
    pub fn includes(&self, path: &Path) -> bool {
        self.entries
            .iter()
            .any(|entry| path.starts_with(&entry.path))
    }
}

/// Reads the kustomization at `path` from its text.
pub fn read(path: &Path, text: &str) -> Kustomization {
    let folder = path.parent().unwrap_or(Path::new(""));
    let (tree, _error) = SpanTree::parse(text);
    let Some(root) = tree.root().filter(|r| r.kind() == SpanKind::Mapping) else {
        return Kustomization::default();
    };
    let mut kustomization = Kustomization::default();
    for (key, value) in root.pairs() {
        let Some(value) = value else { continue };
        let field = match key.value() {
            Some("namespace") => {
                kustomization.namespace = value.value().filter(|v| !v.is_empty()).map(Into::into);
                continue;
            }
            Some("resources") => Field::Resources,
            Some("components") => Field::Components,
            Some("bases") => Field::Bases,
            Some("patches") => Field::Patches,
            Some("patchesStrategicMerge") => Field::PatchesStrategicMerge,
            Some("patchesJson6902") => Field::PatchesJson6902,
            Some(generator @ ("configMapGenerator" | "secretGenerator")) => {
                let kind = if generator == "secretGenerator" {
                    "Secret"
                } else {
                    "ConfigMap"
                };
                for item in value.children() {
                    if let Some(name) = path_of_key(item, "name").filter(|n| !n.is_empty()) {
                        kustomization.generated.push(Generated {
                            kind,
                            name: name.into(),
                        });
                    }
                }
                continue;
            }
            _ => continue,
        };
        for item in value.children() {
            let named = match field {
                Field::Patches | Field::PatchesJson6902 => path_of(item),
                _ => item.value(),
            };
            match named.and_then(|named| resolve(folder, named)) {
                Some(entry) => kustomization.entries.push(Entry { field, path: entry }),
                None => kustomization.remote |= named.is_some_and(is_remote),
            }
        }
    }
    kustomization
}

fn path_of(item: SpanRef<'_>) -> Option<&str> {
    path_of_key(item, "path")
}

fn path_of_key<'t>(item: SpanRef<'t>, field: &str) -> Option<&'t str> {
    item.pairs()
        .find(|(key, _)| key.value() == Some(field))
        .and_then(|(_, value)| value?.value())
}

/// `entry` against `folder`; `None` for remote resources and inline patches.
fn resolve(folder: &Path, entry: &str) -> Option<PathBuf> {
    let entry = entry.trim();
    let skipped = is_remote(entry) || entry.contains('\n');
    (!skipped && !entry.is_empty()).then(|| normalize(&folder.join(entry)))
}

/// `path` without `.` and with `..` applied to what precedes it.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// What is at a path a kustomization names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Missing,
    File,
    Folder,
}

/// The files kustomize features look at: the disk, with what the editor has open on top.
pub trait Files {
    fn kind(&self, path: &Path) -> FileKind;
    /// A small text file (a kustomization, a patch), if readable.
    fn read(&self, path: &Path) -> Option<String>;
    /// A folder's entries: name and whether it is a folder, sorted by name.
    fn list(&self, folder: &Path) -> Vec<(String, bool)>;
}

/// Kustomization-related files are small: bigger ones are not read.
pub const MAX_READ_BYTES: u64 = 4 << 20;

/// The disk as it is (links followed, as kustomize follows them).
#[derive(Clone, Copy, Debug, Default)]
pub struct Disk;

impl Files for Disk {
    fn kind(&self, path: &Path) -> FileKind {
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => FileKind::Folder,
            Ok(_) => FileKind::File,
            Err(_) => FileKind::Missing,
        }
    }

    fn read(&self, path: &Path) -> Option<String> {
        match super::disk::read(path, MAX_READ_BYTES, super::disk::Links::Follow) {
            super::disk::Contents::Text(text) => Some(text),
            _ => None,
        }
    }

    fn list(&self, folder: &Path) -> Vec<(String, bool)> {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return Vec::new();
        };
        let mut found: Vec<(String, bool)> = entries
            .filter_map(Result::ok)
            .take(10_000)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                let folder = entry.path().is_dir();
                Some((name, folder))
            })
            .collect();
        found.sort();
        found
    }
}

/// The kustomization file of `folder`, if it has one (in kustomize's order of names).
pub fn kustomization_in(files: &dyn Files, folder: &Path) -> Option<PathBuf> {
    FILE_NAMES
        .iter()
        .map(|name| folder.join(name))
        .find(|path| files.kind(path) == FileKind::File)
}

/// Whether `entry` names a remote resource (a URL, a git repository), which is never fetched.
pub fn is_remote(entry: &str) -> bool {
    let entry = entry.trim();
    entry.contains("://")
        || [
            "github.com/",
            "gitlab.com/",
            "bitbucket.org/",
            "git@",
            "git::",
        ]
        .iter()
        .any(|prefix| entry.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_resolved_against_the_kustomization() {
        let text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nresources:\n- deployment.yaml\n- ../../base\n- https://github.com/org/repo//deploy?ref=v1\n- github.com/org/repo/deploy\ncomponents: [../../components/tls]\nbases: [./legacy/]\npatches:\n- path: patch.yaml\n  target: {kind: Deployment}\n- patch: |-\n    - op: remove\n      path: /spec/replicas\npatchesStrategicMerge:\n- replicas.yaml\n- |-\n  apiVersion: apps/v1\n  kind: Deployment\npatchesJson6902:\n- path: json.yaml\n";
        let kustomization = read(Path::new("/w/overlays/prod/kustomization.yaml"), text);
        assert_eq!(kustomization.namespace.as_deref(), Some("shop"));
        let entries: Vec<(Field, &str)> = kustomization
            .entries
            .iter()
            .map(|e| (e.field, e.path.to_str().unwrap()))
            .collect();
        assert_eq!(
            entries,
            [
                (Field::Resources, "/w/overlays/prod/deployment.yaml"),
                (Field::Resources, "/w/base"),
                (Field::Components, "/w/components/tls"),
                (Field::Bases, "/w/overlays/prod/legacy"),
                (Field::Patches, "/w/overlays/prod/patch.yaml"),
                (
                    Field::PatchesStrategicMerge,
                    "/w/overlays/prod/replicas.yaml"
                ),
                (Field::PatchesJson6902, "/w/overlays/prod/json.yaml"),
            ]
        );
        assert!(kustomization.includes(Path::new("/w/base/deployment.yaml")));
        assert!(kustomization.includes(Path::new("/w/overlays/prod/patch.yaml")));
        assert!(!kustomization.includes(Path::new("/w/overlays/prod/other.yaml")));
        assert!(!kustomization.includes(Path::new("/w/basement/x.yaml")));
    }

    #[test]
    fn names_and_bad_input() {
        assert!(is_kustomization(Path::new("/a/Kustomization")));
        assert!(is_kustomization(Path::new("kustomization.yml")));
        assert!(!is_kustomization(Path::new("/a/kustomization.json")));
        assert_eq!(read(Path::new("k.yaml"), "[1, 2"), Kustomization::default());
        assert_eq!(read(Path::new("k.yaml"), "resources: 3\n").entries, []);
        assert_eq!(normalize(Path::new("a/../../b/./c")), Path::new("../b/c"));
    }
}
