//! The kustomize checks on real files: the fixture (a base, two overlays, a component,
//! generators) without a false error, and the bad inputs in temporary folders.

use std::path::{Path, PathBuf};

use super::*;
use crate::diagnostic::{Code, codes};
use crate::text::fixture;
use crate::workspace::Workspace;
use crate::workspace::kustomize::Disk;

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kustomize")
}

fn scanned(root: &Path) -> Workspace {
    let workspace = Workspace::default();
    workspace.set_roots(vec![root.to_path_buf()]);
    workspace.scan();
    workspace
}

/// Every diagnostic kube-lsp gives the file at `path` (schema with its role, and kustomize's).
fn everything(workspace: &Workspace, path: &Path) -> Vec<(String, Code, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let catalog = Catalog::builtin();
    let roots = workspace.roots();
    let context = Context {
        files: &Disk,
        roots: &roots,
        catalog: &catalog,
    };
    let index = workspace.read();
    let role = role_of(path, &index);
    let mut found = crate::features::diagnostics::text_diagnostics_as(
        &ropey::Rope::from_str(&text),
        &catalog,
        role,
    );
    found.extend(check_file(path, &text, &index, &context));
    found
        .into_iter()
        .map(|d| (text[d.range].to_string(), d.code, d.message))
        .collect()
}

#[test]
fn the_fixture_has_no_false_error() {
    let root = fixture_root();
    let workspace = scanned(&root);
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(&root) {
        let path = entry.unwrap().into_path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        assert_eq!(everything(&workspace, &path), [], "{}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 10);
    let index = workspace.read();
    assert_eq!(
        role_of(&root.join("overlays/staging/replicas.yaml"), &index),
        Role::Patch
    );
    assert_eq!(
        role_of(&root.join("base/kustomization.yaml"), &index),
        Role::Kustomization
    );
    assert_eq!(
        role_of(&root.join("base/deployment.yaml"), &index),
        Role::Manifest
    );
}

#[test]
fn a_patch_that_sets_only_replicas_gets_no_required_errors_but_its_typos() {
    let root = fixture_root();
    let workspace = scanned(&root);
    let path = root.join("overlays/staging/replicas.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("replicas: 2", "replica: two");
    let index = workspace.read();
    let role = role_of(&path, &index);
    let found: Vec<(String, Code)> = crate::features::diagnostics::text_diagnostics_as(
        &ropey::Rope::from_str(&text),
        &Catalog::builtin(),
        role,
    )
    .into_iter()
    .map(|d| (text[d.range].to_string(), d.code))
    .collect();
    assert_eq!(found, [("replica".to_string(), codes::UNKNOWN_FIELD)]);
}

/// A folder with `files` (path → text) written in it, canonical.
fn folder(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    (dir, root)
}

fn kustomize_codes(root: &Path, path: &str) -> Vec<(String, Code, String)> {
    let path = root.join(path);
    let text = std::fs::read_to_string(&path).unwrap();
    let catalog = Catalog::builtin();
    let roots = [root.join("ws")];
    let context = Context {
        files: &Disk,
        roots: &roots,
        catalog: &catalog,
    };
    check_kustomization(&path, &text, &context)
        .into_iter()
        .map(|d| (text[d.range].to_string(), d.code, d.message))
        .collect()
}

#[test]
fn bad_paths_get_one_clear_diagnostic_each() {
    let (_dir, root) = folder(&[
        (
            "ws/a/kustomization.yaml",
            "resources:\n- ../b\n- missing.yaml\n- /etc/hosts\n- ../../outside\n- ../b/deployment.yaml\n- empty\nbases:\n- deployment.yaml\ncomponents:\n- ../c/thing.yaml\npatches:\n- path: empty\n- path: https://example.com/p.yaml\n",
        ),
        (
            "ws/a/deployment.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        ),
        ("ws/a/empty/.keep", ""),
        ("ws/b/kustomization.yaml", "resources:\n- ../a\n"),
        ("ws/b/deployment.yaml", "kind: ConfigMap\n"),
        ("ws/c/thing.yaml", "kind: ConfigMap\n"),
        ("outside/kustomization.yaml", "resources: []\n"),
    ]);
    let found = kustomize_codes(&root, "ws/a/kustomization.yaml");
    let summary: Vec<(&str, Code)> = found.iter().map(|(t, c, _)| (t.as_str(), *c)).collect();
    assert_eq!(
        summary,
        [
            ("../b", codes::KUSTOMIZE_CYCLE),
            ("missing.yaml", codes::KUSTOMIZE_PATH_MISSING),
            ("/etc/hosts", codes::KUSTOMIZE_PATH_INVALID),
            ("../../outside", codes::KUSTOMIZE_PATH_OUTSIDE),
            ("../b/deployment.yaml", codes::KUSTOMIZE_PATH_INVALID),
            ("empty", codes::KUSTOMIZE_PATH_INVALID),
            ("bases", codes::KUSTOMIZE_DEPRECATED),
            ("deployment.yaml", codes::KUSTOMIZE_PATH_INVALID),
            ("../c/thing.yaml", codes::KUSTOMIZE_PATH_INVALID),
            ("empty", codes::KUSTOMIZE_PATH_INVALID),
        ],
        "{found:#?}"
    );
    for (i, says) in [
        (0, ". → ../b → ."),
        (2, "absolute"),
        (4, "outside the kustomization's folder"),
        (5, "without a kustomization"),
        (7, "a base must be a folder"),
        (8, "a component must be a folder"),
        (9, "must be a file"),
    ] {
        assert!(found[i].2.contains(says), "{}", found[i].2);
    }
}

#[test]
fn links_definitions_references_and_completion() {
    let root = fixture_root();
    let workspace = scanned(&root);
    let prod = root.join("overlays/prod/kustomization.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    let links = navigation::links(&prod, &text, &Disk);
    let targets: Vec<(&str, PathBuf)> = links
        .iter()
        .map(|l| {
            (
                &text[l.range.clone()],
                l.target.strip_prefix(&root).unwrap().to_path_buf(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [
            ("../../base", PathBuf::from("base/kustomization.yaml")),
            (
                "namespace.yaml",
                PathBuf::from("overlays/prod/namespace.yaml")
            ),
            (
                "../../components/monitoring",
                PathBuf::from("components/monitoring/kustomization.yaml")
            ),
            (
                "resources.yaml",
                PathBuf::from("overlays/prod/resources.yaml")
            ),
            ("prod.env", PathBuf::from("overlays/prod/prod.env")),
        ]
    );
    let at = text.find("namespace.yaml").unwrap() + 3;
    let found = navigation::definition(&prod, &text, at, &Disk).unwrap();
    assert!(found.target.ends_with("overlays/prod/namespace.yaml"));

    // The base's deployment is included by the base, which both overlays include.
    let index = workspace.read();
    let references = navigation::references(&root.join("base/deployment.yaml"), &index, &Disk);
    let mut named: Vec<String> = references
        .iter()
        .map(|(path, range)| {
            let text = std::fs::read_to_string(path).unwrap();
            format!(
                "{}:{}",
                path.strip_prefix(&root).unwrap().display(),
                &text[range.clone()]
            )
        })
        .collect();
    named.sort();
    assert_eq!(
        named,
        [
            "base/kustomization.yaml:deployment.yaml",
            "overlays/prod/kustomization.yaml:../../base",
            "overlays/staging/kustomization.yaml:../../base",
        ]
    );

    let (text, offset) = fixture::cursor("resources:\n- ../../$0\n");
    let items = navigation::complete_path(&prod, &text, offset, &Disk);
    let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["base/", "components/", "overlays/"]);
    assert_eq!(
        items[0].insert_text, "base",
        "a folder with a kustomization is a whole entry"
    );
    assert_eq!(&text[items[0].range.clone()], "");
    let (text, offset) = fixture::cursor("patches:\n- path: res$0\n");
    let items = navigation::complete_path(&prod, &text, offset, &Disk);
    let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["namespace.yaml", "prod.env", "resources.yaml"]);
    assert_eq!(&text[items[0].range.clone()], "res");
    let (text, offset) = fixture::cursor("components:\n- ../../components/$0\n");
    let items = navigation::complete_path(&prod, &text, offset, &Disk);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].label, "monitoring/");
}

#[test]
fn json6902_patch_files_are_checked_against_the_kustomization_target() {
    let (_dir, root) = folder(&[
        (
            "ws/kustomization.yaml",
            "resources: [d.yaml]\npatches:\n- path: ops.yaml\n  target:\n    group: apps\n    version: v1\n    kind: Deployment\n",
        ),
        (
            "ws/d.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
        ),
        (
            "ws/ops.yaml",
            "- op: replace\n  path: /spec/replicas\n  value: 2\n- op: replace\n  path: /spec/replica\n  value: 2\n",
        ),
    ]);
    let workspace = scanned(&root.join("ws"));
    let path = root.join("ws/ops.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let index = workspace.read();
    let catalog = Catalog::builtin();
    let roots = [root.join("ws")];
    let context = Context {
        files: &Disk,
        roots: &roots,
        catalog: &catalog,
    };
    let found: Vec<&str> = check_file(&path, &text, &index, &context)
        .into_iter()
        .map(|d| &text[d.range])
        .collect();
    assert_eq!(found, ["/spec/replica"]);
}

#[test]
fn rendered_findings_land_on_the_patch_or_the_base_line() {
    let (_dir, root) = folder(&[
        ("base/kustomization.yaml", "resources:\n- deployment.yaml\n"),
        (
            "base/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx\n",
        ),
        (
            "overlay/kustomization.yaml",
            "namePrefix: this-prefix-is-far-too-long-for-a-label-but-fine-for-names-\nresources:\n- ../base\npatches:\n- path: sidecar.yaml\n- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /spec/template/spec/containers/0/ports\n      value:\n      - containerPort: 80\n        name: this-port-name-is-too-long\n",
        ),
        (
            "overlay/sidecar.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        args: [run]\n",
        ),
    ]);
    let overlay = root.join("overlay");
    let rendered = crate::render::kustomize::render(&overlay, &Default::default()).unwrap();
    let findings = rendered::findings(
        &overlay.join("kustomization.yaml"),
        &rendered.base,
        &rendered.output,
        &Catalog::builtin(),
        &Disk,
        &mut |_, _| false,
    );
    let found: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f.path).unwrap();
            (
                f.path.strip_prefix(&root).unwrap().display().to_string(),
                text[f.diagnostic.range.clone()].to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            // The sidecar the patch adds has no image: on the patch's item.
            ("overlay/sidecar.yaml".to_string(), "name".to_string()),
            // The port name the inline JSON patch adds: on the inline patch.
            (
                "overlay/kustomization.yaml".to_string(),
                "this-port-name-is-too-long".to_string()
            ),
        ],
        "{findings:#?}"
    );
    assert!(
        findings[0].diagnostic.message.contains("`image`"),
        "{}",
        findings[0].diagnostic.message
    );
    assert!(
        findings
            .iter()
            .all(|f| f.diagnostic.code == codes::KUSTOMIZE_RENDERED)
    );

    let error = rendered::render_error(
        &overlay.join("kustomization.yaml"),
        "resources:\n- ../base\n- gone.yaml\n",
        "accumulating resources: accumulation err='accumulating resources from 'gone.yaml': open /x/gone.yaml: no such file or directory'",
    );
    assert_eq!(error.range, 23..32);
    assert_eq!(error.code, codes::KUSTOMIZE_RENDER);

    // An unknown field fails the real build: the failure is on that key, where the schema
    // already reports it, so it is not reported twice.
    let text = "resources:\n- ../base\nresourcs:\n- sidecar.yaml\n";
    std::fs::write(overlay.join("kustomization.yaml"), text).unwrap();
    let message = match crate::render::kustomize::render(&overlay, &Default::default()) {
        Err(crate::render::kustomize::RenderError::Failed(message)) => message,
        other => panic!("{:?}", other.map(|o| o.output)),
    };
    let kustomization = overlay.join("kustomization.yaml");
    let error = rendered::render_error(&kustomization, text, &message);
    assert_eq!(&text[error.range.clone()], "resourcs", "{message}");
    let catalog = Catalog::builtin();
    let context = Context {
        files: &Disk,
        roots: std::slice::from_ref(&root),
        catalog: &catalog,
    };
    assert_eq!(
        render_failure(&kustomization, text, &message, &context),
        None
    );
}
