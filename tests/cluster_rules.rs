//! The rules about other objects with the real test cluster (kube-apiserver + etcd): what the
//! workspace does not hold is looked for among the cluster's objects (the metadata lists the
//! references feature fetches), so a ServiceAccount, a Pod or a Deployment that exists only in
//! the cluster answers `non-existent-service-account`, `dangling-service` and
//! `dangling-horizontalpodautoscaler`, while what exists nowhere is still reported, naming the
//! context; without a cluster every one of them is reported as before. The test objects are
//! created by the test's own client (kube-lsp changes nothing: `dryRun` is off, so it sends
//! nothing but the metadata lists).

mod common;

use std::path::Path;

use common::cli::kube_lsp;
use common::cluster::{TestCluster, objects_only_settings, unique_name};
use common::fixture::{self, Encoding};
use common::server::TestServer;
use serde_json::{Value, json};

/// What the cluster holds: a ServiceAccount, a Deployment, and a Pod with labels (the test
/// cluster runs no controllers: a Deployment makes no Pods).
const IN_CLUSTER: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-live}
spec:
  selector: {matchLabels: {app: web-live}}
  template:
    metadata: {labels: {app: web-live}}
    spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: live-pod
  labels: {app: live}
spec: {containers: [{name: c, image: nginx}]}
";

/// The open document: each question twice, once about an object of the cluster and once about
/// one that exists nowhere. Its objects name no namespace: they land in the settings' one.
const DOCUMENT: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: uses-robot
spec:
  serviceAccountName: robot
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata:
  name: uses-ghost
spec:
  serviceAccountName: ghost
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Service
metadata: {name: live}
spec:
  selector: {app: live}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: nowhere}
spec:
  selector: {app: nowhere}
  ports: [{port: 80}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: live}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web-live}
  maxReplicas: 3
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost-deploy}
  maxReplicas: 3
";

const CROSS_OBJECT: [&str; 3] = [
    "non-existent-service-account",
    "dangling-service",
    "dangling-horizontalpodautoscaler",
];

fn start(kubeconfig: &Path, namespace: &str, folder: &Path) -> TestServer {
    start_in(kubeconfig, None, namespace, folder)
}

fn start_in(
    kubeconfig: &Path,
    context: Option<&str>,
    namespace: &str,
    folder: &Path,
) -> TestServer {
    let mut options = objects_only_settings(kubeconfig, namespace, context);
    options["rules"] = json!({"enable": ["dangling-horizontalpodautoscaler"]});
    TestServer::builder()
        .workspace_folder(folder)
        .initialization_options(json!({ "kube-lsp": options }))
        .start()
}

/// The cross-object findings of a publication: (code, the text they are on).
fn findings(publication: &Value) -> Vec<(String, String)> {
    findings_in(DOCUMENT, publication)
}

fn findings_in(text: &str, publication: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = publication["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| CROSS_OBJECT.iter().any(|c| d["code"] == *c))
        .map(|d| {
            let start = fixture::offset(text, &d["range"]["start"], Encoding::Utf16);
            let end = fixture::offset(text, &d["range"]["end"], Encoding::Utf16);
            (
                d["code"].as_str().unwrap().to_string(),
                text[start..end].to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

fn message<'p>(publication: &'p Value, code: &str) -> &'p str {
    publication["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .and_then(|d| d["message"].as_str())
        .unwrap_or_default()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(c, t)| (c.to_string(), t.to_string()))
        .collect();
    pairs.sort();
    pairs
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_rules_objects_in_the_cluster_answer_the_rules() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let namespace = runtime.block_on(cluster.create_namespace("rules"));
    runtime.block_on(cluster.apply_fixture(&namespace, IN_CLUSTER));
    let folder = tempfile::tempdir().unwrap();
    let uri = format!("file://{}/app.yaml", folder.path().display());

    let mut server = start(&cluster.kubeconfig_path, &namespace, folder.path());
    server.open(&uri, DOCUMENT);
    // Nothing is reported while the lists are fetched: once the missing ones are, the cluster
    // has answered every question.
    let published = server.wait_for_publication(&uri, |p| findings(p).len() >= 3);
    assert_eq!(
        findings(&published),
        pairs(&[
            ("non-existent-service-account", "ghost"),
            ("dangling-service", "selector"),
            ("dangling-horizontalpodautoscaler", "ghost-deploy"),
        ]),
        "only what exists nowhere: {published}"
    );
    assert_eq!(
        message(&published, "non-existent-service-account"),
        "ServiceAccount \"ghost\" not found (nor in the cluster, context admin)"
    );
    assert!(
        message(&published, "dangling-service")
            .ends_with("matches no Pod template (nor any Pod of the cluster, context admin)"),
        "{}",
        message(&published, "dangling-service")
    );
    // An edit elsewhere answers again from the lists fetched: the same.
    server.change(
        &uri,
        2,
        json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                "text": "# edited\n"}]),
    );
    let edited = server.wait_for_publication(&uri, |p| p["version"] == 2);
    assert_eq!(
        findings_in(&format!("# edited\n{DOCUMENT}"), &edited),
        findings(&published),
        "{edited}"
    );

    // Without a cluster (a kubeconfig that does not exist): every question is reported.
    let missing = folder.path().join(unique_name("no-kubeconfig"));
    let mut alone = start(&missing, &namespace, folder.path());
    alone.open(&uri, DOCUMENT);
    let published = alone.wait_for_publication(&uri, |p| findings(p).len() >= 6);
    assert_eq!(
        findings(&published),
        pairs(&[
            ("non-existent-service-account", "robot"),
            ("non-existent-service-account", "ghost"),
            ("dangling-service", "selector"),
            ("dangling-service", "selector"),
            ("dangling-horizontalpodautoscaler", "web-live"),
            ("dangling-horizontalpodautoscaler", "ghost-deploy"),
        ])
    );
    assert!(
        !message(&published, "non-existent-service-account").contains("cluster"),
        "{published}"
    );
}

/// A cluster that refuses the lists (the restricted user reads one namespace only): the rules
/// report as without a cluster, saying why the cluster was no help.
#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_rules_forbidden_lists_report_as_without_a_cluster() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let namespace = runtime.block_on(cluster.create_namespace("rules-forbidden"));
    runtime.block_on(cluster.apply_fixture(&namespace, IN_CLUSTER));
    let folder = tempfile::tempdir().unwrap();
    let uri = format!("file://{}/app.yaml", folder.path().display());
    let mut server = start_in(
        &cluster.kubeconfig_path,
        Some("restricted"),
        &namespace,
        folder.path(),
    );
    server.open(&uri, DOCUMENT);
    let published = server.wait_for_publication(&uri, |p| findings(p).len() >= 6);
    assert_eq!(findings(&published).len(), 6, "{published}");
    let account = message(&published, "non-existent-service-account");
    assert!(
        account.starts_with("ServiceAccount \"robot\" not found (the cluster, context restricted, could not be asked: ")
            && account.contains("403"),
        "{account}"
    );
}

/// `kube-lsp check --cluster` answers the rules from the cluster too; without `--cluster`,
/// from the checked files alone.
#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_rules_check_cli_looks_in_the_cluster() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let namespace = runtime.block_on(cluster.create_namespace("rules-cli"));
    runtime.block_on(cluster.apply_fixture(&namespace, IN_CLUSTER));
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("app.yaml");
    std::fs::write(&file, DOCUMENT).unwrap();
    let kubeconfig = cluster.kubeconfig_path.to_str().unwrap();
    let check = |cluster_args: &[&str]| {
        let mut args = vec![
            "check",
            "--include",
            "dangling-horizontalpodautoscaler",
            "--format",
            "json",
        ];
        args.extend_from_slice(cluster_args);
        args.push(file.to_str().unwrap());
        let output = kube_lsp(&args);
        let reported: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        let mut found: Vec<(String, u64, String)> = reported
            .iter()
            .filter(|r| CROSS_OBJECT.iter().any(|c| r["code"] == *c))
            .map(|r| {
                (
                    r["code"].as_str().unwrap().to_string(),
                    r["line"].as_u64().unwrap(),
                    r["message"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let with_cluster = check(&[
        "--cluster",
        "--context",
        "admin",
        "--namespace",
        &namespace,
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(
        with_cluster,
        [
            (
                "dangling-horizontalpodautoscaler".to_string(),
                42,
                "the scale target Deployment \"ghost-deploy\" (apps/v1) is not found (nor in the cluster, context admin)".to_string()
            ),
            (
                "dangling-service".to_string(),
                28,
                "the Service's selector matches no Pod template (nor any Pod of the cluster, context admin)".to_string()
            ),
            (
                "non-existent-service-account".to_string(),
                14,
                "ServiceAccount \"ghost\" not found (nor in the cluster, context admin)".to_string()
            ),
        ]
    );
    let alone = check(&[]);
    let lines: Vec<u64> = alone.iter().map(|(_, line, _)| *line).collect();
    assert_eq!(lines, [35, 42, 21, 28, 6, 14], "{alone:?}");
}
