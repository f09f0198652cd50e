//! End-to-end: yaml-language-server's `$schema` modeline: `# yaml-language-server:
//! $schema=none` turns schema validation off for its YAML document, over stdio with the built
//! binary and in `kube-lsp check`.

mod common;

use common::cli;
use common::server::{TestServer, uri};
use serde_json::{Value, json};

const TEXT: &str = "# yaml-language-server: $schema=none
apiVersion: v1
kind: Service
metadata:
  name: s
  name: t
spec:
  portz: []
---
apiVersion: v1
kind: Service
metadata:
  name: u
spec:
  ports: [{port: 80}]
  typo: 1
";

fn codes_and_lines(diagnostics: &Value) -> Vec<(String, u64)> {
    let mut found: Vec<(String, u64)> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort_by_key(|(_, line)| *line);
    found
}

#[test]
fn schema_none_turns_schema_diagnostics_off_for_its_document() {
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = uri("modeline-none.yaml");
    server.open(&uri, TEXT);
    let published = server.wait_for_code(&uri, None, "schema-unknown-field");
    assert_eq!(
        codes_and_lines(&published["diagnostics"]),
        [
            ("yaml-duplicate-key".to_string(), 5),
            ("schema-unknown-field".to_string(), 15)
        ],
        "{published}"
    );
    server.shutdown();
}

#[test]
fn check_command_honours_schema_none() {
    let stdout = cli::check_text("modeline-none.yaml", TEXT);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].contains(":6:") && lines[0].contains("yaml-duplicate-key"),
        "{stdout}"
    );
    assert!(
        lines[1].contains(":16:") && lines[1].contains("schema-unknown-field"),
        "{stdout}"
    );
}

const SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "required": ["name"],
  "properties": {
    "name": {"type": "string"},
    "replicas": {"type": "integer", "minimum": 1}
  }
}"#;

const NAMED: &str = "# yaml-language-server: $schema=schemas/thing.json
name: web
replicas: many
---
# yaml-language-server: $schema=https://example.com/service.json
apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports: [{port: 80}]
  portz: []
";

/// A folder with the schema file and the document.
fn named_files() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schemas")).unwrap();
    std::fs::write(dir.path().join("schemas/thing.json"), SCHEMA).unwrap();
    let path = dir.path().join("named.yaml");
    std::fs::write(&path, NAMED).unwrap();
    (dir, path)
}

#[test]
fn a_schema_file_replaces_kube_lsp_schemas_and_a_url_is_not_downloaded() {
    let (_dir, path) = named_files();
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = format!("file://{}", path.display());
    server.open(&uri, NAMED);
    let published = server.wait_for_code(&uri, None, "schema-unknown-field");
    let diagnostics = &published["diagnostics"];
    // The first document: no kube-lsp schema (no apiVersion/kind to complain about), its
    // schema file's finding on `many`; the second: the URL's information, kube-lsp's schema.
    assert_eq!(
        codes_and_lines(diagnostics),
        [
            ("schema-modeline".to_string(), 2),
            ("schema-modeline".to_string(), 4),
            ("schema-unknown-field".to_string(), 11),
        ],
        "{published}"
    );
    let all = diagnostics.as_array().unwrap();
    let replicas = all
        .iter()
        .find(|d| d["range"]["start"]["line"] == 2)
        .unwrap();
    assert!(
        replicas["message"]
            .as_str()
            .unwrap()
            .contains("schemas/thing.json at `replicas`"),
        "{replicas}"
    );
    assert_eq!(replicas["range"]["start"]["character"], 10);
    let url = all
        .iter()
        .find(|d| d["range"]["start"]["line"] == 4)
        .unwrap();
    assert_eq!(url["severity"], 3, "{url}");
    assert!(
        url["message"].as_str().unwrap().contains("not downloaded"),
        "{url}"
    );

    // Fixed, the schema file's finding goes.
    let fixed = NAMED.replace("replicas: many", "replicas: 2");
    let published = server.change_and_wait(&uri, 2, json!([{"text": fixed}]));
    assert!(
        !codes_and_lines(&published)
            .iter()
            .any(|(code, line)| code == "schema-modeline" && *line == 2),
        "{published}"
    );
    server.shutdown();
}

#[test]
fn check_command_reads_modeline_schema_files() {
    let (_dir, path) = named_files();
    let out = cli::kube_lsp(&["check", "--exclude", "all", path.to_str().unwrap()]);
    let stdout = cli::stdout(&out);
    let mut codes: Vec<&str> = stdout
        .lines()
        .map(|l| l.rsplit('[').next().unwrap_or(""))
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        [
            "schema-modeline]",
            "schema-modeline]",
            "schema-unknown-field]"
        ],
        "{stdout}"
    );
    assert!(
        stdout.contains(":3:11: error: schemas/thing.json at `replicas`"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains(":5:33: info: The schema https://example.com/service.json is not downloaded"),
        "{stdout}"
    );
}

/// A real HTTP server (Python's `http.server`) over `dir` on a free local port; its base URL.
struct HttpServer {
    child: std::process::Child,
    base: String,
}

impl HttpServer {
    fn start(dir: &std::path::Path) -> HttpServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        let port = first
            .split("port ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{first}"))
            .to_string();
        HttpServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn with_schema_download_on_a_url_schema_is_fetched_and_applies() {
    let served = tempfile::tempdir().unwrap();
    std::fs::write(served.path().join("thing.json"), SCHEMA).unwrap();
    let http = HttpServer::start(served.path());
    let text = format!(
        "# yaml-language-server: $schema={base}/thing.json\nname: web\nreplicas: many\n---\n# yaml-language-server: $schema={base}/missing.json\nname: other\n",
        base = http.base
    );
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false, "schemaDownload": true}}))
        .start();
    let uri = uri("downloaded.yaml");
    server.open(&uri, &text);
    let published = server.wait_for_publication(&uri, |p| {
        p["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().filter(|d| d["code"] == "schema-modeline").count() == 2)
    });
    let all = published["diagnostics"].as_array().unwrap();
    let replicas = all
        .iter()
        .find(|d| d["range"]["start"]["line"] == 2)
        .unwrap();
    assert!(
        replicas["message"]
            .as_str()
            .unwrap()
            .contains("thing.json at `replicas`"),
        "{published}"
    );
    let missing = all
        .iter()
        .find(|d| d["range"]["start"]["line"] == 4)
        .unwrap();
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("missing.json cannot be downloaded: the server answered 404"),
        "{published}"
    );
    // An edit uses the downloaded schema at once.
    let fixed = text.replace("replicas: many", "replicas: 3");
    let published = server.change_and_wait(&uri, 2, json!([{"text": fixed}]));
    assert_eq!(
        codes_and_lines(&published),
        [("schema-modeline".to_string(), 4)],
        "{published}"
    );
    server.shutdown();
}

#[test]
fn a_schema_file_outside_the_workspace_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("outside.json"), SCHEMA).unwrap();
    let workspace = dir.path().join("workspace");
    std::fs::create_dir(&workspace).unwrap();
    let path = workspace.join("doc.yaml");
    let text = "# yaml-language-server: $schema=../outside.json\nreplicas: many\n";
    std::fs::write(&path, text).unwrap();
    let mut server = TestServer::builder()
        .workspace_folder(&workspace)
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = format!("file://{}", path.display());
    server.open(&uri, text);
    let published = server.wait_for_code(&uri, None, "schema-modeline");
    let found = &published["diagnostics"][0];
    assert!(
        found["message"]
            .as_str()
            .unwrap()
            .contains("is outside the workspace folders (not read)"),
        "{published}"
    );
    assert_eq!(published["diagnostics"].as_array().unwrap().len(), 1);
    server.shutdown();
}
