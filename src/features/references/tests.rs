use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use super::*;
use crate::cluster::connection::Resource;
use crate::cluster::objects::{ObjectList, ObjectMeta};
use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::workspace::references::SPECS;
use crate::workspace::{Limits, Workspace};

// ---------------------------------------------------------------- a workspace on disk

pub(super) const DEPLOYMENT: &str =
    include_str!("../../../tests/fixtures/references/shop/app/deployment.yaml");

const CONFIG: &str = include_str!("../../../tests/fixtures/references/shop/app/config.yaml");

const NETWORK: &str = include_str!("../../../tests/fixtures/references/shop/app/network.yaml");

const DB: &str = include_str!("../../../tests/fixtures/references/shop/app/db.yaml");

const RBAC: &str = include_str!("../../../tests/fixtures/references/shop/app/rbac.yaml");

const CLASSES: &str = include_str!("../../../tests/fixtures/references/shop/cluster/classes.yaml");

const KUSTOMIZATION: &str =
    include_str!("../../../tests/fixtures/references/shop/app/kustomization.yaml");

/// The shop's files: every reference kind points at an object of the workspace.
pub(super) fn shop() -> Vec<(&'static str, String)> {
    vec![
        ("app/deployment.yaml", DEPLOYMENT.to_string()),
        ("app/config.yaml", CONFIG.to_string()),
        ("app/network.yaml", NETWORK.to_string()),
        ("app/db.yaml", DB.to_string()),
        ("app/rbac.yaml", RBAC.to_string()),
        ("app/kustomization.yaml", KUSTOMIZATION.to_string()),
        ("cluster/classes.yaml", CLASSES.to_string()),
    ]
}

pub(super) struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub workspace: Workspace,
    pub texts: HashMap<PathBuf, String>,
}

impl Fixture {
    pub fn new(files: &[(&str, String)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let mut texts = HashMap::new();
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            texts.insert(path, text.clone());
        }
        let workspace = Workspace::new(Limits::default());
        workspace.set_roots(vec![root.clone()]);
        workspace.scan();
        Fixture {
            _dir: dir,
            root,
            workspace,
            texts,
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn text_at(&self, location: &Location) -> &str {
        &self.texts[&location.path][location.range.clone()]
    }

    /// The offset of the `nth` (0-based) occurrence of `needle` in the file, plus `into`.
    pub fn offset(&self, relative: &str, needle: &str, nth: usize) -> usize {
        let text = &self.texts[&self.path(relative)];
        text.match_indices(needle)
            .nth(nth)
            .unwrap_or_else(|| panic!("no {needle} #{nth} in {relative}"))
            .0
    }

    /// Runs `check` with a scope over the index, without a cluster unless `cluster` is given.
    pub fn with<R>(
        &self,
        cluster: Option<&dyn ClusterObjects>,
        check: impl FnOnce(&Scope<'_>) -> R,
    ) -> R {
        let index = self.workspace.read();
        let roots = vec![self.root.clone()];
        let scope = Scope {
            index: &index,
            default_namespace: "default",
            cluster: cluster.unwrap_or(&NoCluster),
            roots: &roots,
        };
        check(&scope)
    }
}

/// A cluster's lists as a test gives them: (kind, namespace) → names; kinds not listed are
/// not served.
pub(super) struct Listed {
    pub lists: HashMap<(String, Option<String>), Listing>,
}

impl Listed {
    pub fn new(lists: &[(&str, Option<&str>, &[&str])]) -> Listed {
        let lists = lists
            .iter()
            .map(|(kind, namespace, names)| {
                let objects = names
                    .iter()
                    .map(|name| ObjectMeta {
                        name: (*name).into(),
                        labels: Vec::new(),
                    })
                    .collect();
                let resource = Resource {
                    api_version: "v1".into(),
                    kind: kind.to_string(),
                    plural: format!("{}s", kind.to_lowercase()),
                    namespaced: namespace.is_some(),
                };
                let list = ObjectList::new(objects, true, resource);
                (
                    (kind.to_string(), namespace.map(str::to_string)),
                    Listing::Ready(Arc::new(list)),
                )
            })
            .collect();
        Listed { lists }
    }
}

impl ClusterObjects for Listed {
    fn status(&self) -> ClusterStatus {
        ClusterStatus::Connected {
            context: "test".into(),
        }
    }

    fn list(&self, target: &TargetType<'_>, namespace: Option<&str>, _: Option<&str>) -> Listing {
        self.lists
            .get(&(target.kind.to_string(), namespace.map(str::to_string)))
            .cloned()
            .unwrap_or(Listing::NotServed)
    }
}

/// Every reference of the workspace's files under `folder`: (path, reference).
fn all_references(fixture: &Fixture, folder: &str) -> Vec<(PathBuf, Ref)> {
    let index = fixture.workspace.read();
    let mut out = Vec::new();
    for (path, file) in index.files() {
        if !path.starts_with(fixture.path(folder)) {
            continue;
        }
        for document in &file.documents {
            for reference in &document.refs {
                out.push((path.to_path_buf(), reference.clone()));
            }
        }
    }
    out
}

fn codes_of(diagnostics: &[Diagnostic]) -> Vec<(String, Severity)> {
    diagnostics
        .iter()
        .map(|d| (d.code.to_string(), d.severity))
        .collect()
}

// ---------------------------------------------------------------- every reference kind

#[test]
fn the_shop_covers_every_reference_kind() {
    let fixture = Fixture::new(&shop());
    let covered: BTreeSet<u16> = all_references(&fixture, "")
        .iter()
        .map(|(_, r)| r.spec)
        .collect();
    let all: BTreeSet<u16> = (0..SPECS.len() as u16).collect();
    assert_eq!(covered, all, "every kind of SPECS is written in the shop");
}

#[test]
fn every_reference_goes_to_its_definition_and_back() {
    let fixture = Fixture::new(&shop());
    let references = all_references(&fixture, "");
    fixture.with(None, |scope| {
        for (path, reference) in &references {
            let at = reference.range.start + 1;
            let targets = definition(scope, path, at);
            assert!(
                !targets.is_empty(),
                "{} {:?} `{}`: no definition",
                reference.spec().field,
                reference.part,
                reference.value
            );
            for target in &targets {
                assert_eq!(
                    fixture.text_at(target),
                    &*reference.value,
                    "{}",
                    reference.spec().field
                );
            }
            // From the definition, find references finds this one.
            let back = references_at(scope, &targets[0], false);
            let here = Location::new(path, reference.range.clone());
            if reference.part != Part::PortName && reference.part != Part::PortNumber {
                assert!(
                    back.contains(&here),
                    "{} `{}`: {back:?}",
                    reference.spec().field,
                    reference.value
                );
            }
        }
    });
}

fn references_at(scope: &Scope<'_>, location: &Location, declaration: bool) -> Vec<Location> {
    references(scope, &location.path, location.range.start, declaration)
}

#[test]
fn every_reference_resolves_without_diagnostics() {
    let fixture = Fixture::new(&shop());
    fixture.with(None, |scope| {
        for (path, _) in shop() {
            let found = diagnostics(scope, &fixture.path(path));
            assert!(found.is_empty(), "{path}: {found:?}");
        }
    });
}

#[test]
fn every_reference_hovers_with_where_its_target_is() {
    let fixture = Fixture::new(&shop());
    let references = all_references(&fixture, "");
    fixture.with(None, |scope| {
        for (path, reference) in &references {
            let found = hover(scope, path, reference.range.start).expect("a hover");
            assert_eq!(found.range, reference.range);
            let target = &definition(scope, path, reference.range.start)[0];
            let index = scope.index;
            let document = index
                .documents_of(&target.path)
                .find(|f| f.document.range.contains(&target.range.start))
                .unwrap();
            let place = scope.place(&document);
            assert!(
                found.markdown.contains(&place),
                "{}: {}",
                reference.spec().field,
                found.markdown
            );
            assert!(
                found.markdown.contains(reference.spec().field),
                "{}",
                found.markdown
            );
            assert!(
                found.markdown.contains("- no cluster is configured"),
                "{}",
                found.markdown
            );
        }
    });
}

#[test]
fn every_reference_completes_with_what_exists() {
    let fixture = Fixture::new(&shop());
    let references = all_references(&fixture, "");
    fixture.with(None, |scope| {
        for (path, reference) in &references {
            let text = &fixture.texts[path];
            // The value erased, the cursor where it was.
            let erased = format!(
                "{}{}",
                &text[..reference.range.start],
                &text[reference.range.end..]
            );
            let split = crate::yaml::split::split(&erased);
            let offset = reference.range.start;
            let document = split
                .documents
                .iter()
                .find(|d| d.start <= offset && offset <= d.end)
                .unwrap();
            let found = completions(
                scope,
                path,
                &erased[document.clone()],
                document.start,
                offset,
            );
            let labels: Vec<&str> = found.items.iter().map(|i| i.label.as_str()).collect();
            assert!(
                labels.contains(&&*reference.value),
                "{} {:?}: {labels:?}",
                reference.spec().field,
                reference.part
            );
            let item = found
                .items
                .iter()
                .find(|i| i.label == *reference.value)
                .unwrap();
            assert_eq!(item.range, offset..offset);
            assert_eq!(item.label_description.as_deref(), Some("workspace"));
            assert!(!found.incomplete);
        }
    });
}

#[test]
fn every_missing_target_is_a_warning_without_a_cluster() {
    let mut files = shop();
    // The same Deployment and Ingress, every name changed to one that nothing defines.
    let missing = |text: &str| {
        let mut text = text.to_string();
        for name in [
            "app-config",
            "db",
            "env-cm",
            "env-secret",
            "files",
            "tls",
            "data",
            "projected-cm",
            "projected-secret",
            "shop-sa",
            "registry",
            "high",
            "gvisor",
            "shop-role",
            "reader",
            "db-headless",
            "fast",
            "nginx",
        ] {
            text = text.replace(&format!(": {name}\n"), &format!(": {name}-gone\n"));
        }
        text
    };
    files.push(("app/gone/deployment.yaml", missing(DEPLOYMENT)));
    files.push((
        "app/gone/network.yaml",
        missing(NETWORK).replace("name: shop\n", "name: shop-gone\n"),
    ));
    files.push(("app/gone/rbac.yaml", missing(RBAC)));
    files.push(("app/gone/db.yaml", missing(DB)));
    let fixture = Fixture::new(&files);
    let references = all_references(&fixture, "app/gone");
    fixture.with(None, |scope| {
        let mut reported = BTreeSet::new();
        for relative in [
            "app/gone/deployment.yaml",
            "app/gone/network.yaml",
            "app/gone/rbac.yaml",
            "app/gone/db.yaml",
        ] {
            let path = fixture.path(relative);
            for d in diagnostics(scope, &path) {
                reported.insert((
                    path.clone(),
                    (d.range.start, d.range.end),
                    d.code.to_string(),
                    d.severity,
                ));
            }
        }
        for (path, reference) in &references {
            // The gone files define some of their targets themselves (a Role, a Service).
            if reference.part != Part::Name
                || !definition(scope, path, reference.range.start).is_empty()
            {
                continue;
            }
            let kind = reference.target().kind;
            let severity = if crate::workspace::references::CLUSTER_PROVIDED.contains(&kind) {
                Severity::Information
            } else {
                Severity::Warning
            };
            let expected = (
                path.clone(),
                (reference.range.start, reference.range.end),
                "reference-missing".to_string(),
                severity,
            );
            assert!(
                reported.contains(&expected),
                "{} `{}` ({kind}): {reported:?}",
                reference.spec().field,
                reference.value
            );
        }
    });
}

#[test]
fn every_target_in_the_cluster_resolves_and_hovers_there() {
    // The Deployment alone in the workspace; its targets are in the cluster.
    let fixture = Fixture::new(&[("deployment.yaml", DEPLOYMENT.to_string())]);
    let cluster = Listed::new(&[
        (
            "ConfigMap",
            Some("default"),
            &["app-config", "env-cm", "files", "projected-cm"],
        ),
        (
            "Secret",
            Some("default"),
            &["db", "env-secret", "tls", "registry", "projected-secret"],
        ),
        ("PersistentVolumeClaim", Some("default"), &["data"]),
        ("ServiceAccount", Some("default"), &["shop-sa"]),
        ("PriorityClass", None, &["high"]),
        ("RuntimeClass", None, &["gvisor"]),
    ]);
    let path = fixture.path("deployment.yaml");
    let references = all_references(&fixture, "");
    fixture.with(Some(&cluster), |scope| {
        assert_eq!(diagnostics(scope, &path), []);
        for (_, reference) in references.iter().filter(|(_, r)| r.part == Part::Name) {
            let found = hover(scope, &path, reference.range.start).unwrap();
            assert!(
                found.markdown.contains("- in the cluster, context `test`"),
                "{}",
                found.markdown
            );
            assert!(
                found.markdown.contains("- not in the workspace"),
                "{}",
                found.markdown
            );
            assert!(definition(scope, &path, reference.range.start).is_empty());
        }
        // Keys of cluster objects are not read: no key diagnostic, and hover says why.
        let key = references
            .iter()
            .find(|(_, r)| &*r.value == "password")
            .unwrap();
        let found = hover(scope, &path, key.1.range.start).unwrap();
        assert!(
            found.markdown.contains("lists their metadata only"),
            "{}",
            found.markdown
        );
        // Completion: the cluster's names, marked as such.
        let text = DEPLOYMENT.replace("name: app-config\n", "name: \n");
        let offset = text.find("name: \n").unwrap() + 6;
        let items = completions(scope, &path, &text, 0, offset).items;
        let item = items
            .iter()
            .find(|i| i.label == "app-config")
            .expect("app-config");
        assert_eq!(item.label_description.as_deref(), Some("cluster"));
        assert!(
            item.detail
                .as_deref()
                .unwrap()
                .contains("context test in namespace default")
        );
    });
    // Not in the cluster either: warnings naming the context.
    let empty = Listed::new(&[
        ("ConfigMap", Some("default"), &[]),
        ("Secret", Some("default"), &[]),
    ]);
    fixture.with(Some(&empty), |scope| {
        let found = diagnostics(scope, &path);
        let missing: Vec<&Diagnostic> = found.iter().filter(|d| d.code == codes::REFERENCE_MISSING).collect();
        assert!(missing.iter().any(|d| d.message == "ConfigMap `app-config` in namespace `default` not found: not in the workspace, nor in the cluster (context test)"), "{missing:?}");
        // Kinds the (test) cluster does not list: not served.
        let sa = missing.iter().find(|d| d.message.contains("ServiceAccount")).unwrap();
        assert!(sa.message.ends_with("does not serve kind ServiceAccount (v1)"), "{}", sa.message);
        assert!(missing.iter().all(|d| d.severity == Severity::Warning));
    });
}

// ---------------------------------------------------------------- selectors

#[test]
fn selectors_match_workloads_and_say_so() {
    let mut files = shop();
    files.push((
        "app/canary.yaml",
        DEPLOYMENT
            .replace("name: shop\n", "name: shop-canary\n  namespace: shop\n")
            .replacen(
                "  labels:\n    app: shop\n",
                "  labels:\n    app: shop-c\n",
                1,
            ),
    ));
    let fixture = Fixture::new(&files);
    let network = fixture.path("app/network.yaml");
    fixture.with(None, |scope| {
        let lenses = lenses(scope, &network);
        let titles: Vec<&str> = lenses.iter().map(|l| l.title.as_str()).collect();
        assert_eq!(
            titles, ["2 Deployments: shop, shop-canary"; 3],
            "Service, PDB, NetworkPolicy"
        );
        assert_eq!(
            fixture.texts[&network][lenses[0].range.clone()].to_string(),
            "selector"
        );
        let at = fixture.offset("app/network.yaml", "selector", 0);
        let found = hover(scope, &network, at).unwrap();
        assert!(
            found
                .markdown
                .starts_with("**Selects** 2 Deployments: shop, shop-canary"),
            "{}",
            found.markdown
        );
        // Definition: the Pod template labels.
        let targets = definition(
            scope,
            &network,
            fixture.offset("app/network.yaml", "app: shop", 0),
        );
        assert_eq!(targets.len(), 2);
        assert!(targets.iter().all(|t| fixture.text_at(t) == "app"));
        // A Service's targetPort goes to the container ports.
        let targets = definition(
            scope,
            &network,
            fixture.offset("app/network.yaml", "targetPort: http", 0) + 13,
        );
        assert_eq!(targets.len(), 2);
        assert!(targets.iter().all(|t| fixture.text_at(t) == "http"));
        // From the Pod labels: who selects them.
        let deployment = fixture.path("app/deployment.yaml");
        let label = fixture.offset("app/deployment.yaml", "app: shop", 2);
        let selecting = references(scope, &deployment, label, false);
        assert_eq!(selecting.len(), 3, "{selecting:?}");
        let found = hover(scope, &deployment, label).unwrap();
        assert!(
            found.markdown.contains("Service `shop`")
                && found.markdown.contains("NetworkPolicy `shop`"),
            "{}",
            found.markdown
        );
    });
}

#[test]
fn a_selector_that_matches_nothing_is_a_warning() {
    let mut files = shop();
    files[2].1 = NETWORK
        .replace("      app: shop\n", "      app: shoop\n")
        .replace("    app: shop\n", "    app: shoop\n");
    let fixture = Fixture::new(&files);
    let network = fixture.path("app/network.yaml");
    fixture.with(None, |scope| {
        let found = diagnostics(scope, &network);
        let no_match: Vec<&Diagnostic> = found
            .iter()
            .filter(|d| d.code == codes::REFERENCE_NO_MATCH)
            .collect();
        assert_eq!(no_match.len(), 3, "{found:?}");
        assert!(no_match.iter().all(|d| d.severity == Severity::Warning));
        assert_eq!(
            no_match[0].message,
            "selects nothing in namespace `shop`: no workload of the workspace has these Pod labels"
        );
        assert_eq!(
            lenses(scope, &network)[0].title,
            "matches no workload in the workspace"
        );
    });
    // With a cluster whose Pods carry the labels: nothing to say.
    let mut pods = Listed::new(&[]);
    let pod = ObjectMeta {
        name: "shop-1".into(),
        labels: vec![("app".into(), "shoop".into())],
    };
    let resource = Resource {
        api_version: "v1".into(),
        kind: "Pod".into(),
        plural: "pods".into(),
        namespaced: true,
    };
    pods.lists.insert(
        ("Pod".into(), Some("shop".into())),
        Listing::Ready(Arc::new(ObjectList::new(vec![pod], true, resource))),
    );
    fixture.with(Some(&pods), |scope| {
        let found = diagnostics(scope, &network);
        assert!(
            found.iter().all(|d| d.code != codes::REFERENCE_NO_MATCH),
            "{found:?}"
        );
    });
}

#[test]
fn a_missing_key_port_or_target_port_is_a_warning_with_a_fix() {
    let mut files = shop();
    files[0].1 = DEPLOYMENT.replace("key: mode", "key: mdoe").replace(
        "name: http\n          containerPort",
        "name: web\n          containerPort",
    );
    files[2].1 = NETWORK.replace("              name: http", "              name: htp");
    let fixture = Fixture::new(&files);
    fixture.with(None, |scope| {
        let found = diagnostics(scope, &fixture.path("app/deployment.yaml"));
        assert_eq!(codes_of(&found), [("reference-missing-key".into(), Severity::Warning)]);
        assert_eq!(found[0].message, "ConfigMap `app-config` has no key `mdoe` (keys: `mode`)");
        assert_eq!(found[0].fix.as_ref().unwrap().edits[0].1, "mode");
        let found = diagnostics(scope, &fixture.path("app/network.yaml"));
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "no container port named `http` in the Pods this Service selects (Deployment `shop`)",
                "Service `shop` has no port named `htp` (ports: `http` (80))",
            ]
        );
    });
}

// ---------------------------------------------------------------- no false warnings

#[test]
fn references_that_may_be_right_are_not_flagged() {
    let deployment = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  serviceAccountName: default\n  containers:\n  - name: c\n    envFrom:\n    - configMapRef:\n        name: maybe\n        optional: true\n    - configMapRef:\n        name: generated\n    - secretRef:\n        name: from-chart\n  volumes:\n  - name: ca\n    configMap:\n      name: kube-root-ca.crt\n";
    let files = vec![
        ("app/pod.yaml", deployment.to_string()),
        ("app/kustomization.yaml", "namespace: shop\nresources: [pod.yaml, secret.yaml]\nconfigMapGenerator:\n- name: generated\n  literals: [a=b]\n".to_string()),
        ("app/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Values.name }}\n".to_string()),
    ];
    let fixture = Fixture::new(&files);
    fixture.with(None, |scope| {
        assert_eq!(diagnostics(scope, &fixture.path("app/pod.yaml")), []);
    });
}

#[test]
fn a_partial_workspace_makes_missing_targets_information() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: robot\n  containers: [{name: c, image: x}]\n";
    let files = vec![
        ("chart/Chart.yaml", "name: c\nversion: 1.0.0\n".to_string()),
        ("chart/templates/pod.yaml", pod.to_string()),
        (
            "overlay/kustomization.yaml",
            "resources: [../../base, pod.yaml]\n".to_string(),
        ),
        ("overlay/pod.yaml", pod.to_string()),
        ("plain/pod.yaml", pod.to_string()),
    ];
    let fixture = Fixture::new(&files);
    fixture.with(None, |scope| {
        let of = |relative: &str| diagnostics(scope, &fixture.path(relative));
        let chart = of("chart/templates/pod.yaml");
        assert_eq!(
            codes_of(&chart),
            [("reference-missing".into(), Severity::Information)]
        );
        assert!(
            chart[0]
                .message
                .contains("it is part of the Helm chart chart"),
            "{}",
            chart[0].message
        );
        let overlay = of("overlay/pod.yaml");
        assert_eq!(
            codes_of(&overlay),
            [("reference-missing".into(), Severity::Information)]
        );
        assert!(
            overlay[0]
                .message
                .contains("overlay/kustomization.yaml builds it with"),
            "{}",
            overlay[0].message
        );
        assert_eq!(
            codes_of(&of("plain/pod.yaml")),
            [("reference-missing".into(), Severity::Warning)]
        );
    });
}

#[test]
fn namespaces_follow_the_owner_and_its_kustomization() {
    let files = vec![
        ("a/kustomization.yaml", "namespace: a\nresources: [pod.yaml]\n".to_string()),
        ("a/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: robot\n".to_string()),
        ("b/sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot, namespace: b}\n".to_string()),
        ("c/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: b}\nspec:\n  serviceAccountName: robot\n".to_string()),
        ("d/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: robot\n".to_string()),
    ];
    let fixture = Fixture::new(&files);
    fixture.with(None, |scope| {
        let a = diagnostics(scope, &fixture.path("a/pod.yaml"));
        assert_eq!(a[0].message, "ServiceAccount `robot` in namespace `a` not found in the workspace (no cluster is configured)");
        assert_eq!(diagnostics(scope, &fixture.path("c/pod.yaml")), []);
        let d = diagnostics(scope, &fixture.path("d/pod.yaml"));
        assert!(d[0].message.contains("namespace `default`"), "{}", d[0].message);
    });
}

#[test]
fn duplicate_names_say_where_each_is() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config, namespace: shop}\ndata: {mode: x}\n";
    let mut files = shop();
    files.push(("app/more/config.yaml", format!("# another\n{cm}")));
    let fixture = Fixture::new(&files);
    let deployment = fixture.path("app/deployment.yaml");
    fixture.with(None, |scope| {
        let at = fixture.offset("app/deployment.yaml", "app-config", 0);
        let targets = definition(scope, &deployment, at);
        assert_eq!(targets.len(), 2);
        let found = hover(scope, &deployment, at).unwrap();
        assert!(
            found.markdown.contains(
                "- defined 2 times in the workspace: `app/config.yaml:4`, `app/more/config.yaml:4`"
            ),
            "{}",
            found.markdown
        );
    });
}

#[test]
fn a_cluster_that_cannot_be_asked_or_is_still_asked_gives_no_warning() {
    struct Away(Listing);
    impl ClusterObjects for Away {
        fn status(&self) -> ClusterStatus {
            ClusterStatus::Unreachable {
                context: "prod".into(),
                why: "no answer within 5000 ms".into(),
            }
        }
        fn list(&self, _: &TargetType<'_>, _: Option<&str>, _: Option<&str>) -> Listing {
            self.0.clone()
        }
    }
    let fixture = Fixture::new(&[(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: robot\n"
            .to_string(),
    )]);
    let path = fixture.path("pod.yaml");
    fixture.with(
        Some(&Away(Listing::Unavailable("no answer".into()))),
        |scope| {
            let found = diagnostics(scope, &path);
            assert_eq!(
                codes_of(&found),
                [("reference-missing".into(), Severity::Information)]
            );
            assert!(
                found[0].message.ends_with(
                    "the cluster (context prod) could not be asked: no answer within 5000 ms"
                ),
                "{}",
                found[0].message
            );
        },
    );
    struct Asking;
    impl ClusterObjects for Asking {
        fn status(&self) -> ClusterStatus {
            ClusterStatus::Connecting
        }
        fn list(&self, _: &TargetType<'_>, _: Option<&str>, _: Option<&str>) -> Listing {
            Listing::Pending
        }
    }
    fixture.with(Some(&Asking), |scope| {
        assert_eq!(diagnostics(scope, &path), [])
    });
}

#[test]
fn a_typo_gets_a_fix_to_the_name_that_exists() {
    let mut files = shop();
    files[0].1 = DEPLOYMENT.replace("name: app-config", "name: app-confg");
    let fixture = Fixture::new(&files);
    fixture.with(None, |scope| {
        let found = diagnostics(scope, &fixture.path("app/deployment.yaml"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.ends_with("did you mean `app-config`?"),
            "{}",
            found[0].message
        );
        let fix = found[0].fix.as_ref().unwrap();
        assert_eq!(fix.title, "Change to `app-config`");
        assert_eq!(
            &fixture.texts[&fixture.path("app/deployment.yaml")][fix.edits[0].0.clone()],
            "app-confg"
        );
    });
}

// ---------------------------------------------------------------- rename

/// Applies edits to the fixture's files (after checking each replaces what it says).
fn apply(fixture: &Fixture, edits: &[Edit]) -> HashMap<PathBuf, String> {
    let mut texts = fixture.texts.clone();
    let mut sorted = edits.to_vec();
    sorted.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
    for edit in sorted {
        let text = texts.get_mut(&edit.path).unwrap();
        assert_eq!(&text[edit.range.clone()], &*edit.old);
        text.replace_range(edit.range.clone(), &edit.new);
    }
    texts
}

#[test]
fn renaming_an_object_renames_every_reference_to_it() {
    let fixture = Fixture::new(&shop());
    let config = fixture.path("app/config.yaml");
    let at = fixture.offset("app/config.yaml", "name: db", 0) + 6;
    let edits = fixture.with(None, |scope| {
        assert_eq!(
            prepare_rename(scope, &config, at),
            Some((at..at + 2, "db".to_string()))
        );
        rename(scope, &config, at, "database").unwrap()
    });
    let places: Vec<(String, String)> = edits
        .iter()
        .map(|e| {
            (
                e.path
                    .strip_prefix(&fixture.root)
                    .unwrap()
                    .display()
                    .to_string(),
                e.old.to_string(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("app/config.yaml".to_string(), "db".to_string()),
            ("app/config.yaml".to_string(), "db".to_string()),
            ("app/deployment.yaml".to_string(), "db".to_string()),
        ],
        "the Secret, the ServiceAccount's secrets[], the Deployment's secretKeyRef (not the StatefulSet `db`)"
    );
    // The renamed workspace has no dangling reference.
    let renamed = apply(&fixture, &edits);
    let files: Vec<(&str, String)> = shop()
        .into_iter()
        .map(|(path, _)| (path, renamed[&fixture.path(path)].clone()))
        .collect();
    let after = Fixture::new(&files);
    after.with(None, |scope| {
        for (path, _) in &files {
            assert_eq!(diagnostics(scope, &after.path(path)), [], "{path}");
        }
    });
}

#[test]
fn renaming_a_selector_label_renames_it_in_the_templates() {
    let fixture = Fixture::new(&shop());
    let network = fixture.path("app/network.yaml");
    let value = fixture.offset("app/network.yaml", "app: shop", 0) + 6;
    let edits = fixture.with(None, |scope| {
        rename(scope, &network, value, "store").unwrap()
    });
    let renamed = apply(&fixture, &edits);
    assert_eq!(
        renamed[&network].matches("app: store").count(),
        3,
        "Service, PDB, NetworkPolicy"
    );
    let deployment = &renamed[&fixture.path("app/deployment.yaml")];
    assert_eq!(
        deployment.matches("app: store").count(),
        2,
        "the template's label and the Deployment's own selector"
    );
    assert!(
        deployment.contains("  labels:\n    app: shop\n"),
        "the Deployment's own labels are not Pod labels"
    );
    let key = fixture.offset("app/network.yaml", "app: shop", 0);
    let edits = fixture.with(None, |scope| rename(scope, &network, key, "name").unwrap());
    assert_eq!(edits.len(), 5);
    assert!(edits.iter().all(|e| &*e.old == "app"));
}

#[test]
fn selectors_and_target_ports_complete_from_the_pod_templates() {
    let fixture = Fixture::new(&shop());
    let path = fixture.path("app/network.yaml");
    let complete = |text: &str| {
        let (text, offset) = crate::text::fixture::cursor(text);
        fixture.with(None, |scope| {
            let found = completions(scope, &path, &text, 0, offset);
            let mut labels: Vec<String> =
                found.items.iter().map(|i| i.insert_text.clone()).collect();
            labels.sort();
            labels
        })
    };
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec:\n  selector:\n    $0\n";
    assert_eq!(complete(service), ["app: ", "tier: "]);
    let value = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec:\n  selector:\n    tier: $0\n";
    assert_eq!(complete(value), ["front"]);
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: s, namespace: shop}\nspec:\n  selector:\n    matchLabels:\n      app: $0\n";
    assert_eq!(complete(pdb), ["db", "shop"]);
    let port = "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: shop}\nspec:\n  selector:\n    app: shop\n  ports:\n  - port: 80\n    targetPort: $0\n";
    assert_eq!(complete(port), ["http"]);
    // Another namespace: nothing of the shop.
    assert_eq!(
        complete(&value.replace("namespace: shop", "namespace: other")),
        Vec::<String>::new()
    );
    // What is typed filters, as editors do (its letters in order).
    let typed = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  serviceAccountName: shsa$0\n";
    assert_eq!(complete(typed), ["shop-sa"]);
}
