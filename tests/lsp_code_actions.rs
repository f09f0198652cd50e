//! End-to-end tests of quick fixes: the built `kube-lsp` binary over stdio, as an editor asks for
//! code actions on a diagnostic's range and applies the edit it gets.

mod common;

use common::fixture;
use common::server::{TestServer, uri};
use serde_json::{Value, json};

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
    // The schema's fixes: the rules' are tested in rules_lsp.rs.
    let mut server = TestServer::builder()
        .initialization_options(json!({"kube-lsp": {"rules": false}}))
        .start();
    assert_eq!(
        server.capabilities()["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    let uri = uri("fixes.yaml");
    let diagnostics = server.open_and_wait(&uri, text);
    let codes = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect();
    let lines = text.split('\n').count();
    let whole =
        json!({"start": {"line": 0, "character": 0}, "end": {"line": lines, "character": 0}});
    let actions = server.code_actions(&uri, whole, diagnostics);
    let actions = actions.as_array().cloned().unwrap_or_default();
    let titles = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    let resolves = actions
        .iter()
        .map(|a| a["diagnostics"].as_array().map_or(0, Vec::len))
        .collect();
    let edits: Vec<Value> = actions
        .iter()
        .filter(|a| apply(a["title"].as_str().unwrap()))
        .flat_map(|a| {
            a["edit"]["changes"][&uri]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let fixed = fixture::apply_edits(text, &edits, server.encoding());
    server.shutdown();
    Fixed {
        codes,
        titles,
        resolves,
        text: fixed,
    }
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
