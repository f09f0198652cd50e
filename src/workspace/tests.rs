use std::path::{Path, PathBuf};

use super::document::{Labels, Selector, WORKLOAD_KINDS};
use super::index::{Namespace, Origin, ScanStatus};
use super::*;

const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata:\n      labels: {app: web, tier: front}\n";
const SERVICE: &str =
    "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n";
const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1}]\n";

/// A folder with `files` (relative path, text), canonical so paths compare as the walk gives them.
fn folder(files: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    for (path, text) in files {
        write(&root.join(path), text);
    }
    (dir, root)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn scanned(root: &Path, limits: Limits) -> Workspace {
    let workspace = Workspace::new(limits);
    workspace.set_roots(vec![root.to_path_buf()]);
    workspace.scan();
    workspace
}

fn names<'a>(found: impl Iterator<Item = index::Found<'a>>) -> Vec<String> {
    found
        .map(|f| f.document.name.as_deref().unwrap_or("-").to_string())
        .collect()
}

#[test]
fn the_scan_indexes_every_document_and_answers_each_query() {
    let (_dir, root) = folder(&[
        ("app/config.yaml", CONFIG_MAP),
        ("app/all.yml", &format!("{DEPLOYMENT}---\n{SERVICE}")),
        ("crds/widget.yaml", CRD),
        ("values.yaml", "replicas: 3\n"),
        ("node_modules/x/cm.yaml", CONFIG_MAP),
    ]);
    let workspace = scanned(&root, Limits::default());
    let index = workspace.read();
    assert_eq!(index.status(), ScanStatus::Complete);
    assert!(!index.is_partial());
    assert_eq!(index.len(), 4, "every YAML file, none from node_modules");

    let config = index
        .named("ConfigMap", Some(""), Namespace::In("shop"), "settings")
        .collect::<Vec<_>>();
    assert_eq!(config.len(), 1);
    assert_eq!(config[0].path, root.join("app/config.yaml"));
    assert_eq!(config[0].origin, Origin::Disk);
    let range = config[0].document.name_range.clone().unwrap();
    assert_eq!(&CONFIG_MAP[range], "settings");
    assert_eq!(
        names(index.named("ConfigMap", None, Namespace::In("other"), "settings")),
        Vec::<String>::new()
    );
    assert_eq!(
        names(index.named("ConfigMap", Some("apps"), Namespace::Any, "settings")),
        Vec::<String>::new()
    );
    // A Service without a namespace may land in any.
    assert_eq!(
        names(index.of_kind("Service", None, Namespace::In("shop"))),
        ["web"]
    );

    let selector = Selector {
        match_labels: [("app", "web")].into_iter().collect(),
        ..Selector::default()
    };
    assert_eq!(
        names(index.workloads_matching(Namespace::In("shop"), &selector)),
        ["web"]
    );
    let other = Selector {
        match_labels: [("app", "db")].into_iter().collect(),
        ..Selector::default()
    };
    assert_eq!(index.workloads_matching(Namespace::Any, &other).count(), 0);
    let pod: Labels = [("app", "web"), ("tier", "front")].into_iter().collect();
    let mut selecting: Vec<_> = index
        .selecting(Namespace::In("shop"), &pod)
        .map(|f| f.document.kind.as_deref().unwrap().to_string())
        .collect();
    selecting.sort();
    assert_eq!(selecting, ["Deployment", "Service"]);

    let kinds: Vec<_> = index
        .documents_of(&root.join("app/all.yml"))
        .map(|f| f.document.kind.as_deref().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["Deployment", "Service"]);
    assert_eq!(index.file(&root.join("values.yaml")).unwrap().documents, []);

    let crds: Vec<_> = index.crds().collect();
    assert_eq!(crds.len(), 1);
    assert_eq!(crds[0].path, root.join("crds/widget.yaml"));
    let crd = crds[0].document.crd.as_ref().unwrap();
    assert_eq!((&*crd.group, &*crd.kind), ("example.com", "Widget"));
}

#[test]
fn an_open_text_wins_over_the_disk_until_closed() {
    let (_dir, root) = folder(&[("cm.yaml", CONFIG_MAP)]);
    let path = root.join("cm.yaml");
    let workspace = scanned(&root, Limits::default());
    let before = workspace.read().generation();

    workspace.open_text(&path, &CONFIG_MAP.replace("settings", "edited"));
    {
        let index = workspace.read();
        assert!(index.generation() > before);
        assert_eq!(names(index.documents_of(&path)), ["edited"]);
        assert_eq!(index.file(&path).unwrap().origin, Origin::Open);
        assert_eq!(
            index
                .named("ConfigMap", None, Namespace::Any, "settings")
                .count(),
            0
        );
    }
    // The disk changes meanwhile: the open text still counts.
    write(&path, &CONFIG_MAP.replace("settings", "saved"));
    workspace.files_changed(std::slice::from_ref(&path));
    assert_eq!(names(workspace.read().documents_of(&path)), ["edited"]);

    workspace.close(&path, None);
    let index = workspace.read();
    assert_eq!(names(index.documents_of(&path)), ["saved"]);
    assert_eq!(index.file(&path).unwrap().origin, Origin::Disk);
}

#[test]
fn open_documents_outside_the_workspace_count_while_open() {
    let (_dir, root) = folder(&[]);
    let (_other, outside) = folder(&[("cm.yaml", CONFIG_MAP)]);
    let workspace = scanned(&root, Limits::default());
    let path = outside.join("cm.yaml");
    workspace.open_text(&path, CONFIG_MAP);
    assert_eq!(
        workspace
            .read()
            .named("ConfigMap", None, Namespace::Any, "settings")
            .count(),
        1
    );
    workspace.close(&path, None);
    assert!(workspace.read().file(&path).is_none());
    // An untitled document, keyed by its URI's text.
    workspace.open_text(Path::new("untitled:Untitled-1"), CONFIG_MAP);
    workspace.close(Path::new("untitled:Untitled-1"), None);
    assert!(workspace.read().is_empty());
}

#[test]
fn watched_files_are_read_again_or_dropped() {
    let (_dir, root) = folder(&[("a/cm.yaml", CONFIG_MAP), ("b/one.yaml", SERVICE)]);
    let workspace = scanned(&root, Limits::default());
    let created = root.join("a/new.yaml");
    write(&created, DEPLOYMENT);
    let changed = root.join("a/cm.yaml");
    write(&changed, &CONFIG_MAP.replace("settings", "renamed"));
    workspace.files_changed(&[created.clone(), changed.clone()]);
    {
        let index = workspace.read();
        assert_eq!(names(index.documents_of(&created)), ["web"]);
        assert_eq!(names(index.documents_of(&changed)), ["renamed"]);
    }

    std::fs::remove_file(&created).unwrap();
    workspace.files_changed(std::slice::from_ref(&created));
    assert!(workspace.read().file(&created).is_none());

    // A folder deleted at once, and one moved in.
    std::fs::rename(root.join("b"), root.join("c")).unwrap();
    workspace.files_changed(&[root.join("b"), root.join("c")]);
    let index = workspace.read();
    assert!(index.file(&root.join("b/one.yaml")).is_none());
    assert_eq!(names(index.documents_of(&root.join("c/one.yaml"))), ["web"]);
    drop(index);

    // Outside the workspace folders: ignored.
    let (_other, outside) = folder(&[("cm.yaml", CONFIG_MAP)]);
    workspace.files_changed(&[outside.join("cm.yaml")]);
    assert!(workspace.read().file(&outside.join("cm.yaml")).is_none());
}

#[test]
fn bounds_on_files_and_sizes() {
    let (_dir, root) = folder(&[
        ("a.yaml", CONFIG_MAP),
        ("b.yaml", SERVICE),
        ("c.yaml", DEPLOYMENT),
    ]);
    let few = Limits {
        max_files: 2,
        ..Limits::default()
    };
    let workspace = scanned(&root, few.clone());
    {
        let index = workspace.read();
        assert_eq!(index.len(), 2);
        assert_eq!(index.status(), ScanStatus::Truncated);
        assert!(index.is_partial());
    }
    // Created files past the bound are not read either.
    write(&root.join("d.yaml"), CONFIG_MAP);
    workspace.files_changed(&[root.join("d.yaml")]);
    assert_eq!(workspace.read().len(), 2);

    let small = Limits {
        max_file_bytes: SERVICE.len() as u64,
        ..Limits::default()
    };
    let workspace = scanned(&root, small);
    let index = workspace.read();
    let big = index.file(&root.join("c.yaml")).unwrap();
    assert_eq!(big.too_big, Some(DEPLOYMENT.len() as u64));
    assert!(big.documents.is_empty());
    assert_eq!(index.status(), ScanStatus::Complete);
    assert!(index.is_partial(), "a file too big to read is missing");
    assert_eq!(names(index.documents_of(&root.join("b.yaml"))), ["web"]);
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn fifos_and_device_links_are_never_read() {
    let (_dir, root) = folder(&[("cm.yaml", CONFIG_MAP)]);
    let fifo = root.join("pipe.yaml");
    let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.yaml")).unwrap();
    // A link to a file outside the workspace, as the watcher may report it: not read either
    // (the scan skips links too).
    let (_other, outside) = folder(&[("secret.yaml", CONFIG_MAP)]);
    std::os::unix::fs::symlink(outside.join("secret.yaml"), root.join("out.yaml")).unwrap();
    let workspace = scanned(&root, Limits::default());
    workspace.files_changed(&[fifo.clone(), root.join("zero.yaml"), root.join("out.yaml")]);
    let index = workspace.read();
    assert_eq!(index.len(), 1);
    assert!(index.file(&fifo).is_none());
    assert!(index.file(&root.join("out.yaml")).is_none());
}

#[test]
fn chart_membership() {
    let (_dir, root) = folder(&[
        ("charts/shop/Chart.yaml", "apiVersion: v2\nname: shop\n"),
        ("charts/shop/values.yaml", "replicas: 1\n"),
        (
            "charts/shop/templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        ),
        (
            "charts/shop/charts/db/Chart.yaml",
            "apiVersion: v2\nname: db\n",
        ),
        ("charts/shop/charts/db/templates/svc.yaml", SERVICE),
        ("plain/cm.yaml", CONFIG_MAP),
    ]);
    let workspace = scanned(&root, Limits::default());
    let index = workspace.read();
    let shop = root.join("charts/shop");
    let template = index
        .chart_of(&shop.join("templates/deployment.yaml"))
        .unwrap();
    assert_eq!((template.root, template.template), (shop.as_path(), true));
    let values = index.chart_of(&shop.join("values.yaml")).unwrap();
    assert_eq!((values.root, values.template), (shop.as_path(), false));
    // Files not indexed (helpers) belong too; a subchart's files to the subchart.
    assert!(
        index
            .chart_of(&shop.join("templates/_helpers.tpl"))
            .unwrap()
            .template
    );
    let db = index
        .chart_of(&shop.join("charts/db/templates/svc.yaml"))
        .unwrap();
    assert_eq!(db.root, shop.join("charts/db"));
    assert_eq!(index.chart_of(&root.join("plain/cm.yaml")), None);
    let deployment: Vec<_> = index
        .documents_of(&shop.join("templates/deployment.yaml"))
        .collect();
    assert!(deployment[0].document.templated && deployment[0].document.name.is_none());
    drop(index);

    // Chart.yaml deleted: no chart any more.
    std::fs::remove_file(shop.join("Chart.yaml")).unwrap();
    workspace.files_changed(&[shop.join("Chart.yaml")]);
    assert_eq!(workspace.read().chart_of(&shop.join("values.yaml")), None);
}

#[test]
fn kustomization_membership() {
    let (_dir, root) = folder(&[
        (
            "base/kustomization.yaml",
            "resources: [deployment.yaml, ../shared/cm.yaml]\n",
        ),
        ("base/deployment.yaml", DEPLOYMENT),
        ("shared/cm.yaml", CONFIG_MAP),
        (
            "overlays/prod/Kustomization",
            "namespace: prod\nresources: [../../base]\npatches: [{path: replicas.yaml}]\n",
        ),
        ("overlays/prod/replicas.yaml", DEPLOYMENT),
        ("overlays/prod/unused.yaml", CONFIG_MAP),
    ]);
    let workspace = scanned(&root, Limits::default());
    let index = workspace.read();
    let including = |path: &str| -> Vec<PathBuf> {
        index
            .kustomizations_including(&root.join(path))
            .map(|(p, _)| p.strip_prefix(&root).unwrap().to_path_buf())
            .collect()
    };
    let base = PathBuf::from("base/kustomization.yaml");
    let prod = PathBuf::from("overlays/prod/Kustomization");
    assert_eq!(
        including("base/deployment.yaml"),
        [base.clone(), prod.clone()]
    );
    assert_eq!(including("shared/cm.yaml"), [base]);
    assert_eq!(including("overlays/prod/replicas.yaml"), [prod]);
    assert_eq!(
        including("overlays/prod/unused.yaml"),
        Vec::<PathBuf>::new()
    );
    let (_, overlay) = index
        .kustomizations()
        .find(|(p, _)| p.ends_with("Kustomization"))
        .unwrap();
    assert_eq!(overlay.namespace.as_deref(), Some("prod"));
}

#[test]
fn the_kustomizations_naming_a_file_are_looked_up_not_scanned() {
    let workspace = Workspace::default();
    for number in 0..200 {
        workspace.open_text(
            Path::new(&format!("/w/app-{number}/kustomization.yaml")),
            "resources: [deployment.yaml]\npatches: [{path: replicas.yaml}]\n",
        );
    }
    let index = workspace.read();
    let naming = |path: &str| -> Vec<&Path> {
        index
            .kustomizations_naming(Path::new(path))
            .map(|(path, _)| path)
            .collect()
    };
    let own = [Path::new("/w/app-7/kustomization.yaml")];
    assert_eq!(naming("/w/app-7/replicas.yaml"), own);
    assert_eq!(naming("/w/app-7/deployment.yaml"), own);
    assert!(naming("/w/app-7/other.yaml").is_empty());
    assert_eq!(index.kustomizations().count(), 200);
}

#[test]
fn partial_until_the_scan_completes() {
    let (_dir, root) = folder(&[("cm.yaml", CONFIG_MAP)]);
    let workspace = Workspace::default();
    assert!(workspace.read().is_partial(), "nothing scanned");
    workspace.scan();
    assert_eq!(
        workspace.read().status(),
        ScanStatus::NotStarted,
        "no folder"
    );
    workspace.set_roots(vec![root.clone()]);
    workspace.scan();
    assert!(!workspace.read().is_partial());
}

#[test]
fn the_index_answers_while_the_scan_runs_and_the_scan_keeps_newer_entries() {
    let files: Vec<(String, String)> = (0..400)
        .map(|i| {
            (
                format!("f{i:03}.yaml"),
                CONFIG_MAP.replace("settings", &format!("cm-{i}")),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let (_dir, root) = folder(&refs);
    let workspace = Workspace::new(Limits {
        workers: 2,
        ..Limits::default()
    });
    workspace.set_roots(vec![root.clone()]);
    // Opened before the scan reads it: the scan must not replace it.
    let open = root.join("f399.yaml");
    workspace.open_text(&open, &CONFIG_MAP.replace("settings", "open"));
    let seen = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        scope.spawn(|| workspace.scan());
        scope.spawn(|| {
            loop {
                let index = workspace.read();
                seen.lock().unwrap().push((index.status(), index.len()));
                if index.status() == ScanStatus::Complete {
                    break;
                }
                drop(index);
                std::thread::yield_now();
            }
        });
    });
    let index = workspace.read();
    assert_eq!(index.len(), 400);
    assert_eq!(names(index.documents_of(&open)), ["open"]);
    let seen = seen.into_inner().unwrap();
    assert!(seen.iter().all(|(_, len)| *len <= 400));
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1), "it only grows");
}

#[test]
fn a_second_scan_drops_files_deleted_meanwhile() {
    let (_dir, root) = folder(&[("a.yaml", CONFIG_MAP), ("b.yaml", SERVICE)]);
    let workspace = scanned(&root, Limits::default());
    std::fs::remove_file(root.join("b.yaml")).unwrap();
    workspace.scan();
    let index = workspace.read();
    assert_eq!(index.len(), 1);
    assert_eq!(index.of_kind("Service", None, Namespace::Any).count(), 0);
}

#[test]
fn workspace_folders_removed_leave_the_index_and_added_ones_are_read() {
    let (_dir, root) = folder(&[
        ("app/cm.yaml", CONFIG_MAP),
        ("app/nested/svc.yaml", SERVICE),
        ("crds/widget.yaml", CRD),
        ("crds/open.yaml", SERVICE),
    ]);
    let (app, nested, crds) = (root.join("app"), root.join("app/nested"), root.join("crds"));
    let workspace = Workspace::default();
    workspace.set_roots(vec![app.clone(), nested.clone(), crds.clone()]);
    workspace.scan();
    let open = crds.join("open.yaml");
    workspace.open_text(&open, SERVICE);
    assert_eq!(workspace.read().len(), 4);

    // `crds` leaves: its file from disk goes at once, the open one stays until closed; `nested`
    // leaves too, but its file is still under `app`.
    workspace.set_roots(vec![app.clone()]);
    {
        let index = workspace.read();
        assert!(index.file(&crds.join("widget.yaml")).is_none());
        assert!(index.file(&open).is_some());
        assert!(index.file(&nested.join("svc.yaml")).is_some());
        assert_eq!(index.crds().count(), 0);
    }
    // `crds` comes back: the next scan reads it.
    workspace.set_roots(vec![app, crds.clone()]);
    workspace.scan();
    assert!(workspace.read().file(&crds.join("widget.yaml")).is_some());
    assert_eq!(workspace.read().crds().count(), 1);
}

/// A workspace of `count` Deployments `app-N`, each labelled `app: app-N` (and `tier: front`).
fn with_other_deployments(count: usize) -> Workspace {
    let workspace = Workspace::default();
    for number in 0..count {
        let other = DEPLOYMENT
            .replace("name: web", &format!("name: app-{number}"))
            .replace("app: web", &format!("app: app-{number}"));
        workspace.open_text(Path::new(&format!("/w/other-{number}.yaml")), &other);
    }
    workspace
}

/// A selector's workloads are looked up by one of its labels: the documents looked at are those
/// of the files with a workload of that label, however many other workloads there are; removing
/// or changing a file takes it out of the lookup.
#[test]
fn workloads_of_a_label_are_looked_up_not_scanned() {
    let workspace = with_other_deployments(200);
    workspace.open_text(Path::new("/w/web.yaml"), DEPLOYMENT);
    workspace.open_text(
        Path::new("/w/web-elsewhere.yaml"),
        &DEPLOYMENT.replace("namespace: shop", "namespace: elsewhere"),
    );
    let index = workspace.read();
    let looked_at = |namespace| index.workloads_labelled("app", "web", namespace).count();
    assert_eq!(looked_at(Namespace::Any), 2);
    assert_eq!(looked_at(Namespace::In("shop")), 1);
    assert_eq!(
        index
            .workloads_labelled("tier", "front", Namespace::Any)
            .count(),
        202
    );
    assert_eq!(
        index
            .workloads_labelled("app", "db", Namespace::Any)
            .count(),
        0
    );
    drop(index);
    workspace.close(Path::new("/w/web.yaml"), None);
    workspace.open_text(
        Path::new("/w/web-elsewhere.yaml"),
        &DEPLOYMENT.replace("app: web", "app: shop"),
    );
    let index = workspace.read();
    assert_eq!(
        index
            .workloads_labelled("app", "web", Namespace::Any)
            .count(),
        0
    );
    assert_eq!(
        index
            .workloads_labelled("app", "shop", Namespace::Any)
            .count(),
        1
    );
}

/// The open text of `path` at `revision` in the index, as the server syncs it after an edit.
fn sync(workspace: &Workspace, path: &Path, revision: u64, text: &str) {
    let rope = ropey::Rope::from_str(text);
    let ranges = crate::yaml::split::split(text).documents;
    workspace.sync_open(path, revision, &rope, &ranges);
}

#[test]
fn edits_look_for_a_chart_on_disk_once_until_the_disk_changes() {
    let (_dir, root) = folder(&[("app/values.yaml", "replicas: 1\n")]);
    let workspace = scanned(&root, Limits::default());
    let values = root.join("app/values.yaml");
    let looked_up = || workspace.charts.folders.looked_up();
    sync(&workspace, &values, 1, "replicas: 2\n");
    let first = looked_up();
    assert!(first > 0);
    for revision in 2..=11 {
        sync(
            &workspace,
            &values,
            revision,
            &format!("replicas: {revision}\n"),
        );
    }
    assert_eq!(looked_up(), first, "ten edits, no look at the disk");
    assert_eq!(workspace.chart_of(&values), None);
    assert_eq!(looked_up(), first, "nor when asked for the chart");

    // A Chart.yaml made on disk and reported: looked for again, found, and the open text of
    // the values file is the chart's.
    write(&root.join("app/Chart.yaml"), "apiVersion: v2\nname: app\n");
    workspace.files_changed(&[root.join("app/Chart.yaml")]);
    sync(&workspace, &values, 12, "replicas: 12\n");
    assert!(looked_up() > first);
    assert_eq!(workspace.chart_of(&values), Some((root.join("app"), false)));
    let model = workspace.charts.get(&root.join("app"));
    assert_eq!(model.values[0].text.as_str(), "replicas: 12\n");

    // Deleted and reported: no chart again, though the index's Chart.yaml is gone first.
    std::fs::remove_file(root.join("app/Chart.yaml")).unwrap();
    workspace.files_changed(&[root.join("app/Chart.yaml")]);
    let before = looked_up();
    sync(&workspace, &values, 13, "replicas: 13\n");
    assert!(looked_up() > before);
    assert_eq!(workspace.chart_of(&values), None);
}

#[test]
fn new_workspace_folders_look_for_charts_again() {
    let (_dir, root) = folder(&[("app/values.yaml", "replicas: 1\n")]);
    let workspace = scanned(&root, Limits::default());
    let values = root.join("app/values.yaml");
    assert_eq!(workspace.chart_of(&values), None);
    // Made on disk without a report (the client watches no files), then another folder set.
    write(&root.join("app/Chart.yaml"), "apiVersion: v2\nname: app\n");
    assert_eq!(workspace.chart_of(&values), None);
    workspace.set_roots(vec![root.join("app")]);
    assert_eq!(workspace.chart_of(&values), Some((root.join("app"), false)));
}

/// A selector with labels looks its workloads up by its first label: it takes only the documents
/// posted under it, and finds what a scan of every workload finds, in the same order (by kind,
/// then path).
#[test]
fn a_selector_with_labels_looks_its_workloads_up() {
    let workspace = with_other_deployments(200);
    let stateful = DEPLOYMENT
        .replace("kind: Deployment", "kind: StatefulSet")
        .replace("name: web", "name: web-db");
    workspace.open_text(Path::new("/w/a-stateful.yaml"), &stateful);
    workspace.open_text(Path::new("/w/web.yaml"), DEPLOYMENT);
    workspace.open_text(
        Path::new("/w/b-web.yaml"),
        &DEPLOYMENT
            .replace("name: web", "name: web-back")
            .replace("tier: front", "tier: back"),
    );
    let index = workspace.read();
    let scanned = |namespace, selector: &Selector| {
        names(
            WORKLOAD_KINDS
                .iter()
                .flat_map(|kind| index.of_kind(kind, None, namespace))
                .filter(|f| {
                    f.document
                        .pod_labels
                        .as_ref()
                        .is_some_and(|l| selector.matches(l))
                }),
        )
    };
    let front: Labels = [("app", "web"), ("tier", "front")].into_iter().collect();
    let selectors = [
        Selector {
            match_labels: [("app", "web")].into_iter().collect(),
            ..Selector::default()
        },
        Selector {
            match_labels: front,
            ..Selector::default()
        },
        Selector {
            match_labels: [("app", "db")].into_iter().collect(),
            ..Selector::default()
        },
    ];
    for selector in &selectors {
        for namespace in [
            Namespace::Any,
            Namespace::In("shop"),
            Namespace::In("other"),
        ] {
            let before = index::posted_visited();
            let found = names(index.workloads_matching(namespace, selector));
            assert!(index::posted_visited() - before <= 3, "{selector:?}");
            assert_eq!(found, scanned(namespace, selector), "{selector:?}");
        }
    }
    let app_web = names(index.workloads_matching(Namespace::Any, &selectors[0]));
    assert_eq!(app_web, ["web-back", "web", "web-db"]);
    // Without labels, every workload is scanned.
    let everything = Selector::default();
    let before = index::posted_visited();
    assert_eq!(
        index
            .workloads_matching(Namespace::Any, &everything)
            .count(),
        203
    );
    assert!(index::posted_visited() - before >= 203);
}

/// The document at an offset is found by a binary search of its file's documents: the same one
/// a walk finds (the first whose range holds it, end included), looking at a handful of them.
#[test]
fn the_document_at_an_offset_is_searched_not_walked() {
    let text: String = (0..1000)
        .map(|number| CONFIG_MAP.replace("name: settings", &format!("name: c-{number}")))
        .collect::<Vec<_>>()
        .join("---\n");
    let path = Path::new("/w/many.yaml");
    let workspace = Workspace::default();
    workspace.open_text(path, &text);
    let index = workspace.read();
    let walked = |offset: usize| {
        index
            .documents_of(path)
            .find(|f| f.document.range.start <= offset && offset <= f.document.range.end)
    };
    let middle = text.find("name: c-700\n").unwrap();
    let boundaries = index.documents_of(path).flat_map(|f| {
        let range = f.document.range.clone();
        [range.start, range.end, range.end + 1]
    });
    let offsets: Vec<usize> = [0, middle, text.len(), text.len() + 1]
        .into_iter()
        .chain(boundaries.take(30))
        .collect();
    for offset in offsets {
        let before = index::located_visited();
        let found = index.document_at(path, offset);
        let visited = index::located_visited() - before;
        assert!((1..=11).contains(&visited), "{offset}: {visited} looked at");
        let name = |f: index::Found<'_>| f.document.name.clone();
        assert_eq!(found.map(name), walked(offset).map(name), "{offset}");
    }
    assert_eq!(
        index
            .document_at(path, middle)
            .unwrap()
            .document
            .name
            .as_deref(),
        Some("c-700")
    );
    assert!(index.document_at(Path::new("/w/other.yaml"), 0).is_none());
}

/// A big file's old entry is freed on another thread when it is replaced (the open that
/// replaces it publishes sooner); a small one's where it is.
#[test]
fn a_big_replaced_file_is_freed_aside() {
    let many = |name: &str| {
        (0..2000)
            .map(|number| CONFIG_MAP.replace("name: settings", &format!("name: {name}-{number}")))
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let workspace = Workspace::default();
    let (big, small) = (Path::new("/w/big.yaml"), Path::new("/w/small.yaml"));
    workspace.index_text(big, &many("a"));
    workspace.index_text(small, CONFIG_MAP);
    let before = index::dropped_aside();
    workspace.index_text(small, &CONFIG_MAP.replace("settings", "other"));
    assert_eq!(index::dropped_aside(), before);
    workspace.index_text(big, &many("b"));
    assert_eq!(index::dropped_aside(), before + 1);
    let index = workspace.read();
    assert_eq!(
        index
            .named("ConfigMap", None, Namespace::Any, "a-7")
            .count(),
        0
    );
    assert_eq!(
        index
            .named("ConfigMap", None, Namespace::Any, "b-7")
            .count(),
        1
    );
}

/// The open file `path` at `revision`, from `text`, as the server gives it after an edit.
fn open_at(workspace: &Workspace, path: &Path, revision: u64, text: &str) {
    let rope = ropey::Rope::from_str(text);
    let ranges = crate::yaml::split::split(text).documents;
    workspace.open_rope(path, Some(revision), &rope, &ranges);
}

#[test]
fn an_edit_moves_the_facts_generation_only_when_it_changes_what_others_read() {
    let (_dir, root) = folder(&[]);
    let path = root.join("app.yaml");
    let workspace = scanned(&root, Limits::default());
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    ports: [{name: http, containerPort: 80}]\n    envFrom: [{configMapRef: {name: settings}}]\n";
    let text = format!("{CONFIG_MAP}---\n{pod}---\n{SERVICE}");
    open_at(&workspace, &path, 1, &text);
    let generations = || {
        let index = workspace.read();
        (index.generation(), index.facts_generation())
    };
    let mut revision = 1;
    let mut open_next = |text: &str| {
        revision += 1;
        open_at(&workspace, &path, revision, text);
    };
    // Whether an edit of `text` into `edited` moves the facts generation.
    let mut edit = |edited: &str| {
        open_next(&text);
        let before = generations();
        open_next(edited);
        let after = generations();
        assert!(after.0 > before.0, "every edit moves the generation");
        after.1 != before.1
    };
    // What the Pod is to others stays: its image, a reference it makes, lines added.
    assert!(!edit(&text.replace("image: nginx", "image: nginx:1.27")));
    assert!(!edit(&text.replace("name: settings}", "name: other}")));
    assert!(!edit(
        &text.replace("spec:\n  containers", "spec:\n\n\n  containers")
    ));
    // What others read of it moves: its name, its labels, a port, a data key, a new document.
    assert!(edit(&text.replace("name: p\n", "name: q\n")));
    assert!(edit(&text.replace("{app: web}\nspec", "{app: api}\nspec")));
    assert!(edit(&text.replace("name: http", "name: web")));
    assert!(edit(&text.replace(
        "namespace: shop\n",
        "namespace: shop\ndata: {k: v}\n"
    )));
    assert!(edit(&format!("{text}---\n{CONFIG_MAP}")));
    assert!(!edit(&text), "the same text again");
}
