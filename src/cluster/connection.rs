//! A kube client for one kubeconfig context, resolved as kubectl resolves it, with timeouts on
//! every request and its discovery (see [`super::discovery`]).
//!
//! - Kubeconfig: the `kubeconfig` setting (one path or several joined like `KUBECONFIG`), else
//!   `KUBECONFIG` (several paths merged by kubectl's rules: first file wins per key), else
//!   `~/.kube/config`.
//! - Context: the `context` setting, else the current-context. Namespace for objects without
//!   one: the `namespace` setting, else the context's namespace, else `default`.
//! - Exec credential plugins: kube-rs lets a plugin inherit the process's stdin unless the
//!   kubeconfig says `interactiveMode: Never`. The language server's stdin is the LSP stream, so a
//!   plugin reading it would steal protocol bytes. Every exec entry is therefore forced to
//!   `interactiveMode: Never` before the client is built: the plugin gets a closed pipe as stdin
//!   and `KUBERNETES_EXEC_INFO` says `interactive: false` (plugins that need a prompt fail with
//!   their own message, as under kubectl without a terminal).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::discovery::{self, Discovery};
use super::dry_run::ApiStatus;
use super::{
    ClusterError, ClusterSettings, ConfigError, Endpoint, RequestError, USER_AGENT,
    UnreachableError, timed_out,
};
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use kube::client::Body;
use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};

/// One resource kind as the API server serves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    pub api_version: String,
    pub kind: String,
    /// The plural name used in URLs.
    pub plural: String,
    pub namespaced: bool,
}

impl Resource {
    /// The URL path of the collection (`/api/v1/namespaces/x/pods`), or of one object when `name`
    /// is given.
    pub fn url(&self, namespace: Option<&str>, name: Option<&str>) -> String {
        let base = if self.api_version.contains('/') {
            format!("/apis/{}", self.api_version)
        } else {
            format!("/api/{}", self.api_version)
        };
        let mut url = match (self.namespaced, namespace) {
            (true, Some(ns)) => format!("{base}/namespaces/{}/{}", encode(ns), self.plural),
            _ => format!("{base}/{}", self.plural),
        };
        if let Some(name) = name {
            url.push('/');
            url.push_str(&encode(name));
        }
        url
    }
}

/// Percent-encodes a path segment (names are DNS-like, but never trust a manifest).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A response with its status, `Warning` headers and body.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub warnings: Vec<String>,
    pub body: Bytes,
}

/// A client for one context.
pub struct Connection {
    client: kube::Client,
    /// The context's name (as shown to the user).
    pub context: String,
    /// The API server's URL.
    pub server: String,
    /// The namespace of objects that name none.
    pub namespace: String,
    pub timeout: Duration,
    /// The cluster's discovery and when it was fetched; fetched on first use.
    discovery: tokio::sync::Mutex<Option<(Arc<Discovery>, Instant)>>,
}

/// A kind missing from discovery fetches it again, but not more often than this (a CRD may
/// have been installed since).
const REDISCOVER_AFTER: Duration = Duration::from_secs(10);

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .finish()
    }
}

/// The kubeconfig as kubectl reads it, with every exec plugin made non-interactive. Every file
/// is read here, bounded (`files`: regular files only, within the size cap), and the
/// certificates and keys it names are read the same way and handed to kube inline, so kube-rs
/// reads no file itself (a token file is checked here and re-read by kube-rs for rotation).
pub fn load_kubeconfig(paths: Option<&str>) -> Result<Kubeconfig, ClusterError> {
    let listed = |value: &std::ffi::OsStr| -> Vec<PathBuf> {
        std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .map(expand_home)
            .collect()
    };
    let (paths, from_setting) = match paths.map(str::trim).filter(|p| !p.is_empty()) {
        Some(paths) => (listed(paths.as_ref()), true),
        None => match std::env::var_os("KUBECONFIG").map(|v| listed(&v)) {
            Some(paths) if !paths.is_empty() => (paths, false),
            _ => (vec![expand_home(PathBuf::from("~/.kube/config"))], false),
        },
    };
    let mut merged: Option<Kubeconfig> = None;
    for path in paths {
        let next = read_kubeconfig(&path).map_err(|error| match error {
            ReadError::Kube(source) if !from_setting && merged.is_none() => {
                ConfigError::NoKubeconfig(Arc::new(source))
            }
            ReadError::Kube(source) => ConfigError::Read {
                path: path.clone(),
                source: Arc::new(source),
            },
            ReadError::Skipped(why) => ConfigError::Skipped(why),
        })?;
        merged = Some(match merged {
            Some(m) => m.merge(next).map_err(|e| ConfigError::Merge(Arc::new(e)))?,
            None => next,
        });
    }
    let mut kubeconfig = merged.ok_or(ConfigError::EmptySetting)?;
    for auth in &mut kubeconfig.auth_infos {
        if let Some(exec) = auth.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
    Ok(kubeconfig)
}

enum ReadError {
    Kube(kube::config::KubeconfigError),
    Skipped(String),
}

/// One kubeconfig file, read bounded, with the files it names resolved against its folder (as
/// kube-rs does) and the certificates and keys among them read bounded and inlined.
fn read_kubeconfig(path: &std::path::Path) -> Result<Kubeconfig, ReadError> {
    use base64::Engine as _;
    let limit = crate::files::max_bytes();
    let text = match crate::files::read(path, limit, crate::files::Links::Follow) {
        crate::files::Contents::Text(text) => text,
        // Missing: kube's own error (it reads nothing then) says so as before.
        _ if !path.exists() => {
            return Err(ReadError::Kube(
                Kubeconfig::read_from(path)
                    .err()
                    .unwrap_or(kube::config::KubeconfigError::FindPath),
            ));
        }
        contents => {
            let why = contents.skipped_because(path).unwrap_or_default();
            return Err(ReadError::Skipped(format!("kubeconfig {why}")));
        }
    };
    let mut config = Kubeconfig::from_yaml(&text).map_err(ReadError::Kube)?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let inline = |file: &mut Option<String>| -> Result<Option<String>, ReadError> {
        let Some(named) = file.take() else {
            return Ok(None);
        };
        let named = dir.join(named);
        match crate::files::read_bytes(&named, limit, crate::files::Links::Follow) {
            Ok(bytes) => Ok(Some(
                base64::engine::general_purpose::STANDARD.encode(bytes),
            )),
            Err(contents) => {
                let why = contents.skipped_because(&named).unwrap_or_default();
                Err(ReadError::Skipped(format!(
                    "kubeconfig {}: {why}",
                    path.display()
                )))
            }
        }
    };
    for named in &mut config.clusters {
        if let Some(cluster) = &mut named.cluster
            && cluster.certificate_authority_data.is_none()
            && let Some(data) = inline(&mut cluster.certificate_authority)?
        {
            cluster.certificate_authority_data = Some(data);
        }
    }
    for named in &mut config.auth_infos {
        let Some(auth) = &mut named.auth_info else {
            continue;
        };
        if auth.client_certificate_data.is_none()
            && let Some(data) = inline(&mut auth.client_certificate)?
        {
            auth.client_certificate_data = Some(data);
        }
        if auth.client_key_data.is_none()
            && let Some(data) = inline(&mut auth.client_key)?
        {
            auth.client_key_data = Some(data.into());
        }
        if let Some(token_file) = &mut auth.token_file {
            let absolute = dir.join(&*token_file);
            if let Err(contents) =
                crate::files::read_bytes(&absolute, limit, crate::files::Links::Follow)
            {
                let why = contents.skipped_because(&absolute).unwrap_or_default();
                return Err(ReadError::Skipped(format!(
                    "kubeconfig {}: {why}",
                    path.display()
                )));
            }
            *token_file = absolute.to_string_lossy().into_owned();
        }
        if let Some(exec) = &mut auth.exec
            && let Some(command) = &mut exec.command
            && command.contains(std::path::MAIN_SEPARATOR)
            && std::path::Path::new(command).is_relative()
        {
            *command = dir.join(&*command).to_string_lossy().into_owned();
        }
    }
    Ok(config)
}

fn expand_home(path: PathBuf) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => std::env::var_os("HOME")
            .map(|home| PathBuf::from(home).join(rest))
            .unwrap_or(path),
        Err(_) => path,
    }
}

impl Connection {
    /// Builds the client (no request is sent yet).
    pub async fn connect(settings: &ClusterSettings) -> Result<Connection, ClusterError> {
        let kubeconfig = load_kubeconfig(settings.kubeconfig.as_deref())?;
        let context = settings
            .context
            .clone()
            .filter(|c| !c.is_empty())
            .or_else(|| kubeconfig.current_context.clone())
            .ok_or(ConfigError::NoCurrentContext)?;
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|source| ConfigError::Context {
                context: context.clone(),
                source: Arc::new(source),
            })?;
        config.connect_timeout = Some(settings.request_timeout);
        config.read_timeout = Some(settings.request_timeout);
        config.write_timeout = Some(settings.request_timeout);
        config.reset_reader_on_write = true;
        config.headers.push((
            HeaderName::from_static("user-agent"),
            HeaderValue::from_static(USER_AGENT),
        ));
        let namespace = settings
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| config.default_namespace.clone());
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).map_err(|source| ConfigError::Client {
            context: context.clone(),
            source: Arc::new(source),
        })?;
        Ok(Connection {
            client,
            context,
            server,
            namespace,
            timeout: settings.request_timeout,
            discovery: tokio::sync::Mutex::new(None),
        })
    }

    /// Sends one request within the timeout and reads the whole response.
    pub async fn send(&self, request: http::Request<Vec<u8>>) -> Result<RawResponse, ClusterError> {
        let started = Instant::now();
        let what = format!("{} {}", request.method(), request.uri().path());
        let exchange = async {
            let response = self.client.send(request.map(Body::from)).await?;
            let status = response.status().as_u16();
            let warnings = response
                .headers()
                .get_all("warning")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(parse_warning)
                .collect();
            let body = response.into_body().collect_bytes().await?;
            Ok::<_, kube::Error>(RawResponse {
                status,
                warnings,
                body,
            })
        };
        let no_answer = |source: Option<Arc<kube::Error>>| UnreachableError::Timeout {
            endpoint: self.endpoint(),
            timeout: self.timeout,
            request: what.clone(),
            source,
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            // Rejected credentials concern every request, not this one: a connection-level error.
            Ok(Ok(response)) if response.status == 401 => Err(ClusterError::Unauthorized {
                endpoint: self.endpoint(),
                status: Box::new(ApiStatus::from_response(response.status, &response.body)),
            }),
            // A gateway in front of the apiserver that cannot reach it: the cluster is away.
            Ok(Ok(response)) if matches!(response.status, 502..=504) => {
                Err(UnreachableError::Gateway {
                    endpoint: self.endpoint(),
                    code: response.status,
                    status: Box::new(ApiStatus::from_response(response.status, &response.body)),
                }
                .into())
            }
            Ok(Ok(response)) => Ok(response),
            // kube's own read/connect timeouts (the same duration) may fire first: same error.
            Ok(Err(error)) if timed_out(&error) => Err(no_answer(Some(Arc::new(error))).into()),
            Ok(Err(error)) => Err(UnreachableError::Connect {
                endpoint: self.endpoint(),
                source: Arc::new(error),
            }
            .into()),
            Err(_) => Err(no_answer(None).into()),
        };
        tracing::debug!(
            "cluster {what}: {} in {:?}",
            match &result {
                Ok(r) => r.status.to_string(),
                Err(e) => e.to_string(),
            },
            started.elapsed()
        );
        result
    }

    /// A GET of `path` (`/api/v1/...`).
    pub async fn get(&self, path: &str) -> Result<RawResponse, ClusterError> {
        self.get_accepting(path, "application/json").await
    }

    /// A GET of `path` with an `Accept` header (aggregated discovery negotiates through it).
    pub async fn get_accepting(
        &self,
        path: &str,
        accept: &str,
    ) -> Result<RawResponse, ClusterError> {
        let request = http::Request::get(path)
            .header(http::header::ACCEPT, accept)
            .body(Vec::new())
            .map_err(|source| RequestError::Build {
                request: format!("GET {path}"),
                source: Arc::new(source),
            })?;
        self.send(request).await
    }

    /// How errors name this connection's cluster.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            server: self.server.clone(),
            context: self.context.clone(),
        }
    }

    /// The resource serving `kind` in `api_version`, from discovery (fetched once per connection,
    /// again when a kind is missing and the last fetch is older than [`REDISCOVER_AFTER`]).
    /// `Ok(None)`: the cluster does not serve that kind.
    pub async fn resource(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Resource>, ClusterError> {
        let mut slot = self.discovery.lock().await;
        if let Some((discovery, fetched)) = slot.as_ref() {
            if let Some(resource) = discovery.resource(api_version, kind) {
                return Ok(Some(resource.clone()));
            }
            if fetched.elapsed() < REDISCOVER_AFTER {
                return Ok(None);
            }
        }
        let discovery = Arc::new(discovery::fetch(self).await?);
        let found = discovery.resource(api_version, kind).cloned();
        *slot = Some((discovery, Instant::now()));
        Ok(found)
    }

    /// The discovery of this connection, fetched now when there is none yet.
    pub async fn discovery(&self) -> Result<Arc<Discovery>, ClusterError> {
        let mut slot = self.discovery.lock().await;
        if let Some((discovery, _)) = slot.as_ref() {
            return Ok(discovery.clone());
        }
        let discovery = Arc::new(discovery::fetch(self).await?);
        *slot = Some((discovery.clone(), Instant::now()));
        Ok(discovery)
    }

    /// Discovery fetched elsewhere (the periodic schema refresh) replaces the cached one.
    pub async fn set_discovery(&self, discovery: Arc<Discovery>) {
        *self.discovery.lock().await = Some((discovery, Instant::now()));
    }
}

/// `299 - "message"` → `message` (RFC 7234 warn-code, agent, quoted text).
pub fn parse_warning(header: &str) -> String {
    let mut parts = header.splitn(3, ' ');
    let (code, _agent, text) = (parts.next(), parts.next(), parts.next());
    match (code, text) {
        (Some(code), Some(text)) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
            let text = text.trim();
            let text = text.strip_prefix('"').unwrap_or(text);
            // A date may follow the closing quote.
            let end = text.rfind('"').unwrap_or(text.len());
            text[..end].replace("\\\"", "\"").replace("\\\\", "\\")
        }
        _ => header.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_headers_are_unquoted() {
        assert_eq!(
            parse_warning(r#"299 - "unknown field \"spec.foo\"""#),
            r#"unknown field "spec.foo""#
        );
        assert_eq!(parse_warning("odd"), "odd");
    }

    #[test]
    fn urls_of_namespaced_and_cluster_resources() {
        let pods = Resource {
            api_version: "v1".into(),
            kind: "Pod".into(),
            plural: "pods".into(),
            namespaced: true,
        };
        assert_eq!(
            pods.url(Some("default"), Some("web")),
            "/api/v1/namespaces/default/pods/web"
        );
        let crb = Resource {
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: "ClusterRole".into(),
            plural: "clusterroles".into(),
            namespaced: false,
        };
        assert_eq!(
            crb.url(Some("ignored"), Some("a b")),
            "/apis/rbac.authorization.k8s.io/v1/clusterroles/a%20b"
        );
    }

    #[test]
    fn exec_plugins_are_made_non_interactive() {
        let dir = std::env::temp_dir().join(format!("kube-lsp-kc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: cat\n      interactiveMode: Always\n",
        )
        .unwrap();
        let kubeconfig = load_kubeconfig(path.to_str()).unwrap();
        let exec = kubeconfig.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .unwrap();
        assert_eq!(exec.interactive_mode, Some(ExecInteractiveMode::Never));
        std::fs::remove_dir_all(dir).ok();
    }

    fn temporary_kubeconfig(name: &str, text: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("kube-lsp-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn kubeconfig_files_are_read_bounded_and_the_files_they_name_inlined() {
        // Not a regular file: not read, one clear error.
        let error = load_kubeconfig(Some("/dev/zero")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "kubeconfig /dev/zero is not a readable regular UTF-8 file"
        );
        // A certificate named relative to the kubeconfig is read here and handed over inline;
        // one that is a device is refused.
        let (dir, path) = temporary_kubeconfig(
            "bounded",
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority: ca.pem\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    client-key: /dev/zero\n",
        );
        std::fs::write(dir.join("ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
        let error = load_kubeconfig(path.to_str()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("/dev/zero is not a readable regular"),
            "{error}"
        );
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(
            &path,
            text.replace("    client-key: /dev/zero\n", "    token: t\n"),
        )
        .unwrap();
        let kubeconfig = load_kubeconfig(path.to_str()).unwrap();
        let cluster = kubeconfig.clusters[0].cluster.as_ref().unwrap();
        assert_eq!(cluster.certificate_authority, None);
        assert_eq!(
            cluster.certificate_authority_data.as_deref(),
            Some("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==")
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_broken_kubeconfig_is_named_without_its_text() {
        let (dir, path) = temporary_kubeconfig(
            "broken",
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nusers:\n- name: u\n  user:\n    client-key-data: S2V5LXNlY3JldA==\n    token: [unclosed\n",
        );
        let error = load_kubeconfig(path.to_str()).unwrap_err();
        assert!(matches!(error, ClusterError::Config(_)), "{error:?}");
        let message = error.to_string();
        assert!(!message.contains("S2V5"), "the client key: {message}");
        assert_eq!(
            message,
            format!(
                "kubeconfig {}: failed to parse kubeconfig YAML: expected string scalar at line 8, column 12",
                path.display()
            )
        );
        std::fs::remove_dir_all(dir).ok();
    }

    /// A kubeconfig whose user runs `sh -c script` with a secret in the plugin's environment.
    #[cfg(unix)]
    fn exec_kubeconfig(name: &str, script: &str) -> (PathBuf, PathBuf) {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        temporary_kubeconfig(
            name,
            &format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [\"-c\", {script:?}]\n      env:\n      - name: PLUGIN_TOKEN\n        value: env-secret\n",
            ),
        )
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn exec_plugin_failures_show_neither_the_environment_nor_the_output() {
        let cases = [
            (
                "exec-fails",
                "echo stdout-secret; echo plugin says no >&2; exit 3",
                "auth exec command failed with exit status: 3: plugin says no",
            ),
            (
                "exec-output",
                r#"printf '{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",\n"status": {"token": "stdout-secret", "expirationTimestamp": [1]}}'"#,
                "failed to parse auth exec output: ",
            ),
        ];
        for (name, script, expected) in cases {
            let (dir, path) = exec_kubeconfig(name, script);
            let settings = ClusterSettings {
                kubeconfig: Some(path.to_string_lossy().into_owned()),
                ..Default::default()
            };
            // kube-rs runs the plugin when it builds the client, and again when the token expires.
            let error = match Connection::connect(&settings).await {
                Ok(connection) => connection.get("/api").await.unwrap_err(),
                Err(error) => error,
            };
            let message = error.to_string();
            assert!(error.is_connection(), "{message}");
            assert!(message.contains(expected), "{message}");
            assert!(!message.contains("secret"), "{message}");
            std::fs::remove_dir_all(dir).ok();
        }
    }
}
