//! Missing targets: a reference whose object is found neither in the workspace nor in the
//! cluster, a key or port its object does not have, a selector that selects nothing.
//!
//! No false warnings: nothing is said of a reference that may be right after all: `optional`
//! ones, objects every cluster has (`default` ServiceAccount…), names a kustomization generates,
//! objects of the same kind whose name is a template action, lists the cluster cut short, and
//! while the cluster's answer is pending (the server asks again when it arrives). What cannot be
//! known is information, not a warning: without a cluster, in a partial workspace (a Helm chart,
//! an overlay whose base is elsewhere) or for kinds clusters provide (StorageClass…); with a
//! cluster that cannot be asked.

use std::collections::HashMap;
use std::path::Path;

use super::resolve::{
    InCluster, Landing, Wanted, closest, generated, in_cluster, landing, partial, pods_in_cluster,
    selected, selects_any, well_known,
};
use super::{Scope, counted, selector_of};
use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::workspace::document::WORKLOAD_KINDS;
use crate::workspace::index::{Found, Namespace, ScanStatus};
use crate::workspace::references::{CLUSTER_PROVIDED, Part, Ref};

/// The reference diagnostics of the indexed file `path`, in its byte offsets. Nothing while the
/// workspace scan runs (the server asks again when it is done).
pub fn diagnostics(scope: &Scope<'_>, path: &Path) -> Vec<Diagnostic> {
    if scope.index.status() == ScanStatus::Running {
        return Vec::new();
    }
    let mut checker = Checker {
        scope,
        path,
        partial: None,
        suggestions: HashMap::new(),
        unnamed: HashMap::new(),
        out: Vec::new(),
    };
    for found in scope.index.documents_of(path) {
        for reference in &found.document.refs {
            match reference.part {
                Part::Name => checker.name(&found, reference),
                Part::Key => checker.key(&found, reference),
                Part::PortName | Part::PortNumber => checker.port(&found, reference),
            }
        }
        checker.selector(&found);
        checker.target_ports(&found);
    }
    checker.out
}

struct Checker<'s, 'a> {
    scope: &'s Scope<'a>,
    path: &'s Path,
    /// Why the workspace may be partial for this file (computed once, when needed).
    partial: Option<Option<String>>,
    /// The typo suggestion for a missing name, by where it is looked for: a file with
    /// thousands of references to missing objects asks few distinct questions, and each asks
    /// for every name of a kind.
    suggestions: HashMap<(Looked<'a>, &'a str), Option<&'a str>>,
    /// Whether objects without a name are where a name is looked for (any name may be theirs).
    unnamed: HashMap<Looked<'a>, bool>,
    out: Vec<Diagnostic>,
}

/// Where a name is looked for: kind, group, apiVersion and namespace (`None` for
/// cluster-scoped kinds, `Some(None)` for several namespaces).
type Looked<'a> = (&'a str, &'a str, Option<&'a str>, Option<Option<&'a str>>);

fn looked<'a>(wanted: &Wanted<'a>) -> Looked<'a> {
    let namespace = wanted.namespace.map(|landing| match landing {
        Landing::In(namespace) => Some(namespace),
        Landing::Several => None,
    });
    let target = &wanted.target;
    (target.kind, target.group, target.api_version, namespace)
}

/// `in namespace `shop`` (nothing for cluster-scoped kinds).
fn where_(namespace: Option<Landing<'_>>) -> String {
    match namespace {
        Some(Landing::In(namespace)) => format!(" in namespace `{namespace}`"),
        _ => String::new(),
    }
}

impl<'a> Checker<'_, 'a> {
    fn partial(&mut self) -> Option<String> {
        let (scope, path) = (self.scope, self.path);
        self.partial
            .get_or_insert_with(|| partial(scope, path))
            .clone()
    }

    fn unnamed_candidates(&mut self, wanted: &Wanted<'a>) -> bool {
        let scope = self.scope;
        *self
            .unnamed
            .entry(looked(wanted))
            .or_insert_with(|| wanted.unnamed_candidates(scope))
    }

    fn push(
        &mut self,
        severity: Severity,
        reference: &Ref,
        code: crate::diagnostic::Code,
        message: String,
    ) -> &mut Diagnostic {
        self.out.push(Diagnostic {
            severity,
            ..Diagnostic::error(reference.range.clone(), code, message)
        });
        self.out.last_mut().expect("just pushed")
    }

    fn name(&mut self, found: &Found<'a>, reference: &'a Ref) {
        let scope = self.scope;
        let wanted = Wanted::of(scope, found, reference);
        let (kind, name) = (wanted.target.kind, wanted.name);
        if reference.optional
            || well_known(kind, name)
            || !wanted.in_workspace(scope).is_empty()
            || generated(scope, found.path, kind, name)
            || self.unnamed_candidates(&wanted)
        {
            return;
        }
        let object = format!("{kind} `{name}`{}", where_(wanted.namespace));
        let (severity, message) = match in_cluster(scope, &wanted) {
            InCluster::Found { .. }
            | InCluster::Pending
            | InCluster::NotAsked
            | InCluster::Missing {
                complete: false, ..
            } => return,
            InCluster::Missing { context, .. } => (
                Severity::Warning,
                format!(
                    "{object} not found: not in the workspace, nor in the cluster (context {context})"
                ),
            ),
            InCluster::NotServed { context } => (
                Severity::Warning,
                format!(
                    "{object} not found: not in the workspace, and the cluster (context {context}) does not serve kind {kind}{}",
                    wanted
                        .target
                        .api_version
                        .map_or(String::new(), |v| format!(" ({v})"))
                ),
            ),
            InCluster::Unavailable { context, why } => (
                Severity::Information,
                format!(
                    "{object} is not in the workspace; the cluster (context {context}) could not be asked: {why}"
                ),
            ),
            InCluster::NotConfigured => match self.partial() {
                Some(reason) => (
                    Severity::Information,
                    format!(
                        "{object} is not in the workspace, which may not hold it ({reason}); no cluster is configured to look in"
                    ),
                ),
                None if CLUSTER_PROVIDED.contains(&kind) => (
                    Severity::Information,
                    format!(
                        "{object} is not in the workspace; clusters usually provide {kind}s (no cluster is configured to check)"
                    ),
                ),
                None => (
                    Severity::Warning,
                    format!("{object} not found in the workspace (no cluster is configured)"),
                ),
            },
        };
        let suggestion = *self
            .suggestions
            .entry((looked(&wanted), name))
            .or_insert_with(|| {
                let names = wanted
                    .of_kind(scope)
                    .filter_map(|f| f.document.name.as_deref());
                closest(name, names.take(10_000))
            });
        let diagnostic = self.push(severity, reference, codes::REFERENCE_MISSING, message);
        if let Some(better) = suggestion {
            diagnostic
                .message
                .push_str(&format!("; did you mean `{better}`?"));
            *diagnostic = diagnostic.clone().with_fix(
                format!("Change to `{better}`"),
                vec![(reference.range.clone(), better.to_string())],
            );
        }
    }

    /// The objects a key or port reference's name resolves to in the workspace, when they can be
    /// checked: found, none written with template actions, not optional.
    fn checkable(&self, found: &Found<'a>, reference: &'a Ref) -> Option<Vec<Found<'a>>> {
        let wanted = Wanted::of(self.scope, found, reference);
        let objects = wanted.in_workspace(self.scope);
        let generated = generated(self.scope, found.path, wanted.target.kind, wanted.name);
        (!objects.is_empty()
            && !reference.optional
            && !generated
            && objects.iter().all(|f| !f.document.templated))
        .then_some(objects)
    }

    fn key(&mut self, found: &Found<'a>, reference: &'a Ref) {
        let Some(objects) = self.checkable(found, reference) else {
            return;
        };
        let keys = || {
            objects
                .iter()
                .flat_map(|f| f.document.keys.iter().map(|k| &*k.name))
        };
        if keys().any(|k| k == &*reference.value) {
            return;
        }
        let target = reference.target();
        let mut listed: Vec<&str> = keys().collect();
        listed.sort_unstable();
        listed.dedup();
        let message = format!(
            "{} `{}` has no key `{}` ({})",
            target.kind,
            reference.target_name(),
            reference.value,
            match listed.len() {
                0 => "it has no data".to_string(),
                _ => format!(
                    "keys: {}",
                    listed
                        .iter()
                        .take(12)
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        );
        let suggestion = closest(&reference.value, listed.iter().copied());
        let diagnostic = self.push(
            Severity::Warning,
            reference,
            codes::REFERENCE_MISSING_KEY,
            message,
        );
        if let Some(better) = suggestion {
            *diagnostic = diagnostic.clone().with_fix(
                format!("Change to `{better}`"),
                vec![(reference.range.clone(), better.to_string())],
            );
        }
    }

    fn port(&mut self, found: &Found<'a>, reference: &'a Ref) {
        let Some(objects) = self.checkable(found, reference) else {
            return;
        };
        let ports = || objects.iter().flat_map(|f| f.document.ports.iter());
        let matches = ports().any(|port| match reference.part {
            Part::PortName => port.name.as_deref() == Some(&*reference.value),
            _ => port
                .number
                .is_some_and(|n| n.to_string() == *reference.value),
        });
        if matches {
            return;
        }
        let listed: Vec<String> = ports()
            .map(|port| match (&port.name, port.number) {
                (Some(name), Some(number)) => format!("`{name}` ({number})"),
                (Some(name), None) => format!("`{name}`"),
                (None, Some(number)) => number.to_string(),
                (None, None) => "?".into(),
            })
            .collect();
        let message = format!(
            "Service `{}` has no port {} `{}` ({})",
            reference.target_name(),
            if reference.part == Part::PortName {
                "named"
            } else {
                "numbered"
            },
            reference.value,
            if listed.is_empty() {
                "it has no ports".to_string()
            } else {
                format!("ports: {}", listed.join(", "))
            }
        );
        self.push(
            Severity::Warning,
            reference,
            codes::REFERENCE_MISSING_PORT,
            message,
        );
    }

    /// A Service's, PodDisruptionBudget's or NetworkPolicy's selector that selects nothing.
    fn selector(&mut self, found: &Found<'a>) {
        let Some((selector, at)) = selector_of(found).filter(|_| !found.document.templated) else {
            return;
        };
        if selector.is_empty() {
            return; // selects every Pod of its namespace
        }
        let scope = self.scope;
        if selects_any(scope, found, selector) {
            return;
        }
        let namespace = landing(scope, found);
        let templated_workloads = WORKLOAD_KINDS.iter().any(|kind| {
            scope
                .index
                .of_kind(kind, None, Namespace::Any)
                .any(|w| w.document.templated && namespace.meets(landing(scope, &w)))
        });
        if templated_workloads {
            return;
        }
        let nothing = format!(
            "selects nothing{}: no workload of the workspace has these Pod labels",
            where_(Some(namespace))
        );
        let (severity, message) = match pods_in_cluster(scope, namespace, selector) {
            InCluster::Found { .. }
            | InCluster::Pending
            | InCluster::NotAsked
            | InCluster::Missing {
                complete: false, ..
            } => return,
            InCluster::Missing { context, .. } => (
                Severity::Warning,
                format!("{nothing}, nor any Pod of the cluster (context {context})"),
            ),
            InCluster::NotServed { context } | InCluster::Unavailable { context, .. } => (
                Severity::Information,
                format!("{nothing}; the cluster's Pods (context {context}) could not be listed"),
            ),
            InCluster::NotConfigured => match self.partial() {
                Some(reason) => (
                    Severity::Information,
                    format!("{nothing}, which may not hold them ({reason})"),
                ),
                None => (Severity::Warning, nothing),
            },
        };
        self.out.push(Diagnostic {
            severity,
            ..Diagnostic::error(at, codes::REFERENCE_NO_MATCH, message)
        });
    }

    /// A Service's `targetPort` names that no container of its selected Pods declares.
    fn target_ports(&mut self, found: &Found<'a>) {
        let document = found.document;
        let Some(selector) = document.selector.as_ref() else {
            return;
        };
        if document.kind.as_deref() != Some("Service") || document.templated || selector.is_empty()
        {
            return;
        }
        let workloads = selected(self.scope, found, selector);
        if workloads.is_empty() || workloads.iter().any(|w| w.document.templated) {
            return; // nothing to check against (the selector's own diagnostic says so)
        }
        for port in &document.ports {
            let Some((target, range)) = &port.target_name else {
                continue;
            };
            let declared = workloads
                .iter()
                .flat_map(|w| w.document.ports.iter())
                .any(|p| p.name.as_deref() == Some(&**target));
            if declared {
                continue;
            }
            let kinds: Vec<String> = workloads
                .iter()
                .take(3)
                .map(|w| {
                    format!(
                        "{} `{}`",
                        w.document.kind.as_deref().unwrap_or("?"),
                        w.document.name.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            let message = format!(
                "no container port named `{target}` in the Pods this Service selects ({}{})",
                kinds.join(", "),
                if workloads.len() > 3 {
                    format!(", and {} more", counted("other", workloads.len() - 3))
                } else {
                    String::new()
                }
            );
            self.out.push(Diagnostic {
                severity: Severity::Warning,
                ..Diagnostic::error(range.clone(), codes::REFERENCE_MISSING_PORT, message)
            });
        }
    }
}
