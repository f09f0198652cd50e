//! kubectl-validate's Failure manifests (`../shared/corpus/kubectl-validate`), dry-run against the
//! real test apiserver with the corpus's CRDs installed: each expected Status names a field, and
//! kube-lsp's dry-run diagnostic must land on it. `kubectl apply --dry-run=server` on the same
//! file must fail too.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::cluster::{ADMIN_CONTEXT, TestCluster, parse_yaml_documents};
use common::corpus::{self, Case, KUBECTL_VALIDATE, kubectl_validate_cases, yaml_files};
use kube_lsp::cluster::ClusterSettings;
use kube_lsp::cluster::check::{check_documents, kubernetes_documents};
use kube_lsp::cluster::connection::Connection;
use kube_lsp::cluster::discovery;
use kube_lsp::cluster::dry_run::Outcome;
use kube_lsp::diagnostic::{Diagnostic, Severity};
use kube_lsp::features::cluster_diagnostics::{self as cd, DocumentInput};
use kube_lsp::yaml::key_path::KeyPath;

/// Installs every CustomResourceDefinition of `crds/` and waits until discovery serves them.
async fn install_corpus_crds(cluster: &TestCluster, connection: &Connection) {
    let mut kinds = Vec::new();
    for file in yaml_files(&corpus::path(KUBECTL_VALIDATE).join("crds")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for crd in parse_yaml_documents(&text).unwrap() {
            if crd["kind"] != "CustomResourceDefinition" {
                continue;
            }
            let group = crd["spec"]["group"].as_str().unwrap().to_string();
            let kind = crd["spec"]["names"]["kind"].as_str().unwrap().to_string();
            for version in crd["spec"]["versions"].as_array().unwrap() {
                if version["served"] == true {
                    kinds.push((
                        format!("{group}/{}", version["name"].as_str().unwrap()),
                        kind.clone(),
                    ));
                }
            }
            // JSON is YAML: the helper applies it as it is.
            cluster.apply_fixture("default", &crd.to_string()).await;
        }
    }
    let started = Instant::now();
    loop {
        let served = discovery::fetch(connection).await.expect("discovery");
        let missing: Vec<_> = kinds
            .iter()
            .filter(|(api_version, kind)| served.resource(api_version, kind).is_none())
            .collect();
        if missing.is_empty() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not served: {missing:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether an error diagnostic overlaps the key or value of one of the expected fields (or, when
/// the Status names none, whether the document has an error at all).
fn lands_on_expected_field(case: &Case, text: &str, diagnostics: &[Diagnostic]) -> bool {
    let errors: Vec<&Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if case.fields.is_empty() {
        return !errors.is_empty();
    }
    let paths: Vec<KeyPath> = case.fields.iter().map(|f| KeyPath::parse(f)).collect();
    let ranges: Vec<_> = errors.iter().map(|d| d.range.clone()).collect();
    case.overlaps_a_path(text, &paths, &ranges)
}

fn kubectl_dry_run_fails(cluster: &TestCluster, namespace: &str, file: &Path) -> bool {
    let output = std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&cluster.kubeconfig_path)
        .args(["--context", ADMIN_CONTEXT, "-n", namespace])
        .args(["apply", "--server-side", "--dry-run=server", "-f"])
        .arg(file)
        .output()
        .expect("kubectl");
    !output.status.success()
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_corpus_failures_land_on_the_expected_field() {
    let cluster = TestCluster::from_env();
    let namespace = cluster.create_namespace("lsp-corpus").await;
    let settings = ClusterSettings {
        kubeconfig: Some(cluster.kubeconfig_path.to_string_lossy().into_owned()),
        context: Some(ADMIN_CONTEXT.to_string()),
        namespace: Some(namespace.clone()),
        request_timeout: Duration::from_secs(10),
    };
    let connection = Connection::connect(&settings).await.expect("connect");
    install_corpus_crds(&cluster, &connection).await;

    let (mut landed, mut sent, mut not_sent, mut accepted) = (0, 0, 0, 0);
    let mut rows = Vec::new();
    for file in yaml_files(&corpus::path(KUBECTL_VALIDATE).join("manifests")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let cases: Vec<Case> = kubectl_validate_cases(&text)
            .into_iter()
            .filter(|case| !case.success)
            .collect();
        if cases.is_empty() {
            continue;
        }
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let documents = kubernetes_documents(&text);
        let checked = check_documents(&connection, documents)
            .await
            .expect("dry-run");
        let mut diagnostics = Vec::new();
        for document in &checked {
            let input = DocumentInput {
                text: &text[document.range.clone()],
                offset: document.range.start,
                manifest: &document.manifest,
            };
            diagnostics.extend(cd::diagnostics(&input, &document.result, false));
        }
        let kubectl_fails = kubectl_dry_run_fails(&cluster, &namespace, &file);
        for case in &cases {
            let was_sent = checked
                .iter()
                .any(|d| d.range == case.range && !matches!(d.result.outcome, Outcome::Skipped(_)));
            let in_case: Vec<Diagnostic> = diagnostics
                .iter()
                .filter(|d| case.range.start <= d.range.start && d.range.end <= case.range.end)
                .cloned()
                .collect();
            let has_error = in_case.iter().any(|d| d.severity == Severity::Error);
            let verdict = if !was_sent {
                not_sent += 1;
                "not sent (no name: server-side apply needs one; the schema layer reports it)"
            } else if !has_error && !kubectl_fails {
                // kubectl-validate's own strict decoding rejects it, the apiserver does not.
                accepted += 1;
                "accepted by the apiserver, as by kubectl"
            } else if lands_on_expected_field(case, &text, &in_case) {
                sent += 1;
                landed += 1;
                "on the expected field"
            } else {
                sent += 1;
                "MISSED"
            };
            if has_error {
                assert!(
                    kubectl_fails,
                    "{name}: kube-lsp reports an error, kubectl apply --dry-run=server succeeds"
                );
            }
            let got: Vec<String> = in_case
                .iter()
                .map(|d| {
                    let text: String = text[d.range.clone()].chars().take(30).collect();
                    format!("{}@{text:?}", d.code)
                })
                .collect();
            rows.push(format!(
                "{name:<44} {verdict:<22} expected {:?} got {got:?}",
                case.fields
            ));
        }
    }
    println!("kubectl-validate Failure cases, dry-run against the test apiserver:");
    for row in &rows {
        println!("  {row}");
    }
    println!(
        "on the expected field: {landed}/{sent} rejected by the apiserver; {accepted} accepted by it \
         (and kubectl); {not_sent} not sent"
    );
    assert!(sent >= 15, "{rows:#?}");
    assert_eq!(landed, sent, "{rows:#?}");
}
