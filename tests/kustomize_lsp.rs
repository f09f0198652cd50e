//! Kustomize over LSP, with the real kustomize (`kubectl kustomize`): kustomization files
//! validated with their quick fixes, patches validated as patches, paths checked, linked,
//! followed and completed, references from a manifest to the kustomizations including it, and
//! overlays rendered in the background with findings on the files that produced them.

mod common;

use std::path::{Path, PathBuf};

use common::server::{TestServer, codes};
use serde_json::{Value, json};

/// A copy of the fixture in a temporary folder (tests edit files).
fn fixture_copy() -> (tempfile::TempDir, PathBuf) {
    common::fixture::tree_copy("kustomize")
}

/// The labels of a completion list.
fn labels_of(items: &Value) -> Vec<&str> {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect()
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A server on the fixture, without the best-practice rules: these tests look at kustomize's
/// findings (exact code lists), and the rules' own tests cover the rules.
fn start(root: &Path) -> TestServer {
    TestServer::builder()
        .workspace_folder(root)
        .initialization_options(serde_json::json!({"rules": false}))
        .start()
}

/// [`start`], with a client that watches files (the tests report changes on disk).
fn start_watching(root: &Path) -> TestServer {
    TestServer::builder()
        .workspace_folder(root)
        .watch_files()
        .initialization_options(serde_json::json!({"rules": false}))
        .start()
}

fn open_file(server: &mut TestServer, path: &Path) -> String {
    let uri = uri_of(path);
    server.open(&uri, &std::fs::read_to_string(path).unwrap());
    uri
}

#[test]
fn kustomization_fields_are_validated_with_fixes_and_the_fixture_is_clean() {
    let (_dir, root) = fixture_copy();
    let mut server = start(&root);
    for file in [
        "overlays/prod/kustomization.yaml",
        "overlays/staging/replicas.yaml",
        "components/monitoring/kustomization.yaml",
    ] {
        let uri = open_file(&mut server, &root.join(file));
        // Rendered in the background too: nothing to say at any point.
        server.gather_notifications(std::time::Duration::from_millis(1500));
        let bad: Vec<Value> = server
            .queued_notifications()
            .filter(|n| n["params"]["uri"] == uri.as_str())
            .filter(|n| !codes(&n["params"]).is_empty())
            .cloned()
            .collect();
        assert!(bad.is_empty(), "{file}: {bad:#?}");
    }

    let path = root.join("overlays/staging/kustomization.yaml");
    let text =
        "resourcs:\n- ../../base\nbases:\n- ../../base\npatchesStrategicMerge:\n- replicas.yaml\n";
    std::fs::write(&path, text).unwrap();
    let uri = uri_of(&path);
    server.open(&uri, text);
    let published = server.wait_for_codes(
        &uri,
        &[
            "schema-unknown-field",
            "kustomize-deprecated",
            "kustomize-deprecated",
        ],
    );
    let diagnostics = published["diagnostics"].as_array().unwrap();
    let deprecated = diagnostics[2].clone();
    let actions = server.code_actions(&uri, deprecated["range"].clone(), json!([deprecated]));
    let title = actions[0]["title"].as_str().unwrap();
    assert_eq!(title, "Move `patchesStrategicMerge` to `patches`");
    let edits = &actions[0]["edit"]["changes"][&uri];
    assert_eq!(edits[0]["newText"], "patches:\n- path: replicas.yaml\n");
}

#[test]
fn a_patch_file_is_a_patch_and_paths_link_complete_and_lead_back() {
    let (_dir, root) = fixture_copy();
    let mut server = start(&root);
    // A patch that sets only replicas: no "missing selector/template", but its typo.
    let patch = root.join("overlays/staging/replicas.yaml");
    let uri = uri_of(&patch);
    let text = std::fs::read_to_string(&patch)
        .unwrap()
        .replace("replicas: 2", "replicaz: 2");
    server.open(&uri, &text);
    server.wait_for_codes(&uri, &["schema-unknown-field"]);

    let prod = root.join("overlays/prod/kustomization.yaml");
    let prod_uri = open_file(&mut server, &prod);
    let links = server.request(
        "textDocument/documentLink",
        json!({"textDocument": {"uri": prod_uri}}),
    );
    let targets: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"].as_str().unwrap())
        .collect();
    assert!(
        targets[0].ends_with("/base/kustomization.yaml"),
        "{targets:?}"
    );
    assert_eq!(targets.len(), 5);
    let definition = server.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": prod_uri}, "position": {"line": 5, "character": 4}}),
    );
    assert!(
        definition["uri"]
            .as_str()
            .unwrap()
            .ends_with("/overlays/prod/namespace.yaml"),
        "{definition}"
    );

    let deployment = root.join("base/deployment.yaml");
    let references = server.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri_of(&deployment)}, "position": {"line": 0, "character": 0}, "context": {"includeDeclaration": false}}),
    );
    let mut found: Vec<String> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["uri"]
                .as_str()
                .unwrap()
                .rsplit(root.to_str().unwrap())
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "/base/kustomization.yaml",
            "/overlays/prod/kustomization.yaml",
            "/overlays/staging/kustomization.yaml"
        ]
    );

    // Completion: paths relative to the kustomization, and its fields without apiVersion/kind.
    let path = root.join("overlays/new/kustomization.yaml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = "resources:\n- ../\n";
    std::fs::write(&path, text).unwrap();
    let new_uri = uri_of(&path);
    server.open(&new_uri, text);
    let items = server.completion(&new_uri, json!({"line": 1, "character": 5}));
    let labels = labels_of(&items);
    assert!(
        labels.contains(&"prod/") && labels.contains(&"staging/"),
        "{labels:?}"
    );
    let items = server.completion(&new_uri, json!({"line": 2, "character": 0}));
    let labels = labels_of(&items);
    assert!(
        labels.contains(&"namePrefix") && labels.contains(&"patches"),
        "{labels:?}"
    );
    let hover = server.hover(&new_uri, json!({"line": 0, "character": 3}));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .unwrap()
            .contains("relative paths"),
        "{hover}"
    );
}

#[test]
fn a_saved_overlay_is_rendered_and_findings_land_on_the_patch() {
    let (_dir, root) = fixture_copy();
    let mut server = start(&root);
    let patch = root.join("overlays/staging/replicas.yaml");
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        args: [run]\n";
    std::fs::write(&patch, text).unwrap();
    let patch_uri = open_file(&mut server, &patch);
    let kustomization = root.join("overlays/staging/kustomization.yaml");
    let uri = open_file(&mut server, &kustomization);
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let published = server.wait_for_codes(&patch_uri, &["kustomize-rendered"]);
    let diagnostic = &published["diagnostics"][0];
    assert_eq!(
        diagnostic["range"]["start"],
        json!({"line": 8, "character": 8})
    );
    assert!(
        diagnostic["message"].as_str().unwrap().contains("`image`"),
        "{diagnostic}"
    );
}

/// An overlay in the fixture whose render hangs: kustomize blocks reading a FIFO nobody writes,
/// a real hang of the real tool. Its kustomization file.
fn hanging_overlay(root: &Path) -> PathBuf {
    let folder = root.join("overlays/hang");
    std::fs::create_dir_all(&folder).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(folder.join("pipe.yaml"))
        .status()
        .unwrap();
    assert!(made.success());
    std::fs::write(
        folder.join("kustomization.yaml"),
        "resources:\n- ../../base\n- pipe.yaml\n",
    )
    .unwrap();
    folder.join("kustomization.yaml")
}

#[test]
fn a_render_that_hangs_is_stopped_with_one_diagnostic() {
    let (_dir, root) = fixture_copy();
    let kustomization = hanging_overlay(&root);
    let mut server = TestServer::builder()
        .workspace_folder(&root)
        .initialization_options(json!({"kustomize": {"timeoutMs": 1500}}))
        .start();
    let uri = open_file(&mut server, &kustomization);
    let published = server.wait_for_codes(&uri, &["kustomize-render"]);
    let message = published["diagnostics"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("did not finish within 1500 ms"),
        "{message}"
    );
    // The server still answers.
    let links = server.request(
        "textDocument/documentLink",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(links.as_array().unwrap().len(), 2);
}

#[test]
fn a_server_that_exits_during_a_render_ends_kustomize_and_removes_its_folder() {
    let (_dir, root) = fixture_copy();
    let kustomization = hanging_overlay(&root);
    // The server's temporary folder, where it makes the folder kustomize renders in.
    let temporary = tempfile::tempdir().unwrap();
    let temporary = temporary.path().canonicalize().unwrap();
    let mut server = TestServer::builder()
        .workspace_folder(&root)
        .env("TMPDIR", &temporary)
        .initialization_options(json!({"rules": false}))
        .start();
    open_file(&mut server, &kustomization);
    let started = std::time::Instant::now();
    while processes_naming(&temporary).is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "no render"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let folders = || std::fs::read_dir(&temporary).unwrap().count();
    assert_eq!(folders(), 1, "the render's folder");

    server.shutdown();
    assert_eq!(folders(), 0, "the render's folder is left behind");
    // Ended, not left to hang: its parent is gone, so another process reaps it.
    let ended = std::time::Instant::now();
    while !processes_naming(&temporary).is_empty() {
        assert!(
            ended.elapsed() < std::time::Duration::from_secs(10),
            "kustomize still runs: {:?}",
            processes_naming(&temporary)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The ids of the processes with an argument under `folder` (zombies have none).
fn processes_naming(folder: &Path) -> Vec<u32> {
    let folder = folder.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let command_line = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            command_line
                .split(|&byte| byte == 0)
                .any(|argument| String::from_utf8_lossy(argument).starts_with(&folder))
        })
        .collect()
}

#[test]
fn a_missing_kustomize_is_said_once_and_the_static_checks_go_on() {
    let (_dir, root) = fixture_copy();
    let staging = root.join("overlays/staging/kustomization.yaml");
    std::fs::write(&staging, "resources:\n- ../../base\n- missing.yaml\n").unwrap();
    let settings =
        |path: &str| json!({"rules": false, "kustomize": {"path": path, "timeoutMs": 5000}});
    let mut server = TestServer::builder()
        .workspace_folder(&root)
        .initialization_options(settings("/nonexistent/bin/kustomize"))
        .start();
    let uri = open_file(&mut server, &staging);
    let published = server.wait_for_codes(&uri, &["kustomize-path-missing"]);
    assert_eq!(
        published["diagnostics"][0]["range"]["start"]["line"], 2,
        "{published}"
    );
    // Two more renders asked for (another overlay opened, the first saved): still one message.
    let prod_uri = open_file(&mut server, &root.join("overlays/prod/kustomization.yaml"));
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    server.gather_notifications(std::time::Duration::from_millis(2000));
    let missing_messages = |server: &TestServer| -> Vec<String> {
        server
            .queued_notifications()
            .filter(|n| n["method"] == "window/showMessage")
            .filter_map(|n| n["params"]["message"].as_str())
            .filter(|m| m.contains("kustomiz"))
            .map(str::to_string)
            .collect()
    };
    let said = missing_messages(&server);
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(
        said[0].contains("/nonexistent/bin/kustomize")
            && said[0].contains("kube-lsp.kustomize.path"),
        "{}",
        said[0]
    );
    // Nothing else: no render diagnostic on any file, the prod overlay is clean.
    let publications: Vec<&Value> = server
        .queued_notifications()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics")
        .collect();
    for publication in &publications {
        let found = codes(&publication["params"]);
        assert!(
            !found.iter().any(|c| c.starts_with("kustomize-render")),
            "{publication}"
        );
        if publication["params"]["uri"] == prod_uri.as_str() {
            assert!(found.is_empty(), "{publication}");
        }
    }
    // The server still answers.
    let links = server.request(
        "textDocument/documentLink",
        json!({"textDocument": {"uri": uri}}),
    );
    // (The base; the missing file has no link.)
    assert_eq!(links.as_array().unwrap().len(), 1);
    // Another kustomize that is missing too is said once more.
    server.discard_notifications();
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": settings("/nonexistent/other/kubectl")}}),
    );
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    server.gather_notifications(std::time::Duration::from_millis(2000));
    let said = missing_messages(&server);
    assert_eq!(said.len(), 1, "{said:#?}");
    assert!(
        said[0].contains("/nonexistent/other/kubectl"),
        "{}",
        said[0]
    );
}

#[test]
fn findings_on_values_a_transformer_set_land_on_its_entry_in_the_kustomization() {
    let (_dir, root) = fixture_copy();
    let staging = root.join("overlays/staging/kustomization.yaml");
    let text = std::fs::read_to_string(&staging).unwrap().replace(
        "namePrefix: staging-\n",
        "namePrefix: staging-\nnameSuffix: -V2\nlabels:\n- pairs:\n    tier: \"not a label!\"\n",
    );
    std::fs::write(&staging, &text).unwrap();
    let mut server = start(&root);
    let uri = open_file(&mut server, &staging);
    let published = server.wait_for_publication(&uri, |p| {
        p["diagnostics"].as_array().is_some_and(|all| {
            all.iter()
                .filter(|d| d["code"] == "kustomize-rendered")
                .count()
                >= 2
        })
    });
    let lines: Vec<&str> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "kustomize-rendered")
        .map(|d| {
            let line = d["range"]["start"]["line"].as_u64().unwrap() as usize;
            text.lines().nth(line).unwrap()
        })
        .collect();
    assert!(lines.contains(&"nameSuffix: -V2"), "{published}");
    assert!(lines.contains(&"    tier: \"not a label!\""), "{published}");
    // Nothing of it on the base's resources.
    let deployment = root.join("base/deployment.yaml");
    let base_uri = open_file(&mut server, &deployment);
    server.gather_notifications(std::time::Duration::from_millis(1500));
    let on_base: Vec<&Value> = server
        .queued_notifications()
        .filter(|n| n["params"]["uri"] == base_uri.as_str())
        .flat_map(|n| n["params"]["diagnostics"].as_array().into_iter().flatten())
        .filter(|d| d["code"] == "kustomize-rendered")
        .collect();
    assert!(on_base.is_empty(), "{on_base:#?}");
}

#[test]
fn a_kustomization_made_or_deleted_on_disk_makes_or_unmakes_its_patches() {
    let (_dir, root) = fixture_copy();
    let mut server = start_watching(&root);
    let kustomization = root.join("overlays/staging/kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).unwrap();
    // A patch that sets only replicas: not missing a Deployment's selector and template.
    let uri = open_file(&mut server, &root.join("overlays/staging/replicas.yaml"));
    server.wait_for_codes(&uri, &[]);

    // The kustomization deleted outside the editor: the file is a Deployment of its own.
    std::fs::remove_file(&kustomization).unwrap();
    server.file_changed_on_disk(&uri_of(&kustomization), 3);
    server.wait_for_codes(&uri, &["schema-required", "schema-required"]);

    // Made again: a patch again.
    std::fs::write(&kustomization, text).unwrap();
    server.file_changed_on_disk(&uri_of(&kustomization), 1);
    server.wait_for_codes(&uri, &[]);
}

#[test]
fn an_overlay_changed_on_disk_is_rendered_again_and_a_deleted_one_takes_its_findings() {
    let (_dir, root) = fixture_copy();
    let mut server = start_watching(&root);
    let kustomization = root.join("overlays/staging/kustomization.yaml");
    let overlay = std::fs::read_to_string(&kustomization).unwrap();
    // A patch adding a container without an image: the render says so, on the patch.
    let patch = root.join("overlays/staging/replicas.yaml");
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        args: [run]\n";
    std::fs::write(&patch, text).unwrap();
    let uri = open_file(&mut server, &patch);
    server.wait_for_codes(&uri, &["kustomize-rendered"]);

    // The overlay deleted outside the editor: no render names the patch any more, and the file
    // is a Deployment of its own.
    std::fs::remove_file(&kustomization).unwrap();
    server.file_changed_on_disk(&uri_of(&kustomization), 3);
    server.wait_for_codes(&uri, &["schema-required", "schema-required"]);

    // Made again: rendered again, without waiting for a save.
    std::fs::write(&kustomization, overlay).unwrap();
    server.file_changed_on_disk(&uri_of(&kustomization), 1);
    server.wait_for_codes(&uri, &["kustomize-rendered"]);
}
