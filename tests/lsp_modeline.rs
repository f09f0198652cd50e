//! End-to-end: yaml-language-server's `$schema` modeline: `# yaml-language-server:
//! $schema=none` turns schema validation off for its YAML document, over stdio with the built
//! binary and in `kube-lsp check`.

mod common;

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
    let published = server.wait_for_publication(&uri, |p| {
        p["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["code"] == "schema-unknown-field"))
    });
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("modeline-none.yaml");
    std::fs::write(&path, TEXT).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kube-lsp"))
        .args(["check", "--exclude", "all"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
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
