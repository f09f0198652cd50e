//! Go to definition, find references and rename, from what is at an offset ([`site_at`]).
//!
//! - A reference goes to its object's `metadata.name` (a key to the key in its data, a port to
//!   the Service's port); a selector to the Pod template labels of the workloads it selects; a
//!   Service's named `targetPort` to the container ports of those workloads.
//! - References of an object (from its name or from any reference to it): every reference to it
//!   in the workspace; of a data key, every reference to that key; of a selector, the workloads
//!   it selects; of Pod template labels, the selectors that select them.
//! - Rename of an object's name renames the object (every document defining it) and every
//!   reference to it; of a data key, the key and its references; of a selector's label (key or
//!   value), the label in the selector, in the Pod templates it matches and in the selectors of
//!   those workloads that use the same label.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::resolve::{Wanted, landing, namespace_of, selected, selecting};
use super::{Location, Scope, Site, site_at};
use crate::workspace::index::Found;
use crate::workspace::references::{LabelSpan, Part, Ref, TargetType};

/// One replacement of a rename, with the text it replaces (the server checks the file still
/// holds it there before editing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub path: PathBuf,
    pub range: Range<usize>,
    pub old: Box<str>,
    pub new: String,
}

/// By file, then by position.
impl Ord for Edit {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.path, self.range.start, self.range.end).cmp(&(
            &other.path,
            other.range.start,
            other.range.end,
        ))
    }
}

impl PartialOrd for Edit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Kinds without a namespace that references may name as an object's own kind.
const CLUSTER_SCOPED: [&str; 12] = [
    "Namespace",
    "Node",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
    "RuntimeClass",
    "IngressClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// The object `found` defines, as references name it.
fn object<'a>(scope: &Scope<'a>, found: &Found<'a>) -> Option<Wanted<'a>> {
    let document = found.document;
    let kind = document.kind.as_deref()?;
    let namespaced = !CLUSTER_SCOPED.contains(&kind);
    Some(Wanted {
        target: TargetType {
            kind,
            group: document.group().unwrap_or_default(),
            api_version: document.api_version.as_deref(),
            namespaced,
        },
        name: document.name.as_deref()?,
        namespace: namespaced.then(|| landing(scope, found)),
    })
}

/// Whether `reference` (of `referrer`) points at `object`.
fn points_at<'a>(
    scope: &Scope<'a>,
    referrer: &Found<'a>,
    reference: &'a Ref,
    object: &Wanted<'a>,
) -> bool {
    let target = reference.target();
    target.kind == object.target.kind
        && (target.api_version.is_none() || target.group == object.target.group)
        && reference.target_name() == object.name
        && match (namespace_of(scope, referrer, reference), object.namespace) {
            (Some(a), Some(b)) => a.meets(b),
            _ => true,
        }
}

/// Every reference of the workspace to `object` whose part is `part` (and whose value is
/// `value`, for keys).
fn references_to<'a>(
    scope: &Scope<'a>,
    object: &Wanted<'a>,
    part: Part,
    value: Option<&str>,
) -> Vec<(Found<'a>, &'a Ref)> {
    scope
        .index
        .referring(object.name)
        .filter(|(found, reference)| {
            reference.part == part
                && value.is_none_or(|v| &*reference.value == v)
                && points_at(scope, found, reference, object)
        })
        .collect()
}

/// The object a site is about, with the part and (for keys) the key.
fn subject<'a>(scope: &Scope<'a>, site: &Site<'a>) -> Option<(Wanted<'a>, Part, Option<&'a str>)> {
    match *site {
        Site::Ref { found, reference } => {
            let wanted = Wanted::of(scope, &found, reference);
            let key = (reference.part != Part::Name).then_some(&*reference.value);
            Some((wanted, reference.part, key))
        }
        Site::Name { found } => Some((object(scope, &found)?, Part::Name, None)),
        Site::DataKey { found, key } => Some((object(scope, &found)?, Part::Key, Some(key))),
        _ => None,
    }
}

/// Where a site's target is defined.
pub fn definition(scope: &Scope<'_>, path: &Path, offset: usize) -> Vec<Location> {
    let Some(site) = site_at(scope.index, path, offset) else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    match site {
        Site::Ref { found, reference } => {
            let wanted = Wanted::of(scope, &found, reference);
            for object in wanted.in_workspace(scope) {
                let document = object.document;
                let ranges: Vec<Range<usize>> = match reference.part {
                    Part::Name => document.name_range.iter().cloned().collect(),
                    Part::Key => document
                        .keys
                        .iter()
                        .filter(|k| k.name == reference.value)
                        .map(|k| k.range.clone())
                        .collect(),
                    Part::PortName => document
                        .ports
                        .iter()
                        .filter(|p| p.name.as_deref() == Some(&*reference.value))
                        .map(|p| p.range.clone())
                        .collect(),
                    Part::PortNumber => document
                        .ports
                        .iter()
                        .filter(|p| p.number.is_some_and(|n| n.to_string() == *reference.value))
                        .filter_map(|p| p.number_range.clone())
                        .collect(),
                };
                out.extend(ranges.into_iter().map(|r| Location::new(object.path, r)));
            }
        }
        Site::Selector { found, label } => {
            let Some(selector) = found.document.selector.as_ref() else {
                return Vec::new();
            };
            for workload in selected(scope, &found, selector) {
                out.extend(pod_labels_location(&workload, label.map(|(l, _)| &*l.key)));
            }
        }
        Site::TargetPort { found, port } => {
            let Some(selector) = found.document.selector.as_ref() else {
                return Vec::new();
            };
            let name = port.target_name.as_ref().map(|(n, _)| &**n);
            for workload in selected(scope, &found, selector) {
                out.extend(
                    workload
                        .document
                        .ports
                        .iter()
                        .filter(|p| p.name.as_deref() == name)
                        .map(|p| Location::new(workload.path, p.range.clone())),
                );
            }
        }
        Site::Name { .. } | Site::DataKey { .. } | Site::PodLabel { .. } => {}
    }
    out.into_iter().collect()
}

/// The Pod template labels of a workload: the label `key` if it has it, else its `labels` key.
fn pod_labels_location(workload: &Found<'_>, key: Option<&str>) -> Option<Location> {
    let spans = workload.document.label_spans.as_deref()?;
    let label = key.and_then(|key| spans.pod_labels.iter().find(|l| &*l.key == key));
    let range = match label {
        Some(label) => label.key_range.clone(),
        None => spans.pod_labels_at.clone()?,
    };
    Some(Location::new(workload.path, range))
}

/// Everything that refers to what is at `offset` (with its definitions when
/// `include_declaration`).
pub fn references(
    scope: &Scope<'_>,
    path: &Path,
    offset: usize,
    include_declaration: bool,
) -> Vec<Location> {
    let Some(site) = site_at(scope.index, path, offset) else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    if let Some((object, part, key)) = subject(scope, &site) {
        for (found, reference) in references_to(scope, &object, part, key) {
            out.insert(Location::new(found.path, reference.range.clone()));
        }
        if include_declaration {
            for found in object.in_workspace(scope) {
                let document = found.document;
                let ranges: Vec<Range<usize>> = match (part, key) {
                    (Part::Key, Some(key)) => document
                        .keys
                        .iter()
                        .filter(|k| &*k.name == key)
                        .map(|k| k.range.clone())
                        .collect(),
                    _ => document.name_range.iter().cloned().collect(),
                };
                out.extend(ranges.into_iter().map(|r| Location::new(found.path, r)));
            }
        }
        return out.into_iter().collect();
    }
    match site {
        Site::Selector { found, label } => {
            if let Some(selector) = found.document.selector.as_ref() {
                for workload in selected(scope, &found, selector) {
                    out.extend(pod_labels_location(&workload, label.map(|(l, _)| &*l.key)));
                }
            }
        }
        Site::PodLabel { found, label, .. } => {
            for owner in selecting(scope, &found) {
                let spans = owner.document.label_spans.as_deref();
                let range = spans.and_then(|s| {
                    s.selector
                        .iter()
                        .find(|l| l.key == label.key && l.value == label.value)
                        .map(|l| l.key_range.clone())
                        .or_else(|| s.selector_at.clone())
                });
                out.extend(range.map(|r| Location::new(owner.path, r)));
            }
        }
        Site::TargetPort { .. } => return definition(scope, path, offset),
        _ => {}
    }
    out.into_iter().collect()
}

/// The range and text a rename at `offset` would replace; `None` where nothing can be renamed.
pub fn prepare_rename(
    scope: &Scope<'_>,
    path: &Path,
    offset: usize,
) -> Option<(Range<usize>, String)> {
    let site = site_at(scope.index, path, offset)?;
    match site {
        Site::Ref { reference, .. } if matches!(reference.part, Part::Name | Part::Key) => {
            Some((reference.range.clone(), reference.value.to_string()))
        }
        Site::Name { found } => Some((
            found.document.name_range.clone()?,
            found.document.name.as_deref()?.to_string(),
        )),
        Site::DataKey { found, key } => {
            let range = found
                .document
                .keys
                .iter()
                .find(|k| &*k.name == key)?
                .range
                .clone();
            Some((range, key.to_string()))
        }
        Site::Selector {
            label: Some((label, on_key)),
            ..
        }
        | Site::PodLabel { label, on_key, .. } => Some(if on_key {
            (label.key_range.clone(), label.key.to_string())
        } else {
            (label.value_range.clone(), label.value.to_string())
        }),
        _ => None,
    }
}

/// The edits renaming what is at `offset` to `new`, across the workspace.
pub fn rename(
    scope: &Scope<'_>,
    path: &Path,
    offset: usize,
    new: &str,
) -> Result<Vec<Edit>, String> {
    if new.trim().is_empty() || new.contains(['\n', '\r']) {
        return Err("a name cannot be empty or span lines".into());
    }
    let site = site_at(scope.index, path, offset).ok_or("nothing to rename here")?;
    let mut edits = BTreeSet::new();
    let mut edit = |found: &Found<'_>, range: &Range<usize>, old: &str| {
        edits.insert(Edit {
            path: found.path.to_path_buf(),
            range: range.clone(),
            old: old.into(),
            new: new.to_string(),
        });
    };
    match site {
        Site::Selector {
            label: Some((label, on_key)),
            found,
        } => {
            for (owner, span) in label_family(scope, LabelStart::Selector(found), label) {
                let range = if on_key {
                    &span.key_range
                } else {
                    &span.value_range
                };
                edit(&owner, range, if on_key { &span.key } else { &span.value });
            }
        }
        Site::PodLabel {
            found,
            label,
            on_key,
        } => {
            for (owner, span) in label_family(scope, LabelStart::Workload(found), label) {
                let range = if on_key {
                    &span.key_range
                } else {
                    &span.value_range
                };
                edit(&owner, range, if on_key { &span.key } else { &span.value });
            }
        }
        _ => {
            let (object, part, key) = subject(scope, &site).ok_or("nothing to rename here")?;
            if !matches!(part, Part::Name | Part::Key) {
                return Err("ports are not renamed".into());
            }
            for (found, reference) in references_to(scope, &object, part, key) {
                edit(&found, &reference.range, &reference.value);
            }
            for found in object.in_workspace(scope) {
                match key {
                    Some(key) => {
                        for data in found.document.keys.iter().filter(|k| &*k.name == key) {
                            edit(&found, &data.range, key);
                        }
                    }
                    None => {
                        if let Some(range) = &found.document.name_range {
                            edit(&found, range, object.name);
                        }
                    }
                }
            }
        }
    }
    Ok(edits.into_iter().collect())
}

/// Where a label rename starts.
enum LabelStart<'a> {
    Selector(Found<'a>),
    Workload(Found<'a>),
}

/// Every place the label `label` (its key and value) must change along with it: the selectors
/// that select with it and the workloads they select (their Pod template labels and their own
/// selectors), two rounds out from where it starts.
fn label_family<'a>(
    scope: &Scope<'a>,
    start: LabelStart<'a>,
    label: &LabelSpan,
) -> Vec<(Found<'a>, &'a LabelSpan)> {
    let same = |l: &&LabelSpan| l.key == label.key && l.value == label.value;
    let key = |f: &Found<'_>| (f.path.to_path_buf(), f.document.range.start);
    let mut selectors: Vec<Found<'a>> = Vec::new();
    let mut workloads: Vec<Found<'a>> = Vec::new();
    match start {
        LabelStart::Selector(found) => selectors.push(found),
        LabelStart::Workload(found) => workloads.push(found),
    }
    let uses = |f: &Found<'a>| {
        f.document
            .label_spans
            .as_deref()
            .is_some_and(|s| s.selector.iter().any(|l| same(&l)))
    };
    for _ in 0..2 {
        for selector in selectors.clone() {
            if let Some(s) = selector.document.selector.as_ref() {
                for w in selected(scope, &selector, s) {
                    if !workloads.iter().any(|known| key(known) == key(&w)) {
                        workloads.push(w);
                    }
                }
            }
        }
        for workload in workloads.clone() {
            for s in selecting(scope, &workload).into_iter().filter(uses) {
                if !selectors.iter().any(|known| key(known) == key(&s)) {
                    selectors.push(s);
                }
            }
        }
    }
    let mut out = Vec::new();
    for found in selectors.iter().chain(&workloads) {
        let Some(spans) = found.document.label_spans.as_deref() else {
            continue;
        };
        // A workload's own selector keeps matching its template.
        for span in spans.selector.iter().chain(&spans.pod_labels).filter(same) {
            out.push((*found, span));
        }
    }
    out
}
