//! A Helm chart rendered with the real `helm` and its output dry-run against the test control
//! plane: the apiserver's answer lands on the template line, over LSP.

mod common;

use std::path::{Path, PathBuf};

use common::cluster::TestCluster;
use common::helm::{copy_chart, helm};
use common::lsp_client::file_uri;
use common::server::TestServer;
use serde_json::{Value, json};

/// A copy of the `helm create` chart (`edit` applied to its files first), a server rendering it
/// with dry-runs in a fresh namespace, and `templates/service.yaml` opened: its text and URI.
fn open_service(
    namespace: &str,
    edit: impl FnOnce(&Path),
) -> (tempfile::TempDir, PathBuf, TestServer, String, String) {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace(namespace));
    let (dir, chart) = copy_chart("mychart");
    edit(&chart);
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-helm-cache");
    let mut server = TestServer::builder()
        .cache_dir(&cache)
        .workspace_folder(dir.path())
        .initialization_options(json!({"kube-lsp": {
            "kubeconfig": cluster.kubeconfig_path,
            "context": "admin",
            "dryRunContexts": ["admin"],
            "namespace": ns,
            "dryRun": "onSave",
            "helm": {"path": helm()},
        }}))
        .start();
    let template = chart.join("templates/service.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    let uri = file_uri(&template);
    server.open(&uri, &text);
    (dir, chart, server, text, uri)
}

/// The first publication for `uri` with a dry-run finding, and that finding.
fn dry_run_finding(server: &mut TestServer, uri: &str) -> Value {
    let is_dry_run = |d: &Value| {
        d["code"] == "helm-rendered"
            && d["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("rendered, dry-run:")
    };
    let published = server.wait_for_publication(uri, |p| {
        p["diagnostics"]
            .as_array()
            .is_some_and(|all| all.iter().any(is_dry_run))
    });
    published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| is_dry_run(d))
        .unwrap()
        .clone()
}

fn line_of<'t>(text: &'t str, found: &Value) -> Option<&'t str> {
    let line = found["range"]["start"]["line"].as_u64().unwrap() as usize;
    text.lines().nth(line)
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_helm_rendered_chart_is_dry_run_and_mapped_to_the_template() {
    let (_dir, _chart, mut server, text, uri) = open_service("helm-render", |_| {});
    // The Service does not exist in the namespace: the dry-run says it would be created, on the
    // line of the template that prints the rendered document's `metadata.name`.
    let found = dry_run_finding(&mut server, &uri);
    assert_eq!(
        line_of(&text, &found),
        Some("  name: {{ include \"mychart.fullname\" . }}"),
        "{found}"
    );
    assert_ne!(found["severity"], 1, "a clean chart: {found}");
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_helm_apiserver_rejection_lands_on_the_template_line_and_the_values_key() {
    // A port the schema allows (an int32) but the apiserver rejects (1–65535), set in values.yaml.
    let (_dir, chart, mut server, text, uri) = open_service("helm-reject", |chart| {
        let values = chart.join("values.yaml");
        let text = std::fs::read_to_string(&values).unwrap();
        std::fs::write(&values, text.replacen("  port: 80\n", "  port: 70000\n", 1)).unwrap();
    });
    let found = dry_run_finding(&mut server, &uri);
    assert_eq!(found["severity"], 1, "{found}");
    assert!(
        found["message"].as_str().unwrap().contains("70000"),
        "{found}"
    );
    assert_eq!(
        line_of(&text, &found),
        Some("    - port: {{ .Values.service.port }}"),
        "{found}"
    );
    // values.yaml, opened: the key the value came from.
    let values = chart.join("values.yaml");
    let values_text = std::fs::read_to_string(&values).unwrap();
    let values_uri = file_uri(&values);
    server.open(&values_uri, &values_text);
    let found = dry_run_finding(&mut server, &values_uri);
    assert_eq!(
        line_of(&values_text, &found),
        Some("  port: 70000"),
        "{found}"
    );
}
