//! The cluster's objects for the rules of `kube-lsp check --cluster`: the metadata lists the
//! references feature keeps in the editor (`cluster::objects`), fetched when a rule first asks
//! for one. The command waits for each list (a request is bounded by the timeout); a cluster
//! that cannot be connected to leaves the rules to the checked files alone.

use crate::cluster::ClusterSettings;
use crate::cluster::connection::Connection;
use crate::cluster::objects::{self, Listing, ObjectCache};
use crate::features::references::{ClusterObjects, ClusterStatus, list_key};
use crate::features::rules::ClusterLookup;
use crate::workspace::references::TargetType;

pub struct ClusterLists {
    runtime: tokio::runtime::Runtime,
    connection: Connection,
    cache: ObjectCache,
}

impl ClusterLists {
    /// Connects with `settings` (nothing is sent until a list is asked for); `None` when the
    /// kubeconfig has no usable context (the cluster check says why).
    pub fn connect(settings: &ClusterSettings) -> Option<ClusterLists> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        let connection = runtime
            .block_on(Connection::connect(settings))
            .inspect_err(|error| tracing::debug!("check: no cluster for the rules: {error}"))
            .ok()?;
        Some(ClusterLists {
            runtime,
            connection,
            cache: ObjectCache::default(),
        })
    }

    /// What the rules look up in.
    pub fn lookup(&self) -> ClusterLookup<'_> {
        ClusterLookup {
            objects: self,
            default_namespace: &self.connection.namespace,
            generation: 0,
        }
    }
}

impl ClusterObjects for ClusterLists {
    fn status(&self) -> ClusterStatus {
        ClusterStatus::Connected {
            context: self.connection.context.as_str().into(),
        }
    }

    fn list(
        &self,
        target: &TargetType<'_>,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> Listing {
        let key = list_key(target, namespace);
        let (listing, fetch) = self.cache.lookup(&key, name);
        if !fetch {
            return listing;
        }
        let result = self
            .runtime
            .block_on(objects::fetch(&self.connection, &key));
        if let Err(error) = &result {
            tracing::debug!("check: the cluster's {} not listed: {error}", key.kind);
        }
        self.cache.store(&key, &result);
        self.cache.lookup(&key, name).0
    }
}
