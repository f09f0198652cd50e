//! What a kustomization file names, with where it names it: the paths of its fields (files and
//! folders, resolved against its folder), its patches (files or inline, with their targets), for
//! the checks, links, definitions and completion of `features::kustomize`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::workspace::kustomize::{is_remote, normalize};
use crate::yaml::scalar::ScalarStyle;
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};

/// What a path must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    File,
    /// A folder holding a kustomization (a base, a component).
    Kustomization,
    /// A file of manifests, or a folder holding a kustomization (`resources`).
    FileOrKustomization,
    /// A file or a folder (generator and transformer configurations, generator sources).
    Any,
}

/// One path a kustomization names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathRef {
    /// The field, as a user reads it: `resources`, `patches[].path`, `configMapGenerator[].files`.
    pub field: &'static str,
    /// The path as written (a generator's `key=` prefix removed).
    pub text: String,
    /// Where the path is written in the file.
    pub range: Range<usize>,
    pub expect: Expect,
    /// `text` against the kustomization's folder (lexically); `None` for remote and absolute
    /// paths.
    pub resolved: Option<PathBuf>,
    pub absolute: bool,
}

/// How a patch is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchForm {
    /// From `patches` (either form, told by its content) or `patchesStrategicMerge`.
    Any,
    /// From `patchesJson6902`.
    Json6902,
}

/// A patch a kustomization applies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchRef {
    pub form: PatchForm,
    /// The patch file, when it is one.
    pub path: Option<PathBuf>,
    /// An inline patch: the block scalar's node range and its value.
    pub inline: Option<Inline>,
    /// The target's group, version and kind (`target:`), as written.
    pub target: Option<Target>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inline {
    /// The scalar's range in the file (its indicator line included for block scalars).
    pub range: Range<usize>,
    pub value: String,
    pub style: Option<ScalarStyle>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
}

/// What a kustomization file names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entries {
    pub paths: Vec<PathRef>,
    pub patches: Vec<PatchRef>,
    /// Each root key with its range and its value's range (for deprecations and their fixes).
    pub keys: Vec<(String, Range<usize>, Option<Range<usize>>)>,
}

/// Fields whose items are paths, and what they must be.
const PATH_LISTS: [(&str, Expect); 10] = [
    ("resources", Expect::FileOrKustomization),
    ("bases", Expect::Kustomization),
    ("components", Expect::Kustomization),
    ("crds", Expect::File),
    ("patchesStrategicMerge", Expect::File),
    ("configurations", Expect::File),
    ("generators", Expect::Any),
    ("transformers", Expect::Any),
    ("validators", Expect::Any),
    ("replacements", Expect::File),
];

/// Reads the kustomization at `path` (its first document).
pub fn read(path: &Path, text: &str) -> Entries {
    let folder = path.parent().unwrap_or(Path::new(""));
    let (tree, _) = SpanTree::parse(text);
    let mut entries = Entries::default();
    let Some(root) = tree.root().filter(|r| r.kind() == SpanKind::Mapping) else {
        return entries;
    };
    for (key, value) in root.pairs() {
        let Some(name) = key.value() else { continue };
        entries
            .keys
            .push((name.to_string(), key.range(), value.map(|v| v.range())));
        let Some(value) = value else { continue };
        let mut add = |field: &'static str, node: SpanRef<'_>, expect: Expect| {
            if let Some(found) = path_ref(folder, field, node, expect) {
                entries.paths.push(found);
            }
        };
        match name {
            "patches" | "patchesJson6902" => {
                let form = if name == "patches" {
                    PatchForm::Any
                } else {
                    PatchForm::Json6902
                };
                let field = if name == "patches" {
                    "patches[].path"
                } else {
                    "patchesJson6902[].path"
                };
                for item in value.children() {
                    let path_node = item.get("path");
                    if let Some(node) = path_node {
                        add(field, node, Expect::File);
                    }
                    let inline = item.get("patch").map(inline_of);
                    let path = path_node
                        .and_then(|n| n.value())
                        .filter(|p| !is_remote(p) && !Path::new(p).is_absolute())
                        .map(|p| normalize(&folder.join(p)));
                    entries.patches.push(PatchRef {
                        form,
                        path,
                        inline,
                        target: item.get("target").map(target_of),
                    });
                }
            }
            "replacements" => {
                for item in value.children() {
                    if let Some(node) = item.get("path") {
                        add("replacements[].path", node, Expect::File);
                    }
                }
            }
            "configMapGenerator" | "secretGenerator" => {
                let (files, envs, env) = if name == "configMapGenerator" {
                    (
                        "configMapGenerator[].files",
                        "configMapGenerator[].envs",
                        "configMapGenerator[].env",
                    )
                } else {
                    (
                        "secretGenerator[].files",
                        "secretGenerator[].envs",
                        "secretGenerator[].env",
                    )
                };
                for item in value.children() {
                    for (list, field) in [("files", files), ("envs", envs)] {
                        if let Some(list) = item.get(list) {
                            for node in list.children() {
                                add(field, node, Expect::File);
                            }
                        }
                    }
                    if let Some(node) = item.get("env") {
                        add(env, node, Expect::File);
                    }
                }
            }
            "openapi" => {
                if let Some(node) = value.get("path") {
                    add("openapi.path", node, Expect::File);
                }
            }
            _ => {
                let Some((field, expect)) = PATH_LISTS.iter().find(|(f, _)| *f == name) else {
                    continue;
                };
                for item in value.children() {
                    let is_inline = item.value().is_some_and(|v| v.contains('\n'));
                    if *field == "patchesStrategicMerge" {
                        let path = item
                            .value()
                            .filter(|v| !is_inline && !is_remote(v) && !Path::new(v).is_absolute())
                            .map(|p| normalize(&folder.join(p.trim())));
                        entries.patches.push(PatchRef {
                            form: PatchForm::Any,
                            path,
                            inline: is_inline.then(|| inline_of(item)),
                            target: None,
                        });
                    }
                    if !is_inline {
                        add(field, item, *expect);
                    }
                }
            }
        }
    }
    entries
}

fn inline_of(node: SpanRef<'_>) -> Inline {
    Inline {
        range: node.range(),
        value: node.value().unwrap_or_default().to_string(),
        style: node.style(),
    }
}

fn target_of(node: SpanRef<'_>) -> Target {
    let text = |key| node.get(key).and_then(|v| v.value()).map(str::to_string);
    Target {
        group: text("group"),
        version: text("version"),
        kind: text("kind"),
        name: text("name"),
    }
}

/// A scalar item as a path of `field`; `None` for a non-scalar or an empty one.
fn path_ref(
    folder: &Path,
    field: &'static str,
    node: SpanRef<'_>,
    expect: Expect,
) -> Option<PathRef> {
    if !matches!(node.kind(), SpanKind::Scalar(_)) {
        return None;
    }
    let value = node.value()?;
    let mut range = node.range();
    // A generator's `files` entry may name its key: `key=path`.
    let mut text = value.trim();
    if field.ends_with("].files")
        && let Some((_, path)) = text.split_once('=')
    {
        let written = &node.source()[range.clone()];
        if let Some(at) = written
            .find('=')
            .filter(|_| node.style() == Some(ScalarStyle::Plain))
        {
            range.start += at + 1;
        }
        text = path;
    }
    if text.is_empty() {
        return None;
    }
    let absolute = Path::new(text).is_absolute();
    let resolved = (!is_remote(text) && !absolute).then(|| normalize(&folder.join(text)));
    Some(PathRef {
        field,
        text: text.to_string(),
        range,
        expect,
        resolved,
        absolute,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_field_with_its_range() {
        let text = "resources:\n- deploy.yaml\n- ../../base\n- https://github.com/org/repo//x?ref=v1\ncomponents: [../../components/tls]\nbases:\n- /abs/base\ncrds: [crd.yaml]\npatches:\n- path: patch.yaml\n  target: {kind: Deployment, name: web}\n- patch: |-\n    - op: remove\n      path: /spec/replicas\n  target:\n    kind: Deployment\npatchesStrategicMerge:\n- smp.yaml\n- |-\n  apiVersion: v1\n  kind: ConfigMap\nconfigMapGenerator:\n- name: c\n  files: [app.properties, key=data/x.txt]\n  envs: [a.env]\nopenapi:\n  path: schema.json\nreplacements:\n- path: r.yaml\n";
        let entries = read(Path::new("/w/overlays/prod/kustomization.yaml"), text);
        let paths: Vec<(&str, &str, &str, Option<&str>)> = entries
            .paths
            .iter()
            .map(|p| {
                (
                    p.field,
                    p.text.as_str(),
                    &text[p.range.clone()],
                    p.resolved.as_deref().and_then(Path::to_str),
                )
            })
            .collect();
        assert_eq!(
            paths,
            [
                (
                    "resources",
                    "deploy.yaml",
                    "deploy.yaml",
                    Some("/w/overlays/prod/deploy.yaml")
                ),
                ("resources", "../../base", "../../base", Some("/w/base")),
                (
                    "resources",
                    "https://github.com/org/repo//x?ref=v1",
                    "https://github.com/org/repo//x?ref=v1",
                    None
                ),
                (
                    "components",
                    "../../components/tls",
                    "../../components/tls",
                    Some("/w/components/tls")
                ),
                ("bases", "/abs/base", "/abs/base", None),
                (
                    "crds",
                    "crd.yaml",
                    "crd.yaml",
                    Some("/w/overlays/prod/crd.yaml")
                ),
                (
                    "patches[].path",
                    "patch.yaml",
                    "patch.yaml",
                    Some("/w/overlays/prod/patch.yaml")
                ),
                (
                    "patchesStrategicMerge",
                    "smp.yaml",
                    "smp.yaml",
                    Some("/w/overlays/prod/smp.yaml")
                ),
                (
                    "configMapGenerator[].files",
                    "app.properties",
                    "app.properties",
                    Some("/w/overlays/prod/app.properties")
                ),
                (
                    "configMapGenerator[].files",
                    "data/x.txt",
                    "data/x.txt",
                    Some("/w/overlays/prod/data/x.txt")
                ),
                (
                    "configMapGenerator[].envs",
                    "a.env",
                    "a.env",
                    Some("/w/overlays/prod/a.env")
                ),
                (
                    "openapi.path",
                    "schema.json",
                    "schema.json",
                    Some("/w/overlays/prod/schema.json")
                ),
                (
                    "replacements[].path",
                    "r.yaml",
                    "r.yaml",
                    Some("/w/overlays/prod/r.yaml")
                ),
            ]
        );
        assert!(entries.paths[4].absolute);
        assert_eq!(entries.patches.len(), 4);
        assert_eq!(
            entries.patches[0].target.as_ref().unwrap().kind.as_deref(),
            Some("Deployment")
        );
        let inline = entries.patches[1].inline.as_ref().unwrap();
        assert!(inline.value.starts_with("- op: remove\n"));
        assert!(entries.patches[3].inline.is_some() && entries.patches[3].path.is_none());
        assert_eq!(entries.keys.len(), 9);
    }
}
