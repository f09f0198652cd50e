//! Helpers for tests that talk to the real test control plane
//! (etcd + kube-apiserver, see `tests/testenv/` and `docs/testing.md`).
//!
//! The kubeconfig comes from the env var `KUBE_LSP_TEST_KUBECONFIG`, which
//! `scripts/test` sets from `tests/testenv/start`. Cluster tests never skip
//! themselves: without a usable kubeconfig [`TestCluster::from_env`] panics.
//!
//! Only kube-apiserver runs: no controller-manager, no scheduler. Namespaces
//! never finish terminating, Pods never run, there is no default
//! ServiceAccount. Tests must not depend on any of that.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DynamicObject, ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Scope};
use kube::{Client, Config};
use serde_json::Value;

/// Env var holding the path of the test cluster's kubeconfig.
pub const KUBECONFIG_ENV: &str = "KUBE_LSP_TEST_KUBECONFIG";
/// Context with a client certificate in group `system:masters` (current-context).
pub const ADMIN_CONTEXT: &str = "admin";
/// Context whose user may only get/list/watch in [`RESTRICTED_NAMESPACE`].
pub const RESTRICTED_CONTEXT: &str = "restricted";
/// The one namespace the restricted user can read.
pub const RESTRICTED_NAMESPACE: &str = "kube-lsp-restricted";
/// Field manager used for server-side apply by the test helpers.
pub const FIELD_MANAGER: &str = "kube-lsp-tests";

/// A handle on the running test control plane.
pub struct TestCluster {
    pub kubeconfig_path: PathBuf,
    kubeconfig: Kubeconfig,
}

impl TestCluster {
    /// Reads the kubeconfig named by `KUBE_LSP_TEST_KUBECONFIG`.
    ///
    /// Panics with an explanation when the variable is unset or empty, or the
    /// file cannot be read or parsed: a cluster test must fail, never skip.
    pub fn from_env() -> Self {
        let path = match std::env::var_os(KUBECONFIG_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => panic!(
                "{KUBECONFIG_ENV} is not set: cluster tests need the test control plane. \
                 Run them through scripts/test, or start it yourself: \
                 `export {KUBECONFIG_ENV}=$(tests/testenv/start)` (see docs/testing.md)"
            ),
        };
        let kubeconfig = match Kubeconfig::read_from(&path) {
            Ok(k) => k,
            Err(e) => panic!(
                "{KUBECONFIG_ENV}={}: cannot read the test cluster's kubeconfig: {e}. \
                 Is the testenv running? (`tests/testenv/start`, see docs/testing.md)",
                path.display()
            ),
        };
        TestCluster {
            kubeconfig_path: path,
            kubeconfig,
        }
    }

    /// A client for the given kubeconfig context. Panics on failure.
    pub async fn client_for(&self, context: &str) -> Client {
        let options = KubeConfigOptions {
            context: Some(context.to_string()),
            ..Default::default()
        };
        let config = Config::from_custom_kubeconfig(self.kubeconfig.clone(), &options)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "{}: context {context:?} is not usable: {e}",
                    self.kubeconfig_path.display()
                )
            });
        Client::try_from(config)
            .unwrap_or_else(|e| panic!("building a kube client for context {context:?}: {e}"))
    }

    /// A client for the `admin` context (group `system:masters`).
    pub async fn admin(&self) -> Client {
        self.client_for(ADMIN_CONTEXT).await
    }

    /// A client for the `restricted` context: get/list/watch in
    /// `kube-lsp-restricted` only, no create.
    pub async fn restricted(&self) -> Client {
        self.client_for(RESTRICTED_CONTEXT).await
    }

    /// Creates a fresh namespace `<prefix>-<unique suffix>` and returns its name.
    /// Namespaces are never deleted (nothing would finalize them anyway); the
    /// whole control plane is thrown away by `tests/testenv/stop`.
    pub async fn create_namespace(&self, prefix: &str) -> String {
        let name = unique_name(prefix);
        let namespaces: Api<Namespace> = Api::all(self.admin().await);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: Some(
                    [("kube-lsp.test/prefix".to_string(), sanitize(prefix, 63))]
                        .into_iter()
                        .collect(),
                ),
                ..Default::default()
            },
            ..Default::default()
        };
        namespaces
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("creating namespace {name}: {e}"));
        name
    }

    /// Applies (server-side apply, field manager `kube-lsp-tests`) every
    /// object of a multi-document YAML manifest, as the admin user.
    /// Namespaced objects go into `ns` (any namespace in the manifest is
    /// overridden); cluster-scoped ones are applied as they are.
    /// Returns the objects as the server stored them. Panics on failure.
    pub async fn apply_fixture(&self, ns: &str, yaml_text: &str) -> Vec<DynamicObject> {
        let client = self.admin().await;
        let docs = parse_yaml_documents(yaml_text)
            .unwrap_or_else(|e| panic!("apply_fixture: invalid YAML: {e}"));
        let mut applied = Vec::new();
        for (i, doc) in docs.into_iter().enumerate() {
            if doc.is_null() {
                continue; // empty document (e.g. a trailing `---`)
            }
            let mut obj: DynamicObject = serde_json::from_value(doc)
                .unwrap_or_else(|e| panic!("apply_fixture: document {i} is not an object: {e}"));
            let types = obj
                .types
                .clone()
                .unwrap_or_else(|| panic!("apply_fixture: document {i} has no apiVersion/kind"));
            let (group, version) = match types.api_version.split_once('/') {
                Some((g, v)) => (g.to_string(), v.to_string()),
                None => (String::new(), types.api_version.clone()),
            };
            let gvk = GroupVersionKind::gvk(&group, &version, &types.kind);
            let (resource, caps) = discovery::pinned_kind(&client, &gvk)
                .await
                .unwrap_or_else(|e| panic!("apply_fixture: discovery of {gvk:?}: {e}"));
            let name = obj
                .metadata
                .name
                .clone()
                .unwrap_or_else(|| panic!("apply_fixture: document {i} has no metadata.name"));
            let api: Api<DynamicObject> = match caps.scope {
                Scope::Namespaced => {
                    obj.metadata.namespace = Some(ns.to_string());
                    Api::namespaced_with(client.clone(), ns, &resource)
                }
                Scope::Cluster => Api::all_with(client.clone(), &resource),
            };
            let params = PatchParams::apply(FIELD_MANAGER).force();
            let stored = api
                .patch(&name, &params, &Patch::Apply(&obj))
                .await
                .unwrap_or_else(|e| {
                    panic!("apply_fixture: applying {} {name} in {ns}: {e}", types.kind)
                });
            applied.push(stored);
        }
        applied
    }
}

/// `GET path` (absolute, e.g. `/openapi/v3?hash=...`) as the client's
/// user; returns the body. Panics on a transport error or a non-2xx status.
pub async fn get_text(client: &Client, path: &str) -> String {
    // kube's request builder makes the `http::Request<Vec<u8>>` that
    // `request_text` takes (a GET); then the URI is replaced by `path`.
    // This avoids a direct dev-dependency on the `http` crate.
    let mut request = kube::core::Request::new("/")
        .list(&ListParams::default())
        .expect("building a GET request");
    *request.uri_mut() = path
        .parse()
        .unwrap_or_else(|e| panic!("bad path {path:?}: {e}"));
    client
        .request_text(request)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// kube-lsp's settings for a test about the cluster's objects: `kubeconfig`'s cluster (its
/// `context` when given) read with `namespace` as the default, no document sent to it (no
/// dry-run) and its OpenAPI not fetched. Each test adds its own settings to them.
pub fn objects_only_settings(
    kubeconfig: &std::path::Path,
    namespace: &str,
    context: Option<&str>,
) -> serde_json::Value {
    let mut settings = serde_json::json!({
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "dryRun": "off",
        "clusterSchema": false,
    });
    if let Some(context) = context {
        settings["context"] = serde_json::json!(context);
    }
    settings
}

/// `<prefix>-<suffix>`, a valid DNS-1123 label, unique within this machine
/// (time, process id and a per-process counter).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = format!(
        "{}{}{}",
        base36(nanos % 36u64.pow(6)),
        base36(u64::from(std::process::id()) % 36u64.pow(4)),
        base36(n)
    );
    let prefix = sanitize(prefix, 62 - suffix.len());
    if prefix.is_empty() {
        format!("t-{suffix}")
    } else {
        format!("{prefix}-{suffix}")
    }
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// Lowercase alphanumerics and '-', at most `max` chars, no leading/trailing '-'.
fn sanitize(s: &str, max: usize) -> String {
    let mapped: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(max)
        .collect();
    mapped.trim_matches('-').to_string()
}

/// Parses a multi-document YAML stream into the JSON values kubectl would send (one per
/// document, `Value::Null` for an empty one), with kube-lsp's own splitter and converter.
pub fn parse_yaml_documents(text: &str) -> Result<Vec<Value>, String> {
    use kube_lsp::yaml::{split, value};
    split::split(text)
        .documents
        .into_iter()
        .map(|range| {
            value::document_to_json(&text[range.clone()], &value::Limits::default())
                .map(Option::unwrap_or_default)
                .map_err(|e| format!("{} (at byte {})", e.message, range.start + e.range.start))
        })
        .collect()
}

/// A loopback TCP proxy in front of the test apiserver, to play a cluster that goes away, comes
/// back, or answers slowly, without touching the apiserver other tests share. TLS passes through
/// untouched (the serving certificate names 127.0.0.1).
pub struct TcpProxy {
    pub address: std::net::SocketAddr,
    state: std::sync::Arc<ProxyState>,
}

struct ProxyState {
    /// While false, new connections are closed at once.
    open: std::sync::atomic::AtomicBool,
    /// Delay before each chunk the apiserver sends is passed on.
    delay_ms: AtomicU64,
    /// Bumped by `cut`: connections of an older generation close.
    generation: tokio::sync::watch::Sender<u64>,
}

impl TcpProxy {
    /// Starts the proxy on the current tokio runtime, forwarding to `upstream`.
    pub async fn start(upstream: std::net::SocketAddr) -> TcpProxy {
        use std::sync::atomic::AtomicBool;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let state = std::sync::Arc::new(ProxyState {
            open: AtomicBool::new(true),
            delay_ms: AtomicU64::new(0),
            generation: tokio::sync::watch::channel(0).0,
        });
        let address = listener.local_addr().unwrap();
        let accepting = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !accepting.open.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                tokio::spawn(forward(client, upstream, accepting.clone()));
            }
        });
        TcpProxy { address, state }
    }

    /// The apiserver goes away: open connections close, new ones are closed at once.
    pub fn cut(&self) {
        self.state.open.store(false, Ordering::SeqCst);
        self.state.generation.send_modify(|g| *g += 1);
    }

    /// The apiserver is back.
    pub fn restore(&self) {
        self.state.open.store(true, Ordering::SeqCst);
    }

    /// Every chunk from the apiserver waits this long (TLS handshakes included).
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.state
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// A copy of the test kubeconfig whose cluster is reached through this proxy.
    pub fn kubeconfig(&self, cluster: &TestCluster) -> tempfile::NamedTempFile {
        let text = std::fs::read_to_string(&cluster.kubeconfig_path).unwrap();
        let upstream = cluster.server_url();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            file.path(),
            text.replace(&upstream, &format!("https://{}", self.address)),
        )
        .unwrap();
        file
    }
}

async fn forward(
    client: tokio::net::TcpStream,
    upstream: std::net::SocketAddr,
    state: std::sync::Arc<ProxyState>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut generation = state.generation.subscribe();
    generation.borrow_and_update();
    let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let to_server = async {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = client_read.read(&mut buffer).await {
            if server_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    let delay_state = state.clone();
    let to_client = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = server_read.read(&mut buffer).await {
            let delay = delay_state.delay_ms.load(Ordering::SeqCst);
            if delay > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            }
            if client_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
    };
    // Either side closing, or a cut, ends the connection.
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
        _ = generation.changed() => {}
    }
}

impl TestCluster {
    /// kube-lsp's requests about namespace `namespace` in the apiserver's audit log (the testenv
    /// writes it next to the kubeconfig), read again until `enough` holds of them or 10 s have
    /// passed: the audit backend writes an event when its response completes.
    pub fn kube_lsp_requests(
        &self,
        namespace: &str,
        enough: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let audit = self.kubeconfig_path.with_file_name("audit.log");
        let user_agent = kube_lsp::cluster::USER_AGENT;
        let in_namespace = format!("/namespaces/{namespace}/");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&audit).unwrap_or_else(|e| {
                panic!("{}: {e} (the testenv writes an audit log)", audit.display())
            });
            let ours: Vec<Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|e| e["userAgent"].as_str() == Some(user_agent))
                .filter(|e| {
                    e["requestURI"]
                        .as_str()
                        .is_some_and(|u| u.contains(&in_namespace))
                })
                .collect();
            if enough(&ours) || std::time::Instant::now() > deadline {
                return ours;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// Whether an audit event is of a request that could change something (not get, list, watch).
pub fn is_write(event: &Value) -> bool {
    !matches!(event["verb"].as_str(), Some("get" | "list" | "watch"))
}

impl TestCluster {
    /// The API server URL of the kubeconfig's cluster (`https://127.0.0.1:PORT`).
    pub fn server_url(&self) -> String {
        self.kubeconfig.clusters[0]
            .cluster
            .as_ref()
            .and_then(|c| c.server.clone())
            .expect("the test kubeconfig names its server")
    }

    /// The API server's socket address.
    pub fn server_address(&self) -> std::net::SocketAddr {
        let url = self.server_url();
        let authority = url.trim_start_matches("https://").trim_end_matches('/');
        authority
            .parse()
            .expect("the test apiserver listens on an IP:port")
    }
}
