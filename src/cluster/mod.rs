//! Everything that talks to a Kubernetes API server, and nothing else does: the client per
//! kubeconfig context ([`connection`]), discovery ([`discovery`]) and the cluster's OpenAPI v3
//! schema with its disk cache ([`live_schema`], [`cache`]), server-side-apply dry-runs with a
//! live GET before them ([`dry_run`]), and the comparison of live and dry-run objects ([`diff`]).
//! Every failure is a [`ClusterError`].
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
pub mod objects;
pub mod ssa_path;

use std::error::Error;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kube::client::AuthError;
use kube::config::KubeconfigError;

use dry_run::ApiStatus;

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

/// Why cluster work could not give an answer about a document: the kind of failure (what callers
/// decide on) holding its cause, typed as kube-rs and the apiserver give it. The messages are what
/// users read; they never show kubeconfig text, an exec plugin's command line or output, or any
/// other place credentials live (see [`redacted`]). The sources, and so `Debug`, are the errors as
/// kube-rs made them: show them to users through these messages only.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ClusterError {
    /// No usable kubeconfig or context.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The API server could not be reached (connect error, TLS, timeout, a gateway without it).
    #[error(transparent)]
    Unreachable(#[from] UnreachableError),
    /// The API server rejected the credentials (401): nothing works until they are renewed.
    #[error(
        "{endpoint} rejected the credentials (401 Unauthorized: {}); log in again, e.g. with kubectl",
        status.message
    )]
    Unauthorized {
        endpoint: Endpoint,
        /// The apiserver's `Status` of the 401 answer.
        status: Box<ApiStatus>,
    },
    /// One request failed while the cluster answers: an unexpected status or body.
    #[error(transparent)]
    Request(#[from] RequestError),
}

impl ClusterError {
    /// Whether the cluster as a whole is unusable (as opposed to one document's request failing).
    pub fn is_connection(&self) -> bool {
        !matches!(self, ClusterError::Request(_))
    }
}

/// Which cluster an error is about, as messages name it: `https://10.0.0.1:6443 (context admin)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The API server's URL.
    pub server: String,
    /// The kubeconfig context.
    pub context: String,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (context {})", self.server, self.context)
    }
}

/// Why no client could be made: the kubeconfig (files, merge, context) or the client's TLS setup.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file of the `kubeconfig` setting cannot be read or parsed.
    #[error("kubeconfig {}: {}", path.display(), shown(&**source))]
    Read {
        path: PathBuf,
        #[source]
        source: Arc<KubeconfigError>,
    },
    /// The files of the `kubeconfig` setting do not merge.
    #[error("{}", shown(&**.0))]
    Merge(#[source] Arc<KubeconfigError>),
    /// The `kubeconfig` setting names no file.
    #[error("the kubeconfig setting is empty")]
    EmptySetting,
    /// A kubeconfig, or a file it names (certificate, key, token file), that is not read: not
    /// a regular file, or over the size cap.
    #[error("{0}")]
    Skipped(String),
    /// Without the setting, neither `KUBECONFIG` nor `~/.kube/config` gives a kubeconfig.
    #[error("no kubeconfig (KUBECONFIG or ~/.kube/config): {}", shown(&**.0))]
    NoKubeconfig(#[source] Arc<KubeconfigError>),
    /// Neither the `context` setting nor the kubeconfig's current-context names a context.
    #[error("the kubeconfig has no current-context")]
    NoCurrentContext,
    /// The context cannot be loaded (missing, no cluster or user, unreadable certificate or key).
    #[error("context {context}: {}", shown(&**source))]
    Context {
        context: String,
        #[source]
        source: Arc<KubeconfigError>,
    },
    /// The context's client cannot be built (TLS setup).
    #[error("context {context}: {}", shown(&**source))]
    Client {
        context: String,
        #[source]
        source: Arc<kube::Error>,
    },
}

/// Why the API server gave no answer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum UnreachableError {
    /// The connection or the exchange failed (refused, TLS, reset, an exec plugin that failed).
    #[error("cannot reach {endpoint}: {}", error_chain(&**source))]
    Connect {
        endpoint: Endpoint,
        #[source]
        source: Arc<kube::Error>,
    },
    /// No answer within the request timeout (kube-rs's own connect or read timeout, of the same
    /// duration, may be the one that fired: then it is the source).
    #[error("no answer from {endpoint} within {} ms", timeout.as_millis())]
    Timeout {
        endpoint: Endpoint,
        timeout: Duration,
        /// What was asked (`GET /api`).
        request: String,
        #[source]
        source: Option<Arc<kube::Error>>,
    },
    /// A gateway in front of the API server answered 502, 503 or 504: it cannot reach it.
    #[error("{endpoint} answered {code}: {}", status.message)]
    Gateway {
        endpoint: Endpoint,
        /// The HTTP status.
        code: u16,
        status: Box<ApiStatus>,
    },
}

/// Why one request failed while the cluster answers.
#[derive(Clone, Debug, thiserror::Error)]
pub enum RequestError {
    /// The request cannot be built (a path that is no URI).
    #[error("{request}: {source}")]
    Build {
        /// What was asked (`GET /api`).
        request: String,
        #[source]
        source: Arc<http::Error>,
    },
    /// The answer has another status than the request needs (an aggregated API that is down, a
    /// document that is gone).
    #[error("{request} answered {code}: {}", status.message)]
    Status {
        /// What was asked (`GET /api`).
        request: String,
        /// The HTTP status.
        code: u16,
        status: Box<ApiStatus>,
    },
    /// The body is not the JSON the request needs.
    #[error("{request}: {source}")]
    Decode {
        /// What was asked (`GET /api`).
        request: String,
        #[source]
        source: Arc<serde_json::Error>,
    },
    /// The discovery documents do not index.
    #[error("discovery: {0}")]
    Discovery(#[source] Arc<serde_json::Error>),
}

/// An error's message, with what may hold credentials left out (see [`redacted`]).
fn shown(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut link = Some(error);
    while let Some(current) = link {
        if let Some(safe) = redacted(current) {
            text = text.replace(&current.to_string(), &safe);
            break;
        }
        link = current.source();
    }
    text
}

/// Whether one of `error`'s sources is a timeout: kube-rs's connect timeout (an I/O error of kind
/// `TimedOut` around tokio's "deadline has elapsed") or its read timeout (that kind alone).
fn timed_out(error: &(dyn Error + 'static)) -> bool {
    std::iter::successors(Some(error), |&current| current.source()).any(|current| {
        current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}

/// An error with its sources, `a: b: c` (a source whose message is already there is not
/// repeated), with what may hold credentials left out (see [`redacted`]).
fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut link = Some(error);
    while let Some(current) = link {
        if let Some(safe) = redacted(current) {
            let message = current.to_string();
            if text.contains(&message) {
                text = text.replace(&message, &safe);
            } else {
                text.push_str(": ");
                text.push_str(&safe);
            }
            break;
        }
        let message = current.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        link = current.source();
    }
    text
}

/// The message of a kube-rs error that may hold credentials, without them: YAML parse errors
/// without their snippet of the kubeconfig or of an exec plugin's output, a failed exec plugin
/// with its exit status and stderr but without its command line (which shows the environment the
/// kubeconfig gives it) or its stdout. `None`: the error's own message is safe.
fn redacted(error: &(dyn Error + 'static)) -> Option<String> {
    if let Some(KubeconfigError::Parse(parse)) = error.downcast_ref::<KubeconfigError>() {
        return Some(format!(
            "failed to parse kubeconfig YAML: {}",
            parse.without_snippet()
        ));
    }
    match error.downcast_ref::<AuthError>()? {
        AuthError::AuthExecRun { out, .. } => Some(format!(
            "auth exec command failed with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        AuthError::AuthExecParse(parse) => Some(format!(
            "failed to parse auth exec output: {}",
            parse.without_snippet()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint {
            server: "https://10.0.0.1:6443/".into(),
            context: "admin".into(),
        }
    }

    fn status(code: u16, message: &str) -> Box<ApiStatus> {
        Box::new(ApiStatus {
            code,
            message: message.into(),
            ..Default::default()
        })
    }

    /// An error with one source, as hyper's and kube-rs's errors wrap the connector's.
    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Wrapped(#[source] std::io::Error);

    #[test]
    fn a_connect_or_read_timeout_anywhere_in_the_chain_is_a_timeout() {
        use std::io::{Error as IoError, ErrorKind};
        // hyper-timeout's connect timeout: TimedOut around tokio's Elapsed, whose message is
        // not "timed out".
        let connect = Wrapped(IoError::new(ErrorKind::TimedOut, "deadline has elapsed"));
        assert!(timed_out(&connect));
        let read = Wrapped(IoError::from(ErrorKind::TimedOut));
        assert!(timed_out(&read));
        let refused = Wrapped(IoError::from(ErrorKind::ConnectionRefused));
        assert!(!timed_out(&refused));
    }

    #[test]
    fn messages_name_the_cluster_and_what_failed() {
        let cases: [(ClusterError, &str); 6] = [
            (
                UnreachableError::Timeout {
                    endpoint: endpoint(),
                    timeout: Duration::from_millis(1500),
                    request: "GET /api".into(),
                    source: None,
                }
                .into(),
                "no answer from https://10.0.0.1:6443/ (context admin) within 1500 ms",
            ),
            (
                ClusterError::Unauthorized {
                    endpoint: endpoint(),
                    status: status(401, "Unauthorized"),
                },
                "https://10.0.0.1:6443/ (context admin) rejected the credentials (401 \
                 Unauthorized: Unauthorized); log in again, e.g. with kubectl",
            ),
            (
                UnreachableError::Gateway {
                    endpoint: endpoint(),
                    code: 502,
                    status: status(502, "bad gateway"),
                }
                .into(),
                "https://10.0.0.1:6443/ (context admin) answered 502: bad gateway",
            ),
            (
                RequestError::Status {
                    request: "GET /apis/metrics.k8s.io/v1beta1".into(),
                    code: 503,
                    status: status(503, "service unavailable"),
                }
                .into(),
                "GET /apis/metrics.k8s.io/v1beta1 answered 503: service unavailable",
            ),
            (
                ConfigError::NoCurrentContext.into(),
                "the kubeconfig has no current-context",
            ),
            (
                ConfigError::EmptySetting.into(),
                "the kubeconfig setting is empty",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn only_request_errors_leave_the_cluster_usable() {
        let decode = serde_json::from_slice::<serde_json::Value>(b"{").unwrap_err();
        let request: ClusterError = RequestError::Decode {
            request: "GET /api".into(),
            source: Arc::new(decode),
        }
        .into();
        assert!(!request.is_connection());
        assert_eq!(
            request.to_string(),
            "GET /api: EOF while parsing an object at line 1 column 1"
        );
        assert!(request.source().is_some());
        let config: ClusterError = ConfigError::NoCurrentContext.into();
        let unauthorized = ClusterError::Unauthorized {
            endpoint: endpoint(),
            status: status(401, ""),
        };
        assert!(config.is_connection() && unauthorized.is_connection());
    }
}
