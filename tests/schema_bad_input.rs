//! Hostile and broken input to the schema layer: clear diagnostics, no panic, no cascade.
//! (Bounded time is by construction: walks are iterative or depth-limited; no timed assertions.)

use kube_lsp::cli::check::catalog_for;
use kube_lsp::diagnostic::{Diagnostic, Severity};
use kube_lsp::features::diagnostics::text_diagnostics;
use kube_lsp::features::schema_diagnostics::SchemaDiagnostics;
use kube_lsp::schema::Catalog;
use kube_lsp::yaml::file::YamlFile;
use ropey::Rope;

const CRD_HEAD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n";

const WIDGET: &str =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: 3\n";

/// The diagnostics of a file checked as `kube-lsp check` does (its CRDs in the catalog), as
/// (text, code, severity) triples.
fn check(text: &str) -> Vec<(String, &'static str, Severity)> {
    let catalog = catalog_for(&[("x.yaml".to_string(), text.as_bytes().to_vec())], &[]);
    diagnostics(text, &catalog)
        .into_iter()
        .map(|d| {
            (
                text[d.range.clone()].to_string(),
                d.code.as_str(),
                d.severity,
            )
        })
        .collect()
}

fn diagnostics(text: &str, catalog: &Catalog) -> Vec<Diagnostic> {
    text_diagnostics(&Rope::from_str(text), catalog)
}

#[test]
fn a_crd_with_a_broken_schema_gets_one_clear_error() {
    let text = format!(
        "{CRD_HEAD}        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {{type: strign}}\n---\n{WIDGET}"
    );
    let found = check(&text);
    assert_eq!(
        found,
        [("strign".to_string(), "schema-crd", Severity::Error)]
    );
}

#[test]
fn a_schema_nested_too_deep_is_one_warning_and_its_resources_are_unknown() {
    let depth = 120;
    let mut schema = String::new();
    for level in 0..depth {
        let indent = " ".repeat(8 + level * 4);
        schema.push_str(&format!("{indent}properties:\n{indent}  x:\n"));
    }
    schema.push_str(&format!("{}type: string\n", " ".repeat(8 + depth * 4)));
    let text = format!("{CRD_HEAD}{schema}---\n{WIDGET}");
    let found = check(&text);
    let codes: Vec<&str> = found.iter().map(|(_, c, _)| *c).collect();
    assert_eq!(codes, ["schema-crd", "schema-unknown-kind"], "{found:?}");
    assert_eq!(found[0].2, Severity::Warning);
}

#[test]
fn recursive_refs_in_a_crd_are_forbidden_and_do_not_loop() {
    let text = format!(
        "{CRD_HEAD}        type: object\n        properties:\n          spec:\n            $ref: '#/components/schemas/example.com.v1.Widget'\n---\n{WIDGET}"
    );
    let found = check(&text);
    assert_eq!(found, [("$ref".to_string(), "schema-crd", Severity::Error)]);
}

#[test]
fn type_meta_that_is_not_a_string() {
    let found = check("apiVersion: [v1]\nkind: {a: 1}\nmetadata: {name: a}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, "schema-required");
    let found = check("apiVersion: v1\nkind: 5\nmetadata: {name: a}\n");
    assert_eq!(
        found,
        [("5".to_string(), "schema-unknown-kind", Severity::Warning)]
    );
}

#[test]
fn keys_that_are_not_strings() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n    ? [x]\n    : y\n    1: 2\ndata:\n  ? {a: b}\n  : c\n  true: d\n";
    let found = check(text);
    // `2` is no string (labels are map[string]string); complex keys are skipped, not guessed at.
    assert_eq!(found, [("2".to_string(), "schema-type", Severity::Error)]);
}

#[test]
fn five_thousand_documents_are_each_validated_once() {
    let mut text = String::new();
    for i in 0..5000 {
        let data = if i == 2500 { "dta" } else { "data" };
        text.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n{data}:\n  k: v\n---\n"
        ));
    }
    let rope = Rope::from_str(&text);
    let mut file = YamlFile::open(&rope);
    let mut schema = SchemaDiagnostics::default();
    schema.refresh(&mut file, &rope, &Catalog::builtin());
    assert_eq!(schema.last_validated, 5000);
    let found: Vec<Diagnostic> = schema.diagnostics().collect();
    assert_eq!(found.len(), 1);
    assert_eq!(&text[found[0].range.clone()], "dta");
    assert_eq!(
        text[..found[0].range.start].matches("\n---\n").count(),
        2500
    );
}

#[test]
fn a_crd_over_the_size_limit_is_one_warning_on_its_kind() {
    let description = "x".repeat(5 << 20);
    let text = format!(
        "{CRD_HEAD}        type: object\n        description: {description}\n---\n{WIDGET}"
    );
    let found = check(&text);
    let summary: Vec<(&str, &str)> = found
        .iter()
        .map(|(text, code, _)| (text.as_str(), *code))
        .collect();
    assert_eq!(
        summary,
        [
            ("CustomResourceDefinition", "schema-crd"),
            ("Widget", "schema-unknown-kind")
        ]
    );
}

#[test]
fn embedded_resources_name_their_type() {
    let text = format!(
        "{CRD_HEAD}        type: object\n        properties:\n          template:\n            type: object\n            x-kubernetes-embedded-resource: true\n            x-kubernetes-preserve-unknown-fields: true\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\ntemplate:\n  kind: Pod\n  spec: {{}}\n"
    );
    let found = check(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0.as_str(), found[0].1),
        ("template", "schema-required")
    );
    assert!(check(&text.replace("  kind: Pod\n", "  kind: Pod\n  apiVersion: v1\n")).is_empty());
}

#[test]
fn crd_objects_without_properties_keep_no_fields() {
    let text = format!(
        "{CRD_HEAD}        type: object\n        properties:\n          spec:\n            type: object\n          extra:\n            type: object\n            x-kubernetes-preserve-unknown-fields: true\n          template:\n            type: object\n            x-kubernetes-embedded-resource: true\n            properties:\n              spec: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec:\n  pruned: 1\nextra:\n  kept: 1\ntemplate:\n  apiVersion: v1\n  kind: Pod\n  metadata: {{name: p, labels: {{a: -b}}}}\n  spec: {{x: 1}}\n"
    );
    let found: Vec<(String, &str)> = check(&text).into_iter().map(|(t, c, _)| (t, c)).collect();
    assert_eq!(
        found,
        [
            ("pruned".to_string(), "schema-unknown-field"),
            ("-b".to_string(), "schema-invalid")
        ]
    );
}

#[test]
fn cel_rules_report_on_their_field_path_with_their_message_expression() {
    let text = format!(
        "{CRD_HEAD}        type: object\n        x-kubernetes-validations:\n        - rule: self.spec.min <= self.spec.max\n          fieldPath: .spec.min\n          messageExpression: \"'min ' + string(self.spec.min) + ' is over max'\"\n        properties:\n          spec:\n            type: object\n            properties:\n              min: {{type: integer}}\n              max: {{type: integer}}\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec:\n  max: 1\n  min: 5\n"
    );
    let found = check(&text);
    assert_eq!(found, [("min".to_string(), "schema-rule", Severity::Error)]);
    let catalog = catalog_for(&[("x.yaml".to_string(), text.as_bytes().to_vec())], &[]);
    let message = diagnostics(&text, &catalog)[0].message.clone();
    assert_eq!(message, "min 5 is over max");
}
