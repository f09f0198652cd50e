//! Navigating kustomizations: document links and definitions of the paths a kustomization
//! names (a file, or a folder's kustomization), references from a file to the kustomizations
//! that include it (directly or through bases and overlays), and completion of paths relative
//! to the kustomization.

use std::collections::{HashSet, VecDeque};
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::entries::{self, Expect};
use crate::features::completion::{Item, ItemKind};
use crate::workspace::index::Index;
use crate::workspace::kustomize::{FileKind, Files, is_kustomization, is_remote, kustomization_in};
use crate::yaml::key_path::Segment;
use crate::yaml::path::{CursorTarget, cursor_at};

/// A link from a range of the kustomization to a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub range: Range<usize>,
    pub target: PathBuf,
}

/// Every path of the kustomization that exists, linked to its file or its folder's
/// kustomization.
pub fn links(path: &Path, text: &str, files: &dyn Files) -> Vec<Link> {
    entries::read(path, text)
        .paths
        .into_iter()
        .filter_map(|reference| {
            let resolved = reference.resolved?;
            let target = match files.kind(&resolved) {
                FileKind::File => resolved,
                FileKind::Folder => kustomization_in(files, &resolved)?,
                FileKind::Missing => return None,
            };
            Some(Link {
                range: reference.range,
                target,
            })
        })
        .collect()
}

/// The file the path at `offset` names.
pub fn definition(path: &Path, text: &str, offset: usize, files: &dyn Files) -> Option<Link> {
    links(path, text, files)
        .into_iter()
        .find(|link| link.range.start <= offset && offset <= link.range.end)
}

/// At most this many kustomizations are followed up an include chain.
const MAX_CHAIN: usize = 256;

/// Where kustomizations include `path`: each entry naming it (or a folder whose kustomization
/// leads to it), following bases up to the overlays that include them.
pub fn references(path: &Path, index: &Index, files: &dyn Files) -> Vec<(PathBuf, Range<usize>)> {
    let mut out = Vec::new();
    let mut queue: VecDeque<PathBuf> = VecDeque::from([path.to_path_buf()]);
    let mut seen: HashSet<PathBuf> = HashSet::new();
    while let Some(target) = queue.pop_front() {
        if !seen.insert(target.clone()) || seen.len() > MAX_CHAIN {
            continue;
        }
        // A kustomization is included through its folder.
        let folder = is_kustomization(&target)
            .then(|| target.parent().map(Path::to_path_buf))
            .flatten();
        let named = folder.as_deref().unwrap_or(&target);
        let candidates: Vec<PathBuf> = index
            .kustomizations()
            .filter(|(_, k)| k.entries.iter().any(|e| e.path == named))
            .map(|(p, _)| p.to_path_buf())
            .collect();
        for kustomization in candidates {
            let Some(text) = files.read(&kustomization) else {
                continue;
            };
            for reference in entries::read(&kustomization, &text).paths {
                if reference.resolved.as_deref() == Some(named) {
                    out.push((kustomization.clone(), reference.range));
                }
            }
            queue.push_back(kustomization);
        }
    }
    out
}

/// Fields whose values are paths, as the cursor reads them: `(path before the item, expect)`.
fn path_field(path: &[Segment]) -> Option<Expect> {
    fn key(s: &Segment) -> Option<&str> {
        match s {
            Segment::Key(k) => Some(k.as_str()),
            Segment::Index(_) => None,
        }
    }
    match path {
        [Segment::Key(field), Segment::Index(_)] => match field.as_str() {
            "resources" => Some(Expect::FileOrKustomization),
            "bases" | "components" => Some(Expect::Kustomization),
            "crds" | "patchesStrategicMerge" | "configurations" => Some(Expect::File),
            "generators" | "transformers" | "validators" => Some(Expect::Any),
            _ => None,
        },
        [Segment::Key(field), Segment::Index(_), last] => {
            let ok = matches!(
                field.as_str(),
                "patches" | "patchesJson6902" | "replacements"
            ) && key(last) == Some("path")
                || matches!(field.as_str(), "configMapGenerator" | "secretGenerator")
                    && key(last) == Some("env");
            ok.then_some(Expect::File)
        }
        [
            Segment::Key(field),
            Segment::Index(_),
            Segment::Key(list),
            Segment::Index(_),
        ] => {
            let ok = matches!(field.as_str(), "configMapGenerator" | "secretGenerator")
                && matches!(list.as_str(), "files" | "envs");
            ok.then_some(Expect::File)
        }
        [Segment::Key(field), last] if field == "openapi" && key(last) == Some("path") => {
            Some(Expect::File)
        }
        _ => None,
    }
}

/// Completion of a path at `offset` of a kustomization: the entries of the folder typed so
/// far (relative to the kustomization), folders first and ending in `/`.
pub fn complete_path(path: &Path, text: &str, offset: usize, files: &dyn Files) -> Vec<Item> {
    let cursor = cursor_at(text, offset);
    let (typed, word) = match &cursor.target {
        CursorTarget::Key { prefix, .. } => (prefix.as_str(), cursor.range.clone()),
        CursorTarget::Value { prefix, .. } => (prefix.as_str(), cursor.range.clone()),
        CursorTarget::Nothing => return Vec::new(),
    };
    let Some(expect) = path_field(&cursor.path.0) else {
        return Vec::new();
    };
    if is_remote(typed) || Path::new(typed).is_absolute() {
        return Vec::new();
    }
    let home = path.parent().unwrap_or(Path::new(""));
    let (folder_part, _) = typed.rsplit_once('/').unwrap_or(("", typed));
    let folder = home.join(folder_part);
    let start = word.start
        + if folder_part.is_empty() {
            0
        } else {
            folder_part.len() + 1
        };
    let range = start..word.end.max(start);
    let mut items = Vec::new();
    for (name, is_folder) in files.list(&folder) {
        let hidden = name.starts_with('.');
        let own =
            !folder_part.contains('/') && folder == home && is_kustomization(Path::new(&name));
        if hidden || own {
            continue;
        }
        if !is_folder && expect == Expect::Kustomization {
            continue;
        }
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json");
        if !is_folder && expect == Expect::FileOrKustomization && !yaml {
            continue;
        }
        let has_kustomization = is_folder && kustomization_in(files, &folder.join(&name)).is_some();
        let label = if is_folder {
            format!("{name}/")
        } else {
            name.clone()
        };
        let detail = match (is_folder, has_kustomization) {
            (true, true) => "folder with a kustomization",
            (true, false) => "folder",
            _ => "file",
        };
        let sort = match (is_folder, has_kustomization) {
            (true, true) => "0",
            (true, false) => "1",
            _ => "2",
        };
        items.push(Item {
            label: label.clone(),
            kind: if is_folder {
                ItemKind::Folder
            } else {
                ItemKind::File
            },
            label_detail: None,
            label_description: None,
            detail: Some(detail.to_string()),
            documentation: None,
            filter_text: None,
            sort_text: format!("{sort}{label}"),
            insert_text: if has_kustomization {
                name.clone()
            } else {
                label
            },
            snippet: false,
            range: range.clone(),
            additional_edits: Vec::new(),
        });
    }
    items
}

/// A kustomization's text as completion and hover should read it: one that names no
/// apiVersion and kind is a `Kustomization`, so they are added after its last line (the
/// cursor's offsets are unchanged).
pub fn with_default_type(text: &str) -> Option<String> {
    use crate::schema::kustomize::{COMPONENT, KUSTOMIZATION};
    let named = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(key)?.trim_start().strip_prefix(':')?;
            Some(rest.trim().trim_matches(['"', '\'']).to_string())
        })
    };
    let (api_version, kind) = (named("apiVersion"), named("kind"));
    let added = match (api_version, kind) {
        (Some(_), Some(_)) => return None,
        (None, None) => format!(
            "apiVersion: {}\nkind: {}\n",
            KUSTOMIZATION.0, KUSTOMIZATION.1
        ),
        (None, Some(kind)) if kind == COMPONENT.1 => format!("apiVersion: {}\n", COMPONENT.0),
        (None, Some(_)) => format!("apiVersion: {}\n", KUSTOMIZATION.0),
        (Some(_), None) => format!("kind: {}\n", KUSTOMIZATION.1),
    };
    Some(format!("{text}\n{added}"))
}
