//! The cluster's own schema: its discovery and the OpenAPI v3 document of every served
//! group-version, kept on disk ([`super::cache`]) so a restarted server has it at once.
//!
//! `/openapi/v3` lists each group-version's document with a `?hash=` URL; a document is fetched
//! only when its hash is new (neither in memory from the previous fetch nor on disk), so a warm
//! start or a periodic refresh of an unchanged cluster costs three small requests (`/api`,
//! `/apis`, `/openapi/v3`). Documents that are on disk are not kept in memory: the schema store
//! reads one from disk the first time a document of its group-version is validated.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::ClusterError;
use super::cache::DiskCache;
use super::connection::Connection;
use super::discovery::{self, Discovery};
use crate::schema::store::StoreError;
use crate::schema::{OpenApiSource, SourceKind, Store};

/// One group-version's OpenAPI v3 document.
#[derive(Clone, Debug)]
pub struct OpenApiDocument {
    /// The `hash` of its `?hash=` URL (identifies the content).
    pub hash: String,
    /// The JSON, when it is not in the disk cache.
    pub json: Option<Arc<[u8]>>,
}

/// A cluster's schema as fetched (or read from the disk cache).
#[derive(Debug)]
pub struct LiveSchema {
    pub context: String,
    pub server: String,
    pub discovery: Arc<Discovery>,
    /// OpenAPI path (`apis/apps/v1`) → document.
    pub openapi: BTreeMap<String, OpenApiDocument>,
    /// The paths whose documents this fetch downloaded (the others came from memory or disk).
    pub downloaded: Vec<String>,
    /// Where documents without `json` are.
    cache: Option<DiskCache>,
}

#[derive(Deserialize)]
struct OpenApiIndex {
    #[serde(default)]
    paths: BTreeMap<String, IndexEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexEntry {
    #[serde(rename = "serverRelativeURL")]
    server_relative_url: String,
}

/// The `hash` query parameter of a document URL.
fn hash_of(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("hash="))
        .filter(|h| !h.is_empty())
}

impl LiveSchema {
    /// The cached schema of `context` on `server`, when discovery and every indexed document are
    /// on disk. No request is sent.
    pub fn from_disk(cache: &DiskCache, context: &str, server: &str) -> Option<LiveSchema> {
        let (api, apis) = cache.read_discovery()?;
        let discovery = Discovery::from_json(api, apis)
            .map_err(|e| tracing::warn!("cluster cache {}: {e}", cache.dir().display()))
            .ok()?;
        let mut openapi = BTreeMap::new();
        for (path, hash) in cache.read_openapi_index() {
            if !cache.has_openapi(&path, &hash) {
                return None;
            }
            openapi.insert(path, OpenApiDocument { hash, json: None });
        }
        Some(LiveSchema {
            context: context.to_string(),
            server: server.to_string(),
            discovery: Arc::new(discovery),
            openapi,
            downloaded: Vec::new(),
            cache: Some(cache.clone()),
        })
    }

    /// Fetches discovery and the OpenAPI index, and each document whose hash is not in
    /// `previous` nor on disk; writes what is new to the disk cache.
    pub async fn fetch(
        connection: &Connection,
        cache: Option<&DiskCache>,
        previous: Option<&LiveSchema>,
    ) -> Result<LiveSchema, ClusterError> {
        let discovery = Arc::new(discovery::fetch(connection).await?);
        let index = fetch_index(connection).await?;
        let mut openapi = BTreeMap::new();
        let mut downloaded = Vec::new();
        for path in discovery.openapi_paths() {
            let Some(url) = index.get(path) else { continue };
            let Some(hash) = hash_of(url) else { continue };
            let known = previous
                .and_then(|p| p.openapi.get(path))
                .filter(|d| d.hash == hash && (d.json.is_some() || cache.is_some()))
                .cloned()
                .or_else(|| {
                    cache?.has_openapi(path, hash).then(|| OpenApiDocument {
                        hash: hash.to_string(),
                        json: None,
                    })
                });
            let document = match known {
                Some(document) => document,
                None => {
                    let json = fetch_document(connection, url).await?;
                    downloaded.push(path.clone());
                    let on_disk = cache.is_some_and(|c| c.write_openapi(path, hash, &json));
                    OpenApiDocument {
                        hash: hash.to_string(),
                        json: (!on_disk).then(|| json.into()),
                    }
                }
            };
            openapi.insert(path.clone(), document);
        }
        if let Some(cache) = cache {
            cache.write_discovery(&discovery.api, &discovery.apis);
            cache.write_openapi_index(
                &openapi
                    .iter()
                    .map(|(path, d)| (path.clone(), d.hash.clone()))
                    .collect(),
            );
        }
        Ok(LiveSchema {
            context: connection.context.clone(),
            server: connection.server.clone(),
            discovery,
            openapi,
            downloaded,
            cache: cache.cloned(),
        })
    }

    /// Whether both describe the same schema (same discovery, same document hashes).
    pub fn same_as(&self, other: &LiveSchema) -> bool {
        self.discovery.api == other.discovery.api
            && self.discovery.apis == other.discovery.apis
            && self.openapi.len() == other.openapi.len()
            && self
                .openapi
                .iter()
                .zip(&other.openapi)
                .all(|((a, da), (b, db))| a == b && da.hash == db.hash)
    }

    /// How messages name this source: "context admin".
    pub fn source_name(&self) -> String {
        format!("context {}", self.context)
    }

    /// The schema store of this cluster, the top layer of the catalog. Cheap: discovery is
    /// indexed, each OpenAPI document is read (from memory or disk) and parsed on first use.
    pub fn store(&self) -> Result<Store, StoreError> {
        let openapi = self.openapi.iter().map(|(path, document)| {
            let source = match (&document.json, &self.cache) {
                (Some(json), _) => {
                    let json = json.clone();
                    OpenApiSource::Lazy(Box::new(move || Ok(json.to_vec())))
                }
                (None, Some(cache)) => {
                    let (cache, path, hash) = (cache.clone(), path.clone(), document.hash.clone());
                    OpenApiSource::Lazy(Box::new(move || {
                        cache
                            .read_openapi(&path, &hash)
                            .map_err(|source| DocumentError::GoneFromCache { path, source }.into())
                    }))
                }
                // Not reached: a document is kept in memory unless the cache holds it.
                (None, None) => {
                    let path = path.clone();
                    OpenApiSource::Lazy(Box::new(move || {
                        Err(DocumentError::NotKept { path }.into())
                    }))
                }
            };
            (path.clone(), source)
        });
        Store::from_parts(
            &self.source_name(),
            [
                self.discovery.api.as_slice(),
                self.discovery.apis.as_slice(),
            ],
            openapi,
        )
        .map(|store| store.with_kind(SourceKind::Cluster))
    }
}

/// Why the store of a cluster schema cannot read one of its OpenAPI documents when it first
/// needs it.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The disk cache lost the document since it was fetched (removed by hand, or by another
    /// kube-lsp that fetched a newer one).
    #[error("{path} is gone from the cache")]
    GoneFromCache {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The document is neither in memory nor on disk.
    #[error("{path} was not kept")]
    NotKept { path: String },
}

/// The OpenAPI v3 index: path → document URL. Empty on servers without OpenAPI v3 (before
/// 1.24): their kinds still come from discovery, their schemas from the lower layers.
async fn fetch_index(connection: &Connection) -> Result<BTreeMap<String, String>, ClusterError> {
    let response = connection.get("/openapi/v3").await?;
    if response.status == 404 {
        tracing::info!("context {}: no /openapi/v3", connection.context);
        return Ok(BTreeMap::new());
    }
    let index: OpenApiIndex = discovery::parse_ok("/openapi/v3", &response)?;
    Ok(index
        .paths
        .into_iter()
        .map(|(path, entry)| (path, entry.server_relative_url))
        .collect())
}

async fn fetch_document(connection: &Connection, url: &str) -> Result<Vec<u8>, ClusterError> {
    let response = connection.get(url).await?;
    if response.status != 200 {
        return Err(discovery::status_error(format!("GET {url}"), &response).into());
    }
    Ok(response.body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_come_from_the_url() {
        assert_eq!(hash_of("/openapi/v3/apis/apps/v1?hash=AB12"), Some("AB12"));
        assert_eq!(hash_of("/openapi/v3/api/v1?x=1&hash=CD"), Some("CD"));
        assert_eq!(hash_of("/openapi/v3/api/v1"), None);
        assert_eq!(hash_of("/openapi/v3/api/v1?hash="), None);
    }
}
