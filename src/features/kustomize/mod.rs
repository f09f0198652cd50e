//! Kustomize: kustomization files validated and navigable, patches checked as patches, and
//! rendered overlays' findings mapped back to the files that produced them.
//!
//! - `entries`: what a kustomization names, with ranges;
//! - `deprecated`: deprecated fields and their fixes;
//! - `paths`: paths against the disk (missing, absolute, outside, file/folder, cycles);
//! - `patches`: JSON 6902 patches and inline patches;
//! - `navigation`: document links, definitions, references, path completion;
//! - `rendered`: a rendered kustomization validated and its findings mapped back;
//! - `transformers`: the kustomization field that set a rendered value (`namePrefix`, `labels`…).
//!
//! The schema of kustomization files themselves is `schema::kustomize`, validated through the
//! usual pipeline with [`Role::Kustomization`]; a strategic-merge patch file is validated with
//! [`Role::Patch`].

pub mod deprecated;
pub mod entries;
pub mod navigation;
pub mod patches;
pub mod paths;
pub mod rendered;
pub mod transformers;

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::schema::Catalog;
use crate::schema::validate::Role;
use crate::workspace::index::Index;
use crate::workspace::kustomize::{Field, Files, is_kustomization};

/// What the kustomize checks read besides the file itself.
pub struct Context<'a> {
    pub files: &'a dyn Files,
    /// The workspace folders (paths outside them are not followed).
    pub roots: &'a [PathBuf],
    pub catalog: &'a Catalog,
}

/// How the file at `path` is read: a kustomization by its name, a strategic-merge patch when a
/// kustomization of the index names it as one, else a manifest.
pub fn role_of(path: &Path, index: &Index) -> Role {
    if is_kustomization(path) {
        return Role::Kustomization;
    }
    let is_patch = index.kustomizations_naming(path).any(|(_, kustomization)| {
        kustomization.entries.iter().any(|entry| {
            entry.path == path
                && matches!(entry.field, Field::Patches | Field::PatchesStrategicMerge)
        })
    });
    if is_patch {
        Role::Patch
    } else {
        Role::Manifest
    }
}

/// [`role_of`] from the disk alone (the index is still being filled): a file is a patch when the
/// kustomization of its folder, or of one of the two folders above, names it as one.
pub fn role_near(path: &Path, files: &dyn crate::workspace::kustomize::Files) -> Role {
    if is_kustomization(path) {
        return Role::Kustomization;
    }
    for folder in path.ancestors().skip(1).take(3) {
        let Some(kustomization) = crate::workspace::kustomize::kustomization_in(files, folder)
        else {
            continue;
        };
        let Some(text) = files.read(&kustomization) else {
            continue;
        };
        let named = entries::read(&kustomization, &text)
            .patches
            .iter()
            .any(|p| p.path.as_deref() == Some(path) && p.inline.is_none());
        if named {
            return Role::Patch;
        }
    }
    Role::Manifest
}

/// The kustomizations of the index that name `path` as a patch file.
pub fn naming_as_patch(path: &Path, index: &Index) -> Vec<PathBuf> {
    index
        .kustomizations()
        .filter(|(_, k)| {
            k.entries.iter().any(|e| {
                e.path == path
                    && matches!(
                        e.field,
                        Field::Patches | Field::PatchesStrategicMerge | Field::PatchesJson6902
                    )
            })
        })
        .map(|(p, _)| p.to_path_buf())
        .collect()
}

/// kustomize's checks of a kustomization file: deprecated fields, paths, inline patches.
pub fn check_kustomization(path: &Path, text: &str, context: &Context<'_>) -> Vec<Diagnostic> {
    let found = entries::read(path, text);
    let mut out = deprecated::check(text);
    out.extend(paths::check(
        path,
        &found.paths,
        context.files,
        context.roots,
    ));
    for patch in &found.patches {
        if let Some(inline) = &patch.inline {
            out.extend(patches::check_inline(
                inline,
                patch.target.as_ref(),
                text,
                context.catalog,
            ));
        }
    }
    out.sort_by_key(|d| (d.range.start, d.range.end));
    out
}

/// kustomize's checks of a JSON 6902 patch file named by the kustomizations `naming` (each
/// gives a target; a problem found for several is reported once).
pub fn check_patch_file(
    path: &Path,
    text: &str,
    naming: &[PathBuf],
    context: &Context<'_>,
) -> Vec<Diagnostic> {
    if !patches::is_json6902(text) {
        return Vec::new();
    }
    let mut out: Vec<Diagnostic> = Vec::new();
    let mut checked = false;
    for kustomization in naming {
        let Some(source) = context.files.read(kustomization) else {
            continue;
        };
        for patch in entries::read(kustomization, &source).patches {
            if patch.path.as_deref() != Some(path) {
                continue;
            }
            checked = true;
            for d in patches::check_json6902(text, patch.target.as_ref(), context.catalog) {
                if !out.contains(&d) {
                    out.push(d);
                }
            }
        }
    }
    if !checked {
        out = patches::check_json6902(text, None, context.catalog);
    }
    out.sort_by_key(|d| (d.range.start, d.range.end));
    out
}

/// Every kustomize check of a file: a kustomization's, or a JSON 6902 patch's when the index
/// says kustomizations name it.
pub fn check_file(
    path: &Path,
    text: &str,
    index: &Index,
    context: &Context<'_>,
) -> Vec<Diagnostic> {
    if is_kustomization(path) {
        return check_kustomization(path, text, context);
    }
    let naming = naming_as_patch(path, index);
    if naming.is_empty() {
        return Vec::new();
    }
    check_patch_file(path, text, &naming, context)
}

/// Whether a kustomization's text is a `Component` (rendered only as part of the kustomizations
/// that include it).
pub fn is_component(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "kind: Component")
}

/// The findings of a render of `kustomization` ([`rendered::findings`]) without those the files'
/// own validation, in their role, reports already (same range and message).
pub fn render_findings(
    kustomization: &Path,
    base: &Path,
    output: &str,
    catalog: &Catalog,
    index: &Index,
    files: &dyn Files,
) -> Vec<rendered::Finding> {
    let mut own: std::collections::HashMap<PathBuf, Vec<Diagnostic>> = Default::default();
    let mut skip = |file: &Path, d: &Diagnostic| {
        let known = own.entry(file.to_path_buf()).or_insert_with(|| {
            let Some(text) = files.read(file) else {
                return Vec::new();
            };
            crate::features::diagnostics::text_diagnostics_as(
                &ropey::Rope::from_str(&text),
                catalog,
                role_of(file, index),
            )
        });
        known
            .iter()
            .any(|k| k.range == d.range && k.message == d.message)
    };
    rendered::findings(kustomization, base, output, catalog, files, &mut skip)
}

/// The diagnostic of a failed render of `path`, unless kustomize's checks or the file's schema
/// validation already report an error on the entry it concerns (a missing file, an unknown
/// field get one diagnostic, not two).
pub fn render_failure(
    path: &Path,
    text: &str,
    message: &str,
    context: &Context<'_>,
) -> Option<Diagnostic> {
    let failure = rendered::render_error(path, text, message);
    let schema = crate::features::diagnostics::text_diagnostics_as(
        &ropey::Rope::from_str(text),
        context.catalog,
        Role::Kustomization,
    );
    let known = check_kustomization(path, text, context)
        .into_iter()
        .chain(schema)
        .any(|d| d.severity == crate::diagnostic::Severity::Error && d.range == failure.range);
    (!known).then_some(failure)
}

#[cfg(test)]
mod tests;
