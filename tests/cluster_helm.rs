//! A Helm chart rendered with the real `helm` and its output dry-run against the test control
//! plane: the apiserver's answer lands on the template line, over LSP.

mod common;

use std::path::Path;

use common::cluster::TestCluster;
use common::helm::{copy_chart, helm};
use common::lsp_client::file_uri;
use common::server::TestServer;
use serde_json::json;

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_helm_rendered_chart_is_dry_run_and_mapped_to_the_template() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("helm-render"));
    let (dir, chart) = copy_chart("mychart");
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cluster-helm-cache");
    let mut server = TestServer::builder()
        .cache_dir(&cache)
        .workspace_folder(dir.path())
        .initialization_options(json!({"kube-lsp": {
            "kubeconfig": cluster.kubeconfig_path,
            "context": "admin",
            "namespace": ns,
            "dryRun": "onSave",
            "helm": {"path": helm()},
        }}))
        .start();
    let template = chart.join("templates/service.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    let uri = file_uri(&template);
    server.open(&uri, &text);
    // The Service does not exist in the namespace: the dry-run says it would be created, on the
    // template's `kind` (the static text around it), from the rendered document.
    let published = server.wait_for_publication(&uri, |p| {
        p["diagnostics"].as_array().is_some_and(|all| {
            all.iter().any(|d| {
                d["code"] == "helm-rendered"
                    && d["message"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("rendered, dry-run:")
            })
        })
    });
    let found = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("rendered, dry-run:")
        })
        .unwrap()
        .clone();
    let line = found["range"]["start"]["line"].as_u64().unwrap() as usize;
    assert!(
        line < text.lines().count() && !text.lines().nth(line).unwrap().trim().is_empty(),
        "{found}"
    );
    assert_ne!(found["severity"], 1, "a clean chart: {found}");
}
