//! End-to-end: YAML that is no Kubernetes object (a GitHub workflow, a Docker Compose file, a
//! Helm values file, a file with an `apiVersion` of its own) gets syntax checks and formatting
//! only, plus JSON-schema validation when a modeline or the `schemaPaths` setting associates a
//! schema: no Kubernetes diagnostics, completion or hover. Over stdio with the built binary and
//! in `kube-lsp check`; the Kubernetes documents beside them keep every check.

mod common;

use std::path::Path;
use std::time::Duration;

use common::cli;
use common::fixture::{self, apply_edits};
use common::server::{TestServer, codes};
use serde_json::{Value, json};

const WORKFLOW: &str = "name: CI
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        kind: [v1.30.0, v1.31.0]
    steps:
      - uses: actions/checkout@v4
      - uses: helm/kind-action@v1
        with:
          node_image: kindest/node:${{ matrix.kind }}
      - name: smoke test
        run: |
          kubectl apply -f - <<MANIFEST
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: smoke
          MANIFEST
";

const COMPOSE: &str = "services:
  web:
    image: nginx:latest
    ports:
      - \"8080:80\"
    depends_on: [db]
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: example
volumes:
  data: {}
";

const VALUES: &str = "replicaCount: 1
image:
  repository: nginx
  tag: latest
service:
  type: ClusterIP
  port: 80
";

/// YAML of another tool with an `apiVersion` of its own (as Helm's Chart.yaml has).
const TOOL_CONFIG: &str = "apiVersion: v2
name: tool
version: 0.1.0
";

/// Kubernetes documents: a Deployment the rules and the schema have things to say about, and
/// one that forgot its kind.
const MANIFESTS: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:latest
          portz: []
---
apiVersion: v1
metadata:
  name: half
";

/// The files of a workspace: path in the folder, text.
const FILES: [(&str, &str); 5] = [
    (".github/workflows/ci.yml", WORKFLOW),
    ("docker-compose.yml", COMPOSE),
    ("values.yaml", VALUES),
    ("tool.yaml", TOOL_CONFIG),
    ("deploy/manifests.yaml", MANIFESTS),
];

fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn file_uri(dir: &Path, path: &str) -> String {
    format!("file://{}", dir.join(path).display())
}

/// The codes of every publication of `uri` among the notifications queued so far.
fn published_codes(server: &TestServer, uri: &str) -> Vec<Vec<String>> {
    server
        .queued_notifications()
        .filter(|n| n["method"] == "textDocument/publishDiagnostics" && n["params"]["uri"] == uri)
        .map(|n| codes(&n["params"]))
        .collect()
}

#[test]
fn other_yaml_gets_no_kubernetes_diagnostics_beside_manifests_that_do() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &FILES);
    let mut server = TestServer::builder().workspace_folder(dir.path()).start();
    for (path, text) in FILES {
        server.open(&file_uri(dir.path(), path), text);
    }
    // The manifests get the schema's findings (the forgotten kind included) and the rules'.
    let manifests = file_uri(dir.path(), "deploy/manifests.yaml");
    let published = server.wait_for_publication(&manifests, |p| {
        let codes = codes(p);
        ["schema-unknown-field", "schema-required", "latest-tag"]
            .iter()
            .all(|code| codes.iter().any(|c| c == code))
    });
    let half = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "schema-required")
        .unwrap();
    assert_eq!(half["range"]["start"]["line"], 16, "{half}");
    assert!(
        half["message"]
            .as_str()
            .unwrap()
            .contains("`kind` is required")
    );
    // Later layers (references, a second look) have had time to publish too.
    server.gather_notifications(Duration::from_secs(2));
    for (path, _) in &FILES[..4] {
        let uri = file_uri(dir.path(), path);
        let all = published_codes(&server, &uri);
        assert!(!all.is_empty(), "{path} was published");
        assert!(
            all.iter().all(Vec::is_empty),
            "{path}: no diagnostics, got {all:?}"
        );
    }
    server.shutdown();
}

#[test]
fn a_syntax_error_in_other_yaml_is_still_reported() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &FILES[..1]);
    let mut server = TestServer::builder().workspace_folder(dir.path()).start();
    let uri = file_uri(dir.path(), FILES[0].0);
    let broken = WORKFLOW.replace("    runs-on: ubuntu-latest", "    runs-on: [ubuntu-latest");
    server.open(&uri, &broken);
    let published = server.wait_for_code(&uri, Some(1), "yaml-syntax");
    assert_eq!(codes(&published), ["yaml-syntax"], "{published}");
    // Fixed, nothing is left.
    let fixed = server.change_and_wait(&uri, 2, json!([{"text": WORKFLOW}]));
    assert_eq!(fixed, json!([]));
    server.shutdown();
}

#[test]
fn other_yaml_is_formatted() {
    let dir = tempfile::tempdir().unwrap();
    let messy = COMPOSE
        .replace("\n  ", "\n    ")
        .replace("- \"8080", "-   \"8080");
    write_files(dir.path(), &[("docker-compose.yml", &messy)]);
    let mut server = TestServer::builder().workspace_folder(dir.path()).start();
    let uri = file_uri(dir.path(), "docker-compose.yml");
    server.open_and_wait(&uri, &messy);
    let format = |server: &mut TestServer| {
        let edits = server.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        edits.as_array().cloned().unwrap_or_default()
    };
    let edits = format(&mut server);
    assert_eq!(apply_edits(&messy, &edits, server.encoding()), COMPOSE);
    server.change(&uri, 2, json!([{"text": COMPOSE}]));
    assert!(format(&mut server).is_empty(), "formatted already");
    server.shutdown();
}

const VALUES_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "replicaCount": {"type": "integer", "minimum": 1},
    "image": {"type": "object", "required": ["repository"]}
  }
}"#;

const WORKFLOW_SCHEMA: &str = r#"{
  "type": "object",
  "required": ["on", "jobs"],
  "properties": {"jobs": {"type": "object", "additionalProperties": {"type": "object", "required": ["runs-on"]}}}
}"#;

#[test]
fn modelines_and_schema_paths_associate_json_schemas_with_other_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let with_modeline = format!(
        "# yaml-language-server: $schema=values.schema.json\n{}",
        VALUES.replace("replicaCount: 1", "replicaCount: many")
    );
    let workflow = WORKFLOW.replace("    runs-on: ubuntu-latest\n", "");
    write_files(
        dir.path(),
        &[
            ("chart-values/values.schema.json", VALUES_SCHEMA),
            ("chart-values/values.yaml", &with_modeline),
            ("plain/values.yaml", VALUES),
            ("schemas/workflow.json", WORKFLOW_SCHEMA),
            (".github/workflows/ci.yml", &workflow),
        ],
    );
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut server = TestServer::builder()
        .workspace_folder(dir.path())
        .initialization_options(json!({"kube-lsp": {"schemaPaths": [
            {"schema": "schemas/workflow.json", "files": [".github/workflows/*.yml"]}
        ]}}))
        .env("KUBE_LSP_LOG", "kube_lsp=debug")
        .stderr_to(log.path())
        .start();

    // A modeline's schema: its finding on the value, nothing of Kubernetes.
    let values = file_uri(dir.path(), "chart-values/values.yaml");
    server.open(&values, &with_modeline);
    let published = server.wait_for_code(&values, Some(1), "schema-modeline");
    assert_eq!(codes(&published), ["schema-modeline"], "{published}");
    let finding = &published["diagnostics"][0];
    assert_eq!(finding["range"]["start"]["line"], 1, "{finding}");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("values.schema.json at `replicaCount`"),
        "{finding}"
    );
    // Without a modeline and no association: syntax checks only.
    let plain = file_uri(dir.path(), "plain/values.yaml");
    assert_eq!(server.open_and_wait(&plain, VALUES), json!([]));

    // schemaPaths associates the workflow schema with the workflow: the job misses `runs-on`.
    let ci = file_uri(dir.path(), ".github/workflows/ci.yml");
    server.open(&ci, &workflow);
    let published = server.wait_for_code(&ci, Some(1), "schema-modeline");
    assert_eq!(codes(&published), ["schema-modeline"], "{published}");
    assert!(
        published["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("\"runs-on\" is a required property"),
        "{published}"
    );

    // Edits check the document again against the schema compiled once.
    for version in 2..=4 {
        let edited = with_modeline.replace("port: 80", &format!("port: 8{version}"));
        let published = server.change_and_wait(&values, version, json!([{"text": edited}]));
        assert_eq!(published.as_array().unwrap().len(), 1, "{published}");
    }
    let fixed = with_modeline.replace("replicaCount: many", "replicaCount: 2");
    assert_eq!(
        server.change_and_wait(&values, 5, json!([{"text": fixed}])),
        json!([])
    );
    server.shutdown();
    let log = std::fs::read_to_string(log.path()).unwrap();
    let compiled: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("modeline: compiled"))
        .collect();
    assert_eq!(
        compiled.len(),
        2,
        "one compilation per schema: {compiled:#?}"
    );
    assert!(
        compiled
            .iter()
            .any(|l| l.contains("chart-values/values.yaml"))
    );
    assert!(
        compiled
            .iter()
            .any(|l| l.contains(".github/workflows/ci.yml"))
    );
}

/// The labels of a completion answer.
fn labels(answer: &Value) -> Vec<String> {
    let items = answer.get("items").unwrap_or(answer);
    items
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| i["label"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn other_yaml_gets_no_kubernetes_completion_or_hover() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::builder().workspace_folder(dir.path()).start();
    // A new top-level key in a workflow: no apiVersion, kind or skeletons.
    let (workflow, offset) = fixture::cursor(&format!("{WORKFLOW}$0"));
    let ci = file_uri(dir.path(), ".github/workflows/ci.yml");
    server.open_and_wait(&ci, &workflow);
    let at = fixture::position(&workflow, offset, server.encoding());
    assert_eq!(labels(&server.completion(&ci, at)), Vec::<String>::new());
    // Any other YAML whose top-level keys are no object's: the same.
    let tool = file_uri(dir.path(), "settings.yaml");
    let (text, offset) = fixture::cursor("name: tool\nmode: fast\n$0");
    server.open_and_wait(&tool, &text);
    let at = fixture::position(&text, offset, server.encoding());
    assert_eq!(labels(&server.completion(&tool, at)), Vec::<String>::new());
    // An empty Compose file gets nothing; an empty manifest file gets the skeletons.
    let compose = file_uri(dir.path(), "docker-compose.yml");
    server.open_and_wait(&compose, "");
    let start = json!({"line": 0, "character": 0});
    assert_eq!(
        labels(&server.completion(&compose, start.clone())),
        Vec::<String>::new()
    );
    let manifest = file_uri(dir.path(), "deployment.yaml");
    server.open_and_wait(&manifest, "");
    let offered = labels(&server.completion(&manifest, start.clone()));
    assert!(offered.iter().any(|l| l == "Deployment"), "{offered:?}");
    // A Compose file's document that names a kind is completed as an object.
    let (text, offset) = fixture::cursor("apiVersion: v1\nkind: ConfigMap\n$0");
    server.change(&compose, 2, json!([{"text": text}]));
    let at = fixture::position(&text, offset, server.encoding());
    let offered = labels(&server.completion(&compose, at));
    assert!(offered.iter().any(|l| l == "data"), "{offered:?}");
    // Hover on a workflow's keys: nothing.
    let jobs = json!({"line": 5, "character": 1});
    assert_eq!(server.hover(&ci, jobs), Value::Null);
    server.shutdown();
}

#[test]
fn check_command_treats_other_yaml_the_same() {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &FILES);
    let paths: Vec<String> = FILES
        .iter()
        .map(|(path, _)| dir.path().join(path).display().to_string())
        .collect();
    let mut args = vec!["check"];
    args.extend(paths.iter().map(String::as_str));
    let out = cli::kube_lsp(&args);
    let stdout = cli::stdout(&out);
    for line in stdout.lines() {
        assert!(line.contains("manifests.yaml:"), "{stdout}");
    }
    assert!(
        stdout.contains("manifests.yaml:17:1: error: `kind` is required"),
        "{stdout}"
    );
    assert!(stdout.contains("[latest-tag]"), "{stdout}");
    assert!(stdout.contains("[schema-unknown-field]"), "{stdout}");
}

#[test]
fn a_schema_associated_by_a_configuration_change_checks_the_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = WORKFLOW.replace("    runs-on: ubuntu-latest\n", "");
    write_files(
        dir.path(),
        &[
            ("schemas/workflow.json", WORKFLOW_SCHEMA),
            (".github/workflows/ci.yml", &workflow),
        ],
    );
    let mut server = TestServer::builder().workspace_folder(dir.path()).start();
    let ci = file_uri(dir.path(), ".github/workflows/ci.yml");
    assert_eq!(server.open_and_wait(&ci, &workflow), json!([]));
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"schemaPaths": [
            {"schema": "schemas/workflow.json", "files": "ci.yml"}
        ]}}}),
    );
    let published = server.wait_for_code(&ci, Some(1), "schema-modeline");
    assert_eq!(codes(&published), ["schema-modeline"], "{published}");
    // Taken away again, the finding goes.
    server.discard_notifications();
    server.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kube-lsp": {"schemaPaths": []}}}),
    );
    server.wait_for_publication(&ci, |p| codes(p).is_empty());
    server.shutdown();
}
