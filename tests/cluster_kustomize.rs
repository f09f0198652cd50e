//! A kustomization rendered with the real kustomize (`kubectl kustomize`) and its output
//! dry-run and diffed against the test control plane, over LSP and with `kube-lsp check
//! --cluster`: the apiserver's answers land on the patch lines that set the values, only
//! dry-runs are sent (the audit log says so), Secrets are not sent without `dryRunSecrets`,
//! kustomize's build annotations are not sent, and nothing is sent without consent.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::cli::kube_lsp;
use common::cluster::{TestCluster, is_write};
use common::server::TestServer;
use serde_json::{Value, json};

/// A patch that raises the Deployment's replicas (the live object has 1: a diff).
const REPLICAS_PATCH: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n";
/// A port the schema allows (an int32) but the apiserver rejects (1–65535).
const PORT_PATCH: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - name: http\n    port: 70000\n";

/// A copy of the kustomize fixture with `overlays/cluster`: the base in namespace `ns`, the two
/// patches above. Returns the folder and the overlay.
fn overlay_in(ns: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, root) = common::fixture::tree_copy("kustomize");
    let overlay = root.join("overlays/cluster");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(
        overlay.join("kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: {ns}\nresources:\n- ../../base\npatches:\n- path: replicas.yaml\n- path: port.yaml\n"
        ),
    )
    .unwrap();
    std::fs::write(overlay.join("replicas.yaml"), REPLICAS_PATCH).unwrap();
    std::fs::write(overlay.join("port.yaml"), PORT_PATCH).unwrap();
    (dir, root, overlay)
}

/// The overlay's Deployment as kustomize renders it, with 1 replica, made live in `ns` (by the
/// test's own client: kube-lsp never writes).
fn make_deployment_live(cluster: &TestCluster, ns: &str, overlay: &Path) {
    let rendered = std::process::Command::new("kubectl")
        .arg("kustomize")
        .arg(overlay)
        .output()
        .expect("kubectl kustomize");
    assert!(rendered.status.success(), "{rendered:?}");
    let text = String::from_utf8(rendered.stdout).unwrap();
    let deployment = text
        .split("\n---\n")
        .find(|d| d.contains("kind: Deployment"))
        .expect("a Deployment")
        .replace("replicas: 3", "replicas: 1");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(cluster.apply_fixture(ns, &deployment));
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn open_file(server: &mut TestServer, path: &Path) -> (String, String) {
    let uri = uri_of(path);
    let text = std::fs::read_to_string(path).unwrap();
    server.open(&uri, &text);
    (uri, text)
}

fn is_dry_run(d: &Value) -> bool {
    d["code"] == "kustomize-rendered"
        && d["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("rendered, dry-run:")
}

/// The first publication for `uri` with a dry-run finding matching `wanted`: that finding,
/// and all the publication's diagnostics.
fn dry_run_finding(
    server: &mut TestServer,
    uri: &str,
    wanted: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let found = |d: &Value| is_dry_run(d) && wanted(d);
    let published = server.wait_for_publication(uri, |p| {
        p["diagnostics"]
            .as_array()
            .is_some_and(|all| all.iter().any(found))
    });
    let all = published["diagnostics"].as_array().unwrap().clone();
    let finding = all.iter().find(|d| found(d)).unwrap().clone();
    (finding, all)
}

fn line_of<'t>(text: &'t str, found: &Value) -> Option<&'t str> {
    let line = found["range"]["start"]["line"].as_u64().unwrap() as usize;
    text.lines().nth(line)
}

fn message(d: &Value) -> &str {
    d["message"].as_str().unwrap_or_default()
}

/// kube-lsp's requests about namespace `ns` in the apiserver's audit log, once at least
/// `writes` of them are writes (or after 10 s).
fn audited(cluster: &TestCluster, ns: &str, writes: usize) -> Vec<Value> {
    cluster.kube_lsp_requests(ns, |ours| {
        ours.iter().filter(|e| is_write(e)).count() >= writes
    })
}

fn start(cluster: &TestCluster, root: &Path, ns: &str, allowed: bool) -> TestServer {
    start_with(cluster, root, ns, allowed, false)
}

fn start_with(
    cluster: &TestCluster,
    root: &Path,
    ns: &str,
    allowed: bool,
    secrets: bool,
) -> TestServer {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-kustomize-cache");
    let mut settings = json!({
        "kubeconfig": cluster.kubeconfig_path,
        "context": "admin",
        "namespace": ns,
        "dryRun": "onSave",
        "rules": false,
    });
    if allowed {
        settings["dryRunContexts"] = json!(["admin"]);
    }
    if secrets {
        settings["dryRunSecrets"] = json!(true);
    }
    TestServer::builder()
        .cache_dir(&cache)
        .workspace_folder(root)
        .initialization_options(json!({ "kube-lsp": settings }))
        .start()
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_kustomize_rendered_overlay_is_dry_run_and_mapped_to_the_patch_lines() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("kustomize-render"));
    let (_dir, root, overlay) = overlay_in(&ns);
    make_deployment_live(&cluster, &ns, &overlay);
    let mut server = start(&cluster, &root, &ns, true);
    let (port_uri, port_text) = open_file(&mut server, &overlay.join("port.yaml"));
    let (replicas_uri, replicas_text) = open_file(&mut server, &overlay.join("replicas.yaml"));
    open_file(&mut server, &overlay.join("kustomization.yaml"));

    // The apiserver rejects the port: on the patch line that set it.
    let (rejected, _) = dry_run_finding(&mut server, &port_uri, |d| d["severity"] == 1);
    assert!(message(&rejected).contains("70000"), "{rejected}");
    assert_eq!(
        line_of(&port_text, &rejected),
        Some("    port: 70000"),
        "{rejected}"
    );
    // The live Deployment has 1 replica: the diff, on the patch line that sets 3.
    let (changed, all) = dry_run_finding(&mut server, &replicas_uri, |d| {
        message(d).contains("spec.replicas: live: 1 → 3")
    });
    assert_eq!(
        line_of(&replicas_text, &changed),
        Some("  replicas: 3"),
        "{changed}"
    );
    // Only that field differs: kustomize's build annotations were not sent (they would
    // differ from the live object), and the patch files were not dry-run as objects.
    let published = json!(all);
    assert!(
        all.iter()
            .all(|d| !message(d).contains("config.kubernetes.io")),
        "{published}"
    );
    assert!(
        all.iter().all(|d| {
            let code = d["code"].as_str().unwrap_or_default();
            !code.starts_with("diff-") && !code.starts_with("dry-run-")
        }),
        "{published}"
    );
    assert!(
        all.iter()
            .any(|d| message(d).contains("1 field differs from the live object")),
        "{published}"
    );

    // Every request kube-lsp sent about the namespace was a read or a dry-run: the
    // Deployment, the Service, the ConfigMap of the base's generator; never the Secret.
    let events = audited(&cluster, &ns, 3);
    let writes: Vec<&Value> = events.iter().filter(|e| is_write(e)).collect();
    assert!(writes.len() >= 3, "{events:#?}");
    for event in &events {
        let uri = event["requestURI"].as_str().unwrap();
        if is_write(event) {
            assert_eq!(event["verb"], "patch", "{event}");
            let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
            assert!(
                query.split('&').any(|p| p == "dryRun=All"),
                "a write without dryRun=All: {uri}"
            );
        }
        assert!(!uri.contains("/secrets"), "a Secret was sent: {uri}");
    }
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_kustomize_rendered_overlay_is_not_sent_without_consent() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("kustomize-consent"));
    let (_dir, root, overlay) = overlay_in(&ns);
    let mut server = start(&cluster, &root, &ns, false);
    let (port_uri, _) = open_file(&mut server, &overlay.join("port.yaml"));
    open_file(&mut server, &overlay.join("kustomization.yaml"));
    // The render's schema findings arrive (the port is a valid int32: none on it), the
    // question is asked and not answered: nothing is dry-run.
    server.gather_notifications(Duration::from_secs(4));
    let asked = server.server_requests("window/showMessageRequest");
    assert!(!asked.is_empty(), "consent was not asked");
    let dry_runs: Vec<&Value> = server
        .queued_notifications()
        .filter(|n| n["params"]["uri"] == port_uri.as_str())
        .flat_map(|n| n["params"]["diagnostics"].as_array().into_iter().flatten())
        .filter(|d| is_dry_run(d))
        .collect();
    assert!(dry_runs.is_empty(), "{dry_runs:#?}");
    let events = audited(&cluster, &ns, 0);
    assert!(
        events.iter().all(|e| !is_write(e)),
        "sent without consent: {events:#?}"
    );
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_kustomize_generated_secret_is_sent_only_with_dry_run_secrets() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("kustomize-secrets"));
    let (_dir, root, overlay) = overlay_in(&ns);
    let mut server = start_with(&cluster, &root, &ns, true, true);
    let (port_uri, _) = open_file(&mut server, &overlay.join("port.yaml"));
    open_file(&mut server, &overlay.join("kustomization.yaml"));
    dry_run_finding(&mut server, &port_uri, |d| d["severity"] == 1);
    // The base's secretGenerator makes a Secret: with the setting, it is dry-run too.
    let events = audited(&cluster, &ns, 4);
    let secrets: Vec<&Value> = events
        .iter()
        .filter(|e| e["requestURI"].as_str().unwrap().contains("/secrets/"))
        .filter(|e| is_write(e))
        .collect();
    assert!(!secrets.is_empty(), "{events:#?}");
    for event in secrets {
        let uri = event["requestURI"].as_str().unwrap();
        assert!(
            uri.contains("dryRun=All"),
            "a write without dryRun=All: {uri}"
        );
    }
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_kustomize_check_cli_dry_runs_the_rendered_overlay() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("kustomize-cli"));
    let (_dir, _root, overlay) = overlay_in(&ns);
    make_deployment_live(&cluster, &ns, &overlay);
    let output = kube_lsp(&[
        "check",
        "--no-rules",
        "--cluster",
        "--context",
        "admin",
        "--namespace",
        &ns,
        "--kubeconfig",
        cluster.kubeconfig_path.to_str().unwrap(),
        overlay.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(2), "an error: {text}");
    let port = overlay.join("port.yaml");
    let replicas = overlay.join("replicas.yaml");
    let line_with = |file: &Path, needle: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{}:", file.display())) && l.contains(needle))
            .map(str::to_string)
    };
    let rejected = line_with(&port, "70000").unwrap_or_else(|| panic!("{text}"));
    assert!(
        rejected.starts_with(&format!(
            "{}:8:11: error: rendered, dry-run:",
            port.display()
        )),
        "{text}"
    );
    let changed =
        line_with(&replicas, "spec.replicas: live: 1 → 3").unwrap_or_else(|| panic!("{text}"));
    assert!(
        changed.starts_with(&format!("{}:6:13: info:", replicas.display())),
        "{text}"
    );
    assert!(!text.contains("config.kubernetes.io"), "{text}");
    // The patch files were not dry-run as objects of their own.
    assert!(
        !text
            .lines()
            .any(|l| l.contains("[dry-run-") || l.contains("[diff-")),
        "{text}"
    );
    let events = audited(&cluster, &ns, 3);
    for event in events.iter().filter(|e| is_write(e)) {
        let uri = event["requestURI"].as_str().unwrap();
        assert!(
            uri.contains("dryRun=All"),
            "a write without dryRun=All: {uri}"
        );
    }
}
