//! The workspace as the server keeps it: the index of every Kubernetes document of the
//! workspace folders ([`crate::workspace::Workspace`]) and the schema sources the server puts in
//! its [`Catalog`]: CRDs of open documents, CRD files of the workspace folders (the files the
//! index found CRDs in), files of the `schemaPaths` setting, and the live cluster's layer (set by
//! the cluster work); the built-in schema is always last. Whenever one of them changes, a new
//! catalog is installed in the document store and the caller re-publishes the open documents.
//!
//! Every method that reads files or parses is blocking: the server calls them off the request
//! path (`spawn_blocking`).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use ropey::Rope;
use tower_lsp_server::ls_types::Uri;

use super::store::Store;
use crate::schema::{Catalog, SourceKind, crd};
use crate::workspace::Workspace;
use crate::workspace::crd_files::{load_crd_file, load_crd_files};
use crate::workspace::index::{Index, Origin};

/// The CRD layers of one open document: one store per CRD document, keyed by its text's hash
/// so an edit elsewhere in the file reuses them.
#[derive(Default)]
struct OpenLayers {
    by_hash: HashMap<u64, Option<Arc<crate::schema::Store>>>,
}

#[derive(Default)]
struct Sources {
    open: HashMap<PathBuf, OpenLayers>,
    workspace: HashMap<PathBuf, Arc<crate::schema::Store>>,
    schema_paths: Vec<Arc<crate::schema::Store>>,
    live: Option<Arc<crate::schema::Store>>,
}

pub struct SchemaSources {
    documents: Arc<Store>,
    workspace: Arc<Workspace>,
    state: Mutex<Sources>,
}

/// The index's key of a document: its file path, or for a document that has none (`untitled:`)
/// its URI's text.
pub fn document_path(uri: &Uri) -> PathBuf {
    file_path(uri).unwrap_or_else(|| PathBuf::from(uri.as_str()))
}

/// The path of a `file:` URI.
pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    let is_file = uri.scheme().as_str().eq_ignore_ascii_case("file");
    is_file
        .then(|| uri.to_file_path().map(|path| path.into_owned()))
        .flatten()
}

impl SchemaSources {
    pub fn new(documents: Arc<Store>) -> Arc<Self> {
        Arc::new(SchemaSources {
            documents,
            workspace: Arc::new(Workspace::default()),
            state: Mutex::new(Sources::default()),
        })
    }

    fn state(&self) -> MutexGuard<'_, Sources> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The workspace index, for the features that ask it.
    pub fn workspace(&self) -> &Arc<Workspace> {
        &self.workspace
    }

    /// The workspace folders (from `initialize`, then `workspace/didChangeWorkspaceFolders`).
    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        self.workspace.set_roots(roots);
    }

    /// After workspace folders were added or removed (`workspace/didChangeWorkspaceFolders`,
    /// [`set_roots`](Self::set_roots); blocking): the index reads the folders again, and the
    /// workspace's CRDs are those of the folders now. `true` when the catalog changed.
    pub fn rescan_workspace(&self) -> bool {
        if !self.workspace.roots().is_empty() {
            return self.scan_workspace();
        }
        let mut state = self.state();
        let had_crds = !std::mem::take(&mut state.workspace).is_empty();
        if had_crds {
            self.install(&state);
        }
        had_crds
    }

    /// Indexes the workspace folders, then reads the CRD files the index found. The index
    /// answers queries while it fills; the catalog gets the workspace's CRDs at the end.
    pub fn scan_workspace(&self) -> bool {
        if self.workspace.roots().is_empty() {
            return false;
        }
        self.workspace.scan();
        let files = crd_files(&self.workspace.read(), None);
        let found: HashMap<PathBuf, Arc<crate::schema::Store>> = files
            .into_iter()
            .filter_map(|path| Some((path.clone(), load_crd_file(&path, SourceKind::Crd)?)))
            .collect();
        tracing::info!("workspace scan: {} files with CRDs", found.len());
        let mut state = self.state();
        state.workspace = found;
        self.install(&state);
        true
    }

    #[cfg(test)]
    /// An open document's text (tests; the server goes through
    /// [`document_changed`](Self::document_changed)): the index takes it and its CRDs are read
    /// again. `true` when the catalog changed.
    pub fn set_document_text(&self, path: &Path, text: &str) -> bool {
        self.workspace.open_text(path, text);
        let ranges = crate::yaml::split::split(text).documents;
        self.set_open_layers(path, &ropey::Rope::from_str(text), &ranges)
    }

    /// An open document, last in state `closed` when known, was closed: its CRDs go, and its
    /// file on disk counts again; unless it was opened again and the index holds the new open's
    /// text already (a close that comes late).
    pub fn close_document(&self, path: &Path, closed: Option<u64>) -> bool {
        if !self.workspace.close(path, closed) {
            return false;
        }
        let mut state = self.state();
        let had_layers = state.open.remove(path).is_some();
        let on_disk_changed = self.reload_workspace_files(&mut state, path);
        let changed = had_layers || on_disk_changed;
        if changed {
            self.install(&state);
        }
        changed
    }

    /// Files (or folders) created, changed or deleted on disk
    /// (`workspace/didChangeWatchedFiles`): the index reads them again, and so are the CRDs of
    /// workspace files that are not open (an open document's text wins until it is closed).
    /// `true` when the catalog changed.
    pub fn disk_changed(&self, paths: &[PathBuf]) -> bool {
        self.workspace.files_changed(paths);
        let mut state = self.state();
        let mut changed = false;
        for path in paths {
            changed |= self.reload_workspace_files(&mut state, path);
        }
        if changed {
            self.install(&state);
        }
        changed
    }

    /// Applies the `schemaPaths` setting (blocking: reads the files). Relative paths are
    /// resolved against the first workspace folder.
    pub fn set_schema_paths(&self, paths: Vec<PathBuf>) -> bool {
        let base = self.workspace.roots().first().cloned();
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

    /// Replaces an open document's CRD layers with those of its YAML documents at `ranges` of
    /// `rope` that mention the CRD kind; `true` when the catalog changed.
    fn set_open_layers(&self, path: &Path, rope: &Rope, ranges: &[Range<usize>]) -> bool {
        let label = format!("CRD in {}", label_of(path));
        let mut state = self.state();
        let previous = state.open.remove(path).unwrap_or_default();
        // The file's CRDs on disk no longer count (they come back when it is closed); they did
        // until now if the open text had none.
        let disk_counted = state.workspace.remove(path).is_some() && previous.by_hash.is_empty();
        let mut layers = OpenLayers::default();
        // One pass over the file first: most files define no CRD, and a big one has thousands
        // of documents to look through one by one.
        let any = crate::text::contains(rope.slice(..), crd::CRD_KIND);
        let crds = ranges.iter().filter(|range| {
            any && {
                count_work!(LOOKED_AT_FOR_CRDS);
                rope.get_byte_slice((*range).clone())
                    .is_some_and(|document| crate::text::contains(document, crd::CRD_KIND))
            }
        });
        for range in crds {
            let Some(hash) = rope
                .get_byte_slice(range.clone())
                .map(crate::text::hash_of_slice)
            else {
                continue;
            };
            let store = match previous.by_hash.get(&hash) {
                Some(store) => store.clone(),
                None => crd::store_from_rope(&label, rope, range.clone()).map(Arc::new),
            };
            layers.by_hash.insert(hash, store);
        }
        let changed = disk_counted
            || layers.by_hash.keys().collect::<HashSet<_>>()
                != previous.by_hash.keys().collect::<HashSet<_>>();
        if !layers.by_hash.is_empty() {
            state.open.insert(path.to_path_buf(), layers);
        }
        if changed {
            self.install(&state);
        }
        changed
    }

    /// Brings the CRDs of the workspace files at or under `path` in line with the index: those
    /// it says define CRDs (and are not open) are read again, the others are forgotten. `true`
    /// when some had or have CRDs.
    fn reload_workspace_files(&self, state: &mut Sources, path: &Path) -> bool {
        let defining = crd_files(&self.workspace.read(), Some(path));
        let forgotten: Vec<PathBuf> = state
            .workspace
            .keys()
            .filter(|known| known.starts_with(path) && !defining.contains(*known))
            .cloned()
            .collect();
        let mut changed = !forgotten.is_empty();
        for known in forgotten {
            state.workspace.remove(&known);
        }
        for file in defining {
            changed = true;
            match load_crd_file(&file, SourceKind::Crd) {
                Some(store) => state.workspace.insert(file, store),
                None => state.workspace.remove(&file),
            };
        }
        changed
    }

    /// Builds the catalog of the current sources and hands it to the document store.
    fn install(&self, state: &Sources) {
        let mut open: Vec<(&PathBuf, &OpenLayers)> = state.open.iter().collect();
        open.sort_by_key(|(path, _)| *path);
        let mut workspace: Vec<(&PathBuf, &Arc<crate::schema::Store>)> = state
            .workspace
            .iter()
            .filter(|(path, _)| !state.open.contains_key(*path))
            .collect();
        workspace.sort_by_key(|(path, _)| *path);
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

impl SchemaSources {
    /// An open document was opened or edited: the index and its CRDs take its current text.
    /// `true` when the catalog changed.
    pub fn document_changed(&self, uri: &Uri) -> bool {
        let Some((snapshot, stamp)) = self.documents.stamped_snapshot(uri) else {
            return false;
        };
        let path = document_path(uri);
        let (rope, ranges) = (&snapshot.rope, &snapshot.documents);
        self.workspace
            .sync_open(&path, stamp.revision(), rope, ranges);
        self.set_open_layers(&path, rope, ranges)
    }
}

/// The files on disk at or under `under` (everywhere without it) that define CRDs.
fn crd_files(index: &Index, under: Option<&Path>) -> HashSet<PathBuf> {
    index
        .crds()
        .filter(|found| found.origin == Origin::Disk)
        .filter(|found| under.is_none_or(|under| found.path.starts_with(under)))
        .map(|found| found.path.to_path_buf())
        .collect()
}

/// How a CRD layer names the document it came from: its URI.
fn label_of(path: &Path) -> String {
    if path.is_absolute() {
        Uri::from_file_path(path)
            .map(|uri| uri.as_str().to_string())
            .unwrap_or_else(|| path.display().to_string())
    } else {
        path.display().to_string()
    }
}

work_counter!(
    /// How many documents of open files this thread looked through for a CRD so far.
    fn looked_at_for_crds() => LOOKED_AT_FOR_CRDS
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::index::Namespace;

    #[test]
    fn an_open_file_without_a_crd_is_not_looked_through_document_by_document() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let (documents, sources) = scanned(&root);
        let config_maps =
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n".repeat(1000);
        let before = looked_at_for_crds();
        assert!(!sources.set_document_text(&root.join("many.yaml"), &config_maps));
        assert_eq!(looked_at_for_crds() - before, 0);
        let with_crd = format!("{config_maps}---\n{}", crd("Widget"));
        assert!(sources.set_document_text(&root.join("many.yaml"), &with_crd));
        assert!(serves(&documents, "Widget"));
        assert_eq!(looked_at_for_crds() - before, 1001);
    }

    fn crd(kind: &str) -> String {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {kind}s.example.com}}\nspec:\n  group: example.com\n  names: {{kind: {kind}, plural: {kind}s}}\n  scope: Namespaced\n  versions: [{{name: v1, served: true, storage: true, schema: {{openAPIV3Schema: {{type: object}}}}}}]\n"
        )
    }

    /// Sources over a fresh store, with `root` as the workspace folder, scanned.
    fn scanned(root: &Path) -> (Arc<Store>, Arc<SchemaSources>) {
        let documents = Arc::new(Store::default());
        let sources = SchemaSources::new(documents.clone());
        sources.set_roots(vec![root.to_path_buf()]);
        assert!(sources.scan_workspace());
        (documents, sources)
    }

    fn serves(documents: &Store, kind: &str) -> bool {
        documents
            .catalog()
            .schemas_for("example.com/v1", kind)
            .is_some()
    }

    #[test]
    fn the_scan_skips_vendored_folders_and_reads_crd_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::create_dir_all(root.join("deploy")).unwrap();
        std::fs::write(root.join("node_modules/x/crd.yaml"), crd("Gadget")).unwrap();
        std::fs::write(root.join("deploy/crd.yml"), crd("Widget")).unwrap();
        std::fs::write(
            root.join("deploy/app.yaml"),
            "apiVersion: v1\nkind: ConfigMap\n",
        )
        .unwrap();
        let (documents, sources) = scanned(&root);
        assert!(serves(&documents, "Widget") && !serves(&documents, "Gadget"));
        let found = documents
            .catalog()
            .schemas_for("example.com/v1", "Widget")
            .unwrap()
            .source
            .to_string();
        assert!(found.starts_with("CRD in file://"), "{found}");
        assert!(found.ends_with("deploy/crd.yml"), "{found}");
        // One walk: the index has every manifest, the catalog the CRDs among them.
        let index = sources.workspace().read();
        assert_eq!(index.len(), 2);
        assert_eq!(index.of_kind("ConfigMap", None, Namespace::Any).count(), 1);

        // `schemaPaths` folders are walked the same way.
        let found = load_crd_files(std::slice::from_ref(&root), SourceKind::SchemaPath);
        assert_eq!(found.len(), 1);
        assert!(found[0].0.ends_with("deploy/crd.yml"));
    }

    #[test]
    fn crd_files_changed_on_disk_are_read_again_unless_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let path = root.join("crd.yaml");
        std::fs::write(&path, crd("Widget")).unwrap();
        let (documents, sources) = scanned(&root);
        assert!(serves(&documents, "Widget"));
        std::fs::write(&path, crd("Gadget")).unwrap();
        assert!(sources.disk_changed(std::slice::from_ref(&path)));
        assert!(serves(&documents, "Gadget") && !serves(&documents, "Widget"));

        // A file outside the workspace, or one that holds no CRD and held none, changes nothing.
        let outside = tempfile::tempdir().unwrap();
        let other = outside.path().join("crd.yaml");
        std::fs::write(&other, crd("Thing")).unwrap();
        assert!(!sources.disk_changed(&[other]));
        let plain = root.join("app.yaml");
        std::fs::write(&plain, "apiVersion: v1\nkind: ConfigMap\n").unwrap();
        assert!(!sources.disk_changed(&[plain]));
        assert_eq!(
            sources.workspace().read().len(),
            2,
            "the index has it all the same"
        );

        // Open: the editor's text wins over the disk.
        assert!(sources.set_document_text(&path, &crd("Doohickey")));
        assert!(serves(&documents, "Doohickey") && !serves(&documents, "Gadget"));
        std::fs::write(&path, crd("Gizmo")).unwrap();
        assert!(!sources.disk_changed(std::slice::from_ref(&path)));
        assert!(serves(&documents, "Doohickey") && !serves(&documents, "Gizmo"));
        // An edit that keeps the CRD's text changes nothing.
        let edited = format!("{}---\napiVersion: v1\nkind: ConfigMap\n", crd("Doohickey"));
        assert!(!sources.set_document_text(&path, &edited));
        // Closed: the file on disk counts again.
        assert!(sources.close_document(&path, None));
        assert!(serves(&documents, "Gizmo") && !serves(&documents, "Doohickey"));

        // Deleted: its CRDs are gone, from the catalog and from the index.
        std::fs::remove_file(&path).unwrap();
        assert!(sources.disk_changed(std::slice::from_ref(&path)));
        assert!(!serves(&documents, "Gizmo"));
        assert_eq!(sources.workspace().read().crds().count(), 0);
    }

    #[test]
    fn a_deleted_folder_takes_its_crds_along() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("crds")).unwrap();
        std::fs::write(root.join("crds/a.yaml"), crd("Widget")).unwrap();
        std::fs::write(root.join("crds/b.yaml"), crd("Gadget")).unwrap();
        let (documents, sources) = scanned(&root);
        assert!(serves(&documents, "Widget") && serves(&documents, "Gadget"));
        std::fs::remove_dir_all(root.join("crds")).unwrap();
        assert!(sources.disk_changed(&[root.join("crds")]));
        assert!(!serves(&documents, "Widget") && !serves(&documents, "Gadget"));
        assert!(sources.workspace().read().is_empty());
    }

    fn config_map(name: &str) -> String {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n")
    }

    fn indexes(sources: &SchemaSources, name: &str) -> bool {
        let index = sources.workspace().read();
        index.named("ConfigMap", None, Namespace::Any, name).count() == 1
    }

    #[test]
    fn a_reopened_document_is_indexed_at_the_same_version_and_a_late_close_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let path = root.join("cm.yaml");
        std::fs::write(&path, config_map("on-disk")).unwrap();
        let (documents, sources) = scanned(&root);
        let uri = Uri::from_file_path(&path).unwrap();
        documents.open(uri.clone(), &config_map("first"), 1);
        sources.document_changed(&uri);
        assert!(indexes(&sources, "first"));
        let first = documents.close(&uri).map(|stamp| stamp.revision());
        // Opened again, at version 1 too, before the close is taken in (the server takes both
        // in on other threads).
        documents.open(uri.clone(), &config_map("second"), 1);
        sources.document_changed(&uri);
        assert!(indexes(&sources, "second") && !indexes(&sources, "first"));
        assert!(!sources.close_document(&path, first));
        assert!(indexes(&sources, "second") && !indexes(&sources, "on-disk"));
        // Its own close is taken in.
        let second = documents.close(&uri).map(|stamp| stamp.revision());
        sources.close_document(&path, second);
        assert!(indexes(&sources, "on-disk") && !indexes(&sources, "second"));
    }

    #[test]
    fn an_open_file_is_parsed_once_and_indexed_from_the_open_s_trees() {
        use crate::workspace::document::parsed_here;
        let documents = Arc::new(Store::default());
        let sources = SchemaSources::new(documents.clone());
        documents.set_workspace(sources.workspace().clone());
        let text: String = (0..30)
            .map(|n| config_map(&format!("cm-{n}")))
            .collect::<Vec<_>>()
            .join("---\n");
        let uri: Uri = "file:///work/app/all.yaml".parse().unwrap();
        let before = parsed_here();
        let scanned = crate::workspace::open::scanned_for_actions();
        documents.begin_open(uri.clone(), text.clone(), 1).finish();
        assert_eq!(
            crate::workspace::open::scanned_for_actions() - scanned,
            0,
            "the open's threads looked for template actions as they read the documents"
        );
        let opened = documents.with_document(&uri, |document| document.yaml_stats());
        assert_eq!(
            opened.map(|stats| stats.full),
            Some(30),
            "the open parsed each document once"
        );
        assert_eq!(
            parsed_here() - before,
            0,
            "the index parsed none of them again"
        );
        assert!(indexes(&sources, "cm-0") && indexes(&sources, "cm-29"));
        // Taken in after the open: nothing to read again.
        sources.document_changed(&uri);
        assert_eq!(parsed_here() - before, 0);

        // An edit: the index reads the document it touched, once.
        let at = text.find("cm-7").unwrap();
        type_at(&documents, &uri, &text, at, "x", 2);
        sources.document_changed(&uri);
        assert_eq!(parsed_here() - before, 1);
        assert!(indexes(&sources, "xcm-7") && !indexes(&sources, "cm-7"));
    }

    /// Types `typed` at byte `at` of the open document `uri` (whose text is `text`).
    fn type_at(documents: &Store, uri: &Uri, text: &str, at: usize, typed: &str, version: i32) {
        let line = text[..at].matches('\n').count() as u32;
        let character = (at - text[..at].rfind('\n').map_or(0, |n| n + 1)) as u32;
        let position = crate::text::Position::new(line, character);
        let change = crate::features::document::Change {
            range: Some(position..position),
            text: typed,
        };
        documents.change(uri, version, &[change]);
    }

    #[test]
    fn open_documents_outside_the_workspace_and_untitled_ones() {
        let documents = Arc::new(Store::default());
        let sources = SchemaSources::new(documents.clone());
        let untitled = document_path(&"untitled:Untitled-1".parse().unwrap());
        assert_eq!(untitled, Path::new("untitled:Untitled-1"));
        assert!(sources.set_document_text(&untitled, &crd("Widget")));
        assert!(serves(&documents, "Widget"));
        let found = documents
            .catalog()
            .schemas_for("example.com/v1", "Widget")
            .unwrap()
            .source
            .to_string();
        assert_eq!(found, "CRD in untitled:Untitled-1");
        assert_eq!(sources.workspace().read().crds().count(), 1);
        assert!(sources.close_document(&untitled, None));
        assert!(!serves(&documents, "Widget"));
        assert!(sources.workspace().read().is_empty());
    }
}
