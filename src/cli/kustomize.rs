//! `kube-lsp check` and kustomize: each checked file read in its role (a kustomization, a
//! patch), kustomize's checks of kustomizations and patch files, and every kustomization among
//! the inputs rendered, its findings reported on the files that produced them (as the server
//! does). A file checked without its kustomization is read in the context of the kustomizations
//! near it (its folder and the two above): its role comes from them, and those including it are
//! rendered, their findings reported on the checked files only.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::iter::{IntoParallelRefIterator, ParallelIterator};
use ropey::Rope;

use super::check::Reported;
use crate::diagnostic::Diagnostic;
use crate::features::kustomize::{self, Context, navigation};
use crate::render::kustomize::{Settings, Tool, render};
use crate::schema::Catalog;
use crate::schema::validate::Role;
use crate::workspace::Workspace;
use crate::workspace::kustomize::{Disk, Files, is_kustomization, kustomization_in};

/// A kustomization rendered by `check`.
pub struct RenderedKustomization {
    pub kustomization: PathBuf,
    /// The folder origin paths in `output` are relative to.
    pub base: PathBuf,
    pub output: String,
    /// Only findings on checked files are reported.
    pub inputs_only: bool,
}

/// The checked files as kustomize sees them.
pub struct Inputs {
    workspace: Workspace,
    /// Canonical path → the name the report uses.
    names: HashMap<PathBuf, String>,
    /// The name the report uses → canonical path.
    by_name: HashMap<String, PathBuf>,
    /// Kustomizations near the checked files that are not checked themselves.
    near: Vec<PathBuf>,
    roots: Vec<PathBuf>,
}

/// [`Inputs`] being read.
pub struct Reader {
    workspace: Workspace,
    roots: Vec<PathBuf>,
    folders: CanonicalFolders,
    near: NearKustomizations,
    /// Whether a file read is a kustomization.
    has_kustomization: AtomicBool,
}

/// The kustomizations of the folders near the files read (a file's folder and the two above),
/// looked for as the files are read, on their threads: each folder once.
#[derive(Default)]
struct NearKustomizations {
    /// Canonical folder → its kustomization, if it has one.
    looked_in: RwLock<HashMap<PathBuf, Option<PathBuf>>>,
    /// Whether one of them has a kustomization.
    found: AtomicBool,
}

impl NearKustomizations {
    /// Looks in the folders near `path` (canonical) not looked in yet.
    fn look_near(&self, path: &Path) {
        for folder in path.ancestors().skip(1).take(3) {
            if self.read().contains_key(folder) {
                continue;
            }
            let kustomization = kustomization_in(&Disk, folder);
            if kustomization.is_some() {
                self.found.store(true, Ordering::Relaxed);
            }
            self.looked_in
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(folder.to_path_buf(), kustomization);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<PathBuf, Option<PathBuf>>> {
        self.looked_in.read().unwrap_or_else(|p| p.into_inner())
    }

    /// How many folders were looked in.
    fn folders(&self) -> usize {
        self.read().len()
    }
}

/// Canonical paths of files that share folders: each folder is canonicalized once (a
/// `readlink` per component of its path), each file looked at with one `lstat`.
#[derive(Default)]
struct CanonicalFolders {
    /// Folder as given → its canonical path (`None`: it has none).
    known: std::sync::RwLock<HashMap<PathBuf, Option<PathBuf>>>,
    /// How many paths were canonicalized on disk.
    canonicalized: std::sync::atomic::AtomicUsize,
}

impl CanonicalFolders {
    /// What `std::fs::canonicalize(path)` says: a file that is not a link is its folder's
    /// canonical path joined with its name.
    fn canonical(&self, path: &Path) -> Option<PathBuf> {
        let name = path.file_name()?;
        let is_link = std::fs::symlink_metadata(path)
            .ok()?
            .file_type()
            .is_symlink();
        if is_link {
            return self.canonicalize(path);
        }
        let folder = path
            .parent()
            .filter(|f| !f.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let known = self.known.read().unwrap_or_else(|p| p.into_inner());
        let canonical = match known.get(folder) {
            Some(canonical) => canonical.clone(),
            None => {
                drop(known);
                let canonical = self.canonicalize(folder);
                self.known
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(folder.to_path_buf(), canonical.clone());
                canonical
            }
        };
        Some(canonical?.join(name))
    }

    fn canonicalize(&self, path: &Path) -> Option<PathBuf> {
        self.canonicalized
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::fs::canonicalize(path).ok()
    }
}

impl Reader {
    fn new(roots: &[PathBuf]) -> Reader {
        let workspace = Workspace::default();
        let roots: Vec<PathBuf> = std::env::current_dir()
            .into_iter()
            .chain(roots.iter().cloned())
            .filter_map(|r| std::fs::canonicalize(r).ok())
            .map(|r| {
                if r.is_dir() {
                    r
                } else {
                    r.parent().map(Path::to_path_buf).unwrap_or(r)
                }
            })
            .collect();
        workspace.set_roots(roots.clone());
        Reader {
            workspace,
            roots,
            folders: CanonicalFolders::default(),
            near: NearKustomizations::default(),
            has_kustomization: AtomicBool::new(false),
        }
    }

    /// Reads a checked file (`path` as given); its canonical path, `None` when it has none. Only
    /// kustomizations are read now: the other files matter only when there are kustomizations.
    /// The folders near a file that is not one are looked in for kustomizations.
    pub fn add(&self, path: &Path, text: &str) -> Option<PathBuf> {
        let path = self.folders.canonical(path)?;
        if is_kustomization(&path) {
            self.has_kustomization.store(true, Ordering::Relaxed);
            self.workspace.open_text(&path, text);
        } else {
            self.near.look_near(&path);
        }
        Some(path)
    }

    /// How many folders [`add`](Self::add) looked in for a kustomization.
    pub fn folders_looked_in(&self) -> usize {
        self.near.folders()
    }

    /// How many paths [`add`](Self::add) canonicalized on disk (folders, and files that are links).
    pub fn canonicalized(&self) -> usize {
        self.folders
            .canonicalized
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The inputs, from the canonical paths [`add`](Self::add) gave and their names in reports;
    /// the kustomizations near them are read too. When there are kustomizations, the other files
    /// are read again with `read` (on the current rayon pool's threads). Without any, no file
    /// has a kustomize role: the names are not kept.
    pub fn finish(
        self,
        names: Vec<(PathBuf, String)>,
        read: impl Fn(&Path) -> Option<String> + Sync,
    ) -> Inputs {
        let workspace = self.workspace;
        if !self.has_kustomization.load(Ordering::Relaxed)
            && !self.near.found.load(Ordering::Relaxed)
        {
            return Inputs {
                workspace,
                names: HashMap::new(),
                by_name: HashMap::new(),
                near: Vec::new(),
                roots: self.roots,
            };
        }
        let names: HashMap<PathBuf, String> = names.into_iter().collect();
        let looked_in = self
            .near
            .looked_in
            .into_inner()
            .unwrap_or_else(|p| p.into_inner());
        let mut near = Vec::new();
        let mut checked: Vec<&PathBuf> = names.keys().filter(|p| !is_kustomization(p)).collect();
        checked.sort();
        // In the order of the files' paths, each folder once.
        let mut seen = HashSet::new();
        let found = checked
            .iter()
            .flat_map(|path| path.ancestors().skip(1).take(3))
            .filter(|folder| seen.insert(*folder))
            .filter_map(|folder| looked_in.get(folder).cloned().flatten());
        for kustomization in found {
            if names.contains_key(&kustomization) || near.contains(&kustomization) {
                continue;
            }
            if let Some(text) = Disk.read(&kustomization) {
                workspace.open_text(&kustomization, &text);
                near.push(kustomization);
            }
        }
        if !near.is_empty() || names.keys().any(|path| is_kustomization(path)) {
            names
                .par_iter()
                .filter(|(path, _)| !is_kustomization(path))
                .for_each(|(path, _)| {
                    if let Some(text) = read(path) {
                        workspace.open_text(path, &text);
                    }
                });
        }
        let by_name = names
            .iter()
            .map(|(path, name)| (name.clone(), path.clone()))
            .collect();
        Inputs {
            workspace,
            names,
            by_name,
            near,
            roots: self.roots,
        }
    }
}

impl Inputs {
    /// `files`: (path as given, name in reports, text). The workspace folders are the current
    /// directory and the paths checked (an overlay's `../base` is followed from either).
    pub fn new(files: &[(PathBuf, String, String)], roots: &[PathBuf]) -> Inputs {
        let reader = Reader::new(roots);
        let mut texts = HashMap::new();
        let names = files
            .iter()
            .filter_map(|(path, name, text)| {
                let canonical = reader.add(path, text)?;
                texts.insert(canonical.clone(), text);
                Some((canonical, name.clone()))
            })
            .collect();
        reader.finish(names, |path| texts.get(path).map(|text| text.to_string()))
    }

    /// Inputs read one file at a time, from any thread ([`Reader::add`]), then
    /// [`Reader::finish`]ed.
    pub fn reader(roots: &[PathBuf]) -> Reader {
        Reader::new(roots)
    }
    /// What is rendered: the kustomizations checked, and the kustomizations near that include a
    /// checked file (`true`: only findings on checked files are reported).
    fn to_render(&self) -> Vec<(PathBuf, bool)> {
        let mut out: Vec<(PathBuf, bool)> = self
            .names
            .keys()
            .filter(|p| is_kustomization(p))
            .map(|p| (p.clone(), false))
            .collect();
        out.sort();
        if self.near.is_empty() {
            return out;
        }
        let index = self.workspace.read();
        let mut files: Vec<&PathBuf> = self.names.keys().filter(|p| !is_kustomization(p)).collect();
        files.sort();
        for file in files {
            for (kustomization, _) in navigation::references(file, &index, &Disk) {
                if self.near.contains(&kustomization)
                    && !out.iter().any(|(k, _)| *k == kustomization)
                {
                    out.push((kustomization, true));
                }
            }
        }
        out
    }

    fn canonical(&self, name: &str) -> Option<&Path> {
        self.by_name.get(name).map(PathBuf::as_path)
    }

    /// How the file reported as `name` is read.
    pub fn role(&self, name: &str) -> Role {
        match self.canonical(name) {
            Some(path) => kustomize::role_of(path, &self.workspace.read()),
            None => Role::Manifest,
        }
    }

    /// kustomize's checks of the file reported as `name` (a kustomization or a patch file).
    pub fn checks(&self, name: &str, text: &str, catalog: &Catalog) -> Vec<Diagnostic> {
        let Some(path) = self.canonical(name) else {
            return Vec::new();
        };
        let context = Context {
            files: &Disk,
            roots: &self.roots,
            catalog,
        };
        kustomize::check_file(path, text, &self.workspace.read(), &context)
    }

    /// Renders every kustomization among the inputs; the findings, as reports, and the outputs
    /// (for `--cluster`).
    pub fn render_all(
        &self,
        catalog: &Catalog,
        tool: Option<&Path>,
    ) -> (Vec<Reported>, Vec<RenderedKustomization>) {
        let settings = Settings {
            tool: Tool::from_setting(tool),
            ..Settings::default()
        };
        let kustomizations = self.to_render();
        let mut by_file: Vec<(PathBuf, Diagnostic)> = Vec::new();
        let mut outputs = Vec::new();
        let index = self.workspace.read();
        for (kustomization, inputs_only) in &kustomizations {
            let Some(text) = Disk.read(kustomization) else {
                continue;
            };
            if kustomize::is_component(&text) {
                continue;
            }
            let Some(folder) = kustomization.parent() else {
                continue;
            };
            match render(folder, &settings) {
                Ok(output) => {
                    for finding in kustomize::render_findings(
                        kustomization,
                        &output.base,
                        &output.output,
                        catalog,
                        &index,
                        &Disk,
                    ) {
                        if *inputs_only && !self.names.contains_key(&finding.path) {
                            continue;
                        }
                        if !by_file
                            .iter()
                            .any(|(p, d)| *p == finding.path && *d == finding.diagnostic)
                        {
                            by_file.push((finding.path, finding.diagnostic));
                        }
                    }
                    outputs.push(RenderedKustomization {
                        kustomization: kustomization.clone(),
                        base: output.base,
                        output: output.output,
                        inputs_only: *inputs_only,
                    });
                }
                Err(error) if error.is_not_found() => {
                    eprintln!("kube-lsp: kustomizations are not rendered: {error}");
                    break;
                }
                Err(error) => {
                    let message = error.to_string();
                    let context = Context {
                        files: &Disk,
                        roots: &self.roots,
                        catalog,
                    };
                    if !inputs_only
                        && let Some(failure) =
                            kustomize::render_failure(kustomization, &text, &message, &context)
                    {
                        by_file.push((kustomization.clone(), failure));
                    }
                }
            }
        }
        (self.reports(by_file), outputs)
    }

    /// The cluster's findings on a render's output (`found`: diagnostics in its offsets) as
    /// reports on the files that produced them.
    pub fn cluster_reports(
        &self,
        rendered: &RenderedKustomization,
        found: &[Diagnostic],
    ) -> Vec<Reported> {
        let findings = kustomize::rendered::cluster_findings(
            &rendered.kustomization,
            &rendered.base,
            &rendered.output,
            found,
            &Disk,
        );
        let by_file = findings
            .into_iter()
            .filter(|f| !rendered.inputs_only || self.names.contains_key(&f.path))
            .map(|f| (f.path, f.diagnostic))
            .collect();
        self.reports(by_file)
    }

    /// Findings as reports, each file named as the report names it.
    fn reports(&self, by_file: Vec<(PathBuf, Diagnostic)>) -> Vec<Reported> {
        let mut reported = Vec::new();
        for (path, diagnostic) in by_file {
            let Some(text) = Disk.read(&path) else {
                continue;
            };
            let name = self
                .names
                .get(&path)
                .cloned()
                .unwrap_or_else(|| path.display().to_string());
            reported.push(super::check::report(
                &name,
                &Rope::from_str(&text),
                &diagnostic,
            ));
        }
        reported
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_is_canonicalized_once_for_all_its_files() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        for folder in ["a", "b"] {
            std::fs::create_dir(dir.path().join(folder)).unwrap();
            for number in 0..10 {
                let file = dir.path().join(folder).join(format!("{number}.yaml"));
                std::fs::write(&file, "kind: ConfigMap\n").unwrap();
                files.push(file);
            }
        }
        // A linked folder and a linked file: canonical paths are where they lead.
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("c")).unwrap();
        files.push(dir.path().join("c").join("0.yaml"));
        std::os::unix::fs::symlink(dir.path().join("b/1.yaml"), dir.path().join("b/link.yaml"))
            .unwrap();
        files.push(dir.path().join("b").join("link.yaml"));
        files.push(dir.path().join("b").join("..").join("a").join("2.yaml"));
        let reader = Reader::new(&[dir.path().to_path_buf()]);
        for file in &files {
            assert_eq!(
                reader.add(file, "kind: ConfigMap\n"),
                Some(std::fs::canonicalize(file).unwrap()),
                "{}",
                file.display()
            );
        }
        assert_eq!(reader.add(&dir.path().join("a/missing.yaml"), ""), None);
        // The folders a, b, c and b/..; the link to a file.
        assert_eq!(reader.canonicalized(), 5);
    }

    /// Files in `folders` of `dir`, three each, read by a [`Reader`] in that order.
    fn read_files(dir: &Path, folders: &[&str]) -> (Reader, Vec<(PathBuf, String)>) {
        let reader = Reader::new(&[dir.to_path_buf()]);
        let mut names = Vec::new();
        for folder in folders {
            std::fs::create_dir_all(dir.join(folder)).unwrap();
            for number in 0..3 {
                let file = dir.join(folder).join(format!("{number}.yaml"));
                std::fs::write(&file, "kind: ConfigMap\n").unwrap();
                let canonical = reader.add(&file, "kind: ConfigMap\n").unwrap();
                names.push((canonical, file.display().to_string()));
            }
        }
        (reader, names)
    }

    #[test]
    fn near_kustomizations_are_looked_for_once_per_folder_as_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        let (reader, names) = read_files(&dir, &["x/a", "x/b", "x/b/c"]);
        // Each file's folder and the two above: x/a, x/b, x/b/c, x and the folder holding x,
        // once each for the nine files.
        assert_eq!(reader.folders_looked_in(), 5);
        let inputs = reader.finish(names, |_| panic!("no file is read again"));
        // Without a kustomization no file has a role: the names are not kept.
        assert!(inputs.names.is_empty() && inputs.by_name.is_empty());
        let name = dir.join("x/b/0.yaml").display().to_string();
        assert_eq!(inputs.role(&name), Role::Manifest);
    }

    #[test]
    fn a_kustomization_near_the_files_read_gives_them_their_role() {
        let dir = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(dir.join("x")).unwrap();
        std::fs::write(
            dir.join("x/kustomization.yaml"),
            "resources:\n- a/0.yaml\npatches:\n- path: b/1.yaml\n",
        )
        .unwrap();
        let (reader, names) = read_files(&dir, &["x/a", "x/b"]);
        let inputs = reader.finish(names, |path| std::fs::read_to_string(path).ok());
        let name = |file: &str| dir.join(file).display().to_string();
        assert_eq!(inputs.role(&name("x/b/1.yaml")), Role::Patch);
        assert_eq!(inputs.role(&name("x/a/0.yaml")), Role::Manifest);
        assert_eq!(inputs.near, [dir.join("x/kustomization.yaml")]);
    }
}
