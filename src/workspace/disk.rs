//! Reading the workspace folders: which files count, walking them, and reading one file, within
//! bounds. Only regular files are read (never a FIFO or a device, never through a symlink), and
//! never more than the size bound.

use std::path::{Path, PathBuf};

use super::kustomize;

/// A walk stops after this many files (a home folder opened by mistake).
pub const MAX_FILES: usize = 20_000;

/// Folders never walked: version control, dependencies, build output.
pub const SKIPPED_DIRS: [&str; 8] = [
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "target",
    "vendor",
    ".venv",
    ".terraform",
];

/// Whether a file of this name is indexed: YAML, or a kustomization.
pub fn is_indexed(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    ) || kustomize::is_kustomization(path)
}

/// Whether a walk enters this folder.
pub fn is_skipped_dir(name: &std::ffi::OsStr) -> bool {
    SKIPPED_DIRS.iter().any(|skipped| name == *skipped)
}

/// The indexed files under `roots` (a root may be a file), in a stable order, at most `limit`;
/// `true` beside them when there were more. Symlinks are not followed.
pub fn walk(roots: &[PathBuf], limit: usize) -> (Vec<PathBuf>, bool) {
    let mut found = Vec::new();
    for root in roots {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                !(e.file_type().is_dir() && e.depth() > 0 && is_skipped_dir(e.file_name()))
            });
        for entry in walker.filter_map(Result::ok) {
            if !entry.file_type().is_file() || !is_indexed(entry.path()) {
                continue;
            }
            if found.len() == limit {
                return (found, true);
            }
            found.push(entry.into_path());
        }
    }
    (found, false)
}

pub use crate::files::{Contents, Links, read};

/// Whether `path` lies in `root` with no symlink on the way (both as the client names them; the
/// canonical forms are compared so a root that is itself a symlink still works).
pub fn inside(root: &Path, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return false;
    };
    if relative
        .components()
        .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return false;
    }
    let Some(parent) = path.parent() else {
        return false;
    };
    match (std::fs::canonicalize(root), std::fs::canonicalize(parent)) {
        (Ok(root), Ok(parent)) => relative
            .parent()
            .is_some_and(|folders| parent == root.join(folders)),
        // The folder is gone: nothing there can be read, but what was indexed may be dropped.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_skips_vendored_folders_symlinks_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in ["a/node_modules/x", "a/vendor", "b", ".git"] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        for file in [
            "a/node_modules/x/skip.yaml",
            "a/vendor/skip.yaml",
            ".git/skip.yaml",
            "a/one.yaml",
            "a/two.yml",
            "a/notes.txt",
            "b/Kustomization",
        ] {
            std::fs::write(root.join(file), "kind: ConfigMap\n").unwrap();
        }
        std::os::unix::fs::symlink(root.join("a/one.yaml"), root.join("b/link.yaml")).unwrap();
        std::os::unix::fs::symlink(root.join("a"), root.join("b/dir")).unwrap();
        let (files, truncated) = walk(&[root.to_path_buf()], 100);
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a/one.yaml", "a/two.yml", "b/Kustomization"]);
        assert!(!truncated);
        let (files, truncated) = walk(&[root.to_path_buf()], 2);
        assert_eq!((files.len(), truncated), (2, true));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_fifo_is_never_walked() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let (files, _) = walk(&[dir.path().to_path_buf()], 10);
        assert!(files.is_empty());
    }

    #[test]
    fn inside_a_root_without_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("a")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        assert!(inside(&root, &root.join("a/x.yaml")));
        assert!(inside(&root, &root.join("x.yaml")));
        assert!(!inside(&root, &root.join("out/x.yaml")));
        assert!(!inside(&root, &root.join("a/../../outside/x.yaml")));
        assert!(!inside(&root, &dir.path().join("other/x.yaml")));
        // Through a root that is itself a symlink.
        let alias = dir.path().join("alias");
        std::os::unix::fs::symlink(&root, &alias).unwrap();
        assert!(inside(&alias, &alias.join("a/x.yaml")));
    }
}
