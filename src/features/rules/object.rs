//! The objects rules read: a thin view over a document's span tree that answers in kubectl's terms
//! (YAML 1.1 scalars as sigs.k8s.io/yaml reads them) and knows where a Kubernetes object keeps
//! its pod spec, containers and metadata. Ranges are those of the tree (relative to its document).

use std::ops::Range;

use crate::yaml::scalar::{Resolved, ScalarStyle, plain_is_null, plain_is_string, resolve_scalar};
use crate::yaml::spans::{SpanKind, SpanRef};

/// A node of the tree.
#[derive(Clone, Copy, Debug)]
pub struct Node<'t>(pub SpanRef<'t>);

impl<'t> Node<'t> {
    pub fn range(&self) -> Range<usize> {
        self.0.range()
    }

    pub fn is_mapping(&self) -> bool {
        self.0.kind() == SpanKind::Mapping
    }

    /// The key and value of `key` in a mapping (the first, when written twice).
    pub fn entry(&self, key: &str) -> Option<(Node<'t>, Node<'t>)> {
        self.0
            .pair(key)
            .and_then(|(k, v)| Some((Node(k), Node(v?))))
    }

    pub fn get(&self, key: &str) -> Option<Node<'t>> {
        self.entry(key).map(|(_, value)| value)
    }

    /// The range of `key`'s key.
    pub fn key_range(&self, key: &str) -> Option<Range<usize>> {
        self.entry(key).map(|(key, _)| key.range())
    }

    pub fn at(&self, path: &[&str]) -> Option<Node<'t>> {
        path.iter().try_fold(*self, |node, key| node.get(key))
    }

    /// A mapping's pairs with a value.
    pub fn pairs(&self) -> impl Iterator<Item = (Node<'t>, Node<'t>)> + use<'t> {
        self.0
            .pairs()
            .filter_map(|(k, v)| Some((Node(k), Node(v?))))
    }

    /// A sequence's items (nothing for other nodes).
    pub fn items(&self) -> impl Iterator<Item = Node<'t>> + use<'t> {
        let sequence = (self.0.kind() == SpanKind::Sequence).then_some(self.0);
        sequence.into_iter().flat_map(|s| s.children()).map(Node)
    }

    /// The scalar as kubectl reads it (`None` for collections, aliases and malformed tags).
    pub fn resolved(&self) -> Option<Resolved> {
        let SpanKind::Scalar(style) = self.0.kind() else {
            return None;
        };
        resolve_scalar(self.0.value()?, style, self.0.tag()).ok()
    }

    /// A scalar's text when it is a string, a number or a boolean (not null).
    pub fn text(&self) -> Option<&'t str> {
        let (style, value) = self.scalar()?;
        if self.0.tag().is_none() {
            // As resolved: only a plain null is no text.
            return (style != ScalarStyle::Plain || !plain_is_null(value)).then_some(value);
        }
        match self.resolved()? {
            Resolved::Null => None,
            _ => Some(value),
        }
    }

    /// A string scalar's value (`"80"` is one, `80` is not).
    pub fn string(&self) -> Option<&'t str> {
        let (style, value) = self.scalar()?;
        if self.0.tag().is_none() {
            // As resolved: a quoted or block scalar is a string, a plain one when it reads so.
            return (style != ScalarStyle::Plain || plain_is_string(value)).then_some(value);
        }
        matches!(self.resolved()?, Resolved::String(_)).then_some(value)
    }

    /// A scalar's style and value.
    fn scalar(&self) -> Option<(ScalarStyle, &'t str)> {
        match self.0.kind() {
            SpanKind::Scalar(style) => Some((style, self.0.value()?)),
            _ => None,
        }
    }

    pub fn boolean(&self) -> Option<bool> {
        match self.resolved()? {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn integer(&self) -> Option<i64> {
        match self.resolved()? {
            Resolved::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.resolved(), Some(Resolved::Null))
    }

    /// The range of the value without its quotes.
    pub fn inner_range(&self) -> Range<usize> {
        let range = self.range();
        let quoted = matches!(
            self.0.style(),
            Some(ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
        );
        if quoted && range.len() >= 2 {
            range.start + 1..range.end - 1
        } else {
            range
        }
    }

    /// The text of the tree (the document).
    pub fn source(&self) -> &'t str {
        self.0.source()
    }
}

/// Kinds whose objects make Pods (kube-linter's "DeploymentLike"), with the API groups they
/// are served in.
const DEPLOYMENT_LIKE: &[(&str, &[&str])] = &[
    ("Deployment", &["apps", "extensions"]),
    ("DaemonSet", &["apps", "extensions"]),
    ("StatefulSet", &["apps"]),
    ("ReplicaSet", &["apps", "extensions"]),
    ("Pod", &[""]),
    ("ReplicationController", &[""]),
    ("Job", &["batch"]),
    ("CronJob", &["batch"]),
    ("DeploymentConfig", &["apps.openshift.io", ""]),
];

/// Kinds with a `spec.replicas` (defaulting to 1).
const WITH_REPLICAS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "DeploymentConfig",
];

/// A Kubernetes object: a mapping with a `kind`.
#[derive(Clone, Copy, Debug)]
pub struct Object<'t> {
    pub root: Node<'t>,
    pub kind: &'t str,
    pub api_version: &'t str,
    pub metadata: Option<Node<'t>>,
    /// Its Pod template (or itself as a Pod), looked up once: every rule family asks for it.
    pod: Option<Pod<'t>>,
}

impl<'t> Object<'t> {
    pub fn new(root: Node<'t>) -> Option<Object<'t>> {
        let kind = root.get("kind")?.string()?;
        let mut object = Object {
            root,
            kind,
            api_version: root
                .get("apiVersion")
                .and_then(|v| v.string())
                .unwrap_or(""),
            metadata: root.get("metadata").filter(Node::is_mapping),
            pod: None,
        };
        object.pod = object.find_pod();
        Some(object)
    }

    /// The API group of its `apiVersion` (`""` for the core group).
    pub fn group(&self) -> &'t str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    pub fn namespace(&self) -> Option<&'t str> {
        self.metadata?.get("namespace")?.text()
    }

    /// `metadata.labels` or `metadata.annotations` as pairs of strings.
    pub fn map(&self, field: &str) -> Vec<(&'t str, &'t str)> {
        string_map(self.metadata.and_then(|m| m.get(field)))
    }

    /// Where a finding about the whole object goes: its name, else its kind.
    pub fn anchor(&self) -> Range<usize> {
        self.metadata
            .and_then(|m| m.get("name"))
            .filter(|name| name.text().is_some())
            .or_else(|| self.root.get("kind"))
            .map_or(self.root.range(), |node| node.inner_range())
    }

    pub fn spec(&self) -> Option<Node<'t>> {
        self.root.get("spec").filter(Node::is_mapping)
    }

    pub fn is_deployment_like(&self) -> bool {
        DEPLOYMENT_LIKE
            .iter()
            .any(|(kind, groups)| *kind == self.kind && groups.contains(&self.group()))
    }

    /// `spec.replicas` (1 when absent) of the kinds that have one.
    pub fn replicas(&self) -> Option<(i64, Option<Node<'t>>)> {
        if !self.is_deployment_like() || !WITH_REPLICAS.contains(&self.kind) {
            return None;
        }
        let node = self.spec().and_then(|s| s.get("replicas"));
        match node.map(|n| (n.integer(), n.is_null())) {
            None | Some((None, true)) => Some((1, None)),
            Some((Some(replicas), _)) => Some((replicas, node)),
            Some((None, false)) => None,
        }
    }

    /// The Pod template (or the Pod itself) of a DeploymentLike object.
    pub fn pod(&self) -> Option<Pod<'t>> {
        self.pod
    }

    fn find_pod(&self) -> Option<Pod<'t>> {
        count_work!(POD_LOOKUPS);
        if !self.is_deployment_like() {
            return None;
        }
        let (meta, spec) = match self.kind {
            "Pod" => (self.metadata, self.spec()),
            "CronJob" => {
                let template = self.spec()?.at(&["jobTemplate", "spec", "template"])?;
                (template.get("metadata"), template.get("spec"))
            }
            _ => {
                let template = self.spec()?.get("template")?;
                (template.get("metadata"), template.get("spec"))
            }
        };
        let spec = spec.filter(Node::is_mapping)?;
        Some(Pod {
            spec,
            meta: meta.filter(Node::is_mapping),
        })
    }
}

work_counter!(
    /// How many times this thread looked an object's Pod template up so far.
    pub fn pod_lookups() => POD_LOOKUPS
);

/// A Pod's (or Pod template's) spec and metadata.
#[derive(Clone, Copy, Debug)]
pub struct Pod<'t> {
    pub spec: Node<'t>,
    pub meta: Option<Node<'t>>,
}

impl<'t> Pod<'t> {
    /// The regular containers.
    pub fn containers(&self) -> Vec<Container<'t>> {
        self.list("containers")
    }

    /// Init containers, then the regular ones.
    pub fn all_containers(&self) -> Vec<Container<'t>> {
        let mut all = self.list("initContainers");
        all.extend(self.containers());
        all
    }

    fn list(&self, field: &str) -> Vec<Container<'t>> {
        self.spec
            .get(field)
            .iter()
            .flat_map(Node::items)
            .filter(Node::is_mapping)
            .map(|node| Container { node })
            .collect()
    }

    pub fn labels(&self) -> Vec<(&'t str, &'t str)> {
        string_map(self.meta.and_then(|m| m.get("labels")))
    }

    /// The pod's `securityContext`.
    pub fn security(&self, field: &str) -> Option<Node<'t>> {
        self.spec.at(&["securityContext", field])
    }
}

/// A container of a pod spec.
#[derive(Clone, Copy, Debug)]
pub struct Container<'t> {
    pub node: Node<'t>,
}

impl<'t> Container<'t> {
    pub fn name(&self) -> &'t str {
        self.node.get("name").and_then(|n| n.text()).unwrap_or("")
    }

    /// Where a finding about the whole container goes: its name, else its first key.
    pub fn anchor(&self) -> Range<usize> {
        match self.node.get("name") {
            Some(name) if name.text().is_some() => name.inner_range(),
            _ => {
                let start = self.node.range().start;
                start..start
            }
        }
    }

    /// A field of its `securityContext`.
    pub fn security(&self, field: &str) -> Option<Node<'t>> {
        self.node.at(&["securityContext", field])
    }

    /// Its ports: (item, containerPort, name, protocol).
    pub fn ports(&self) -> Vec<Port<'t>> {
        self.node
            .get("ports")
            .iter()
            .flat_map(Node::items)
            .map(|item| Port {
                node: item,
                number: item.get("containerPort").and_then(|n| n.integer()),
                name: item.get("name").and_then(|n| n.text()),
                protocol: item.get("protocol").and_then(|n| n.text()).unwrap_or("TCP"),
            })
            .collect()
    }

    /// Its `env` items with their names.
    pub fn env(&self) -> Vec<(Node<'t>, &'t str)> {
        self.node
            .get("env")
            .iter()
            .flat_map(Node::items)
            .filter_map(|item| Some((item, item.get("name")?.text()?)))
            .collect()
    }
}

/// A container port.
#[derive(Clone, Copy, Debug)]
pub struct Port<'t> {
    pub node: Node<'t>,
    pub number: Option<i64>,
    pub name: Option<&'t str>,
    pub protocol: &'t str,
}

/// The string pairs of a mapping.
pub fn string_map(node: Option<Node<'_>>) -> Vec<(&str, &str)> {
    node.iter()
        .flat_map(Node::pairs)
        .filter_map(|(k, v)| Some((k.text()?, v.text()?)))
        .collect()
}
