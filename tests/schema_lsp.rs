//! End-to-end: CRDs in open files, in the workspace folder and in `schemaPaths` make custom
//! resources in other files validate, over stdio against the built binary.

mod common;

use common::fixture::range_change;
use common::lsp_client::file_uri;
use common::server::{TestServer, uri};
use serde_json::json;

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            properties:\n              size: {type: integer}\n";

const WIDGET: &str =
    "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  size: big\n";

#[test]
fn a_crd_in_an_open_file_validates_custom_resources_in_others() {
    let mut server = TestServer::start();
    let widget = uri("widget.yaml");
    server.open(&widget, WIDGET);
    let unknown = server.wait_for_codes(&widget, &["schema-unknown-kind"]);
    let message = unknown["diagnostics"][0]["message"].as_str().unwrap();
    assert_eq!(
        message,
        "Widget (example.com/v1) is not in built-in Kubernetes 1.37"
    );

    let crd = uri("crd.yaml");
    // Only what is published after this step counts.
    server.discard_notifications();
    server.open(&crd, CRD);
    let typed = server.wait_for_codes(&widget, &["schema-type"]);
    let range = &typed["diagnostics"][0]["range"];
    assert_eq!(range["start"], json!({"line": 5, "character": 8}));

    // The CRD is edited: `size` becomes a string, and the widget is clean.
    let (line, size_line) = CRD
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("size:"))
        .unwrap();
    let (line, start) = (line as u32, size_line.find("integer").unwrap() as u32);
    let change = json!([range_change((line, start), (line, start + 7), "string")]);
    server.discard_notifications();
    server.change(&crd, 2, change);
    server.wait_for_codes(&widget, &[]);

    // Closed, the CRD no longer counts.
    server.discard_notifications();
    server.close(&crd);
    server.wait_for_codes(&widget, &["schema-unknown-kind"]);
    server.shutdown();
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
    let mut server = TestServer::builder()
        .workspace_folder(workspace.path())
        .initialization_options(json!({"kube-lsp": {"schemaPaths": [elsewhere.path()]}}))
        .start();
    let widget = file_uri(&workspace.path().join("deploy/widget.yaml"));
    server.open(&widget, WIDGET);
    server.wait_for_codes(&widget, &["schema-type"]);
    let gadget = file_uri(&workspace.path().join("deploy/gadget.yaml"));
    let text = WIDGET
        .replace("Widget", "Gadget")
        .replace("size: big", "size: 3\n  extra: 1");
    server.open(&gadget, &text);
    let published = server.wait_for_codes(&gadget, &["schema-unknown-field"]);
    let range = &published["diagnostics"][0]["range"];
    assert_eq!(range["start"], json!({"line": 6, "character": 2}));
    server.shutdown();
}

#[test]
fn crd_files_changed_on_disk_update_the_catalog() {
    let workspace = tempfile::tempdir().unwrap();
    let crd_path = workspace.path().join("crd.yaml");
    std::fs::write(&crd_path, CRD).unwrap();
    let mut server = TestServer::builder()
        .workspace_folder(workspace.path())
        .watch_files()
        .start();
    let widget = file_uri(&workspace.path().join("widget.yaml"));
    server.open(&widget, WIDGET);
    server.wait_for_codes(&widget, &["schema-type"]);
    let registered = server.server_requests("client/registerCapability");
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
    server.notify("workspace/didChangeWatchedFiles", changes);
    server.wait_for_codes(&widget, &[]);
    // Deleted: the kind is unknown again.
    std::fs::remove_file(&crd_path).unwrap();
    let changes = json!({"changes": [{"uri": file_uri(&crd_path), "type": 3}]});
    server.notify("workspace/didChangeWatchedFiles", changes);
    server.wait_for_codes(&widget, &["schema-unknown-kind"]);
    server.shutdown();
}

#[test]
fn workspace_folders_added_or_removed_bring_or_take_their_crds() {
    let app = tempfile::tempdir().unwrap();
    let crds = tempfile::tempdir().unwrap();
    std::fs::write(crds.path().join("widget-crd.yaml"), CRD).unwrap();
    let mut server = TestServer::builder().workspace_folder(app.path()).start();
    let folders = &server.initialize_result()["capabilities"]["workspace"]["workspaceFolders"];
    assert_eq!(folders["supported"], true, "{folders}");
    assert_eq!(folders["changeNotifications"], true, "{folders}");
    let widget = file_uri(&app.path().join("widget.yaml"));
    server.open(&widget, WIDGET);
    server.wait_for_codes(&widget, &["schema-unknown-kind"]);

    // The folder with the CRD joins the workspace (VS Code's "Add Folder to Workspace").
    let folder = json!([{"uri": file_uri(crds.path()), "name": "crds"}]);
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": folder, "removed": []}}),
    );
    server.wait_for_codes(&widget, &["schema-type"]);

    // And leaves it.
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        json!({"event": {"added": [], "removed": folder}}),
    );
    server.wait_for_codes(&widget, &["schema-unknown-kind"]);
    server.shutdown();
}
