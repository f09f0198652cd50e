//! End-to-end tests of formatting: the built `kube-lsp` binary over stdio, as an editor asks to
//! format a document, a range, or the new line after Enter, and applies the edits it gets.

mod common;

use std::time::Duration;

use common::corpus;
use common::fixture::{self, apply_edits};
use common::server::{TestServer, uri};
use serde_json::{Value, json};

const MESSY: &str = "apiVersion:   v1\nkind: ConfigMap   # the kind\nmetadata:\n    name: settings\n    labels: {app:    web}\ndata:\n    mode: 'fast'\n    list: \"a b\"\n\n\n---\nkind:    Service\nspec:\n  ports:\n  -   port: 80\n";

const TIDY: &str = "apiVersion: v1\nkind: ConfigMap # the kind\nmetadata:\n  name: settings\n  labels: { app: web }\ndata:\n  mode: 'fast'\n  list: \"a b\"\n---\nkind: Service\nspec:\n  ports:\n    - port: 80\n";

fn format_document(server: &mut TestServer, uri: &str) -> Vec<Value> {
    let edits = server.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    edits.as_array().cloned().unwrap_or_default()
}

fn whole_range(text: &str) -> Value {
    json!({"start": {"line": 0, "character": 0}, "end": {"line": text.lines().count(), "character": 0}})
}

#[test]
fn formatting_a_document_gives_line_edits_that_tidy_it_and_then_none() {
    let mut server = TestServer::start();
    let capabilities = server.capabilities().clone();
    assert_eq!(capabilities["documentFormattingProvider"], json!(true));
    assert_eq!(capabilities["documentRangeFormattingProvider"], json!(true));
    assert_eq!(
        capabilities["documentOnTypeFormattingProvider"]["firstTriggerCharacter"],
        json!("\n")
    );
    let uri = uri("messy.yaml");
    server.open_and_wait(&uri, MESSY);
    let edits = format_document(&mut server, &uri);
    assert!(
        edits.len() > 1,
        "line edits, not one whole-file edit: {edits:?}"
    );
    assert!(
        edits
            .iter()
            .all(|e| e["range"]["start"]["line"] != json!(2)),
        "`metadata:` is formatted already: {edits:?}"
    );
    let tidy = apply_edits(MESSY, &edits, server.encoding());
    assert_eq!(tidy, TIDY);
    server.change(&uri, 2, json!([{"text": tidy}]));
    assert!(format_document(&mut server, &uri).is_empty(), "idempotent");
    server.shutdown();
}

#[test]
fn formatting_again_after_edits_formats_the_text_as_it_is_now() {
    let mut server = TestServer::start();
    let uri = uri("again.yaml");
    server.open_and_wait(&uri, MESSY);
    let tidy = apply_edits(
        MESSY,
        &format_document(&mut server, &uri),
        server.encoding(),
    );
    assert_eq!(tidy, TIDY);
    // The first document as it was formatted, the second messy in another way.
    let edited = TIDY.replace("    - port: 80", "    -     port: 81");
    server.change(&uri, 2, json!([{"text": edited}]));
    let edits = format_document(&mut server, &uri);
    assert_eq!(
        apply_edits(&edited, &edits, server.encoding()),
        TIDY.replace("port: 80", "port: 81")
    );
    // Back to the text formatted first: its documents' outcomes are the ones of then.
    server.change(&uri, 3, json!([{"text": MESSY}]));
    let edits = format_document(&mut server, &uri);
    assert_eq!(apply_edits(MESSY, &edits, server.encoding()), TIDY);
    server.shutdown();
}

#[test]
fn range_formatting_changes_only_the_lines_asked_for() {
    let mut server = TestServer::start();
    let uri = uri("range.yaml");
    server.open_and_wait(&uri, MESSY);
    // Lines 3 and 4: `name` and `labels`.
    let range = json!({"start": {"line": 3, "character": 2}, "end": {"line": 4, "character": 3}});
    let edits = server.request(
        "textDocument/rangeFormatting",
        json!({"textDocument": {"uri": uri}, "range": range, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().cloned().unwrap_or_default();
    let after = apply_edits(MESSY, &edits, server.encoding());
    let changed: Vec<(&str, &str)> = MESSY
        .lines()
        .zip(after.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        changed,
        [
            ("    name: settings", "  name: settings"),
            ("    labels: {app:    web}", "  labels: { app: web }")
        ]
    );
    let all = server.request(
        "textDocument/rangeFormatting",
        json!({"textDocument": {"uri": uri}, "range": whole_range(MESSY), "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let all = all.as_array().cloned().unwrap_or_default();
    assert_eq!(apply_edits(MESSY, &all, server.encoding()), TIDY);
    server.shutdown();
}

#[test]
fn enter_indents_the_new_line_for_the_mapping_or_sequence_it_is_in() {
    let mut server = TestServer::start();
    for (before, indentation) in [
        ("spec:\n", "  "),
        ("spec:\n  containers:\n    - name: web\n", "      "),
        ("args:\n  - --verbose\n", "  "),
        ("data:\n  run.sh: |\n", "    "),
    ] {
        let uri = uri(&format!("enter{}.yaml", before.len()));
        server.open(&uri, before);
        let position = fixture::position(before, before.len(), server.encoding());
        let edits = server.request(
            "textDocument/onTypeFormatting",
            json!({"textDocument": {"uri": uri}, "position": position, "ch": "\n", "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        let edits = edits.as_array().cloned().unwrap_or_default();
        let after = apply_edits(before, &edits, server.encoding());
        assert_eq!(after, format!("{before}{indentation}"), "after {before:?}");
    }
    server.shutdown();
}

#[test]
fn a_file_with_a_syntax_error_or_template_actions_gets_no_edit_and_no_message() {
    let mut server = TestServer::start();
    for (name, text) in [
        ("broken.yaml", "kind:    Pod\nspec: [1, 2\n"),
        (
            "template.yaml",
            "metadata:\n  name:    {{ .Release.Name }}\nspec:    1\n",
        ),
    ] {
        let uri = uri(name);
        server.open_and_wait(&uri, text);
        assert!(format_document(&mut server, &uri).is_empty(), "{name}");
        let range = server.request(
            "textDocument/rangeFormatting",
            json!({"textDocument": {"uri": uri}, "range": whole_range(text), "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        assert!(
            range.as_array().is_none_or(Vec::is_empty),
            "{name}: {range}"
        );
    }
    server.gather_notifications(Duration::from_millis(300));
    let popups: Vec<&Value> = server
        .queued_notifications()
        .filter(|n| n["method"] == "window/showMessage")
        .collect();
    assert!(popups.is_empty(), "{popups:?}");
    assert!(
        server
            .server_requests("window/showMessageRequest")
            .is_empty()
    );
    server.shutdown();
}

#[test]
fn format_settings_apply_and_formatting_can_be_switched_off() {
    let options = json!({"kube-lsp": {"format": {"indent": 4, "indentSequences": false, "quoteStyle": "double", "keepBlankLines": false}}});
    let mut server = TestServer::builder()
        .initialization_options(options)
        .start();
    let uri = uri("settings.yaml");
    let text = "a:\n  - 'x'\n\n\nb:\n  c: 1\n";
    server.open_and_wait(&uri, text);
    let edits = format_document(&mut server, &uri);
    assert_eq!(
        apply_edits(text, &edits, server.encoding()),
        "a:\n- \"x\"\nb:\n    c: 1\n"
    );
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"format": {"enable": false}}}}),
    );
    let off = server.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(off, Value::Null);
    server.shutdown();
}

#[test]
fn formatting_a_big_real_file_keeps_its_meaning() {
    let text = corpus::read(corpus::MICROSERVICES);
    let mut server = TestServer::start();
    let uri = uri("microservices.yaml");
    server.open_and_wait(&uri, &text);
    let edits = format_document(&mut server, &uri);
    let after = apply_edits(&text, &edits, server.encoding());
    let values = |text: &str| -> Vec<Value> {
        kube_lsp::yaml::split::split(text)
            .documents
            .into_iter()
            .map(|range| {
                kube_lsp::yaml::value::document_to_json(&text[range], &Default::default())
                    .unwrap()
                    .unwrap_or(Value::Null)
            })
            .collect()
    };
    assert_eq!(values(&after), values(&text));
    server.shutdown();
}
