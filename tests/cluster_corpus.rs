//! kubectl-validate's Failure manifests (`../shared/corpus/kubectl-validate`), dry-run against the
//! real test apiserver with the corpus's CRDs installed: each expected Status names a field, and
//! kube-lsp's dry-run diagnostic must land on it. `kubectl apply --dry-run=server` on the same
//! file must fail too.

mod common;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::cluster::{ADMIN_CONTEXT, TestCluster, parse_yaml_documents};
use kube_lsp::cluster::ClusterSettings;
use kube_lsp::cluster::check::{check_documents, kubernetes_documents};
use kube_lsp::cluster::connection::Connection;
use kube_lsp::cluster::discovery;
use kube_lsp::cluster::dry_run::Outcome;
use kube_lsp::features::cluster_diagnostics::{self as cd, DocumentInput};
use kube_lsp::diagnostic::{Diagnostic, Severity};
use kube_lsp::yaml::key_path::KeyPath;
use kube_lsp::yaml::path_range::{RangeTarget, range_of};
use kube_lsp::yaml::{split, syntax};
use ropey::Rope;
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/kubectl-validate")
}

/// One document of a Failure case: the fields its expected Status names, and its range.
struct Case {
    fields: Vec<String>,
    range: Range<usize>,
}

/// The Failure cases of a file (the expected Status is the JSON in each document's leading
/// comment).
fn failure_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    for range in split::split(text).documents {
        let json: String = text[range.clone()]
            .lines()
            .skip_while(|l| l.starts_with("---") || l.trim().is_empty())
            .map_while(|l| l.strip_prefix('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let Some(status) = json
            .find('{')
            .and_then(|start| {
                json[start..]
                    .rfind('}')
                    .map(|end| &json[start..start + end + 1])
            })
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            continue;
        };
        if status["status"] != "Failure" {
            continue;
        }
        let fields = status["details"]["causes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["field"].as_str())
            .filter(|f| !f.is_empty() && *f != "<nil>")
            .map(str::to_string)
            .collect();
        cases.push(Case { fields, range });
    }
    cases
}

/// Installs every CustomResourceDefinition of `crds/` and waits until discovery serves them.
async fn install_corpus_crds(cluster: &TestCluster, connection: &Connection) {
    let mut kinds = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join("crds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
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
    let document = &text[case.range.clone()];
    let tree = syntax::parse(&Rope::from_str(document), 0..document.len(), None);
    case.fields.iter().any(|field| {
        let path = KeyPath::parse(field);
        [RangeTarget::Key, RangeTarget::Value].iter().any(|target| {
            let Some(want) = range_of(&tree, document, &path, *target) else {
                return false;
            };
            let want = want.start + case.range.start..want.end + case.range.start;
            errors.iter().any(|d| {
                d.range.start < want.end.max(want.start + 1)
                    && want.start < d.range.end.max(d.range.start + 1)
            })
        })
    })
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

    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus().join("manifests"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let (mut landed, mut sent, mut not_sent, mut accepted) = (0, 0, 0, 0);
    let mut rows = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let cases = failure_cases(&text);
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
