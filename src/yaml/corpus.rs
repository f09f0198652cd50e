//! The shared corpus of real manifests beside the repository (`../shared/corpus`), for tests
//! that compare two readings of the same files.

use std::path::{Path, PathBuf};

use super::split::split;

/// The corpus folder.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// The text of the corpus file at `relative` (`real/argocd-install.yaml`).
pub(crate) fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).expect("the corpus is beside the repository")
}

/// Every YAML file (`.yaml`, `.yml`) below `dir`, sorted.
pub(crate) fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .map(|entry| entry.into_path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    files
}

/// Every document of every YAML file in the corpus, as (where, text).
pub(crate) fn documents() -> Vec<(String, String)> {
    let mut documents = Vec::new();
    for path in yaml_files(&root()) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for range in split(&text).documents {
            let at = format!("{}@{}", path.display(), range.start);
            documents.push((at, text[range].to_string()));
        }
    }
    documents
}
