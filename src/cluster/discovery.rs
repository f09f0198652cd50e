//! API discovery: which kinds the cluster serves, from aggregated discovery (`/api` and `/apis`
//! as `APIGroupDiscoveryList`, two requests for the whole cluster), or on servers without it
//! (before Kubernetes 1.26) from `/api`, `/apis` and one `APIResourceList` per group-version,
//! converted to the aggregated shape so the schema store reads one format.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::connection::{Connection, RawResponse, Resource};
use super::dry_run::ApiStatus;
use super::{ClusterError, RequestError};
use crate::schema::store::{api_version, openapi_path, split_api_version};

/// Aggregated discovery first (v2, then v2beta1), plain JSON from old servers.
pub const AGGREGATED_ACCEPT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";

/// What the cluster serves, as JSON (for the schema store and the disk cache) and indexed by
/// apiVersion + kind (for dry-runs).
#[derive(Debug)]
pub struct Discovery {
    /// `APIGroupDiscoveryList` of `/api` (the core group).
    pub api: Vec<u8>,
    /// `APIGroupDiscoveryList` of `/apis` (every other group).
    pub apis: Vec<u8>,
    resources: HashMap<(String, String), Resource>,
    /// OpenAPI v3 paths of the served group-versions (`api/v1`, `apis/apps/v1`).
    openapi_paths: BTreeSet<String>,
}

#[derive(Deserialize)]
struct GroupList {
    #[serde(default)]
    items: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    metadata: GroupMeta,
    #[serde(default)]
    versions: Vec<GroupVersion>,
}

#[derive(Deserialize, Default)]
struct GroupMeta {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct GroupVersion {
    version: String,
    #[serde(default)]
    resources: Vec<GroupResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupResource {
    resource: String,
    #[serde(default)]
    response_kind: Option<ResponseKind>,
    #[serde(default)]
    scope: String,
}

#[derive(Deserialize)]
struct ResponseKind {
    #[serde(default)]
    kind: String,
}

impl Discovery {
    /// Indexes two `APIGroupDiscoveryList` documents (from the cluster or the disk cache).
    pub fn from_json(api: Vec<u8>, apis: Vec<u8>) -> Result<Discovery, serde_json::Error> {
        let mut resources = HashMap::new();
        let mut openapi_paths = BTreeSet::new();
        for json in [&api, &apis] {
            let list: GroupList = serde_json::from_slice(json)?;
            for group in list.items {
                for version in group.versions {
                    let api_version = api_version(&group.metadata.name, &version.version);
                    openapi_paths.insert(openapi_path(&group.metadata.name, &version.version));
                    for resource in version.resources {
                        let Some(kind) = resource.response_kind.map(|k| k.kind) else {
                            continue;
                        };
                        if kind.is_empty() {
                            continue;
                        }
                        resources
                            .entry((api_version.clone(), kind.clone()))
                            .or_insert(Resource {
                                api_version: api_version.clone(),
                                kind,
                                plural: resource.resource,
                                namespaced: resource.scope != "Cluster",
                            });
                    }
                }
            }
        }
        Ok(Discovery {
            api,
            apis,
            resources,
            openapi_paths,
        })
    }

    pub fn resource(&self, api_version: &str, kind: &str) -> Option<&Resource> {
        self.resources
            .get(&(api_version.to_string(), kind.to_string()))
    }

    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.resources.values()
    }

    /// The OpenAPI v3 paths of the served group-versions.
    pub fn openapi_paths(&self) -> &BTreeSet<String> {
        &self.openapi_paths
    }
}

/// Fetches discovery: aggregated when the server offers it, else per group-version.
pub async fn fetch(connection: &Connection) -> Result<Discovery, ClusterError> {
    let api = get_json(connection, "/api", AGGREGATED_ACCEPT).await?;
    let apis = get_json(connection, "/apis", AGGREGATED_ACCEPT).await?;
    let aggregated =
        |v: &Value| v.get("kind").and_then(Value::as_str) == Some("APIGroupDiscoveryList");
    if aggregated(&api) && aggregated(&apis) {
        return discovery_from_values(&api, &apis);
    }
    tracing::info!(
        "context {}: no aggregated discovery, falling back to one request per group-version",
        connection.context
    );
    legacy(connection, &api, &apis).await
}

/// Discovery without aggregation (servers before 1.26): `APIVersions` of `/api`, `APIGroupList`
/// of `/apis`, and each group-version's `APIResourceList`. Public so a test can compare it with
/// the aggregated answer of a current server.
pub async fn fetch_per_group_version(connection: &Connection) -> Result<Discovery, ClusterError> {
    let api = get_json(connection, "/api", "application/json").await?;
    let apis = get_json(connection, "/apis", "application/json").await?;
    legacy(connection, &api, &apis).await
}

async fn legacy(
    connection: &Connection,
    api: &Value,
    apis: &Value,
) -> Result<Discovery, ClusterError> {
    let mut core_versions = Vec::new();
    for version in api["versions"].as_array().into_iter().flatten() {
        let Some(version) = version.as_str() else {
            continue;
        };
        let list = get_json(connection, &format!("/api/{version}"), "application/json").await?;
        core_versions.push(version_entry(version, &list));
    }
    let mut groups = Vec::new();
    for group in apis["groups"].as_array().into_iter().flatten() {
        let name = group["name"].as_str().unwrap_or_default();
        let mut versions = Vec::new();
        for version in group["versions"].as_array().into_iter().flatten() {
            let Some(version) = version["version"].as_str() else {
                continue;
            };
            let path = format!("/apis/{name}/{version}");
            match get_json(connection, &path, "application/json").await {
                Ok(list) => versions.push(version_entry(version, &list)),
                // An aggregated API that is down: skip its group-version, as kubectl does.
                Err(error @ ClusterError::Request(_)) => tracing::warn!("discovery: {error}"),
                Err(error) => return Err(error),
            }
        }
        groups.push(json!({"metadata": {"name": name}, "versions": versions}));
    }
    let api = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
        "items": [{"metadata": {"name": ""}, "versions": core_versions}]});
    let apis = json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
        "items": groups});
    discovery_from_values(&api, &apis)
}

/// One `APIResourceList` as an aggregated discovery version entry (subresources left out).
fn version_entry(version: &str, list: &Value) -> Value {
    let (group, _) = split_api_version(list["groupVersion"].as_str().unwrap_or(version));
    let resources: Vec<Value> = list["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"].as_str().is_some_and(|n| !n.contains('/')))
        .map(|r| {
            json!({
                "resource": r["name"],
                "responseKind": {"group": group, "version": version, "kind": r["kind"]},
                "scope": if r["namespaced"] == true { "Namespaced" } else { "Cluster" },
                "singularResource": r["singularName"],
                "shortNames": r.get("shortNames").cloned().unwrap_or(json!([])),
                "verbs": r.get("verbs").cloned().unwrap_or(json!([])),
                "categories": r.get("categories").cloned().unwrap_or(json!([])),
            })
        })
        .collect();
    json!({"version": version, "resources": resources})
}

fn discovery_from_values(api: &Value, apis: &Value) -> Result<Discovery, ClusterError> {
    // A `Value` always writes as JSON: its `Display` is `serde_json::to_vec` without the error.
    let bytes = |v: &Value| v.to_string().into_bytes();
    Discovery::from_json(bytes(api), bytes(apis))
        .map_err(|e| RequestError::Discovery(Arc::new(e)).into())
}

async fn get_json(
    connection: &Connection,
    path: &str,
    accept: &str,
) -> Result<Value, ClusterError> {
    let response = connection.get_accepting(path, accept).await?;
    parse_ok(path, &response)
}

/// The body of a 200 answer to `GET path`, read as JSON; any other status is an error naming
/// the path.
pub fn parse_ok<T: DeserializeOwned>(
    path: &str,
    response: &RawResponse,
) -> Result<T, ClusterError> {
    let request = || format!("GET {path}");
    if response.status != 200 {
        return Err(status_error(request(), response).into());
    }
    serde_json::from_slice(&response.body).map_err(|source| {
        RequestError::Decode {
            request: request(),
            source: Arc::new(source),
        }
        .into()
    })
}

/// An answer whose status is not the one `request` needs.
pub fn status_error(request: String, response: &RawResponse) -> RequestError {
    RequestError::Status {
        request,
        code: response.status,
        status: Box::new(ApiStatus::from_response(response.status, &response.body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_group_version_lists_convert_to_the_aggregated_shape() {
        let list = json!({"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": [
            {"name": "deployments", "singularName": "deployment", "namespaced": true,
             "kind": "Deployment", "verbs": ["get", "patch"], "shortNames": ["deploy"]},
            {"name": "deployments/scale", "namespaced": true, "kind": "Scale"}]});
        let apis = json!({"items": [{"metadata": {"name": "apps"},
            "versions": [version_entry("v1", &list)]}]});
        let discovery = discovery_from_values(&json!({"items": []}), &apis).unwrap();
        let deployment = discovery.resource("apps/v1", "Deployment").unwrap();
        assert_eq!(deployment.plural, "deployments");
        assert!(deployment.namespaced);
        assert!(discovery.resource("apps/v1", "Scale").is_none());
        assert_eq!(
            discovery.openapi_paths().iter().collect::<Vec<_>>(),
            ["apis/apps/v1"]
        );
        // The store of the schema layer reads the same JSON.
        let store = crate::schema::Store::from_parts(
            "test",
            [discovery.apis.as_slice()],
            std::iter::empty(),
        )
        .unwrap();
        let info = store.resource("apps/v1", "Deployment").unwrap();
        assert_eq!(
            (info.short_names.as_slice(), info.singular.as_str()),
            (&["deploy".to_string()][..], "deployment")
        );
    }
}
