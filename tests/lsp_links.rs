//! End-to-end: document links to the web: the http(s) URLs of comments and scalar values, over
//! stdio with the built binary; and beside a kustomization's path links.

mod common;

use common::server::{TestServer, uri};
use serde_json::{Value, json};

fn links(server: &mut TestServer, uri: &str) -> Vec<(String, u64, u64, u64)> {
    let found = server.request(
        "textDocument/documentLink",
        json!({"textDocument": {"uri": uri}}),
    );
    let found: &Vec<Value> = found.as_array().unwrap();
    found
        .iter()
        .map(|l| {
            let range = &l["range"];
            (
                l["target"].as_str().unwrap().to_string(),
                range["start"]["line"].as_u64().unwrap(),
                range["start"]["character"].as_u64().unwrap(),
                range["end"]["character"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn urls_in_comments_and_values_are_links() {
    let mut server = TestServer::start();
    let uri = uri("links.yaml");
    let text = "# Docs: https://kubernetes.io/docs/concepts/services-networking/service/.
apiVersion: v1
kind: Service
metadata:
  name: s
  annotations:
    link.argocd.argoproj.io/external-link: \"http://example.com/dash?x=1\"
    description: |
      Runbook at https://wiki.example.org/runbooks/s (team only).
    mirror: ftp://example.com/not-a-web-link
spec:
  ports: [{port: 80}]
";
    server.open_and_wait(&uri, text);
    assert_eq!(
        links(&mut server, &uri),
        [
            (
                "https://kubernetes.io/docs/concepts/services-networking/service/".to_string(),
                0,
                8,
                72
            ),
            ("http://example.com/dash?x=1".to_string(), 6, 44, 71),
            ("https://wiki.example.org/runbooks/s".to_string(), 8, 17, 52),
        ]
    );
    // A document without URLs has none.
    let plain = common::server::uri("plain.yaml");
    server.open_and_wait(
        &plain,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    );
    assert!(links(&mut server, &plain).is_empty());
    server.shutdown();
}

#[test]
fn a_kustomization_has_its_path_links_and_its_urls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
    )
    .unwrap();
    let path = dir.path().join("kustomization.yaml");
    let text = "resources:\n- service.yaml\n- https://github.com/example/repo//deploy?ref=v1.2.3\n";
    std::fs::write(&path, text).unwrap();
    let mut server = TestServer::builder().workspace_folder(dir.path()).start();
    let uri = format!("file://{}", path.display());
    server.open_and_wait(&uri, text);
    let found = links(&mut server, &uri);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].0.ends_with("/service.yaml"), "{found:?}");
    assert_eq!(
        found[1],
        (
            "https://github.com/example/repo//deploy?ref=v1.2.3".to_string(),
            2,
            2,
            52
        )
    );
    server.shutdown();
}
