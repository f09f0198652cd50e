//! References between objects, across the workspace and the cluster: go to definition, find
//! references, completion of names and keys that exist, hover, missing-target diagnostics,
//! what a selector matches (hover and code lens), and rename across files.
//!
//! What points at what is the table of `workspace::references` (read into the index with every
//! document); this module answers from the index ([`Scope::index`]) and, when a cluster is
//! configured, from the names of its objects ([`ClusterObjects`]: metadata lists the server
//! fetches in the background; a list not fetched yet is answered as "pending", never waited for).
//!
//! Namespaces follow the owner's rules: a namespaced reference resolves in the referrer's
//! namespace, which is its `metadata.namespace`, else the namespace of the kustomizations that
//! build it, else the settings' (or the context's) namespace ([`Scope::default_namespace`]).
//! Kustomizations with different namespaces build an object into each: it then matches any.
//!
//! Everything is in byte ranges of the files the index read; the server turns them into
//! positions with each file's text.

mod complete;
mod describe;
pub(crate) mod diagnostics;
mod navigate;
mod resolve;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use complete::{Completions, completions};
pub use describe::{Lens, hover, lenses};
pub use diagnostics::{diagnostics, diagnostics_within};
pub use navigate::{Edit, definition, prepare_rename, references, rename};
pub use resolve::{InCluster, Landing, Wanted, landing_in, object_in_cluster, pods_of_cluster};

use crate::cluster::objects::{ListKey, Listing};
use crate::workspace::document::Selector;
use crate::workspace::index::{Found, Index};
use crate::workspace::references::{LabelSpan, Part, Port, Ref, TargetType};

/// What the cluster says, as references need it (shared by the threads that check a big file).
pub trait ClusterObjects: Sync {
    fn status(&self) -> ClusterStatus;
    /// The objects of `target`'s kind in `namespace` (`None`: cluster-scoped), as known now;
    /// `name` is the one looked for, if any (a list missing it may be fetched again).
    fn list(&self, target: &TargetType<'_>, namespace: Option<&str>, name: Option<&str>)
    -> Listing;
}

/// The cluster's list holding objects of `target` in `namespace` (ignored for cluster-scoped
/// kinds).
pub fn list_key(target: &TargetType<'_>, namespace: Option<&str>) -> ListKey {
    ListKey {
        group: target.group.into(),
        kind: target.kind.into(),
        api_version: target.api_version.map(Into::into),
        namespace: namespace.filter(|_| target.namespaced).map(Into::into),
    }
}

/// Whether there is a cluster to ask.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClusterStatus {
    /// No kubeconfig or context: only the workspace counts.
    NotConfigured,
    /// Not known yet (the connection is being made).
    Connecting,
    Connected {
        context: Arc<str>,
    },
    /// The last request failed: lists already fetched still answer.
    Unreachable {
        context: Arc<str>,
        why: Arc<str>,
    },
}

/// No cluster: `kube-lsp check` without `--cluster`, and tests.
pub struct NoCluster;

impl ClusterObjects for NoCluster {
    fn status(&self) -> ClusterStatus {
        ClusterStatus::NotConfigured
    }

    fn list(&self, _: &TargetType<'_>, _: Option<&str>, _: Option<&str>) -> Listing {
        Listing::Unavailable("no cluster".into())
    }
}

/// What the answers are computed from.
pub struct Scope<'a> {
    pub index: &'a Index,
    /// The namespace of objects that name none and that no kustomization puts in one.
    pub default_namespace: &'a str,
    pub cluster: &'a dyn ClusterObjects,
    /// The workspace folders (files are shown relative to them).
    pub roots: &'a [PathBuf],
}

impl Scope<'_> {
    /// How a file is shown: relative to its workspace folder.
    pub fn show(&self, path: &Path) -> String {
        self.roots
            .iter()
            .find_map(|root| path.strip_prefix(root).ok())
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// `file:line` of a document (lines counted from 1).
    pub fn place(&self, found: &Found<'_>) -> String {
        format!("{}:{}", self.show(found.path), found.document.line + 1)
    }
}

/// A range in a file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub path: PathBuf,
    pub range: Range<usize>,
}

/// By file, then by position.
impl Ord for Location {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.path, self.range.start, self.range.end).cmp(&(
            &other.path,
            other.range.start,
            other.range.end,
        ))
    }
}

impl PartialOrd for Location {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Location {
    fn new(path: &Path, range: Range<usize>) -> Location {
        Location {
            path: path.to_path_buf(),
            range,
        }
    }
}

/// What is at an offset of an indexed file.
#[derive(Clone, Copy, Debug)]
pub enum Site<'i> {
    /// A reference's value.
    Ref {
        found: Found<'i>,
        reference: &'i Ref,
    },
    /// An object's own `metadata.name`.
    Name { found: Found<'i> },
    /// A key of a ConfigMap's or Secret's data.
    DataKey { found: Found<'i>, key: &'i str },
    /// A selector's key (`selector:`), or one of its labels.
    Selector {
        found: Found<'i>,
        label: Option<(&'i LabelSpan, bool)>,
    },
    /// A label of a workload's Pod template (`true`: on its key).
    PodLabel {
        found: Found<'i>,
        label: &'i LabelSpan,
        on_key: bool,
    },
    /// A Service port's named `targetPort`.
    TargetPort { found: Found<'i>, port: &'i Port },
}

fn touches(range: &Range<usize>, offset: usize) -> bool {
    range.start <= offset && offset <= range.end
}

/// What is at `offset` of the file `path`, as the index read it.
pub fn site_at<'i>(index: &'i Index, path: &Path, offset: usize) -> Option<Site<'i>> {
    let found = index.document_at(path, offset)?;
    let document = found.document;
    if let Some(reference) = document.refs.iter().find(|r| touches(&r.range, offset)) {
        return Some(Site::Ref { found, reference });
    }
    if document.name.is_some()
        && document
            .name_range
            .as_ref()
            .is_some_and(|r| touches(r, offset))
    {
        return Some(Site::Name { found });
    }
    if let Some(key) = document.keys.iter().find(|k| touches(&k.range, offset)) {
        return Some(Site::DataKey {
            found,
            key: &key.name,
        });
    }
    if let Some(port) = document.ports.iter().find(|p| {
        p.target_name
            .as_ref()
            .is_some_and(|(_, range)| touches(range, offset))
    }) {
        return Some(Site::TargetPort { found, port });
    }
    let spans = document.label_spans.as_deref()?;
    let on = |label: &'i LabelSpan| {
        if touches(&label.key_range, offset) {
            Some((label, true))
        } else if touches(&label.value_range, offset) {
            Some((label, false))
        } else {
            None
        }
    };
    if document.selector.is_some() {
        if let Some(label) = spans.selector.iter().find_map(on) {
            return Some(Site::Selector {
                found,
                label: Some(label),
            });
        }
        if spans
            .selector_at
            .as_ref()
            .is_some_and(|r| touches(r, offset))
        {
            return Some(Site::Selector { found, label: None });
        }
    }
    spans
        .pod_labels
        .iter()
        .find_map(on)
        .map(|(label, on_key)| Site::PodLabel {
            found,
            label,
            on_key,
        })
}

/// The selector of a Service, PodDisruptionBudget or NetworkPolicy, and where its key is.
fn selector_of<'i>(found: &Found<'i>) -> Option<(&'i Selector, Range<usize>)> {
    let document = found.document;
    let kind = document.kind.as_deref()?;
    if !matches!(kind, "Service" | "PodDisruptionBudget" | "NetworkPolicy") {
        return None;
    }
    let at = document.label_spans.as_ref()?.selector_at.clone()?;
    Some((document.selector.as_ref()?, at))
}

/// How a kind reads in a sentence, with its count: `2 Deployments`.
fn counted(kind: &str, count: usize) -> String {
    if count == 1 {
        format!("1 {kind}")
    } else if kind.ends_with('s') {
        format!("{count} {kind}es")
    } else {
        format!("{count} {kind}s")
    }
}

/// What a part of a reference is called in messages.
fn part_word(part: Part) -> &'static str {
    match part {
        Part::Name => "name",
        Part::Key => "key",
        Part::PortName => "port name",
        Part::PortNumber => "port number",
    }
}

#[cfg(test)]
mod scale_tests;
#[cfg(test)]
mod tests;
