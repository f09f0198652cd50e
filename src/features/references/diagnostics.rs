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

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;
use std::rc::Rc;

use super::resolve::{
    InCluster, Landing, Wanted, closest, closest_counted, generated_by, in_cluster, landing_by,
    namespace_where, partial, pods_in_cluster, well_known,
};
use super::{Scope, selector_of};
use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::text::threads;
use crate::workspace::document::{Selector, WORKLOAD_KINDS};
use crate::workspace::index::{Found, Namespace, ScanStatus};
use crate::workspace::kustomize::Kustomization;
use crate::workspace::references::{CLUSTER_PROVIDED, Part, Ref};

/// The reference diagnostics of the indexed file `path`, in its byte offsets. Nothing while the
/// workspace scan runs (the server asks again when it is done).
pub fn diagnostics(scope: &Scope<'_>, path: &Path) -> Vec<Diagnostic> {
    diagnostics_counted(scope, path).0
}

/// The questions [`diagnostics`] asked of the whole workspace: each is answered once per
/// computation, however many documents ask it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Selectors matched against the workspace's workloads.
    pub selections: usize,
    /// Files whose kustomizations were looked up.
    pub kustomization_lookups: usize,
    /// Paths hashed to find the kustomizations remembered for them (not for each document of
    /// the file the last one was for).
    pub kustomization_paths_hashed: usize,
    /// Lists of names gathered to suggest one for a missing name.
    pub name_lists: usize,
}

/// Files with this many documents or more are checked in parts, one per core (each part asks
/// its questions of the workspace once).
pub(super) const PARTS_FROM: usize = 2_000;

/// [`diagnostics`] with the work it took.
pub fn diagnostics_counted(scope: &Scope<'_>, path: &Path) -> (Vec<Diagnostic>, Work) {
    if scope.index.status() == ScanStatus::Running {
        return (Vec::new(), Work::default());
    }
    let documents: Vec<Found<'_>> = scope.index.documents_of(path).collect();
    let parts: Vec<&[Found<'_>]> = if documents.len() >= PARTS_FROM {
        let part_size = documents.len().div_ceil(threads::available());
        documents.chunks(part_size).collect()
    } else {
        vec![&documents]
    };
    let sizes: Vec<usize> = parts.iter().map(|part| part.len()).collect();
    let checked = threads::biggest_first(&sizes, |index| check_part(scope, path, parts[index]));
    let mut out = Vec::new();
    let mut work = Work::default();
    for (part_out, part_work) in checked {
        out.extend(part_out);
        work.add(&part_work);
    }
    (out, work)
}

/// The reference diagnostics of the documents of the indexed file `path` that `touched` meets
/// (ends included), with the part of the file they cover (`touched` and those documents): what
/// an edit that left every document the same for the others
/// ([`Document::same_for_others`](crate::workspace::document::Document::same_for_others)) can
/// have changed. `None` while the workspace scan runs.
pub fn diagnostics_within(
    scope: &Scope<'_>,
    path: &Path,
    touched: Range<usize>,
) -> Option<(Vec<Diagnostic>, Range<usize>)> {
    if scope.index.status() == ScanStatus::Running {
        return None;
    }
    let meets = |found: &Found<'_>| {
        found.document.range.start <= touched.end && touched.start <= found.document.range.end
    };
    let documents: Vec<Found<'_>> = scope.index.documents_of(path).filter(meets).collect();
    let part = documents.iter().fold(touched.clone(), |part, found| {
        let range = &found.document.range;
        part.start.min(range.start)..part.end.max(range.end)
    });
    Some((check_part(scope, path, &documents).0, part))
}

impl Work {
    fn add(&mut self, other: &Work) {
        self.selections += other.selections;
        self.kustomization_lookups += other.kustomization_lookups;
        self.kustomization_paths_hashed += other.kustomization_paths_hashed;
        self.name_lists += other.name_lists;
    }
}

/// The diagnostics of some of a file's documents, in order.
pub(super) fn check_part(
    scope: &Scope<'_>,
    path: &Path,
    documents: &[Found<'_>],
) -> (Vec<Diagnostic>, Work) {
    let mut checker = Checker {
        scope,
        path,
        partial: None,
        suggestions: HashMap::new(),
        names: HashMap::new(),
        unnamed: HashMap::new(),
        kustomizations: HashMap::new(),
        last_kustomizations: None,
        selections: HashMap::new(),
        templated_workloads: HashMap::new(),
        work: Work::default(),
        out: Vec::new(),
    };
    for found in documents {
        for reference in &found.document.refs {
            match reference.part {
                Part::Name => checker.name(found, reference),
                Part::Key => checker.key(found, reference),
                Part::PortName | Part::PortNumber => checker.port(found, reference),
            }
        }
        checker.selector(found);
        checker.target_ports(found);
    }
    (checker.out, checker.work)
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
    /// The names a typo suggestion is chosen from, by where they are looked for, each with its
    /// length in characters: found once, whatever the number of missing names asked.
    names: HashMap<Looked<'a>, Rc<[(usize, &'a str)]>>,
    /// Whether objects without a name are where a name is looked for (any name may be theirs).
    unnamed: HashMap<Looked<'a>, bool>,
    /// The kustomizations that build a file (where its objects land, what they generate).
    kustomizations: HashMap<&'a Path, Builds<'a>>,
    /// The last of them asked for, with its path: the documents of a file come one after the
    /// other, and hashing a path walks its components.
    last_kustomizations: Option<(&'a Path, Builds<'a>)>,
    /// What a selector selects where it lands: a file of many copies of one app asks the same
    /// question of each copy.
    selections: HashMap<(&'a Selector, Landing<'a>), Rc<Selection<'a>>>,
    /// Whether workloads written with template actions land where an owner lands.
    templated_workloads: HashMap<Landing<'a>, bool>,
    work: Work,
    out: Vec<Diagnostic>,
}

/// The kustomizations that build a file, with their paths.
type Builds<'a> = Rc<[(&'a Path, &'a Kustomization)]>;

/// The workloads of the workspace a selector selects.
#[derive(Default)]
struct Selection<'a> {
    count: usize,
    /// The first three, to name them.
    first: Vec<Found<'a>>,
    /// Whether one is written with template actions (its labels may be anything).
    templated: bool,
    /// The container port names their Pods declare.
    port_names: HashSet<&'a str>,
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

    /// Where `found` lands ([`super::resolve::landing`], remembered per file).
    fn landing(&mut self, found: &Found<'a>) -> Landing<'a> {
        if let Some(namespace) = found.document.namespace.as_deref() {
            return Landing::In(namespace);
        }
        let default_namespace = self.scope.default_namespace;
        landing_by(&self.kustomizations_of(found.path), default_namespace)
    }

    /// [`Index::kustomizations_of`](crate::workspace::index::Index::kustomizations_of), remembered.
    fn kustomizations_of(&mut self, path: &'a Path) -> Builds<'a> {
        if let Some((last, found)) = &self.last_kustomizations
            && (std::ptr::eq(*last, path) || *last == path)
        {
            return found.clone();
        }
        let (index, work) = (self.scope.index, &mut self.work);
        work.kustomization_paths_hashed += 1;
        let found = self
            .kustomizations
            .entry(path)
            .or_insert_with(|| {
                work.kustomization_lookups += 1;
                index.kustomizations_of(path).into()
            })
            .clone();
        self.last_kustomizations = Some((path, found.clone()));
        found
    }

    /// Whether a kustomization that builds `path` generates a `kind` named `name`.
    fn generated(&mut self, path: &'a Path, kind: &str, name: &str) -> bool {
        generated_by(&self.kustomizations_of(path), kind, name)
    }

    /// What `selector` of `owner` selects where the owner lands.
    fn selection(&mut self, owner: &Found<'a>, selector: &'a Selector) -> Rc<Selection<'a>> {
        let namespace = self.landing(owner);
        if let Some(known) = self.selections.get(&(selector, namespace)) {
            return known.clone();
        }
        self.work.selections += 1;
        let mut selection = Selection::default();
        let index = self.scope.index;
        for workload in index.workloads_matching(Namespace::Any, selector) {
            if !namespace.meets(self.landing(&workload)) {
                continue;
            }
            selection.count += 1;
            if selection.first.len() < 3 {
                selection.first.push(workload);
            }
            selection.templated |= workload.document.templated;
            let names = workload
                .document
                .ports
                .iter()
                .filter_map(|p| p.name.as_deref());
            selection.port_names.extend(names);
        }
        let selection = Rc::new(selection);
        self.selections
            .insert((selector, namespace), selection.clone());
        selection
    }

    /// Whether workloads written with template actions land where `namespace` is.
    fn templated_workloads(&mut self, namespace: Landing<'a>) -> bool {
        if let Some(known) = self.templated_workloads.get(&namespace) {
            return *known;
        }
        let index = self.scope.index;
        let templated = WORKLOAD_KINDS.iter().any(|kind| {
            index
                .of_kind(kind, None, Namespace::Any)
                .filter(|w| w.document.templated)
                .any(|w| namespace.meets(self.landing(&w)))
        });
        self.templated_workloads.insert(namespace, templated);
        templated
    }

    /// What `reference` of `found` points at ([`Wanted::of`] with the landing remembered).
    fn wanted(&mut self, found: &Found<'a>, reference: &'a Ref) -> Wanted<'a> {
        let namespace = namespace_where(reference, || self.landing(found));
        Wanted::landing(reference, namespace)
    }

    /// The names of the objects of `wanted`'s kind where it is looked for (the first 10,000).
    fn names_where(&mut self, wanted: &Wanted<'a>) -> Rc<[(usize, &'a str)]> {
        let scope = self.scope;
        let counted = |f: Found<'a>| {
            let name = f.document.name.as_deref()?;
            Some((name.chars().count(), name))
        };
        let work = &mut self.work;
        self.names
            .entry(looked(wanted))
            .or_insert_with(|| {
                work.name_lists += 1;
                wanted
                    .of_kind(scope)
                    .filter_map(counted)
                    .take(10_000)
                    .collect()
            })
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
        let wanted = self.wanted(found, reference);
        let (kind, name) = (wanted.target.kind, wanted.name);
        if reference.optional
            || well_known(kind, name)
            || !wanted.in_workspace(scope).is_empty()
            || self.generated(found.path, kind, name)
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
        let suggestion = match self.suggestions.get(&(looked(&wanted), name)) {
            Some(known) => *known,
            None => {
                let names = self.names_where(&wanted);
                let better = closest_counted(name, names.iter().copied());
                self.suggestions.insert((looked(&wanted), name), better);
                better
            }
        };
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
    fn checkable(&mut self, found: &Found<'a>, reference: &'a Ref) -> Option<Vec<Found<'a>>> {
        let wanted = self.wanted(found, reference);
        let objects = wanted.in_workspace(self.scope);
        let generated = self.generated(found.path, wanted.target.kind, wanted.name);
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
        if self.selection(found, selector).count > 0 {
            return;
        }
        let scope = self.scope;
        let namespace = self.landing(found);
        if self.templated_workloads(namespace) {
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
        let workloads = self.selection(found, selector);
        if workloads.count == 0 || workloads.templated {
            return; // nothing to check against (the selector's own diagnostic says so)
        }
        for port in &document.ports {
            let Some((target, range)) = &port.target_name else {
                continue;
            };
            if workloads.port_names.contains(&**target) {
                continue;
            }
            let kinds: Vec<String> = workloads
                .first
                .iter()
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
                if workloads.count > 3 {
                    format!(", and {} more", workloads.count - 3)
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
