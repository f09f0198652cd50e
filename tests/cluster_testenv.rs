//! Tests against the real test control plane (etcd + kube-apiserver from
//! `tests/testenv/`). They are `#[ignore]`d so that a plain `cargo test`
//! does not need it; `scripts/test` starts the testenv, sets
//! `KUBE_LSP_TEST_KUBECONFIG` and runs them with `--include-ignored`.
//! Every test here is named `cluster_*`.

mod common;

use common::cluster::{RESTRICTED_NAMESPACE, TestCluster, get_text, parse_yaml_documents};
use common::corpus;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod, Service};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};

fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_lists_namespaces() {
    let cluster = TestCluster::from_env();
    let namespaces: Api<Namespace> = Api::all(cluster.admin().await);
    let list = namespaces
        .list(&ListParams::default())
        .await
        .expect("list namespaces");
    let names: Vec<String> = list
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    for expected in ["default", "kube-system", RESTRICTED_NAMESPACE] {
        assert!(
            names.iter().any(|n| n == expected),
            "namespace {expected} missing from {names:?}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_dry_run_pod_create_creates_nothing() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("dry-run").await;
    let pods: Api<Pod> = Api::namespaced(cluster.admin().await, &ns);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "dry-run-pod" },
        "spec": { "containers": [{ "name": "nginx", "image": "nginx:latest" }] }
    }))
    .unwrap();
    let params = PostParams {
        dry_run: true,
        ..Default::default()
    };
    let created = pods.create(&params, &pod).await.expect("dry-run create");
    assert_eq!(created.metadata.name.as_deref(), Some("dry-run-pod"));
    assert_eq!(created.metadata.namespace.as_deref(), Some(ns.as_str()));
    // The server defaulted the object (so it really went through admission)...
    let spec = created.spec.expect("spec");
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    // ...but did not store it.
    let err = pods
        .get("dry-run-pod")
        .await
        .expect_err("dry-run must not create the pod");
    assert_eq!(
        status_code(&err),
        Some(404),
        "expected 404 after dry run, got {err:?}"
    );
    let list = pods.list(&ListParams::default()).await.expect("list pods");
    assert!(
        list.items.is_empty(),
        "dry run left pods behind: {:?}",
        list.items
    );
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_reads_openapi_v3_index() {
    let cluster = TestCluster::from_env();
    let client = cluster.admin().await;
    let text = get_text(&client, "/openapi/v3").await;
    let index: serde_json::Value = serde_json::from_str(&text).expect("index is JSON");
    let paths = index["paths"].as_object().expect("index has paths");
    for expected in [
        "api/v1",
        "apis/apps/v1",
        "apis/batch/v1",
        "apis/rbac.authorization.k8s.io/v1",
    ] {
        let entry = paths
            .get(expected)
            .unwrap_or_else(|| panic!("{expected} missing from /openapi/v3"));
        let url = entry["serverRelativeURL"]
            .as_str()
            .expect("serverRelativeURL");
        assert!(
            url.starts_with(&format!("/openapi/v3/{expected}?hash=")),
            "{url}"
        );
    }
    // And one group-version document has the schemas we expect.
    let url = paths["apis/apps/v1"]["serverRelativeURL"].as_str().unwrap();
    let doc: serde_json::Value = serde_json::from_str(&get_text(&client, url).await).unwrap();
    assert!(doc["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"].is_object());
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_restricted_user_can_list_but_not_create() {
    let cluster = TestCluster::from_env();
    let client = cluster.restricted().await;
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), RESTRICTED_NAMESPACE);
    config_maps
        .list(&ListParams::default())
        .await
        .expect("restricted user may list in its namespace");
    let pods: Api<Pod> = Api::namespaced(client.clone(), RESTRICTED_NAMESPACE);
    pods.list(&ListParams::default())
        .await
        .expect("restricted user may list pods in its namespace");

    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some("forbidden".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = config_maps
        .create(&PostParams::default(), &cm)
        .await
        .expect_err("restricted user must not create");
    assert_eq!(
        status_code(&err),
        Some(403),
        "expected 403 Forbidden, got {err:?}"
    );
    // Not even a dry run.
    let err = config_maps
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &cm,
        )
        .await
        .expect_err("restricted user must not create (dry run)");
    assert_eq!(
        status_code(&err),
        Some(403),
        "expected 403 Forbidden, got {err:?}"
    );
    // Nothing outside its namespace.
    let default_cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let err = default_cms
        .list(&ListParams::default())
        .await
        .expect_err("no access to default");
    assert_eq!(
        status_code(&err),
        Some(403),
        "expected 403 Forbidden, got {err:?}"
    );
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_apply_fixture_service_and_read_back() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("fixture").await;
    let applied = cluster
        .apply_fixture(&ns, &corpus::read("seed/service.yaml"))
        .await;
    assert_eq!(applied.len(), 1);

    let services: Api<Service> = Api::namespaced(cluster.admin().await, &ns);
    let svc = services
        .get("my-service")
        .await
        .expect("service was created");
    let spec = svc.spec.expect("spec");
    assert_eq!(spec.type_.as_deref(), Some("ClusterIP"));
    assert_eq!(
        spec.selector.unwrap().get("app").map(String::as_str),
        Some("my-app")
    );
    let port = &spec.ports.unwrap()[0];
    assert_eq!(port.port, 80);
    assert_eq!(port.protocol.as_deref(), Some("TCP"));
    assert_eq!(
        port.target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(8080))
    );
    // The apiserver allocated a cluster IP from the testenv's service range.
    let ip = spec.cluster_ip.expect("clusterIP");
    assert!(ip.starts_with("10.0.0."), "clusterIP {ip}");
}

#[tokio::test]
#[ignore = "needs the testenv: run scripts/test"]
async fn cluster_apply_fixture_multi_document() {
    let cluster = TestCluster::from_env();
    let ns = cluster.create_namespace("multi-doc").await;
    let manifest = "\
# a comment before the first document
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ignored-and-overridden
data:
  replicas: \"3\"
  shared: &shared some-value
  copy: *shared
---
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
rules:
  - apiGroups: [\"\"]
    resources: [pods]
    verbs: [get, list]
";
    let docs = parse_yaml_documents(manifest).expect("parse");
    assert_eq!(docs.len(), 3, "{docs:?}");
    assert!(docs[1].is_null());
    let applied = cluster.apply_fixture(&ns, manifest).await;
    assert_eq!(applied.len(), 2);

    let cms: Api<ConfigMap> = Api::namespaced(cluster.admin().await, &ns);
    let data = cms.get("settings").await.expect("configmap").data.unwrap();
    assert_eq!(data["replicas"], "3");
    assert_eq!(data["copy"], "some-value");
    let roles: Api<k8s_openapi::api::rbac::v1::Role> = Api::namespaced(cluster.admin().await, &ns);
    let role = roles.get("reader").await.expect("role");
    assert_eq!(role.rules.unwrap()[0].verbs, vec!["get", "list"]);
}
