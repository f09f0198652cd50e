//! The cluster's own schema against the real test control plane: aggregated and per-group-version
//! discovery agree, OpenAPI v3 documents are fetched once per hash and cached on disk, a CRD
//! installed live validates after `kube-lsp.refreshCluster`, and a restarted server starts from
//! the disk cache.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::cluster::{ADMIN_CONTEXT, TcpProxy, TestCluster, get_text, unique_name};
use common::server::TestServer;
use kube_lsp::cluster::ClusterSettings;
use kube_lsp::cluster::cache::DiskCache;
use kube_lsp::cluster::connection::Connection;
use kube_lsp::cluster::discovery;
use kube_lsp::cluster::live_schema::LiveSchema;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

async fn connect(cluster: &TestCluster) -> Connection {
    let settings = ClusterSettings {
        kubeconfig: Some(cluster.kubeconfig_path.to_string_lossy().into_owned()),
        context: Some(ADMIN_CONTEXT.to_string()),
        namespace: None,
        request_timeout: Duration::from_secs(10),
    };
    Connection::connect(&settings).await.expect("connect")
}

/// A namespaced CRD `Widget` in `group` (v1) with `spec.size` (integer) and `spec.color` (enum).
fn widget_crd(group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: widgets, singular: widget, kind: Widget, shortNames: [wdg]}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {{type: integer}}
              color: {{type: string, enum: [red, green]}}
"
    )
}

/// A fresh API group, so parallel and repeated runs never share a CRD.
fn fresh_group() -> String {
    format!("{}.kube-lsp.test", unique_name("widgets"))
}

/// Installs the Widget CRD and waits until the apiserver publishes its OpenAPI v3 document.
async fn install_widget_crd(cluster: &TestCluster, group: &str) {
    cluster.apply_fixture("default", &widget_crd(group)).await;
    let admin = cluster.admin().await;
    let started = Instant::now();
    let wanted = format!("\"apis/{group}/v1\"");
    while !get_text(&admin, "/openapi/v3").await.contains(&wanted) {
        assert!(
            started.elapsed() < WAIT,
            "the OpenAPI v3 of {group} did not appear"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_schema_aggregated_discovery_matches_per_group_version() {
    let cluster = TestCluster::from_env();
    let connection = connect(&cluster).await;
    let aggregated = discovery::fetch(&connection).await.expect("aggregated");
    let legacy = discovery::fetch_per_group_version(&connection)
        .await
        .expect("per group-version");
    let index = |d: &discovery::Discovery| -> BTreeSet<(String, String, String, bool)> {
        d.resources()
            .map(|r| {
                (
                    r.api_version.clone(),
                    r.kind.clone(),
                    r.plural.clone(),
                    r.namespaced,
                )
            })
            .collect()
    };
    assert!(
        index(&aggregated).len() > 60,
        "{}",
        index(&aggregated).len()
    );
    assert_eq!(index(&aggregated), index(&legacy));
    assert_eq!(aggregated.openapi_paths(), legacy.openapi_paths());
    let deployment = aggregated.resource("apps/v1", "Deployment").unwrap();
    assert_eq!(
        (deployment.plural.as_str(), deployment.namespaced),
        ("deployments", true)
    );
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_schema_documents_are_fetched_once_per_hash() {
    let cluster = TestCluster::from_env();
    let connection = connect(&cluster).await;
    let root = tempfile::tempdir().unwrap();
    let cache = DiskCache::at(root.path().to_path_buf(), &connection.server, "admin");

    // Cold: every served group-version is downloaded and written to disk.
    let cold = LiveSchema::fetch(&connection, Some(&cache), None)
        .await
        .expect("cold fetch");
    assert!(cold.openapi.len() > 20, "{:?}", cold.openapi.keys());
    assert_eq!(cold.downloaded.len(), cold.openapi.len());
    assert!(
        cold.openapi.values().all(|d| d.json.is_none()),
        "kept on disk, not in memory"
    );

    // Warm, as after a restart: nothing is downloaded again (but what other tests running
    // against the same apiserver installed meanwhile).
    let from_disk = LiveSchema::from_disk(&cache, "admin", &connection.server).expect("on disk");
    assert!(from_disk.same_as(&cold));
    let warm = LiveSchema::fetch(&connection, Some(&cache), None)
        .await
        .expect("warm fetch");
    assert_only_changes_downloaded(&cold, &warm);

    // A CRD installed live: its group-version is downloaded, and nothing that did not change.
    let group = fresh_group();
    install_widget_crd(&cluster, &group).await;
    let after = LiveSchema::fetch(&connection, Some(&cache), Some(&warm))
        .await
        .expect("fetch after the CRD");
    assert!(
        after.downloaded.contains(&format!("apis/{group}/v1")),
        "{:?}",
        after.downloaded
    );
    assert_only_changes_downloaded(&warm, &after);
    let store = after.store().expect("store");
    let widget = store.resource(&format!("{group}/v1"), "Widget").unwrap();
    assert_eq!(widget.short_names, ["wdg"]);
    let (_, schemas) = store
        .schemas_for(&format!("{group}/v1"), "Widget")
        .expect("the Widget schema from the cluster's OpenAPI");
    let spec = schemas.kind("Widget").unwrap().property("spec").unwrap();
    assert_eq!(spec.property("size").unwrap().type_label(), "integer");
    assert_eq!(store.source(), "context admin");

    // The cache holds schemas only: no credentials of the kubeconfig.
    let kubeconfig = std::fs::read_to_string(&cluster.kubeconfig_path).unwrap();
    let secrets: Vec<&str> = kubeconfig
        .lines()
        .filter_map(|l| l.trim().strip_prefix("client-key-data: "))
        .collect();
    assert!(!secrets.is_empty());
    for entry in walkdir::WalkDir::new(root.path()).into_iter().flatten() {
        if entry.file_type().is_file() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            assert!(
                secrets.iter().all(|s| !text.contains(&s[..40])),
                "{}",
                entry.path().display()
            );
        }
    }
}

/// Every document `now` downloaded is new or changed since `before`.
fn assert_only_changes_downloaded(before: &LiveSchema, now: &LiveSchema) {
    for path in &now.downloaded {
        let unchanged = before
            .openapi
            .get(path)
            .is_some_and(|old| old.hash == now.openapi[path].hash);
        assert!(!unchanged, "{path} was downloaded again with the same hash");
    }
    assert!(
        now.downloaded.len() < now.openapi.len() / 2,
        "{:?}",
        now.downloaded
    );
}

fn start(cache: &Path, options: Value) -> TestServer {
    TestServer::builder()
        .cache_dir(cache)
        .initialization_options(options)
        .start()
}

fn wait_for_schema(server: &mut TestServer, origin: &str, what: impl Fn(&Value) -> bool) -> Value {
    server.wait_for_notification("kube-lsp/clusterSchema", |p| {
        p["origin"] == origin && what(p)
    })
}

/// (line, character, code) of the schema diagnostics of a publication.
fn schema_problems(params: &Value) -> Vec<(u64, u64, String)> {
    params["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with("schema-")))
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["range"]["start"]["character"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The `label detail` of each item of a completion answer (a list or `{items}`); without
/// labelDetails support the client gets the group/version in the detail.
fn completion_labels(server: &mut TestServer, uri: &str, line: u32, character: u32) -> Vec<String> {
    let answer = server.completion(uri, json!({"line": line, "character": character}));
    let items = answer.get("items").unwrap_or(&answer);
    items
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| {
            format!(
                "{} {}",
                item["label"].as_str().unwrap_or_default(),
                item["detail"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_schema_crd_installed_live_validates_and_completes_after_refresh() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Through a proxy, so the restart below can find the cluster gone.
    let proxy = runtime.block_on(TcpProxy::start(cluster.server_address()));
    let kubeconfig = proxy.kubeconfig(&cluster);
    let cache = tempfile::tempdir().unwrap();
    let group = fresh_group();
    let settings = json!({"kube-lsp": {
        "kubeconfig": kubeconfig.path(), "dryRunContexts": ["*"],
        "context": "admin",
        "dryRun": "off",
    }});
    let mut server = start(cache.path(), settings.clone());
    wait_for_schema(&mut server, "cluster", |p| {
        p["downloaded"].as_u64() > Some(20)
    });

    // A valid Widget, one with `colour` (an unknown field), one to complete fields in, one to
    // complete the kind in.
    let text = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: good\nspec:\n  size: 3\n  color: red\n---\napiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: typo\nspec:\n  size: 3\n  colour: red\n---\napiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: new\nspec:\n  \n---\napiVersion: {group}/v1\nkind: \n"
    );
    let (spec_line, kind_line) = (21, 24);
    let uri = "file:///work/widgets.yaml";
    server.open(uri, &text);
    let before = server.wait_for_publication(uri, |p| !schema_problems(p).is_empty());
    assert!(
        schema_problems(&before)
            .iter()
            .filter(|(line, _, _)| *line < 16)
            .all(|(_, _, code)| code == "schema-unknown-kind"),
        "{before}"
    );
    assert!(before.to_string().contains("context admin"), "{before}");
    // Other tests' Widgets may be there; this group's is not yet.
    let ours = |item: &String| item.starts_with("Widget ") && item.contains(&group);
    let kinds = completion_labels(&mut server, uri, kind_line, 6);
    assert!(!kinds.iter().any(ours), "{kinds:?}");

    runtime.block_on(install_widget_crd(&cluster, &group));
    server.discard_notifications();
    server.execute_command("kube-lsp.refreshCluster", json!([]));
    wait_for_schema(&mut server, "cluster", |p| {
        p["downloaded"].as_u64() >= Some(1)
    });
    let unknown_field = |p: &Value| {
        schema_problems(p)
            .iter()
            .any(|(_, _, code)| code == "schema-unknown-field")
    };
    let after = server.wait_for_publication(uri, unknown_field);
    let typo = schema_problems(&after)
        .into_iter()
        .filter(|(line, _, _)| *line < 16)
        .collect::<Vec<_>>();
    assert_eq!(
        typo,
        [(14, 2, "schema-unknown-field".to_string())],
        "{after}"
    );
    // The kind completes from the cluster's discovery, its fields from its OpenAPI.
    let kinds = completion_labels(&mut server, uri, kind_line, 6);
    assert!(kinds.iter().any(ours), "{kinds:?}");
    let fields = completion_labels(&mut server, uri, spec_line, 2);
    let has =
        |fields: &[String], name: &str| fields.iter().any(|f| f.split(' ').next() == Some(name));
    assert!(has(&fields, "size") && has(&fields, "color"), "{fields:?}");
    server.shutdown();

    // Restarted while the cluster is away: validation and completion answer from the disk cache.
    proxy.cut();
    let mut server = start(cache.path(), settings);
    wait_for_schema(&mut server, "disk", |_| true);
    server.open(uri, &text);
    let warm = server.wait_for_publication(uri, unknown_field);
    assert!(
        schema_problems(&warm).contains(&(14, 2, "schema-unknown-field".to_string())),
        "{warm}"
    );
    let fields = completion_labels(&mut server, uri, spec_line, 2);
    assert!(has(&fields, "size") && has(&fields, "color"), "{fields:?}");
    server.wait_for_notification("kube-lsp/status", |p| p["reachable"] == false);
    server.shutdown();
}
