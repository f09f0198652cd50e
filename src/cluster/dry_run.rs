//! Server-side dry-run of one manifest: discovery of its resource, a GET of the live object, then
//! a server-side apply PATCH with `dryRun=All`, `fieldManager=kube-lsp`, `force=true`,
//! `fieldValidation=Strict`, read with its `Warning` headers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::Value;

use super::connection::Connection;
use super::{ClusterError, FIELD_MANAGER, RequestError};

/// A `metav1.Status` as the API server sends it on failure.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct ApiStatus {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub details: Option<StatusDetails>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct StatusDetails {
    #[serde(default)]
    pub causes: Vec<StatusCause>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct StatusCause {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub field: String,
}

impl ApiStatus {
    /// The Status in a response body, or one made from the HTTP status and the body's text.
    pub fn from_response(http_status: u16, body: &[u8]) -> ApiStatus {
        match serde_json::from_slice::<ApiStatus>(body) {
            Ok(mut status) if !status.message.is_empty() || status.code != 0 => {
                if status.code == 0 {
                    status.code = http_status;
                }
                status
            }
            _ => ApiStatus {
                code: http_status,
                message: String::from_utf8_lossy(body).trim().to_string(),
                ..Default::default()
            },
        }
    }

    pub fn causes(&self) -> &[StatusCause] {
        self.details.as_ref().map_or(&[], |d| &d.causes)
    }
}

/// What the cluster said about one manifest.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The dry-run succeeded: the object as it would be stored, and the live object before it
    /// (`None`: it would be created).
    Applied { object: Value, live: Option<Value> },
    /// The API server refused (validation, RBAC, admission, quota, decode errors, …).
    Rejected(ApiStatus),
    /// The cluster serves no such kind (or apiVersion).
    UnknownKind(String),
    /// Not something to dry-run (no apiVersion/kind/name); the reason, for logs.
    Skipped(String),
}

/// The result of [`dry_run`].
#[derive(Clone, Debug, PartialEq)]
pub struct DryRun {
    pub outcome: Outcome,
    /// `Warning` headers of the responses (deprecations, unknown fields under `Warn`, …).
    pub warnings: Vec<String>,
    pub context: String,
    /// The namespace the object was checked in (`None` for cluster-scoped kinds).
    pub namespace: Option<String>,
    pub elapsed: Duration,
}

impl DryRun {
    /// Whether the live object existed before the dry-run.
    pub fn existed_before(&self) -> bool {
        matches!(&self.outcome, Outcome::Applied { live: Some(_), .. })
    }
}

fn str_at<'v>(value: &'v Value, pointer: &str) -> Option<&'v str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The query of the dry-run apply. Never sent without `dryRun=All`.
pub fn apply_query() -> String {
    format!("dryRun=All&fieldManager={FIELD_MANAGER}&force=true&fieldValidation=Strict")
}

/// Dry-runs one manifest (the JSON kubectl would send) against the connection's cluster.
/// `Err` only when the cluster cannot be reached or answers nonsense; every answer of the API
/// server about the manifest is an [`Outcome`].
pub async fn dry_run(connection: &Connection, manifest: &Value) -> Result<DryRun, ClusterError> {
    let started = Instant::now();
    let mut warnings = Vec::new();
    let done = |outcome, warnings, namespace| DryRun {
        outcome,
        warnings,
        context: connection.context.clone(),
        namespace,
        elapsed: started.elapsed(),
    };
    let (Some(api_version), Some(kind)) =
        (str_at(manifest, "/apiVersion"), str_at(manifest, "/kind"))
    else {
        return Ok(done(
            Outcome::Skipped("no apiVersion or kind".into()),
            warnings,
            None,
        ));
    };
    let Some(name) = str_at(manifest, "/metadata/name") else {
        return Ok(done(
            Outcome::Skipped("no metadata.name (server-side apply needs one)".into()),
            warnings,
            None,
        ));
    };
    let Some(resource) = connection.resource(api_version, kind).await? else {
        return Ok(done(
            Outcome::UnknownKind(format!(
                "the cluster (context {}) serves no kind {kind:?} in {api_version:?}",
                connection.context
            )),
            warnings,
            None,
        ));
    };
    let namespace = resource.namespaced.then(|| {
        str_at(manifest, "/metadata/namespace")
            .unwrap_or(&connection.namespace)
            .to_string()
    });
    let url = resource.url(namespace.as_deref(), Some(name));

    // The live object, for the diff.
    let live_response = connection.get(&url).await?;
    warnings.extend(live_response.warnings);
    let live = match live_response.status {
        200 => Some(decode(format!("GET {url}"), &live_response.body)?),
        404 => None,
        status => {
            let status = ApiStatus::from_response(status, &live_response.body);
            return Ok(done(Outcome::Rejected(status), warnings, namespace));
        }
    };

    let applied = apply(connection, &url, manifest).await?;
    warnings.extend(applied.warnings);
    let outcome = match applied.status {
        200 | 201 => Outcome::Applied {
            object: decode(format!("PATCH {url}"), &applied.body)?,
            live,
        },
        status => Outcome::Rejected(ApiStatus::from_response(status, &applied.body)),
    };
    warnings.dedup();
    Ok(done(outcome, warnings, namespace))
}

/// An object in the body of the answer to `request`.
fn decode(request: String, body: &[u8]) -> Result<Value, ClusterError> {
    serde_json::from_slice(body).map_err(|source| {
        RequestError::Decode {
            request,
            source: Arc::new(source),
        }
        .into()
    })
}

async fn apply(
    connection: &Connection,
    url: &str,
    manifest: &Value,
) -> Result<super::connection::RawResponse, ClusterError> {
    // A `Value` always writes as JSON: its `Display` is `serde_json::to_vec` without the error.
    let body = manifest.to_string().into_bytes();
    let request = http::Request::patch(format!("{url}?{}", apply_query()))
        .header(http::header::CONTENT_TYPE, "application/apply-patch+yaml")
        .header(http::header::ACCEPT, "application/json")
        .body(body)
        .map_err(|source| RequestError::Build {
            request: format!("PATCH {url}"),
            source: Arc::new(source),
        })?;
    connection.send(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_apply_is_a_dry_run() {
        assert!(apply_query().starts_with("dryRun=All&"));
    }

    #[test]
    fn status_from_json_and_from_text() {
        let body = br#"{"kind":"Status","message":"m","reason":"Invalid","code":422,"details":{"causes":[{"reason":"FieldValueInvalid","message":"x","field":"spec.a"}]}}"#;
        let status = ApiStatus::from_response(422, body);
        assert_eq!(status.causes()[0].field, "spec.a");
        let status = ApiStatus::from_response(502, b"bad gateway\n");
        assert_eq!((status.code, status.message.as_str()), (502, "bad gateway"));
    }
}
