//! End-to-end: `# kube-lsp-ignore: <code>` comments turn off any diagnostic by its code (YAML,
//! schema, rules), on its line, right above it, or for its whole document; over stdio with the
//! built binary, and in `kube-lsp check`.

mod common;

use common::cli;
use common::server::{TestServer, uri};
use serde_json::{Value, json};

const TEXT: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  name: b  # kube-lsp-ignore: yaml-duplicate-key
data:
  x: '1'
  x: '2'
---
# kube-lsp-ignore: schema-unknown-field
apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports: [{port: 80}]
  portz: []
---
apiVersion: v1
kind: Service
metadata:
  name: t
spec:
  ports: [{port: 80}]
  # kube-lsp-ignore: schema-unknown-field
  portz: []
  typo: 1
";

fn codes_and_lines(diagnostics: &Value) -> Vec<(String, u64)> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn ignore_comments_turn_off_any_code_where_they_are() {
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = uri("ignored.yaml");
    server.open(&uri, TEXT);
    let published = server.wait_for_code(&uri, None, "schema-unknown-field");
    let found = codes_and_lines(&published["diagnostics"]);
    assert_eq!(
        found,
        [
            ("yaml-duplicate-key".to_string(), 7),
            ("schema-unknown-field".to_string(), 26)
        ],
        "{published}"
    );
    server.shutdown();
}

#[test]
fn check_command_honours_ignore_comments_for_any_code() {
    let stdout = cli::check_text("ignored.yaml", TEXT);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].contains(":8:") && lines[0].contains("[yaml-duplicate-key]"),
        "{stdout}"
    );
    assert!(
        lines[1].contains(":27:") && lines[1].contains("[schema-unknown-field]"),
        "{stdout}"
    );
}

/// yaml-language-server's comment, as it documents it: the line right above; all diagnostics,
/// or those whose message holds one of the listed substrings (ignoring case).
const DISABLED: &str = "apiVersion: v1
kind: Service
metadata:
  name: s
spec:
  ports: [{port: 80}]
  # yaml-language-server-disable
  portz: []
  # yaml-language-server-disable something else
  typo: 1
  # yaml-language-server-disable

  spelling: 1
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  x: '1'
  # yaml-language-server-disable DUPLICATE, nothing else
  x: '2'
  y: '1'
  y: '2'
";

#[test]
fn yaml_language_server_disable_comments_turn_off_the_next_line() {
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = uri("disabled.yaml");
    server.open(&uri, DISABLED);
    let published = server.wait_for_code(&uri, None, "schema-unknown-field");
    let mut found = codes_and_lines(&published["diagnostics"]);
    found.sort_by_key(|(_, line)| *line);
    // `portz` (line 7) is off; the second `x` (line 21) is off by its message; `typo`'s comment
    // names other messages; `spelling` has a blank line between.
    assert_eq!(
        found,
        [
            ("schema-unknown-field".to_string(), 9),
            ("schema-unknown-field".to_string(), 12),
            ("yaml-duplicate-key".to_string(), 23),
        ],
        "{published}"
    );
    server.shutdown();
}

#[test]
fn check_command_honours_yaml_language_server_disable() {
    let stdout = cli::check_text("disabled.yaml", DISABLED);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].contains(":10:"), "{stdout}");
    assert!(lines[1].contains(":13:"), "{stdout}");
    assert!(lines[2].contains(":24:"), "{stdout}");
}
