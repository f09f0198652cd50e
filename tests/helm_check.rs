//! `kube-lsp check` on Helm charts with the real `helm` (Helm v4, built by tests/tools/helm/build;
//! scripts/test builds it and sets KUBE_LSP_TEST_HELM): real charts give no false errors,
//! rendered findings land on the template line and the values key, Helm's errors on the line
//! it names, and bad input gives one clear diagnostic each.

mod common;

use std::path::Path;

use common::cli::{kube_lsp, stdout};
use common::helm::{copy_chart, fixture, helm};

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The lines of `out` ending in `[code]`.
fn lines_of<'o>(out: &'o str, code: &str) -> Vec<&'o str> {
    let tag = format!("[{code}]");
    out.lines().filter(|l| l.ends_with(&tag)).collect()
}

fn check(args: &[&str]) -> (String, String, Option<i32>) {
    let helm = helm();
    let mut all = vec!["check", "--helm", helm.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = kube_lsp(&all);
    let err = without_summary(&output.stderr);
    (stdout(&output), err, output.status.code())
}

/// Standard error without the summary line every check ends with: the tests read the rest.
fn without_summary(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|line| !line.starts_with("kube-lsp: checked "))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_real_charts_give_no_false_errors() {
    let corpus = common::corpus::path("helm/hello-world");
    for chart in [
        fixture("mychart"),
        fixture("podinfo"),
        fixture("metrics-server"),
        corpus,
    ] {
        let (out, err, code) = check(&[chart.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{}:\n{out}{err}", chart.display());
        assert!(!out.contains(": error:"), "{}:\n{out}", chart.display());
        assert!(!out.contains("[yaml-"), "{}:\n{out}", chart.display());
        assert!(!out.contains("[helm-render"), "{}:\n{out}", chart.display());
        assert!(err.is_empty(), "{err}");
    }
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_rendered_findings_map_to_the_template_line_and_the_values_key() {
    let (_dir, chart) = copy_chart("mychart");
    let deployment = chart.join("templates/deployment.yaml");
    // Static: a misspelled key, flagged on its line without rendering (and once only).
    edit(&deployment, "imagePullPolicy:", "imagePullPolicyy:");
    // Only the render shows this one: the value is a string once quoted.
    edit(
        &deployment,
        "replicas: {{ .Values.replicaCount }}",
        "replicas: {{ .Values.replicaCount | quote }}",
    );
    let (out, _, code) = check(&[chart.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    let at = |suffix: &str, code: &str| {
        lines
            .iter()
            .filter(|l| l.contains(suffix) && l.ends_with(&format!("[{code}]")))
            .count()
    };
    assert_eq!(
        at(
            "templates/deployment.yaml:42:11: error: unknown field `imagePullPolicyy`",
            "schema-unknown-field"
        ),
        1,
        "{out}"
    );
    assert_eq!(
        at("imagePullPolicyy", "helm-rendered"),
        0,
        "said once: {out}"
    );
    assert_eq!(
        at(
            "templates/deployment.yaml:9:13: error: rendered: expected integer",
            "helm-rendered"
        ),
        1,
        "{out}"
    );
    assert_eq!(
        at(
            "values.yaml:6:15: error: rendered: expected integer",
            "helm-rendered"
        ),
        1,
        "{out}"
    );
    assert!(out.contains("from `.Values.replicaCount`"), "{out}");
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_errors_land_on_the_line_helm_names() {
    // A nil pointer, a `required` value, a template that does not parse: each one diagnostic on
    // the template line.
    let cases = [
        (
            "{{ .Values.image.pullPolicy }}",
            "{{ .Values.image.nope.deeper }}",
            "deployment.yaml:42:",
            "nil pointer",
        ),
        (
            "{{ .Values.image.pullPolicy }}",
            "{{ required \"set image.x\" .Values.image.x }}",
            "deployment.yaml:42:",
            "set image.x",
        ),
        (
            "containerPort: {{ .Values.service.port }}",
            "containerPort: {{ if }}",
            "deployment.yaml:",
            "missing value for if",
        ),
    ];
    for (from, to, place, words) in cases {
        let (_dir, chart) = copy_chart("mychart");
        edit(&chart.join("templates/deployment.yaml"), from, to);
        let (out, _, code) = check(&["--no-render", chart.to_str().unwrap()]);
        let static_errors = out.lines().filter(|l| l.contains(": error:")).count();
        let (out, _, _) = check(&[chart.to_str().unwrap()]);
        let render: Vec<&str> = lines_of(&out, "helm-render");
        assert_eq!(render.len(), 1, "{to}: {out}");
        assert!(
            render[0].contains(place) && render[0].contains(words),
            "{to}: {out}"
        );
        // Nothing else breaks: the static findings are the same with and without the render.
        assert_eq!(
            out.lines().filter(|l| l.contains(": error:")).count(),
            static_errors + 1,
            "{to}: {out}"
        );
        let _ = code;
    }
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_yaml_broken_after_rendering_is_on_the_template_line() {
    let (_dir, chart) = copy_chart("mychart");
    let service = chart.join("templates/service.yaml");
    // Static text fine as a template, but the value printed makes a mapping inside a scalar.
    edit(
        &service,
        "  type: {{ .Values.service.type }}",
        "  type: {{ .Values.service.type }}\n   bad: [",
    );
    let (out, _, _) = check(&[chart.to_str().unwrap()]);
    let render: Vec<&str> = lines_of(&out, "helm-render");
    assert_eq!(render.len(), 1, "{out}");
    assert!(render[0].contains("templates/service.yaml:"), "{out}");
    assert!(render[0].contains("YAML parse error"), "{out}");
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_bad_input_gives_one_clear_diagnostic_each() {
    // Missing dependencies: one error on Chart.yaml's dependencies.
    let (_dir, chart) = copy_chart("mychart");
    let chart_yaml = chart.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap();
    std::fs::write(
        &chart_yaml,
        format!("{text}dependencies:\n- name: postgresql\n  version: 1.0.0\n  repository: https://charts.example.invalid\n"),
    )
    .unwrap();
    let (out, _, code) = check(&[chart.to_str().unwrap()]);
    let render: Vec<&str> = lines_of(&out, "helm-render");
    assert_eq!(render.len(), 1, "{out}");
    assert!(
        render[0].contains("Chart.yaml:") && render[0].contains("missing in charts/"),
        "{out}"
    );
    assert_eq!(code, Some(1));

    // Recursive includes: Helm's error, once.
    let (_dir, chart) = copy_chart("mychart");
    std::fs::write(
        chart.join("templates/_loop.tpl"),
        "{{- define \"loop\" -}}{{ include \"loop\" . }}{{- end -}}\n",
    )
    .unwrap();
    edit(
        &chart.join("templates/service.yaml"),
        "  type: {{ .Values.service.type }}",
        "  type: {{ include \"loop\" . }}",
    );
    let (out, _, _) = check(&[chart.to_str().unwrap()]);
    let render: Vec<&str> = lines_of(&out, "helm-render");
    assert_eq!(render.len(), 1, "{out}");

    // A render that hangs: stopped at its deadline, one clear message.
    let (_dir, chart) = copy_chart("mychart");
    edit(
        &chart.join("templates/service.yaml"),
        "  type: {{ .Values.service.type }}",
        "  type: {{ range $i := until 2000000000 }}{{ end }}x",
    );
    let started = std::time::Instant::now();
    let (out, err, code) = check(&["--helm-timeout-ms", "1500", chart.to_str().unwrap()]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(code, Some(2), "{out}{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("did not finish within 1500 ms"), "{err}");

    // A 10,000-line values file: checked and rendered like any other.
    let (_dir, chart) = copy_chart("mychart");
    let mut values = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    values.push_str("bulk:\n");
    for i in 0..10_000 {
        values.push_str(&format!("  key{i}: value-{i}\n"));
    }
    std::fs::write(chart.join("values.yaml"), values).unwrap();
    let (out, err, code) = check(&[chart.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}{err}");

    // No helm: the templates are still checked, and one line says why nothing was rendered.
    let output = kube_lsp(&[
        "check",
        "--helm",
        "/nonexistent/helm",
        fixture("mychart").to_str().unwrap(),
    ]);
    let err = without_summary(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/helm was not found"), "{err}");
}

#[test]
fn templates_in_a_folder_check_give_no_false_errors_without_rendering() {
    let output = kube_lsp(&["check", "--no-render", fixture("").to_str().unwrap()]);
    let out = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{out}");
    assert!(!out.contains(": error:"), "{out}");
}

#[test]
fn values_are_checked_against_the_charts_values_schema() {
    let (_dir, chart) = copy_chart("mychart");
    std::fs::write(
        chart.join("values.schema.json"),
        r#"{"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 1}}}"#,
    )
    .unwrap();
    edit(
        &chart.join("values.yaml"),
        "replicaCount: 1",
        "replicaCount: 0",
    );
    let output = kube_lsp(&["check", "--no-render", chart.to_str().unwrap()]);
    let out = stdout(&output);
    let found = lines_of(&out, "helm-values-schema");
    assert_eq!(found.len(), 1, "{out}");
    assert!(found[0].contains("values.yaml:6:15: error:"), "{out}");
    assert!(found[0].contains("replicaCount"), "{out}");
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_extra_values_files_are_rendered_and_their_keys_blamed() {
    let (_dir, chart) = copy_chart("mychart");
    let extra = chart.join("ci.yaml");
    std::fs::write(&extra, "service:\n  type: NodePort\nreplicaCount: two\n").unwrap();
    let (out, _, code) = check(&[
        "--helm-values",
        extra.to_str().unwrap(),
        chart.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    let rendered = lines_of(&out, "helm-rendered");
    assert_eq!(rendered.len(), 2, "{out}");
    assert!(
        rendered[0].contains("templates/deployment.yaml:9:13: error: rendered: expected integer"),
        "{out}"
    );
    // The value came from the extra file, not from values.yaml (which says 1).
    assert!(
        rendered[1].contains("ci.yaml:3:15: error: rendered: expected integer"),
        "{out}"
    );
    assert!(!out.contains("values.yaml:"), "{out}");
}
