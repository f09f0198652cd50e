//! End-to-end tests of quick fixes: the built `kube-lsp` binary over stdio, as an editor asks for
//! code actions on a diagnostic's range and applies the edit it gets.

mod common;

use std::path::Path;
use std::time::Duration;

use common::lsp_client::{LspClient, ServerStderr};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);
const URI: &str = "file:///work/fixes.yaml";

fn start() -> LspClient {
    let mut client = LspClient::spawn_with_stderr(
        Path::new(env!("CARGO_BIN_EXE_kube-lsp")),
        &["--stdio", "--log-level", "warn"],
        ServerStderr::Null,
    )
    .expect("spawn kube-lsp");
    let result = client
        .initialize(json!({"processId": null, "rootUri": null, "capabilities": {}}))
        .expect("initialize");
    assert_eq!(
        result["capabilities"]["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    client
}

/// Opens `text`, waits for its diagnostics, asks for code actions over the whole document and
/// returns (the diagnostics' codes, the actions' titles, the text after applying every edit).
fn fixes(text: &str) -> (Vec<String>, Vec<String>, String) {
    let mut client = start();
    client.did_open(URI, "yaml", text, 1).unwrap();
    let published = client.wait_for_diagnostics(URI, Some(1), WAIT).unwrap();
    let codes = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    let lines = text.lines().count();
    let actions = client
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": URI},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}},
                "context": {"diagnostics": published["diagnostics"]},
            }),
        )
        .unwrap();
    let actions = actions.as_array().cloned().unwrap_or_default();
    let titles = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    let mut edits: Vec<Value> = actions
        .iter()
        .flat_map(|a| {
            a["edit"]["changes"][URI]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    // Apply from the end so earlier positions stay valid.
    edits.sort_by_key(|e| {
        let start = &e["range"]["start"];
        std::cmp::Reverse((start["line"].as_u64(), start["character"].as_u64()))
    });
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for edit in edits {
        let (start, end) = (&edit["range"]["start"], &edit["range"]["end"]);
        assert_eq!(start["line"], end["line"], "single-line fixes");
        let line = &mut lines[start["line"].as_u64().unwrap() as usize];
        let (from, to) = (
            start["character"].as_u64().unwrap() as usize,
            end["character"].as_u64().unwrap() as usize,
        );
        line.replace_range(from..to, edit["newText"].as_str().unwrap());
    }
    assert!(client.shutdown_and_exit().unwrap().success());
    (codes, titles, lines.join("\n") + "\n")
}

#[test]
fn a_misspelled_key_is_fixed_to_the_known_field() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      imagee: nginx\n";
    let (codes, titles, fixed) = fixes(text);
    assert!(
        codes.contains(&"schema-unknown-field".to_string()),
        "{codes:?}"
    );
    assert!(
        titles.contains(&"Change `imagee` to `image`".to_string()),
        "{titles:?}"
    );
    assert_eq!(fixed, text.replace("imagee:", "image:"));
    // The fixed text is clean.
    let (codes, titles, _) = fixes(&fixed);
    assert!(codes.is_empty(), "{codes:?}");
    assert!(titles.is_empty(), "{titles:?}");
}

#[test]
fn a_removed_api_version_is_replaced_with_a_served_one() {
    let text = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n    - host: example.com\n";
    let (codes, titles, fixed) = fixes(text);
    assert_eq!(codes, ["schema-unknown-kind"]);
    assert_eq!(titles.len(), 1, "{titles:?}");
    assert!(
        titles[0].starts_with("Use apiVersion networking.k8s.io/v1 for Ingress"),
        "{titles:?}"
    );
    assert_eq!(
        fixed,
        text.replace("extensions/v1beta1", "networking.k8s.io/v1")
    );
}
