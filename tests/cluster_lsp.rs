//! The language server's cluster work, driven over stdio against the test control plane.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::cluster::{TestCluster, spawn_kube_lsp};
use common::lsp_client::LspClient;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(20);

fn start(options: Value) -> LspClient {
    // The cluster schema's disk cache goes under target/, not the user's ~/.cache.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-lsp-cache");
    let (client, result) = spawn_kube_lsp(&cache, options);
    let commands = &result["capabilities"]["executeCommandProvider"]["commands"];
    assert!(
        commands
            .as_array()
            .is_some_and(|c| c.contains(&json!("kube-lsp.showDiff"))),
        "{result}"
    );
    client
}

fn codes(params: &Value) -> Vec<String> {
    params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits for a publication of `uri` at `version` that holds a diagnostic with a code starting
/// with one of `prefixes` (the cluster's, which follow the immediate YAML-only one).
fn wait_for_cluster_diagnostics(
    client: &mut LspClient,
    uri: &str,
    version: i64,
    prefixes: &[&str],
) -> Value {
    client
        .wait_for_notification(
            "textDocument/publishDiagnostics",
            |p| {
                p["uri"] == uri
                    && p["version"] == version
                    && codes(p)
                        .iter()
                        .any(|c| prefixes.iter().any(|prefix| c.starts_with(prefix)))
            },
            WAIT,
        )
        .unwrap_or_else(|e| panic!("cluster diagnostics for {uri} v{version}: {e}"))
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_dry_run_diagnostics_for_the_current_version() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-server"));
    let mut client = start(json!({"kube-lsp": {
        "kubeconfig": cluster.kubeconfig_path,
        "context": "admin",
        "namespace": ns,
        "dryRun": "onChange",
        "debounceMs": 50,
    }}));

    // nginx.yml: a clean dry-run, the object would be created, no errors.
    let nginx = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/seed/nginx.yml"),
    )
    .unwrap();
    let uri = "file:///work/nginx.yml";
    let started = Instant::now();
    client.did_open(uri, "yaml", &nginx, 1).unwrap();
    let params = wait_for_cluster_diagnostics(&mut client, uri, 1, &["diff-"]);
    eprintln!("open → cluster diagnostics: {:?}", started.elapsed());
    assert!(
        params["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["severity"] != 1),
        "{params}"
    );
    assert!(
        codes(&params).contains(&"diff-create".to_string()),
        "{params}"
    );
    let status = client
        .wait_for_notification("kube-lsp/status", |p| p["reachable"] == true, WAIT)
        .expect("kube-lsp/status");
    assert_eq!(status["context"], "admin");

    // showDiff of a new object: empty live side.
    let view = client
        .request(
            "workspace/executeCommand",
            json!({"command": "kube-lsp.showDiff", "arguments": [uri]}),
        )
        .expect("showDiff");
    assert_eq!(view["live"], "");
    assert!(
        view["manifest"]
            .as_str()
            .unwrap()
            .contains("name: nginx-container"),
        "{view}"
    );

    // A broken manifest, then an edit before the first answer could matter: the dry-run
    // diagnostic comes for the current version, on the shifted range.
    let broken = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 99999\n";
    let uri2 = "file:///work/broken.yml";
    client.did_open(uri2, "yaml", broken, 1).unwrap();
    client
        .did_change(uri2, 2, json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "# a comment\n"}]))
        .unwrap();
    let params = wait_for_cluster_diagnostics(&mut client, uri2, 2, &["dry-run-"]);
    let invalid: Vec<&Value> = params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "dry-run-invalid")
        .collect();
    assert_eq!(invalid.len(), 1, "{params}");
    assert_eq!(
        invalid[0]["range"]["start"],
        json!({"line": 10, "character": 21}),
        "{params}"
    );
    assert_eq!(invalid[0]["source"], "kube-lsp");
    // No cluster diagnostics were published for version 1 after version 2 was known.
    for queued in client.queued_notifications() {
        if queued["method"] == "textDocument/publishDiagnostics" && queued["params"]["uri"] == uri2
        {
            assert!(
                !(queued["params"]["version"] == 1
                    && codes(&queued["params"])
                        .iter()
                        .any(|c| c.starts_with("dry-run"))),
                "{queued}"
            );
        }
    }
    client.shutdown_and_exit().expect("exit");
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_unreachable_cluster_is_a_status_not_errors() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let kubeconfig = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        kubeconfig.path(),
        format!("apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: gone\n  context:\n    cluster: gone\n    user: nobody\nusers:\n- name: nobody\n  user:\n    token: x\n"),
    )
    .unwrap();
    let mut client =
        start(json!({"kube-lsp": {"kubeconfig": kubeconfig.path(), "requestTimeoutMs": 1000}}));
    let started = Instant::now();
    for (i, name) in ["a", "b", "c"].iter().enumerate() {
        let text =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n");
        client
            .did_open(&format!("file:///work/{name}.yml"), "yaml", &text, 1)
            .unwrap();
        let _ = i;
    }
    let status = client
        .wait_for_notification("kube-lsp/status", |p| p["reachable"] == false, WAIT)
        .expect("kube-lsp/status");
    assert_eq!(status["context"], "gone");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = client
        .wait_for_notification("window/showMessage", |p| p["type"] == 2, WAIT)
        .expect("one warning");
    assert!(
        message["message"].as_str().unwrap().contains("gone"),
        "{message}"
    );
    std::thread::sleep(Duration::from_millis(500));
    client.discard_notifications().ok();
    // Only one warning and one status for the three files; no diagnostics from the cluster.
    let queued: Vec<&Value> = client.queued_notifications().collect();
    assert!(
        queued
            .iter()
            .all(|m| m["method"] != "window/showMessage" && m["method"] != "kube-lsp/status"),
        "{queued:?}"
    );
    client.shutdown_and_exit().expect("exit");
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_context_switch_to_restricted_reports_forbidden() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-switch"));
    let settings = |context: &str, namespace: &str| {
        json!({"kube-lsp": {
            "kubeconfig": cluster.kubeconfig_path,
            "context": context,
            "namespace": namespace,
            "dryRun": "onSave",
        }})
    };
    let mut client = start(settings("admin", &ns));
    let nginx = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/seed/nginx.yml"),
    )
    .unwrap();
    let uri = "file:///work/switch/nginx.yml";
    client.did_open(uri, "yaml", &nginx, 1).unwrap();
    let admin = wait_for_cluster_diagnostics(&mut client, uri, 1, &["diff-"]);
    assert!(
        codes(&admin).contains(&"diff-create".to_string()),
        "{admin}"
    );

    // The restricted user, set in the settings without a restart: the same file is re-checked
    // and gets one warning that says what is forbidden, in which context.
    client.discard_notifications().unwrap();
    client
        .notify(
            "workspace/didChangeConfiguration",
            json!({"settings": settings("restricted", "kube-lsp-restricted")}),
        )
        .unwrap();
    let restricted = wait_for_cluster_diagnostics(&mut client, uri, 1, &["dry-run-"]);
    let cluster_diagnostics: Vec<&Value> = restricted["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("dry-run-"))
        .collect();
    assert_eq!(cluster_diagnostics.len(), 1, "{restricted}");
    let forbidden = cluster_diagnostics[0];
    assert_eq!(forbidden["code"], "dry-run-forbidden");
    assert_eq!(forbidden["severity"], 2);
    let message = forbidden["message"].as_str().unwrap();
    assert!(
        message.contains("context restricted")
            && message.contains("forbidden")
            && message.contains("kube-lsp-restricted"),
        "{message}"
    );
    // The restricted user may read discovery and OpenAPI: its context's schema is installed.
    let schema = client
        .wait_for_notification(
            "kube-lsp/clusterSchema",
            |p| p["context"] == "restricted",
            WAIT,
        )
        .expect("the restricted context's schema");
    assert!(schema["resources"].as_u64() > Some(60), "{schema}");
    client.shutdown_and_exit().expect("exit");
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_rejected_credentials_are_one_status() {
    let cluster = TestCluster::from_env();
    let text = std::fs::read_to_string(&cluster.kubeconfig_path).unwrap();
    let ca = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .expect("the test kubeconfig embeds its CA");
    let kubeconfig = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        kubeconfig.path(),
        format!("apiVersion: v1\nkind: Config\ncurrent-context: stale\nclusters:\n- name: testenv\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\ncontexts:\n- name: stale\n  context:\n    cluster: testenv\n    user: stale\nusers:\n- name: stale\n  user:\n    token: expired-or-revoked\n", cluster.server_url()),
    )
    .unwrap();
    let mut client = start(json!({"kube-lsp": {"kubeconfig": kubeconfig.path()}}));
    for name in ["a", "b"] {
        let text =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n");
        let uri = format!("file:///work/stale/{name}.yml");
        client.did_open(&uri, "yaml", &text, 1).unwrap();
    }
    let status = client
        .wait_for_notification("kube-lsp/status", |p| p["reachable"] == false, WAIT)
        .expect("kube-lsp/status");
    assert_eq!(status["context"], "stale");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("rejected the credentials") && message.contains("401"),
        "{message}"
    );
    client
        .wait_for_notification("window/showMessage", |p| p["type"] == 2, WAIT)
        .expect("one warning");
    // Everything else the server says in the next half second is queued, then inspected: no
    // second warning or status, and no document got a cluster diagnostic about it.
    let _ = client.wait_for_notification("(none)", |_| false, Duration::from_millis(500));
    for message in client.queued_notifications() {
        assert!(
            message["method"] != "window/showMessage" && message["method"] != "kube-lsp/status",
            "{message}"
        );
        if message["method"] == "textDocument/publishDiagnostics" {
            assert!(codes(&message["params"]).is_empty(), "{message}");
        }
    }
    client.shutdown_and_exit().expect("exit");
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_cluster_schema_setting_off_keeps_the_builtin_schema() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-no-schema"));
    let mut client = start(json!({"kube-lsp": {
        "kubeconfig": cluster.kubeconfig_path,
        "context": "admin",
        "namespace": ns,
        "clusterSchema": false,
    }}));
    // A kind nobody serves: the dry-run says so (the cluster is used), the schema layer names
    // only the built-in schema as consulted.
    let text = "apiVersion: example.com/v1\nkind: Nothing\nmetadata:\n  name: x\n";
    let uri = "file:///work/no-schema/nothing.yml";
    client.did_open(uri, "yaml", text, 1).unwrap();
    let params = wait_for_cluster_diagnostics(&mut client, uri, 1, &["dry-run-"]);
    let unknown = params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "schema-unknown-kind")
        .unwrap_or_else(|| panic!("{params}"));
    let message = unknown["message"].as_str().unwrap();
    assert!(
        message.contains("built-in") && !message.contains("context admin"),
        "{message}"
    );
    assert!(
        client
            .queued_notifications()
            .all(|m| m["method"] != "kube-lsp/clusterSchema"),
        "no cluster schema was installed"
    );
    client.shutdown_and_exit().expect("exit");
}
