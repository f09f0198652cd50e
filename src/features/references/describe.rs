//! Hover and code lenses: what a reference resolves to and where (a file and line, or "in the
//! cluster, context C, namespace N"), who refers to an object, what a selector matches ("2
//! Deployments: shop, shop-canary").

use std::ops::Range;
use std::path::Path;

use super::resolve::{
    InCluster, Landing, Wanted, generated, in_cluster, landing, pods_in_cluster, selected,
    selecting, well_known,
};
use super::{Scope, Site, counted, part_word, selector_of, site_at};
use crate::features::hover::Hover;
use crate::workspace::index::Found;
use crate::workspace::references::Part;

/// A code lens: a line of text above a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lens {
    pub range: Range<usize>,
    pub title: String,
}

/// The lenses of the file `path`: what each selector of a Service, PodDisruptionBudget or
/// NetworkPolicy matches.
pub fn lenses(scope: &Scope<'_>, path: &Path) -> Vec<Lens> {
    let mut out = Vec::new();
    for found in scope.index.documents_of(path) {
        let Some((selector, at)) = selector_of(&found) else {
            continue;
        };
        out.push(Lens {
            range: at,
            title: matches_text(&selected(scope, &found, selector)),
        });
    }
    out
}

/// "2 Deployments: shop, shop-canary; 1 StatefulSet: db", or that it matches nothing.
pub fn matches_text(workloads: &[Found<'_>]) -> String {
    if workloads.is_empty() {
        return "matches no workload in the workspace".into();
    }
    let mut kinds: Vec<(&str, Vec<&str>)> = Vec::new();
    for workload in workloads {
        let kind = workload.document.kind.as_deref().unwrap_or("?");
        let name = workload.document.name.as_deref().unwrap_or("(unnamed)");
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, names)) => names.push(name),
            None => kinds.push((kind, vec![name])),
        }
    }
    for (_, names) in &mut kinds {
        names.sort_unstable();
    }
    kinds
        .iter()
        .map(|(kind, names)| {
            let shown: Vec<&str> = names.iter().take(5).copied().collect();
            let more = names.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("{}: {}{more}", counted(kind, names.len()), shown.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn namespace_words(namespace: Option<Landing<'_>>) -> String {
    match namespace {
        Some(Landing::In(namespace)) => format!(" · namespace `{namespace}`"),
        Some(Landing::Several) => " · the namespaces of its kustomizations".into(),
        None => String::new(),
    }
}

/// `- in the workspace: …` lines for the objects found (duplicates each with its place).
fn workspace_lines(scope: &Scope<'_>, objects: &[Found<'_>], out: &mut String) {
    match objects {
        [] => out.push_str("- not in the workspace\n"),
        [one] => out.push_str(&format!("- in the workspace: `{}`\n", scope.place(one))),
        several => {
            let places: Vec<String> = several
                .iter()
                .map(|f| format!("`{}`", scope.place(f)))
                .collect();
            out.push_str(&format!(
                "- defined {} times in the workspace: {}\n",
                several.len(),
                places.join(", ")
            ));
        }
    }
}

fn cluster_line(answer: &InCluster, wanted: &Wanted<'_>) -> String {
    let namespace = match wanted.namespace {
        Some(Landing::In(namespace)) => format!(", namespace `{namespace}`"),
        _ => String::new(),
    };
    match answer {
        InCluster::Found { context } => {
            format!("- in the cluster, context `{context}`{namespace}\n")
        }
        InCluster::Missing {
            context,
            complete: true,
        } => {
            format!("- not in the cluster (context `{context}`{namespace})\n")
        }
        InCluster::Missing {
            context,
            complete: false,
        } => format!(
            "- not among the objects listed from the cluster (context `{context}`{namespace}; the list was cut)\n"
        ),
        InCluster::NotServed { context } => format!(
            "- the cluster (context `{context}`) does not serve kind {}\n",
            wanted.target.kind
        ),
        InCluster::Pending => "- the cluster is being asked\n".into(),
        InCluster::Unavailable { context, why } => {
            format!("- the cluster (context `{context}`) could not be asked: {why}\n")
        }
        InCluster::NotConfigured => "- no cluster is configured\n".into(),
        InCluster::NotAsked => {
            "- the cluster is not asked (the object lands in several namespaces)\n".into()
        }
    }
}

/// The hover at `offset` of the indexed file `path`.
pub fn hover(scope: &Scope<'_>, path: &Path, offset: usize) -> Option<Hover> {
    let site = site_at(scope.index, path, offset)?;
    let (markdown, range) = match site {
        Site::Ref { found, reference } => {
            let wanted = Wanted::of(scope, &found, reference);
            let objects = wanted.in_workspace(scope);
            let spec = reference.spec();
            let target = format!("{} `{}`", wanted.target.kind, wanted.name);
            let mut text = match reference.part {
                Part::Name => format!("**{target}**{}", namespace_words(wanted.namespace)),
                part => format!(
                    "**{} `{}`** of {target}{}",
                    part_word(part),
                    reference.value,
                    namespace_words(wanted.namespace)
                ),
            };
            text.push_str(&format!(" — `{}`", spec.field));
            if reference.optional {
                text.push_str(" (optional)");
            }
            text.push_str("\n\n");
            workspace_lines(scope, &objects, &mut text);
            if well_known(wanted.target.kind, wanted.name) {
                text.push_str("- exists in every cluster (created by Kubernetes itself)\n");
            }
            if generated(scope, found.path, wanted.target.kind, wanted.name) {
                text.push_str("- generated by a kustomization that builds this file\n");
            }
            text.push_str(&cluster_line(&in_cluster(scope, &wanted), &wanted));
            if reference.part != Part::Name {
                part_lines(scope, reference.part, &reference.value, &objects, &mut text);
            }
            (text, reference.range.clone())
        }
        Site::Name { found } => {
            let document = found.document;
            let kind = document.kind.as_deref().unwrap_or("?");
            let name = document.name.as_deref().unwrap_or_default();
            let mut text = format!("**{kind} `{name}`**");
            if !matches!(
                kind,
                "Namespace" | "ClusterRole" | "StorageClass" | "PriorityClass"
            ) {
                text.push_str(&namespace_words(Some(landing(scope, &found))));
            }
            text.push_str("\n\n");
            let referrers: Vec<(Found<'_>, &str)> = scope
                .index
                .referring(name)
                .filter(|(f, r)| {
                    r.part == Part::Name && r.target().kind == kind && {
                        let wanted = Wanted::of(scope, f, r);
                        wanted.admits(scope, &found)
                    }
                })
                .map(|(f, r)| (f, r.spec().field))
                .collect();
            if referrers.is_empty() {
                text.push_str("- no reference to it in the workspace\n");
            } else {
                text.push_str(&format!(
                    "- referred to by {}:\n",
                    counted("object", referrers.len())
                ));
                for (referrer, field) in referrers.iter().take(20) {
                    text.push_str(&format!(
                        "  - {} `{}` (`{field}`) at `{}`\n",
                        referrer.document.kind.as_deref().unwrap_or("?"),
                        referrer.document.name.as_deref().unwrap_or("?"),
                        scope.place(referrer)
                    ));
                }
            }
            if document.is_workload() {
                let owners = selecting(scope, &found);
                if !owners.is_empty() {
                    text.push_str(&format!(
                        "- its Pods are selected by {}\n",
                        described(scope, &owners)
                    ));
                }
            }
            if let Some(selector) = document
                .selector
                .as_ref()
                .filter(|_| !document.is_workload())
            {
                text.push_str(&format!(
                    "- selects {}\n",
                    matches_text(&selected(scope, &found, selector))
                ));
            }
            (text, document.name_range.clone()?)
        }
        Site::Selector { found, label } => {
            let selector = found.document.selector.as_ref()?;
            let workloads = selected(scope, &found, selector);
            let mut text = format!("**Selects** {}\n\n", matches_text(&workloads));
            for workload in workloads.iter().take(20) {
                text.push_str(&format!("- `{}`\n", scope.place(workload)));
            }
            if workloads.is_empty() {
                let line = match pods_in_cluster(scope, landing(scope, &found), selector) {
                    InCluster::Found { context } => {
                        format!("- matches Pods in the cluster (context `{context}`)\n")
                    }
                    InCluster::Missing { context, .. } => {
                        format!("- matches no Pod in the cluster (context `{context}`)\n")
                    }
                    _ => String::new(),
                };
                text.push_str(&line);
            }
            let range = match label {
                Some((label, true)) => label.key_range.clone(),
                Some((label, false)) => label.value_range.clone(),
                None => found.document.label_spans.as_ref()?.selector_at.clone()?,
            };
            (text, range)
        }
        Site::PodLabel {
            found,
            label,
            on_key,
        } => {
            let owners = selecting(scope, &found);
            let text = if owners.is_empty() {
                "**Pod label**: no Service, PodDisruptionBudget or NetworkPolicy of the workspace selects these Pods\n".to_string()
            } else {
                format!(
                    "**Pod label**: these Pods are selected by {}\n",
                    described(scope, &owners)
                )
            };
            let range = if on_key {
                label.key_range.clone()
            } else {
                label.value_range.clone()
            };
            (text, range)
        }
        Site::TargetPort { found, port } => {
            let (name, range) = port.target_name.as_ref()?;
            let selector = found.document.selector.as_ref()?;
            let mut text =
                format!("**container port `{name}`** of the Pods this Service selects\n\n");
            let mut any = false;
            for workload in selected(scope, &found, selector) {
                for declared in workload
                    .document
                    .ports
                    .iter()
                    .filter(|p| p.name.as_deref() == Some(&**name))
                {
                    any = true;
                    text.push_str(&format!(
                        "- {} `{}`: {} at `{}`\n",
                        workload.document.kind.as_deref().unwrap_or("?"),
                        workload.document.name.as_deref().unwrap_or("?"),
                        declared.number.map_or("?".to_string(), |n| n.to_string()),
                        scope.place(&workload)
                    ));
                }
            }
            if !any {
                text.push_str("- no container of the selected workloads declares it\n");
            }
            (text, range.clone())
        }
        Site::DataKey { found, key } => {
            let document = found.document;
            let kind = document.kind.as_deref().unwrap_or("?");
            let name = document.name.as_deref().unwrap_or_default();
            let count = scope
                .index
                .referring(name)
                .filter(|(f, r)| {
                    r.part == Part::Key
                        && &*r.value == key
                        && r.target().kind == kind
                        && Wanted::of(scope, f, r).admits(scope, &found)
                })
                .count();
            let text = format!(
                "**key `{key}`** of {kind} `{name}`\n\n- {}\n",
                if count == 0 {
                    "no reference to it in the workspace".to_string()
                } else {
                    format!("referred to {} times in the workspace", count)
                }
            );
            let range = document
                .keys
                .iter()
                .find(|k| &*k.name == key)?
                .range
                .clone();
            (text, range)
        }
    };
    Some(Hover { markdown, range })
}

/// What a key or port reference finds in the workspace's objects.
fn part_lines(scope: &Scope<'_>, part: Part, value: &str, objects: &[Found<'_>], out: &mut String) {
    if objects.is_empty() {
        if part == Part::Key {
            out.push_str("- keys of objects in the cluster are not read (kube-lsp lists their metadata only)\n");
        }
        return;
    }
    for object in objects {
        let document = object.document;
        let found = match part {
            Part::Key => document.keys.iter().any(|k| &*k.name == value),
            Part::PortName => document
                .ports
                .iter()
                .any(|p| p.name.as_deref() == Some(value)),
            _ => document
                .ports
                .iter()
                .any(|p| p.number.is_some_and(|n| n.to_string() == value)),
        };
        out.push_str(&format!(
            "- {} in `{}`\n",
            if found {
                format!("{} `{value}` found", part_word(part))
            } else {
                format!("no {} `{value}`", part_word(part))
            },
            scope.place(object)
        ));
    }
}

/// "Service `web` (`svc.yaml:1`), PodDisruptionBudget `web` (`pdb.yaml:1`)".
fn described(scope: &Scope<'_>, objects: &[Found<'_>]) -> String {
    objects
        .iter()
        .take(10)
        .map(|f| {
            format!(
                "{} `{}` (`{}`)",
                f.document.kind.as_deref().unwrap_or("?"),
                f.document.name.as_deref().unwrap_or("?"),
                scope.place(f)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}
