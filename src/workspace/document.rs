//! One Kubernetes document as the workspace index records it: type, namespace, name, labels, the
//! labels its Pods get, its selector, and where it is. Read from a file's text with the yaml
//! layer's span trees (one saphyr pass per document): no JSON, no tree-sitter.
//!
//! Helm templates (`{{ … }}`) are not YAML. Their actions are blanked to spaces (byte offsets
//! stay), the rest is read as YAML, and any value whose line held an action is left out: the
//! document is marked [`templated`](Document::templated), so a client knows that what is missing
//! may come from the chart's values.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use memchr::memmem;

use super::references::{self, DataKey, LabelSpans, Port, Ref};
use crate::schema::crd;
use crate::text::shift_range;
use crate::yaml::scalar::{ScalarStyle, plain_is_null};
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};
use crate::yaml::split;

mod details;
pub use details::{Details, PolicyRule, ScaleTarget, ServicePort};

/// Kinds whose Pod template is `spec.template` (its labels and its Pod spec).
pub(super) const TEMPLATE_WORKLOADS: [&str; 7] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "ReplicationController",
    "DeploymentConfig",
];

/// Every kind with Pod labels: the workloads, CronJob (through its job template) and Pod.
pub const WORKLOAD_KINDS: [&str; 9] = [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "ReplicationController",
    "DeploymentConfig",
    "CronJob",
    "Pod",
];

/// Kinds with a selector of Pods the index records (see [`Document::selector`]).
pub const SELECTING_KINDS: [&str; 11] = [
    "Service",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "ReplicationController",
    "DeploymentConfig",
    "CronJob",
    "PodDisruptionBudget",
    "NetworkPolicy",
];

/// A Kubernetes document (a YAML document, or an item of a `kind: List`, with a `kind` key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Document {
    /// Shared between the documents of a file that write the same one.
    pub api_version: Option<Arc<str>>,
    pub kind: Option<Arc<str>>,
    /// `metadata.namespace` as written (`None` when absent: where it lands is decided when it is
    /// applied).
    pub namespace: Option<Box<str>>,
    pub name: Option<Box<str>>,
    /// `metadata.generateName`: the prefix of a name the apiserver completes.
    pub generate_name: Option<Box<str>>,
    pub labels: Labels,
    /// The labels of the Pods it makes (its own for a Pod); `None` for other kinds.
    pub pod_labels: Option<Labels>,
    /// The Pods it selects: a Service's or ReplicationController's `spec.selector` map (`None`
    /// when empty: such a Service selects nothing), a workload's or PodDisruptionBudget's
    /// `spec.selector`, a NetworkPolicy's `spec.podSelector`.
    pub selector: Option<Box<Selector>>,
    /// The document (or List item) in its file.
    pub range: Range<usize>,
    /// The text of `metadata.name`'s value in the file (inside quotes), else `generateName`'s.
    pub name_range: Option<Range<usize>>,
    /// Holds Helm template actions: values written with one are left out.
    pub templated: bool,
    /// What it defines when it is a CustomResourceDefinition.
    pub crd: Option<Box<CrdInfo>>,
    /// What the rules ask of it (replicas, ports, keys, scale target, RBAC rules); `None` when
    /// it has none (most kinds), boxed like `crd` to keep the index compact. Read it with
    /// [`Document::details`].
    pub details: Option<Box<Details>>,
    /// The zero-based line of `name_range`'s start (of the document's start without a name).
    pub line: u32,
    /// The references it makes to other objects (`references::SPECS`).
    pub refs: Box<[Ref]>,
    /// A ConfigMap's or Secret's data keys (never the values).
    pub keys: Box<[DataKey]>,
    /// Its containers' ports, or a Service's ports.
    pub ports: Box<[Port]>,
    /// Where its Pod template labels and its selector's labels are written.
    pub label_spans: Option<Box<LabelSpans>>,
}

impl Document {
    /// The API group of its `apiVersion` (`""` for the core group of `v1`).
    pub fn group(&self) -> Option<&str> {
        self.api_version.as_deref().map(group_of)
    }

    pub fn is_workload(&self) -> bool {
        self.pod_labels.is_some()
    }

    /// What the rules ask of it (empty for kinds that have nothing).
    pub fn details(&self) -> &Details {
        self.details.as_deref().unwrap_or(&details::EMPTY)
    }

    /// Moves it `bytes` bytes and `lines` lines down its file (up when negative): where it is
    /// after an edit before it.
    pub fn shift(&mut self, bytes: isize, lines: i64) {
        let shift = |range: &mut Range<usize>| *range = shift_range(range, bytes);
        shift(&mut self.range);
        self.name_range.iter_mut().for_each(shift);
        self.refs.iter_mut().for_each(|r| shift(&mut r.range));
        self.keys.iter_mut().for_each(|k| shift(&mut k.range));
        for port in &mut self.ports {
            shift(&mut port.range);
            port.number_range.iter_mut().for_each(shift);
            port.target_name
                .iter_mut()
                .for_each(|(_, range)| shift(range));
        }
        if let Some(spans) = &mut self.label_spans {
            spans.pod_labels_at.iter_mut().for_each(shift);
            spans.selector_at.iter_mut().for_each(shift);
            for label in spans.pod_labels.iter_mut().chain(&mut spans.selector) {
                shift(&mut label.key_range);
                shift(&mut label.value_range);
            }
        }
        self.line = u32::try_from(i64::from(self.line) + lines).unwrap_or(0);
    }

    /// Whether the answers that read this document from another one see `other` the same: what
    /// it is, its labels, selector, keys, ports and details, wherever they are written. Its own
    /// references are left out: only its own diagnostics read them (and `references` requests,
    /// computed when asked).
    pub fn same_for_others(&self, other: &Document) -> bool {
        // Every field named, so that a new one is weighed here.
        let Document {
            api_version,
            kind,
            namespace,
            name,
            generate_name,
            labels,
            pod_labels,
            selector,
            range: _,
            name_range: _,
            templated,
            crd,
            details,
            line: _,
            refs: _,
            keys,
            ports,
            label_spans: _,
        } = self;
        *api_version == other.api_version
            && *kind == other.kind
            && *namespace == other.namespace
            && *name == other.name
            && *generate_name == other.generate_name
            && *labels == other.labels
            && *pod_labels == other.pod_labels
            && *selector == other.selector
            && *templated == other.templated
            && *crd == other.crd
            && *details == other.details
            && keys
                .iter()
                .map(|k| &k.name)
                .eq(other.keys.iter().map(|k| &k.name))
            && ports.len() == other.ports.len()
            && ports
                .iter()
                .zip(&other.ports)
                .all(|(a, b)| a.same_but_where(b))
    }
}

/// The group of an `apiVersion`: `apps` of `apps/v1`, `""` of `v1`.
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

/// The kinds a CustomResourceDefinition defines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrdInfo {
    pub group: Box<str>,
    pub kind: Box<str>,
    pub plural: Option<Box<str>>,
    /// `Namespaced` or `Cluster`.
    pub scope: Option<Box<str>>,
    pub versions: Vec<Box<str>>,
}

/// Labels in the order written, in one allocation: `key NUL value NUL key NUL value`. An index
/// of a big workspace holds thousands of label sets of a pair or two; a string per key and value
/// would cost three allocations per pair. Keys and values holding a NUL (which no valid label
/// does) are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Labels(Box<str>);

const SEPARATOR: char = '\0';

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, value)| value)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let mut parts = self.0.split_terminator(SEPARATOR);
        std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut packed = String::new();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            if key.contains(SEPARATOR) || value.contains(SEPARATOR) {
                continue;
            }
            for part in [key, value] {
                packed.push_str(part);
                packed.push(SEPARATOR);
            }
        }
        Labels(packed.into_boxed_str())
    }
}

/// A label selector: `matchLabels` and `matchExpressions` (a plain map is `matchLabels`).
/// Empty, it selects everything, as a LabelSelector does.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    pub match_labels: Labels,
    pub match_expressions: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    pub key: Box<str>,
    pub operator: Operator,
    pub values: Vec<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Selector {
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value))
            && self.match_expressions.iter().all(|requirement| {
                let value = labels.get(&requirement.key);
                let listed = || value.is_some_and(|v| requirement.values.iter().any(|w| &**w == v));
                match requirement.operator {
                    Operator::In => listed(),
                    Operator::NotIn => !listed(),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                }
            })
    }

    /// A selector written as a plain map (a Service's `spec.selector`).
    pub fn from_map(node: SpanRef<'_>) -> Option<Selector> {
        Reader::plain().selector_map(node)
    }

    /// A LabelSelector (`matchLabels`, `matchExpressions`); `None` when it cannot be read (an
    /// unknown operator, a value that is not a list).
    pub fn from_label_selector(node: SpanRef<'_>) -> Option<Selector> {
        Reader::plain().label_selector(node)
    }
}

/// The Kubernetes documents of a file's text.
pub fn read_documents(text: &Arc<String>) -> Vec<Document> {
    let blanked = memmem::find(text.as_bytes(), b"{{").map(|_| Arc::new(blank_actions(text)));
    let parsed = blanked.as_ref().unwrap_or(text);
    let mut documents = Vec::new();
    let shared = Shared::default();
    for range in split::split(text).documents {
        let original = &text[range.clone()];
        let templated = blanked.is_some() && original.contains("{{");
        read_range(parsed, original, range, templated, &shared, &mut documents);
    }
    number_lines(text, 0, 0, &mut documents);
    // Kept as long as the file is indexed: no spare capacity.
    documents.shrink_to_fit();
    documents
}

/// The Kubernetes documents of one YAML document of a file without template actions: `text` is
/// the document's, which starts at byte `offset` and line `line` of its file (ranges and lines
/// of the result are the file's).
pub(super) fn read_document(
    text: String,
    offset: usize,
    line: u32,
    shared: &Shared,
) -> Vec<Document> {
    let text = Arc::new(text);
    let mut documents = Vec::new();
    read_range(&text, &text, 0..text.len(), false, shared, &mut documents);
    for document in &mut documents {
        document.shift(offset as isize, 0);
    }
    number_lines(&text, offset, line, &mut documents);
    documents
}

/// Reads the documents of `range` of `parsed` (the file's text, its template actions masked
/// when `templated`; `original` is the range's text as written) into `out`.
fn read_range(
    parsed: &Arc<String>,
    original: &str,
    range: Range<usize>,
    templated: bool,
    shared: &Shared,
    out: &mut Vec<Document>,
) {
    if !may_hold_a_kind(original) {
        return;
    }
    count_work!(PARSED);
    let (tree, _error) = SpanTree::parse_shared(parsed, range.clone());
    let reader = Reader {
        original,
        offset: range.start,
        templated,
        shared: Some(shared),
    };
    // A syntax error leaves the tree with what came before it: still worth indexing while a
    // document is being typed.
    for root in tree.roots() {
        reader.read_root(root, range.clone(), out);
    }
}

work_counter!(
    /// How many YAML documents this thread has parsed to read them so far (not counting those read
    /// from a span tree handed in, [`read_spans`]).
    pub fn parsed_here() => PARSED
);

/// Whether a document's text may hold a Kubernetes object: one without `kind` holds none.
fn may_hold_a_kind(text: &str) -> bool {
    static KIND: std::sync::LazyLock<memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memmem::Finder::new("kind"));
    KIND.find(text.as_bytes()).is_some()
}

/// The Kubernetes documents of one YAML document of a file without template actions, from the
/// span tree of its text: what [`read_document`] reads, with ranges and lines relative to the
/// document and values not yet shared ([`Shared::share`]). An open reads them on its threads
/// from the trees its check built. `None` when the text holds no `kind` (so no object): the tree
/// is not read then.
pub fn read_spans(tree: &SpanTree) -> Option<Vec<Document>> {
    let text = tree.root().map_or("", |root| root.source());
    if !may_hold_a_kind(text) {
        return None;
    }
    let mut documents = read_tree(tree);
    number_lines(text, 0, 0, &mut documents);
    // Kept until the file's entry is put together: no spare capacity (most hold one).
    documents.shrink_to_fit();
    Some(documents)
}

/// The Kubernetes documents of one document's span tree (a List's items each), read like
/// [`read_documents`] does; ranges are relative to the tree's text.
pub fn read_tree(tree: &SpanTree) -> Vec<Document> {
    count_work!(TREES_READ);
    let text = tree.root().map_or("", |root| root.source());
    let reader = Reader {
        original: text,
        offset: 0,
        templated: false,
        shared: None,
    };
    let mut documents = Vec::new();
    for root in tree.roots() {
        reader.read_root(root, 0..text.len(), &mut documents);
    }
    documents
}

work_counter!(
    /// How many span trees this thread has read the documents of so far ([`read_tree`]).
    pub fn trees_read() => TREES_READ
);

/// Sets each document's [`line`](Document::line): one pass over the text, as documents come in
/// the order of their offsets.
fn number_lines(text: &str, base: usize, base_line: u32, documents: &mut [Document]) {
    let (mut at, mut line) = (0, base_line);
    for document in documents {
        let offset = document
            .name_range
            .as_ref()
            .map_or(document.range.start, |r| r.start)
            .saturating_sub(base)
            .min(text.len());
        if offset < at {
            (at, line) = (0, base_line);
        }
        line += memchr::memchr_iter(b'\n', &text.as_bytes()[at..offset]).count() as u32;
        at = offset;
        document.line = line;
    }
}

/// `text` as YAML with its template actions masked (`yaml::template`: blanks, or `_` for an
/// action inside a line), so offsets and lines stay where they were. An action left open is
/// blanked to the end of its line.
pub fn blank_actions(text: &str) -> String {
    crate::yaml::template::Template::parse(text).masked(text)
}

/// The `apiVersion` and `kind` values of a file's documents, one allocation each: a file of
/// thousands of documents writes only a few.
#[derive(Default)]
pub(super) struct Shared(std::cell::RefCell<HashSet<Arc<str>>>);

/// Above this many distinct values a file gets no more sharing (a file of generated kinds would
/// keep them all).
const SHARED_MAX: usize = 64;

impl Shared {
    /// Sharing the values `documents` already hold.
    pub(super) fn from_documents<'d>(documents: impl IntoIterator<Item = &'d Document>) -> Shared {
        let shared = Shared::default();
        for document in documents {
            for value in [&document.api_version, &document.kind]
                .into_iter()
                .flatten()
            {
                let mut known = shared.0.borrow_mut();
                if known.len() < SHARED_MAX && !known.contains(&**value) {
                    known.insert(value.clone());
                }
            }
        }
        shared
    }

    /// The documents' `apiVersion` and `kind` values made the ones already shared.
    pub(super) fn share(&self, documents: &mut [Document]) {
        for document in documents {
            for value in [&mut document.api_version, &mut document.kind]
                .into_iter()
                .flatten()
            {
                let mut known = self.0.borrow_mut();
                match known.get(&**value) {
                    Some(found) => *value = found.clone(),
                    None if known.len() < SHARED_MAX => {
                        known.insert(value.clone());
                    }
                    None => {}
                }
            }
        }
    }

    fn get(&self, text: Box<str>) -> Arc<str> {
        let mut known = self.0.borrow_mut();
        if let Some(found) = known.get(&*text) {
            return found.clone();
        }
        let new: Arc<str> = Arc::from(text);
        if known.len() < SHARED_MAX {
            known.insert(new.clone());
        }
        new
    }
}

/// Reads values from one document's tree.
pub(super) struct Reader<'a> {
    /// The document's text as written (with its template actions).
    original: &'a str,
    /// Where the document starts in its file.
    offset: usize,
    templated: bool,
    /// Where the file's `apiVersion`/`kind` values are shared.
    shared: Option<&'a Shared>,
}

impl Reader<'_> {
    fn plain() -> Reader<'static> {
        Reader {
            original: "",
            offset: 0,
            templated: false,
            shared: None,
        }
    }

    fn shared(&self, text: Box<str>) -> Arc<str> {
        match self.shared {
            Some(shared) => shared.get(text),
            None => Arc::from(text),
        }
    }

    fn read_root(&self, root: SpanRef<'_>, range: Range<usize>, out: &mut Vec<Document>) {
        let Some(document) = self.object(root, range) else {
            return;
        };
        let is_list = document.kind.as_deref() == Some("List")
            && document.api_version.as_deref() == Some("v1");
        match value(root, "items").filter(|_| is_list) {
            Some(items) if items.kind() == SpanKind::Sequence => {
                for item in items.children() {
                    let range = self.offset + item.range().start..self.offset + item.range().end;
                    out.extend(self.object(item, range));
                }
            }
            _ => out.push(document),
        }
    }

    /// The object of a mapping with a `kind` key.
    fn object(&self, mapping: SpanRef<'_>, range: Range<usize>) -> Option<Document> {
        let (kind_key, kind_value) = pair(mapping, "kind")?;
        let kind = self.text(kind_key, kind_value).map(|t| self.shared(t));
        let api_version = pair(mapping, "apiVersion")
            .and_then(|(k, v)| self.text(k, v))
            .map(|t| self.shared(t));
        let metadata = value(mapping, "metadata");
        let field = |name: &str| metadata.and_then(|m| pair(m, name));
        let name = field("name").and_then(|(k, v)| Some((self.text(k, v)?, v)));
        let generate_name = field("generateName").and_then(|(k, v)| Some((self.text(k, v)?, v)));
        let name_range = name
            .as_ref()
            .or(generate_name.as_ref())
            .map(|(_, node)| self.inner_range(*node));
        let labels = self.labels(metadata);
        let kind_name = kind.as_deref().unwrap_or_default();
        let spec = value(mapping, "spec");
        let pod_labels = if kind_name == "Pod" {
            Some(labels.clone())
        } else if TEMPLATE_WORKLOADS.contains(&kind_name) {
            Some(self.labels(path(spec, &["template", "metadata"])))
        } else if kind_name == "CronJob" {
            let template = path(spec, &["jobTemplate", "spec", "template", "metadata"]);
            Some(self.labels(template))
        } else {
            None
        };
        let selector = match kind_name {
            "Service" | "ReplicationController" | "DeploymentConfig" => {
                path(spec, &["selector"]).and_then(|s| self.selector_map(s))
            }
            "NetworkPolicy" => path(spec, &["podSelector"]).and_then(|s| self.label_selector(s)),
            "CronJob" => path(spec, &["jobTemplate", "spec", "selector"])
                .and_then(|s| self.label_selector(s)),
            _ if SELECTING_KINDS.contains(&kind_name) => {
                path(spec, &["selector"]).and_then(|s| self.label_selector(s))
            }
            _ => None,
        };
        let crd = match (&api_version, &kind) {
            (Some(api_version), Some(kind)) if crd::is_crd(api_version, kind) => {
                spec.and_then(|spec| self.crd_info(spec))
            }
            _ => None,
        };
        let details = self.details(kind_name, mapping);
        let read = references::read(self, mapping, kind_name);
        // Kept as long as the file is indexed, like the documents: boxed, no spare capacity.
        Some(Document {
            refs: read.refs.into_boxed_slice(),
            keys: read.keys.into_boxed_slice(),
            ports: read.ports.into_boxed_slice(),
            label_spans: read.labels,
            line: 0,
            api_version,
            kind,
            namespace: field("namespace").and_then(|(k, v)| self.text(k, v)),
            name: name.map(|(name, _)| name),
            generate_name: generate_name.map(|(name, _)| name),
            labels,
            pod_labels,
            selector: selector.map(Box::new),
            range,
            name_range,
            templated: self.templated,
            crd: crd.map(Box::new),
            details: (details != Details::default()).then(|| Box::new(details)),
        })
    }

    fn crd_info(&self, spec: SpanRef<'_>) -> Option<CrdInfo> {
        let group = pair(spec, "group").and_then(|(k, v)| self.text(k, v))?;
        let names = value(spec, "names");
        let name = |field: &str| {
            names
                .and_then(|n| pair(n, field))
                .and_then(|(k, v)| self.text(k, v))
        };
        let mut versions: Vec<Box<str>> = Vec::new();
        for version in value(spec, "versions").iter().flat_map(SpanRef::children) {
            versions.extend(pair(version, "name").and_then(|(k, v)| self.text(k, v)));
        }
        // apiextensions v1beta1's single `version`.
        if versions.is_empty() {
            versions.extend(pair(spec, "version").and_then(|(k, v)| self.text(k, v)));
        }
        Some(CrdInfo {
            group,
            kind: name("kind")?,
            plural: name("plural"),
            scope: pair(spec, "scope").and_then(|(k, v)| self.text(k, v)),
            versions,
        })
    }

    /// The string pairs of a mapping (keys or values written with a template action left out).
    fn labels(&self, metadata: Option<SpanRef<'_>>) -> Labels {
        let Some(labels) = metadata.and_then(|m| value(m, "labels")) else {
            return Labels::default();
        };
        self.string_map(labels)
    }

    fn string_map(&self, mapping: SpanRef<'_>) -> Labels {
        mapping
            .pairs()
            .filter_map(|(key, value)| {
                let value = value?;
                let key_text = scalar_text(key)?;
                Some((key_text, self.text(key, value)?))
            })
            .collect()
    }

    fn selector_map(&self, node: SpanRef<'_>) -> Option<Selector> {
        let labels = self.string_map(node);
        (!labels.is_empty()).then(|| Selector {
            match_labels: labels,
            match_expressions: Vec::new(),
        })
    }

    fn label_selector(&self, node: SpanRef<'_>) -> Option<Selector> {
        if node.kind() != SpanKind::Mapping {
            return None;
        }
        let match_labels = value(node, "matchLabels")
            .map(|labels| self.string_map(labels))
            .unwrap_or_default();
        let mut match_expressions = Vec::new();
        if let Some(expressions) = value(node, "matchExpressions") {
            for expression in expressions.children() {
                match_expressions.push(self.requirement(expression)?);
            }
        }
        Some(Selector {
            match_labels,
            match_expressions,
        })
    }

    fn requirement(&self, expression: SpanRef<'_>) -> Option<Requirement> {
        let key = pair(expression, "key").and_then(|(k, v)| self.text(k, v))?;
        let operator = match &*pair(expression, "operator").and_then(|(k, v)| self.text(k, v))? {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => return None,
        };
        let values = match value(expression, "values") {
            Some(values) if values.kind() == SpanKind::Sequence => values
                .children()
                .map(|v| self.value_text(v))
                .collect::<Option<Vec<_>>>()?,
            Some(values) if scalar_text(values).is_none() => return None,
            _ => Vec::new(),
        };
        Some(Requirement {
            key,
            operator,
            values,
        })
    }

    /// A scalar value of `key` as a string; `None` for null, a collection, or a value on a line
    /// that held a template action.
    pub(super) fn text(&self, key: SpanRef<'_>, value: SpanRef<'_>) -> Option<Box<str>> {
        if self.templated && self.has_action(key.range().start, value.range().end) {
            return None;
        }
        scalar_text(value)
    }

    /// A sequence item's scalar (`values: [a, b]`).
    fn value_text(&self, value: SpanRef<'_>) -> Option<Box<str>> {
        if self.templated && self.has_action(value.range().start, value.range().end) {
            return None;
        }
        scalar_text(value)
    }

    /// A mapping key's text; `None` for null, a collection, or a key written with a template
    /// action (its value may hold one: the key still counts).
    pub(super) fn key_text(&self, key: SpanRef<'_>) -> Option<Box<str>> {
        let range = key.range();
        let own = self
            .original
            .get(range.start.min(self.original.len())..range.end.min(self.original.len()));
        if self.templated && own.is_none_or(|text| text.contains("{{")) {
            return None;
        }
        scalar_text(key)
    }

    /// Whether the original text from `start` to the end of the line holding `end` has a `{{`.
    fn has_action(&self, start: usize, end: usize) -> bool {
        let text = self.original.as_bytes();
        let end = end.min(text.len());
        let line_end = memchr::memchr(b'\n', &text[end..]).map_or(text.len(), |i| end + i);
        memmem::find(&text[start.min(line_end)..line_end], b"{{").is_some()
    }

    /// A scalar's value without its quotes, in file offsets.
    pub(super) fn inner_range(&self, node: SpanRef<'_>) -> Range<usize> {
        let range = node.range();
        let quoted = matches!(
            node.style(),
            Some(ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)
        );
        let (start, end) = if quoted && range.len() >= 2 {
            (range.start + 1, range.end - 1)
        } else {
            (range.start, range.end)
        };
        self.offset + start..self.offset + end
    }
}

/// A scalar's string value; `None` for null (`~`, `null`, nothing) and collections.
fn scalar_text(node: SpanRef<'_>) -> Option<Box<str>> {
    let text = node.value()?;
    if node.style() == Some(ScalarStyle::Plain) && node.tag().is_none() && plain_is_null(text) {
        return None;
    }
    Some(text.into())
}

/// The key and value of `key` in a mapping (the first, when written twice).
pub(super) fn pair<'t>(mapping: SpanRef<'t>, key: &str) -> Option<(SpanRef<'t>, SpanRef<'t>)> {
    mapping.pair(key).and_then(|(k, v)| Some((k, v?)))
}

pub(super) fn value<'t>(mapping: SpanRef<'t>, key: &str) -> Option<SpanRef<'t>> {
    pair(mapping, key).map(|(_, value)| value)
}

fn path<'t>(from: Option<SpanRef<'t>>, keys: &[&str]) -> Option<SpanRef<'t>> {
    keys.iter().try_fold(from?, |node, key| value(node, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Document> {
        read_documents(&Arc::new(text.to_string()))
    }

    #[test]
    fn labels_keep_their_pairs_in_one_string() {
        let labels: Labels = [("app", "web"), ("empty", ""), ("", "x"), ("bad\0key", "v")]
            .into_iter()
            .collect();
        let pairs: Vec<_> = labels.iter().collect();
        assert_eq!(pairs, [("app", "web"), ("empty", ""), ("", "x")]);
        assert_eq!(labels.get("empty"), Some(""));
        assert_eq!(labels.len(), 3);
        assert!(Labels::default().is_empty() && Labels::default().iter().next().is_none());
    }

    #[test]
    fn documents_of_a_file_share_their_api_version_and_kind() {
        let documents = read(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n",
        );
        let (first, second) = (&documents[0], &documents[1]);
        assert!(Arc::ptr_eq(
            first.kind.as_ref().unwrap(),
            second.kind.as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(
            first.api_version.as_ref().unwrap(),
            second.api_version.as_ref().unwrap()
        ));
    }

    const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Cluster\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema: {type: object}\n  - name: v0\n";

    #[test]
    fn a_deployment_with_its_pod_labels_and_selector() {
        let text = "# c\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"web\"\n  namespace: shop\n  labels: {app: web, tier: front}\nspec:\n  selector:\n    matchLabels: {app: web}\n    matchExpressions:\n    - {key: tier, operator: In, values: [front, edge]}\n  template:\n    metadata:\n      labels:\n        app: web\n        tier: front\n";
        let documents = read(text);
        assert_eq!(documents.len(), 1);
        let d = &documents[0];
        assert_eq!(d.api_version.as_deref(), Some("apps/v1"));
        assert_eq!(d.group(), Some("apps"));
        assert_eq!(d.kind.as_deref(), Some("Deployment"));
        assert_eq!(d.namespace.as_deref(), Some("shop"));
        assert_eq!(d.name.as_deref(), Some("web"));
        assert_eq!(&text[d.name_range.clone().unwrap()], "web");
        assert_eq!(d.range, 0..text.len());
        assert_eq!(d.labels.get("tier"), Some("front"));
        let pods = d.pod_labels.as_ref().unwrap();
        assert_eq!(
            pods.iter().collect::<Vec<_>>(),
            [("app", "web"), ("tier", "front")]
        );
        let selector = d.selector.as_ref().unwrap();
        assert!(selector.matches(pods));
        assert_eq!(selector.match_expressions[0].operator, Operator::In);
        assert!(!d.templated && d.crd.is_none());
    }

    #[test]
    fn several_documents_lists_and_documents_without_a_kind() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nreplicas: 3\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s, generateName: x-}\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata:\n    generateName: nightly-\n  spec:\n    jobTemplate:\n      spec:\n        template:\n          metadata:\n            labels: {job: nightly}\n";
        let documents = read(text);
        let kinds: Vec<_> = documents
            .iter()
            .map(|d| d.kind.as_deref().unwrap())
            .collect();
        assert_eq!(kinds, ["ConfigMap", "Secret", "CronJob"]);
        assert!(text[documents[1].range.clone()].starts_with("apiVersion: v1\n  kind: Secret"));
        let cron = &documents[2];
        assert_eq!(cron.name, None);
        assert_eq!(cron.generate_name.as_deref(), Some("nightly-"));
        assert_eq!(&text[cron.name_range.clone().unwrap()], "nightly-");
        assert_eq!(
            cron.pod_labels.as_ref().unwrap().get("job"),
            Some("nightly")
        );
        assert_eq!(documents[0].pod_labels, None);
    }

    #[test]
    fn selectors_of_services_and_policies() {
        let text = "kind: Service\nspec: {selector: {app: web}}\n---\nkind: Service\nspec: {selector: {}}\n---\nkind: NetworkPolicy\nspec: {podSelector: {}}\n---\nkind: PodDisruptionBudget\nspec:\n  selector:\n    matchExpressions: [{key: app, operator: Sideways}]\n";
        let documents = read(text);
        let web: Labels = [("app", "web")].into_iter().collect();
        let other: Labels = [("app", "db")].into_iter().collect();
        let service = documents[0].selector.as_ref().unwrap();
        assert!(service.matches(&web) && !service.matches(&other));
        assert_eq!(
            documents[1].selector, None,
            "an empty Service selector selects nothing"
        );
        let policy = documents[2].selector.as_ref().unwrap();
        assert!(policy.is_empty() && policy.matches(&other));
        assert_eq!(
            documents[3].selector, None,
            "an unknown operator: unreadable"
        );
    }

    #[test]
    fn expressions_match_like_kubernetes() {
        let requirement = |key: &str, operator, values: &[&str]| Requirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| (*v).into()).collect(),
        };
        let labels: Labels = [("app", "web"), ("tier", "front")].into_iter().collect();
        let selects = |requirement| {
            Selector {
                match_expressions: vec![requirement],
                ..Selector::default()
            }
            .matches(&labels)
        };
        assert!(selects(requirement("tier", Operator::In, &["front", "x"])));
        assert!(!selects(requirement("tier", Operator::NotIn, &["front"])));
        assert!(selects(requirement("zone", Operator::NotIn, &["a"])));
        assert!(selects(requirement("app", Operator::Exists, &[])));
        assert!(!selects(requirement("app", Operator::DoesNotExist, &[])));
        assert!(selects(requirement("zone", Operator::DoesNotExist, &[])));
    }

    #[test]
    fn a_crd_and_what_it_defines() {
        let documents = read(CRD);
        let crd = documents[0].crd.as_ref().unwrap();
        assert_eq!(&*crd.group, "example.com");
        assert_eq!(&*crd.kind, "Widget");
        assert_eq!(crd.plural.as_deref(), Some("widgets"));
        assert_eq!(crd.scope.as_deref(), Some("Cluster"));
        assert_eq!(crd.versions, [Box::from("v1"), Box::from("v0")]);
        // Not a CRD: the same shape under another group.
        let other = CRD.replace("apiextensions.k8s.io", "example.org");
        assert!(read(&other)[0].crd.is_none());
    }

    #[test]
    fn helm_templates_keep_their_static_values() {
        let text = "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"app.fullname\" . }}\n  namespace: \"{{ .Release.Namespace }}\"\n  labels:\n    {{- include \"app.labels\" . | nindent 4 }}\n    team: shop\n    version: {{ .Chart.Version | quote }}\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n{{- end }}\n";
        let documents = read(text);
        assert_eq!(documents.len(), 1);
        let d = &documents[0];
        assert!(d.templated);
        assert_eq!(d.kind.as_deref(), Some("Deployment"));
        assert_eq!((d.name.as_deref(), d.namespace.as_deref()), (None, None));
        assert_eq!(d.labels.iter().collect::<Vec<_>>(), [("team", "shop")]);
        assert_eq!(d.pod_labels.as_ref().unwrap().get("app"), Some("web"));
    }

    #[test]
    fn blanking_keeps_offsets_and_lines() {
        let text = "a: {{ .x }}é\nb: {{- toYaml\n  . }}\nc: {{ open";
        let blanked = blank_actions(text);
        assert_eq!(blanked.len(), text.len());
        assert_eq!(blanked, "a: ________é\nb: __________\n      \nc:        ");
    }

    #[test]
    fn broken_yaml_keeps_what_came_before_the_error() {
        let text =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: half\ndata:\n  a: [unclosed\n";
        let documents = read(text);
        assert_eq!(documents[0].name.as_deref(), Some("half"));
        assert!(read("just: text\n").is_empty());
        assert!(read("kind: [\n").len() <= 1);
    }
}
