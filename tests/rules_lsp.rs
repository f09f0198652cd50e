//! The rules over LSP, with the built binary as an editor drives it: findings on the exact field
//! with a link to their entry in docs/rules.md, the `kube-lsp.rules` settings, kube-linter's
//! configuration file in the workspace, quick fixes that fix and that silence, objects of other
//! workspace files and of other open documents.

mod common;

use common::fixture::{self, Encoding};
use common::server::{TestServer, codes, uri};
use serde_json::{Value, json};

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  hostPID: true\n  serviceAccountName: web\n  containers:\n  - name: web\n    image: nginx:1.27\n    securityContext:\n      privileged: true\n";

fn rule_codes(diagnostics: &Value) -> Vec<String> {
    let mut found: Vec<String> = codes(&json!({"diagnostics": diagnostics}))
        .into_iter()
        // The rules' codes only: the references layer's (`reference-*`) arrive in a publication
        // of their own, earlier or later than the rules'.
        .filter(|c| {
            !["schema-", "yaml-", "reference-"]
                .iter()
                .any(|p| c.starts_with(p))
        })
        .collect();
    found.sort();
    found
}

fn text_at(text: &str, diagnostic: &Value) -> String {
    let start = fixture::offset(text, &diagnostic["range"]["start"], Encoding::Utf16);
    let end = fixture::offset(text, &diagnostic["range"]["end"], Encoding::Utf16);
    text[start..end].to_string()
}

#[test]
fn findings_are_on_their_field_and_link_to_the_rules_docs() {
    let mut server = TestServer::start();
    let uri = uri("pod.yaml");
    server.open(&uri, POD);
    let published = server.wait_for_publication(&uri, |p| codes(p).iter().any(|c| c == "host-pid"));
    let diagnostics = &published["diagnostics"];
    assert_eq!(
        rule_codes(diagnostics),
        [
            "host-pid",
            "no-read-only-root-fs",
            "non-existent-service-account",
            "privileged-container",
            "run-as-non-root",
            "unset-cpu-requirements",
            "unset-memory-requirements",
        ]
    );
    for d in diagnostics.as_array().unwrap() {
        let code = d["code"].as_str().unwrap();
        match code {
            "host-pid" | "privileged-container" => {
                assert_eq!(text_at(POD, d), "true");
                assert_eq!(d["severity"], 2, "{code} is a warning");
            }
            "non-existent-service-account" => assert_eq!(text_at(POD, d), "web"),
            "run-as-non-root" => assert_eq!(d["severity"], 3, "best practice: information"),
            _ => {}
        }
        if !code.starts_with("schema-") {
            let href = d["codeDescription"]["href"]
                .as_str()
                .unwrap_or_else(|| panic!("{d}"));
            assert!(
                href.ends_with(&format!("/blob/main/docs/rules.md#{code}")),
                "{href}"
            );
        }
    }
}

#[test]
fn settings_turn_rules_and_groups_on_and_off_and_set_their_severity() {
    let options = json!({"kube-lsp": {"rules": {
        "enable": ["no-liveness-probe"],
        "disable": ["reliability", "references"],
        "severity": {"privileged-container": "error"}
    }}});
    let mut server = TestServer::builder()
        .initialization_options(options)
        .start();
    let uri = uri("pod.yaml");
    server.open(&uri, POD);
    let published = server.wait_for_publication(&uri, |p| codes(p).iter().any(|c| c == "host-pid"));
    // `reliability` went after `enable`: no-liveness-probe is off again.
    assert_eq!(
        rule_codes(&published["diagnostics"]),
        [
            "host-pid",
            "no-read-only-root-fs",
            "privileged-container",
            "run-as-non-root"
        ]
    );
    let privileged = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "privileged-container")
        .unwrap();
    assert_eq!(privileged["severity"], 1);
    // Everything off, by a settings change.
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"rules": false}}}),
    );
    let published = server.wait_for_publication(&uri, |p| rule_codes(&p["diagnostics"]).is_empty());
    assert!(codes(&published).iter().all(|c| c.starts_with("schema-")));
}

/// With the rules off from the start, an open and an edit find nothing; turned on by a settings
/// change, the open document is checked then (as edited meanwhile) and published again; turned
/// off, its findings go.
#[test]
fn rules_turned_on_and_off_by_the_settings_check_the_open_documents_then() {
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = uri("pod.yaml");
    let opened = server.open_and_wait(&uri, POD);
    assert_eq!(rule_codes(&opened), Vec::<String>::new());
    // `hostNetwork: true` under `hostPID: true` (line 6), while the rules are off.
    let edit = fixture::range_change((7, 0), (7, 0), "  hostNetwork: true\n");
    let edited = server.change_and_wait(&uri, 2, json!([edit]));
    assert_eq!(rule_codes(&edited), Vec::<String>::new());
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"rules": {}}}}),
    );
    let published = server.wait_for_publication(&uri, |p| {
        rule_codes(&p["diagnostics"]).contains(&"host-network".to_string())
    });
    assert_eq!(published["version"], 2);
    assert!(rule_codes(&published["diagnostics"]).contains(&"host-pid".to_string()));
    // The publications so far had none either: wait for one after the change.
    server.discard_notifications();
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"rules": false}}}),
    );
    let published = server.wait_for_publication(&uri, |p| rule_codes(&p["diagnostics"]).is_empty());
    assert_eq!(published["version"], 2);
    // Off, an edit is published without them.
    let edit = fixture::range_change((3, 8), (3, 9), "x");
    let edited = server.change_and_wait(&uri, 3, json!([edit]));
    assert_eq!(rule_codes(&edited), Vec::<String>::new());
}

#[test]
fn kube_linters_configuration_file_in_the_workspace_counts() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::write(
        root.join(".kube-linter.yaml"),
        "checks:\n  doNotAutoAddDefaults: true\n  include: [host-pid]\n",
    )
    .unwrap();
    let mut server = TestServer::builder().workspace_folder(&root).start();
    let uri = fixture_uri(&root.join("pod.yaml"));
    server.open(&uri, POD);
    server.wait_for_publication(&uri, |p| rule_codes(&p["diagnostics"]) == ["host-pid"]);
}

/// The first workspace folder's `.kube-linter.yaml` counts from when the folder is added, and
/// no longer once it is removed.
#[test]
fn kube_linters_configuration_file_follows_the_workspace_folders() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let configured = root.join("configured");
    std::fs::create_dir_all(&configured).unwrap();
    std::fs::write(
        configured.join(".kube-linter.yaml"),
        "checks:\n  doNotAutoAddDefaults: true\n  include: [host-pid]\n",
    )
    .unwrap();
    let mut server = TestServer::start();
    let uri = fixture_uri(&configured.join("pod.yaml"));
    server.open(&uri, POD);
    let defaults = server.wait_for_publication(&uri, |p| rule_codes(&p["diagnostics"]).len() > 1);
    let defaults = rule_codes(&defaults["diagnostics"]);
    let folder = json!([{"uri": fixture_uri(&configured), "name": "configured"}]);
    let change =
        |added: &Value, removed: &Value| json!({"event": {"added": added, "removed": removed}});
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        change(&folder, &json!([])),
    );
    server.wait_for_publication(&uri, |p| rule_codes(&p["diagnostics"]) == ["host-pid"]);
    server.notify(
        "workspace/didChangeWorkspaceFolders",
        change(&json!([]), &folder),
    );
    server.wait_for_publication(&uri, |p| rule_codes(&p["diagnostics"]) == defaults);
}

fn fixture_uri(path: &std::path::Path) -> String {
    format!("file://{}", path.display())
}

#[test]
fn quick_fixes_fix_or_silence_a_finding() {
    let mut server = TestServer::start();
    let uri = uri("pod.yaml");
    server.open(&uri, POD);
    let published = server.wait_for_publication(&uri, |p| codes(p).iter().any(|c| c == "host-pid"));
    let host_pid = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "host-pid")
        .unwrap()
        .clone();
    let actions = server.code_actions(&uri, host_pid["range"].clone(), json!([host_pid]));
    let actions = actions.as_array().unwrap();
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Remove hostPID: true",
            "Ignore host-pid here (# kube-lsp-ignore: comment)",
            "Ignore host-pid in this whole document"
        ]
    );
    assert_eq!(actions[0]["isPreferred"], true);
    assert_eq!(actions[1]["isPreferred"], false);
    for (action, line) in actions.iter().zip([
        "",
        "  # kube-lsp-ignore: host-pid\n  hostPID: true\n",
        "# kube-lsp-ignore: host-pid\napiVersion",
    ]) {
        let edits = action["edit"]["changes"][&uri].as_array().unwrap().clone();
        let fixed = fixture::apply_edits(POD, &edits, Encoding::Utf16);
        assert!(fixed.contains(line), "{fixed}");
        let fixed_uri = common::server::uri(&format!("fixed-{}.yaml", line.len()));
        server.open(&fixed_uri, &fixed);
        let published = server.wait_for_publication(&fixed_uri, |p| {
            codes(p).iter().any(|c| c == "privileged-container")
        });
        assert!(
            !codes(&published).iter().any(|c| c == "host-pid"),
            "{fixed}"
        );
    }
}

/// A ServiceAccount in a workspace file, or in another open document: the finding goes, and
/// comes back when it is deleted.
#[test]
fn objects_elsewhere_in_the_workspace_answer_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let account =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: shop\n";
    std::fs::write(root.join("account.yaml"), account).unwrap();
    let mut server = TestServer::builder()
        .workspace_folder(&root)
        .watch_files()
        .start();
    let pod = fixture_uri(&root.join("pod.yaml"));
    server.open(&pod, POD);
    let has = |p: &Value, code: &str| codes(p).iter().any(|c| c == code);
    server.wait_for_publication(&pod, |p| {
        has(p, "host-pid") && !has(p, "non-existent-service-account")
    });
    // Deleted on disk: the ServiceAccount is missing.
    std::fs::remove_file(root.join("account.yaml")).unwrap();
    let deleted = fixture_uri(&root.join("account.yaml"));
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": deleted, "type": 3}]}),
    );
    server.wait_for_publication(&pod, |p| has(p, "non-existent-service-account"));
    // Opened in the editor (not saved): it exists again.
    server.open(&deleted, account);
    server.wait_for_publication(&pod, |p| {
        has(p, "host-pid") && !has(p, "non-existent-service-account")
    });
}
