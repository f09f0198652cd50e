//! Reading the workspace folders: which files count, walking them, and reading one file, within
//! bounds. Only regular files are read (never a FIFO or a device, never through a symlink), and
//! never more than the size bound.

use std::io::Read as _;
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

/// What reading a file gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    Text(String),
    /// Over the size bound: its size, unread.
    TooBig(u64),
    /// Gone, not a regular file, not UTF-8, or unreadable.
    Nothing,
}

/// Whether reading a path may go through a symlink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Links {
    /// A file the user named (a `schemaPaths` entry) may be a link to a regular file.
    Follow,
    /// A workspace file: a link is not read.
    Refuse,
}

/// Reads `path` if it is a regular file of at most `max_bytes`.
pub fn read(path: &Path, max_bytes: u64, links: Links) -> Contents {
    let Some(mut file) = open_regular(path, links) else {
        return Contents::Nothing;
    };
    let size = match file.metadata() {
        Ok(metadata) if metadata.is_file() => metadata.len(),
        _ => return Contents::Nothing,
    };
    if size > max_bytes {
        return Contents::TooBig(size);
    }
    let mut text = String::with_capacity(size as usize);
    // A file growing while it is read stops at the bound all the same.
    match (&mut file).take(max_bytes + 1).read_to_string(&mut text) {
        Ok(read) if read as u64 > max_bytes => Contents::TooBig(read as u64),
        Ok(_) => Contents::Text(text),
        Err(_) => Contents::Nothing,
    }
}

/// Opens `path` for reading without blocking on a FIFO (and, refusing links, without following
/// one in its last component); the caller checks the opened file's type.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn open_regular(path: &Path, links: Links) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let no_follow = if links == Links::Refuse {
        libc::O_NOFOLLOW
    } else {
        0
    };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | no_follow)
        .open(path)
        .ok()
}

/// Elsewhere the type is checked before opening (a file swapped for a FIFO in between could
/// still block this thread).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn open_regular(path: &Path, links: Links) -> Option<std::fs::File> {
    let metadata = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    };
    if !metadata.ok()?.is_file() {
        return None;
    }
    std::fs::File::open(path).ok()
}

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

    #[test]
    fn reading_is_bounded_and_takes_regular_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.yaml");
        std::fs::write(&path, "kind: Pod\n").unwrap();
        let read = |path: &Path, max| read(path, max, Links::Refuse);
        assert_eq!(read(&path, 100), Contents::Text("kind: Pod\n".into()));
        assert_eq!(read(&path, 4), Contents::TooBig(10));
        assert_eq!(read(&dir.path().join("gone.yaml"), 100), Contents::Nothing);
        assert_eq!(read(dir.path(), 100), Contents::Nothing);
        let zero = dir.path().join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert_eq!(read(&zero, 100), Contents::Nothing);
        assert_eq!(super::read(&zero, 100, Links::Follow), Contents::Nothing);
        std::fs::write(dir.path().join("bad.yaml"), [0xff, 0xfe]).unwrap();
        assert_eq!(read(&dir.path().join("bad.yaml"), 100), Contents::Nothing);
        // A link to a regular file: read only when links are followed.
        let link = dir.path().join("link.yaml");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(read(&link, 100), Contents::Nothing);
        assert!(matches!(
            super::read(&link, 100, Links::Follow),
            Contents::Text(_)
        ));
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_fifo_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // No writer: a blocking open would hang here.
        assert_eq!(read(&fifo, 100, Links::Refuse), Contents::Nothing);
        assert_eq!(read(&fifo, 100, Links::Follow), Contents::Nothing);
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
