//! The schema store: a GVK index from aggregated discovery, and the OpenAPI v3 group-version
//! documents behind it, loaded lazily (decompressed and parsed on first use, then cached).
//!
//! Only `components.schemas` of each OpenAPI document is kept ([`super::openapi`]), so a loaded
//! group-version costs its schemas, not the whole document.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

use super::builtin;
use super::openapi::{GroupVersionSchemas, GvkRef};

/// Where a schema came from, as users read it in messages ("not in built-in Kubernetes 1.37").
pub const BUILTIN_SOURCE: &str = "built-in Kubernetes 1.37";

/// Namespaced or cluster-wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// A resource as discovery describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    pub group: String,
    pub version: String,
    pub kind: String,
    /// The plural resource name (`deployments`).
    pub plural: String,
    pub singular: String,
    pub scope: Scope,
    pub short_names: Vec<String>,
    pub verbs: Vec<String>,
    pub categories: Vec<String>,
    /// The OpenAPI v3 path of its group-version (`api/v1`, `apis/apps/v1`).
    pub openapi_path: String,
}

impl ResourceInfo {
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }
}

pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// Where an OpenAPI v3 group-version document comes from: read when first needed.
pub enum OpenApiSource {
    /// zstd-compressed JSON embedded in the binary.
    Compressed(&'static [u8]),
    /// JSON bytes already in memory (what an apiserver returned).
    Json(Vec<u8>),
    /// JSON produced on first use (e.g. fetched then).
    Lazy(Box<dyn FnOnce() -> Result<Vec<u8>, BoxError> + Send>),
}

/// The error of a source the store does not know the kind of (a lazy document, a kind's loader).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why the store could not read a discovery or OpenAPI document.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The zstd frame of an embedded document is broken.
    #[error("zstd: {0}")]
    Zstd(#[from] ruzstd::decoding::errors::FrameDecoderError),
    /// Decompressing an embedded document failed.
    #[error("zstd: {0}")]
    ZstdRead(#[from] std::io::Error),
    /// A discovery or OpenAPI document is not the JSON it should be.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A lazy source could not produce its document.
    #[error(transparent)]
    Source(BoxError),
}

impl OpenApiSource {
    fn read(self) -> Result<Vec<u8>, StoreError> {
        match self {
            OpenApiSource::Compressed(bytes) => decompress(bytes),
            OpenApiSource::Json(json) => Ok(json),
            OpenApiSource::Lazy(load) => load().map_err(StoreError::Source),
        }
    }
}

/// A group-version document, parsed on first use (its source is dropped then).
struct GroupVersionSlot {
    group: String,
    version: String,
    pending: Mutex<Option<OpenApiSource>>,
    loaded: OnceLock<Option<Arc<GroupVersionSchemas>>>,
}

/// Builds one kind's schemas when a document first needs them (a CRD's are converted from its
/// text only then).
pub type KindLoader = Box<dyn FnOnce() -> Result<GroupVersionSchemas, BoxError> + Send>;

/// The schemas of one kind of a lazily read store, built on first use (the loader is dropped then).
struct KindSlot {
    pending: Mutex<Option<KindLoader>>,
    loaded: OnceLock<Option<Arc<GroupVersionSchemas>>>,
}

/// What kind of source a store is: decides its place among a catalog's layers and how messages
/// name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// A live apiserver (a kubeconfig context).
    Cluster,
    /// CustomResourceDefinitions found in open files or the workspace.
    Crd,
    /// Files named by the `schemaPaths` setting (or `check --schema-path`).
    SchemaPath,
    /// The schema embedded in the binary.
    Builtin,
    /// A tool's configuration files embedded in the binary (kustomize's kustomization files):
    /// below the built-in schema, and not named in "not in …" messages about other groups.
    Tool,
}

/// The group-versions of the kinds most manifests hold (workloads, services, config, RBAC,
/// network policies, CRDs), most used first. Not all: preloading the other built-in
/// group-versions would add parse time and memory to every start for kinds few files use.
pub const COMMON_GROUP_VERSIONS: [&str; 8] = [
    "api/v1",
    "apis/apps/v1",
    "apis/batch/v1",
    "apis/networking.k8s.io/v1",
    "apis/rbac.authorization.k8s.io/v1",
    "apis/policy/v1",
    "apis/autoscaling/v2",
    "apis/apiextensions.k8s.io/v1",
];

/// Discovery index plus lazily loaded OpenAPI documents.
pub struct Store {
    /// Unique per store of this process (validation results remember which store answered).
    id: u64,
    source: String,
    kind: SourceKind,
    resources: Vec<ResourceInfo>,
    /// (apiVersion, kind) → index into `resources`.
    by_gvk: HashMap<(String, String), usize>,
    /// The apiVersions this store serves.
    api_versions: std::collections::HashSet<String>,
    group_versions: HashMap<String, GroupVersionSlot>,
    /// Kinds with schemas of their own, built on first use (index into `resources` → slot);
    /// they are looked up here before `group_versions`.
    kind_slots: HashMap<usize, KindSlot>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("source", &self.source)
            .field("kind", &self.kind)
            .field("resources", &self.resources.len())
            .finish()
    }
}

#[derive(Deserialize)]
struct DiscoveryList {
    #[serde(default)]
    items: Vec<DiscoveryGroup>,
}

#[derive(Deserialize)]
struct DiscoveryGroup {
    #[serde(default)]
    metadata: DiscoveryMeta,
    #[serde(default)]
    versions: Vec<DiscoveryVersion>,
}

#[derive(Deserialize, Default)]
struct DiscoveryMeta {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct DiscoveryVersion {
    version: String,
    #[serde(default)]
    resources: Vec<DiscoveryResource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DiscoveryResource {
    resource: String,
    #[serde(default)]
    response_kind: Option<GvkRef>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    singular_resource: String,
    #[serde(default)]
    short_names: Vec<String>,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
}

/// Frames claiming more than this are decompressed by streaming (no up-front allocation).
const MAX_DECOMPRESSED: u64 = 256 << 20;

pub fn decompress(bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    // With the size the frame header states, one pass into a vector of that size: faster than
    // streaming into a growing one.
    let mut decoder = ruzstd::decoding::FrameDecoder::new();
    let mut header = bytes;
    if decoder.init(&mut header).is_ok() {
        let size = decoder.content_size();
        if size > 0 && size <= MAX_DECOMPRESSED {
            let mut out = Vec::with_capacity(size as usize);
            if decoder.decode_all_to_vec(bytes, &mut out).is_ok() && out.len() as u64 == size {
                return Ok(out);
            }
        }
    }
    let mut decoder = ruzstd::decoding::StreamingDecoder::new(bytes)?;
    let mut out = Vec::with_capacity(bytes.len() * 8);
    decoder.read_to_end(&mut out)?;
    Ok(out)
}

/// The resources an aggregated discovery document (`APIGroupDiscoveryList`) lists; subresources
/// (no response kind) are skipped.
pub fn parse_discovery(json: &[u8]) -> Result<Vec<ResourceInfo>, StoreError> {
    let list: DiscoveryList = serde_json::from_slice(json)?;
    let mut resources = Vec::new();
    for group in list.items {
        for version in group.versions {
            for resource in version.resources {
                let kind = resource
                    .response_kind
                    .map(|k| k.kind)
                    .filter(|k| !k.is_empty());
                let Some(kind) = kind else { continue };
                let group_name = group.metadata.name.clone();
                resources.push(ResourceInfo {
                    openapi_path: openapi_path(&group_name, &version.version),
                    group: group_name,
                    version: version.version.clone(),
                    kind,
                    plural: resource.resource,
                    singular: resource.singular_resource,
                    scope: if resource.scope == "Cluster" {
                        Scope::Cluster
                    } else {
                        Scope::Namespaced
                    },
                    short_names: resource.short_names,
                    verbs: resource.verbs,
                    categories: resource.categories,
                });
            }
        }
    }
    Ok(resources)
}

/// The OpenAPI v3 path of a group-version: `api/v1`, `apis/apps/v1`.
pub fn openapi_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn group_version_of_path(path: &str) -> Option<(String, String)> {
    if let Some(version) = path.strip_prefix("api/") {
        return Some((String::new(), version.to_string()));
    }
    let (group, version) = path.strip_prefix("apis/")?.split_once('/')?;
    Some((group.to_string(), version.to_string()))
}

impl Store {
    /// The built-in schema, parsed once per process.
    pub fn builtin() -> &'static Store {
        Self::builtin_shared()
    }

    /// The built-in schema as a catalog layer (the same process-wide instance).
    pub fn builtin_shared() -> &'static Arc<Store> {
        static BUILTIN: OnceLock<Arc<Store>> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let discovery: Vec<Vec<u8>> = builtin::DISCOVERY
                .iter()
                .map(|(_, bytes)| decompress(bytes).expect("the embedded discovery decompresses"))
                .collect();
            let openapi = builtin::OPENAPI
                .iter()
                .map(|(path, bytes)| (path.to_string(), OpenApiSource::Compressed(bytes)));
            let store =
                Store::from_parts(BUILTIN_SOURCE, discovery.iter().map(Vec::as_slice), openapi)
                    .expect("the embedded discovery parses");
            Arc::new(store.with_kind(SourceKind::Builtin))
        })
    }

    /// A store from aggregated discovery documents (`APIGroupDiscoveryList` JSON of `/api` and
    /// `/apis`) and OpenAPI v3 group-version documents by path (`api/v1`, `apis/apps/v1`), read
    /// on first use. Its kind is [`SourceKind::Cluster`] unless changed with [`Store::with_kind`].
    pub fn from_parts<'d>(
        source: &str,
        discovery: impl IntoIterator<Item = &'d [u8]>,
        openapi: impl IntoIterator<Item = (String, OpenApiSource)>,
    ) -> Result<Store, StoreError> {
        let mut resources = Vec::new();
        for json in discovery {
            resources.extend(parse_discovery(json)?);
        }
        Ok(Self::from_resources(source, resources, openapi))
    }

    /// A store from resources already described and their OpenAPI documents by path.
    pub fn from_resources(
        source: &str,
        resources: Vec<ResourceInfo>,
        openapi: impl IntoIterator<Item = (String, OpenApiSource)>,
    ) -> Store {
        let mut group_versions = HashMap::new();
        for (path, document) in openapi {
            let Some((group, version)) = group_version_of_path(&path) else {
                continue;
            };
            group_versions.insert(
                path,
                GroupVersionSlot {
                    group,
                    version,
                    pending: Mutex::new(Some(document)),
                    loaded: OnceLock::new(),
                },
            );
        }
        Self::assemble(source, SourceKind::Cluster, resources, group_versions)
    }

    /// A store from schemas already built (CRDs): each resource with the schemas of its kind.
    /// Resources of one group-version share one [`GroupVersionSchemas`] (their schema names
    /// must not collide). Its kind is [`SourceKind::Crd`].
    pub fn from_schemas(
        source: &str,
        entries: impl IntoIterator<Item = (ResourceInfo, GroupVersionSchemas)>,
    ) -> Store {
        let mut resources = Vec::new();
        let mut merged: HashMap<String, (String, String, GroupVersionSchemas)> = HashMap::new();
        for (resource, schemas) in entries {
            let slot = merged
                .entry(resource.openapi_path.clone())
                .or_insert_with(|| {
                    (
                        resource.group.clone(),
                        resource.version.clone(),
                        GroupVersionSchemas::default(),
                    )
                });
            slot.2.schemas.extend(schemas.schemas);
            slot.2.kinds.extend(schemas.kinds);
            resources.push(resource);
        }
        let group_versions = merged
            .into_iter()
            .map(|(path, (group, version, schemas))| {
                let loaded = OnceLock::new();
                let _ = loaded.set(Some(Arc::new(schemas)));
                let slot = GroupVersionSlot {
                    group,
                    version,
                    pending: Mutex::new(None),
                    loaded,
                };
                (path, slot)
            })
            .collect();
        Self::assemble(source, SourceKind::Crd, resources, group_versions)
    }

    /// A store whose kinds' schemas are built on first use, each by its own loader (CRDs: the
    /// index is read at once, a kind's schema only when a document of that kind is validated or
    /// completed). A loader that fails is logged, and its kind then counts as unknown. Its kind
    /// is [`SourceKind::Crd`].
    pub fn from_lazy_kinds(
        source: &str,
        entries: impl IntoIterator<Item = (ResourceInfo, KindLoader)>,
    ) -> Store {
        let mut resources = Vec::new();
        let mut kind_slots = HashMap::new();
        for (resource, loader) in entries {
            let slot = KindSlot {
                pending: Mutex::new(Some(loader)),
                loaded: OnceLock::new(),
            };
            kind_slots.insert(resources.len(), slot);
            resources.push(resource);
        }
        let mut store = Self::assemble(source, SourceKind::Crd, resources, HashMap::new());
        store.kind_slots = kind_slots;
        store
    }

    fn assemble(
        source: &str,
        kind: SourceKind,
        resources: Vec<ResourceInfo>,
        group_versions: HashMap<String, GroupVersionSlot>,
    ) -> Store {
        let api_versions = resources.iter().map(ResourceInfo::api_version).collect();
        let mut by_gvk = HashMap::new();
        for (i, r) in resources.iter().enumerate() {
            by_gvk.entry((r.api_version(), r.kind.clone())).or_insert(i);
        }
        Store {
            id: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
            source: source.to_string(),
            kind,
            resources,
            by_gvk,
            api_versions,
            group_versions,
            kind_slots: HashMap::new(),
        }
    }

    /// The same store as another kind of source.
    pub fn with_kind(mut self, kind: SourceKind) -> Store {
        self.kind = kind;
        self
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// What this store is, for messages: "built-in Kubernetes 1.37".
    /// Whether this store serves `apiVersion` (any kind of it).
    pub fn serves(&self, api_version: &str) -> bool {
        self.api_versions.contains(api_version)
    }

    /// A number no other store of this process has.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn resources(&self) -> &[ResourceInfo] {
        &self.resources
    }

    pub fn resource(&self, api_version: &str, kind: &str) -> Option<&ResourceInfo> {
        let index = self.index_of(api_version, kind)?;
        // A kind whose schemas could not be built is unknown, as if its CRD were not there.
        let failed = self
            .kind_slots
            .get(&index)
            .is_some_and(|slot| matches!(slot.loaded.get(), Some(None)));
        (!failed).then(|| &self.resources[index])
    }

    fn index_of(&self, api_version: &str, kind: &str) -> Option<usize> {
        self.by_gvk
            .get(&(api_version.to_string(), kind.to_string()))
            .copied()
    }

    /// The schemas of a kind with a slot of its own, built on first use.
    fn kind_schemas(
        &self,
        slot: &KindSlot,
        resource: &ResourceInfo,
    ) -> Option<Arc<GroupVersionSchemas>> {
        slot.loaded
            .get_or_init(|| {
                let load = slot
                    .pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()?;
                load()
                    .map_err(|e| {
                        tracing::warn!(
                            "{}: {} ({}): {e}",
                            self.source,
                            resource.kind,
                            resource.api_version()
                        )
                    })
                    .ok()
                    .map(Arc::new)
            })
            .clone()
    }

    /// Loads the group-versions most manifests use, ahead of their first use: parsing that the
    /// first file opened would otherwise wait for (on the thread of its open that finishes last).
    pub fn preload_common(&self) {
        for path in COMMON_GROUP_VERSIONS {
            self.group_version(path);
        }
    }

    /// The schemas of a group-version (by OpenAPI path), loaded on first use.
    pub fn group_version(&self, openapi_path: &str) -> Option<Arc<GroupVersionSchemas>> {
        let slot = self.group_versions.get(openapi_path)?;
        slot.loaded
            .get_or_init(|| {
                let pending = slot
                    .pending
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()?;
                let started = std::time::Instant::now();
                let json = pending
                    .read()
                    .map_err(|e| tracing::error!("{}: {openapi_path}: {e}", self.source))
                    .ok()?;
                let read = started.elapsed();
                let parsed = GroupVersionSchemas::parse(&json, &slot.group, &slot.version)
                    .map_err(|e| tracing::error!("{}: {openapi_path}: {e}", self.source))
                    .ok()
                    .map(Arc::new);
                tracing::debug!(
                    "{}: {openapi_path} ({} bytes) read in {read:.1?}, parsed after {:.1?}",
                    self.source,
                    json.len(),
                    started.elapsed()
                );
                parsed
            })
            .clone()
    }

    /// The schemas for `apiVersion` + `kind`, when the kind is known.
    pub fn schemas_for(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<(&ResourceInfo, Arc<GroupVersionSchemas>)> {
        let index = self.index_of(api_version, kind)?;
        let resource = &self.resources[index];
        let gv = match self.kind_slots.get(&index) {
            Some(slot) => self.kind_schemas(slot, resource)?,
            None => self.group_version(&resource.openapi_path)?,
        };
        gv.kinds.contains_key(kind).then_some((resource, gv))
    }

    /// Group-versions that know the kind (for "did you mean apps/v1?").
    pub fn api_versions_of_kind(&self, kind: &str) -> Vec<String> {
        let mut versions: Vec<String> = self
            .resources
            .iter()
            .filter(|r| r.kind == kind)
            .map(ResourceInfo::api_version)
            .collect();
        versions.dedup();
        versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::openapi::ValueKind;

    #[test]
    fn the_embedded_table_matches_the_folder() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/builtin/openapi/v3");
        let mut on_disk: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .filter_map(|e| {
                let rel = e.path().strip_prefix(&root).ok()?.to_str()?.to_string();
                let path = rel.strip_suffix(".json.zst")?.to_string();
                let versioned = path.starts_with("api/")
                    || path.strip_prefix("apis/").is_some_and(|p| p.contains('/'));
                versioned.then_some(path)
            })
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = builtin::OPENAPI
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(embedded, on_disk, "regenerate src/schema/builtin.rs");
    }

    #[test]
    fn discovery_indexes_kinds() {
        let store = Store::builtin();
        let deployment = store.resource("apps/v1", "Deployment").unwrap();
        assert_eq!(deployment.plural, "deployments");
        assert_eq!(deployment.scope, Scope::Namespaced);
        assert_eq!(deployment.short_names, ["deploy"]);
        assert_eq!(deployment.openapi_path, "apis/apps/v1");
        let namespace = store.resource("v1", "Namespace").unwrap();
        assert_eq!(namespace.scope, Scope::Cluster);
        assert_eq!(namespace.openapi_path, "api/v1");
        assert!(store.resource("v1", "Deployment").is_none());
        assert_eq!(store.api_versions_of_kind("Deployment"), ["apps/v1"]);
    }

    #[test]
    fn schemas_load_lazily_and_resolve_refs() {
        let store = Store::builtin();
        let (_, gv) = store.schemas_for("apps/v1", "Deployment").unwrap();
        let deployment = gv.kind("Deployment").unwrap();
        assert_eq!(deployment.kind(), ValueKind::Object);
        let spec = deployment.property("spec").unwrap();
        assert_eq!(spec.name, Some("io.k8s.api.apps.v1.DeploymentSpec"));
        assert!(spec.description().unwrap().contains("desired behavior"));
        let containers = spec
            .property("template")
            .and_then(|t| t.property("spec"))
            .and_then(|s| s.property("containers"))
            .unwrap();
        assert_eq!(containers.kind(), ValueKind::Array);
        assert_eq!(containers.list_type(), Some("map"));
        let container = containers.items().unwrap();
        assert!(container.required().iter().any(|r| &**r == "name"));
        let port = container
            .property("ports")
            .and_then(|p| p.items())
            .and_then(|p| p.property("containerPort"))
            .unwrap();
        assert_eq!(port.type_label(), "integer (int32)");
        let limits = container
            .property("resources")
            .and_then(|r| r.property("limits"))
            .unwrap();
        let quantity = limits.additional().unwrap().unwrap();
        assert_eq!(quantity.kind(), ValueKind::Quantity);
        let strategy = spec
            .property("strategy")
            .and_then(|s| s.property("rollingUpdate"))
            .and_then(|r| r.property("maxSurge"))
            .unwrap();
        assert_eq!(strategy.kind(), ValueKind::IntOrString);
        // The same Arc comes back: loaded once.
        let (_, again) = store.schemas_for("apps/v1", "StatefulSet").unwrap();
        assert!(Arc::ptr_eq(&gv, &again));
    }

    #[test]
    fn recursive_schemas_resolve_without_looping() {
        let store = Store::builtin();
        let (_, gv) = store
            .schemas_for("apiextensions.k8s.io/v1", "CustomResourceDefinition")
            .unwrap();
        let mut node = gv
            .kind("CustomResourceDefinition")
            .unwrap()
            .property("spec")
            .and_then(|s| s.property("versions"))
            .and_then(|v| v.items())
            .and_then(|v| v.property("schema"))
            .and_then(|s| s.property("openAPIV3Schema"))
            .unwrap();
        for _ in 0..50 {
            node = node
                .property("properties")
                .unwrap()
                .additional()
                .unwrap()
                .unwrap();
        }
        assert_eq!(node.kind(), ValueKind::Object);
        let json = node.property("default").unwrap();
        assert_eq!(json.kind(), ValueKind::Any);
    }
}
