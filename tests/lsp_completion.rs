//! End-to-end tests of completion and hover: the built `kube-lsp` binary over stdio.

mod common;

use common::corpus::{self, ARGOCD};
use common::server::{TestServer, uri};
use serde_json::{Value, json};

/// A server initialized as an editor with snippets (or without) and label details would.
fn start(snippets: bool) -> TestServer {
    let server = TestServer::builder()
        .snippet_support(snippets)
        .label_details_support()
        .markdown_hover()
        .start();
    let capabilities = server.capabilities();
    assert_eq!(capabilities["hoverProvider"], true);
    assert_eq!(
        capabilities["completionProvider"]["triggerCharacters"],
        json!([":", " "])
    );
    server
}

/// The completion items at the `$0` cursor of `text`, in the order the editor shows them.
fn complete(s: &mut TestServer, text: &str) -> Vec<Value> {
    let list = s.completion_at_cursor(text);
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    items.sort_by(|a, b| a["sortText"].as_str().cmp(&b["sortText"].as_str()));
    items
}

fn labels(items: &[Value]) -> Vec<&str> {
    items.iter().map(|i| i["label"].as_str().unwrap()).collect()
}

fn find<'a>(items: &'a [Value], label: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["label"] == label)
        .unwrap_or_else(|| panic!("no {label} among {:?}", labels(items)))
}

/// One line per item, as a reviewer reads a completion list.
fn summary(items: &[Value], limit: usize) -> Vec<String> {
    items
        .iter()
        .take(limit)
        .map(|i| {
            format!(
                "{}{} [{}] {:?}",
                i["label"].as_str().unwrap_or(""),
                i["labelDetails"]["detail"].as_str().unwrap_or(""),
                i["labelDetails"]["description"].as_str().unwrap_or(""),
                i["textEdit"]["newText"].as_str().unwrap_or(""),
            )
        })
        .collect()
}

#[test]
fn kind_values_follow_the_api_version() {
    let mut s = start(true);
    let items = complete(&mut s, "apiVersion: apps/v1\nkind: $0\n");
    insta::assert_json_snapshot!("kinds_of_apps_v1", summary(&items, 20));
    let items = complete(&mut s, "kind: $0\nmetadata:\n  name: web\n");
    let service = find(&items, "Service");
    assert_eq!(service["labelDetails"]["detail"], " v1");
    assert!(service["filterText"].as_str().unwrap().contains("svc"));
    assert_eq!(
        service["additionalTextEdits"],
        json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "newText": "apiVersion: v1\n"}])
    );
    s.shutdown();
}

#[test]
fn api_versions_follow_the_kind() {
    let mut s = start(true);
    let items = complete(&mut s, "apiVersion: $0\nkind: HorizontalPodAutoscaler\n");
    assert_eq!(labels(&items), ["autoscaling/v2", "autoscaling/v1"]);
    s.shutdown();
}

#[test]
fn container_keys_and_enum_values() {
    let mut s = start(true);
    let items = complete(
        &mut s,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n        $0\n",
    );
    assert!(
        !labels(&items).contains(&"name"),
        "present keys are left out"
    );
    assert!(!labels(&items).contains(&"image"));
    insta::assert_json_snapshot!("container_keys", summary(&items, 12));
    let ports = find(&items, "ports");
    assert_eq!(ports["insertTextFormat"], 2);
    assert_eq!(ports["insertTextMode"], 1);
    assert!(
        ports["documentation"]["value"]
            .as_str()
            .unwrap()
            .starts_with("**ports** `[]ContainerPort` · optional")
    );
    let items = complete(
        &mut s,
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: web\n    imagePullPolicy: $0\n",
    );
    assert_eq!(labels(&items), ["Always", "IfNotPresent", "Never"]);
    s.shutdown();
}

#[test]
fn skeletons_in_an_empty_document_and_in_the_second_document() {
    let mut s = start(true);
    let items = complete(&mut s, "$0");
    let deployment = items
        .iter()
        .find(|i| i["label"] == "Deployment" && i["kind"] == 15)
        .expect("a Deployment skeleton");
    insta::assert_snapshot!(
        "deployment_skeleton",
        deployment["textEdit"]["newText"].as_str().unwrap()
    );
    let items = complete(
        &mut s,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: v1\nkind: Service\nspec:\n  $0\n",
    );
    let ports = find(&items, "ports");
    assert_eq!(
        ports["textEdit"]["range"],
        json!({"start": {"line": 8, "character": 2}, "end": {"line": 8, "character": 2}})
    );
    assert!(labels(&items).contains(&"clusterIP"));
    s.shutdown();

    // A client without snippet support gets plain text.
    let mut s = start(false);
    let items = complete(&mut s, "---\n$0");
    let pod = items
        .iter()
        .find(|i| i["label"] == "Pod" && i["kind"] == 15)
        .expect("a Pod skeleton");
    assert_eq!(pod["insertTextFormat"], 1);
    assert_eq!(
        pod["textEdit"]["newText"],
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: name\nspec:\n  containers:\n    - name: \n"
    );
    s.shutdown();
}

#[test]
fn hover_on_a_field_and_on_kind() {
    let mut s = start(true);
    let field = s.hover_at_cursor(
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        imagePullPo$0licy: Always\n",
    );
    assert_eq!(field["contents"]["kind"], "markdown");
    assert_eq!(
        field["range"],
        json!({"start": {"line": 7, "character": 8}, "end": {"line": 7, "character": 23}})
    );
    insta::assert_snapshot!(
        "hover_image_pull_policy",
        field["contents"]["value"].as_str().unwrap()
    );
    let kind = s.hover_at_cursor("apiVersion: apps/v1\nkind: Deploy$0ment\n");
    insta::assert_snapshot!("hover_kind", kind["contents"]["value"].as_str().unwrap());
    // Nothing to say on a comment.
    assert_eq!(
        s.hover_at_cursor("apiVersion: v1\n# a comm$0ent\nkind: Pod\n"),
        Value::Null
    );
    s.shutdown();
}

#[test]
fn list_items_complete_and_hover_by_their_own_kind() {
    let mut s = start(true);
    // `kubectl get -o yaml` output: a v1 List whose items are whole objects.
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata:\n    name: web\n  spec:\n    type: ClusterIP\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web\n  spec:\n    $0\n    replicas: 2\n";
    let items = complete(&mut s, list);
    let found = labels(&items);
    assert_eq!(found[..2], ["selector", "template"], "{found:?}");
    assert!(!found.contains(&"replicas"), "present keys are left out");
    assert!(!found.contains(&"clusterIP"), "the other item's kind");
    let strategy = find(&items, "strategy");
    assert_eq!(
        strategy["textEdit"],
        json!({"range": {"start": {"line": 14, "character": 4}, "end": {"line": 14, "character": 4}}, "newText": "strategy:\n      $0"})
    );
    // Hover on the item's field and on its kind.
    let field = s.hover_at_cursor(
        &list
            .replace("$0", "")
            .replace("replicas: 2", "repli$0cas: 2"),
    );
    assert_eq!(
        field["range"],
        json!({"start": {"line": 15, "character": 4}, "end": {"line": 15, "character": 12}})
    );
    let markdown = field["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with("**replicas** `integer (int32)` · optional"),
        "{markdown}"
    );
    assert!(
        markdown.contains("`spec.replicas` of apps/v1 Deployment"),
        "{markdown}"
    );
    let kind = s.hover_at_cursor(
        &list
            .replace("$0", "")
            .replace("kind: Service", "kind: Serv$0ice"),
    );
    let markdown = kind["contents"]["value"].as_str().unwrap();
    assert!(
        markdown.starts_with("**Service** `v1` · resource `services`"),
        "{markdown}"
    );
    s.shutdown();
}

#[test]
fn completion_answers_while_a_big_file_is_validated() {
    let path = corpus::path(ARGOCD);
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipped: {} not found", path.display());
        return;
    };
    let mut s = start(true);
    // Right after opening, before its schema validation has published: a CRD's schema keys.
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("openAPIV3Schema:"))
        .unwrap();
    let indent = text.lines().nth(line).unwrap().find('o').unwrap();
    let uri = uri("argocd-install.yaml");
    s.open(&uri, &text);
    let list = s.completion(&uri, json!({"line": line, "character": indent}));
    let items = list["items"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["label"] == "openAPIV3Schema"),
        "{:?}",
        labels(items)
    );
    // Deep in a CRD schema (through `properties` maps): JSONSchemaProps keys, without those
    // already there (the cursor is on `description`, which is offered: it is the key typed).
    let deep = text
        .lines()
        .position(|l| l.trim() == "sourceHydrator:")
        .map(|l| l + 1)
        .unwrap();
    let line = text.lines().nth(deep).unwrap();
    let indent = line.len() - line.trim_start().len();
    let list = s.completion(&uri, json!({"line": deep, "character": indent}));
    let found = labels(list["items"].as_array().unwrap());
    assert!(found.contains(&"x-kubernetes-validations"), "{found:?}");
    for present in ["properties", "required", "type"] {
        assert!(
            !found.contains(&present),
            "{present} is there already: {found:?}"
        );
    }
    s.diagnostics(&uri, 1);
    s.shutdown();
}
