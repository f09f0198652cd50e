//! What the rules ask of objects in other documents (`features::rules`): a workload's replicas,
//! a Service's ports, the keys of a ConfigMap or Secret, what an autoscaler scales and a role's
//! rules. Read with the index's [`Reader`] from the same span tree, so values written with a Helm
//! action are left out here too.

use super::{Reader, SpanKind, SpanRef, path, scalar_text, value};

/// Kind-specific facts of a document (empty for kinds that have none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Details {
    /// `spec.replicas` of a workload, when written.
    pub replicas: Option<i64>,
    /// A Service's `spec.ports`: name and port number of each.
    pub ports: Vec<ServicePort>,
    /// The keys of a ConfigMap (`data`, `binaryData`) or a Secret (`data`, `stringData`).
    pub keys: Option<Vec<Box<str>>>,
    /// What a HorizontalPodAutoscaler (or a KEDA ScaledObject) scales.
    pub scale_target: Option<ScaleTarget>,
    /// A Role's or ClusterRole's `rules`.
    pub rules: Vec<PolicyRule>,
    /// A binding's `roleRef`: kind and name.
    pub role_ref: Option<(Box<str>, Box<str>)>,
}

/// The details of a document that has none.
pub(super) static EMPTY: Details = Details {
    replicas: None,
    ports: Vec::new(),
    keys: None,
    scale_target: None,
    rules: Vec::new(),
    role_ref: None,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServicePort {
    pub name: Option<Box<str>>,
    pub port: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScaleTarget {
    pub api_version: Option<Box<str>>,
    /// `None` for a ScaledObject that names none (it then scales a Deployment).
    pub kind: Option<Box<str>>,
    pub name: Box<str>,
    /// `minReplicas` (`minReplicaCount` of a ScaledObject), when written.
    pub min_replicas: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub api_groups: Vec<Box<str>>,
    pub resources: Vec<Box<str>>,
    pub verbs: Vec<Box<str>>,
}

impl Reader<'_> {
    pub(super) fn details(&self, kind: &str, mapping: SpanRef<'_>) -> Details {
        let spec = value(mapping, "spec");
        let mut details = Details::default();
        match kind {
            "Deployment"
            | "StatefulSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "DeploymentConfig" => {
                details.replicas = self.integer(path(spec, &["replicas"]));
            }
            "Service" => {
                for port in path(spec, &["ports"]).iter().flat_map(SpanRef::children) {
                    details.ports.push(ServicePort {
                        name: self.string(value(port, "name")),
                        port: self.integer(value(port, "port")),
                    });
                }
            }
            "ConfigMap" | "Secret" => {
                let fields: &[&str] = if kind == "Secret" {
                    &["data", "stringData"]
                } else {
                    &["data", "binaryData"]
                };
                let keys = fields
                    .iter()
                    .filter_map(|field| value(mapping, field))
                    .flat_map(|map| map.pairs())
                    .filter_map(|(key, _)| scalar_text(key))
                    .collect();
                details.keys = Some(keys);
            }
            "HorizontalPodAutoscaler" | "ScaledObject" => {
                let target = path(spec, &["scaleTargetRef"]);
                let field = |name: &str| self.string(target.and_then(|t| value(t, name)));
                let min = if kind == "ScaledObject" {
                    "minReplicaCount"
                } else {
                    "minReplicas"
                };
                details.scale_target = field("name").map(|name| ScaleTarget {
                    api_version: field("apiVersion"),
                    kind: field("kind"),
                    name,
                    min_replicas: self.integer(path(spec, &[min])),
                });
            }
            "Role" | "ClusterRole" => {
                for rule in value(mapping, "rules").iter().flat_map(SpanRef::children) {
                    let list = |name: &str| self.strings(value(rule, name));
                    details.rules.push(PolicyRule {
                        api_groups: list("apiGroups"),
                        resources: list("resources"),
                        verbs: list("verbs"),
                    });
                }
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let role = value(mapping, "roleRef");
                let field = |name: &str| self.string(role.and_then(|r| value(r, name)));
                details.role_ref = field("kind").zip(field("name"));
            }
            _ => {}
        }
        details
    }

    fn string(&self, node: Option<SpanRef<'_>>) -> Option<Box<str>> {
        self.value_text(node?)
    }

    fn integer(&self, node: Option<SpanRef<'_>>) -> Option<i64> {
        self.string(node)?.parse().ok()
    }

    fn strings(&self, node: Option<SpanRef<'_>>) -> Vec<Box<str>> {
        match node {
            Some(list) if list.kind() == SpanKind::Sequence => list
                .children()
                .filter_map(|item| self.value_text(item))
                .collect(),
            _ => Vec::new(),
        }
    }
}
