//! References between objects over LSP, on a copy of `tests/fixtures/references/shop` as the
//! workspace folder: definition, references, hover, completion, code lenses, rename (a workspace
//! edit applied across files) and the reference diagnostics with their quick fix. Every
//! reference kind is covered in each of these by the unit tests of `features::references` (on
//! the same files); here the server's wiring is driven as an editor drives it.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::fixture::{Encoding, apply_edits, position};
use common::lsp_client::file_uri;
use common::server::{TestServer, WAIT, codes, with_code};
use serde_json::{Value, json};

/// The shop copied into a fresh folder (renames and edits never touch the repository's files).
pub fn shop_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/references/shop");
    for entry in walkdir::WalkDir::new(&source) {
        let entry = entry.unwrap();
        let target = root.join(entry.path().strip_prefix(&source).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    (dir, root)
}

struct Shop {
    _dir: tempfile::TempDir,
    root: PathBuf,
    server: TestServer,
}

impl Shop {
    fn start() -> Shop {
        let (dir, root) = shop_copy();
        let server = TestServer::builder()
            .workspace_folder(&root)
            .label_details_support()
            .markdown_hover()
            .start();
        Shop {
            _dir: dir,
            root,
            server,
        }
    }

    fn uri(&self, relative: &str) -> String {
        file_uri(&self.root.join(relative))
    }

    fn text(&self, relative: &str) -> String {
        std::fs::read_to_string(self.root.join(relative)).unwrap()
    }

    /// Opens a file of the shop as the editor does (its text from disk).
    fn open(&mut self, relative: &str) -> String {
        let (uri, text) = (self.uri(relative), self.text(relative));
        self.server.open(&uri, &text);
        self.server.diagnostics(&uri, 1);
        text
    }

    /// The position of the `nth` `needle` in the file, `into` characters into it.
    fn at(&self, relative: &str, needle: &str, nth: usize, into: usize) -> Value {
        let text = self.text(relative);
        let offset = text.match_indices(needle).nth(nth).unwrap().0 + into;
        position(&text, offset, Encoding::Utf16)
    }

    fn request_at(&mut self, method: &str, relative: &str, position: Value, extra: Value) -> Value {
        let mut params = json!({"textDocument": {"uri": self.uri(relative)}, "position": position});
        if let Value::Object(extra) = extra {
            params.as_object_mut().unwrap().extend(extra);
        }
        self.server.request(method, params)
    }

    /// Asks until the answer is not empty: the workspace scan runs in the background.
    fn until_found(
        &mut self,
        method: &str,
        relative: &str,
        position: Value,
        extra: Value,
    ) -> Value {
        self.until_with(method, relative, position, extra, |answer| {
            answer.as_array().is_some_and(|a| !a.is_empty()) || answer.is_object()
        })
    }

    /// Asks until the answer is `wanted`.
    fn until(
        &mut self,
        method: &str,
        relative: &str,
        position: Value,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        self.until_with(method, relative, position, json!({}), wanted)
    }

    fn until_with(
        &mut self,
        method: &str,
        relative: &str,
        position: Value,
        extra: Value,
        wanted: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = Instant::now();
        loop {
            let answer = self.request_at(method, relative, position.clone(), extra.clone());
            if wanted(&answer) {
                return answer;
            }
            assert!(
                started.elapsed() < WAIT,
                "{method} never gave what was awaited: {answer}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The text of a location in the shop's files.
    fn text_of(&self, location: &Value) -> String {
        let uri = location["uri"].as_str().unwrap();
        let path = self.root.join(
            uri.strip_prefix(&file_uri(&self.root))
                .unwrap()
                .trim_start_matches('/'),
        );
        let text = std::fs::read_to_string(path).unwrap();
        let range = &location["range"];
        let start = common::fixture::offset(&text, &range["start"], Encoding::Utf16);
        let end = common::fixture::offset(&text, &range["end"], Encoding::Utf16);
        text[start..end].to_string()
    }
}

#[test]
fn definition_references_hover_and_lenses() {
    let mut shop = Shop::start();
    shop.open("app/deployment.yaml");
    let capabilities = shop.server.capabilities().clone();
    assert_eq!(capabilities["definitionProvider"], true);
    assert_eq!(capabilities["referencesProvider"], true);
    assert_eq!(capabilities["renameProvider"]["prepareProvider"], true);
    assert!(capabilities["codeLensProvider"].is_object());

    // configMapKeyRef: its name goes to the ConfigMap, its key to the key in its data.
    let name = shop.at("app/deployment.yaml", "app-config", 0, 3);
    let found = shop.until_found(
        "textDocument/definition",
        "app/deployment.yaml",
        name.clone(),
        json!({}),
    );
    assert_eq!(found.as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found[0]["uri"], shop.uri("app/config.yaml"));
    assert_eq!(shop.text_of(&found[0]), "app-config");
    assert_eq!(
        found[0]["range"]["start"],
        json!({"line": 3, "character": 8})
    );
    let key = shop.at("app/deployment.yaml", "key: mode", 0, 6);
    let found = shop.request_at(
        "textDocument/definition",
        "app/deployment.yaml",
        key,
        json!({}),
    );
    assert_eq!(shop.text_of(&found[0]), "mode");
    // serviceAccountName, and an Ingress backend's port by name.
    let account = shop.at("app/deployment.yaml", "shop-sa", 0, 0);
    let found = shop.request_at(
        "textDocument/definition",
        "app/deployment.yaml",
        account,
        json!({}),
    );
    assert_eq!(shop.text_of(&found[0]), "shop-sa");

    // Hover: where it is, then the field's schema (once the server knows there is no cluster).
    let hover = shop.until(
        "textDocument/hover",
        "app/deployment.yaml",
        name.clone(),
        |h| {
            !h["contents"]["value"]
                .as_str()
                .unwrap()
                .contains("the cluster is being asked")
        },
    );
    let markdown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with("**ConfigMap `app-config`** · namespace `shop`"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- in the workspace: `app/config.yaml:4`"),
        "{markdown}"
    );
    assert!(
        markdown.contains("- no cluster is configured"),
        "{markdown}"
    );
    assert!(
        markdown.contains("\n---\n"),
        "the schema's hover follows: {markdown}"
    );

    // References of the ConfigMap, from its own name (the file opened too).
    shop.open("app/config.yaml");
    let declaration = shop.at("app/config.yaml", "app-config", 0, 1);
    let found = shop.request_at(
        "textDocument/references",
        "app/config.yaml",
        declaration.clone(),
        json!({"context": {"includeDeclaration": false}}),
    );
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["uri"], shop.uri("app/deployment.yaml"));
    let with = shop.request_at(
        "textDocument/references",
        "app/config.yaml",
        declaration,
        json!({"context": {"includeDeclaration": true}}),
    );
    assert_eq!(with.as_array().unwrap().len(), 2);

    // A Service's selector: code lens and definition to the Pod template labels.
    shop.open("app/network.yaml");
    let lenses = shop.server.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": shop.uri("app/network.yaml")}}),
    );
    let titles: Vec<&str> = lenses
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["1 Deployment: shop"; 3]);
    assert_eq!(
        lenses[0]["range"]["start"],
        json!({"line": 5, "character": 2})
    );
    let selector = shop.at("app/network.yaml", "app: shop", 0, 1);
    let found = shop.request_at(
        "textDocument/definition",
        "app/network.yaml",
        selector,
        json!({}),
    );
    assert_eq!(found[0]["uri"], shop.uri("app/deployment.yaml"));
    assert_eq!(shop.text_of(&found[0]), "app");
    let port = shop.at("app/network.yaml", "name: http", 1, 7);
    let found = shop.request_at(
        "textDocument/definition",
        "app/network.yaml",
        port,
        json!({}),
    );
    assert_eq!(
        (
            found[0]["uri"].as_str().unwrap(),
            shop.text_of(&found[0]).as_str()
        ),
        (shop.uri("app/network.yaml").as_str(), "http")
    );

    // Nothing there: no answer.
    let image = shop.at("app/deployment.yaml", "image: shop", 0, 9);
    assert_eq!(
        shop.request_at(
            "textDocument/definition",
            "app/deployment.yaml",
            image.clone(),
            json!({})
        ),
        Value::Null
    );
    assert_eq!(
        shop.request_at(
            "textDocument/prepareRename",
            "app/deployment.yaml",
            image,
            json!({})
        ),
        Value::Null
    );
    shop.server.shutdown();
}

#[test]
fn completion_offers_what_exists_marked_by_source() {
    let mut shop = Shop::start();
    let relative = "app/deployment.yaml";
    let text = shop.open(relative);
    // Wait for the scan (a definition answers once the ConfigMap is indexed).
    let name = shop.at(relative, "app-config", 0, 0);
    shop.until_found("textDocument/definition", relative, name.clone(), json!({}));
    // The name erased: the ConfigMaps of the namespace.
    let start = text.find("app-config").unwrap();
    let erased = format!("{}{}", &text[..start], &text[start + "app-config".len()..]);
    let uri = shop.uri(relative);
    shop.server.change(&uri, 2, json!([{"text": erased}]));
    let items = shop.server.completion(&uri, name);
    let labels: Vec<(&str, &str)> = items["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["labelDetails"]["description"].is_string())
        .map(|i| {
            (
                i["label"].as_str().unwrap(),
                i["labelDetails"]["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("app-config", "workspace"),
            ("env-cm", "workspace"),
            ("files", "workspace"),
            ("projected-cm", "workspace")
        ]
    );
    assert_eq!(
        items["isIncomplete"], false,
        "no cluster: nothing more to come"
    );
    let item = &items["items"][0];
    assert_eq!(item["detail"], "ConfigMap · app/config.yaml:4");
    assert_eq!(item["textEdit"]["newText"], "app-config");
    shop.server.shutdown();
}

#[test]
fn rename_edits_every_file_and_a_typo_gets_a_fix() {
    let mut shop = Shop::start();
    let text = shop.open("app/config.yaml");
    shop.open("app/deployment.yaml");
    let db = shop.at("app/config.yaml", "name: db", 0, 7);
    let prepared = shop.until_found(
        "textDocument/prepareRename",
        "app/config.yaml",
        db.clone(),
        json!({}),
    );
    assert_eq!(prepared["placeholder"], "db");
    let edit = shop.request_at(
        "textDocument/rename",
        "app/config.yaml",
        db,
        json!({"newName": "database"}),
    );
    let changes = edit["changes"].as_object().unwrap();
    let mut files: Vec<&String> = changes.keys().collect();
    files.sort();
    assert_eq!(
        files,
        [
            &shop.uri("app/config.yaml"),
            &shop.uri("app/deployment.yaml")
        ]
    );
    let config = apply_edits(
        &text,
        changes[&shop.uri("app/config.yaml")].as_array().unwrap(),
        Encoding::Utf16,
    );
    assert_eq!(
        config.matches("database").count(),
        2,
        "the Secret and the ServiceAccount's secrets[]"
    );
    let deployment = apply_edits(
        &shop.text("app/deployment.yaml"),
        changes[&shop.uri("app/deployment.yaml")]
            .as_array()
            .unwrap(),
        Encoding::Utf16,
    );
    assert!(
        deployment.contains("              name: database\n              key: password"),
        "{deployment}"
    );
    assert!(!deployment.contains("name: db\n"));

    // A typo: a warning on it, and a quick fix to the name that exists.
    let uri = shop.uri("app/deployment.yaml");
    let typo = shop
        .text("app/deployment.yaml")
        .replace("name: app-config", "name: app-confg");
    shop.server.change(&uri, 2, json!([{"text": typo}]));
    let published = shop
        .server
        .wait_for_code(&uri, Some(2), "reference-missing");
    let diagnostic = with_code(&published, "reference-missing")[0].clone();
    assert_eq!(diagnostic["severity"], 2);
    assert_eq!(
        diagnostic["message"],
        "ConfigMap `app-confg` in namespace `shop` not found in the workspace (no cluster is configured); did you mean `app-config`?"
    );
    let actions = shop
        .server
        .code_actions(&uri, diagnostic["range"].clone(), json!([diagnostic]));
    assert_eq!(actions[0]["title"], "Change to `app-config`");
    let fixed = apply_edits(
        &typo,
        actions[0]["edit"]["changes"][&uri].as_array().unwrap(),
        Encoding::Utf16,
    );
    assert_eq!(fixed, shop.text("app/deployment.yaml"));
    // Fixed: the warning goes.
    shop.server.change(&uri, 3, json!([{"text": fixed}]));
    shop.server.wait_for_publication(&uri, |p| {
        p["version"] == 3 && !codes(p).iter().any(|c| c.starts_with("reference-"))
    });
    shop.server.shutdown();
}

#[test]
fn a_file_changed_on_disk_changes_what_references_find() {
    let (dir, root) = shop_copy();
    let mut server = TestServer::builder()
        .workspace_folder(&root)
        .watch_files()
        .start();
    let relative = "app/deployment.yaml";
    let uri = file_uri(&root.join(relative));
    server.open(&uri, &std::fs::read_to_string(root.join(relative)).unwrap());
    // The ConfigMap's file is deleted: the reference to it is reported once the index knows.
    std::fs::write(root.join("app/config.yaml"), "").unwrap();
    server.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": file_uri(&root.join("app/config.yaml")), "type": 2}]}),
    );
    let published = server.wait_for_code(&uri, None, "reference-missing");
    let missing: Vec<&str> = with_code(&published, "reference-missing")
        .into_iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        missing
            .iter()
            .any(|m| m.starts_with("ConfigMap `app-config` in namespace `shop` not found")),
        "{missing:?}"
    );
    drop(dir);
}

/// The names of the objects the `reference-missing` diagnostics of `published` say are missing.
fn missing_names(published: &Value) -> Vec<String> {
    with_code(published, "reference-missing")
        .into_iter()
        .map(|d| {
            d["message"]
                .as_str()
                .unwrap()
                .split('`')
                .nth(1)
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn edits_within_documents_keep_every_documents_reference_findings_right() {
    // Edits that change nothing other documents read (an image, a reference, `optional`) have
    // only the edited documents checked again: the findings of the others must stay, moved.
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let pod = |name: &str, config: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    envFrom:\n    - configMapRef:\n        name: {config}\n"
        )
    };
    let text = format!(
        "{}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: shop}}\n---\n{}",
        pod("a", "missing-one"),
        pod("b", "settings")
    );
    let uri = file_uri(&root.join("app.yaml"));
    std::fs::write(root.join("app.yaml"), &text).unwrap();
    let mut server = TestServer::builder().workspace_folder(&root).start();
    server.open(&uri, &text);
    let published = server.wait_for_code(&uri, None, "reference-missing");
    assert_eq!(missing_names(&published), ["missing-one"]);

    let mut text = text;
    let mut version = 1;
    // Replaces the `nth` `needle` with `with` as an editor sends it; waits until a publication
    // of that version says `missing` are missing.
    let mut edit = |needle: &str, nth: usize, with: &str, missing: &[&str]| {
        let start = text.match_indices(needle).nth(nth).unwrap().0;
        let range = json!({
            "start": position(&text, start, Encoding::Utf16),
            "end": position(&text, start + needle.len(), Encoding::Utf16),
        });
        text.replace_range(start..start + needle.len(), with);
        version += 1;
        server.change(&uri, version, json!([{"range": range, "text": with}]));
        let published = server.wait_for_publication(&uri, |p| {
            p["version"] == version && missing_names(p) == missing
        });
        let ranges: Vec<String> = with_code(&published, "reference-missing")
            .into_iter()
            .map(|d| {
                let start = common::fixture::offset(&text, &d["range"]["start"], Encoding::Utf16);
                let end = common::fixture::offset(&text, &d["range"]["end"], Encoding::Utf16);
                text[start..end].to_string()
            })
            .collect();
        assert_eq!(ranges, missing, "each on its name");
    };
    // The first Pod's image grows: its finding moves.
    edit(
        "image: nginx",
        0,
        "image: nginx:1.27-alpine",
        &["missing-one"],
    );
    // The second Pod now names a ConfigMap that does not exist: found, the first's kept.
    edit(
        "name: settings\n",
        0,
        "name: settingz\n",
        &["missing-one", "settingz"],
    );
    // The first's reference becomes optional: its finding goes, though the edit is not on it.
    edit(
        "    - configMapRef:",
        0,
        "    - configMapRef:\n        optional: true",
        &["settingz"],
    );
    // The ConfigMap is renamed (what others read changes): every document is checked again.
    edit("name: settings,", 0, "name: settingz,", &[]);
    server.shutdown();
}

fn reference_findings(published: &Value) -> Vec<String> {
    let mut found: Vec<String> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["code"]
                .as_str()
                .is_some_and(|c| c.starts_with("reference-"))
        })
        .map(|d| format!("{} {} {}", d["code"], d["range"], d["message"]))
        .collect();
    found.sort();
    found
}

#[test]
fn random_edits_with_pauses_end_with_the_findings_of_a_fresh_open() {
    // Edits of every kind, some followed by a typing pause (the index takes the text and the
    // references are checked again, in part when nothing the others read changed): the
    // findings after the last edit are those a server opening the final text finds.
    let pod = |n: usize| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p-{n}\n  labels: {{app: a{}}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    envFrom:\n    - configMapRef:\n        name: cm-{}\n",
            n % 3,
            n % 8
        )
    };
    let config_map =
        |n: usize| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{n}}}\n");
    let service = |n: usize| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s-{n}}}\nspec:\n  selector: {{app: a{n}}}\n  ports: [{{port: 80}}]\n"
        )
    };
    let documents: Vec<String> = (0..8)
        .map(pod)
        .chain((0..6).map(config_map))
        .chain((2..5).map(service))
        .collect();
    let mut text = documents.join("---\n");
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let path = root.join("app.yaml");
    std::fs::write(&path, &text).unwrap();
    let uri = file_uri(&path);
    let mut server = TestServer::builder().workspace_folder(&root).start();
    server.open(&uri, &text);

    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as usize % below
    };
    // What a line may become: (its start, what follows it is replaced with).
    let tails: [(&str, &[&str]); 6] = [
        ("        name: cm-", &["0", "3", "5", "6", "7"]),
        ("metadata: {name: cm-", &["1}", "4}", "6}", "9}"]),
        ("    image: ", &["nginx", "nginx:1.27", "busybox"]),
        ("  labels: {app: a", &["0}", "1}", "2}", "5}"]),
        ("  selector: {app: a", &["0}", "2}", "4}", "6}"]),
        ("    - configMapRef:", &["", "\n        optional: true"]),
    ];
    // Edits of every kind first, then only of what others do not read (a reference, an
    // image, `optional`), each followed by a pause: those are checked in part.
    let same_for_others = [0, 2, 5];
    for version in 2..=40 {
        let kind = match version {
            ..=25 => random(tails.len()),
            _ => same_for_others[random(same_for_others.len())],
        };
        let (start, tail) = tails[kind];
        let lines: Vec<usize> = text.match_indices(start).map(|(at, _)| at).collect();
        let line_start = lines[random(lines.len())];
        let from = line_start + start.len();
        let mut to = from + text[from..].find('\n').unwrap_or(text.len() - from);
        // An `optional` line below goes with the tail it follows.
        if start.ends_with("configMapRef:") && text[to..].starts_with("\n        optional: true") {
            to += "\n        optional: true".len();
        }
        let with = tail[random(tail.len())];
        let range = json!({
            "start": position(&text, from, Encoding::Utf16),
            "end": position(&text, to, Encoding::Utf16),
        });
        text.replace_range(from..to, with);
        server.change(&uri, version, json!([{"range": range, "text": with}]));
        if version > 25 || random(3) == 0 {
            std::thread::sleep(Duration::from_millis(450));
        }
    }
    // A server opening the final text: its findings once its publications settle.
    std::fs::write(&path, &text).unwrap();
    let mut fresh = TestServer::builder().workspace_folder(&root).start();
    fresh.open(&uri, &text);
    let publications = |server: &TestServer| -> Vec<Value> {
        server
            .queued_notifications()
            .filter(|n| n["method"] == "textDocument/publishDiagnostics")
            .map(|n| n["params"].clone())
            .collect()
    };
    // Settled: no new publication for a second, and the last one's references checked.
    let mut seen = 0;
    let opened = (0..30)
        .find_map(|_| {
            fresh.gather_notifications(Duration::from_millis(1000));
            let published = publications(&fresh);
            let last = published.last().map(reference_findings).unwrap_or_default();
            let settled = published.len() == seen && !last.is_empty();
            seen = published.len();
            settled.then_some(last)
        })
        .expect("the fresh server's publications settle");
    // The edited server comes to the same.
    server.wait_for_publication(&uri, |p| {
        p["version"] == 40 && reference_findings(p) == opened
    });
    server.shutdown();
    fresh.shutdown();
}
