//! The objects a rule can look at besides its own: every document of the workspace index except
//! those of the file being checked, plus that file's documents as they are now (the index takes
//! an open file's text only after typing pauses). Namespaces match as the index matches them:
//! an object that names none lands in whichever namespace it is applied to, so it can be the one
//! asked for; a referrer that names none finds targets in any namespace.
//!
//! When a cluster is configured, what the workspace does not hold is looked for among the
//! cluster's objects too: the metadata lists the references feature keeps
//! ([`ClusterObjects`]), in the namespace the asking object lands in (its own, else its
//! kustomizations', else the default one). A list not fetched yet is "pending": no answer until
//! it arrives.

use std::cell::Cell;
use std::collections::HashMap;
use std::path::Path;

use crate::features::references::{
    ClusterObjects, ClusterStatus, InCluster, Landing, Wanted, landing_in, object_in_cluster,
    pods_of_cluster,
};
use crate::workspace::document::{Document, Selector, group_of};
use crate::workspace::index::{Index, Namespace, ScanStatus};
use crate::workspace::references::TargetType;

/// The cluster the rules look in when the workspace has no answer.
#[derive(Clone, Copy)]
pub struct ClusterLookup<'a> {
    pub objects: &'a dyn ClusterObjects,
    /// The namespace of objects that name none and that no kustomization puts in one.
    pub default_namespace: &'a str,
    /// Changes whenever what the cluster says may have: answers that asked it are redone.
    pub generation: u64,
}

pub struct Universe<'a> {
    index: Option<&'a Index>,
    path: Option<&'a Path>,
    /// The file's own documents, by kind.
    local: HashMap<&'a str, Vec<&'a Document>>,
    cluster: Option<ClusterLookup<'a>>,
    /// Whether an answer depended on the cluster (a configured one, or one being connected).
    asked_cluster: Cell<bool>,
    /// How many documents [`named`](Self::named) gave (what a lookup by name costs).
    named_given: Cell<usize>,
    /// How many Services the lookups of Services gave (what a ServiceMonitor's answer costs).
    services_given: Cell<usize>,
}

impl<'a> Universe<'a> {
    /// `local`: the documents of the file at `path` (whose entries in `index` are left out).
    pub fn new(
        index: Option<&'a Index>,
        path: Option<&'a Path>,
        local: impl IntoIterator<Item = &'a Document>,
    ) -> Self {
        let mut by_kind: HashMap<&'a str, Vec<&'a Document>> = HashMap::new();
        for document in local {
            if let Some(kind) = document.kind.as_deref() {
                by_kind.entry(kind).or_default().push(document);
            }
        }
        Universe {
            index,
            path,
            local: by_kind,
            cluster: None,
            asked_cluster: Cell::new(false),
            named_given: Cell::new(0),
            services_given: Cell::new(0),
        }
    }

    /// Looks in `cluster` too for what the workspace does not hold.
    pub fn with_cluster(mut self, cluster: Option<ClusterLookup<'a>>) -> Self {
        self.cluster = cluster;
        self
    }

    /// Whether an answer depended on the cluster (it must be redone when the cluster's lists
    /// change).
    pub fn asked_cluster(&self) -> bool {
        self.asked_cluster.get()
    }

    /// Where an object naming `namespace` (or none) lands in the cluster.
    fn landing<'q>(
        &'q self,
        cluster: &ClusterLookup<'q>,
        namespace: Option<&'q str>,
    ) -> Landing<'q> {
        match (self.index, self.path, namespace) {
            (Some(index), Some(path), _) => {
                landing_in(index, cluster.default_namespace, path, namespace)
            }
            (_, _, Some(namespace)) => Landing::In(namespace),
            _ => Landing::In(cluster.default_namespace),
        }
    }

    /// What the cluster says of the object of `kind` (of `group`, listed as `api_version`)
    /// named `name` where an object naming `namespace` lands (`NotConfigured`: no cluster).
    pub fn object_in_cluster(
        &self,
        target: TargetType<'_>,
        namespace: Option<&str>,
        name: &str,
    ) -> InCluster {
        let Some(cluster) = self.cluster else {
            return InCluster::NotConfigured;
        };
        let wanted = Wanted {
            target,
            name,
            namespace: target.namespaced.then(|| self.landing(&cluster, namespace)),
        };
        self.noted(&cluster, object_in_cluster(cluster.objects, &wanted))
    }

    /// What the cluster says of Pods matching `selector` where an object naming `namespace`
    /// lands.
    pub fn pods_in_cluster(&self, namespace: Option<&str>, selector: &Selector) -> InCluster {
        let Some(cluster) = self.cluster else {
            return InCluster::NotConfigured;
        };
        let landing = self.landing(&cluster, namespace);
        self.noted(
            &cluster,
            pods_of_cluster(cluster.objects, landing, selector),
        )
    }

    fn noted(&self, cluster: &ClusterLookup<'_>, answer: InCluster) -> InCluster {
        if cluster.objects.status() != ClusterStatus::NotConfigured {
            self.asked_cluster.set(true);
        }
        answer
    }

    fn local_of<'q>(&'q self, kind: &str) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        self.local.get(kind).into_iter().flatten().copied()
    }

    /// Whether the workspace is still being read: "not found" would be premature.
    pub fn is_filling(&self) -> bool {
        self.index
            .is_some_and(|index| index.status() == ScanStatus::Running)
    }

    /// The documents of `kind` (in `group` when given) named `name`, in `namespace`.
    pub fn named<'q>(
        &'q self,
        kind: &'q str,
        group: Option<&'q str>,
        namespace: Option<&'q str>,
        name: &'q str,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        let indexed = self.index.into_iter().flat_map(move |index| {
            index
                .named(kind, group, scope(namespace), name)
                .filter(|found| Some(found.path) != self.path)
                .map(|found| found.document)
        });
        let local = self.local_of(kind).filter(move |d| {
            d.name.as_deref() == Some(name) && of_kind(d, kind, group) && admits(namespace, d)
        });
        local
            .chain(indexed)
            .inspect(|_| self.named_given.set(self.named_given.get() + 1))
    }

    /// How many documents lookups by name have given so far.
    pub fn named_given(&self) -> usize {
        self.named_given.get()
    }

    /// The documents of `kind` in `namespace`.
    pub fn of_kind<'q>(
        &'q self,
        kind: &'q str,
        namespace: Option<&'q str>,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        let indexed = self.index.into_iter().flat_map(move |index| {
            index
                .of_kind(kind, None, scope(namespace))
                .filter(|found| Some(found.path) != self.path)
                .map(|found| found.document)
        });
        let local = self.local_of(kind).filter(move |d| admits(namespace, d));
        local.chain(indexed)
    }

    /// Whether a document with Pods (workloads, CronJobs, Pods) in `namespace` has Pods that
    /// `selector` selects. With a label to match, only the workloads with Pods of that label are
    /// looked at.
    pub fn selects_a_workload(&self, namespace: Option<&str>, selector: &Selector) -> bool {
        let selected = |d: &Document| d.pod_labels.as_ref().is_some_and(|l| selector.matches(l));
        let Some((key, value)) = selector.match_labels.iter().next() else {
            return self.workloads(namespace).any(selected);
        };
        let local = crate::workspace::document::WORKLOAD_KINDS
            .iter()
            .flat_map(|kind| self.local_of(kind))
            .filter(|d| admits(namespace, d));
        let indexed = self.index.into_iter().flat_map(|index| {
            index
                .workloads_labelled(key, value, scope(namespace))
                .filter(|found| Some(found.path) != self.path)
                .map(|found| found.document)
        });
        local.chain(indexed).any(selected)
    }

    /// The Services of any namespace labelled `key: value` (looked up in the index).
    pub fn services_labelled<'q>(
        &'q self,
        key: &'q str,
        value: &'q str,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        let local = self
            .local_of("Service")
            .filter(move |d| d.labels.get(key) == Some(value));
        let indexed = self.index.into_iter().flat_map(move |index| {
            index
                .services_labelled(key, value)
                .filter(|found| Some(found.path) != self.path)
                .map(|found| found.document)
        });
        local
            .chain(indexed)
            .inspect(|_| self.services_given.set(self.services_given.get() + 1))
    }

    /// How many Services [`services_labelled`](Self::services_labelled) and
    /// [`services`](Self::services) gave so far.
    pub fn services_given(&self) -> usize {
        self.services_given.get()
    }

    /// Every Service of any namespace.
    pub fn services<'q>(&'q self) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        self.of_kind("Service", None)
            .inspect(|_| self.services_given.set(self.services_given.get() + 1))
    }

    /// The documents with Pods (workloads, CronJobs, Pods) in `namespace`.
    pub fn workloads<'q>(
        &'q self,
        namespace: Option<&'q str>,
    ) -> impl Iterator<Item = &'q Document> + use<'a, 'q> {
        crate::workspace::document::WORKLOAD_KINDS
            .iter()
            .flat_map(move |kind| self.of_kind(kind, namespace))
    }
}

fn scope(namespace: Option<&str>) -> Namespace<'_> {
    namespace.map_or(Namespace::Any, Namespace::In)
}

fn admits(namespace: Option<&str>, document: &Document) -> bool {
    match (namespace, document.namespace.as_deref()) {
        (Some(wanted), Some(has)) => wanted == has,
        _ => true,
    }
}

fn of_kind(document: &Document, kind: &str, group: Option<&str>) -> bool {
    document.kind.as_deref() == Some(kind)
        && group.is_none_or(|group| document.api_version.as_deref().map(group_of) == Some(group))
}
