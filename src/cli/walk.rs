//! The files `kube-lsp check` reads under a folder, found on every thread of the pool: each
//! folder is listed on one thread while its subfolders are walked on others, and the files come
//! out in path order (a folder's entries sorted by name, a subfolder's files where its name
//! sorts), the order a sort of a one-thread walk gives. Links are followed as `walkdir`'s
//! `follow_links` follows them: a link to a folder above it is a loop, said and not followed,
//! and the errors are worded as walkdir words them. The folders holding a `Chart.yaml` are
//! noted on the way, as a walk that follows no link would find them.

use std::ffi::OsStr;
use std::fs::{self, FileType};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rayon::iter::{IntoParallelIterator, ParallelIterator};

/// How deep under the folder walked a `Chart.yaml` is looked for (as `charts::chart_roots`
/// looked, with walkdir's `max_depth`).
pub const CHART_DEPTH: usize = 12;

/// What a walk of one folder found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Walked {
    /// The files `wanted` took, in path order.
    pub files: Vec<PathBuf>,
    /// What could not be read, in path order.
    pub errors: Vec<String>,
    /// The folders holding a `Chart.yaml`, in path order: at most [`CHART_DEPTH`] levels down,
    /// none reached through a link.
    pub charts: Vec<PathBuf>,
}

enum Found {
    File(PathBuf),
    Error(String),
    Chart(PathBuf),
}

/// An entry of a folder once read: what it is, or a folder to walk.
enum Entry {
    Found(Found),
    Folder { path: PathBuf, linked: bool },
}

/// The folders from the one walked down to the one being listed, for loop checks.
struct Above<'a> {
    path: &'a Path,
    up: Option<&'a Above<'a>>,
}

/// Walks `root` (a folder) on the current rayon pool.
pub fn walk(root: &Path, wanted: &(dyn Fn(&Path) -> bool + Sync)) -> Walked {
    let mut found = Vec::new();
    if root.file_name() == Some(OsStr::new("Chart.yaml"))
        && let Some(parent) = root.parent()
    {
        found.push(Found::Chart(parent.to_path_buf()));
    }
    let root_is_link = fs::symlink_metadata(root).is_ok_and(|m| m.file_type().is_symlink());
    match root_is_link.then(|| loop_at(root, None)).flatten() {
        Some(error) => found.push(Found::Error(error)),
        None => {
            let above = Above {
                path: root,
                up: None,
            };
            found.extend(list(root, 0, false, &above, wanted));
        }
    }
    let mut walked = Walked::default();
    for found in found {
        match found {
            Found::File(path) => walked.files.push(path),
            Found::Error(error) => walked.errors.push(error),
            Found::Chart(folder) => walked.charts.push(folder),
        }
    }
    walked
}

/// What is under `folder` (at `depth` below the root; `linked`: reached through a link), in
/// path order.
fn list(
    folder: &Path,
    depth: usize,
    linked: bool,
    above: &Above<'_>,
    wanted: &(dyn Fn(&Path) -> bool + Sync),
) -> Vec<Found> {
    let read = match fs::read_dir(folder) {
        Ok(read) => read,
        Err(error) => return vec![Found::Error(io_error(Some(folder), &error))],
    };
    let mut errors = Vec::new();
    let mut entries = Vec::new();
    for entry in read {
        match entry {
            Ok(entry) => entries.push(entry),
            Err(error) => errors.push(Entry::Found(Found::Error(io_error(None, &error)))),
        }
    }
    entries.sort_by_key(|entry| entry.file_name());
    let depth = depth + 1;
    let read: Vec<Entry> = errors
        .into_iter()
        .chain(entries.into_iter().flat_map(|entry| {
            let path = entry.path();
            let chart = (!linked && depth <= CHART_DEPTH && entry.file_name() == "Chart.yaml")
                .then(|| Entry::Found(Found::Chart(folder.to_path_buf())));
            let what = match entry.file_type() {
                Ok(kind) => what_is(path, kind, linked, above, wanted),
                Err(error) => Some(Entry::Found(Found::Error(io_error(Some(&path), &error)))),
            };
            chart.into_iter().chain(what)
        }))
        .collect();
    read.into_par_iter()
        .flat_map_iter(|entry| match entry {
            Entry::Found(found) => vec![found],
            Entry::Folder { path, linked } => {
                let above = Above {
                    path: &path,
                    up: Some(above),
                };
                list(&path, depth, linked, &above, wanted)
            }
        })
        .collect()
}

/// A folder's entry `path` of type `kind` (a link's is the link's own): a file wanted, a folder
/// to walk, an error, or nothing.
fn what_is(
    path: PathBuf,
    kind: FileType,
    linked: bool,
    above: &Above<'_>,
    wanted: &(dyn Fn(&Path) -> bool + Sync),
) -> Option<Entry> {
    if kind.is_symlink() {
        let target = match fs::metadata(&path) {
            Ok(target) => target,
            Err(error) => return Some(Entry::Found(Found::Error(io_error(Some(&path), &error)))),
        };
        if target.is_dir() {
            return Some(match loop_at(&path, Some(above)) {
                Some(error) => Entry::Found(Found::Error(error)),
                None => Entry::Folder { path, linked: true },
            });
        }
        return (target.is_file() && wanted(&path)).then_some(Entry::Found(Found::File(path)));
    }
    if kind.is_dir() {
        return Some(Entry::Folder { path, linked });
    }
    (kind.is_file() && wanted(&path)).then_some(Entry::Found(Found::File(path)))
}

/// The loop error of following the link `path` to a folder, when that folder is one of the
/// folders walked down to it or one above the root (the nearest first, as walkdir checks).
fn loop_at(path: &Path, above: Option<&Above<'_>>) -> Option<String> {
    let id = |path: &Path| fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    let target = id(path)?;
    let mut walked = Vec::new();
    let mut next = above;
    while let Some(folder) = next {
        walked.push(folder.path.to_path_buf());
        next = folder.up;
    }
    // Above the root: its canonical path's folders, nearest first.
    let root = walked.last().map_or(path, PathBuf::as_path);
    let over_root: Vec<PathBuf> = fs::canonicalize(root)
        .map(|canonical| {
            canonical
                .ancestors()
                .skip(1)
                .map(Path::to_path_buf)
                .collect()
        })
        .unwrap_or_default();
    walked
        .into_iter()
        .chain(over_root)
        .find(|ancestor| id(ancestor) == Some(target))
        .map(|ancestor| {
            format!(
                "File system loop found: {} points to an ancestor {}",
                path.display(),
                ancestor.display()
            )
        })
}

/// walkdir's wording of an I/O error.
fn io_error(path: Option<&Path>, error: &std::io::Error) -> String {
    match path {
        Some(path) => format!("IO error for operation on {}: {error}", path.display()),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::ordered::tests::pool;
    use super::*;

    fn yaml(path: &Path) -> bool {
        path.extension().is_some_and(|e| e == "yaml")
    }

    /// What walkdir, following links, gives (files sorted, errors as they come) and what a walk
    /// that follows no link finds of `Chart.yaml`s.
    fn walkdir_walk(root: &Path) -> Walked {
        let mut walked = Walked::default();
        for entry in walkdir::WalkDir::new(root).follow_links(true) {
            match entry {
                Ok(entry) if entry.file_type().is_file() && yaml(entry.path()) => {
                    walked.files.push(entry.into_path())
                }
                Ok(_) => {}
                Err(error) => walked.errors.push(error.to_string()),
            }
        }
        walked.files.sort();
        walked.errors.sort();
        for entry in walkdir::WalkDir::new(root)
            .max_depth(CHART_DEPTH)
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_name() == "Chart.yaml" {
                walked
                    .charts
                    .extend(entry.path().parent().map(Path::to_path_buf));
            }
        }
        walked.charts.sort();
        walked
    }

    #[test]
    fn finds_what_a_sorted_walkdir_walk_finds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let write = |path: &str| {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "kind: ConfigMap\n").unwrap();
        };
        for path in [
            "a.yaml",
            "a-b/x.yaml",
            "a/b.yaml",
            "a/b/c.yaml",
            "a/z.txt",
            "b/Chart.yaml",
            "b/templates/t.yaml",
            "b/charts/sub/Chart.yaml",
            "c/d/e/f.yaml",
            "Z.yaml",
        ] {
            write(path);
        }
        let link = |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at));
        // A link to a folder inside (followed), to the root and above it (loops), to nothing.
        link(&root.join("c"), "linked").unwrap();
        link(&root, "a/up").unwrap();
        link(dir.path(), "c/d/top").unwrap();
        link(&root.join("missing"), "dangling.yaml").unwrap();
        link(&root.join("a.yaml"), "file-link.yaml").unwrap();
        for threads in [1, 3] {
            let mut walked = pool(threads).install(|| walk(&root, &yaml));
            walked.errors.sort();
            assert_eq!(walked, walkdir_walk(&root), "{threads} threads");
        }
        let walked = walk(&root, &yaml);
        assert!(walked.files.contains(&root.join("linked/d/e/f.yaml")));
        // Two links up (one reached twice, through `linked`) and a dangling one.
        assert_eq!(walked.errors.len(), 4, "{:?}", walked.errors);
        assert_eq!(walked.charts, [root.join("b"), root.join("b/charts/sub")]);
    }
}
