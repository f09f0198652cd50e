//! Helm charts over LSP, the built kube-lsp driven as an editor drives it: a chart template gets
//! no false errors and its static keys validated; `.Values` completion, hover, definition and
//! references; undefined values; and (with the real helm) rendered findings on the template line
//! and in values.yaml (or the settings' extra values file that set the value), Helm's own errors
//! on their line, a missing helm said once.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::helm::{copy_chart, helm};
use common::lsp_client::file_uri;
use common::server::TestServer;
use serde_json::{Value, json};

fn server(workspace: &Path, helm: Value) -> TestServer {
    TestServer::builder()
        .workspace_folder(workspace)
        .initialization_options(json!({"kube-lsp": {"helm": helm}}))
        .start()
}

fn position(text: &str, needle: &str, after: usize) -> Value {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle}")) + after;
    let line = text[..offset].matches('\n').count();
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": column})
}

fn codes(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits for a publication for `uri` with a diagnostic of `code`, and gives that diagnostic.
fn wait_for_code(server: &mut TestServer, uri: &str, code: &str) -> Value {
    let published =
        server.wait_for_publication(uri, |p| codes(&p["diagnostics"]).iter().any(|c| c == code));
    published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
        .unwrap()
        .clone()
}

/// Asks until the answer satisfies `ready` (the chart is read in the background after the open).
fn eventually(
    server: &mut TestServer,
    mut ask: impl FnMut(&mut TestServer) -> Value,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let answer = ask(server);
        if ready(&answer) || started.elapsed() > Duration::from_secs(20) {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_chart_template_gets_no_false_errors_and_its_static_keys_checked() {
    let (dir, chart) = copy_chart("mychart");
    let mut server = server(dir.path(), json!({"render": false}));
    let path = chart.join("templates/deployment.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = file_uri(&path);
    assert_eq!(server.open_and_wait(&uri, &text), json!([]));
    // A misspelled key, a value that is an action read from an undefined path.
    let start = position(&text, "imagePullPolicy:", 0);
    let end = position(&text, "imagePullPolicy:", "imagePullPolicy".len());
    server.change(
        &uri,
        2,
        json!([{"range": {"start": start, "end": end}, "text": "imagePullPolicyy"}]),
    );
    let published = server.wait_for_codes(&uri, &["schema-unknown-field"]);
    let found = &published["diagnostics"][0];
    assert_eq!(found["range"]["start"], start);
    let edited = text.replacen("imagePullPolicy:", "imagePullPolicyy:", 1);
    let at = position(&edited, ".Values.image.pullPolicy", ".Values.image.".len());
    let to = position(
        &edited,
        ".Values.image.pullPolicy",
        ".Values.image.pullPolicy".len(),
    );
    server.change(
        &uri,
        3,
        json!([{"range": {"start": at, "end": to}, "text": "pullPolicyy"}]),
    );
    let undefined = wait_for_code(&mut server, &uri, "helm-values-undefined");
    assert_eq!(undefined["severity"], 2);
    assert!(
        undefined["message"]
            .as_str()
            .unwrap()
            .contains(".Values.image.pullPolicyy")
    );
}

#[test]
fn values_completion_hover_definition_and_references() {
    let (dir, chart) = copy_chart("mychart");
    let mut server = server(dir.path(), json!({"render": false}));
    let path = chart.join("templates/deployment.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = file_uri(&path);
    server.open_and_wait(&uri, &text);
    let labels = |answer: &Value| -> Vec<String> {
        answer["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .map(|i| i["label"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    // `.Values.image.` at the cursor: the keys of `image` in values.yaml.
    let at = position(&text, ".Values.image.repository", ".Values.image.".len());
    let answer = eventually(
        &mut server,
        |s| s.completion(&uri, at.clone()),
        |a| !labels(a).is_empty(),
    );
    assert_eq!(labels(&answer), ["repository", "pullPolicy", "tag"]);
    // Names of defined templates inside `include "`.
    let at = position(&text, "include \"mychart.fullname\"", "include \"".len());
    let names = labels(&server.completion(&uri, at));
    assert!(names.contains(&"mychart.fullname".to_string()), "{names:?}");
    // `.Chart.`
    let at = position(&text, ".Chart.Name", ".Chart.".len());
    assert!(labels(&server.completion(&uri, at)).contains(&"AppVersion".to_string()));

    // Hover: the value and the file that sets it.
    let at = position(&text, ".Values.image.repository", ".Values.image.r".len());
    let hover = server.hover(&uri, at.clone());
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.contains("nginx") && markdown.contains("mychart/values.yaml"),
        "{markdown}"
    );

    // Definition: the key in values.yaml; a template name: its define.
    let found = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    let values = chart.join("values.yaml");
    let values_text = std::fs::read_to_string(&values).unwrap();
    assert_eq!(found[0]["uri"], file_uri(&values));
    assert_eq!(
        found[0]["range"]["start"],
        position(&values_text, "repository:", 0)
    );
    let at = position(&text, "include \"mychart.fullname\"", "include \"my".len());
    let found = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    assert_eq!(
        found[0]["uri"],
        file_uri(&chart.join("templates/_helpers.tpl"))
    );

    // References from values.yaml's `replicaCount` to the template that reads it.
    let values_uri = file_uri(&values);
    server.open_and_wait(&values_uri, &values_text);
    let at = position(&values_text, "replicaCount:", 2);
    let refs = eventually(
        &mut server,
        |s| {
            s.request(
                "textDocument/references",
                json!({"textDocument": {"uri": values_uri}, "position": at, "context": {"includeDeclaration": false}}),
            )
        },
        |a| a.as_array().is_some_and(|a| !a.is_empty()),
    );
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(refs[0]["uri"], uri);
    assert_eq!(
        refs[0]["range"]["start"],
        position(&text, "replicaCount }}", 0)
    );
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_rendered_findings_on_the_template_line_and_in_values() {
    let (dir, chart) = copy_chart("mychart");
    let template = chart.join("templates/deployment.yaml");
    let text = std::fs::read_to_string(&template).unwrap().replacen(
        "{{ .Values.replicaCount }}",
        "{{ .Values.replicaCount | quote }}",
        1,
    );
    std::fs::write(&template, &text).unwrap();
    let mut server = server(dir.path(), json!({"path": helm()}));
    let uri = file_uri(&template);
    server.open(&uri, &text);
    let published = server.wait_for_codes(&uri, &["helm-rendered"]);
    let found = &published["diagnostics"][0];
    assert_eq!(
        found["range"]["start"],
        position(&text, "{{ .Values.replicaCount | quote }}", 0)
    );
    assert!(
        found["message"]
            .as_str()
            .unwrap()
            .starts_with("rendered: expected integer")
    );
    // values.yaml, opened: the key the value came from.
    let values = chart.join("values.yaml");
    let values_text = std::fs::read_to_string(&values).unwrap();
    let values_uri = file_uri(&values);
    server.open(&values_uri, &values_text);
    let published = server.wait_for_codes(&values_uri, &["helm-rendered"]);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"],
        position(&values_text, "replicaCount: 1", "replicaCount: ".len())
    );

    // Saved with a `required` value missing: Helm's error on the line it names.
    let broken = text.replacen(
        "{{ .Values.image.pullPolicy }}",
        "{{ required \"image.x is needed\" .Values.image.x }}",
        1,
    );
    std::fs::write(&template, &broken).unwrap();
    server.change(&uri, 2, json!([{"text": broken}]));
    server
        .client()
        .notify(
            "textDocument/didSave",
            json!({"textDocument": {"uri": uri}}),
        )
        .unwrap();
    let error = wait_for_code(&mut server, &uri, "helm-render");
    assert_eq!(
        error["range"]["start"]["line"],
        position(&broken, "required \"image.x", 0)["line"]
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("image.x is needed")
    );
}

#[test]
fn a_missing_helm_is_said_once() {
    let (dir, chart) = copy_chart("mychart");
    let mut server = server(dir.path(), json!({"path": "/nonexistent/helm"}));
    for name in ["deployment.yaml", "service.yaml"] {
        let path = chart.join("templates").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        server.open_and_wait(&file_uri(&path), &text);
    }
    let message = server.wait_for_notification("window/showMessage", |p| {
        p["message"]
            .as_str()
            .unwrap_or_default()
            .contains("was not found")
    });
    assert_eq!(message["type"], 2);
    server.gather_notifications(Duration::from_millis(800));
    let told: Vec<&Value> = server
        .queued_notifications()
        .filter(|n| {
            n["method"] == "window/showMessage"
                && n["params"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("helm")
        })
        .collect();
    assert!(told.is_empty(), "said once: {told:?}");
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_extra_values_files_from_the_settings_are_rendered_and_blamed() {
    let (dir, chart) = copy_chart("mychart");
    let extra = chart.join("ci.yaml");
    let extra_text = "replicaCount: two\n";
    std::fs::write(&extra, extra_text).unwrap();
    let mut server = server(
        dir.path(),
        json!({"path": helm(), "valuesFiles": ["ci.yaml"]}),
    );
    let template = chart.join("templates/deployment.yaml");
    let text = std::fs::read_to_string(&template).unwrap();
    let uri = file_uri(&template);
    server.open(&uri, &text);
    let published = server.wait_for_codes(&uri, &["helm-rendered"]);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"],
        position(&text, "{{ .Values.replicaCount }}", 0)
    );
    let extra_uri = file_uri(&extra);
    server.open(&extra_uri, extra_text);
    let published = server.wait_for_codes(&extra_uri, &["helm-rendered"]);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"],
        position(extra_text, "two", 0)
    );
}
