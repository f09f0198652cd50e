//! `kube-lsp check --cluster` against the test control plane: exit codes like `kubectl diff`.

mod common;

use std::path::Path;

use common::cli::kube_lsp;
use common::cluster::TestCluster;
use common::corpus;

fn check(cluster: &TestCluster, ns: &str, file: &Path) -> (i32, String) {
    let kubeconfig = cluster.kubeconfig_path.to_str().unwrap();
    let output = kube_lsp(&[
        "check",
        "--cluster",
        "--context",
        "admin",
        "--namespace",
        ns,
        "--kubeconfig",
        kubeconfig,
        file.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    (
        output.status.code().unwrap_or(-1),
        stdout + &String::from_utf8_lossy(&output.stderr),
    )
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_check_cli_exits_like_kubectl_diff() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let ns = runtime.block_on(cluster.create_namespace("lsp-cli"));

    // Not in the cluster yet: a difference (creation).
    let (code, out) = check(&cluster, &ns, &corpus::path("seed/my-pod.yml"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("[diff-create]"), "{out}");

    // Live and identical: no difference.
    let text = corpus::read("seed/my-pod.yml");
    runtime.block_on(cluster.apply_fixture(&ns, &text));
    let (code, out) = check(&cluster, &ns, &corpus::path("seed/my-pod.yml"));
    assert_eq!(code, 0, "{out}");

    // Live without the label: one changed field.
    let ns2 = runtime.block_on(cluster.create_namespace("lsp-cli"));
    runtime.block_on(cluster.apply_fixture(&ns2, &text.replace("    demo: test\n", "")));
    let (code, out) = check(&cluster, &ns2, &corpus::path("seed/my-pod.yml"));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "my-pod.yml:6:11: info: metadata.labels.demo: live: (none) → test [diff-changed]"
        ),
        "{out}"
    );

    // An invalid manifest: an error, exit 2.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n",
    )
    .unwrap();
    let (code, out) = check(&cluster, &ns, &bad);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("[dry-run-invalid]"), "{out}");
}
