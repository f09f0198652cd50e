//! Rules that need other objects: what a document asks ([`collect`]) and the answers
//! ([`answer`]) against the [`Universe`]: Services and NetworkPolicies that select no Pods,
//! references to ServiceAccounts, ConfigMaps, Secrets, Services and scale targets that do not
//! exist, workloads no NetworkPolicy isolates, disruption budgets that block every eviction, and
//! bindings to roles that reach Secrets or create Pods.

use super::object::Node;
use super::{Ctx, Finding, Need, Universe, label_selector, map_selector};
use crate::diagnostic::codes::{self, Code};
use crate::features::references::InCluster;
use crate::workspace::document::{Document, Labels, PolicyRule, Selector};
use crate::workspace::references::TargetType;

/// What a document asks of other objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    /// A Pod template whose labels `selector` matches (`what` says whose selector it is).
    Pods {
        selector: Selector,
        what: &'static str,
    },
    /// An object of `kind` named `name` (in `group` when given), and maybe a key or a port of it.
    Object {
        kind: Box<str>,
        group: Option<Box<str>>,
        /// The apiVersion to list it with in the cluster, when known.
        api_version: Option<Box<str>>,
        name: Box<str>,
        detail: Detail,
        /// The message when it is missing.
        missing: String,
    },
    /// A Service that a ServiceMonitor's selectors match.
    Services {
        labels: Selector,
        namespaces: Vec<Box<str>>,
        any_namespace: bool,
    },
    /// A NetworkPolicy that selects Pods with these labels.
    Isolation { labels: Labels },
    /// The workloads a PodDisruptionBudget covers, against its `minAvailable`.
    MinAvailable {
        selector: Selector,
        value: i64,
        percent: bool,
    },
    /// The rules of the role a binding grants.
    Role { kind: Box<str>, name: Box<str> },
}

impl Ask {
    /// Whether answering it reads the objects of `kind` (the [`Universe`](super::Universe)
    /// finds objects by kind): when none of that kind changed, its answer did not.
    pub fn reads_kind(&self, kind: &str) -> bool {
        const MIN_AVAILABLE_KINDS: [&str; 7] = [
            "Deployment",
            "StatefulSet",
            "ReplicaSet",
            "ReplicationController",
            "DeploymentConfig",
            "HorizontalPodAutoscaler",
            "ScaledObject",
        ];
        match self {
            Ask::Pods { .. } => crate::workspace::document::WORKLOAD_KINDS.contains(&kind),
            Ask::Object { kind: asked, .. } | Ask::Role { kind: asked, .. } => **asked == *kind,
            Ask::Services { .. } => kind == "Service",
            Ask::Isolation { .. } => kind == "NetworkPolicy",
            Ask::MinAvailable { .. } => MIN_AVAILABLE_KINDS.contains(&kind),
        }
    }
}

/// What must exist in the object an [`Ask::Object`] names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    Nothing,
    /// A key of a ConfigMap or Secret, and the message when it is missing.
    Key(Box<str>, String),
    /// A port of a Service (number or name), and the message when it is missing.
    Port(Result<i64, Box<str>>, String),
}

/// The questions of one object.
pub fn collect(ctx: &mut Ctx<'_>) {
    let object = ctx.object;
    role_binding(ctx);
    if let Some(spec) = object.spec() {
        match object.kind {
            "Service" => service(ctx, spec),
            "HorizontalPodAutoscaler" => autoscaler(ctx, spec),
            "Ingress" => ingress(ctx, spec),
            "NetworkPolicy" => network_policy(ctx, spec),
            "ServiceMonitor" if object.group() == "monitoring.coreos.com" => {
                service_monitor(ctx, spec)
            }
            "PodDisruptionBudget" => disruption_budget(ctx, spec),
            _ => {}
        }
    }
    if let Some(pod) = object.pod() {
        let account = pod
            .spec
            .get("serviceAccountName")
            .filter(|n| n.text().is_some())
            .or_else(|| pod.spec.get("serviceAccount"));
        if let Some(account) = account.filter(|a| a.text().is_some_and(|t| t != "default")) {
            let name = account.text().unwrap_or_default();
            ctx.need(
                codes::NON_EXISTENT_SERVICE_ACCOUNT,
                account.inner_range(),
                object_ask(
                    "ServiceAccount",
                    Some(""),
                    Some("v1"),
                    name,
                    format!("ServiceAccount \"{name}\" not found"),
                ),
            );
        }
        for container in pod.all_containers() {
            for (item, _) in container.env() {
                environment_reference(ctx, item, container.name());
            }
        }
        if let Some(range) = object
            .metadata
            .and_then(|m| m.get("name"))
            .map(|n| n.inner_range())
        {
            let labels: Labels = pod.labels().into_iter().collect();
            ctx.need(codes::NON_ISOLATED_POD, range, Ask::Isolation { labels });
        }
    }
}

fn object_ask(
    kind: &str,
    group: Option<&str>,
    api_version: Option<&str>,
    name: &str,
    missing: String,
) -> Ask {
    Ask::Object {
        kind: kind.into(),
        group: group.map(Into::into),
        api_version: api_version.map(Into::into),
        name: name.into(),
        detail: Detail::Nothing,
        missing,
    }
}

fn service(ctx: &mut Ctx<'_>, spec: Node<'_>) {
    if spec.get("type").and_then(|t| t.text()) == Some("ExternalName") {
        return;
    }
    let Some((key, selector)) = spec.entry("selector") else {
        return;
    };
    if let Some(selector) = map_selector(selector) {
        ctx.need(
            codes::DANGLING_SERVICE,
            key.range(),
            Ask::Pods {
                selector,
                what: "the Service's selector",
            },
        );
    }
}

fn autoscaler(ctx: &mut Ctx<'_>, spec: Node<'_>) {
    let Some(target) = spec.get("scaleTargetRef") else {
        return;
    };
    let field = |name: &str| target.get(name).and_then(|n| n.text());
    let (Some(kind), Some(name_node)) = (field("kind"), target.get("name")) else {
        return;
    };
    let Some(name) = name_node.text() else { return };
    let api_version = field("apiVersion").unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    ctx.need(
        codes::DANGLING_HORIZONTALPODAUTOSCALER,
        name_node.inner_range(),
        object_ask(
            kind,
            Some(group),
            field("apiVersion"),
            name,
            format!("the scale target {kind} \"{name}\" ({api_version}) is not found"),
        ),
    );
}

fn ingress(ctx: &mut Ctx<'_>, spec: Node<'_>) {
    let paths = spec
        .get("rules")
        .into_iter()
        .flat_map(|r| r.items())
        .flat_map(|rule| {
            rule.at(&["http", "paths"])
                .into_iter()
                .flat_map(|p| p.items())
        })
        .filter_map(|path| path.get("backend"));
    let default = spec.get("defaultBackend").or_else(|| spec.get("backend"));
    for backend in default.into_iter().chain(paths) {
        // networking.k8s.io/v1 `service: {name, port: {number | name}}`, else v1beta1's
        // `serviceName` and `servicePort`.
        let (name, port) = match backend.get("service") {
            Some(service) => (
                service.get("name"),
                service
                    .at(&["port", "number"])
                    .or_else(|| service.at(&["port", "name"])),
            ),
            None => (backend.get("serviceName"), backend.get("servicePort")),
        };
        let Some(name_node) = name.filter(|n| n.text().is_some()) else {
            continue;
        };
        let name = name_node.text().unwrap_or_default();
        let port: Option<Result<i64, Box<str>>> =
            port.and_then(|p| match (p.integer(), p.text()) {
                (Some(n), _) => Some(Ok(n)),
                (None, Some(s)) => Some(Err(Box::from(s))),
                _ => None,
            });
        let port_text = match &port {
            Some(Ok(n)) => n.to_string(),
            Some(Err(s)) => s.to_string(),
            None => String::new(),
        };
        let detail = match port {
            Some(port) => Detail::Port(port, format!("Service \"{name}\" has no port {port_text}")),
            None => Detail::Nothing,
        };
        ctx.need(
            codes::DANGLING_INGRESS,
            name_node.inner_range(),
            Ask::Object {
                kind: "Service".into(),
                group: Some("".into()),
                api_version: Some("v1".into()),
                name: name.into(),
                detail,
                missing: format!("no Service \"{name}\" for this backend (port {port_text})"),
            },
        );
    }
}

fn network_policy(ctx: &mut Ctx<'_>, spec: Node<'_>) {
    if let Some((key, node)) = spec.entry("podSelector")
        && let Some(selector) = label_selector(node).filter(|s| !s.is_empty())
    {
        ctx.need(
            codes::DANGLING_NETWORKPOLICY,
            key.range(),
            Ask::Pods {
                selector,
                what: "the NetworkPolicy's podSelector",
            },
        );
    }
    let peers = |direction: &str, side: &str| {
        spec.get(direction)
            .into_iter()
            .flat_map(|rules| rules.items())
            .flat_map(|rule| rule.get(side).into_iter().flat_map(|peers| peers.items()))
            .collect::<Vec<_>>()
    };
    for peer in peers("ingress", "from")
        .into_iter()
        .chain(peers("egress", "to"))
    {
        if peer.get("namespaceSelector").is_some() {
            continue;
        }
        let Some((key, node)) = peer.entry("podSelector") else {
            continue;
        };
        if let Some(selector) = label_selector(node).filter(|s| !s.is_empty()) {
            ctx.need(
                codes::DANGLING_NETWORKPOLICYPEER_PODSELECTOR,
                key.range(),
                Ask::Pods {
                    selector,
                    what: "this rule's podSelector",
                },
            );
        }
    }
}

fn service_monitor(ctx: &mut Ctx<'_>, spec: Node<'_>) {
    let labels = spec
        .at(&["selector", "matchLabels"])
        .and_then(map_selector)
        .unwrap_or_default();
    let namespace_selector = spec.get("namespaceSelector");
    let namespaces: Vec<Box<str>> = namespace_selector
        .and_then(|n| n.get("matchNames"))
        .iter()
        .flat_map(Node::items)
        .filter_map(|n| n.text().map(Into::into))
        .collect();
    let any_namespace = namespace_selector
        .and_then(|n| n.get("any"))
        .and_then(|a| a.boolean())
        == Some(true);
    let at = spec
        .key_range("selector")
        .or_else(|| spec.key_range("namespaceSelector"))
        .unwrap_or_else(|| ctx.object.anchor());
    ctx.need(
        codes::DANGLING_SERVICEMONITOR,
        at,
        Ask::Services {
            labels,
            namespaces,
            any_namespace,
        },
    );
}

fn disruption_budget(ctx: &mut Ctx<'_>, spec: Node<'_>) {
    let Some(min) = spec.get("minAvailable") else {
        return;
    };
    let (value, percent) = match (min.integer(), min.string()) {
        (Some(n), _) => (n, false),
        (None, Some(s)) => match s.strip_suffix('%').and_then(|n| n.parse().ok()) {
            Some(n) => (n, true),
            None => return,
        },
        _ => return,
    };
    let Some(selector) = spec.get("selector").and_then(label_selector) else {
        return;
    };
    ctx.need(
        codes::PDB_MIN_AVAILABLE,
        min.range(),
        Ask::MinAvailable {
            selector,
            value,
            percent,
        },
    );
}

fn role_binding(ctx: &mut Ctx<'_>) {
    if !matches!(ctx.object.kind, "RoleBinding" | "ClusterRoleBinding") {
        return;
    }
    let Some(role) = ctx.object.root.get("roleRef") else {
        return;
    };
    let (Some(kind), Some(name)) = (role.get("kind").and_then(|k| k.text()), role.get("name"))
    else {
        return;
    };
    let Some(text) = name.text() else { return };
    for code in [codes::ACCESS_TO_SECRETS, codes::ACCESS_TO_CREATE_PODS] {
        ctx.need(
            code,
            name.inner_range(),
            Ask::Role {
                kind: kind.into(),
                name: text.into(),
            },
        );
    }
}

fn environment_reference(ctx: &mut Ctx<'_>, item: Node<'_>, container: &str) {
    for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
        let Some(reference) = item.at(&["valueFrom", field]) else {
            continue;
        };
        if reference.get("optional").and_then(|o| o.boolean()) == Some(true) {
            continue;
        }
        let (Some(name_node), Some(key)) = (
            reference.get("name"),
            reference.get("key").and_then(|k| k.text()),
        ) else {
            continue;
        };
        let Some(name) = name_node.text() else {
            continue;
        };
        ctx.need(
            codes::ENV_VALUE_FROM,
            name_node.inner_range(),
            Ask::Object {
                kind: kind.into(),
                group: Some("".into()),
                api_version: Some("v1".into()),
                name: name.into(),
                detail: Detail::Key(
                    key.into(),
                    format!("container \"{container}\" reads key \"{key}\" that {kind} \"{name}\" does not have"),
                ),
                missing: format!("container \"{container}\" reads {kind} \"{name}\", which is not found"),
            },
        );
    }
}

/// The findings of `need` in `universe`. Questions about what is missing are left unanswered
/// while the workspace is still being read.
pub fn answer(need: &Need, universe: &Universe<'_>) -> Option<Finding> {
    let namespace = need.namespace.as_deref();
    let message = match &need.ask {
        _ if universe.is_filling()
            && !matches!(need.ask, Ask::MinAvailable { .. } | Ask::Role { .. }) =>
        {
            return None;
        }
        Ask::Pods { selector, what } => {
            let found = universe.selects_a_workload(namespace, selector);
            if found {
                return None;
            }
            let message = format!("{what} matches no Pod template{}", in_namespace(namespace));
            let in_cluster = universe.pods_in_cluster(namespace, selector);
            not_in_cluster(in_cluster, message, "nor any Pod of the cluster")?
        }
        Ask::Object {
            kind,
            group,
            api_version,
            name,
            detail,
            missing,
        } => {
            let mut found = universe
                .named(kind, group.as_deref(), namespace, name)
                .peekable();
            if found.peek().is_none() {
                let target = TargetType {
                    kind,
                    group: group.as_deref().unwrap_or(""),
                    api_version: api_version.as_deref(),
                    // Every kind asked for by name is namespaced (scale targets too).
                    namespaced: true,
                };
                let in_cluster = universe.object_in_cluster(target, namespace, name);
                not_in_cluster(in_cluster, missing.clone(), "nor in the cluster")?
            } else {
                // Found as soon as one copy of the name answers: a templated one (whose keys
                // and ports cannot be known) or one with the key or port asked for.
                let answers = |d: &Document| {
                    d.templated
                        || match detail {
                            Detail::Nothing => true,
                            Detail::Key(key, _) => d
                                .details()
                                .keys
                                .as_ref()
                                .is_none_or(|keys| keys.contains(key)),
                            Detail::Port(port, _) => d.details().ports.iter().any(|p| match port {
                                Ok(n) => p.port == Some(*n),
                                Err(s) => p.name.as_deref() == Some(&**s),
                            }),
                        }
                };
                if found.any(answers) {
                    return None;
                }
                match detail {
                    Detail::Nothing => return None,
                    Detail::Key(_, message) | Detail::Port(_, message) => message.clone(),
                }
            }
        }
        Ask::Services {
            labels,
            namespaces,
            any_namespace,
        } => service_monitor_answer(universe, labels, namespaces, *any_namespace)?,
        Ask::Isolation { labels } => {
            let isolated = universe
                .of_kind("NetworkPolicy", namespace)
                .any(|p| p.selector.as_ref().is_some_and(|s| s.matches(labels)));
            if isolated {
                return None;
            }
            "no NetworkPolicy selects these Pods: they accept traffic from anywhere".to_string()
        }
        Ask::MinAvailable {
            selector,
            value,
            percent,
        } => min_available_answer(universe, namespace, selector, *value, *percent)?,
        Ask::Role { kind, name } => role_answer(universe, need.code, namespace, kind, name)?,
    };
    Some(Finding {
        code: need.code,
        range: need.range.clone(),
        message,
        fix: None,
    })
}

/// The message of something the workspace does not hold, after asking the cluster: `None` when
/// the cluster holds it, or may (its list is being fetched, or cut); `missing` as it is without
/// a cluster; with `nor` and the context when the cluster does not hold it either, and with why
/// when the cluster could not say. The cluster's lists are metadata only: an object found there
/// is not looked into (keys, ports).
fn not_in_cluster(in_cluster: InCluster, missing: String, nor: &str) -> Option<String> {
    match in_cluster {
        InCluster::Found { .. }
        | InCluster::Pending
        | InCluster::NotAsked
        | InCluster::Missing {
            complete: false, ..
        } => None,
        InCluster::Missing { context, .. } => Some(format!("{missing} ({nor}, context {context})")),
        InCluster::NotServed { context } => Some(format!(
            "{missing} (the cluster, context {context}, does not serve this kind)"
        )),
        InCluster::Unavailable { context, why } => Some(format!(
            "{missing} (the cluster, context {context}, could not be asked: {why})"
        )),
        InCluster::NotConfigured => Some(missing),
    }
}

fn in_namespace(namespace: Option<&str>) -> String {
    namespace.map_or(String::new(), |ns| format!(" in namespace {ns}"))
}

/// kube-linter's reading of a ServiceMonitor: without a namespace selector, a Service of any
/// namespace whose labels match; with one, a Service of those namespaces (whose labels match,
/// if a label selector is set).
fn service_monitor_answer(
    universe: &Universe<'_>,
    labels: &Selector,
    namespaces: &[Box<str>],
    any_namespace: bool,
) -> Option<String> {
    let labels_set = !labels.is_empty();
    let namespaces_set = !namespaces.is_empty() || any_namespace;
    if !labels_set && !namespaces_set {
        return Some("the ServiceMonitor has no selector".to_string());
    }
    let answers = |service: &Document| {
        let in_namespaces = any_namespace
            || namespaces
                .iter()
                .any(|ns| **ns == *service.namespace.as_deref().unwrap_or(""));
        let matches = labels.matches(&service.labels);
        (in_namespaces && (!labels_set || matches)) || (matches && labels_set && !namespaces_set)
    };
    // With labels to match, only the Services that match answer: those with one of the labels
    // are looked up.
    let found = match labels.match_labels.iter().next() {
        Some((key, value)) => universe.services_labelled(key, value).any(answers),
        None => universe.services().any(answers),
    };
    (!found).then(|| {
        let names: Vec<&str> = namespaces.iter().map(|n| &**n).collect();
        format!(
            "the ServiceMonitor's selectors (labels {}, namespaces [{}]) match no Service",
            describe(labels),
            names.join(", ")
        )
    })
}

fn describe(selector: &Selector) -> String {
    let pairs: Vec<String> = selector
        .match_labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if pairs.is_empty() {
        "any".to_string()
    } else {
        pairs.join(",")
    }
}

/// Workloads with replicas, the PodDisruptionBudget's selector equal to theirs or matching their
/// Pods, whose replicas (an autoscaler's minimum, when one scales them) are at most
/// `minAvailable`.
fn min_available_answer(
    universe: &Universe<'_>,
    namespace: Option<&str>,
    selector: &Selector,
    value: i64,
    percent: bool,
) -> Option<String> {
    let mut blocked = Vec::new();
    for kind in [
        "Deployment",
        "StatefulSet",
        "ReplicaSet",
        "ReplicationController",
        "DeploymentConfig",
    ] {
        for workload in universe.of_kind(kind, namespace) {
            let covered = workload.selector.as_deref() == Some(selector)
                || (!selector.is_empty()
                    && workload
                        .pod_labels
                        .as_ref()
                        .is_some_and(|l| !l.is_empty() && selector.matches(l)));
            if !covered {
                continue;
            }
            let Some(name) = workload.name.as_deref() else {
                continue;
            };
            let scaled = ["HorizontalPodAutoscaler", "ScaledObject"]
                .iter()
                .find_map(|scaler| {
                    universe.of_kind(scaler, namespace).find_map(|s| {
                        let target = s.details().scale_target.as_ref()?;
                        let target_kind = target.kind.as_deref().unwrap_or("Deployment");
                        (&*target.name == name && target_kind == kind)
                            .then(|| target.min_replicas.unwrap_or(1))
                    })
                });
            let replicas = scaled.unwrap_or(workload.details().replicas.unwrap_or(1));
            let min = if percent {
                replicas * value / 100
            } else {
                value
            };
            if replicas <= min {
                blocked.push(format!("{kind} {name} ({replicas})"));
            }
        }
    }
    (!blocked.is_empty()).then(|| {
        format!(
            "minAvailable is at least the replicas of {}: no Pod can be evicted",
            blocked.join(", ")
        )
    })
}

/// kube-linter's `access-to-secrets` and `access-to-create-pods`: what the bound role allows.
fn role_answer(
    universe: &Universe<'_>,
    code: Code,
    namespace: Option<&str>,
    kind: &str,
    name: &str,
) -> Option<String> {
    let (resources, verbs): (&[&str], &[&str]) = if code == codes::ACCESS_TO_SECRETS {
        (
            &["secrets"],
            &["get", "list", "delete", "create", "watch", "*"],
        )
    } else {
        (
            &[
                "pods",
                "deployments",
                "statefulsets",
                "replicasets",
                "cronjobs",
                "jobs",
                "daemonsets",
            ],
            &["create", "*"],
        )
    };
    let scope = (kind == "Role").then_some(namespace).flatten();
    let rules: Vec<&PolicyRule> = universe
        .named(kind, Some("rbac.authorization.k8s.io"), scope, name)
        .flat_map(|role| role.details().rules.iter())
        .collect();
    let mut granted_verbs: Vec<&str> = Vec::new();
    let mut granted_resources: Vec<&str> = Vec::new();
    for rule in rules {
        let matched: Vec<&str> = rule
            .resources
            .iter()
            .map(|r| &**r)
            .filter(|r| resources.contains(r))
            .collect();
        let allowed: Vec<&str> = rule
            .verbs
            .iter()
            .map(|v| &**v)
            .filter(|v| verbs.contains(v))
            .collect();
        if !matched.is_empty() && !allowed.is_empty() {
            granted_resources.extend(matched);
            granted_verbs.extend(allowed);
        }
    }
    for list in [&mut granted_verbs, &mut granted_resources] {
        let mut seen = Vec::new();
        list.retain(|item| {
            let new = !seen.contains(item);
            seen.push(*item);
            new
        });
    }
    (!granted_verbs.is_empty()).then(|| {
        format!(
            "binds {kind} \"{name}\", which grants [{}] on [{}]",
            granted_verbs.join(", "),
            granted_resources.join(", ")
        )
    })
}
