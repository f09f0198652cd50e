//! What document content can make kube-lsp do (docs/security.md): nothing on the network. A
//! document naming a remote `$schema`, a CRD whose schema has remote `$ref`s and a
//! kustomization with remote resources, opened and scanned as workspace files, while the
//! server's file descriptors are watched: it never opens a socket. (Without a kubeconfig: with
//! one, reading the cluster's discovery connects by design, to the cluster only.)

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::server::TestServer;

const REMOTE_SCHEMA: &str = "# yaml-language-server: $schema=https://example.com/schema.json\n$schema: https://example.com/schema.json\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n";

const REMOTE_REF_CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            $ref: https://example.com/widget.json#/spec\n";

const REMOTE_KUSTOMIZATION: &str = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- https://github.com/kubernetes-sigs/kustomize//examples/helloWorld?ref=v3.3.1\n- github.com/example/repo/deploy?ref=main\n";

/// The sockets the process has open now (`socket:[inode]`).
fn sockets(pid: u32) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .filter(|target| target.starts_with("socket:"))
        .collect()
}

/// Watches the sockets `pid` opens beyond those it has now until the returned stop is called;
/// the stop gives how many new ones were seen at most at once.
fn watch_sockets(pid: u32) -> impl FnOnce() -> usize {
    // The runtime's own signal socket pair is there from the start; anything new is not.
    let baseline = sockets(pid);
    let (seen, stop) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicBool::new(false)),
    );
    let watcher = {
        let (seen, stop) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut polls = 0;
            while !stop.load(Ordering::SeqCst) {
                let new = sockets(pid)
                    .into_iter()
                    .filter(|s| !baseline.contains(s))
                    .count();
                seen.fetch_max(new, Ordering::SeqCst);
                polls += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
            polls
        })
    };
    move || {
        stop.store(true, Ordering::SeqCst);
        let polls = watcher.join().unwrap();
        assert!(polls > 100, "the watcher looked {polls} times");
        seen.load(Ordering::SeqCst)
    }
}

/// The watcher sees a connection: with a kubeconfig naming a server that accepts and never
/// answers, reading the cluster's discovery (on by default) holds a socket open.
#[test]
fn the_socket_watcher_sees_a_connection() {
    let home = tempfile::tempdir().unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let kubeconfig = home.path().join("config");
    std::fs::write(&kubeconfig, format!("apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters:\n- name: x\n  cluster: {{server: \"https://127.0.0.1:{port}\", insecure-skip-tls-verify: true}}\ncontexts:\n- name: x\n  context: {{cluster: x, user: u}}\nusers:\n- name: u\n  user: {{token: t}}\n")).unwrap();
    let mut server = TestServer::builder()
        .env("HOME", home.path())
        .env("KUBECONFIG", &kubeconfig)
        .start();
    let stop = watch_sockets(server.client().pid());
    server.open_and_wait(
        "file:///work/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n",
    );
    let _held = listener.accept().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(stop() > 0, "the connection to the test server was not seen");
    drop(server.into_client());
}

#[test]
fn document_content_never_makes_kube_lsp_connect_anywhere() {
    let home = tempfile::tempdir().unwrap();
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("schema.yaml"), REMOTE_SCHEMA).unwrap();
    std::fs::write(workspace.path().join("crd.yaml"), REMOTE_REF_CRD).unwrap();
    std::fs::write(
        workspace.path().join("kustomization.yaml"),
        REMOTE_KUSTOMIZATION,
    )
    .unwrap();
    let mut server = TestServer::builder()
        .env("HOME", home.path())
        .env("KUBECONFIG", home.path().join("none"))
        .workspace_folder(workspace.path())
        .watch_files()
        .start();
    let stop = watch_sockets(server.client().pid());
    for (name, text) in [
        ("schema.yaml", REMOTE_SCHEMA),
        ("crd.yaml", REMOTE_REF_CRD),
        ("kustomization.yaml", REMOTE_KUSTOMIZATION),
    ] {
        let uri = common::lsp_client::file_uri(&workspace.path().join(name));
        server.open_and_wait(&uri, text);
        server.document_symbols(&uri);
        let widget =
            "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  x: 1\n";
        server.open_and_wait(&format!("{uri}.widget.yaml"), widget);
        server.completion(&uri, serde_json::json!({"line": 2, "character": 0}));
        server.hover(&uri, serde_json::json!({"line": 3, "character": 1}));
    }
    // Files changed on disk are read again too.
    server.notify(
        "workspace/didChangeWatchedFiles",
        serde_json::json!({"changes": [{"uri": common::lsp_client::file_uri(&workspace.path().join("crd.yaml")), "type": 2}]}),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(stop(), 0, "kube-lsp opened a socket");
    server.shutdown();
}
