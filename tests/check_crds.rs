//! `kube-lsp check` with CRDs: from `--schema-path` and from among the checked files.

mod common;

use std::path::PathBuf;

use common::cli::{kube_lsp, stdout};
use common::corpus::{self, KUBECTL_VALIDATE};

fn kubectl_validate() -> PathBuf {
    corpus::path(KUBECTL_VALIDATE)
}

#[test]
fn schema_paths_give_custom_resources_their_schema() {
    let manifest = kubectl_validate().join("manifests/error_cel_basic.yaml");
    let manifest = manifest.to_str().unwrap();
    let without = kube_lsp(&["check", manifest]);
    assert_eq!(without.status.code(), Some(0), "{}", stdout(&without));
    assert!(stdout(&without).contains("warning: CELBasic (stable.example.com/v1) is not in built-in Kubernetes 1.37 [schema-unknown-kind]"));

    let crds = kubectl_validate().join("crds");
    let with = kube_lsp(&["check", "--schema-path", crds.to_str().unwrap(), manifest]);
    assert_eq!(with.status.code(), Some(1), "{}", stdout(&with));
    assert!(
        stdout(&with).ends_with(":31:1: error: Must be positive non-zero [schema-rule]\n"),
        "{}",
        stdout(&with)
    );
}

#[test]
fn crds_among_the_checked_files_count_and_a_missing_schema_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        kubectl_validate().join("crds/cel_basic.yaml"),
        dir.path().join("crd.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("basic.yaml"),
        "apiVersion: stable.example.com/v1\nkind: CELBasic\nmetadata:\n  name: b\nvalue: 2\nmap_list:\n- containerPort: 1\n- containerPort: 1\n  protocol: TCP\n",
    )
    .unwrap();
    let output = kube_lsp(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("basic.yaml:8:3: error: Duplicate value: {\"containerPort\":1,\"protocol\":\"TCP\"} [schema-duplicate]"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");

    let missing = kube_lsp(&[
        "check",
        "--schema-path",
        "/nonexistent/crds",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(missing.status.code(), Some(2));
}
