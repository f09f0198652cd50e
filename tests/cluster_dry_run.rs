//! kube-lsp's dry-run and diff against the real test control plane (`tests/testenv`). Every test
//! is `cluster_*` and ignored unless run by `scripts/test` (or with `--include-ignored` and
//! `KUBE_LSP_TEST_KUBECONFIG` set).

mod common;

use std::time::{Duration, Instant};

use common::cluster::{RESTRICTED_CONTEXT, RESTRICTED_NAMESPACE, TestCluster, is_write};
use common::corpus;
use kube_lsp::cluster::connection::Connection;
use kube_lsp::cluster::dry_run::{DryRun, Outcome, dry_run};
use kube_lsp::cluster::{ClusterError, ClusterSettings};
use kube_lsp::diagnostic::{Code, Severity, codes};
use kube_lsp::features::cluster_diagnostics::{self as cd, DocumentInput};
use serde_json::Value;

fn manifest(text: &str) -> Value {
    kube_lsp::yaml::value::document_to_json(text, &Default::default())
        .expect("valid YAML")
        .expect("a document")
}

async fn connect(cluster: &TestCluster, context: Option<&str>, namespace: &str) -> Connection {
    let settings = ClusterSettings {
        kubeconfig: Some(cluster.kubeconfig_path.to_string_lossy().into_owned()),
        context: context.map(str::to_string),
        namespace: Some(namespace.to_string()),
        request_timeout: Duration::from_secs(10),
    };
    Connection::connect(&settings).await.expect("connect")
}

/// (text of the range, code, severity, message) of every diagnostic.
fn diagnostics(text: &str, result: &DryRun) -> Vec<(String, Code, Severity, String)> {
    let manifest = manifest(text);
    let input = DocumentInput {
        text,
        offset: 0,
        manifest: &manifest,
    };
    cd::diagnostics(&input, result, true)
        .into_iter()
        .map(|d| (text[d.range].to_string(), d.code, d.severity, d.message))
        .collect()
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_nginx_dry_runs_clean_and_would_be_created() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("lsp-nginx").await;
    let connection = connect(&cluster, None, &ns).await;
    let text = corpus::read("seed/nginx.yml");
    let result = dry_run(&connection, &manifest(&text))
        .await
        .expect("dry-run");
    let Outcome::Applied { object, live } = &result.outcome else {
        panic!("expected a clean dry-run, got {result:?}");
    };
    assert!(live.is_none());
    assert_eq!(object["metadata"]["namespace"], ns.as_str());
    let found = diagnostics(&text, &result);
    assert!(found.iter().all(|d| d.2 != Severity::Error), "{found:?}");
    assert!(found.iter().any(|d| d.1 == codes::DIFF_CREATE), "{found:?}");
    eprintln!(
        "dry-run of nginx.yml (GET + PATCH, discovery cached after the first): {:?}",
        result.elapsed
    );
    // The dry-run created nothing.
    let again = dry_run(&connection, &manifest(&text))
        .await
        .expect("dry-run");
    assert!(!again.existed_before());
    eprintln!("second dry-run: {:?}", again.elapsed);
}

/// The +/- lines of a unified diff, without the file headers.
fn changed_lines(diff: &str) -> Vec<String> {
    diff.lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_diff_of_my_pod_matches_kubectl_diff() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("lsp-diff").await;
    let text = corpus::read("seed/my-pod.yml");
    let without_label = text.replace("    demo: test\n", "");
    assert_ne!(without_label, text);
    cluster.apply_fixture(&ns, &without_label).await;

    let connection = connect(&cluster, None, &ns).await;
    let result = dry_run(&connection, &manifest(&text))
        .await
        .expect("dry-run");
    assert!(result.existed_before(), "{result:?}");
    let found = diagnostics(&text, &result);
    let changed: Vec<_> = found
        .iter()
        .filter(|d| d.1 == codes::DIFF_CHANGED)
        .collect();
    assert_eq!(changed.len(), 1, "{found:?}");
    assert_eq!(changed[0].0, "test");
    assert_eq!(changed[0].3, "metadata.labels.demo: live: (none) → test");
    let summary = found
        .iter()
        .find(|d| d.1 == codes::DIFF_SUMMARY)
        .expect("summary");
    assert_eq!(
        summary.3,
        "would be configured: 1 field differs from the live object in context admin"
    );

    let view = cd::diff_view(&result).expect("diff view");
    assert!(
        view.live.contains("run: web") && !view.live.contains("demo: test"),
        "{}",
        view.live
    );
    assert!(view.manifest.contains("demo: test"));

    // kubectl diff, server-side like kube-lsp (its default client-side mode would add the
    // last-applied annotation).
    let path = std::env::temp_dir().join(format!("kube-lsp-my-pod-{}.yml", std::process::id()));
    std::fs::write(&path, &text).unwrap();
    let output = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig_path)
        .args([
            "--namespace",
            &ns,
            "diff",
            "--server-side",
            "--force-conflicts",
            "-f",
        ])
        .arg(&path)
        .env("KUBECTL_EXTERNAL_DIFF", "diff -u -N")
        .output()
        .expect("run kubectl");
    std::fs::remove_file(&path).ok();
    let kubectl = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(
        output.status.code(),
        Some(1),
        "kubectl diff: {kubectl}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // kubectl keeps resourceVersion/generation/managedFields in its view; kube-lsp drops them.
    let ignored = |l: &String| {
        [
            "resourceVersion:",
            "generation:",
            "managedFields",
            "uid:",
            "creationTimestamp:",
        ]
        .iter()
        .any(|k| l.contains(k))
    };
    let theirs: Vec<String> = changed_lines(&kubectl)
        .into_iter()
        .filter(|l| !ignored(l))
        .collect();
    let ours = changed_lines(&view.diff);
    assert_eq!(
        ours, theirs,
        "kube-lsp:\n{}\nkubectl:\n{kubectl}",
        view.diff
    );
    assert_eq!(ours, ["+    demo: test"]);
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_invalid_value_lands_on_the_field() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("lsp-invalid").await;
    let connection = connect(&cluster, None, &ns).await;
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 99999\n";
    let result = dry_run(&connection, &manifest(text))
        .await
        .expect("dry-run");
    let found = diagnostics(text, &result);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1, found[0].2),
        ("99999", codes::DRY_RUN_INVALID, Severity::Error)
    );
    assert!(
        found[0].3.contains("must be between 1 and 65535"),
        "{}",
        found[0].3
    );

    // An unknown field under strict validation: SSA names it as .spec.containers[name="web"].foo.
    let unknown = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers:\n  - name: side\n    image: busybox\n  - name: web\n    image: nginx\n    foo: bar\n";
    let result = dry_run(&connection, &manifest(unknown))
        .await
        .expect("dry-run");
    let found = diagnostics(unknown, &result);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("foo", codes::DRY_RUN_INVALID)
    );

    // A kind the cluster does not serve.
    let crd = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n";
    let result = dry_run(&connection, &manifest(crd)).await.expect("dry-run");
    let found = diagnostics(crd, &result);
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("Widget", codes::DRY_RUN_ERROR),
        "{found:?}"
    );
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_restricted_context_gets_one_forbidden_diagnostic() {
    let cluster = TestCluster::from_env();
    let connection = connect(&cluster, Some(RESTRICTED_CONTEXT), RESTRICTED_NAMESPACE).await;
    let text = corpus::read("seed/nginx.yml");
    let result = dry_run(&connection, &manifest(&text))
        .await
        .expect("dry-run");
    let found = diagnostics(&text, &result);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1, found[0].2),
        ("web", codes::DRY_RUN_FORBIDDEN, Severity::Warning)
    );
    assert!(
        found[0].3.contains("context restricted") && found[0].3.contains("forbidden"),
        "{}",
        found[0].3
    );
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_unchanged_object_is_one_hint() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("lsp-unchanged").await;
    let text = corpus::read("seed/my-pod.yml");
    cluster.apply_fixture(&ns, &text).await;
    let connection = connect(&cluster, None, &ns).await;
    let result = dry_run(&connection, &manifest(&text))
        .await
        .expect("dry-run");
    assert!(result.existed_before(), "{result:?}");
    let found = diagnostics(&text, &result);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1, found[0].2),
        ("web", codes::DIFF_UNCHANGED, Severity::Hint)
    );
    assert_eq!(
        found[0].3,
        "unchanged (the live object in context admin already matches)"
    );
}

fn kubeconfig_for(server: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        format!("apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: {server}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: nobody\nusers:\n- name: nobody\n  user:\n    token: x\n"),
    )
    .unwrap();
    file
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_unreachable_or_silent_servers_fail_fast() {
    // A closed loopback port: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let kubeconfig = kubeconfig_for(&format!("https://127.0.0.1:{port}"));
    let settings = ClusterSettings {
        kubeconfig: Some(kubeconfig.path().to_string_lossy().into_owned()),
        request_timeout: Duration::from_millis(1500),
        ..Default::default()
    };
    let connection = Connection::connect(&settings)
        .await
        .expect("building the client sends nothing");
    let started = Instant::now();
    let error = dry_run(&connection, &manifest(&corpus::read("seed/nginx.yml")))
        .await
        .expect_err("unreachable");
    assert!(matches!(error, ClusterError::Unreachable(_)), "{error:?}");
    assert!(error.is_connection());
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );

    // A port that accepts connections but never answers: the request timeout ends it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let kubeconfig = kubeconfig_for(&format!("https://{}", silent.local_addr().unwrap()));
    let settings = ClusterSettings {
        kubeconfig: Some(kubeconfig.path().to_string_lossy().into_owned()),
        request_timeout: Duration::from_millis(800),
        ..Default::default()
    };
    let connection = Connection::connect(&settings).await.unwrap();
    let started = Instant::now();
    let error = dry_run(&connection, &manifest(&corpus::read("seed/nginx.yml")))
        .await
        .expect_err("silent");
    let elapsed = started.elapsed();
    assert!(matches!(error, ClusterError::Unreachable(_)), "{error:?}");
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_millis(3000),
        "{elapsed:?}"
    );
    drop(silent);
}

/// Reads the apiserver's audit log (next to the kubeconfig in the testenv's state dir) and proves
/// that every write kube-lsp sent was a dry-run and that live objects did not change.
#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_audit_log_proves_kube_lsp_never_writes() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("lsp-audit").await;
    let text = corpus::read("seed/my-pod.yml");
    let applied = cluster
        .apply_fixture(&ns, &text.replace("    demo: test\n", ""))
        .await;
    let version_before = applied[0]
        .metadata
        .resource_version
        .clone()
        .expect("resourceVersion");

    let connection = connect(&cluster, None, &ns).await;
    // The dry-run paths: a change to an existing object, a creation, a rejected one.
    for manifest_text in [
        text.clone(),
        corpus::read("seed/nginx.yml").replace("name: web", "name: web-new"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n".to_string(),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n".to_string(),
    ] {
        dry_run(&connection, &manifest(&manifest_text))
            .await
            .expect("dry-run");
    }

    // Nothing changed: same resourceVersion, the others do not exist.
    let live = dry_run(&connection, &manifest(&text))
        .await
        .expect("dry-run");
    let Outcome::Applied {
        live: Some(live), ..
    } = &live.outcome
    else {
        panic!("{live:?}")
    };
    assert_eq!(live["metadata"]["resourceVersion"], version_before.as_str());
    assert!(live["metadata"]["labels"].get("demo").is_none());
    for (kind, name) in [("pods", "web-new"), ("configmaps", "cm"), ("pods", "bad")] {
        let response = connection
            .get(&format!("/api/v1/namespaces/{ns}/{kind}/{name}"))
            .await
            .unwrap();
        assert_eq!(response.status, 404, "{kind}/{name} exists");
    }

    let events = cluster.kube_lsp_requests(&ns, |ours| {
        ours.iter().filter(|e| e["verb"] == "patch").count() >= 5
    });
    let writes: Vec<&Value> = events.iter().filter(|e| is_write(e)).collect();
    assert_eq!(
        writes.len(),
        5,
        "expected the 5 dry-run PATCHes: {events:#?}"
    );
    for event in &writes {
        let uri = event["requestURI"].as_str().unwrap();
        assert_eq!(event["verb"], "patch", "{event}");
        let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
        assert!(
            query.split('&').any(|p| p == "dryRun=All"),
            "a write without dryRun=All: {uri}"
        );
    }
    // And nothing from kube-lsp anywhere in the log was a write without dryRun=All.
    let audit = cluster.kubeconfig_path.with_file_name("audit.log");
    let all = std::fs::read_to_string(&audit).unwrap();
    for event in all
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        if event["userAgent"].as_str() == Some(kube_lsp::cluster::USER_AGENT) && is_write(&event) {
            let uri = event["requestURI"].as_str().unwrap_or("");
            assert!(
                uri.contains("dryRun=All"),
                "a kube-lsp write without dryRun=All: {event}"
            );
        }
    }
}
