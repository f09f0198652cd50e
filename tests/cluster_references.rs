//! References whose targets are objects of the real test cluster (kube-apiserver + etcd): every
//! reference kind resolves there (hover says "in the cluster, context admin, namespace N",
//! completion offers the cluster's names marked as such, no diagnostic), a missing one is a
//! warning naming the context, a selector finds the cluster's Pods; lists forbidden to the user
//! are information; and a slow or cut cluster (`TcpProxy`) never holds up an answer.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::cluster::{TcpProxy, TestCluster, objects_only_settings, unique_name};
use common::fixture::{Encoding, position};
use common::server::{TestServer, WAIT, codes, with_code};
use kube_lsp::workspace::document::read_documents;
use kube_lsp::workspace::references::{Part, Ref, SPECS};
use serde_json::{Value, json};

fn shop(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/references/shop")
        .join(relative);
    std::fs::read_to_string(path).unwrap()
}

/// The documents of `text` whose kind is one of `kinds`.
fn only(text: &str, kinds: &[&str]) -> String {
    text.split("---\n")
        .filter(|d| {
            kinds
                .iter()
                .any(|k| d.lines().any(|l| l == format!("kind: {k}")))
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// Cluster-scoped names made unique to this run (the cluster is shared by every test).
struct Names {
    suffix: String,
}

impl Names {
    fn apply(&self, text: &str) -> String {
        let mut text = text.to_string();
        for name in ["high", "gvisor", "fast", "nginx", "reader"] {
            for (before, after) in [
                (format!(": {name}\n"), format!(": {name}-{}\n", self.suffix)),
                (
                    format!("name: {name}}}"),
                    format!("name: {name}-{}}}", self.suffix),
                ),
            ] {
                text = text.replace(&before, &after);
            }
        }
        text
    }
}

/// What the cluster holds: every target of the shop's references.
fn targets(names: &Names) -> String {
    let services = only(&shop("app/network.yaml"), &["Service"])
        + "---\n"
        + &only(&shop("app/db.yaml"), &["Service"]);
    let objects = [
        shop("app/config.yaml"),
        services,
        only(&shop("app/rbac.yaml"), &["Role"]),
        shop("cluster/classes.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop-live}\nspec:\n  selector: {matchLabels: {app: live}}\n  template:\n    metadata: {labels: {app: live}}\n    spec: {containers: [{name: c, image: nginx}]}\n".to_string(),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shop-pod\n  labels: {app: shop, tier: front}\nspec: {containers: [{name: c, image: nginx}]}\n".to_string(),
    ];
    names.apply(&objects.join("---\n"))
}

/// The referring documents, each opened alone (nothing they point at is in the workspace).
fn referrers(names: &Names, namespace: &str) -> Vec<(&'static str, String)> {
    let network = only(
        &shop("app/network.yaml"),
        &[
            "Ingress",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "NetworkPolicy",
        ],
    )
    .replace(
        "    name: shop\n  maxReplicas",
        "    name: shop-live\n  maxReplicas",
    );
    let db = only(&shop("app/db.yaml"), &["StatefulSet", "PersistentVolume"]);
    let config = only(
        &shop("app/config.yaml"),
        &["PersistentVolumeClaim", "ServiceAccount"],
    )
    .replace("name: data,", "name: data-extra,")
    .replace("name: shop-sa,", "name: robot,");
    let rbac = only(
        &shop("app/rbac.yaml"),
        &["RoleBinding", "ClusterRoleBinding"],
    );
    let own = |text: String| {
        names
            .apply(&text)
            .replace("namespace: shop", &format!("namespace: {namespace}"))
    };
    vec![
        ("deployment.yaml", own(shop("app/deployment.yaml"))),
        ("network.yaml", own(network)),
        ("db.yaml", own(format!("{db}---\n{config}"))),
        ("rbac.yaml", own(rbac)),
    ]
}

/// A namespace of the test cluster named after `prefix`, holding every target (named with a
/// suffix made from `tag`).
fn targets_in(
    cluster: &TestCluster,
    runtime: &tokio::runtime::Runtime,
    prefix: &str,
    tag: &str,
) -> (String, Names) {
    let namespace = runtime.block_on(cluster.create_namespace(prefix));
    let names = Names {
        suffix: unique_name(tag),
    };
    runtime.block_on(cluster.apply_fixture(&namespace, &targets(&names)));
    (namespace, names)
}

fn start(
    kubeconfig: &Path,
    namespace: &str,
    context: Option<&str>,
    timeout_ms: u64,
    folder: &Path,
) -> TestServer {
    // The rules about other objects are off: where one reports (a missing ServiceAccount, a
    // Service selecting nothing), the reference finding at the same place is left out, and these
    // tests are about the references' own (tests/cluster_rules.rs has the rules').
    let mut options = objects_only_settings(kubeconfig, namespace, context);
    options["requestTimeoutMs"] = json!(timeout_ms);
    options["rules"] = json!({"disable": ["references"]});
    TestServer::builder()
        .workspace_folder(folder)
        .label_details_support()
        .markdown_hover()
        .initialization_options(json!({"kube-lsp": options}))
        .start()
}

fn at(text: &str, offset: usize) -> Value {
    position(text, offset, Encoding::Utf16)
}

fn request(server: &mut TestServer, method: &str, uri: &str, position: Value) -> Value {
    let mut params = json!({"textDocument": {"uri": uri}, "position": position});
    if method == "textDocument/references" {
        params["context"] = json!({"includeDeclaration": false});
    }
    server.request(method, params)
}

/// Asks until `wanted`.
fn until(
    server: &mut TestServer,
    method: &str,
    uri: &str,
    position: Value,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let answer = request(server, method, uri, position.clone());
        if wanted(&answer) {
            return answer;
        }
        assert!(
            started.elapsed() < WAIT,
            "{method} at {position} never gave what was awaited: {answer}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn markdown(hover: &Value) -> String {
    hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn name_refs(text: &str) -> Vec<Ref> {
    read_documents(&std::sync::Arc::new(text.to_string()))
        .into_iter()
        .flat_map(|d| d.refs)
        .filter(|r| r.part == Part::Name)
        .collect()
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_references_every_kind_resolves_in_the_cluster() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (namespace, names) = targets_in(&cluster, &runtime, "refs", "c");
    let folder = tempfile::tempdir().unwrap();
    let mut server = start(
        &cluster.kubeconfig_path,
        &namespace,
        None,
        5000,
        folder.path(),
    );

    let mut covered = BTreeSet::new();
    for (name, text) in referrers(&names, &namespace) {
        let uri = format!("file:///work/{name}");
        server.open(&uri, &text);
        server.diagnostics(&uri, 1);
        let refs = name_refs(&text);
        for reference in &refs {
            covered.insert(reference.spec);
            let target = reference.target();
            let place = at(&text, reference.range.start);
            // Hover: in the cluster (once its list is fetched), not in the workspace.
            let expected = match target.namespaced {
                true => format!("- in the cluster, context `admin`, namespace `{namespace}`"),
                false => "- in the cluster, context `admin`\n".to_string(),
            };
            let hover = until(
                &mut server,
                "textDocument/hover",
                &uri,
                place.clone(),
                |h| markdown(h).contains(&expected),
            );
            assert!(
                markdown(&hover).contains("- not in the workspace"),
                "{}",
                markdown(&hover)
            );
            // Definition: nothing in a file. References: this one.
            assert_eq!(
                request(&mut server, "textDocument/definition", &uri, place.clone()),
                Value::Null
            );
            let found = request(&mut server, "textDocument/references", &uri, place.clone());
            assert!(
                found
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["range"]["start"] == place),
                "{found}"
            );
            // Completion with the value erased, in a document of its own: the cluster's name.
            let erased = format!(
                "{}{}",
                &text[..reference.range.start],
                &text[reference.range.end..]
            );
            let scratch = format!("file:///work/scratch-{}-{}", reference.spec, name);
            server.open(&scratch, &erased);
            let items = until(
                &mut server,
                "textDocument/completion",
                &scratch,
                place.clone(),
                |items| {
                    items["items"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|i| i["label"] == *reference.value)
                },
            );
            let item = items["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["label"] == *reference.value)
                .unwrap();
            assert_eq!(item["labelDetails"]["description"], "cluster", "{item}");
            assert!(
                item["detail"]
                    .as_str()
                    .unwrap()
                    .contains("in the cluster, context admin"),
                "{item}"
            );
            server.close(&scratch);
        }
        // Diagnostics: none while every target is in the cluster; one warning for a name that
        // is nowhere, naming the context.
        let first = &refs[0];
        let broken = format!(
            "{}nope-{}",
            &text[..first.range.start],
            &text[first.range.start..]
        );
        server.change(&uri, 2, json!([{"text": broken}]));
        let published = server.wait_for_code(&uri, Some(2), "reference-missing");
        let reference_codes: Vec<String> = codes(&published)
            .into_iter()
            .filter(|c| c.starts_with("reference-"))
            .collect();
        assert_eq!(reference_codes, ["reference-missing"], "{published}");
        let diagnostic = with_code(&published, "reference-missing")[0];
        assert_eq!(diagnostic["severity"], 2);
        let message = diagnostic["message"].as_str().unwrap();
        assert!(
            message.contains("not in the workspace, nor in the cluster (context admin)"),
            "{message}"
        );
        server.close(&uri);
    }
    let all: BTreeSet<u16> = (0..SPECS.len() as u16).collect();
    assert_eq!(
        covered, all,
        "every reference kind was checked against the cluster"
    );
    server.shutdown();
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_references_selectors_and_unserved_kinds() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (namespace, _) = targets_in(&cluster, &runtime, "refs-sel", "s");
    let folder = tempfile::tempdir().unwrap();
    let mut server = start(
        &cluster.kubeconfig_path,
        &namespace,
        None,
        5000,
        folder.path(),
    );
    // A Service selecting the cluster's Pod, one selecting nothing, and an HPA of a kind the
    // cluster does not serve.
    let text = "apiVersion: v1\nkind: Service\nmetadata: {name: front}\nspec:\n  selector:\n    app: shop\n  ports: [{port: 80}]\n---\napiVersion: v1\nkind: Service\nmetadata: {name: lost}\nspec:\n  selector:\n    app: nobody\n  ports: [{port: 80}]\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: roll}\nspec:\n  scaleTargetRef:\n    apiVersion: argoproj.io/v1alpha1\n    kind: Rollout\n    name: canary\n  maxReplicas: 2\n";
    let uri = "file:///work/selectors.yaml";
    server.open(uri, text);
    let published = server.wait_for_publication(uri, |p| {
        codes(p)
            .iter()
            .filter(|c| c.starts_with("reference-"))
            .count()
            == 2
    });
    let messages: Vec<(&str, &str)> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"].as_str().unwrap().starts_with("reference-"))
        .map(|d| (d["code"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        messages,
        [
            ("reference-no-match", format!("selects nothing in namespace `{namespace}`: no workload of the workspace has these Pod labels, nor any Pod of the cluster (context admin)").as_str()),
            ("reference-missing", format!("Rollout `canary` in namespace `{namespace}` not found: not in the workspace, and the cluster (context admin) does not serve kind Rollout (argoproj.io/v1alpha1)").as_str()),
        ]
    );
    let hover = request(
        &mut server,
        "textDocument/hover",
        uri,
        at(text, text.find("selector").unwrap()),
    );
    assert!(
        markdown(&hover).contains("- matches Pods in the cluster (context `admin`)"),
        "{}",
        markdown(&hover)
    );
    server.shutdown();
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_references_forbidden_lists_are_information() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The restricted user reads only kube-lsp-restricted: another namespace's lists are refused.
    let namespace = runtime.block_on(cluster.create_namespace("refs-forbidden"));
    let folder = tempfile::tempdir().unwrap();
    let mut server = start(
        &cluster.kubeconfig_path,
        &namespace,
        Some("restricted"),
        5000,
        folder.path(),
    );
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: robot\n  containers: [{name: c, image: nginx}]\n";
    let uri = "file:///work/forbidden.yaml";
    server.open(uri, text);
    let published = server.wait_for_code(uri, None, "reference-missing");
    let diagnostic = with_code(&published, "reference-missing")[0].clone();
    assert_eq!(diagnostic["severity"], 3, "{diagnostic}");
    let message = diagnostic["message"].as_str().unwrap();
    assert!(
        message.contains("the cluster (context restricted) could not be asked")
            && message.contains("403"),
        "{message}"
    );
    // Where it may list, an empty namespace: a warning.
    let readable = text.replace("name: p}", "name: p, namespace: kube-lsp-restricted}");
    server.change(uri, 2, json!([{"text": readable}]));
    let published = server.wait_for_code(uri, Some(2), "reference-missing");
    let diagnostic = with_code(&published, "reference-missing")[0].clone();
    assert_eq!(diagnostic["severity"], 2, "{diagnostic}");
    server.shutdown();
}

#[test]
#[ignore = "needs the testenv: run scripts/test"]
fn cluster_references_slow_or_cut_cluster_blocks_nothing() {
    let cluster = TestCluster::from_env();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(TcpProxy::start(cluster.server_address()));
    let kubeconfig = proxy.kubeconfig(&cluster);
    let (namespace, names) = targets_in(&cluster, &runtime, "refs-slow", "f");
    let (_folder, root) = {
        let folder = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(folder.path()).unwrap();
        (folder, root)
    };
    // A ConfigMap of the workspace beside the Deployment: the workspace's answers.
    std::fs::write(
        root.join("config.yaml"),
        shop("app/config.yaml")
            .replace("namespace: shop", &format!("namespace: {namespace}"))
            .replace("name: app-config\n", "name: local-config\n"),
    )
    .unwrap();
    let mut server = start(kubeconfig.path(), &namespace, None, 1500, &root);

    // Every answer of the apiserver takes longer than the request timeout.
    proxy.set_delay(Duration::from_millis(3000));
    let text = names
        .apply(&shop("app/deployment.yaml"))
        .replace("name: app-config\n", "name: local-config\n");
    let uri = common::lsp_client::file_uri(&root.join("deployment.yaml"));
    server.open(&uri, &text);
    server.diagnostics(&uri, 1);
    let local = at(&text, text.find("local-config").unwrap());
    let started = Instant::now();
    let definition = until(
        &mut server,
        "textDocument/definition",
        &uri,
        local.clone(),
        |d| d.is_array(),
    );
    assert!(
        definition[0]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/config.yaml")
    );
    let requests = [
        ("textDocument/hover", at(&text, text.find("db\n").unwrap())),
        (
            "textDocument/completion",
            at(&text, text.find("env-cm").unwrap()),
        ),
        ("textDocument/definition", local.clone()),
        ("textDocument/codeLens", local),
    ];
    for (method, position) in requests {
        let asked = Instant::now();
        let answer = request(&mut server, method, &uri, position);
        assert!(
            asked.elapsed() < Duration::from_secs(1),
            "{method}: {:?}",
            asked.elapsed()
        );
        if method == "textDocument/completion" {
            let labels: Vec<&Value> = answer["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| &i["label"])
                .collect();
            assert!(
                labels.contains(&&json!("local-config")),
                "the workspace's names at once: {labels:?}"
            );
        }
    }
    // The lists time out: what is not in the workspace is information, naming why.
    let published = server.wait_for_code(&uri, None, "reference-missing");
    for d in with_code(&published, "reference-missing") {
        assert_eq!(d["severity"], 3, "{d}");
        assert!(
            d["message"]
                .as_str()
                .unwrap()
                .contains("the cluster (context admin) could not be asked"),
            "{d}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(30));

    // Fast again: the lists are fetched again by themselves, and the information goes.
    proxy.set_delay(Duration::ZERO);
    server.wait_for_publication(&uri, |p| {
        !codes(p).iter().any(|c| c.starts_with("reference-"))
    });
    // A list being fetched again also says nothing: wait until every list has arrived.
    for reference in name_refs(&text) {
        let position = at(&text, reference.range.start);
        until(&mut server, "textDocument/hover", &uri, position, |hover| {
            let markdown = markdown(hover);
            !markdown.contains("being asked") && !markdown.contains("could not be asked")
        });
    }
    // Cut: lists already fetched still answer (no warning comes back after an edit).
    proxy.cut();
    let edited = text.replacen("image: shop:1", "image: shop:2", 1);
    server.change(&uri, 2, json!([{"text": edited}]));
    let published = server.diagnostics(&uri, 2);
    assert!(
        !published
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"].as_str().unwrap().starts_with("reference-")),
        "{published}"
    );
    let hover = request(
        &mut server,
        "textDocument/hover",
        &uri,
        at(&edited, edited.find("env-cm").unwrap()),
    );
    assert!(
        markdown(&hover).contains("- in the cluster, context `admin`"),
        "{}",
        markdown(&hover)
    );
    proxy.restore();
    server.shutdown();
}
