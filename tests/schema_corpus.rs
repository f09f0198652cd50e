//! Schema validation over the shared corpus: real manifests stay clean, peers' invalid fixtures
//! are flagged, and kubectl-validate's cases are compared with the apiserver's expected Status.

mod common;

use std::path::PathBuf;

use common::corpus::{self, KUBECTL_VALIDATE, kubectl_validate_cases, yaml_files};
use kube_lsp::cli::check::catalog_for;
use kube_lsp::diagnostic::{Diagnostic, Severity};
use kube_lsp::features::diagnostics::text_diagnostics;
use kube_lsp::schema::{Catalog, SourceKind};
use kube_lsp::workspace::crd_files::load_crd_files;
use kube_lsp::yaml::key_path::KeyPath;
use ropey::Rope;

/// The built-in schema plus the CRDs of `dirs` (as a workspace scan finds them).
fn catalog_with_crds(dirs: &[PathBuf]) -> Catalog {
    let layers = load_crd_files(dirs, SourceKind::Crd)
        .into_iter()
        .map(|(_, store)| store);
    Catalog::with_builtin(layers.collect::<Vec<_>>())
}

/// Error- and warning-level diagnostics of every layer (the YAML layer's duplicate keys count too).
fn problems(text: &str, catalog: &Catalog) -> Vec<Diagnostic> {
    text_diagnostics(&Rope::from_str(text), catalog)
        .into_iter()
        .filter(|d| d.severity <= Severity::Warning)
        .collect()
}

fn schema_errors(text: &str, catalog: &Catalog) -> Vec<Diagnostic> {
    text_diagnostics(&Rope::from_str(text), catalog)
        .into_iter()
        .filter(|d| d.code.as_str().starts_with("schema-") && d.severity == Severity::Error)
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[test]
fn real_manifests_have_no_schema_errors() {
    let root = corpus::root();
    let mut files = Vec::new();
    for dir in ["seed", "real", "k8s-examples"] {
        files.extend(yaml_files(&root.join(dir)));
    }
    assert!(
        files.len() > 40,
        "the corpus is missing: {}",
        root.display()
    );
    // Checked as `kube-lsp check ../shared/corpus` does: with every CRD of the corpus in the
    // catalog, including peers' broken ones (one redefines CustomResourceDefinition itself).
    let texts: Vec<(String, Vec<u8>)> = yaml_files(&root)
        .into_iter()
        .map(|f| (f.display().to_string(), std::fs::read(&f).unwrap()))
        .collect();
    let catalog = catalog_for(&texts, &[]);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for d in schema_errors(&text, &catalog) {
            failures.push(format!(
                "{}:{}: {} [{}]",
                file.strip_prefix(&root).unwrap().display(),
                line_of(&text, d.range.start),
                d.message,
                d.code
            ));
        }
    }
    println!("{} files checked", files.len());
    assert!(
        failures.is_empty(),
        "false positives:\n{}",
        failures.join("\n")
    );
}

/// kubeconform's fixtures, classified as its acceptance tests (acceptance.bats) run them: with
/// `-strict` where it has a strict case, and with the CRD of `registry/` for its custom resource.
#[test]
fn kubeconform_fixtures() {
    let dir = corpus::path("kubeconform");
    let catalog = catalog_with_crds(&[dir.join("registry")]);
    let invalid = [
        ("invalid.yaml", "schema-"),
        ("multi_invalid.yaml", "schema-"),
        ("list_invalid.yaml", "schema-type"),
        ("extra_property.yaml", "schema-unknown-field"),
        ("duplicate_property.yaml", "yaml-duplicate-key"),
        ("missing_apiversion.yaml", "schema-required"),
        ("missing_kind_value.yaml", "schema-required"),
        ("multi_invalid_resources.yaml", "schema-required"),
    ];
    let mut failures = Vec::new();
    for (name, code) in invalid {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let errors: Vec<Diagnostic> = problems(&text, &catalog)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !errors.iter().any(|d| d.code.as_str().starts_with(code)) {
            failures.push(format!("{name}: expected {code}, got {errors:?}"));
        }
    }
    // `missing_kind.yaml` is `key: value`: kubeconform rejects it, but kube-lsp runs on every
    // YAML file of a workspace and leaves documents that name no kind alone (generic YAML).
    let generic = std::fs::read_to_string(dir.join("missing_kind.yaml")).unwrap();
    assert!(problems(&generic, &catalog).is_empty());
    let mut clean = 0;
    for file in yaml_files(&dir).into_iter().chain([dir.join("valid.json")]) {
        let name = file.strip_prefix(&dir).unwrap().display().to_string();
        if invalid.iter().any(|(n, _)| *n == name) || name == "missing_kind.yaml" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let errors: Vec<String> = problems(&text, &catalog)
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                format!(
                    "{}: {} [{}]",
                    line_of(&text, d.range.start),
                    d.message,
                    d.code
                )
            })
            .collect();
        if errors.is_empty() {
            clean += 1;
        } else {
            failures.push(format!("{name} should be clean: {errors:?}"));
        }
    }
    // Without the registry CRD its custom resource is one warning, never an error.
    let custom = std::fs::read_to_string(dir.join("test_crd.yaml")).unwrap();
    let without_crd = problems(&custom, &Catalog::builtin());
    assert_eq!(without_crd.len(), 1, "{without_crd:?}");
    assert_eq!(without_crd[0].code, "schema-unknown-kind");
    println!(
        "kubeconform: {} invalid flagged, {clean} valid clean",
        invalid.len()
    );
    assert!(clean >= 30, "fixtures are missing: {clean}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn kubectl_validate_parity() {
    let dir = corpus::path(KUBECTL_VALIDATE).join("manifests");
    let catalog = catalog_with_crds(&[corpus::path(KUBECTL_VALIDATE).join("crds")]);
    let mut rows = Vec::new();
    let (mut failure_total, mut failure_hit, mut success_total, mut success_clean) = (0, 0, 0, 0);
    for file in yaml_files(&dir) {
        let text = std::fs::read_to_string(&file).unwrap();
        let errors = problems(&text, &catalog);
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for (i, case) in kubectl_validate_cases(&text).into_iter().enumerate() {
            // An unknown kind counts only where the apiserver complained about the kind; a
            // custom resource's kind is unknown until workspace CRDs are loaded.
            let about_kind = case.message.contains("not found in");
            let in_doc: Vec<&Diagnostic> = errors
                .iter()
                .filter(|d| case.range.start <= d.range.start && d.range.end <= case.range.end)
                .filter(|d| about_kind || d.code != "schema-unknown-kind")
                .collect();
            let doc_text = &text[case.range.clone()];
            let (verdict, ok) = if case.success {
                success_total += 1;
                let clean = !in_doc.iter().any(|d| d.severity == Severity::Error);
                success_clean += usize::from(clean);
                (if clean { "clean" } else { "FALSE POSITIVE" }, clean)
            } else {
                failure_total += 1;
                let hit = if case.fields.is_empty() {
                    !in_doc.is_empty()
                } else {
                    let paths: Vec<KeyPath> = case
                        .fields
                        .iter()
                        .flat_map(|f| field_paths(f, doc_text))
                        .collect();
                    let ranges: Vec<_> = in_doc.iter().map(|d| d.range.clone()).collect();
                    case.overlaps_a_path(&text, &paths, &ranges)
                };
                failure_hit += usize::from(hit);
                (if hit { "flagged" } else { "missed" }, hit)
            };
            let got: Vec<String> = in_doc.iter().map(|d| d.message.clone()).collect();
            rows.push(format!(
                "{:<6} {:<48} #{i} {:<15} expected {:?} got {:?}",
                if ok { "ok" } else { "--" },
                name,
                verdict,
                case.fields,
                got
            ));
        }
    }
    println!("kubectl-validate parity:");
    for row in &rows {
        println!("  {row}");
    }
    println!(
        "Failure cases flagged on the expected field: {failure_hit}/{failure_total}; Success cases clean: {success_clean}/{success_total}"
    );
    assert!(
        failure_total >= 22 && success_total >= 10,
        "cases are missing"
    );
    assert_eq!(
        failure_hit, failure_total,
        "a Failure case has no diagnostic on its field"
    );
    assert_eq!(
        success_clean, success_total,
        "a Success case got a schema error"
    );
}

/// The paths an apiserver field names in a document. A CRD whose versions share one schema is
/// reported under `spec.validation.openAPIV3Schema` (the apiserver's internal form) although the
/// v1 document holds it under `spec.versions[i].schema.openAPIV3Schema`.
fn field_paths(field: &str, doc_text: &str) -> Vec<KeyPath> {
    let mut paths = vec![KeyPath::parse(field)];
    if let Some(rest) = field.strip_prefix("spec.validation.openAPIV3Schema") {
        let versions = doc_text.matches("openAPIV3Schema:").count();
        for i in 0..versions {
            paths.push(KeyPath::parse(&format!(
                "spec.versions[{i}].schema.openAPIV3Schema{rest}"
            )));
        }
    }
    paths
}
