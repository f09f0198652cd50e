//! End-to-end: CRDs in open files, in the workspace folder and in `schemaPaths` make custom
//! resources in other files validate, over stdio against the built binary.

mod common;

use std::path::Path;
use std::time::Duration;

use common::lsp_client::{LspClient, ServerStderr, file_uri};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {type: integer}\n";

const WIDGET: &str =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n";

fn start(initialize: Value) -> LspClient {
    let mut client = LspClient::spawn_with_stderr(
        Path::new(env!("CARGO_BIN_EXE_kube-lsp")),
        &["--stdio", "--log-level", "warn"],
        if std::env::var_os("KUBE_LSP_TEST_STDERR").is_some() {
            ServerStderr::Inherit
        } else {
            ServerStderr::Null
        },
    )
    .expect("spawn kube-lsp");
    client.initialize(initialize).expect("initialize");
    client
}

fn codes(params: &Value) -> Vec<String> {
    params["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits until `uri` is published with exactly these diagnostic codes.
fn wait_for_codes(client: &mut LspClient, uri: &str, wanted: &[&str]) -> Value {
    client
        .wait_for_notification(
            "textDocument/publishDiagnostics",
            |params| params["uri"] == uri && codes(params) == wanted,
            WAIT,
        )
        .unwrap_or_else(|e| panic!("{uri} never published {wanted:?}: {e:?}"))
}

#[test]
fn a_crd_in_an_open_file_validates_custom_resources_in_others() {
    let mut client = start(json!({"processId": null, "rootUri": null, "capabilities": {}}));
    let widget = "file:///work/widget.yaml";
    client.did_open(widget, "yaml", WIDGET, 1).unwrap();
    let unknown = wait_for_codes(&mut client, widget, &["schema-unknown-kind"]);
    let message = unknown["diagnostics"][0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "Widget (example.com/v1) is not in built-in Kubernetes 1.37"
    );

    let crd = "file:///work/crd.yaml";
    // Only what is published after this step counts.
    client.discard_notifications().unwrap();
    client.did_open(crd, "yaml", CRD, 1).unwrap();
    let typed = wait_for_codes(&mut client, widget, &["schema-type"]);
    let range = &typed["diagnostics"][0]["range"];
    assert_eq!(range["start"], json!({"line": 5, "character": 8}));

    // The CRD is edited: `size` becomes a string, and the widget is clean.
    let (line, size_line) = CRD
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("size:"))
        .unwrap();
    let (line, start) = (line as u32, size_line.find("integer").unwrap() as u32);
    let change = json!([{"range": {"start": {"line": line, "character": start}, "end": {"line": line, "character": start + 7}}, "text": "string"}]);
    client.discard_notifications().unwrap();
    client.did_change(crd, 2, change).unwrap();
    wait_for_codes(&mut client, widget, &[]);

    // Closed, the CRD no longer counts.
    client.discard_notifications().unwrap();
    client.did_close(crd).unwrap();
    wait_for_codes(&mut client, widget, &["schema-unknown-kind"]);
    assert!(client.shutdown_and_exit().unwrap().success());
}

#[test]
fn crds_of_the_workspace_folder_and_of_schema_paths_count() {
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(workspace.path().join("deploy/crds")).unwrap();
    std::fs::write(workspace.path().join("deploy/crds/widget.yaml"), CRD).unwrap();
    let gadget_crd = CRD
        .replace("widgets", "gadgets")
        .replace("Widget", "Gadget");
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("gadget.yaml"), &gadget_crd).unwrap();
    let mut client = start(json!({
        "processId": null,
        "workspaceFolders": [{"uri": file_uri(workspace.path()), "name": "w"}],
        "initializationOptions": {"kube-lsp": {"schemaPaths": [elsewhere.path()]}},
        "capabilities": {},
    }));
    let widget = file_uri(&workspace.path().join("deploy/widget.yaml"));
    client.did_open(&widget, "yaml", WIDGET, 1).unwrap();
    wait_for_codes(&mut client, &widget, &["schema-type"]);
    let gadget = file_uri(&workspace.path().join("deploy/gadget.yaml"));
    let text = WIDGET
        .replace("Widget", "Gadget")
        .replace("size: big", "size: 3\n  extra: 1");
    client.did_open(&gadget, "yaml", &text, 1).unwrap();
    let published = wait_for_codes(&mut client, &gadget, &["schema-unknown-field"]);
    let range = &published["diagnostics"][0]["range"];
    assert_eq!(range["start"], json!({"line": 6, "character": 2}));
    assert!(client.shutdown_and_exit().unwrap().success());
}

#[test]
fn crd_files_changed_on_disk_update_the_catalog() {
    let workspace = tempfile::tempdir().unwrap();
    let crd_path = workspace.path().join("crd.yaml");
    std::fs::write(&crd_path, CRD).unwrap();
    let mut client = LspClient::spawn(
        Path::new(env!("CARGO_BIN_EXE_kube-lsp")),
        &["--stdio", "--log-level", "warn"],
    )
    .expect("spawn kube-lsp");
    let registrations = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = registrations.clone();
    client.set_server_request_handler(move |method, params| {
        if method == "client/registerCapability" {
            recorded.lock().unwrap().push(params.clone());
        }
        Value::Null
    });
    client
        .initialize(json!({
            "processId": null,
            "workspaceFolders": [{"uri": file_uri(workspace.path()), "name": "w"}],
            "capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}},
        }))
        .expect("initialize");
    let widget = file_uri(&workspace.path().join("widget.yaml"));
    client.did_open(&widget, "yaml", WIDGET, 1).unwrap();
    wait_for_codes(&mut client, &widget, &["schema-type"]);
    let registered = registrations.lock().unwrap().clone();
    assert_eq!(registered.len(), 1, "{registered:?}");
    let registration = &registered[0]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(
        registration["registerOptions"]["watchers"][0]["globPattern"],
        "**/*.{yaml,yml}"
    );
    // `size` becomes a string in the CRD on disk (a git checkout, another editor).
    std::fs::write(&crd_path, CRD.replace("{type: integer}", "{type: string}")).unwrap();
    let changes = json!({"changes": [{"uri": file_uri(&crd_path), "type": 2}]});
    client
        .notify("workspace/didChangeWatchedFiles", changes)
        .unwrap();
    wait_for_codes(&mut client, &widget, &[]);
    // Deleted: the kind is unknown again.
    std::fs::remove_file(&crd_path).unwrap();
    let changes = json!({"changes": [{"uri": file_uri(&crd_path), "type": 3}]});
    client
        .notify("workspace/didChangeWatchedFiles", changes)
        .unwrap();
    wait_for_codes(&mut client, &widget, &["schema-unknown-kind"]);
    assert!(client.shutdown_and_exit().unwrap().success());
}
