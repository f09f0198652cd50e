//! Everything that talks to a Kubernetes API server, and nothing else does: the client per
//! kubeconfig context ([`connection`]), discovery ([`discovery`]) and the cluster's OpenAPI v3
//! schema with its disk cache ([`live_schema`], [`cache`]), server-side-apply dry-runs with a
//! live GET before them ([`dry_run`]), and the comparison of live and dry-run objects ([`diff`]).
//!
//! Safety: the only non-read request kube-lsp ever sends is the server-side apply PATCH in
//! [`dry_run`], and it always carries `dryRun=All` (a test reads the apiserver's audit log to
//! prove it).

pub mod cache;
pub mod check;
pub mod connection;
pub mod diff;
pub mod discovery;
pub mod dry_run;
pub mod live_schema;
pub mod ssa_path;

use std::time::Duration;

/// The user agent of every request, so audit logs can tell kube-lsp's requests apart.
pub const USER_AGENT: &str = concat!("kube-lsp/", env!("CARGO_PKG_VERSION"));

/// The field manager of the dry-run server-side apply.
pub const FIELD_MANAGER: &str = "kube-lsp";

/// Where and how to reach a cluster: the settings `kubeconfig`, `context`, `namespace`,
/// `requestTimeoutMs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    /// Kubeconfig path(s) (`:`-separated like `KUBECONFIG`); `None`: `KUBECONFIG`, else
    /// `~/.kube/config`.
    pub kubeconfig: Option<String>,
    /// `None`: the kubeconfig's current-context.
    pub context: Option<String>,
    /// The namespace of objects without one; `None`: the context's, else `default`.
    pub namespace: Option<String>,
    /// Upper bound of every request (connect included).
    pub request_timeout: Duration,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            kubeconfig: None,
            context: None,
            namespace: None,
            request_timeout: Duration::from_millis(5000),
        }
    }
}

/// Why cluster work could not give an answer about a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterError {
    /// No usable kubeconfig or context.
    Config(String),
    /// The API server could not be reached (connect error, TLS, timeout).
    Unreachable(String),
    /// The API server rejected the credentials (401): nothing works until they are renewed.
    Unauthorized(String),
    /// Anything else (an unexpected response).
    Other(String),
}

impl ClusterError {
    pub fn message(&self) -> &str {
        match self {
            ClusterError::Config(m)
            | ClusterError::Unreachable(m)
            | ClusterError::Unauthorized(m)
            | ClusterError::Other(m) => m,
        }
    }

    /// Whether the cluster as a whole is unusable (as opposed to one document's request failing).
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            ClusterError::Config(_) | ClusterError::Unreachable(_) | ClusterError::Unauthorized(_)
        )
    }
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ClusterError {}
