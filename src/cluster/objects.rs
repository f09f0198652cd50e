//! The objects a cluster holds, by name, for references between objects: one kind in one
//! namespace at a time, **metadata only** (`PartialObjectMetadataList`: names and labels; never a
//! Secret's data, and the body of a list is dropped once its names are read), paged and bounded,
//! each request within the connection's timeout. [`ObjectCache`] keeps the lists of one
//! connection and says, without waiting, what it knows: callers fetch what it asks for in the
//! background and ask again, so a slow or down cluster never holds up an answer.
//!
//! The cache follows discovery's rules ([`Connection::resource`]): a list is fetched once, again
//! when a name is missing from it and it is older than [`REFETCH_MISSING`], and at most every
//! [`REFRESH`] otherwise; a failed or unserved list is asked again after [`REFETCH_MISSING`].
//! Lists live as long as the connection (a new context or `kube-lsp.refreshCluster` starts a new
//! cache). Nothing of it is written to disk.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::connection::{Connection, Resource};
use super::{ClusterError, RequestError};
use crate::schema::store::split_api_version;

/// The only representation asked for: a server that cannot give metadata alone gives nothing.
pub const METADATA_ACCEPT: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/// Objects per page, and pages per list at most: a namespace with more has a partial list.
pub const PAGE: usize = 500;
pub const MAX_PAGES: usize = 20;

/// A list missing a name that is asked for is fetched again once older than this.
pub const REFETCH_MISSING: Duration = Duration::from_secs(10);
/// Any list is fetched again once older than this.
pub const REFRESH: Duration = Duration::from_secs(300);

/// Which list: a kind (by group, and the apiVersion to ask when known) in a namespace (`None`
/// for cluster-scoped kinds).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ListKey {
    pub group: Box<str>,
    pub kind: Box<str>,
    pub api_version: Option<Box<str>>,
    pub namespace: Option<Box<str>>,
}

/// An object of a list: its name, and its labels (selectors match Pods by them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectMeta {
    pub name: Box<str>,
    pub labels: Vec<(Box<str>, Box<str>)>,
}

/// The objects of one kind in one namespace, sorted by name.
#[derive(Debug)]
pub struct ObjectList {
    pub objects: Vec<ObjectMeta>,
    /// Whether every object is in it (not cut at [`MAX_PAGES`]).
    pub complete: bool,
    /// The resource it was listed as (plural, scope).
    pub resource: Resource,
    fetched: Instant,
}

impl ObjectList {
    /// A list fetched now (sorted by name here).
    pub fn new(mut objects: Vec<ObjectMeta>, complete: bool, resource: Resource) -> ObjectList {
        objects.sort_by(|a, b| a.name.cmp(&b.name));
        ObjectList {
            objects,
            complete,
            resource,
            fetched: Instant::now(),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.objects
            .binary_search_by(|o| (*o.name).cmp(name))
            .is_ok()
    }

    pub fn age(&self) -> Duration {
        self.fetched.elapsed()
    }
}

/// What the cache knows of a list now.
#[derive(Clone, Debug)]
pub enum Listing {
    Ready(Arc<ObjectList>),
    /// Not fetched yet (or being fetched the first time).
    Pending,
    /// The cluster does not serve the kind.
    NotServed,
    /// The list could not be had: why (forbidden, unreachable, an unexpected answer).
    Unavailable(Arc<str>),
}

#[derive(Clone, Debug)]
enum State {
    Empty,
    Ready(Arc<ObjectList>),
    NotServed(Instant),
    Failed(Arc<str>, Instant),
}

#[derive(Debug)]
struct Slot {
    state: State,
    fetching: bool,
}

/// The lists of one connection.
#[derive(Debug, Default)]
pub struct ObjectCache {
    slots: Mutex<HashMap<ListKey, Slot>>,
}

impl ObjectCache {
    fn slots(&self) -> MutexGuard<'_, HashMap<ListKey, Slot>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What is known of `key` now, for a lookup of `name` (or of the whole list), and whether
    /// the caller should fetch it ([`fetch`]) and [`store`](Self::store) the result: the slot is
    /// then marked as being fetched, so one caller fetches it.
    pub fn lookup(&self, key: &ListKey, name: Option<&str>) -> (Listing, bool) {
        let mut slots = self.slots();
        let slot = slots.entry(key.clone()).or_insert(Slot {
            state: State::Empty,
            fetching: false,
        });
        let (listing, stale) = match &slot.state {
            State::Empty => (Listing::Pending, true),
            State::Ready(list) => {
                let missing = name.is_some_and(|n| !list.contains(n));
                let age = list.age();
                let stale = age > REFRESH || (missing && age > REFETCH_MISSING);
                (Listing::Ready(list.clone()), stale)
            }
            State::NotServed(at) => (Listing::NotServed, at.elapsed() > REFETCH_MISSING),
            State::Failed(why, at) => (
                Listing::Unavailable(why.clone()),
                at.elapsed() > REFETCH_MISSING,
            ),
        };
        let fetch = stale && !slot.fetching;
        slot.fetching |= fetch;
        (listing, fetch)
    }

    /// The result of a fetch `lookup` asked for.
    pub fn store(&self, key: &ListKey, result: &Result<Option<ObjectList>, ClusterError>) {
        let state = match result {
            Ok(Some(list)) => State::Ready(Arc::new(ObjectList {
                objects: list.objects.clone(),
                complete: list.complete,
                resource: list.resource.clone(),
                fetched: list.fetched,
            })),
            Ok(None) => State::NotServed(Instant::now()),
            Err(error) => State::Failed(error.to_string().into(), Instant::now()),
        };
        self.slots().insert(
            key.clone(),
            Slot {
                state,
                fetching: false,
            },
        );
    }

    /// Forgets every list (the cluster may have changed under them).
    pub fn clear(&self) {
        self.slots().clear();
    }
}

#[derive(Deserialize)]
struct MetadataList {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: ListMeta,
    /// `null` when the list is empty.
    #[serde(default)]
    items: Option<Vec<Item>>,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    next: Option<String>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    metadata: ItemMeta,
}

/// Only these fields of an object's metadata are read (annotations, which may quote a Secret
/// in `last-applied-configuration`, are skipped).
#[derive(Deserialize, Default)]
struct ItemMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    labels: Option<HashMap<String, String>>,
}

/// The resource serving `key`'s kind: by its apiVersion when known, else any version of its
/// group. `None`: the cluster does not serve it.
pub async fn resource_of(
    connection: &Connection,
    key: &ListKey,
) -> Result<Option<Resource>, ClusterError> {
    if let Some(api_version) = &key.api_version
        && let Some(resource) = connection.resource(api_version, &key.kind).await?
    {
        return Ok(Some(resource));
    }
    let discovery = connection.discovery().await?;
    let mut serving: Vec<&Resource> = discovery
        .resources()
        .filter(|r| r.kind == *key.kind && split_api_version(&r.api_version).0 == &*key.group)
        .collect();
    // Stable: the same version every time (`v1` before `v1beta1`).
    serving.sort_by(|a, b| a.api_version.cmp(&b.api_version));
    Ok(serving.first().map(|r| (*r).clone()))
}

/// Lists the names (and labels) of `key`'s objects: metadata only, [`PAGE`] at a time, at most
/// [`MAX_PAGES`]. `Ok(None)`: the cluster does not serve the kind.
pub async fn fetch(
    connection: &Connection,
    key: &ListKey,
) -> Result<Option<ObjectList>, ClusterError> {
    let Some(resource) = resource_of(connection, key).await? else {
        return Ok(None);
    };
    let namespace = key.namespace.as_deref().filter(|_| resource.namespaced);
    let base = resource.url(namespace, None);
    let mut objects = Vec::new();
    let mut next: Option<String> = None;
    let mut complete = false;
    for _ in 0..MAX_PAGES {
        let mut url = format!("{base}?limit={PAGE}");
        if let Some(token) = &next {
            url.push_str("&continue=");
            url.push_str(&encode_query(token));
        }
        let response = connection.get_accepting(&url, METADATA_ACCEPT).await?;
        let request = format!("GET {base}");
        if response.status == 404 {
            return Ok(None);
        }
        if response.status != 200 {
            return Err(RequestError::Status {
                request,
                code: response.status,
                status: Box::new(super::dry_run::ApiStatus::from_response(
                    response.status,
                    &response.body,
                )),
            }
            .into());
        }
        let page: MetadataList =
            serde_json::from_slice(&response.body).map_err(|source| RequestError::Decode {
                request: request.clone(),
                source: Arc::new(source),
            })?;
        if page.kind != "PartialObjectMetadataList" {
            // Never read a full list (it could hold a Secret's data).
            return Err(RequestError::Status {
                request,
                code: 406,
                status: Box::new(super::dry_run::ApiStatus {
                    code: 406,
                    message: format!(
                        "answered {} instead of PartialObjectMetadataList",
                        page.kind
                    ),
                    ..Default::default()
                }),
            }
            .into());
        }
        objects.extend(page.items.unwrap_or_default().into_iter().map(|item| {
            let mut labels: Vec<(Box<str>, Box<str>)> = item
                .metadata
                .labels
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            labels.sort();
            ObjectMeta {
                name: item.metadata.name.into(),
                labels,
            }
        }));
        next = page.metadata.next.filter(|t| !t.is_empty());
        if next.is_none() {
            complete = true;
            break;
        }
    }
    objects.sort_by(|a, b| a.name.cmp(&b.name));
    objects.dedup_by(|a, b| a.name == b.name);
    tracing::debug!(
        "cluster {}: {} {} in {}{}",
        connection.context,
        objects.len(),
        resource.plural,
        namespace.unwrap_or("the cluster"),
        if complete { "" } else { " (cut)" }
    );
    Ok(Some(ObjectList {
        objects,
        complete,
        resource,
        fetched: Instant::now(),
    }))
}

/// Percent-encodes a query value (a continue token is base64: `+`, `/`, `=`).
fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kind: &str) -> ListKey {
        ListKey {
            group: "".into(),
            kind: kind.into(),
            api_version: Some("v1".into()),
            namespace: Some("shop".into()),
        }
    }

    /// A list fetched `age` ago (sorted, as fetched lists are).
    fn list(names: &[&str], age: Duration) -> ObjectList {
        let mut names = names.to_vec();
        names.sort_unstable();
        ObjectList {
            objects: names
                .iter()
                .map(|n| ObjectMeta {
                    name: (*n).into(),
                    labels: Vec::new(),
                })
                .collect(),
            complete: true,
            resource: Resource {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                plural: "configmaps".into(),
                namespaced: true,
            },
            fetched: Instant::now() - age,
        }
    }

    #[test]
    fn one_caller_fetches_and_the_rest_get_what_is_known() {
        let cache = ObjectCache::default();
        let configmaps = key("ConfigMap");
        let (listing, fetch) = cache.lookup(&configmaps, Some("a"));
        assert!(matches!(listing, Listing::Pending) && fetch);
        let (listing, fetch) = cache.lookup(&configmaps, Some("a"));
        assert!(
            matches!(listing, Listing::Pending) && !fetch,
            "already being fetched"
        );
        cache.store(&configmaps, &Ok(Some(list(&["b", "a"], Duration::ZERO))));
        let (listing, fetch) = cache.lookup(&configmaps, Some("c"));
        let Listing::Ready(found) = listing else {
            panic!("ready")
        };
        assert!(!fetch, "missing, but fetched just now");
        assert!(found.contains("a") && found.contains("b") && !found.contains("c"));
    }

    #[test]
    fn a_missing_name_refetches_an_older_list_and_any_list_expires() {
        let cache = ObjectCache::default();
        let configmaps = key("ConfigMap");
        cache.lookup(&configmaps, None);
        cache.store(&configmaps, &Ok(Some(list(&["a"], REFETCH_MISSING * 2))));
        assert!(!cache.lookup(&configmaps, Some("a")).1, "found: kept");
        let (listing, fetch) = cache.lookup(&configmaps, Some("new"));
        assert!(
            matches!(listing, Listing::Ready(_)) && fetch,
            "kept while fetched again"
        );
        cache.store(&configmaps, &Ok(Some(list(&["a"], REFRESH * 2))));
        assert!(cache.lookup(&configmaps, Some("a")).1, "too old");
    }

    #[test]
    fn unserved_kinds_and_failures_are_asked_again_later() {
        let cache = ObjectCache::default();
        let widgets = key("Widget");
        cache.lookup(&widgets, None);
        cache.store(&widgets, &Ok(None));
        let (listing, fetch) = cache.lookup(&widgets, Some("w"));
        assert!(matches!(listing, Listing::NotServed) && !fetch);
        let failed: Result<Option<ObjectList>, ClusterError> =
            Err(super::super::ConfigError::NoCurrentContext.into());
        cache.store(&widgets, &failed);
        let (listing, fetch) = cache.lookup(&widgets, None);
        let Listing::Unavailable(why) = listing else {
            panic!("unavailable")
        };
        assert_eq!(&*why, "the kubeconfig has no current-context");
        assert!(!fetch);
        cache.clear();
        assert!(cache.lookup(&widgets, None).1);
    }

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(encode_query("eyJ2Ij+/="), "eyJ2Ij%2B%2F%3D");
    }
}
