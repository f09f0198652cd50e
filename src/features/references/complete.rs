//! Completion of what exists: the names of the objects a reference can point at (the
//! workspace's first, then the cluster's, each marked by its source), the keys of a ConfigMap or
//! Secret, the ports of a Service, the container ports a Service's `targetPort` can name, and the
//! label keys and values of the Pods a selector can select.
//!
//! Read from the text of the document at the cursor (its path by indentation, so half-typed text
//! works; the values around it from one saphyr pass over that document), and answered from the
//! index and the cluster's lists as known now: a list still being fetched makes the answer
//! incomplete, so the editor asks again as the user types.

use std::collections::BTreeMap;
use std::path::Path;

use super::Scope;
use super::resolve::{Landing, Wanted, cluster_list, landing_at};
use crate::cluster::objects::Listing;
use crate::features::completion::{Item, ItemKind};
use crate::workspace::document::{Selector, WORKLOAD_KINDS};
use crate::workspace::index::Namespace;
use crate::workspace::references::{
    NamedTarget, Part, TargetType, Targets, match_path, target_type,
};
use crate::yaml::key_path::{self, KeyPath, Segment};
use crate::yaml::path::{CursorTarget, cursor_at};
use crate::yaml::scalar::{Resolved, resolve_plain};
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};

/// Items at most; the editor filters them as the user types.
const MAX_ITEMS: usize = 1000;

/// The completion items of references at the cursor.
#[derive(Debug, Default)]
pub struct Completions {
    /// In file offsets.
    pub items: Vec<Item>,
    /// The cluster's part is not known yet: the editor should ask again.
    pub incomplete: bool,
}

/// The items at file offset `offset`, in the document `text` that starts at `start` in the file
/// `path`.
pub fn completions(
    scope: &Scope<'_>,
    path: &Path,
    text: &str,
    start: usize,
    offset: usize,
) -> Completions {
    let local = offset.saturating_sub(start).min(text.len());
    let cursor = cursor_at(text, local);
    let (is_value, needs_space, typed) = match &cursor.target {
        CursorTarget::Value {
            needs_space,
            prefix,
            ..
        } => (true, *needs_space, prefix),
        CursorTarget::Key {
            has_colon: false,
            prefix,
            ..
        } => (false, false, prefix),
        _ => return Completions::default(),
    };
    let (tree, _) = SpanTree::parse(text);
    let Some((object, path_in_object)) = tree.root().and_then(|root| object_of(root, &cursor.path))
    else {
        return Completions::default();
    };
    let Some(kind) = scalar(object, &["kind"]) else {
        return Completions::default();
    };
    let namespace = scalar(object, &["metadata", "namespace"]);
    let landing = landing_at(scope, path, namespace);
    let mut found = Found {
        typed: typed.chars().flat_map(char::to_lowercase).collect(),
        ..Found::default()
    };
    if is_value {
        if let Some(matched) = match_path(kind, &path_in_object) {
            let anchor = node_at(object, &matched.anchor.0);
            let field = |name: &str| anchor.and_then(|a| scalar(a, &[name]));
            let named = match matched.spec.targets {
                Targets::One(_) => None,
                _ => Some(NamedTarget {
                    kind: field("kind").unwrap_or_default().into(),
                    api_version: field("apiVersion").map(Into::into),
                    namespace: matched.spec.namespace.and_then(field).map(Into::into),
                }),
            };
            let target = target_type(matched.spec, named.as_ref());
            if target.kind.is_empty() {
                return Completions::default();
            }
            let namespace = target.namespaced.then(|| {
                match named.as_ref().and_then(|n| n.namespace.as_deref()) {
                    Some(ns) => Landing::In(ns),
                    None => landing,
                }
            });
            let name = field(matched.spec.name);
            found.reference(scope, target, namespace, matched.part, name);
        } else {
            found.labels_or_ports(scope, kind, object, &path_in_object, landing);
        }
    } else {
        found.selector_keys(scope, kind, &path_in_object, landing);
    }
    let range = cursor.range.start + start..cursor.range.end + start;
    let space = if needs_space { " " } else { "" };
    let items = found
        .entries
        .into_iter()
        .map(|(label, (source, detail))| {
            let insert = if is_value {
                format!("{space}{}", quoted(&label))
            } else {
                format!("{label}: ")
            };
            Item {
                sort_text: format!("{}{label}", if source == "workspace" { 0 } else { 1 }),
                insert_text: insert,
                label,
                kind: ItemKind::Value,
                label_detail: None,
                label_description: Some(source),
                detail: Some(detail),
                documentation: None,
                filter_text: None,
                snippet: false,
                range: range.clone(),
                additional_edits: Vec::new(),
            }
        })
        .collect();
    Completions {
        items,
        incomplete: found.incomplete,
    }
}

/// What is found: label → (source, detail); the workspace's entries win over the cluster's.
/// Only labels that hold what is typed (its characters in order, as editors filter) are kept,
/// at most [`MAX_ITEMS`]: beyond, the answer is incomplete and the editor asks again as the user
/// types.
#[derive(Default)]
struct Found {
    entries: BTreeMap<String, (String, String)>,
    incomplete: bool,
    /// What is typed, lowercased.
    typed: Vec<char>,
}

impl Found {
    fn add(&mut self, label: &str, source: &str, detail: impl FnOnce() -> String) {
        if self.entries.contains_key(label) || !self.matches(label) {
            return;
        }
        if self.entries.len() >= MAX_ITEMS {
            self.incomplete = true;
            return;
        }
        self.entries
            .insert(label.to_string(), (source.to_string(), detail()));
    }

    fn matches(&self, label: &str) -> bool {
        let mut typed = self.typed.iter().peekable();
        for c in label.chars().flat_map(char::to_lowercase) {
            if typed.peek() == Some(&&c) {
                typed.next();
            }
        }
        typed.peek().is_none()
    }

    /// Names, keys or ports of the objects a reference can point at.
    fn reference(
        &mut self,
        scope: &Scope<'_>,
        target: TargetType<'_>,
        namespace: Option<Landing<'_>>,
        part: Part,
        name: Option<&str>,
    ) {
        let where_ = match namespace {
            Some(Landing::In(ns)) => format!(" in namespace {ns}"),
            _ => String::new(),
        };
        match part {
            Part::Name => {
                let wanted = Wanted {
                    target,
                    name: "",
                    namespace,
                };
                for object in wanted.of_kind(scope) {
                    if let Some(name) = object.document.name.as_deref() {
                        self.add(name, "workspace", || {
                            format!("{} · {}", target.kind, scope.place(&object))
                        });
                    }
                }
                let (listing, context, _) = cluster_list(scope, &wanted, None);
                match (listing, context) {
                    (Listing::Ready(list), Some(context)) => {
                        for object in &list.objects {
                            self.add(&object.name, "cluster", || {
                                format!("{} in the cluster, context {context}{where_}", target.kind)
                            });
                        }
                    }
                    (Listing::Pending, Some(_)) => self.incomplete = true,
                    _ => {}
                }
            }
            _ => {
                let Some(name) = name else { return };
                let wanted = Wanted {
                    target,
                    name,
                    namespace,
                };
                for object in wanted.in_workspace(scope) {
                    let place = scope.place(&object);
                    let document = object.document;
                    if part == Part::Key {
                        for key in &document.keys {
                            self.add(&key.name, "workspace", || {
                                format!("key of {} `{name}` · {place}", target.kind)
                            });
                        }
                    }
                    for port in &document.ports {
                        let number = port.number.map(|n| n.to_string());
                        let label = match part {
                            Part::PortName => port.name.as_deref(),
                            Part::PortNumber => number.as_deref(),
                            _ => None,
                        };
                        if let Some(label) = label {
                            self.add(label, "workspace", || {
                                format!("port of Service `{name}` · {place}")
                            });
                        }
                    }
                }
            }
        }
    }

    /// A Service port's `targetPort` (the container ports of the Pods it selects), or a
    /// selector's label value.
    fn labels_or_ports(
        &mut self,
        scope: &Scope<'_>,
        kind: &str,
        object: SpanRef<'_>,
        path: &KeyPath,
        landing: Landing<'_>,
    ) {
        let keys = key_path::pattern(&path.0);
        if kind == "Service" && keys == ["spec", "ports", "[]", "targetPort"] {
            let Some(selector) =
                node_at(object, &[key("spec"), key("selector")]).and_then(Selector::from_map)
            else {
                return;
            };
            for workload in scope.index.workloads_matching(Namespace::Any, &selector) {
                if !landing.meets(super::resolve::landing(scope, &workload)) {
                    continue;
                }
                for port in &workload.document.ports {
                    if let Some(name) = &port.name {
                        let number = port.number.map_or(String::new(), |n| format!(" ({n})"));
                        self.add(name, "workspace", || {
                            format!(
                                "container port{number} of {} `{}` · {}",
                                workload.document.kind.as_deref().unwrap_or("?"),
                                workload.document.name.as_deref().unwrap_or("?"),
                                scope.place(&workload)
                            )
                        });
                    }
                }
            }
            return;
        }
        let Some((label_key, selector_path)) = keys.split_last() else {
            return;
        };
        if selector_of(kind) == Some(selector_path) {
            self.pod_labels(scope, landing, Some(label_key));
        }
    }

    /// The label keys a selector can use.
    fn selector_keys(
        &mut self,
        scope: &Scope<'_>,
        kind: &str,
        path: &KeyPath,
        landing: Landing<'_>,
    ) {
        let keys: Vec<&str> = path
            .0
            .iter()
            .filter_map(|s| match s {
                Segment::Key(k) => Some(k.as_str()),
                Segment::Index(_) => None,
            })
            .collect();
        if selector_of(kind) == Some(&keys[..]) {
            self.pod_labels(scope, landing, None);
        }
    }

    /// Pod template label keys (or the values of `key`) of the workspace's workloads there.
    fn pod_labels(&mut self, scope: &Scope<'_>, landing: Landing<'_>, key: Option<&str>) {
        for kind in WORKLOAD_KINDS {
            for workload in scope.index.of_kind(kind, None, Namespace::Any) {
                if !landing.meets(super::resolve::landing(scope, &workload)) {
                    continue;
                }
                let Some(labels) = workload.document.pod_labels.as_ref() else {
                    continue;
                };
                let owner = format!(
                    "{kind} `{}` · {}",
                    workload.document.name.as_deref().unwrap_or("?"),
                    scope.place(&workload)
                );
                for (k, v) in labels.iter() {
                    match key {
                        None => self.add(k, "workspace", || format!("Pod label of {owner}")),
                        Some(key) if key == k => {
                            self.add(v, "workspace", || format!("`{k}` of {owner}"))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Where the selector labels of `kind` are written.
fn selector_of(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Service" => Some(&["spec", "selector"]),
        "PodDisruptionBudget" => Some(&["spec", "selector", "matchLabels"]),
        "NetworkPolicy" => Some(&["spec", "podSelector", "matchLabels"]),
        _ => None,
    }
}

fn key(k: &str) -> Segment {
    Segment::Key(k.to_string())
}

/// A name as a YAML value: quoted when it would read as something else than a string.
fn quoted(name: &str) -> String {
    match resolve_plain(name) {
        Resolved::String(_)
            if !name.contains(": ")
                && !name.starts_with(['*', '&', '!', '%', '@', '`', '"', '\'', '#']) =>
        {
            name.to_string()
        }
        _ => format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

/// The object the path is in (the document, or an item of a List) and the path within it.
fn object_of<'t>(root: SpanRef<'t>, path: &KeyPath) -> Option<(SpanRef<'t>, KeyPath)> {
    let mut object = root;
    let mut rest = &path.0[..];
    loop {
        let is_list = scalar(object, &["kind"]).is_some_and(|k| k.ends_with("List"));
        match rest {
            [Segment::Key(items), Segment::Index(i), after @ ..] if is_list && items == "items" => {
                object = object.get("items")?.children().nth(*i)?;
                rest = after;
            }
            _ => return Some((object, KeyPath(rest.to_vec()))),
        }
    }
}

/// The node at `path` under `from`.
fn node_at<'t>(from: SpanRef<'t>, path: &[Segment]) -> Option<SpanRef<'t>> {
    path.iter().try_fold(from, |node, segment| match segment {
        Segment::Key(k) => node.get(k),
        Segment::Index(i) if node.kind() == SpanKind::Sequence => node.children().nth(*i),
        Segment::Index(_) => None,
    })
}

/// A non-empty scalar at `keys` under `from`.
fn scalar<'t>(from: SpanRef<'t>, keys: &[&str]) -> Option<&'t str> {
    let node = keys.iter().try_fold(from, |node, k| node.get(k))?;
    node.value().filter(|v| !v.is_empty() && !v.contains("{{"))
}
