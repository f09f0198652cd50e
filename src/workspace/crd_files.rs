//! CRD and schema files on disk: the workspace's CustomResourceDefinitions and the files of the
//! `schemaPaths` setting, read into schema stores. Bounded: big files, vendored folders and
//! files past [`MAX_FILES`] are not read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tower_lsp_server::ls_types::Uri;

use super::disk::{self, Contents, Links, MAX_FILES};
use crate::schema::{SourceKind, crd};

/// Files with CRDs under `paths` (files, or directories searched for *.yaml, *.yml and, for
/// `schemaPaths`, *.json), one store per file labelled "CRD in <uri>". Bounded: big files,
/// skipped directories and files past [`MAX_FILES`] are not read.
pub fn load_crd_files(
    paths: &[PathBuf],
    kind: SourceKind,
) -> Vec<(PathBuf, Arc<crate::schema::Store>)> {
    let mut found = Vec::new();
    let mut visited = 0;
    for root in paths {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                !(e.file_type().is_dir() && e.depth() > 0 && disk::is_skipped_dir(e.file_name()))
            });
        for entry in walker.filter_map(Result::ok) {
            if !entry.file_type().is_file() || !is_schema_file(entry.path(), root) {
                continue;
            }
            visited += 1;
            if visited > MAX_FILES {
                tracing::warn!("CRD scan stopped after {MAX_FILES} files");
                return found;
            }
            if let Some(store) = load_crd_file(entry.path(), kind) {
                found.push((entry.into_path(), store));
            }
        }
    }
    found
}

fn is_schema_file(path: &Path, root: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str());
    matches!(extension, Some("yaml" | "yml")) || (path == root && extension == Some("json"))
}

/// The most a CRD or schema file may weigh to be read.
pub const MAX_FILE_BYTES: u64 = crd::MAX_CRD_BYTES as u64 * 4;

pub fn load_crd_file(path: &Path, kind: SourceKind) -> Option<Arc<crate::schema::Store>> {
    let Contents::Text(text) = disk::read(path, MAX_FILE_BYTES, Links::Follow) else {
        return None;
    };
    let label = format!("CRD in {}", file_uri(path));
    let store = crd::store_from_text(&label, &text)?;
    Some(Arc::new(store.with_kind(kind)))
}

fn file_uri(path: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Uri::from_file_path(&absolute)
        .map(|uri| uri.as_str().to_string())
        .unwrap_or_else(|| absolute.display().to_string())
}
