//! A cluster that goes away and comes back, or answers slowly, while kube-lsp runs: played by a
//! loopback TCP proxy in front of the shared test apiserver (`common::cluster::TcpProxy`), so the
//! apiserver other tests use is never stopped.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::cluster::{TcpProxy, TestCluster};
use common::fixture::range_change;
use common::server::{TestServer, codes};
use serde_json::{Value, json};

/// A clean ConfigMap: the cluster says it would be created (`diff-create`).
const CONFIG_MAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n";

/// A server on `kubeconfig`'s current context (the test kubeconfig's is `admin`).
fn start(cache: &Path, kubeconfig: &Path, namespace: &str, timeout_ms: u64) -> TestServer {
    TestServer::builder()
        .cache_dir(cache)
        .initialization_options(json!({"kube-lsp": {
            "kubeconfig": kubeconfig, "dryRunContexts": ["*"],
            "namespace": namespace,
            "dryRun": "onChange",
            "debounceMs": 50,
            "requestTimeoutMs": timeout_ms,
        }}))
        .start()
}

fn wait_for_publication(
    server: &mut TestServer,
    uri: &str,
    version: i64,
    wanted: impl Fn(&[String]) -> bool,
) -> Value {
    server.wait_for_publication(uri, |p| p["version"] == version && wanted(&codes(p)))
}

fn wait_for_status(server: &mut TestServer, reachable: bool) -> Value {
    server.wait_for_notification("kube-lsp/status", |p| p["reachable"] == reachable)
}

/// Appends `extra` at the end of the document (line `line`).
fn append(server: &mut TestServer, uri: &str, version: i64, line: u32, extra: &str) {
    server.change(
        uri,
        version,
        json!([range_change((line, 0), (line, 0), extra)]),
    );
}

/// The requests an editor sends while typing, each timed: symbols, folding, and hover and
/// completion when the server offers them.
fn interactive_round_trips(server: &mut TestServer, uri: &str) -> Vec<(&'static str, Duration)> {
    let document = json!({"textDocument": {"uri": uri}});
    let at_key = json!({"textDocument": {"uri": uri}, "position": {"line": 5, "character": 3}});
    let mut requests = vec![
        ("textDocument/documentSymbol", document.clone()),
        ("textDocument/foldingRange", document),
    ];
    if !server.capabilities()["hoverProvider"].is_null() {
        requests.push(("textDocument/hover", at_key.clone()));
    }
    if !server.capabilities()["completionProvider"].is_null() {
        requests.push(("textDocument/completion", at_key));
    }
    requests
        .into_iter()
        .map(|(method, params)| {
            let started = Instant::now();
            server.request(method, params);
            (method, started.elapsed())
        })
        .collect()
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_faults_apiserver_away_then_back() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(TcpProxy::start(cluster.server_address()));
    let kubeconfig = proxy.kubeconfig(&cluster);
    let namespace = runtime.block_on(cluster.create_namespace("lsp-outage"));
    let cache = tempfile::tempdir().unwrap();
    let mut server = start(cache.path(), kubeconfig.path(), &namespace, 2000);
    server.wait_for_notification("kube-lsp/clusterSchema", |p| p["origin"] == "cluster");

    let uri = "file:///work/settings.yaml";
    server.open(uri, CONFIG_MAP);
    wait_for_publication(&mut server, uri, 1, |c| c.contains(&"diff-create".into()));
    wait_for_status(&mut server, true);

    // The apiserver goes away. An edit adds an unknown field: the schema (from the cluster,
    // kept in memory) still flags it, the cluster's diagnostics are dropped, one status says why.
    proxy.cut();
    append(&mut server, uri, 2, 6, "bogus: 1\n");
    let status = wait_for_status(&mut server, false);
    assert_eq!(status["context"], "admin");
    assert!(
        status["message"].as_str().unwrap().contains("cannot reach"),
        "{status}"
    );
    let offline = wait_for_publication(&mut server, uri, 2, |c| {
        c.contains(&"schema-unknown-field".into()) && !c.iter().any(|c| c.starts_with("diff-"))
    });
    let unknown = offline["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "schema-unknown-field")
        .unwrap();
    assert_eq!(
        unknown["range"]["start"],
        json!({"line": 6, "character": 0}),
        "{offline}"
    );
    let warnings = server.wait_for_notification("window/showMessage", |p| p["type"] == 2);
    assert!(warnings["message"].as_str().unwrap().contains("admin"));
    for (method, elapsed) in interactive_round_trips(&mut server, uri) {
        assert!(elapsed < Duration::from_secs(1), "{method}: {elapsed:?}");
    }

    // It comes back: without any edit, the cluster's diagnostics return for the same version
    // (the strict dry-run now names the unknown field too).
    proxy.restore();
    wait_for_status(&mut server, true);
    let back = wait_for_publication(&mut server, uri, 2, |c| {
        c.iter().any(|c| c.starts_with("dry-run-"))
    });
    assert!(codes(&back).contains(&"dry-run-invalid".into()), "{back}");
    server.shutdown();
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_faults_slow_apiserver_blocks_nothing() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(TcpProxy::start(cluster.server_address()));
    let kubeconfig = proxy.kubeconfig(&cluster);
    let namespace = runtime.block_on(cluster.create_namespace("lsp-slow"));
    let cache = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(1500);
    let mut server = start(
        cache.path(),
        kubeconfig.path(),
        &namespace,
        timeout.as_millis() as u64,
    );
    server.wait_for_notification("kube-lsp/clusterSchema", |p| p["origin"] == "cluster");

    // Every answer of the apiserver now takes longer than the request timeout.
    proxy.set_delay(Duration::from_millis(3000));
    let uri = "file:///work/slow.yaml";
    let opened = Instant::now();
    server.open(uri, CONFIG_MAP);
    // While the dry-run waits for the apiserver, the editor's requests and the schema
    // diagnostics of an edit are answered at once (a blocked one would take over a second).
    for (method, elapsed) in interactive_round_trips(&mut server, uri) {
        assert!(elapsed < Duration::from_secs(1), "{method}: {elapsed:?}");
    }
    let edited = Instant::now();
    append(&mut server, uri, 2, 6, "bogus: 1\n");
    wait_for_publication(&mut server, uri, 2, |c| {
        c.contains(&"schema-unknown-field".into())
    });
    let schema_latency = edited.elapsed();
    assert!(
        schema_latency < Duration::from_secs(1),
        "{schema_latency:?}"
    );

    // The request timeout fires: one status naming it, well before the apiserver's answer.
    let status = wait_for_status(&mut server, false);
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("within 1500 ms"), "{status}");
    assert!(
        opened.elapsed() < Duration::from_secs(10),
        "{:?}",
        opened.elapsed()
    );

    // Fast again: the dry-run of the current version arrives by itself.
    proxy.set_delay(Duration::ZERO);
    wait_for_status(&mut server, true);
    wait_for_publication(&mut server, uri, 2, |c| {
        c.contains(&"dry-run-invalid".into())
    });
    server.shutdown();
}

/// A gateway in front of the cluster that answers 502 to every request (plain HTTP on loopback).
/// Not 503 or 504: kube itself retries those until the request timeout, which reads as "no
/// answer within N ms".
async fn gateway_answering_502() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(n @ 1..) => request.extend_from_slice(&buffer[..n]),
                        _ => return,
                    }
                }
                let body = "upstream connect error";
                let response = format!(
                    "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(response.as_bytes()).await.ok();
            });
        }
    });
    address
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_faults_gateway_answering_502_is_one_status() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let gateway = runtime.block_on(gateway_answering_502());
    let kubeconfig = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        kubeconfig.path(),
        format!("apiVersion: v1\nkind: Config\ncurrent-context: behind-gateway\nclusters:\n- name: gw\n  cluster:\n    server: http://{gateway}\ncontexts:\n- name: behind-gateway\n  context:\n    cluster: gw\n    user: u\nusers:\n- name: u\n  user: {{}}\n"),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut server = start(cache.path(), kubeconfig.path(), "default", 2000);
    for name in ["a", "b"] {
        let text = CONFIG_MAP.replace("settings", name);
        server.open(&format!("file:///work/gateway/{name}.yaml"), &text);
    }
    let status = wait_for_status(&mut server, false);
    assert_eq!(status["context"], "behind-gateway");
    assert!(
        status["message"].as_str().unwrap().contains("answered 502"),
        "{status}"
    );
    server.wait_for_notification("window/showMessage", |p| p["type"] == 2);
    // Whatever else arrives in the next half second: no second warning, no cluster diagnostic.
    server.gather_notifications(Duration::from_millis(500));
    for message in server.queued_notifications() {
        assert!(message["method"] != "window/showMessage", "{message}");
        if message["method"] == "textDocument/publishDiagnostics" {
            assert!(
                !codes(&message["params"])
                    .iter()
                    .any(|c| c.starts_with("dry-run-") || c.starts_with("diff-")),
                "{message}"
            );
        }
    }
    server.shutdown();
}
