//! What points at what: the table of references between Kubernetes objects (a Pod spec's
//! `configMapKeyRef` names a ConfigMap and one of its keys, an Ingress backend a Service and one
//! of its ports, a RoleBinding's `roleRef` a Role or ClusterRole…), and what the index reads of
//! them from a document: every reference with the range of its value, the data keys of
//! ConfigMaps and Secrets (never their values), the ports of containers and Services, and where
//! Pod template labels and selectors are written.
//!
//! Label selectors (Service, PodDisruptionBudget, NetworkPolicy → the workloads whose Pods they
//! select) are the [`Document::selector`](super::document::Document::selector) the index already
//! has; a Service's named `targetPort` is read with its [ports](Port).
//!
//! The table is data so that every feature reads the same one: the index reads references with
//! it ([`read`]), completion matches a cursor's path against it ([`match_path`]).

use std::ops::Range;

use super::document::{Reader, TEMPLATE_WORKLOADS, group_of, pair, value};
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::spans::{SpanKind, SpanRef};

/// One step from a node to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Key(&'static str),
    /// Any of these keys (`containers`, `initContainers`, `ephemeralContainers`).
    AnyKey(&'static [&'static str]),
    /// Every item of a sequence.
    Items,
}

/// A kind that references point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Type {
    pub kind: &'static str,
    pub api_version: &'static str,
    pub namespaced: bool,
}

impl Type {
    const fn new(kind: &'static str, api_version: &'static str, namespaced: bool) -> Type {
        Type {
            kind,
            api_version,
            namespaced,
        }
    }

    pub fn group(&self) -> &'static str {
        group_of(self.api_version)
    }
}

pub const CONFIG_MAP: Type = Type::new("ConfigMap", "v1", true);
pub const SECRET: Type = Type::new("Secret", "v1", true);
pub const SERVICE: Type = Type::new("Service", "v1", true);
pub const SERVICE_ACCOUNT: Type = Type::new("ServiceAccount", "v1", true);
pub const PVC: Type = Type::new("PersistentVolumeClaim", "v1", true);
pub const PRIORITY_CLASS: Type = Type::new("PriorityClass", "scheduling.k8s.io/v1", false);
pub const RUNTIME_CLASS: Type = Type::new("RuntimeClass", "node.k8s.io/v1", false);
pub const STORAGE_CLASS: Type = Type::new("StorageClass", "storage.k8s.io/v1", false);
pub const INGRESS_CLASS: Type = Type::new("IngressClass", "networking.k8s.io/v1", false);
pub const ROLE: Type = Type::new("Role", "rbac.authorization.k8s.io/v1", true);
pub const CLUSTER_ROLE: Type = Type::new("ClusterRole", "rbac.authorization.k8s.io/v1", false);
pub const POD: Type = Type::new("Pod", "v1", true);

/// Kinds a cluster usually provides rather than an application's manifests.
pub const CLUSTER_PROVIDED: [&str; 4] = [
    STORAGE_CLASS.kind,
    PRIORITY_CLASS.kind,
    RUNTIME_CLASS.kind,
    INGRESS_CLASS.kind,
];

/// What a reference can point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Targets {
    One(Type),
    /// The anchor's `kind` field chooses one (`roleRef`, `subjects`); other kinds are not
    /// objects (`User`, `Group`) and make no reference.
    Choice(&'static [Type]),
    /// The anchor's `kind` and `apiVersion` name any namespaced kind (`scaleTargetRef`).
    Named,
}

/// Where in an object its references are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A Pod spec: a Pod's `spec`, a workload's `spec.template.spec`, a CronJob's
    /// `spec.jobTemplate.spec.template.spec`, a PodTemplate's `template.spec`.
    PodSpec,
    /// The root of objects of these kinds.
    In(&'static [&'static str]),
}

/// One kind of reference.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    /// How users know it (`env[].valueFrom.configMapKeyRef`).
    pub field: &'static str,
    pub place: Place,
    /// From the place to the mapping that holds the name (the anchor).
    pub anchor: &'static [Step],
    /// The anchor's field holding the target's name.
    pub name: &'static str,
    pub targets: Targets,
    /// From the anchor to each key of the target's data it names.
    pub keys: &'static [Step],
    /// From the anchor to the target's port: by name, by number (an Ingress backend's).
    pub port: Option<(&'static [Step], &'static [Step])>,
    /// The anchor's field naming the target's namespace (`subjects[].namespace`).
    pub namespace: Option<&'static str>,
}

const CONTAINERS: Step = Step::AnyKey(&["containers", "initContainers", "ephemeralContainers"]);
const ITEM_KEYS: &[Step] = &[Step::Key("items"), Step::Items, Step::Key("key")];
const BACKEND_PORT: Option<(&[Step], &[Step])> = Some((
    &[Step::Key("port"), Step::Key("name")],
    &[Step::Key("port"), Step::Key("number")],
));

const fn spec(
    field: &'static str,
    place: Place,
    anchor: &'static [Step],
    name: &'static str,
    target: Type,
) -> Spec {
    Spec {
        field,
        place,
        anchor,
        name,
        targets: Targets::One(target),
        keys: &[],
        port: None,
        namespace: None,
    }
}

const fn with_keys(mut spec: Spec, keys: &'static [Step]) -> Spec {
    spec.keys = keys;
    spec
}

use Place::{In, PodSpec};
use Step::{Items, Key};

/// Every reference kind (the order is part of the index: [`Ref::spec`] is a position here).
pub static SPECS: [Spec; 27] = [
    with_keys(
        spec(
            "env[].valueFrom.configMapKeyRef",
            PodSpec,
            &[
                CONTAINERS,
                Items,
                Key("env"),
                Items,
                Key("valueFrom"),
                Key("configMapKeyRef"),
            ],
            "name",
            CONFIG_MAP,
        ),
        &[Key("key")],
    ),
    with_keys(
        spec(
            "env[].valueFrom.secretKeyRef",
            PodSpec,
            &[
                CONTAINERS,
                Items,
                Key("env"),
                Items,
                Key("valueFrom"),
                Key("secretKeyRef"),
            ],
            "name",
            SECRET,
        ),
        &[Key("key")],
    ),
    spec(
        "envFrom[].configMapRef",
        PodSpec,
        &[
            CONTAINERS,
            Items,
            Key("envFrom"),
            Items,
            Key("configMapRef"),
        ],
        "name",
        CONFIG_MAP,
    ),
    spec(
        "envFrom[].secretRef",
        PodSpec,
        &[CONTAINERS, Items, Key("envFrom"), Items, Key("secretRef")],
        "name",
        SECRET,
    ),
    with_keys(
        spec(
            "volumes[].configMap",
            PodSpec,
            &[Key("volumes"), Items, Key("configMap")],
            "name",
            CONFIG_MAP,
        ),
        ITEM_KEYS,
    ),
    with_keys(
        spec(
            "volumes[].secret",
            PodSpec,
            &[Key("volumes"), Items, Key("secret")],
            "secretName",
            SECRET,
        ),
        ITEM_KEYS,
    ),
    spec(
        "volumes[].persistentVolumeClaim",
        PodSpec,
        &[Key("volumes"), Items, Key("persistentVolumeClaim")],
        "claimName",
        PVC,
    ),
    with_keys(
        spec(
            "volumes[].projected.sources[].configMap",
            PodSpec,
            &[
                Key("volumes"),
                Items,
                Key("projected"),
                Key("sources"),
                Items,
                Key("configMap"),
            ],
            "name",
            CONFIG_MAP,
        ),
        ITEM_KEYS,
    ),
    with_keys(
        spec(
            "volumes[].projected.sources[].secret",
            PodSpec,
            &[
                Key("volumes"),
                Items,
                Key("projected"),
                Key("sources"),
                Items,
                Key("secret"),
            ],
            "name",
            SECRET,
        ),
        ITEM_KEYS,
    ),
    spec(
        "serviceAccountName",
        PodSpec,
        &[],
        "serviceAccountName",
        SERVICE_ACCOUNT,
    ),
    spec(
        "serviceAccount",
        PodSpec,
        &[],
        "serviceAccount",
        SERVICE_ACCOUNT,
    ),
    spec(
        "imagePullSecrets[]",
        PodSpec,
        &[Key("imagePullSecrets"), Items],
        "name",
        SECRET,
    ),
    spec(
        "priorityClassName",
        PodSpec,
        &[],
        "priorityClassName",
        PRIORITY_CLASS,
    ),
    spec(
        "runtimeClassName",
        PodSpec,
        &[],
        "runtimeClassName",
        RUNTIME_CLASS,
    ),
    Spec {
        port: BACKEND_PORT,
        ..spec(
            "spec.defaultBackend.service",
            In(&["Ingress"]),
            &[Key("spec"), Key("defaultBackend"), Key("service")],
            "name",
            SERVICE,
        )
    },
    Spec {
        port: BACKEND_PORT,
        ..spec(
            "spec.rules[].http.paths[].backend.service",
            In(&["Ingress"]),
            &[
                Key("spec"),
                Key("rules"),
                Items,
                Key("http"),
                Key("paths"),
                Items,
                Key("backend"),
                Key("service"),
            ],
            "name",
            SERVICE,
        )
    },
    spec(
        "spec.tls[].secretName",
        In(&["Ingress"]),
        &[Key("spec"), Key("tls"), Items],
        "secretName",
        SECRET,
    ),
    spec(
        "spec.ingressClassName",
        In(&["Ingress"]),
        &[Key("spec")],
        "ingressClassName",
        INGRESS_CLASS,
    ),
    Spec {
        targets: Targets::Named,
        ..spec(
            "spec.scaleTargetRef",
            In(&["HorizontalPodAutoscaler"]),
            &[Key("spec"), Key("scaleTargetRef")],
            "name",
            POD,
        )
    },
    Spec {
        targets: Targets::Choice(&[ROLE, CLUSTER_ROLE]),
        ..spec(
            "roleRef",
            In(&["RoleBinding"]),
            &[Key("roleRef")],
            "name",
            ROLE,
        )
    },
    Spec {
        targets: Targets::Choice(&[CLUSTER_ROLE]),
        ..spec(
            "roleRef",
            In(&["ClusterRoleBinding"]),
            &[Key("roleRef")],
            "name",
            CLUSTER_ROLE,
        )
    },
    Spec {
        targets: Targets::Choice(&[SERVICE_ACCOUNT]),
        namespace: Some("namespace"),
        ..spec(
            "subjects[]",
            In(&["RoleBinding", "ClusterRoleBinding"]),
            &[Key("subjects"), Items],
            "name",
            SERVICE_ACCOUNT,
        )
    },
    spec(
        "spec.serviceName",
        In(&["StatefulSet"]),
        &[Key("spec")],
        "serviceName",
        SERVICE,
    ),
    spec(
        "spec.storageClassName",
        In(&["PersistentVolumeClaim", "PersistentVolume"]),
        &[Key("spec")],
        "storageClassName",
        STORAGE_CLASS,
    ),
    spec(
        "spec.volumeClaimTemplates[].spec.storageClassName",
        In(&["StatefulSet"]),
        &[Key("spec"), Key("volumeClaimTemplates"), Items, Key("spec")],
        "storageClassName",
        STORAGE_CLASS,
    ),
    spec(
        "imagePullSecrets[]",
        In(&["ServiceAccount"]),
        &[Key("imagePullSecrets"), Items],
        "name",
        SECRET,
    ),
    spec(
        "secrets[]",
        In(&["ServiceAccount"]),
        &[Key("secrets"), Items],
        "name",
        SECRET,
    ),
];

/// Where the Pod spec of `kind` is, from the object's root.
pub fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "PodTemplate" => Some(&["template", "spec"]),
        _ if TEMPLATE_WORKLOADS.contains(&kind) => Some(&["spec", "template", "spec"]),
        _ => None,
    }
}

/// Where the Pod template's labels of `kind` are, from the object's root.
pub fn pod_labels_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Pod" => Some(&["metadata", "labels"]),
        "CronJob" => Some(&[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "labels",
        ]),
        _ if TEMPLATE_WORKLOADS.contains(&kind) => {
            Some(&["spec", "template", "metadata", "labels"])
        }
        _ => None,
    }
}

/// Where the selector of `kind` is (as [`Document::selector`](super::document::Document) reads
/// it), and whether it is a plain map rather than a LabelSelector.
pub fn selector_path(kind: &str) -> Option<(&'static [&'static str], bool)> {
    match kind {
        "Service" | "ReplicationController" | "DeploymentConfig" => {
            Some((&["spec", "selector"], true))
        }
        "NetworkPolicy" => Some((&["spec", "podSelector"], false)),
        "CronJob" => Some((&["spec", "jobTemplate", "spec", "selector"], false)),
        "PodDisruptionBudget" => Some((&["spec", "selector"], false)),
        _ if TEMPLATE_WORKLOADS.contains(&kind) => Some((&["spec", "selector"], false)),
        _ => None,
    }
}

/// The specs that apply to objects of `kind`, with the path from the root to their place.
pub fn specs_for(
    kind: &str,
) -> impl Iterator<Item = (usize, &'static Spec, &'static [&'static str])> + '_ {
    let pod = pod_spec_path(kind);
    SPECS
        .iter()
        .enumerate()
        .filter_map(move |(at, spec)| match spec.place {
            PodSpec => pod.map(|path| (at, spec, path)),
            In(kinds) => kinds.contains(&kind).then_some((at, spec, &[][..])),
        })
}

/// Which part of its target a reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Name,
    /// A key of a ConfigMap's or Secret's data.
    Key,
    /// A Service port by name (an Ingress backend's `port.name`).
    PortName,
    /// A Service port by number (`port.number`).
    PortNumber,
}

/// One reference a document makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ref {
    /// Its kind: a position in [`SPECS`].
    pub spec: u16,
    pub part: Part,
    /// What is written: a name, a key, a port name or number.
    pub value: Box<str>,
    /// Where, in the file (inside quotes).
    pub range: Range<usize>,
    /// For a key or a port: the name of the object it belongs to (the anchor's name).
    pub name: Option<Box<str>>,
    /// The target's type when the anchor names it (`kind`, `apiVersion`), and its namespace when
    /// it names one.
    pub named: Option<Box<NamedTarget>>,
    /// `optional: true`: the Pod starts without it.
    pub optional: bool,
}

/// A target the referring object names the kind (and maybe namespace) of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedTarget {
    pub kind: Box<str>,
    pub api_version: Option<Box<str>>,
    pub namespace: Option<Box<str>>,
}

/// The type of a reference's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TargetType<'r> {
    pub kind: &'r str,
    pub group: &'r str,
    /// The apiVersion to list it with (the table's, or the one written).
    pub api_version: Option<&'r str>,
    pub namespaced: bool,
}

impl Ref {
    pub fn spec(&self) -> &'static Spec {
        &SPECS[self.spec as usize]
    }

    /// The name of the object it points at.
    pub fn target_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.value)
    }

    /// The namespace it names (`subjects[].namespace`), if any.
    pub fn namespace(&self) -> Option<&str> {
        self.named.as_ref().and_then(|n| n.namespace.as_deref())
    }

    pub fn target(&self) -> TargetType<'_> {
        target_type(self.spec(), self.named.as_deref())
    }
}

/// The type a spec's reference points at, given what the anchor names.
pub fn target_type<'r>(spec: &'static Spec, named: Option<&'r NamedTarget>) -> TargetType<'r> {
    let from_type = |t: &Type| TargetType {
        kind: t.kind,
        group: t.group(),
        api_version: Some(t.api_version),
        namespaced: t.namespaced,
    };
    match (spec.targets, named) {
        (Targets::One(t), _) => from_type(&t),
        (Targets::Choice(types), Some(named)) => types
            .iter()
            .find(|t| t.kind == &*named.kind)
            .map(from_type)
            .unwrap_or_else(|| from_type(&types[0])),
        (Targets::Choice(types), None) => from_type(&types[0]),
        (Targets::Named, Some(named)) => TargetType {
            kind: &named.kind,
            group: named.api_version.as_deref().map_or("", group_of),
            api_version: named.api_version.as_deref(),
            namespaced: true,
        },
        (Targets::Named, None) => from_type(&POD),
    }
}

/// A key of a ConfigMap's or Secret's data (`data`, `binaryData`, `stringData`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataKey {
    pub name: Box<str>,
    pub range: Range<usize>,
}

/// A container port (workloads, Pods) or a Service port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Port {
    pub name: Option<Box<str>>,
    /// `containerPort`, or a Service's `port`.
    pub number: Option<u32>,
    /// Where the port is named (else numbered).
    pub range: Range<usize>,
    /// Where it is numbered.
    pub number_range: Option<Range<usize>>,
    /// A Service port's `targetPort` when it names a container port, and where.
    pub target_name: Option<(Box<str>, Range<usize>)>,
}

impl Port {
    /// Whether `other` is the same port, wherever each is written.
    pub fn same_but_where(&self, other: &Port) -> bool {
        let Port {
            name,
            number,
            range: _,
            number_range: _,
            target_name,
        } = self;
        let other_target = other.target_name.as_ref().map(|(target, _)| target);
        *name == other.name
            && *number == other.number
            && target_name.as_ref().map(|(target, _)| target) == other_target
    }
}

/// A label (of a Pod template, or of a selector's `matchLabels`): where its key and value are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSpan {
    pub key: Box<str>,
    pub value: Box<str>,
    pub key_range: Range<usize>,
    pub value_range: Range<usize>,
}

/// Where the labels a selector matches are written: the Pod template labels of a workload, and
/// a selector's own labels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSpans {
    /// The Pod template's `labels` key (a Pod's own `metadata.labels`).
    pub pod_labels_at: Option<Range<usize>>,
    pub pod_labels: Box<[LabelSpan]>,
    /// The selector's key (`selector`, `podSelector`).
    pub selector_at: Option<Range<usize>>,
    pub selector: Box<[LabelSpan]>,
}

/// What the index reads of references from one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Read {
    pub refs: Vec<Ref>,
    pub keys: Vec<DataKey>,
    pub ports: Vec<Port>,
    pub labels: Option<Box<LabelSpans>>,
}

/// Reads an object's references, data keys, ports and label places.
pub(super) fn read(reader: &Reader<'_>, root: SpanRef<'_>, kind: &str) -> Read {
    let mut out = Read::default();
    for (at, spec, place) in specs_for(kind) {
        let Some(base) = follow(Some(root), place) else {
            continue;
        };
        each(base, spec.anchor, &mut |anchor| {
            read_anchor(reader, at, spec, anchor, &mut out.refs)
        });
    }
    match kind {
        "ConfigMap" | "Secret" => {
            for field in ["data", "binaryData", "stringData"] {
                let Some(data) = value(root, field).filter(|d| d.kind() == SpanKind::Mapping)
                else {
                    continue;
                };
                for (key, _) in data.pairs() {
                    if let Some(name) = reader.key_text(key) {
                        out.keys.push(DataKey {
                            name,
                            range: reader.inner_range(key),
                        });
                    }
                }
            }
        }
        "Service" => {
            each(root, &[Key("spec"), Key("ports"), Items], &mut |port| {
                out.ports.push(service_port(reader, port));
            });
        }
        _ => {}
    }
    if let Some(spec) = pod_spec_path(kind).and_then(|p| follow(Some(root), p)) {
        each(
            spec,
            &[CONTAINERS, Items, Key("ports"), Items],
            &mut |port| {
                out.ports.extend(container_port(reader, port));
            },
        );
    }
    let mut labels = LabelSpans::default();
    if let Some(path) = pod_labels_path(kind) {
        let (parent, last) = path.split_at(path.len() - 1);
        if let Some((key, mapping)) = follow(Some(root), parent).and_then(|p| pair(p, last[0])) {
            labels.pod_labels_at = Some(reader.inner_range(key));
            labels.pod_labels = label_spans(reader, mapping);
        }
    }
    if let Some((path, plain)) = selector_path(kind) {
        let (parent, last) = path.split_at(path.len() - 1);
        if let Some((key, selector)) = follow(Some(root), parent).and_then(|p| pair(p, last[0])) {
            labels.selector_at = Some(reader.inner_range(key));
            let map = if plain {
                Some(selector)
            } else {
                value(selector, "matchLabels")
            };
            labels.selector = map.map(|m| label_spans(reader, m)).unwrap_or_default();
        }
    }
    if labels != LabelSpans::default() {
        out.labels = Some(Box::new(labels));
    }
    out
}

fn read_anchor(
    reader: &Reader<'_>,
    at: usize,
    spec: &'static Spec,
    anchor: SpanRef<'_>,
    out: &mut Vec<Ref>,
) {
    if anchor.kind() != SpanKind::Mapping {
        return;
    }
    let field = |name: &str| pair(anchor, name).and_then(|(k, v)| reader.text(k, v));
    let Some((name_key, name_node)) = pair(anchor, spec.name) else {
        return;
    };
    let Some(name) = reader.text(name_key, name_node).filter(|n| !n.is_empty()) else {
        return;
    };
    let kind = match spec.targets {
        Targets::One(_) => None,
        Targets::Choice(types) => {
            let kind = field("kind").unwrap_or_else(|| types[0].kind.into());
            if !types.iter().any(|t| t.kind == &*kind) {
                return; // a User or Group subject, or a kind that cannot be meant
            }
            Some(kind)
        }
        Targets::Named => match field("kind") {
            Some(kind) => Some(kind),
            None => return, // no kind: nothing to point at
        },
    };
    let named = kind.map(|kind| {
        Box::new(NamedTarget {
            kind,
            api_version: field("apiVersion"),
            namespace: spec.namespace.and_then(field),
        })
    });
    let optional = field("optional").as_deref() == Some("true");
    let reference = |part, value: Box<str>, range| Ref {
        spec: at as u16,
        part,
        value,
        range,
        name: (part != Part::Name).then(|| name.clone()),
        named: named.clone(),
        optional,
    };
    out.push(reference(
        Part::Name,
        name.clone(),
        reader.inner_range(name_node),
    ));
    if !spec.keys.is_empty() {
        each_scalar(reader, anchor, spec.keys, &mut |value, range| {
            out.push(reference(Part::Key, value, range));
        });
    }
    if let Some((by_name, by_number)) = spec.port {
        each_scalar(reader, anchor, by_name, &mut |value, range| {
            out.push(reference(Part::PortName, value, range));
        });
        each_scalar(reader, anchor, by_number, &mut |value, range| {
            out.push(reference(Part::PortNumber, value, range));
        });
    }
}

fn service_port(reader: &Reader<'_>, port: SpanRef<'_>) -> Port {
    let name = pair(port, "name").and_then(|(k, v)| Some((reader.text(k, v)?, v)));
    let number = pair(port, "port").and_then(|(k, v)| Some((reader.text(k, v)?, v)));
    let target = pair(port, "targetPort").and_then(|(k, v)| Some((reader.text(k, v)?, v)));
    Port {
        range: name
            .as_ref()
            .or(number.as_ref())
            .map_or(reader.inner_range(port), |(_, node)| {
                reader.inner_range(*node)
            }),
        number: number.as_ref().and_then(|(n, _)| n.parse().ok()),
        number_range: number.as_ref().map(|(_, node)| reader.inner_range(*node)),
        name: name.map(|(name, _)| name),
        // A number (or a string of digits) is a port number, not a name.
        target_name: target
            .filter(|(t, _)| t.parse::<u32>().is_err())
            .map(|(t, node)| (t, reader.inner_range(node))),
    }
}

fn container_port(reader: &Reader<'_>, port: SpanRef<'_>) -> Option<Port> {
    let name = pair(port, "name").and_then(|(k, v)| Some((reader.text(k, v)?, v)));
    let number = pair(port, "containerPort").and_then(|(k, v)| Some((reader.text(k, v)?, v)));
    let range = name
        .as_ref()
        .or(number.as_ref())
        .map(|(_, node)| reader.inner_range(*node))?;
    Some(Port {
        number: number.as_ref().and_then(|(n, _)| n.parse().ok()),
        number_range: number.as_ref().map(|(_, node)| reader.inner_range(*node)),
        name: name.map(|(name, _)| name),
        range,
        target_name: None,
    })
}

/// Kept as long as the file is indexed: a boxed slice, with no spare capacity (a `Vec` collected
/// from pairs reserves four).
fn label_spans(reader: &Reader<'_>, mapping: SpanRef<'_>) -> Box<[LabelSpan]> {
    mapping
        .pairs()
        .filter_map(|(key, value)| {
            let value = value?;
            Some(LabelSpan {
                key: reader.key_text(key)?,
                value: reader.text(key, value)?,
                key_range: reader.inner_range(key),
                value_range: reader.inner_range(value),
            })
        })
        .collect()
}

/// The node at `keys` under `from`.
fn follow<'t>(from: Option<SpanRef<'t>>, keys: &[&str]) -> Option<SpanRef<'t>> {
    keys.iter().try_fold(from?, |node, key| value(node, key))
}

/// Calls `found` on every node `steps` lead to from `from`.
fn each<'t>(from: SpanRef<'t>, steps: &[Step], found: &mut dyn FnMut(SpanRef<'t>)) {
    let Some((step, rest)) = steps.split_first() else {
        found(from);
        return;
    };
    match step {
        Step::Key(key) => {
            if let Some(next) = value(from, key) {
                each(next, rest, found);
            }
        }
        Step::AnyKey(keys) => {
            for key in *keys {
                if let Some(next) = value(from, key) {
                    each(next, rest, found);
                }
            }
        }
        Step::Items => {
            if from.kind() == SpanKind::Sequence {
                for item in from.children() {
                    each(item, rest, found);
                }
            }
        }
    }
}

/// Calls `found` with every scalar `steps` lead to from `anchor` (the last step a key), with
/// its value range.
fn each_scalar(
    reader: &Reader<'_>,
    anchor: SpanRef<'_>,
    steps: &[Step],
    found: &mut dyn FnMut(Box<str>, Range<usize>),
) {
    let Some((Step::Key(last), parent)) = steps.split_last() else {
        return;
    };
    each(anchor, parent, &mut |node| {
        if let Some((key, value)) = pair(node, last)
            && let Some(text) = reader.text(key, value).filter(|t| !t.is_empty())
        {
            found(text, reader.inner_range(value));
        }
    });
}

// ---------------------------------------------------------------- matching a cursor's path

/// What a path (from an object's root) is, as completion needs it: the spec whose field it
/// is, which part, and the path of its anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathMatch {
    pub spec: &'static Spec,
    pub part: Part,
    /// The path of the anchor mapping (with the path's own item indices).
    pub anchor: KeyPath,
}

/// The reference whose value `path` (of an object of `kind`) is, if any.
pub fn match_path(kind: &str, path: &KeyPath) -> Option<PathMatch> {
    for (_, spec, place) in specs_for(kind) {
        let Some(rest) = strip_keys(&path.0, place) else {
            continue;
        };
        let Some(after) = strip_steps(rest, spec.anchor) else {
            continue;
        };
        let anchor = KeyPath(path.0[..path.0.len() - after.len()].to_vec());
        let part = if matches!(after, [Segment::Key(k)] if k == spec.name) {
            Part::Name
        } else if !spec.keys.is_empty() && strip_steps(after, spec.keys) == Some(&[]) {
            Part::Key
        } else if let Some((by_name, by_number)) = spec.port {
            if strip_steps(after, by_name) == Some(&[]) {
                Part::PortName
            } else if strip_steps(after, by_number) == Some(&[]) {
                Part::PortNumber
            } else {
                continue;
            }
        } else {
            continue;
        };
        return Some(PathMatch { spec, part, anchor });
    }
    None
}

fn strip_keys<'p>(path: &'p [Segment], keys: &[&str]) -> Option<&'p [Segment]> {
    let mut rest = path;
    for key in keys {
        match rest.split_first() {
            Some((Segment::Key(k), after)) if k == key => rest = after,
            _ => return None,
        }
    }
    Some(rest)
}

fn strip_steps<'p>(path: &'p [Segment], steps: &[Step]) -> Option<&'p [Segment]> {
    let mut rest = path;
    for step in steps {
        let (first, after) = rest.split_first()?;
        let fits = match (step, first) {
            (Step::Key(key), Segment::Key(k)) => k == key,
            (Step::AnyKey(keys), Segment::Key(k)) => keys.contains(&k.as_str()),
            (Step::Items, Segment::Index(_)) => true,
            _ => false,
        };
        if !fits {
            return None;
        }
        rest = after;
    }
    Some(rest)
}

#[cfg(test)]
mod tests;
