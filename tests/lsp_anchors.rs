//! End-to-end: YAML anchors and aliases over stdio with the built binary: go to the anchor of an
//! alias, find an anchor's aliases, rename an anchor with them, hover an alias to see what it
//! expands to (bounded), and the diagnostic of an alias without an anchor.

mod common;

use common::server::{TestServer, uri};
use serde_json::{Value, json};

const TEXT: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: base
  labels: &labels
    app: shop
    tier: web
data:
  a: &greeting hello
---
apiVersion: v1
kind: Service
metadata:
  name: shop
  labels: &labels
    app: shop
spec:
  selector: *labels
  ports: [{port: 80}]
  x: *labels
";

/// The (line, character) of the `nth` occurrence of `needle` in TEXT, plus `shift` characters.
fn position(needle: &str, nth: usize, shift: u32) -> Value {
    let (line, text) = TEXT
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .nth(nth)
        .unwrap();
    let character = text.find(needle).unwrap() as u32 + shift;
    json!({"line": line, "character": character})
}

fn at(uri: &str, position: Value) -> Value {
    json!({"textDocument": {"uri": uri}, "position": position})
}

/// The (line, start character, end character) of each location or edit.
fn spans(found: &Value) -> Vec<(u64, u64, u64)> {
    found
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let range = &l["range"];
            (
                range["start"]["line"].as_u64().unwrap(),
                range["start"]["character"].as_u64().unwrap(),
                range["end"]["character"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn started() -> (TestServer, String) {
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = uri("anchors.yaml");
    server.open_and_wait(&uri, TEXT);
    (server, uri)
}

#[test]
fn definition_and_references_follow_the_anchor_of_the_same_document() {
    let (mut server, uri) = started();
    let alias = position("*labels", 0, 3);
    let found = server.request("textDocument/definition", at(&uri, alias.clone()));
    assert_eq!(found["uri"], uri.as_str(), "{found}");
    // The second document's `&labels` (line 14), not the first's.
    assert_eq!(
        found["range"]["start"],
        json!({"line": 14, "character": 11})
    );
    assert_eq!(found["range"]["end"], json!({"line": 14, "character": 17}));

    let mut params = at(&uri, position("&labels", 1, 0));
    params["context"] = json!({"includeDeclaration": true});
    let found = server.request("textDocument/references", params.clone());
    assert_eq!(
        spans(&found),
        [(14, 11, 17), (17, 13, 19), (19, 6, 12)],
        "{found}"
    );
    params["context"] = json!({"includeDeclaration": false});
    let found = server.request("textDocument/references", params);
    assert_eq!(spans(&found), [(17, 13, 19), (19, 6, 12)], "{found}");

    // An anchor without aliases has only itself.
    let mut params = at(&uri, position("&greeting", 0, 2));
    params["context"] = json!({"includeDeclaration": true});
    let found = server.request("textDocument/references", params);
    assert_eq!(spans(&found), [(8, 6, 14)], "{found}");
    server.shutdown();
}

#[test]
fn rename_changes_the_anchor_and_its_aliases() {
    let (mut server, uri) = started();
    let alias = position("*labels", 1, 2);
    let prepared = server.request("textDocument/prepareRename", at(&uri, alias.clone()));
    assert_eq!(prepared["placeholder"], "labels", "{prepared}");
    assert_eq!(
        prepared["range"]["start"],
        json!({"line": 19, "character": 6})
    );

    let mut params = at(&uri, alias.clone());
    params["newName"] = json!("service-labels");
    let edit = server.request("textDocument/rename", params);
    let edits = &edit["changes"][uri.as_str()];
    assert_eq!(
        spans(edits),
        [(14, 11, 17), (17, 13, 19), (19, 6, 12)],
        "{edit}"
    );
    assert!(
        edits
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["newText"] == "service-labels")
    );
    // The first document's anchor is not touched.
    assert!(edit["changes"].as_object().unwrap().len() == 1);

    let mut params = at(&uri, alias);
    params["newName"] = json!("two words");
    let refused = server.try_request("textDocument/rename", params);
    assert!(refused.is_err(), "{refused:?}");
    server.shutdown();
}

#[test]
fn hover_on_an_alias_shows_its_expansion() {
    let (mut server, uri) = started();
    let hover = server.hover(&uri, position("*labels", 0, 1));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("Alias `*labels`"), "{text}");
    assert!(text.contains("```yaml\napp: shop\n```"), "{text}");
    assert_eq!(
        hover["range"]["start"],
        json!({"line": 17, "character": 12})
    );
    assert_eq!(hover["range"]["end"], json!({"line": 17, "character": 19}));

    // A big anchored node is cut.
    let mut big =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata: &data\n");
    for i in 0..200 {
        big.push_str(&format!("  key{i}: value{i}\n"));
    }
    big.push_str("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n");
    let big_uri = common::server::uri("big-anchor.yaml");
    big = big.replace("---\n", "other: *data\n---\n");
    server.open_and_wait(&big_uri, &big);
    let line = big.lines().position(|l| l.contains("*data")).unwrap();
    let hover = server.hover(&big_uri, json!({"line": line, "character": 8}));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("key39: value39"), "{text}");
    assert!(!text.contains("key40:"), "{text}");
    assert!(text.contains("cut: 160 more lines"), "{text}");
    server.shutdown();
}

#[test]
fn an_alias_without_anchor_is_reported_on_the_alias() {
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    let uri = uri("undefined-alias.yaml");
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: *nowhere\n";
    let published = server.open_and_wait(&uri, text);
    let diagnostics = published.as_array().unwrap();
    let found = diagnostics
        .iter()
        .find(|d| d["message"].as_str().unwrap_or("").contains("*nowhere"))
        .unwrap_or_else(|| panic!("{published}"));
    assert!(
        found["message"]
            .as_str()
            .unwrap()
            .contains("Alias *nowhere is not defined: no anchor &nowhere"),
        "{found}"
    );
    assert_eq!(found["range"]["start"], json!({"line": 5, "character": 5}));
    assert_eq!(found["range"]["end"], json!({"line": 5, "character": 13}));
    // The same after an edit.
    let edited = text.replace("*nowhere", "&here 1\n  y: *there");
    let published = server.change_and_wait(&uri, 2, json!([{"text": edited}]));
    let messages: Vec<&str> = published
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages
            .contains(&"Alias *there is not defined: no anchor &there before it in this document"),
        "{published}"
    );
    server.change_and_wait(&uri, 3, json!([{"text": text}]));
    // Navigation on it answers nothing rather than failing.
    let found = server.request(
        "textDocument/definition",
        at(&uri, json!({"line": 5, "character": 7})),
    );
    assert!(
        found.is_null() || found.as_array().is_some_and(|a| a.is_empty()),
        "{found}"
    );
    server.shutdown();
}
