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

/// The labels of a completion answer.
fn labels(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["label"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The detail of the completion item `label`.
fn detail<'a>(answer: &'a Value, label: &str) -> &'a str {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("{label} in {answer}"))["detail"]
        .as_str()
        .unwrap()
}

/// The diagnostics of `code` in a publication.
fn of_code<'p>(published: &'p Value, code: &str) -> Vec<&'p Value> {
    published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .collect()
}

/// A plain manifest outside the chart, opened after the chart's trouble: still checked.
fn a_plain_manifest_is_still_checked(server: &mut TestServer, folder: &Path) {
    let path = folder.join("plain/cm.yaml");
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndatta: {}\n";
    let uri = file_uri(&path);
    server.open(&uri, text);
    server.wait_for_codes(&uri, &["schema-unknown-field"]);
}

/// Lines added to a template's `metadata:`, each reading a values path.
fn with_annotations(text: &str, annotations: &[(&str, &str)]) -> String {
    let lines: String = annotations
        .iter()
        .map(|(key, path)| format!("    {key}: {{{{ .Values.{path} | quote }}}}\n"))
        .collect();
    text.replacen(
        "metadata:\n",
        &format!("metadata:\n  annotations:\n{lines}"),
        1,
    )
}

#[test]
fn extra_values_files_feed_completion_hover_definition_and_the_undefined_warning() {
    let (dir, chart) = copy_chart("mychart");
    let extra = chart.join("ci.yaml");
    let extra_text = "replicaCount: 3\nimage:\n  digest: sha256:abc\nciOnly:\n  flag: true\n";
    std::fs::write(&extra, extra_text).unwrap();
    // values-prod.yaml is not read by a render unless given with -f: offered, defines nothing.
    std::fs::write(chart.join("values-prod.yaml"), "prodOnly: 1\n").unwrap();
    let path = chart.join("templates/service.yaml");
    let text = with_annotations(
        &std::fs::read_to_string(&path).unwrap(),
        &[
            ("ci", "ciOnly.flag"),
            ("prod", "prodOnly"),
            ("replicas", "replicaCount"),
        ],
    );
    std::fs::write(&path, &text).unwrap();
    let mut server = server(
        dir.path(),
        json!({"render": false, "valuesFiles": ["ci.yaml"]}),
    );
    let uri = file_uri(&path);
    server.open(&uri, &text);
    let published = server.wait_for_code(&uri, None, "helm-values-undefined");
    let undefined = of_code(&published, "helm-values-undefined");
    assert_eq!(undefined.len(), 1, "{published}");
    let message = undefined[0]["message"].as_str().unwrap();
    assert!(
        message.contains("`.Values.prodOnly`")
            && message.contains("mychart/values.yaml or mychart/ci.yaml"),
        "{message}"
    );

    // Completion: the keys of every values file, each marked by the file it is from.
    let at = position(&text, ".Values.prodOnly", ".Values.".len());
    let answer = server.completion(&uri, at);
    let found = labels(&answer);
    for key in ["replicaCount", "image", "ciOnly", "prodOnly"] {
        assert!(found.contains(&key.to_string()), "{key}: {found:?}");
    }
    assert_eq!(
        detail(&answer, "replicaCount"),
        "3 (from `mychart/ci.yaml`)"
    );
    assert!(
        detail(&answer, "prodOnly").contains("only in `mychart/values-prod.yaml`"),
        "{answer}"
    );
    let at = position(&text, ".Values.ciOnly.flag", ".Values.ciOnly.".len());
    assert_eq!(labels(&server.completion(&uri, at)), ["flag"]);

    // Hover: both files' values in Helm's merge order, the settings' file winning.
    let at = position(&text, ".Values.replicaCount", ".Values.r".len());
    let hover = server.hover(&uri, at.clone());
    let markdown = hover["contents"]["value"].as_str().unwrap();
    let own = markdown
        .find("set in `mychart/values.yaml`")
        .expect(markdown);
    let wins = markdown
        .find("set in `mychart/ci.yaml` (kube-lsp.helm.valuesFiles): this value wins")
        .expect(markdown);
    assert!(own < wins, "{markdown}");

    // Definition: into the extra file, after values.yaml.
    let found = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    let values_text = std::fs::read_to_string(chart.join("values.yaml")).unwrap();
    assert_eq!(found[0]["uri"], file_uri(&chart.join("values.yaml")));
    assert_eq!(found[1]["uri"], file_uri(&extra));
    assert_eq!(
        found[1]["range"]["start"],
        position(extra_text, "replicaCount", 0)
    );
    assert_eq!(
        found[0]["range"]["start"],
        position(&values_text, "replicaCount:", 0)
    );
    let at = position(&text, ".Values.ciOnly.flag", ".Values.ciOnly.f".len());
    let found = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    assert_eq!(found[0]["uri"], file_uri(&extra));
    assert_eq!(found[0]["range"]["start"], position(extra_text, "flag", 0));

    // The extra file, edited in the editor: its key is gone, the read of it is undefined.
    let extra_uri = file_uri(&extra);
    server.open(&extra_uri, extra_text);
    let from = position(extra_text, "ciOnly:", 0);
    let to = position(extra_text, "flag: true\n", "flag: true\n".len());
    server.change(
        &extra_uri,
        2,
        json!([{"range": {"start": from, "end": to}, "text": ""}]),
    );
    server.wait_for_publication(&uri, |p| {
        of_code(p, "helm-values-undefined").iter().any(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .contains("`.Values.ciOnly.flag`")
        })
    });

    // Without the extra file in the settings, its keys define nothing.
    server.change(&extra_uri, 3, json!([{"text": extra_text}]));
    server.wait_for_publication(&uri, |p| of_code(p, "helm-values-undefined").len() == 1);
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"helm": {"render": false}}}}),
    );
    let published =
        server.wait_for_publication(&uri, |p| of_code(p, "helm-values-undefined").len() == 2);
    let message = of_code(&published, "helm-values-undefined")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("`.Values.ciOnly.flag`") && message.ends_with("in mychart/values.yaml"),
        "{message}"
    );
}

/// A subchart (`mychart/charts/db`) and its template reading its own values, the parent's `db:`
/// section and `global:`.
fn chart_with_subchart() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (dir, chart) = copy_chart("mychart");
    let sub = chart.join("charts/db");
    std::fs::create_dir_all(sub.join("templates")).unwrap();
    std::fs::write(
        sub.join("Chart.yaml"),
        "apiVersion: v2\nname: db\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(sub.join("values.yaml"), "size: 1Gi\nimage: postgres\n").unwrap();
    let parent_values = chart.join("values.yaml");
    let mut text = std::fs::read_to_string(&parent_values).unwrap();
    text.push_str("global:\n  region: eu\ndb:\n  size: 10Gi\n  user: admin\n");
    std::fs::write(&parent_values, text).unwrap();
    let template = sub.join("templates/cm.yaml");
    std::fs::write(
        &template,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\ndata:\n  size: {{ .Values.size | quote }}\n  region: {{ .Values.global.region | quote }}\n  user: {{ .Values.user | quote }}\n  other: {{ .Values.nowhere | quote }}\n",
    )
    .unwrap();
    (dir, chart, template)
}

#[test]
fn a_subchart_template_sees_its_values_the_parents_section_and_global() {
    let (dir, chart, template) = chart_with_subchart();
    let mut server = server(dir.path(), json!({"render": false}));
    let text = std::fs::read_to_string(&template).unwrap();
    let uri = file_uri(&template);
    server.open(&uri, &text);
    let published = server.wait_for_code(&uri, None, "helm-values-undefined");
    let undefined = of_code(&published, "helm-values-undefined");
    assert_eq!(undefined.len(), 1, "{published}");
    assert!(
        undefined[0]["message"]
            .as_str()
            .unwrap()
            .contains("`.Values.nowhere`"),
        "{published}"
    );

    // Completion: its own keys, the parent's section for it, global.
    let at = position(&text, ".Values.size", ".Values.".len());
    let found = labels(&server.completion(&uri, at));
    for key in ["size", "image", "user", "global"] {
        assert!(found.contains(&key.to_string()), "{key}: {found:?}");
    }
    let at = position(&text, ".Values.global.region", ".Values.global.".len());
    assert_eq!(labels(&server.completion(&uri, at)), ["region"]);

    // Hover: the subchart's default, then the parent's value, which wins.
    let at = position(&text, ".Values.size", ".Values.s".len());
    let hover = server.hover(&uri, at);
    let markdown = hover["contents"]["value"].as_str().unwrap();
    let own = markdown.find("1Gi").expect(markdown);
    let parent = markdown
        .find("10Gi\n```\nset in `mychart/values.yaml` (the parent chart's): this value wins")
        .expect(markdown);
    assert!(own < parent, "{markdown}");

    // Definition of a key only the parent sets: in the parent's values.yaml.
    let parent_values = chart.join("values.yaml");
    let parent_text = std::fs::read_to_string(&parent_values).unwrap();
    let at = position(&text, ".Values.user", ".Values.u".len());
    let found = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at}),
    );
    assert_eq!(found[0]["uri"], file_uri(&parent_values));
    assert_eq!(
        found[0]["range"]["start"],
        position(&parent_text, "user:", 0)
    );

    // The parent's values edited in the editor: the subchart's template sees the new key.
    let parent_uri = file_uri(&parent_values);
    server.open(&parent_uri, &parent_text);
    let at = position(&parent_text, "  user: admin\n", "  user: admin\n".len());
    server.change(
        &parent_uri,
        2,
        json!([{"range": {"start": at, "end": at}, "text": "  nowhere: here\n"}]),
    );
    server.wait_for_publication(&uri, |p| of_code(p, "helm-values-undefined").is_empty());
}

#[test]
fn a_ten_thousand_line_values_file_is_completed_and_checked() {
    let (dir, chart) = copy_chart("mychart");
    let values = chart.join("values.yaml");
    let mut values_text = std::fs::read_to_string(&values).unwrap();
    values_text.push_str("bulk:\n");
    for i in 0..10_000 {
        values_text.push_str(&format!("  key{i}: value-{i}\n"));
    }
    std::fs::write(&values, &values_text).unwrap();
    let mut server = server(dir.path(), json!({"render": false}));
    let values_uri = file_uri(&values);
    assert_eq!(server.open_and_wait(&values_uri, &values_text), json!([]));
    let path = chart.join("templates/service.yaml");
    let text = with_annotations(
        &std::fs::read_to_string(&path).unwrap(),
        &[("last", "bulk.key9999"), ("gone", "bulk.key10000")],
    );
    let uri = file_uri(&path);
    server.open(&uri, &text);
    let published = server.wait_for_code(&uri, None, "helm-values-undefined");
    let undefined = of_code(&published, "helm-values-undefined");
    assert_eq!(undefined.len(), 1, "{published}");
    assert!(
        undefined[0]["message"]
            .as_str()
            .unwrap()
            .contains("`.Values.bulk.key10000`")
    );
    let at = position(&text, ".Values.bulk.key9999", ".Values.bulk.".len());
    let found = labels(&server.completion(&uri, at.clone()));
    assert_eq!(found.len(), 10_000);
    assert_eq!(found[9_999], "key9999");
    let hover = server.hover(
        &uri,
        position(&text, ".Values.bulk.key9999", ".Values.bulk.k".len()),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("value-9999")
    );
    a_plain_manifest_is_still_checked(&mut server, dir.path());
}

/// Opens `templates/<name>` of a chart rendered with the real helm (`settings` added to the
/// helm settings) and waits for the one publication holding Helm's error: it is the only
/// diagnostic there. Gives it.
fn the_one_render_error(
    dir: &Path,
    chart: &Path,
    name: &str,
    settings: Value,
) -> (TestServer, Value) {
    let mut helm_settings = json!({"path": helm()});
    for (key, value) in settings.as_object().unwrap() {
        helm_settings[key] = value.clone();
    }
    let mut server = server(dir, helm_settings);
    let path = chart.join("templates").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = file_uri(&path);
    server.open(&uri, &text);
    let published = server.wait_for_code(&uri, None, "helm-render");
    assert_eq!(
        codes(&published["diagnostics"]),
        ["helm-render"],
        "{published}"
    );
    (server, published["diagnostics"][0].clone())
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_a_template_that_does_not_render_gives_one_diagnostic_on_the_line_helm_names() {
    let (dir, chart) = copy_chart("mychart");
    let path = chart.join("templates/service.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "{{ .Values.service.type }}",
        "{{ fail \"no type today\" }}",
        1,
    );
    std::fs::write(&path, &text).unwrap();
    let (mut server, error) = the_one_render_error(dir.path(), &chart, "service.yaml", json!({}));
    assert_eq!(
        error["range"]["start"],
        position(&text, "{{ fail", 0),
        "{error}"
    );
    assert!(
        error["message"].as_str().unwrap().contains("no type today"),
        "{error}"
    );
    a_plain_manifest_is_still_checked(&mut server, dir.path());
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_missing_dependencies_give_one_diagnostic() {
    let (dir, chart) = copy_chart("mychart");
    let chart_yaml = chart.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap();
    std::fs::write(
        &chart_yaml,
        format!("{text}dependencies:\n- name: postgresql\n  version: 1.0.0\n  repository: https://charts.example.invalid\n"),
    )
    .unwrap();
    let (mut server, error) = the_one_render_error(dir.path(), &chart, "service.yaml", json!({}));
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("missing in charts/") && message.contains("postgresql"),
        "{message}"
    );
    a_plain_manifest_is_still_checked(&mut server, dir.path());
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_a_define_that_includes_itself_gives_one_short_diagnostic() {
    let (dir, chart) = copy_chart("mychart");
    std::fs::write(
        chart.join("templates/_loop.tpl"),
        "{{- define \"loop\" -}}{{ include \"loop\" . }}{{- end -}}\n",
    )
    .unwrap();
    let path = chart.join("templates/service.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "{{ .Values.service.type }}",
        "{{ include \"loop\" . }}",
        1,
    );
    std::fs::write(&path, &text).unwrap();
    let (mut server, error) = the_one_render_error(dir.path(), &chart, "service.yaml", json!({}));
    assert_eq!(
        error["range"]["start"],
        position(&text, "{{ include \"loop\"", 0),
        "{error}"
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("nested reference name: loop") && message.len() < 2_100,
        "{message}"
    );
    a_plain_manifest_is_still_checked(&mut server, dir.path());
}

#[test]
#[ignore = "needs helm: run scripts/test"]
fn helm_a_render_that_hangs_is_stopped_at_the_timeout_with_one_diagnostic() {
    let (dir, chart) = copy_chart("mychart");
    let path = chart.join("templates/service.yaml");
    let text = std::fs::read_to_string(&path).unwrap().replacen(
        "{{ .Values.service.type }}",
        "{{ range $i := until 2000000000 }}{{ end }}ClusterIP",
        1,
    );
    std::fs::write(&path, &text).unwrap();
    let (mut server, error) = the_one_render_error(
        dir.path(),
        &chart,
        "service.yaml",
        json!({"timeoutMs": 1000}),
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("did not finish within 1000 ms"),
        "{message}"
    );
    a_plain_manifest_is_still_checked(&mut server, dir.path());
}

/// Whether a folder holds a Chart.yaml is looked up on disk once (not on every edit), and a
/// Chart.yaml made or deleted on disk and reported (`workspace/didChangeWatchedFiles`) still
/// makes the folder a chart or no chart: a values file's unsaved keys reach the template's
/// completion once the chart is there; a template opened after it is gone is no chart's.
#[test]
fn a_chart_yaml_made_or_deleted_on_disk_makes_or_unmakes_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let app = root.join("app");
    std::fs::create_dir_all(app.join("templates")).unwrap();
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n";
    std::fs::write(app.join("templates/cm.yaml"), template).unwrap();
    std::fs::write(app.join("values.yaml"), "name: x\n").unwrap();
    let mut server = TestServer::builder()
        .workspace_folder(&root)
        .watch_files()
        .initialization_options(json!({"kube-lsp": {"helm": {"render": false}}}))
        .start();
    let values = file_uri(&app.join("values.yaml"));
    server.open_and_wait(&values, "name: x\n");
    let end = json!({"line": 1, "character": 0});
    let edit =
        |key: &str| json!([{"range": {"start": end, "end": end}, "text": format!("{key}: 1\n")}]);
    server.change_and_wait(&values, 2, edit("before"));
    // A template open before the chart exists belongs to no chart.
    let uri = file_uri(&app.join("templates/cm.yaml"));
    server.open_and_wait(&uri, template);
    let at = position(template, ".Values.name", ".Values.".len());
    let labels = |answer: &Value| -> Vec<String> {
        answer["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    let completes = |server: &mut TestServer, uri: &str, label: &str| {
        let answer = eventually(
            server,
            |s| s.completion(uri, at.clone()),
            |a| labels(a).iter().any(|l| l == label),
        );
        assert!(
            labels(&answer).iter().any(|l| l == label),
            "{label}: {answer}"
        );
    };
    let completes_nothing = |server: &mut TestServer, uri: &str| {
        let answer = eventually(
            server,
            |s| s.completion(uri, at.clone()),
            |a| labels(a).is_empty(),
        );
        assert!(labels(&answer).is_empty(), "{answer}");
    };
    assert!(labels(&server.completion(&uri, at.clone())).is_empty());

    // The chart is made on disk and reported: the open template is the chart's, with the values
    // on disk; the values file edited again (unsaved) counts for it.
    std::fs::write(app.join("Chart.yaml"), "apiVersion: v2\nname: app\n").unwrap();
    let chart_yaml = file_uri(&app.join("Chart.yaml"));
    server.file_changed_on_disk(&chart_yaml, 1);
    completes(&mut server, &uri, "name");
    server.change_and_wait(&values, 3, edit("fresh"));
    completes(&mut server, &uri, "fresh");

    // Deleted and reported: the open template leaves the chart (it completed values until
    // then, so an empty answer is the deletion's doing), and a template opened after it
    // belongs to none.
    std::fs::remove_file(app.join("Chart.yaml")).unwrap();
    server.file_changed_on_disk(&chart_yaml, 3);
    completes_nothing(&mut server, &uri);
    let other = file_uri(&app.join("templates/other.yaml"));
    server.open_and_wait(&other, template);
    assert!(labels(&server.completion(&other, at.clone())).is_empty());
    server.shutdown();
}
