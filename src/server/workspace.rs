//! The schema sources the server puts in its [`Catalog`]: CRDs of open documents, CRD files of
//! the workspace folders (scanned once, off the request path), files of the `schemaPaths`
//! setting, and the live cluster's layer (set by the cluster work); the built-in schema is
//! always last. Whenever one of them changes, a new catalog is installed in the document store
//! and the caller re-publishes the open documents.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use tower_lsp_server::ls_types::Uri;

use super::store::Store;
use crate::schema::{Catalog, SourceKind, crd};
use crate::workspace::crd_files::{file_uri, is_schema_file, load_crd_file, load_crd_files};

/// The CRD layers of one open document: one store per CRD document, keyed by its text's hash
/// so an edit elsewhere in the file reuses them.
#[derive(Default)]
struct OpenLayers {
    by_hash: HashMap<u64, Option<Arc<crate::schema::Store>>>,
}

#[derive(Default)]
struct Sources {
    open: HashMap<String, OpenLayers>,
    workspace: HashMap<String, Arc<crate::schema::Store>>,
    schema_paths: Vec<Arc<crate::schema::Store>>,
    live: Option<Arc<crate::schema::Store>>,
    roots: Vec<PathBuf>,
}

pub struct SchemaSources {
    documents: Arc<Store>,
    state: Mutex<Sources>,
}

impl SchemaSources {
    pub fn new(documents: Arc<Store>) -> Arc<Self> {
        Arc::new(SchemaSources {
            documents,
            state: Mutex::new(Sources::default()),
        })
    }

    fn state(&self) -> MutexGuard<'_, Sources> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Re-reads the CRDs of an open document; `true` when the catalog changed.
    pub fn document_changed(&self, uri: &Uri) -> bool {
        let texts = self
            .documents
            .crd_document_texts(uri, crd::CRD_KIND)
            .unwrap_or_default();
        let mut state = self.state();
        let key = uri.as_str().to_string();
        let previous = state.open.remove(&key).unwrap_or_default();
        let mut layers = OpenLayers::default();
        for text in &texts {
            let hash = hash_of(text);
            let store = match previous.by_hash.get(&hash) {
                Some(store) => store.clone(),
                None => crd::store_from_text(&format!("CRD in {key}"), text).map(Arc::new),
            };
            layers.by_hash.insert(hash, store);
        }
        let changed = layers.by_hash.keys().collect::<HashSet<_>>()
            != previous.by_hash.keys().collect::<HashSet<_>>();
        if !layers.by_hash.is_empty() {
            state.open.insert(key, layers);
        }
        if changed {
            self.install(&state);
        }
        changed
    }

    /// Forgets an open document's CRDs (its saved version, if in the workspace, comes back).
    pub fn document_closed(&self, uri: &Uri) -> bool {
        let mut state = self.state();
        let key = uri.as_str();
        let had_layers = state.open.remove(key).is_some();
        let on_disk_changed = uri
            .to_file_path()
            .is_some_and(|path| reload_workspace_file(&mut state, &path, key));
        let changed = had_layers || on_disk_changed;
        if changed {
            self.install(&state);
        }
        changed
    }

    /// Files changed on disk (`workspace/didChangeWatchedFiles`): the CRDs of workspace files
    /// that are not open are read again (an open document's own text wins until it is closed).
    /// `true` when the catalog changed.
    pub fn files_changed(&self, uris: &[Uri]) -> bool {
        let mut state = self.state();
        let mut changed = false;
        for uri in uris {
            let (key, Some(path)) = (uri.as_str(), uri.to_file_path()) else {
                continue;
            };
            if !state.open.contains_key(key) {
                changed |= reload_workspace_file(&mut state, &path, key);
            }
        }
        if changed {
            self.install(&state);
        }
        changed
    }

    /// The workspace folders (from `initialize`).
    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        self.state().roots = roots;
    }

    /// Scans the workspace folders for CRD files (blocking: run it off the request path).
    pub fn scan_workspace(&self) -> bool {
        let roots = self.state().roots.clone();
        if roots.is_empty() {
            return false;
        }
        let found = load_crd_files(&roots, SourceKind::Crd);
        tracing::info!("workspace scan: {} files with CRDs", found.len());
        let mut state = self.state();
        state.workspace = found
            .into_iter()
            .map(|(path, store)| (file_uri(&path), store))
            .collect();
        self.install(&state);
        true
    }

    /// Applies the `schemaPaths` setting (blocking: reads the files). Relative paths are
    /// resolved against the first workspace folder.
    pub fn set_schema_paths(&self, paths: Vec<PathBuf>) -> bool {
        let base = self.state().roots.first().cloned();
        let paths: Vec<PathBuf> = paths
            .into_iter()
            .map(|p| match (&base, p.is_relative()) {
                (Some(base), true) => base.join(p),
                _ => p,
            })
            .collect();
        for path in &paths {
            if !path.exists() {
                tracing::warn!("schemaPaths: {} does not exist", path.display());
            }
        }
        let stores = load_crd_files(&paths, SourceKind::SchemaPath);
        let mut state = self.state();
        state.schema_paths = stores.into_iter().map(|(_, store)| store).collect();
        self.install(&state);
        true
    }

    /// Sets (or clears) the live cluster's layer.
    pub fn set_live(&self, layer: Option<Arc<crate::schema::Store>>) {
        let mut state = self.state();
        state.live = layer;
        self.install(&state);
    }

    /// Builds the catalog of the current sources and hands it to the document store.
    fn install(&self, state: &Sources) {
        let mut open: Vec<(&String, &OpenLayers)> = state.open.iter().collect();
        open.sort_by_key(|(uri, _)| *uri);
        let mut workspace: Vec<(&String, &Arc<crate::schema::Store>)> = state
            .workspace
            .iter()
            .filter(|(uri, _)| !state.open.contains_key(*uri))
            .collect();
        workspace.sort_by_key(|(uri, _)| *uri);
        let layers = state
            .live
            .iter()
            .cloned()
            .chain(
                open.into_iter()
                    .flat_map(|(_, layers)| layers.by_hash.values().flatten().cloned()),
            )
            .chain(workspace.into_iter().map(|(_, store)| store.clone()))
            .chain(state.schema_paths.iter().cloned());
        self.documents.set_catalog(Catalog::with_builtin(layers));
    }
}

/// Reads a workspace file's CRDs again (none if it was deleted or holds none); `true` when it
/// has or had some. Files outside the workspace folders are not read.
fn reload_workspace_file(state: &mut Sources, path: &Path, key: &str) -> bool {
    let in_workspace = state.roots.iter().any(|root| path.starts_with(root));
    if !in_workspace || !is_schema_file(path, Path::new("")) {
        return false;
    }
    match load_crd_file(path, SourceKind::Crd) {
        Some(store) => {
            state.workspace.insert(key.to_string(), store);
            true
        }
        None => state.workspace.remove(key).is_some(),
    }
}

fn hash_of(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_skips_vendored_folders_and_reads_crd_files() {
        let dir = tempfile::tempdir().unwrap();
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object}\n";
        std::fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
        std::fs::create_dir_all(dir.path().join("deploy")).unwrap();
        std::fs::write(dir.path().join("node_modules/x/crd.yaml"), crd).unwrap();
        std::fs::write(dir.path().join("deploy/crd.yml"), crd).unwrap();
        std::fs::write(
            dir.path().join("deploy/app.yaml"),
            "apiVersion: v1\nkind: ConfigMap\n",
        )
        .unwrap();
        let found = load_crd_files(&[dir.path().to_path_buf()], SourceKind::Crd);
        assert_eq!(found.len(), 1);
        assert!(found[0].0.ends_with("deploy/crd.yml"));
        let store = &found[0].1;
        assert!(
            store.source().starts_with("CRD in file://"),
            "{}",
            store.source()
        );
        assert!(store.resource("example.com/v1", "Widget").is_some());
    }

    #[test]
    fn crd_files_changed_on_disk_are_read_again_unless_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let crd = |kind: &str| {
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {kind}s.example.com}}\nspec:\n  group: example.com\n  names: {{kind: {kind}, plural: {kind}s}}\n  scope: Namespaced\n  versions: [{{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object}}}}}}]\n"
            )
        };
        let path = root.join("crd.yaml");
        std::fs::write(&path, crd("Widget")).unwrap();
        let documents = Arc::new(Store::default());
        let sources = SchemaSources::new(documents.clone());
        sources.set_roots(vec![root.clone()]);
        sources.scan_workspace();
        let serves = |kind: &str| {
            documents
                .catalog()
                .schemas_for("example.com/v1", kind)
                .is_some()
        };
        assert!(serves("Widget"));
        let uri = Uri::from_file_path(&path).unwrap();

        std::fs::write(&path, crd("Gadget")).unwrap();
        assert!(sources.files_changed(std::slice::from_ref(&uri)));
        assert!(serves("Gadget") && !serves("Widget"));

        // A file outside the workspace, or one that holds no CRD and held none, changes nothing.
        let outside = tempfile::tempdir().unwrap();
        let other = outside.path().join("crd.yaml");
        std::fs::write(&other, crd("Thing")).unwrap();
        assert!(!sources.files_changed(&[Uri::from_file_path(&other).unwrap()]));
        let plain = root.join("app.yaml");
        std::fs::write(&plain, "apiVersion: v1\nkind: ConfigMap\n").unwrap();
        assert!(!sources.files_changed(&[Uri::from_file_path(&plain).unwrap()]));

        // Deleted: its CRDs are gone.
        std::fs::remove_file(&path).unwrap();
        assert!(sources.files_changed(std::slice::from_ref(&uri)));
        assert!(!serves("Gadget"));
    }
}
