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

/// What an editor sees of a document's quick fixes.
struct Fixed {
    /// The published diagnostics' codes.
    codes: Vec<String>,
    /// The code actions' titles.
    titles: Vec<String>,
    /// How many diagnostics each action resolves.
    resolves: Vec<usize>,
    /// The text after applying every action's edits.
    text: String,
}

/// Opens `text`, waits for its diagnostics, asks for code actions over the whole document and
/// applies every edit they bring.
fn fixes(text: &str) -> Fixed {
    fixes_titled(text, |_| true)
}

/// [`fixes`], applying only the actions whose title `apply` accepts.
fn fixes_titled(text: &str, apply: impl Fn(&str) -> bool) -> Fixed {
    let mut client = start();
    client.did_open(URI, "yaml", text, 1).unwrap();
    let published = client.wait_for_diagnostics(URI, Some(1), WAIT).unwrap();
    let codes = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    let lines = text.split('\n').count();
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
    let resolves = actions
        .iter()
        .map(|a| a["diagnostics"].as_array().map_or(0, Vec::len))
        .collect();
    let mut edits: Vec<(usize, usize, String)> = actions
        .iter()
        .filter(|a| apply(a["title"].as_str().unwrap()))
        .flat_map(|a| {
            a["edit"]["changes"][URI]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|e| {
            let (start, end) = (&e["range"]["start"], &e["range"]["end"]);
            let new_text = e["newText"].as_str().unwrap().to_string();
            (offset(text, start), offset(text, end), new_text)
        })
        .collect();
    // Apply from the end so earlier offsets stay valid.
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut fixed = text.to_string();
    for (start, end, new_text) in edits {
        fixed.replace_range(start..end, &new_text);
    }
    assert!(client.shutdown_and_exit().unwrap().success());
    Fixed {
        codes,
        titles,
        resolves,
        text: fixed,
    }
}

/// The byte offset of an LSP position (UTF-16 columns) in `text`.
fn offset(text: &str, position: &Value) -> usize {
    let (line, character) = (
        position["line"].as_u64().unwrap() as usize,
        position["character"].as_u64().unwrap() as usize,
    );
    let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    let column = text[line_start..]
        .char_indices()
        .find(|(_, c)| {
            let before = units;
            units += c.len_utf16();
            before >= character
        })
        .map_or(text.len() - line_start, |(i, _)| i);
    line_start + column
}

#[test]
fn a_misspelled_key_is_fixed_to_the_known_field() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      imagee: nginx\n";
    // The missing image gets its own fix too; the rename is the one to take here.
    let Fixed {
        codes,
        titles,
        text: fixed,
        ..
    } = fixes_titled(text, |title| title.starts_with("Change"));
    assert!(
        codes.contains(&"schema-unknown-field".to_string()),
        "{codes:?}"
    );
    assert_eq!(
        titles,
        [
            "Add missing required field `image`",
            "Change `imagee` to `image`"
        ],
    );
    assert_eq!(fixed, text.replace("imagee:", "image:"));
    // The fixed text is clean.
    let again = fixes(&fixed);
    assert!(again.codes.is_empty(), "{:?}", again.codes);
    assert!(again.titles.is_empty(), "{:?}", again.titles);
}

#[test]
fn a_removed_api_version_is_replaced_with_a_served_one() {
    let text = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n    - host: example.com\n";
    let Fixed {
        codes,
        titles,
        text: fixed,
        ..
    } = fixes(text);
    assert_eq!(codes, ["schema-unknown-kind"]);
    assert_eq!(titles.len(), 1, "{titles:?}");
    assert_eq!(
        titles,
        [
            "Use apiVersion networking.k8s.io/v1 for Ingress (its schema there fits this object as is)"
        ]
    );
    assert_eq!(
        fixed,
        text.replace("extensions/v1beta1", "networking.k8s.io/v1")
    );
}

#[test]
fn missing_required_fields_are_added_by_one_action() {
    let text =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";
    let fixed = fixes(text);
    assert_eq!(fixed.codes, ["schema-required", "schema-required"]);
    assert_eq!(
        fixed.titles,
        ["Add missing required fields `selector`, `template`"]
    );
    assert_eq!(fixed.resolves, [2], "one action for both diagnostics");
    assert_eq!(
        fixed.text,
        format!("{text}  selector: {{}}\n  template: {{}}\n")
    );
    // Opened again, the text has no field missing.
    let again = fixes(&fixed.text);
    assert!(
        !again.codes.iter().any(|c| c == "schema-required"),
        "{:?}",
        again.codes
    );
}

#[test]
fn a_container_gets_its_name_and_image_in_a_crlf_file() {
    let text = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: web\r\nspec:\r\n  containers:\r\n  - ports:\r\n    - containerPort: 80 # http\r\n  restartPolicy: Always\r\n";
    let fixed = fixes(text);
    assert_eq!(
        fixed.titles,
        ["Add missing required fields `name`, `image`"]
    );
    assert_eq!(
        fixed.text,
        text.replace(
            "# http\r\n",
            "# http\r\n    name: \"\"\r\n    image: \"\"\r\n"
        )
    );
    // Nothing is missing; the empty name is there to be filled in (it is not a valid name).
    let again = fixes(&fixed.text);
    assert_eq!(again.codes, ["schema-invalid"]);
}
