//! The paths of a kustomization checked against the disk (and the editor's open files): missing,
//! absolute, outside the workspace, a file where a folder with a kustomization is needed (and
//! the reverse), a file outside the kustomization's folder (kustomize's load restrictor), and
//! cycles between kustomizations. Remote resources are never fetched nor checked.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::entries::{self, Expect, PathRef};
use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::workspace::kustomize::{FileKind, Files, kustomization_in};

/// How deep the cycle search follows kustomizations.
const MAX_DEPTH: usize = 64;
/// How many kustomizations one cycle search reads at most.
const MAX_VISITED: usize = 2_000;

/// The diagnostics of `refs` (paths of the kustomization at `path`). `roots`: the workspace
/// folders (empty: no workspace, nothing is outside).
pub fn check(
    path: &Path,
    refs: &[PathRef],
    files: &dyn Files,
    roots: &[PathBuf],
) -> Vec<Diagnostic> {
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for reference in refs {
        if let Some(diagnostic) = check_one(path, folder, reference, files, roots) {
            out.push(diagnostic);
        }
    }
    out
}

fn check_one(
    path: &Path,
    folder: &Path,
    reference: &PathRef,
    files: &dyn Files,
    roots: &[PathBuf],
) -> Option<Diagnostic> {
    let range = reference.range.clone();
    let text = &reference.text;
    let error = |code, message: String| Some(Diagnostic::error(range.clone(), code, message));
    if reference.absolute {
        return error(
            codes::KUSTOMIZE_PATH_INVALID,
            format!(
                "`{text}` is absolute: kustomize needs paths relative to the kustomization's folder"
            ),
        );
    }
    let resolved = reference.resolved.as_ref()?;
    let outside = !roots.is_empty() && !roots.iter().any(|root| resolved.starts_with(root));
    if outside {
        return Some(Diagnostic {
            range,
            severity: Severity::Warning,
            code: codes::KUSTOMIZE_PATH_OUTSIDE,
            message: format!(
                "`{text}` leads outside the workspace folders ({}): kube-lsp does not follow it",
                resolved.display()
            ),
            fix: None,
        });
    }
    let kind = files.kind(resolved);
    let is_file_field = matches!(reference.expect, Expect::File | Expect::FileOrKustomization);
    if kind == FileKind::File && is_file_field && !resolved.starts_with(folder) {
        return error(
            codes::KUSTOMIZE_PATH_INVALID,
            format!(
                "`{text}` is a file outside the kustomization's folder: kustomize refuses it (load restrictor LoadRestrictionsRootOnly); move it under {} or give its folder a kustomization and name that folder",
                folder.display()
            ),
        );
    }
    match (kind, reference.expect) {
        (FileKind::Missing, _) => error(
            codes::KUSTOMIZE_PATH_MISSING,
            format!("`{text}` does not exist ({})", resolved.display()),
        ),
        (FileKind::File, Expect::Kustomization) => error(
            codes::KUSTOMIZE_PATH_INVALID,
            format!(
                "`{text}` is a file: {} must be a folder holding a kustomization",
                what(reference.field)
            ),
        ),
        (FileKind::Folder, Expect::File) => error(
            codes::KUSTOMIZE_PATH_INVALID,
            format!(
                "`{text}` is a folder: {} must be a file",
                what(reference.field)
            ),
        ),
        (FileKind::Folder, Expect::Kustomization | Expect::FileOrKustomization) => {
            let Some(inner) = kustomization_in(files, resolved) else {
                return error(
                    codes::KUSTOMIZE_PATH_INVALID,
                    format!(
                        "`{text}` is a folder without a kustomization.yaml, kustomization.yml or Kustomization"
                    ),
                );
            };
            cycle(path, &inner, files).map(|chain| {
                Diagnostic::error(
                    range.clone(),
                    codes::KUSTOMIZE_CYCLE,
                    format!(
                        "`{text}` includes this kustomization again: {} (kustomize cannot build a cycle)",
                        chain
                    ),
                )
            })
        }
        _ => None,
    }
}

/// What a field's entry is, for messages.
fn what(field: &str) -> &'static str {
    match field {
        "bases" => "a base",
        "components" => "a component",
        "resources" => "a resource",
        _ => "this entry",
    }
}

/// A chain of kustomization folders from `next` back to `start`'s, if there is one.
fn cycle(start: &Path, next: &Path, files: &dyn Files) -> Option<String> {
    let home = start.parent()?;
    let mut visited: HashSet<PathBuf> = HashSet::new();
    let mut chain = vec![next.parent()?.to_path_buf()];
    if search(home, next, files, &mut visited, &mut chain, 0) {
        let names: Vec<String> = std::iter::once(home)
            .chain(chain.iter().map(PathBuf::as_path))
            .map(|folder| display_relative(folder, home))
            .collect();
        return Some(names.join(" → "));
    }
    None
}

fn search(
    home: &Path,
    kustomization: &Path,
    files: &dyn Files,
    visited: &mut HashSet<PathBuf>,
    chain: &mut Vec<PathBuf>,
    depth: usize,
) -> bool {
    if depth > MAX_DEPTH
        || visited.len() > MAX_VISITED
        || !visited.insert(kustomization.to_path_buf())
    {
        return false;
    }
    let Some(text) = files.read(kustomization) else {
        return false;
    };
    for reference in entries::read(kustomization, &text).paths {
        if !matches!(
            reference.expect,
            Expect::Kustomization | Expect::FileOrKustomization
        ) {
            continue;
        }
        let Some(folder) = reference.resolved else {
            continue;
        };
        if folder == home {
            chain.push(folder);
            return true;
        }
        if files.kind(&folder) != FileKind::Folder {
            continue;
        }
        let Some(inner) = kustomization_in(files, &folder) else {
            continue;
        };
        chain.push(folder);
        if search(home, &inner, files, visited, chain, depth + 1) {
            return true;
        }
        chain.pop();
    }
    false
}

/// `folder` relative to `home` for messages (`../base`), `.` for `home` itself.
pub fn display_relative(folder: &Path, home: &Path) -> String {
    if folder == home {
        return ".".to_string();
    }
    let common = home
        .ancestors()
        .find(|ancestor| folder.starts_with(ancestor))
        .unwrap_or(Path::new("/"));
    let ups = home
        .strip_prefix(common)
        .map_or(0, |rest| rest.components().count());
    let mut out = PathBuf::new();
    for _ in 0..ups {
        out.push("..");
    }
    out.push(folder.strip_prefix(common).unwrap_or(folder));
    out.display().to_string()
}
