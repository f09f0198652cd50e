//! Resolving a reference: the namespace it is looked up in (the owner's rules), the objects of
//! the workspace it names, and what the cluster says of it.

use std::path::Path;
use std::sync::Arc;

use super::{ClusterObjects, ClusterStatus, Scope};
use crate::cluster::objects::{Listing, ObjectList};
use crate::workspace::document::{Labels, Selector, WORKLOAD_KINDS};
use crate::workspace::index::{Found, Index, Namespace, ScanStatus};
use crate::workspace::kustomize::Kustomization;
use crate::workspace::references::{POD, Ref, TargetType};

/// The namespace an object lands in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Landing<'a> {
    In(&'a str),
    /// Kustomizations with different namespaces build it: it lands in each of them.
    Several,
}

impl Landing<'_> {
    /// Whether objects landing in `self` and in `other` can meet.
    pub fn meets(&self, other: Landing<'_>) -> bool {
        match (self, other) {
            (Landing::In(a), Landing::In(b)) => *a == b,
            _ => true,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Landing::In(namespace) => Some(namespace),
            Landing::Several => None,
        }
    }
}

/// Where `found` lands: its `metadata.namespace`, else its kustomizations' namespace, else the
/// default namespace.
pub fn landing<'a>(scope: &Scope<'a>, found: &Found<'a>) -> Landing<'a> {
    landing_at(scope, found.path, found.document.namespace.as_deref())
}

/// Where an object of the file `path` that names `namespace` (or none) lands.
pub fn landing_at<'a>(scope: &Scope<'a>, path: &Path, namespace: Option<&'a str>) -> Landing<'a> {
    landing_in(scope.index, scope.default_namespace, path, namespace)
}

/// [`landing_at`] with the index and the default namespace alone.
pub fn landing_in<'a>(
    index: &'a Index,
    default_namespace: &'a str,
    path: &Path,
    namespace: Option<&'a str>,
) -> Landing<'a> {
    if let Some(namespace) = namespace {
        return Landing::In(namespace);
    }
    landing_by(&index.kustomizations_of(path), default_namespace)
}

/// Where an object that names no namespace lands when `kustomizations` build its file.
pub fn landing_by<'a>(
    kustomizations: &[(&'a Path, &'a Kustomization)],
    default_namespace: &'a str,
) -> Landing<'a> {
    let mut namespaces = kustomizations
        .iter()
        .filter_map(|(_, k)| k.namespace.as_deref());
    match namespaces.next() {
        None => Landing::In(default_namespace),
        Some(first) if namespaces.all(|n| n == first) => Landing::In(first),
        Some(_) => Landing::Several,
    }
}

/// The namespace a reference of `referrer` is looked up in (`None` for cluster-scoped kinds):
/// the one it names (`subjects[].namespace`), else the referrer's.
pub fn namespace_of<'a>(
    scope: &Scope<'a>,
    referrer: &Found<'a>,
    reference: &'a Ref,
) -> Option<Landing<'a>> {
    namespace_where(reference, || landing(scope, referrer))
}

/// [`namespace_of`] for a referrer landing where `referrer_landing` says.
pub fn namespace_where<'a>(
    reference: &'a Ref,
    referrer_landing: impl FnOnce() -> Landing<'a>,
) -> Option<Landing<'a>> {
    if !reference.target().namespaced {
        return None;
    }
    Some(match reference.namespace() {
        Some(namespace) => Landing::In(namespace),
        None => referrer_landing(),
    })
}

/// What a reference points at.
#[derive(Clone, Copy, Debug)]
pub struct Wanted<'a> {
    pub target: TargetType<'a>,
    pub name: &'a str,
    /// `None` for cluster-scoped kinds.
    pub namespace: Option<Landing<'a>>,
}

impl<'a> Wanted<'a> {
    pub fn of(scope: &Scope<'a>, referrer: &Found<'a>, reference: &'a Ref) -> Wanted<'a> {
        Wanted::landing(reference, namespace_of(scope, referrer, reference))
    }

    /// What `reference` points at, looked for in `namespace`.
    pub fn landing(reference: &'a Ref, namespace: Option<Landing<'a>>) -> Wanted<'a> {
        Wanted {
            target: reference.target(),
            name: reference.target_name(),
            namespace,
        }
    }

    /// The group to match documents with: `None` (any) when the reference names no apiVersion.
    fn group(&self) -> Option<&'a str> {
        self.target.api_version.map(|_| self.target.group)
    }

    /// Whether `found` is an object of this kind landing where it is looked for.
    pub fn admits(&self, scope: &Scope<'a>, found: &Found<'a>) -> bool {
        let document = found.document;
        document.kind.as_deref() == Some(self.target.kind)
            && self.group().is_none_or(|g| document.group() == Some(g))
            && self
                .namespace
                .is_none_or(|ns| ns.meets(landing(scope, found)))
    }

    /// The workspace's objects it names.
    pub fn in_workspace(&self, scope: &Scope<'a>) -> Vec<Found<'a>> {
        scope
            .index
            .named(self.target.kind, self.group(), Namespace::Any, self.name)
            .filter(|found| self.admits(scope, found))
            .collect()
    }

    /// The workspace's objects of its kind where it is looked for (any name).
    pub fn of_kind(&self, scope: &Scope<'a>) -> impl Iterator<Item = Found<'a>> + 'a {
        let wanted = *self;
        let (index, default_namespace, cluster, roots) = (
            scope.index,
            scope.default_namespace,
            scope.cluster,
            scope.roots,
        );
        scope
            .index
            .of_kind(self.target.kind, self.group(), Namespace::Any)
            .filter(move |found| {
                let scope = Scope {
                    index,
                    default_namespace,
                    cluster,
                    roots,
                };
                wanted.admits(&scope, found)
            })
    }

    /// Whether the workspace has objects of its kind there whose name is not known (written with
    /// a template action, or `generateName`): one of them may be it.
    pub fn unnamed_candidates(&self, scope: &Scope<'a>) -> bool {
        scope
            .index
            .of_kind(self.target.kind, self.group(), Namespace::Any)
            .filter(|f| f.document.name.is_none())
            .any(|f| self.admits(scope, &f))
    }

    /// The namespace it is looked for in the cluster, when one (`Err`: several).
    fn cluster_namespace(&self) -> Result<Option<&'a str>, ()> {
        match self.namespace {
            None => Ok(None),
            Some(Landing::In(namespace)) => Ok(Some(namespace)),
            Some(Landing::Several) => Err(()),
        }
    }
}

/// What the cluster says of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InCluster {
    Found {
        context: Arc<str>,
    },
    /// Not in the list; `complete`: the list has every object (else it was cut).
    Missing {
        context: Arc<str>,
        complete: bool,
    },
    NotServed {
        context: Arc<str>,
    },
    /// Being fetched: answered later.
    Pending,
    Unavailable {
        context: Arc<str>,
        why: Arc<str>,
    },
    NotConfigured,
    /// Lands in several namespaces: not asked.
    NotAsked,
}

/// The cluster's list of `wanted`'s kind where it is looked for, as known now.
pub fn cluster_list(
    scope: &Scope<'_>,
    wanted: &Wanted<'_>,
    name: Option<&str>,
) -> (Listing, Option<Arc<str>>, Option<Arc<str>>) {
    listing_of(scope.cluster, wanted, name)
}

/// [`cluster_list`] from the cluster alone.
fn listing_of(
    cluster: &dyn ClusterObjects,
    wanted: &Wanted<'_>,
    name: Option<&str>,
) -> (Listing, Option<Arc<str>>, Option<Arc<str>>) {
    let (context, why) = match cluster.status() {
        ClusterStatus::NotConfigured | ClusterStatus::Connecting => {
            return (Listing::Pending, None, None);
        }
        ClusterStatus::Connected { context } => (context, None),
        ClusterStatus::Unreachable { context, why } => (context, Some(why)),
    };
    let Ok(namespace) = wanted.cluster_namespace() else {
        return (Listing::Pending, Some(context), why);
    };
    let listing = cluster.list(&wanted.target, namespace, name);
    (listing, Some(context), why)
}

/// What the cluster says of `wanted`.
pub fn in_cluster(scope: &Scope<'_>, wanted: &Wanted<'_>) -> InCluster {
    object_in_cluster(scope.cluster, wanted)
}

/// What `cluster` says of `wanted` (the rules ask it without a [`Scope`]).
pub fn object_in_cluster(cluster: &dyn ClusterObjects, wanted: &Wanted<'_>) -> InCluster {
    ask(cluster, wanted, Some(wanted.name), |list| {
        list.contains(wanted.name)
    })
}

/// Whether a Pod of the cluster where `namespace` is matches `selector`.
pub fn pods_in_cluster(
    scope: &Scope<'_>,
    namespace: Landing<'_>,
    selector: &Selector,
) -> InCluster {
    pods_of_cluster(scope.cluster, namespace, selector)
}

/// [`pods_in_cluster`] from the cluster alone.
pub fn pods_of_cluster(
    cluster: &dyn ClusterObjects,
    namespace: Landing<'_>,
    selector: &Selector,
) -> InCluster {
    let wanted = Wanted {
        target: TargetType {
            kind: POD.kind,
            group: "",
            api_version: Some(POD.api_version),
            namespaced: true,
        },
        name: "",
        namespace: Some(namespace),
    };
    ask(cluster, &wanted, None, |list| {
        list.objects.iter().any(|pod| {
            let labels: Labels = pod.labels.iter().cloned().collect();
            selector.matches(&labels)
        })
    })
}

/// What the cluster's list of `wanted`'s kind says, `found` telling whether it holds what is
/// looked for (`name`, when it is a name: a list missing it may be fetched again).
fn ask(
    cluster: &dyn ClusterObjects,
    wanted: &Wanted<'_>,
    name: Option<&str>,
    found: impl FnOnce(&ObjectList) -> bool,
) -> InCluster {
    match cluster.status() {
        ClusterStatus::NotConfigured => return InCluster::NotConfigured,
        ClusterStatus::Connecting => return InCluster::Pending,
        _ => {}
    }
    if wanted.cluster_namespace().is_err() {
        return InCluster::NotAsked;
    }
    let (listing, context, unreachable) = listing_of(cluster, wanted, name);
    let Some(context) = context else {
        return InCluster::Pending;
    };
    match (listing, unreachable) {
        (Listing::Ready(list), _) if found(&list) => InCluster::Found { context },
        (Listing::Ready(list), _) => InCluster::Missing {
            context,
            complete: list.complete,
        },
        (Listing::NotServed, _) => InCluster::NotServed { context },
        (_, Some(why)) | (Listing::Unavailable(why), None) => {
            InCluster::Unavailable { context, why }
        }
        (Listing::Pending, None) => InCluster::Pending,
    }
}

/// The workloads (and Pods) of the workspace that `selector` of `owner` selects, where the
/// owner lands.
pub fn selected<'a>(
    scope: &Scope<'a>,
    owner: &Found<'a>,
    selector: &'a Selector,
) -> Vec<Found<'a>> {
    let namespace = landing(scope, owner);
    scope
        .index
        .workloads_matching(Namespace::Any, selector)
        .filter(|found| namespace.meets(landing(scope, found)))
        .collect()
}

/// The objects of the workspace whose selector selects the Pods of `workload`.
pub fn selecting<'a>(scope: &Scope<'a>, workload: &Found<'a>) -> Vec<Found<'a>> {
    let Some(labels) = workload.document.pod_labels.as_ref() else {
        return Vec::new();
    };
    let namespace = landing(scope, workload);
    scope
        .index
        .selecting(Namespace::Any, labels)
        .filter(|found| {
            // A workload's own selector is about its Pods, not a reference to others.
            !(found.path == workload.path && found.document.range == workload.document.range)
                && WORKLOAD_KINDS
                    .iter()
                    .all(|k| found.document.kind.as_deref() != Some(*k))
                && namespace.meets(landing(scope, found))
        })
        .collect()
}

/// Objects that exist without anyone writing them: every namespace's `default` ServiceAccount
/// and `kube-root-ca.crt` ConfigMap, the apiserver's bootstrap roles and priority classes.
pub fn well_known(kind: &str, name: &str) -> bool {
    match kind {
        "ServiceAccount" => name == "default",
        "ConfigMap" => name == "kube-root-ca.crt",
        "ClusterRole" => {
            matches!(name, "cluster-admin" | "admin" | "edit" | "view")
                || name.starts_with("system:")
        }
        "Role" => {
            name.starts_with("system:") || name == "extension-apiserver-authentication-reader"
        }
        "PriorityClass" => matches!(name, "system-cluster-critical" | "system-node-critical"),
        _ => false,
    }
}

/// Whether a kustomization that builds `path` generates a `kind` named `name`.
pub fn generated(scope: &Scope<'_>, path: &Path, kind: &str, name: &str) -> bool {
    generated_by(&scope.index.kustomizations_of(path), kind, name)
}

/// Whether one of `kustomizations` generates a `kind` named `name`.
pub fn generated_by(kustomizations: &[(&Path, &Kustomization)], kind: &str, name: &str) -> bool {
    kustomizations.iter().any(|(_, k)| {
        k.generated
            .iter()
            .any(|g| g.kind == kind && &*g.name == name)
    })
}

/// Why the workspace may not hold everything `path` refers to, if it may not.
pub fn partial(scope: &Scope<'_>, path: &Path) -> Option<String> {
    let index = scope.index;
    match index.status() {
        ScanStatus::NotStarted => return Some("no workspace folder is indexed".into()),
        ScanStatus::Running => return Some("the workspace is still being read".into()),
        ScanStatus::Truncated => return Some("the workspace has more files than are read".into()),
        ScanStatus::Complete => {}
    }
    if index.is_partial() {
        return Some("some files of the workspace are too big to read".into());
    }
    if !scope.roots.iter().any(|root| path.starts_with(root)) {
        return Some("the file is outside the workspace folders".into());
    }
    if let Some(chart) = index.chart_of(path) {
        return Some(format!(
            "it is part of the Helm chart {}",
            scope.show(chart.root)
        ));
    }
    for (kustomization, k) in index.kustomizations_of(path) {
        if k.remote {
            return Some(format!(
                "{} builds it with remote resources",
                scope.show(kustomization)
            ));
        }
        if let Some(entry) = k.entries.iter().find(|e| !index.has_files_at(&e.path)) {
            return Some(format!(
                "{} builds it with {}, which is not in the workspace",
                scope.show(kustomization),
                entry.path.display()
            ));
        }
    }
    None
}

/// The closest of `names` to `name` (a likely typo), if close enough: at most a quarter of its
/// characters edited (one to three), a swap of neighbours counting as one edit (strsim's
/// optimal string alignment, as clap suggests subcommands).
pub fn closest<'n>(name: &str, names: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    closest_counted(name, names.map(|n| (n.chars().count(), n)))
}

/// [`closest`] among names given with their length in characters (a list asked about many
/// names counts each once).
pub fn closest_counted<'n>(
    name: &str,
    names: impl Iterator<Item = (usize, &'n str)>,
) -> Option<&'n str> {
    let length = name.chars().count();
    let limit = (length / 4).clamp(1, 3);
    names
        .filter(|(count, candidate)| *candidate != name && count.abs_diff(length) <= limit)
        .filter(|(_, candidate)| !differ_by_more_than(name, candidate, limit))
        .map(|(_, candidate)| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Whether two ASCII texts certainly differ by more than `limit` edits, without aligning them:
/// one holds more than `limit` characters the other lacks (counted with repeats). Each
/// insertion, deletion or substitution changes that count by at most one and a swap of
/// neighbours not at all, so it never exceeds the optimal string alignment distance. `false`
/// (not known) for other texts.
fn differ_by_more_than(a: &str, b: &str, limit: usize) -> bool {
    if !a.is_ascii() || !b.is_ascii() {
        return false;
    }
    let mut surplus = [0i32; 128];
    for byte in a.bytes() {
        surplus[usize::from(byte)] += 1;
    }
    for byte in b.bytes() {
        surplus[usize::from(byte)] -= 1;
    }
    let (only_a, only_b) = surplus.iter().fold((0, 0), |(a, b), &count| {
        (a + count.max(0), b + (-count).max(0))
    });
    only_a.max(only_b) as usize > limit
}

/// strsim's optimal string alignment distance (counted in tests).
fn edit_distance(a: &str, b: &str) -> usize {
    count_work!(DISTANCES);
    strsim::osa_distance(a, b)
}

work_counter!(
    /// How many edit distances this thread worked out.
    fn distances() => DISTANCES
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_name_meant() {
        let names = ["app-config", "db", "app-configs", "mode", "node"];
        assert_eq!(closest("app-confg", names.into_iter()), Some("app-config"));
        assert_eq!(
            closest("mdoe", names.into_iter()),
            Some("mode"),
            "a swap is one edit"
        );
        assert_eq!(closest("xyz", names.into_iter()), None);
        assert_eq!(closest("db", names.into_iter()), None, "not itself");
    }

    /// The names of `count` copies of five apps whose names are as long (`frontend-0`,
    /// `checkout-0`…).
    fn copies(count: usize) -> Vec<String> {
        let apps = ["frontend", "checkout", "shipping", "payments", "currency"];
        (0..count)
            .map(|n| format!("{}-{}", apps[n % apps.len()], n / apps.len()))
            .collect()
    }

    #[test]
    fn names_that_cannot_be_close_are_not_aligned() {
        let names = copies(5_000);
        let counted: Vec<(usize, &str)> = names.iter().map(|n| (n.len(), n.as_str())).collect();
        let before = distances();
        let better = closest_counted("frontend", counted.iter().copied());
        let aligned = distances() - before;
        assert_eq!(better, Some("frontend-0"));
        // 50 names are as long as a close one can be (`*-0`…`*-9`); of those only
        // `frontend-0`…`frontend-9` hold no more than two characters `frontend` lacks.
        assert_eq!(aligned, 10, "of {} names", names.len());
    }

    #[test]
    fn the_closest_name_is_the_one_every_alignment_finds() {
        let mut names = copies(400);
        let typos = [
            "fronetnd",
            "frontedn-1",
            "chekcout",
            "émailservice",
            "shiping-3",
            "ab",
        ];
        names.extend(typos.map(String::from));
        let asked = [
            "frontend",
            "frontend-1",
            "checkout",
            "emailservice",
            "shipping-3",
            "payment-99",
            "x",
            "ad",
            "émail",
            "currency-79",
        ];
        for name in asked {
            let length = name.chars().count();
            let limit = (length / 4).clamp(1, 3);
            let every = names
                .iter()
                .map(String::as_str)
                .filter(|candidate| *candidate != name)
                .map(|candidate| (strsim::osa_distance(name, candidate), candidate))
                .filter(|(distance, _)| *distance <= limit)
                .min()
                .map(|(_, candidate)| candidate);
            assert_eq!(
                closest(name, names.iter().map(String::as_str)),
                every,
                "{name}"
            );
        }
    }
}
