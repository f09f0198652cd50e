//! The language server's cluster work, driven over stdio against the test control plane.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::cluster::TestCluster;
use common::corpus;
use common::fixture::range_change;
use common::server::{TestServer, codes};
use serde_json::{Value, json};

fn start(options: Value) -> TestServer {
    // The cluster schema's disk cache is shared by these tests and kept under target/.
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-lsp-cache");
    let server = TestServer::builder()
        .cache_dir(&cache)
        .initialization_options(options)
        .start();
    let result = server.initialize_result();
    let commands = &result["capabilities"]["executeCommandProvider"]["commands"];
    assert!(
        commands
            .as_array()
            .is_some_and(|c| c.contains(&json!("kube-lsp.showDiff"))),
        "{result}"
    );
    server
}

/// Waits for a publication of `uri` at `version` that holds a diagnostic with a code starting
/// with one of `prefixes` (the cluster's, which follow the immediate YAML-only one).
fn wait_for_cluster_diagnostics(
    server: &mut TestServer,
    uri: &str,
    version: i64,
    prefixes: &[&str],
) -> Value {
    server.wait_for_publication(uri, |p| {
        p["version"] == version
            && codes(p)
                .iter()
                .any(|c| prefixes.iter().any(|prefix| c.starts_with(prefix)))
    })
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_dry_run_diagnostics_for_the_current_version() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-server"));
    let mut server = start(json!({"kube-lsp": {
        "kubeconfig": cluster.kubeconfig_path, "dryRunContexts": ["*"],
        "context": "admin",
        "namespace": ns,
        "dryRun": "onChange",
        "debounceMs": 50,
    }}));

    // nginx.yml: a clean dry-run, the object would be created, no errors.
    let nginx = corpus::read("seed/nginx.yml");
    let uri = "file:///work/nginx.yml";
    let started = Instant::now();
    server.open(uri, &nginx);
    let params = wait_for_cluster_diagnostics(&mut server, uri, 1, &["diff-"]);
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
    let status = server.wait_for_notification("kube-lsp/status", |p| p["reachable"] == true);
    assert_eq!(status["context"], "admin");

    // showDiff of a new object: empty live side.
    let view = server.execute_command("kube-lsp.showDiff", json!([uri]));
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
    server.open(uri2, broken);
    server.change(
        uri2,
        2,
        json!([range_change((0, 0), (0, 0), "# a comment\n")]),
    );
    let params = wait_for_cluster_diagnostics(&mut server, uri2, 2, &["dry-run-"]);
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
    for queued in server.queued_notifications() {
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
    server.shutdown();
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
    let mut server = start(
        json!({"kube-lsp": {"kubeconfig": kubeconfig.path(), "dryRunContexts": ["*"], "requestTimeoutMs": 1000}}),
    );
    let started = Instant::now();
    for name in ["a", "b", "c"] {
        let text =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n");
        server.open(&format!("file:///work/{name}.yml"), &text);
    }
    let status = server.wait_for_notification("kube-lsp/status", |p| p["reachable"] == false);
    assert_eq!(status["context"], "gone");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let message = server.wait_for_notification("window/showMessage", |p| p["type"] == 2);
    assert!(
        message["message"].as_str().unwrap().contains("gone"),
        "{message}"
    );
    // Only one warning and one status for the three files: none of what arrives in the next
    // half second is another.
    server.gather_notifications(Duration::from_millis(500));
    let queued: Vec<&Value> = server.queued_notifications().collect();
    assert!(
        queued
            .iter()
            .all(|m| m["method"] != "window/showMessage" && m["method"] != "kube-lsp/status"),
        "{queued:?}"
    );
    server.shutdown();
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_context_switch_to_restricted_reports_forbidden() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-switch"));
    let settings = |context: &str, namespace: &str| {
        json!({"kube-lsp": {
            "kubeconfig": cluster.kubeconfig_path, "dryRunContexts": ["*"],
            "context": context,
            "namespace": namespace,
            "dryRun": "onSave",
        }})
    };
    let mut server = start(settings("admin", &ns));
    let nginx = corpus::read("seed/nginx.yml");
    let uri = "file:///work/switch/nginx.yml";
    server.open(uri, &nginx);
    let admin = wait_for_cluster_diagnostics(&mut server, uri, 1, &["diff-"]);
    assert!(
        codes(&admin).contains(&"diff-create".to_string()),
        "{admin}"
    );

    // The restricted user, set in the settings without a restart: the same file is re-checked
    // and gets one warning that says what is forbidden, in which context.
    server.discard_notifications();
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": settings("restricted", "kube-lsp-restricted")}),
    );
    let restricted = wait_for_cluster_diagnostics(&mut server, uri, 1, &["dry-run-"]);
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
    let schema =
        server.wait_for_notification("kube-lsp/clusterSchema", |p| p["context"] == "restricted");
    assert!(schema["resources"].as_u64() > Some(60), "{schema}");
    server.shutdown();
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
    let mut server =
        start(json!({"kube-lsp": {"kubeconfig": kubeconfig.path(), "dryRunContexts": ["*"]}}));
    for name in ["a", "b"] {
        let text =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n");
        server.open(&format!("file:///work/stale/{name}.yml"), &text);
    }
    let status = server.wait_for_notification("kube-lsp/status", |p| p["reachable"] == false);
    assert_eq!(status["context"], "stale");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.contains("rejected the credentials") && message.contains("401"),
        "{message}"
    );
    server.wait_for_notification("window/showMessage", |p| p["type"] == 2);
    // Everything else the server says in the next half second is queued, then inspected: no
    // second warning or status, and no document got a cluster diagnostic about it.
    server.gather_notifications(Duration::from_millis(500));
    for message in server.queued_notifications() {
        assert!(
            message["method"] != "window/showMessage" && message["method"] != "kube-lsp/status",
            "{message}"
        );
        if message["method"] == "textDocument/publishDiagnostics" {
            assert!(codes(&message["params"]).is_empty(), "{message}");
        }
    }
    server.shutdown();
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_cluster_schema_setting_off_keeps_the_builtin_schema() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-no-schema"));
    let mut server = start(json!({"kube-lsp": {
        "kubeconfig": cluster.kubeconfig_path, "dryRunContexts": ["*"],
        "context": "admin",
        "namespace": ns,
        "clusterSchema": false,
    }}));
    // A kind nobody serves: the dry-run says so (the cluster is used), the schema layer names
    // only the built-in schema as consulted.
    let text = "apiVersion: example.com/v1\nkind: Nothing\nmetadata:\n  name: x\n";
    let uri = "file:///work/no-schema/nothing.yml";
    server.open(uri, text);
    let params = wait_for_cluster_diagnostics(&mut server, uri, 1, &["dry-run-"]);
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
        server
            .queued_notifications()
            .all(|m| m["method"] != "kube-lsp/clusterSchema"),
        "no cluster schema was installed"
    );
    server.shutdown();
}

/// Without `dryRunContexts`, nothing is sent to the current context until the user allows it:
/// the server asks once, a dismissed question sends nothing (the status says so), and "Allow"
/// sends the documents, Secrets left out.
#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_lsp_documents_go_only_where_the_user_allowed_them() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-consent"));
    let settings = json!({"kube-lsp": {"kubeconfig": cluster.kubeconfig_path, "namespace": ns}});
    let nginx = corpus::read("seed/nginx.yml");

    let cache = tempfile::tempdir().unwrap();
    let mut server = TestServer::builder()
        .cache_dir(cache.path())
        .initialization_options(settings.clone())
        .start();
    let uri = "file:///work/consent/nginx.yml";
    server.open(uri, &nginx);
    let status =
        server.wait_for_notification("kube-lsp/status", |p| p.get("sendsDocuments").is_some());
    assert_eq!(status["context"], "admin");
    assert_eq!(status["sendsDocuments"], false, "{status}");
    assert_eq!(server.server_requests("window/showMessageRequest").len(), 1);
    server.gather_notifications(Duration::from_secs(2));
    for message in server.queued_notifications() {
        if message["method"] == "textDocument/publishDiagnostics" {
            assert!(
                codes(&message["params"])
                    .iter()
                    .all(|c| !c.starts_with("dry-run-") && !c.starts_with("diff-")),
                "{message}"
            );
        }
    }
    server.shutdown();

    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n";
    let mut server = TestServer::builder()
        .cache_dir(cache.path())
        .initialization_options(settings)
        .answer_message_requests("Allow dry-run")
        .start();
    server.open(uri, &nginx);
    let params = wait_for_cluster_diagnostics(&mut server, uri, 1, &["diff-"]);
    assert!(
        codes(&params).contains(&"diff-create".to_string()),
        "{params}"
    );
    let status =
        server.wait_for_notification("kube-lsp/status", |p| p.get("sendsDocuments").is_some());
    assert_eq!(status["sendsDocuments"], true, "{status}");
    assert_eq!(status["sendsSecrets"], false, "{status}");
    let secret_uri = "file:///work/consent/secret.yml";
    server.open(secret_uri, secret);
    server.gather_notifications(Duration::from_secs(2));
    for message in server.queued_notifications() {
        if message["method"] == "textDocument/publishDiagnostics"
            && message["params"]["uri"] == secret_uri
        {
            assert!(
                codes(&message["params"]).is_empty(),
                "a Secret was checked: {message}"
            );
        }
    }
    server.shutdown();
}
