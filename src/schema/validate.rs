//! Validation of one document's syntax tree against the schema of its kind, with the apiserver's
//! semantics where they differ from plain JSON Schema: go-yaml v2 scalar resolution (what kubectl
//! sends), `null` accepted for any field (Go's JSON decoder leaves the zero value), strict unknown
//! fields, int-or-string, `resource.Quantity` syntax, and a container's `image` being required.
//!
//! Diagnostics sit on exact ranges: the key for unknown and missing fields, the value for type,
//! enum and format errors. Offsets are relative to the tree's document.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use tree_sitter::Tree;

use serde_json::Value;

use super::catalog::Catalog;
use super::metadata;
use super::store::{ResourceInfo, SchemaNode, ValueKind, split_api_version};
use super::{cel_rules, core_rules, crd, crd_structure};

mod scoped;
use crate::diagnostic::{Code, Diagnostic, Severity, codes};
use crate::yaml::node::{TsNode, YamlNode};
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::scalar::{self, Resolved, ScalarStyle};
use crate::yaml::spans::SpanTree;
use crate::yaml::syntax::{self, NodeShape, Source};
pub use scoped::revalidate;


const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// An object with an unknown kind is tried against the schema of the apiVersion its fix offers
/// only up to this size: the trial walks it whole, and after each edit of the object it runs
/// again on tree-sitter's tree (~1 µs a node), so it must stay cheap.
const TRIAL_LIMIT: usize = 32 * 1024;

/// Nesting deeper than this is not validated (the YAML layer reports what is wrong with it).
const MAX_DEPTH: usize = 200;

/// The schema diagnostics of one document.
pub fn validate_document<S: Source + ?Sized>(
    catalog: &Catalog,
    tree: &Tree,
    source: &S,
) -> Vec<Diagnostic> {
    validate(catalog, tree, source).diagnostics
}

/// A document's schema diagnostics and the kinds it was validated as, with the catalog layer
/// that answered for each: under another catalog the result still holds if they answer alike.
#[derive(Debug, Default, Clone)]
pub struct Validation {
    pub diagnostics: Vec<Diagnostic>,
    /// Which part of validation produced each diagnostic (parallel to `diagnostics`): after an
    /// edit, [`revalidate`] redoes each part only where the edit can have changed its answer.
    origins: Vec<Origin>,
    kinds: Vec<(String, String, Option<u64>)>,
}

/// The parts of a document's validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The walk of the document against its kind's schema.
    Walk,
    /// Rules about a whole object (its name, selectors, ConfigMap keys, size).
    Object,
    /// A CRD's structural checks of its own schemas (`crd_structure`).
    Structure,
}

impl Validation {
    /// Whether `catalog` answers every kind this document uses from the same layers.
    pub fn holds_under(&self, catalog: &Catalog) -> bool {
        // An unknown kind's message lists the sources and what else serves the kind.
        let names_sources = self
            .diagnostics
            .iter()
            .any(|d| d.code == codes::UNKNOWN_KIND);
        !names_sources
            && self.kinds.iter().all(|(api_version, kind, layer)| {
                catalog.answering_layer(api_version, kind) == *layer
            })
    }
}

impl Validation {
    /// Moves the diagnostics (and their fixes) along with an edit of the file; the document
    /// starts at `base`.
    pub fn follow_edit(&mut self, edit: &crate::text::TextEdit, base: usize) {
        for diagnostic in &mut self.diagnostics {
            diagnostic.follow_edit(edit, base);
        }
    }
}

/// Like [`validate_document`], remembering which layers answered.
pub fn validate<S: Source + ?Sized>(catalog: &Catalog, tree: &Tree, source: &S) -> Validation {
    // A document with syntax errors gets those from the YAML layer; a recovered tree would only
    // add guesses.
    if tree.root_node().has_error() {
        return Validation::default();
    }
    match syntax::document_root(tree) {
        Some(root) => validate_root(catalog, TsNode::new(root, source)),
        None => Validation::default(),
    }
}

/// [`validate`] on the span tree saphyr's pass built (a document without syntax errors).
pub fn validate_spans(catalog: &Catalog, tree: &SpanTree) -> Validation {
    match tree.root() {
        Some(root) => validate_root(catalog, root),
        None => Validation::default(),
    }
}

fn validate_root<N: YamlNode>(catalog: &Catalog, root: N) -> Validation {
    let mut validator = Validator::new(catalog);
    validator.object(root, 0);
    validator.mark(Origin::Walk);
    let (diagnostics, origins) = sorted(validator.out, validator.origins);
    let mut kinds: Vec<(String, String, Option<u64>)> = Vec::new();
    for (api_version, kind) in validator.consulted {
        if !kinds
            .iter()
            .any(|(a, k, _)| *a == api_version && *k == kind)
        {
            let layer = catalog.answering_layer(&api_version, &kind);
            kinds.push((api_version, kind, layer));
        }
    }
    Validation {
        diagnostics,
        origins,
        kinds,
    }
}

/// Diagnostics in document order, each with its origin.
fn sorted(diagnostics: Vec<Diagnostic>, origins: Vec<Origin>) -> (Vec<Diagnostic>, Vec<Origin>) {
    let mut tagged: Vec<(Diagnostic, Origin)> = diagnostics.into_iter().zip(origins).collect();
    tagged.sort_by_key(|(d, _)| (d.range.start, d.range.end));
    tagged.into_iter().unzip()
}

/// The `apiVersion` and `kind` of a document's root mapping, with the ranges of their values.
#[derive(Debug, Default, Clone)]
pub struct TypeMeta {
    pub api_version: Option<(String, Range<usize>)>,
    pub kind: Option<(String, Range<usize>)>,
    /// Ranges of the `apiVersion` / `kind` keys (present even when the value is empty).
    pub api_version_key: Option<Range<usize>>,
    pub kind_key: Option<Range<usize>>,
}

pub fn type_meta<N: YamlNode>(mapping: N) -> TypeMeta {
    let mut meta = TypeMeta::default();
    for pair in mapping.pairs() {
        let Some(key) = pair.key else { continue };
        let name = key.text();
        let value = pair
            .value
            .filter(|v| v.shape() == NodeShape::Scalar)
            .and_then(|v| {
                let text = v.text()?.into_owned();
                let range = v.range();
                Some((text, range))
            })
            .filter(|(text, _)| !text.is_empty());
        let key_range = key.range();
        match name.as_deref() {
            Some("apiVersion") => {
                meta.api_version = value;
                meta.api_version_key = Some(key_range);
            }
            Some("kind") => {
                meta.kind = value;
                meta.kind_key = Some(key_range);
            }
            _ => {}
        }
    }
    meta
}

/// Groups whose documents are configuration for tools, not API objects.
fn is_tool_config(api_version: &str, kind: &str) -> bool {
    let (group, _) = split_api_version(api_version);
    group == "kustomize.config.k8s.io"
        || (api_version == "v1" && kind == "Config")
        || group.ends_with(".x-k8s.io") && kind == "Cluster" && group.starts_with("kind.")
}

struct Validator<'a> {
    catalog: &'a Catalog,
    /// Every (apiVersion, kind) looked up in the catalog.
    consulted: Vec<(String, String)>,
    out: Vec<Diagnostic>,
    /// The origin of each diagnostic in `out` up to its length (see [`Validator::mark`]).
    origins: Vec<Origin>,
}

fn key_range<N: YamlNode>(node: N) -> Range<usize> {
    node.range()
}

impl<'a> Validator<'a> {
    fn new(catalog: &'a Catalog) -> Self {
        Validator {
            catalog,
            consulted: Vec::new(),
            out: Vec::new(),
            origins: Vec::new(),
        }
    }

    /// Tags every diagnostic pushed since the last mark with `origin`.
    fn mark(&mut self, origin: Origin) {
        let unmarked = self.out.len() - self.origins.len();
        self.origins.extend(std::iter::repeat_n(origin, unmarked));
    }
}

impl Validator<'_> {
    fn error(&mut self, range: Range<usize>, code: Code, message: String) {
        self.out.push(Diagnostic::error(range, code, message));
    }

    /// A Kubernetes object (a document, or an item of a List).
    fn object<N: YamlNode>(&mut self, node: N, depth: usize) {
        self.mark(Origin::Walk);
        if node.shape() != NodeShape::Mapping || depth > MAX_DEPTH {
            return;
        }
        let meta = type_meta(node);
        let (api_version, kind) = match (&meta.api_version, &meta.kind) {
            (None, None) if meta.api_version_key.is_none() && meta.kind_key.is_none() => return,
            (Some(a), Some(k)) => (a.clone(), k.clone()),
            (api, kind) => {
                // Half a type: kubectl rejects it ("Object 'Kind' is missing").
                let (missing, at) = if kind.is_none() {
                    (
                        "kind",
                        meta.kind_key.clone().or(meta.api_version_key.clone()),
                    )
                } else {
                    (
                        "apiVersion",
                        meta.api_version_key.clone().or(meta.kind_key.clone()),
                    )
                };
                let _ = api;
                let at = at.unwrap_or(node.start()..node.start());
                self.error(
                    at,
                    codes::REQUIRED,
                    format!("`{missing}` is required: every Kubernetes object names its apiVersion and kind"),
                );
                return;
            }
        };
        let ((api_version, api_version_range), (kind, kind_range)) = (api_version, kind);
        self.consulted.push((api_version.clone(), kind.clone()));
        if is_tool_config(&api_version, &kind) {
            return;
        }
        if let Some(items) = self.list_items(node, &api_version, &kind) {
            for item in items.into_iter().flatten() {
                self.object(item, depth + 1);
            }
            return;
        }
        let Some(found) = self.catalog.schemas_for(&api_version, &kind) else {
            self.mark(Origin::Walk);
            self.unknown_kind(node, &api_version, api_version_range, &kind, kind_range);
            self.mark(Origin::Object);
            return;
        };
        let Some(schema) = found.schemas.kind(&kind) else {
            return;
        };
        self.check(node, schema, kind_range.clone(), depth);
        self.mark(Origin::Walk);
        self.object_checks(node, found.resource, kind_range);
        if crd::is_crd(&api_version, &kind) {
            self.out.extend(crd_structure::check(node, MAX_DEPTH));
            self.mark(Origin::Structure);
        }
    }

    /// The rules about a whole object (origin [`Origin::Object`]).
    fn object_checks<N: YamlNode>(
        &mut self,
        node: N,
        resource: &ResourceInfo,
        kind_range: Range<usize>,
    ) {
        self.mark(Origin::Walk);
        self.object_name(node, resource, kind_range.clone());
        self.object_rules(node, resource);
        if crd::is_crd(&resource.api_version(), &resource.kind)
            && node.range().len() > crd::MAX_CRD_BYTES
        {
            self.out.push(Diagnostic {
                range: kind_range,
                severity: Severity::Warning,
                code: codes::CRD,
                message: format!(
                    "this CRD is over {} MiB: kube-lsp does not read its schemas (the apiserver accepts at most 3 MiB per request)",
                    crd::MAX_CRD_BYTES >> 20
                ),
                fix: None,
            });
        }
        self.mark(Origin::Object);
    }

    /// The items of a `v1 List` (or `<Kind>List` of a known kind), if this is one.
    fn list_items<N: YamlNode>(
        &mut self,
        node: N,
        api_version: &str,
        kind: &str,
    ) -> Option<Vec<Option<N>>> {
        if let Some(item_kind) = kind.strip_suffix("List").filter(|k| !k.is_empty()) {
            self.consulted
                .push((api_version.to_string(), item_kind.to_string()));
        }
        let is_list = (api_version == "v1" && kind == "List")
            || kind
                .strip_suffix("List")
                .is_some_and(|k| !k.is_empty() && self.catalog.resource(api_version, k).is_some());
        if !is_list {
            return None;
        }
        let items = node
            .pairs()
            .into_iter()
            .find(|p| p.key.and_then(|k| k.text()).as_deref() == Some("items"))?;
        Some(items.value.map(YamlNode::items).unwrap_or_default())
    }

    /// One warning for a kind no source knows; when the kind is served under another apiVersion
    /// (a removed or deprecated one like `extensions/v1beta1`), a fix that switches to it and
    /// says whether the object fits the schema there.
    fn unknown_kind<N: YamlNode>(
        &mut self,
        object: N,
        api_version: &str,
        api_version_range: Range<usize>,
        kind: &str,
        range: Range<usize>,
    ) {
        let served = self.catalog.api_versions_of_kind(kind);
        let fix = served.first().map(|to| {
            let fit = match self.errors_under(object, to, kind, range.clone()) {
                None => "served there; check fields whose schema changed".to_string(),
                Some(0) => "its schema there fits this object as is".to_string(),
                Some(1) => "then fix 1 field its schema there does not accept".to_string(),
                Some(n) => format!("then fix {n} fields its schema there does not accept"),
            };
            let title = format!("Use apiVersion {to} for {kind} ({fit})");
            (title, vec![(api_version_range, to.clone())])
        });
        let mut diagnostic = Diagnostic {
            range,
            severity: Severity::Warning,
            code: codes::UNKNOWN_KIND,
            message: self.catalog.unknown_kind_message(api_version, kind),
            fix: None,
        };
        if let Some((title, edits)) = fix {
            diagnostic = diagnostic.with_fix(title, edits);
        }
        self.out.push(diagnostic);
    }

    /// The errors `object` would get as `kind` of `api_version`; `None` for an object too big to
    /// try (the fix is offered all the same).
    fn errors_under<N: YamlNode>(
        &self,
        object: N,
        api_version: &str,
        kind: &str,
        kind_range: Range<usize>,
    ) -> Option<usize> {
        if object.range().len() > TRIAL_LIMIT {
            return None;
        }
        let found = self.catalog.schemas_for(api_version, kind)?;
        let schema = found.schemas.kind(kind)?;
        let mut trial = Validator::new(self.catalog);
        trial.check(object, schema, kind_range, 0);
        Some(
            trial
                .out
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
        )
    }

    /// Checks `node` against `schema`. `anchor` is where "missing field" errors go: the key
    /// that holds this value (or the first key of a list item, or the document's kind).
    fn check<N: YamlNode>(
        &mut self,
        node: N,
        schema: SchemaNode<'_>,
        anchor: Range<usize>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let shape = node.shape();
        match shape {
            NodeShape::Alias | NodeShape::Empty => return,
            _ => {}
        }
        let kind = schema.kind();
        match kind {
            ValueKind::Any => {}
            ValueKind::Object => match shape {
                NodeShape::Mapping => self.mapping(node, schema, anchor.clone(), depth),
                _ => self.mismatch(node, schema),
            },
            ValueKind::Array => match shape {
                NodeShape::Sequence => {
                    if let Some(items) = schema.items() {
                        for item in node.items().into_iter().flatten() {
                            let anchor = first_key_range(item).unwrap_or_else(|| item_anchor(item));
                            self.check(item, items, anchor, depth + 1);
                        }
                    }
                    self.unique_items(node, schema);
                }
                _ => self.mismatch(node, schema),
            },
            _ => match shape {
                NodeShape::Scalar => self.scalar(node, schema, kind),
                _ => self.mismatch(node, schema),
            },
        }
        if !schema.schema.validations.is_empty() {
            self.rules(node, schema, &anchor);
        }
    }

    fn mapping<N: YamlNode>(
        &mut self,
        node: N,
        schema: SchemaNode<'_>,
        anchor: Range<usize>,
        depth: usize,
    ) {
        // The keys, for the required fields below (a list: mappings are small or have no
        // required fields, and hashing every key of a big document costs more).
        let mut seen: Vec<Cow<'_, str>> = Vec::new();
        let mut merged = false;
        for pair in node.pairs() {
            let Some(key) = pair.key else { continue };
            let Some(name) = key.text() else {
                continue;
            };
            if name == "<<" {
                merged = true;
                continue;
            }
            self.pair(&name, key, pair.value, schema, depth);
            seen.push(name);
        }
        match schema.name {
            Some(OBJECT_META) => self.labels_and_annotations(node),
            Some(name) => self.core_type_rules(node, name),
            None => {}
        }
        // `x-kubernetes-embedded-resource`: a whole object, which names its type.
        if schema.embedded_resource() && !merged {
            for field in ["apiVersion", "kind"] {
                if !seen.iter().any(|key| key == field) {
                    self.error(
                        anchor.clone(),
                        codes::REQUIRED,
                        format!(
                            "Required value: `{field}` must not be empty (an embedded resource)"
                        ),
                    );
                }
            }
        }
        if merged {
            return;
        }
        // The schema's required fields, and a container's image (the apiserver requires it).
        let missing: Vec<&str> = super::required_fix::required_fields(schema)
            .into_iter()
            .filter(|r| !seen.iter().any(|key| key == r))
            .collect();
        // One fix adds them all; each of their diagnostics carries it.
        let fix = super::required_fix::fix(node, schema, &missing);
        for field in missing {
            let label = schema.type_label();
            let message = format!("missing required field `{field}` in {label}");
            let diagnostic = Diagnostic::error(anchor.clone(), codes::REQUIRED, message);
            self.out.push(match &fix {
                Some((title, edits)) => diagnostic.with_fix(title.clone(), edits.clone()),
                None => diagnostic,
            });
        }
    }

    /// One pair of a mapping whose schema is `schema`: an unknown key, or its value checked.
    fn pair<N: YamlNode>(
        &mut self,
        name: &str,
        key: N,
        value: Option<N>,
        schema: SchemaNode<'_>,
        depth: usize,
    ) {
        let key_range = key_range(key);
        match (value_schema(schema, name), value) {
            (None, _) => self.unknown_field(name, key_range, schema),
            (Some(Some(value_schema)), Some(value)) => {
                self.check(value, value_schema, key_range, depth + 1);
            }
            _ => {}
        }
    }

    /// An unknown field, with a did-you-mean rename when a known one is close.
    fn unknown_field(&mut self, name: &str, key_range: Range<usize>, schema: SchemaNode<'_>) {
        let mut message = format!("unknown field `{name}` in {}", schema.type_label());
        let suggestion = did_you_mean(name, schema.properties().map(|(n, _)| n));
        if let Some(suggestion) = suggestion {
            message.push_str(&format!("; did you mean `{suggestion}`?"));
        }
        let mut diagnostic = Diagnostic::error(key_range.clone(), codes::UNKNOWN_FIELD, message);
        if let Some(suggestion) = suggestion {
            diagnostic = diagnostic.with_fix(
                format!("Change `{name}` to `{suggestion}`"),
                vec![(key_range, suggestion.to_string())],
            );
        }
        self.out.push(diagnostic);
    }

    /// A value of the wrong shape (a mapping where a string belongs, ...).
    fn mismatch<N: YamlNode>(&mut self, node: N, schema: SchemaNode<'_>) {
        let found = match node.shape() {
            NodeShape::Mapping => "a mapping".to_string(),
            NodeShape::Sequence => "a list".to_string(),
            _ => match self.resolve(node) {
                Some(Resolved::Null) | None => return,
                Some(resolved) => describe(&resolved),
            },
        };
        let range = value_range(node);
        self.error(
            range,
            codes::TYPE,
            format!("expected {}, found {found}", expected(schema)),
        );
    }

    /// The scalar as kubectl sends it.
    fn resolve<N: YamlNode>(&self, node: N) -> Option<Resolved> {
        let style = node.style()?;
        let text = node.text()?;
        match node.tag() {
            None if style == ScalarStyle::Plain => Some(scalar::resolve_plain(&text)),
            None => Some(Resolved::String(text.into_owned())),
            Some(tag) => scalar::resolve_scalar(&text, style, Some(&tag)).ok(),
        }
    }

    fn scalar<N: YamlNode>(&mut self, node: N, schema: SchemaNode<'_>, kind: ValueKind) {
        let Some(resolved) = self.resolve(node) else {
            return;
        };
        let ok = match (&resolved, kind) {
            (Resolved::Null, _) => return,
            (
                Resolved::String(_),
                ValueKind::String | ValueKind::IntOrString | ValueKind::Quantity,
            ) => true,
            (
                Resolved::Int(_) | Resolved::UInt(_),
                ValueKind::Integer
                | ValueKind::Number
                | ValueKind::IntOrString
                | ValueKind::Quantity,
            ) => true,
            (Resolved::Float(f), ValueKind::Integer | ValueKind::IntOrString) => {
                f.is_finite() && f.fract() == 0.0
            }
            (Resolved::Float(f), ValueKind::Number | ValueKind::Quantity) => f.is_finite(),
            (Resolved::Bool(_), ValueKind::Boolean) => true,
            _ => false,
        };
        let range = value_range(node);
        if ok && kind == ValueKind::Integer && !fits_format(&resolved, schema.format()) {
            let format = schema.format().unwrap_or_default();
            self.error(
                range,
                codes::TYPE,
                format!(
                    "{} does not fit in {format} (Go cannot decode it)",
                    describe(&resolved)
                ),
            );
            return;
        }
        if !ok {
            let mut message = format!(
                "expected {}, found {}",
                expected(schema),
                describe(&resolved)
            );
            if kind == ValueKind::String {
                message.push_str(" (quote it to make it a string)");
            }
            self.error(range, codes::TYPE, message);
            return;
        }
        if let Resolved::String(text) = &resolved {
            if kind == ValueKind::String
                && let Some(message) = format_error(schema, text)
            {
                self.error(
                    range.clone(),
                    codes::FORMAT,
                    metadata::invalid(text, &message),
                );
                return;
            }
            if kind == ValueKind::Quantity && !is_quantity(text) {
                self.error(
                    range.clone(),
                    codes::FORMAT,
                    format!("`{text}` is not a quantity (like 500m, 128Mi, 1.5, 2e3)"),
                );
                return;
            }
            if let Some(values) = schema.enum_values() {
                let allowed: Vec<&str> = values.iter().filter_map(|v| v.as_str()).collect();
                if !allowed.is_empty() && !allowed.contains(&text.as_str()) {
                    let list = allowed
                        .iter()
                        .map(|v| format!("`{v}`"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    self.error(
                        range,
                        codes::ENUM,
                        format!("unsupported value `{text}`: expected one of {list}"),
                    );
                }
            }
        }
    }
}

/// The apiserver's rules beyond the schema: metadata, unique list keys, CEL rules.
impl Validator<'_> {
    /// The value of `key` in a mapping node.
    fn value_of<N: YamlNode>(&self, mapping: N, key: &str) -> Option<(N, Option<N>)> {
        mapping.pairs().into_iter().find_map(|pair| {
            let k = pair.key?;
            (k.text().as_deref() == Some(key)).then_some((k, pair.value))
        })
    }

    /// A scalar that resolves to a string, with its range.
    fn string_value<N: YamlNode>(&self, node: Option<N>) -> Option<(String, Range<usize>)> {
        let node = node?;
        match self.resolve(node)? {
            Resolved::String(text) => Some((text, value_range(node))),
            _ => None,
        }
    }

    /// `metadata.name` / `generateName` / `namespace` of a top-level object, by the rule of
    /// its kind. Create-only kinds (reviews: no `get` verb) need no name.
    fn object_name<N: YamlNode>(
        &mut self,
        object: N,
        resource: &ResourceInfo,
        kind_range: Range<usize>,
    ) {
        let metadata = self.value_of(object, "metadata");
        let metadata_node = metadata
            .and_then(|(_, v)| v)
            .filter(|v| v.shape() == NodeShape::Mapping);
        let field = |name| metadata_node.and_then(|m| self.value_of(m, name));
        let namespace = field("namespace");
        let name = field("name");
        let generate_name = field("generateName");
        let rule = metadata::name_rule(&resource.group, &resource.kind);
        let mut found_any = false;
        for (key, prefix) in [(generate_name, true), (name, false)] {
            let Some((_, value)) = key else { continue };
            let Some((text, range)) = self.string_value(value) else {
                continue;
            };
            if text.is_empty() {
                continue;
            }
            found_any = true;
            for message in metadata::check_name(rule, &text, prefix) {
                self.error(
                    range.clone(),
                    codes::INVALID,
                    metadata::invalid(&text, &message),
                );
            }
        }
        let create_only = !resource.verbs.is_empty() && !resource.verbs.iter().any(|v| v == "get");
        if !found_any && !create_only {
            let at = name
                .map(|(k, _)| key_range(k))
                .or(metadata.map(|(k, _)| key_range(k)))
                .unwrap_or(kind_range);
            self.error(
                at,
                codes::REQUIRED,
                "Required value: name or generateName is required (metadata.name)".to_string(),
            );
        }
        if let Some((text, range)) = namespace.and_then(|(_, v)| self.string_value(v)) {
            for message in metadata::dns1123_label(&text) {
                self.error(
                    range.clone(),
                    codes::INVALID,
                    metadata::invalid(&text, &message),
                );
            }
        }
    }

    /// Label keys and values, annotation keys and the annotations' total size.
    fn labels_and_annotations<N: YamlNode>(&mut self, metadata_node: N) {
        if let Some((_, Some(labels))) = self.value_of(metadata_node, "labels") {
            for pair in labels.pairs() {
                let Some(key) = pair.key else { continue };
                let Some(name) = key.text().filter(|n| n != "<<") else {
                    continue;
                };
                for message in metadata::qualified_name(&name) {
                    self.error(
                        key_range(key),
                        codes::INVALID,
                        metadata::invalid(&name, &message),
                    );
                }
                if let Some((text, range)) = self.string_value(pair.value) {
                    for message in metadata::label_value(&text) {
                        self.error(
                            range.clone(),
                            codes::INVALID,
                            metadata::invalid(&text, &message),
                        );
                    }
                }
            }
        }
        if let Some((annotations_key, Some(annotations))) =
            self.value_of(metadata_node, "annotations")
        {
            let mut total = 0;
            for pair in annotations.pairs() {
                let Some(key) = pair.key else { continue };
                let Some(name) = key.text().filter(|n| n != "<<") else {
                    continue;
                };
                total += name.len();
                for message in metadata::qualified_name(&name.to_lowercase()) {
                    self.error(
                        key_range(key),
                        codes::INVALID,
                        metadata::invalid(&name, &message),
                    );
                }
                if let Some(value) = pair.value {
                    total += value.text().map_or(0, |t| t.len());
                }
            }
            if total > metadata::TOTAL_ANNOTATION_SIZE {
                self.error(
                    key_range(annotations_key),
                    codes::INVALID,
                    format!(
                        "Too long: may not be more than {} bytes (annotations hold {total})",
                        metadata::TOTAL_ANNOTATION_SIZE
                    ),
                );
            }
        }
    }

    /// `x-kubernetes-list-type: map` (items unique by their keys, defaults applied) and `set`
    /// (scalar items unique).
    fn unique_items<N: YamlNode>(&mut self, list: N, schema: SchemaNode<'_>) {
        for (range, key) in self.duplicates(list, schema) {
            self.error(range, codes::DUPLICATE, format!("Duplicate value: {key}"));
        }
    }

    fn duplicates<N: YamlNode>(
        &self,
        list: N,
        schema: SchemaNode<'_>,
    ) -> Vec<(Range<usize>, Value)> {
        let unique_by: Box<dyn Fn(N) -> Option<Value>> = match schema.list_type() {
            Some("map") if !schema.list_map_keys().is_empty() => {
                let keys = schema.list_map_keys();
                let items = schema.items();
                Box::new(move |item| self.map_key_of(item, keys, items))
            }
            Some("set") => Box::new(|item| match item.shape() {
                NodeShape::Scalar => self.resolve(item).map(json_of_scalar),
                _ => None,
            }),
            _ => return Vec::new(),
        };
        // Keyed by the JSON text of each item's key, so long lists stay linear.
        let mut seen: HashSet<String> = HashSet::new();
        let mut duplicates = Vec::new();
        for item in list.items().into_iter().flatten() {
            let Some(key) = unique_by(item) else { continue };
            if !seen.insert(key.to_string()) {
                let at = first_key_range(item).unwrap_or_else(|| value_range(item));
                duplicates.push((at, key));
            }
        }
        duplicates
    }

    /// The map-key object of a list-map item: each key's value, else its schema default.
    fn map_key_of<N: YamlNode>(
        &self,
        item: N,
        keys: &[Box<str>],
        items: Option<SchemaNode<'_>>,
    ) -> Option<Value> {
        if item.shape() != NodeShape::Mapping {
            return None;
        }
        let mut object = serde_json::Map::new();
        for key in keys {
            let value = match self.value_of(item, key) {
                Some((_, Some(value))) if value.shape() == NodeShape::Scalar => {
                    self.resolve(value).map(json_of_scalar)
                }
                Some((_, Some(_))) => return None,
                _ => items
                    .and_then(|s| s.property(key))
                    .and_then(|p| p.default().cloned()),
            };
            if let Some(value) = value.filter(|v| !v.is_null()) {
                object.insert(key.to_string(), value);
            }
        }
        Some(Value::Object(object))
    }

    /// Evaluates the CRD rules on `node`; failures go on `anchor` (the key holding the value).
    fn rules<N: YamlNode>(&mut self, node: N, schema: SchemaNode<'_>, anchor: &Range<usize>) {
        let Some(value) = self.json_of(node, 0) else {
            return;
        };
        for rule in &schema.schema.validations {
            if let cel_rules::Outcome::Failed(message) = cel_rules::evaluate(rule, &value) {
                // `fieldPath` points below the value (`.spec.replicas`); else the value's key.
                let at = rule
                    .field_path
                    .as_deref()
                    .and_then(|path| self.key_at(node, &KeyPath::parse(path)))
                    .unwrap_or_else(|| anchor.clone());
                self.error(at, codes::RULE, message);
            }
        }
    }

    /// The range of the key (or item) `path` leads to below `node`.
    fn key_at<N: YamlNode>(&self, node: N, path: &KeyPath) -> Option<Range<usize>> {
        let (mut current, mut range) = (node, None);
        for segment in &path.0 {
            let next = match segment {
                Segment::Key(name) => {
                    let (key, value) = self.value_of(current, name)?;
                    range = Some(key_range(key));
                    value
                }
                Segment::Index(index) => {
                    let item = current.items().get(*index).copied().flatten()?;
                    range = Some(first_key_range(item).unwrap_or_else(|| value_range(item)));
                    Some(item)
                }
            };
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        range
    }

    /// The JSON value of a subtree (None when it holds aliases or nests too deep).
    fn json_of<N: YamlNode>(&self, node: N, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match node.shape() {
            NodeShape::Mapping => {
                let mut object = serde_json::Map::new();
                for pair in node.pairs() {
                    let key = pair.key?.text()?;
                    let value = match pair.value {
                        Some(value) => self.json_of(value, depth + 1)?,
                        None => Value::Null,
                    };
                    object.insert(key.into_owned(), value);
                }
                Some(Value::Object(object))
            }
            NodeShape::Sequence => node
                .items()
                .into_iter()
                .map(|item| item.map_or(Some(Value::Null), |i| self.json_of(i, depth + 1)))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            NodeShape::Scalar => self.resolve(node).map(json_of_scalar),
            NodeShape::Empty => Some(Value::Null),
            NodeShape::Alias => None,
        }
    }
}

/// What a string `format` rejects, as the apiserver decodes it.
/// Whether an integer fits the Go type its `format` names (`int32` fields are `int32`).
fn fits_format(value: &Resolved, format: Option<&str>) -> bool {
    let (min, max) = match format {
        Some("int32") => (i32::MIN as i128, i32::MAX as i128),
        Some("int64") => (i64::MIN as i128, i64::MAX as i128),
        _ => return true,
    };
    let number = match value {
        Resolved::Int(i) => *i as i128,
        Resolved::UInt(u) => *u as i128,
        Resolved::Float(f) if f.is_finite() => *f as i128,
        _ => return true,
    };
    (min..=max).contains(&number)
}

/// `byte` everywhere (base64, as Go decodes `[]byte`); `date-time` only for metav1.Time, which
/// Go parses as RFC 3339 (CRD date-times accept more layouts).
fn format_error(schema: SchemaNode<'_>, text: &str) -> Option<String> {
    match schema.format()? {
        "byte" => core_rules::base64(text).err(),
        "date-time"
            if schema.name == Some("io.k8s.apimachinery.pkg.apis.meta.v1.Time")
                && !core_rules::rfc3339(text) =>
        {
            Some("must be an RFC 3339 date-time (e.g. 2006-01-02T15:04:05Z)".to_string())
        }
        _ => None,
    }
}

/// The restart policies a controller allows in its pod template.
fn restart_policies(resource: &ResourceInfo) -> Option<&'static [&'static str]> {
    match (resource.group.as_str(), resource.kind.as_str()) {
        ("batch", "Job" | "CronJob") => Some(&["OnFailure", "Never"]),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("", "ReplicationController") => Some(&["Always"]),
        _ => None,
    }
}

/// Workloads whose `spec.selector` must select `spec.template.metadata.labels`.
fn has_template_selector(resource: &ResourceInfo) -> bool {
    matches!(
        (resource.group.as_str(), resource.kind.as_str()),
        (
            "apps",
            "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
        ) | ("", "ReplicationController")
    )
}

/// Rules of core types that their schema does not state.
impl Validator<'_> {
    fn invalid_each<N: YamlNode>(&mut self, node: Option<N>, check: fn(&str) -> Vec<String>) {
        if let Some((text, range)) = self.string_value(node) {
            for message in check(&text) {
                self.error(
                    range.clone(),
                    codes::INVALID,
                    metadata::invalid(&text, &message),
                );
            }
        }
    }

    /// Names of containers and ports, a pod's empty container list.
    fn core_type_rules<N: YamlNode>(&mut self, node: N, schema_name: &str) {
        let value = |name| self.value_of(node, name).and_then(|(_, v)| v);
        let (name, target_port) = (value("name"), value("targetPort"));
        match schema_name {
            "io.k8s.api.core.v1.Container" | "io.k8s.api.core.v1.EphemeralContainer" => {
                self.invalid_each(name, core_rules::container_name);
            }
            "io.k8s.api.core.v1.ContainerPort" => {
                self.invalid_each(name, core_rules::port_name);
            }
            "io.k8s.api.core.v1.ServicePort" => {
                self.invalid_each(name, metadata::dns1123_label);
                self.invalid_each(target_port, core_rules::port_name);
            }
            "io.k8s.api.core.v1.PodSpec" => {
                if let Some((key, Some(list))) = self.value_of(node, "containers") {
                    let empty = list.shape() == NodeShape::Sequence && list.items().is_empty();
                    if empty {
                        self.error(
                            key_range(key),
                            codes::REQUIRED,
                            "Required value: a pod needs at least one container".to_string(),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    /// Rules about a whole object: ConfigMap and Secret keys, workload selectors.
    fn object_rules<N: YamlNode>(&mut self, object: N, resource: &ResourceInfo) {
        if resource.group.is_empty() && matches!(resource.kind.as_str(), "ConfigMap" | "Secret") {
            for map in ["data", "binaryData", "stringData"] {
                let Some((_, Some(entries))) = self.value_of(object, map) else {
                    continue;
                };
                for key in entries.pairs().into_iter().filter_map(|p| p.key) {
                    let Some(name) = key.text().filter(|n| n != "<<") else {
                        continue;
                    };
                    for message in core_rules::config_key(&name) {
                        self.error(
                            key_range(key),
                            codes::INVALID,
                            metadata::invalid(&name, &message),
                        );
                    }
                }
            }
        }
        if has_template_selector(resource) {
            self.template_selector(object, resource.group.is_empty());
        }
        if crd::is_crd(&resource.api_version(), &resource.kind) {
            self.crd_name(object);
        }
        if let Some(allowed) = restart_policies(resource) {
            let path: &[&str] = if resource.kind == "CronJob" {
                &["spec", "jobTemplate", "spec", "template", "spec"]
            } else {
                &["spec", "template", "spec"]
            };
            self.restart_policy(object, path, allowed);
        }
        if resource.group.is_empty() && resource.kind == "Service" {
            self.service_ports(object);
        }
    }

    /// The mapping at `path` below `node`, with the key that holds it.
    fn mapping_at<N: YamlNode>(&self, node: N, path: &[&str]) -> Option<(N, N)> {
        let mut current = (node, node);
        for key in path {
            let (k, v) = self.value_of(current.1, key)?;
            current = (k, v.filter(|v| v.shape() == NodeShape::Mapping)?);
        }
        Some(current)
    }

    /// A pod template's restartPolicy as its controller requires it (default `Always`).
    fn restart_policy<N: YamlNode>(&mut self, object: N, path: &[&str], allowed: &[&str]) {
        let Some((spec_key, pod_spec)) = self.mapping_at(object, path) else {
            return;
        };
        let supported = allowed
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        match self.value_of(pod_spec, "restartPolicy") {
            Some((key, value)) => {
                let Some((text, range)) = self.string_value(value) else {
                    return;
                };
                if !allowed.contains(&text.as_str()) {
                    let at = if text.is_empty() { key_range(key) } else { range };
                    self.error(
                        at,
                        codes::INVALID,
                        format!("Unsupported value: \"{text}\": supported values: {supported}"),
                    );
                }
            }
            None if !allowed.contains(&"Always") => self.error(
                key_range(spec_key),
                codes::REQUIRED,
                format!("Required value: restartPolicy: valid values: {supported} (the default, Always, is not allowed here)"),
            ),
            None => {}
        }
    }

    /// A Service needs ports unless it is ExternalName (which needs externalName) or headless.
    fn service_ports<N: YamlNode>(&mut self, service: N) {
        let Some((spec_key, spec)) = self.mapping_at(service, &["spec"]) else {
            return;
        };
        let text = |name| {
            self.value_of(spec, name)
                .and_then(|(_, v)| self.string_value(v))
                .map(|(t, _)| t)
        };
        let (service_type, cluster_ip) = (text("type"), text("clusterIP"));
        if service_type.as_deref() == Some("ExternalName") {
            if text("externalName").is_none_or(|name| name.is_empty()) {
                self.error(
                    key_range(spec_key),
                    codes::REQUIRED,
                    "Required value: spec.externalName (a Service of type ExternalName)"
                        .to_string(),
                );
            }
            return;
        }
        if cluster_ip.as_deref() == Some("None") {
            return;
        }
        let ports = self.value_of(spec, "ports");
        let empty = match ports {
            None => true,
            Some((_, Some(list))) => list.shape() == NodeShape::Sequence && list.items().is_empty(),
            Some((_, None)) => true,
        };
        if empty {
            let at = ports.map_or_else(|| key_range(spec_key), |(k, _)| key_range(k));
            self.error(
                at,
                codes::REQUIRED,
                "Required value: spec.ports (only headless and ExternalName Services may have none)"
                    .to_string(),
            );
        }
    }

    /// A CRD's name is `<spec.names.plural>.<spec.group>`.
    fn crd_name<N: YamlNode>(&mut self, crd: N) {
        let metadata = self.value_of(crd, "metadata").and_then(|(_, v)| v);
        let name = metadata
            .and_then(|m| self.value_of(m, "name"))
            .and_then(|(_, v)| v);
        let Some((name, range)) = self.string_value(name) else {
            return;
        };
        let spec = self.value_of(crd, "spec").and_then(|(_, v)| v);
        let text_at = |node: Option<N>, key| {
            node.and_then(|n| self.value_of(n, key))
                .and_then(|(_, v)| self.string_value(v))
                .map(|(text, _)| text)
        };
        let names = spec
            .and_then(|s| self.value_of(s, "names"))
            .and_then(|(_, v)| v);
        let (Some(plural), Some(group)) = (text_at(names, "plural"), text_at(spec, "group")) else {
            return;
        };
        if name != format!("{plural}.{group}") {
            self.error(
                range,
                codes::INVALID,
                metadata::invalid(&name, "must be spec.names.plural+\".\"+spec.group"),
            );
        }
    }

    /// `spec.selector` must select `spec.template.metadata.labels` (the apiserver's
    /// "selector does not match template labels"). ReplicationController's selector is a plain map.
    fn template_selector<N: YamlNode>(&mut self, object: N, plain_map: bool) {
        let Some((_, Some(spec))) = self.value_of(object, "spec") else {
            return;
        };
        let Some((_, Some(selector))) = self.value_of(spec, "selector") else {
            return;
        };
        let Some((template_key, Some(template))) = self.value_of(spec, "template") else {
            return;
        };
        let (match_labels, expressions) = if plain_map {
            (self.string_map(Some(selector)), Vec::new())
        } else {
            let labels = self.value_of(selector, "matchLabels").and_then(|(_, v)| v);
            let Some(expressions) = self.expressions(selector) else {
                return;
            };
            (self.string_map(labels), expressions)
        };
        let Some(match_labels) = match_labels else {
            return;
        };
        if match_labels.is_empty() && expressions.is_empty() {
            return;
        }
        let metadata = self.value_of(template, "metadata").and_then(|(_, v)| v);
        let labels_entry = metadata.and_then(|m| self.value_of(m, "labels"));
        let labels = match labels_entry {
            Some((_, value)) => self.string_map(value),
            None => Some(Default::default()),
        };
        let Some(labels) = labels else { return };
        if !core_rules::selects(&match_labels, &expressions, &labels) {
            let at = labels_entry.map_or_else(|| key_range(template_key), |(k, _)| key_range(k));
            self.error(at, codes::INVALID, core_rules::selector_mismatch(&labels));
        }
    }

    /// A mapping of plain strings (None when it holds anything else: no guessing).
    fn string_map<N: YamlNode>(
        &self,
        node: Option<N>,
    ) -> Option<std::collections::BTreeMap<String, String>> {
        let Some(node) = node else {
            return Some(Default::default());
        };
        match node.shape() {
            NodeShape::Empty => return Some(Default::default()),
            NodeShape::Mapping => {}
            _ => return None,
        }
        node.pairs()
            .into_iter()
            .map(|pair| {
                let key = pair.key?.text()?.into_owned();
                let value = match pair.value {
                    None => String::new(),
                    Some(value) => match self.resolve(value)? {
                        Resolved::String(text) => text,
                        _ => return None,
                    },
                };
                Some((key, value))
            })
            .collect()
    }

    /// `matchExpressions` as (key, operator, values); None when any entry is not plain.
    fn expressions<N: YamlNode>(&self, selector: N) -> Option<Vec<(String, String, Vec<String>)>> {
        let Some((_, Some(list))) = self.value_of(selector, "matchExpressions") else {
            return Some(Vec::new());
        };
        list.items()
            .into_iter()
            .map(|item| {
                let item = item?;
                let text = |name| {
                    self.value_of(item, name)
                        .and_then(|(_, v)| v)
                        .and_then(|v| v.text())
                        .map(Cow::into_owned)
                };
                let values = match self.value_of(item, "values").and_then(|(_, v)| v) {
                    Some(values) => values
                        .items()
                        .into_iter()
                        .map(|v| Some(v?.text()?.into_owned()))
                        .collect::<Option<Vec<_>>>()?,
                    None => Vec::new(),
                };
                Some((text("key")?, text("operator")?, values))
            })
            .collect()
    }
}

fn json_of_scalar(value: Resolved) -> Value {
    match value {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::from(i),
        Resolved::UInt(u) => Value::from(u),
        Resolved::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
        Resolved::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Resolved::String(s) => Value::String(s),
    }
}

/// The schema of key `name`'s value in a mapping of `schema`: `None` for an unknown field,
/// `Some(None)` when any value goes.
fn value_schema<'s>(schema: SchemaNode<'s>, name: &str) -> Option<Option<SchemaNode<'s>>> {
    match (schema.property(name), schema.additional()) {
        (Some(property), _) => Some(Some(property)),
        (None, additional) => additional,
    }
}

fn value_range<N: YamlNode>(node: N) -> Range<usize> {
    node.range()
}

/// The range of a list item's first key, where its missing fields are reported.
fn first_key_range<N: YamlNode>(item: N) -> Option<Range<usize>> {
    if item.shape() != NodeShape::Mapping {
        return None;
    }
    item.pairs().first()?.key.map(key_range)
}

fn item_anchor<N: YamlNode>(item: N) -> Range<usize> {
    let start = item.start();
    start..start + 1
}

fn expected(schema: SchemaNode<'_>) -> String {
    match schema.kind() {
        ValueKind::Object if schema.has_properties() => {
            format!("an object ({})", schema.type_label())
        }
        ValueKind::Object => "a mapping".to_string(),
        ValueKind::Array => format!("a list ({})", schema.type_label()),
        _ => schema.type_label(),
    }
}

fn describe(value: &Resolved) -> String {
    match value {
        Resolved::Null => "null".to_string(),
        Resolved::Bool(b) => format!("boolean `{b}`"),
        Resolved::Int(i) => format!("integer `{i}`"),
        Resolved::UInt(u) => format!("integer `{u}`"),
        Resolved::Float(f) => format!("number `{f}`"),
        Resolved::String(s) => {
            let short: String = s.chars().take(40).collect();
            format!("string `{short}`")
        }
    }
}

/// Whether `text` parses as a `resource.Quantity` (k8s.io/apimachinery's ParseQuantity).
pub fn is_quantity(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut pos = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        pos += 1;
    }
    let mut digits = 0;
    let mut dots = 0;
    while pos < bytes.len() {
        match bytes[pos] {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => break,
        }
        pos += 1;
    }
    if digits == 0 || dots > 1 {
        return false;
    }
    let suffix = &text[pos..];
    match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T"
        | "P" | "E" => true,
        _ => {
            let Some(exponent) = suffix.strip_prefix(['e', 'E']) else {
                return false;
            };
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

/// The closest candidate to `name`: same letters in another case, or a small edit distance.
pub fn did_you_mean<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let lower = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .filter_map(|c| {
            let distance = if c.to_ascii_lowercase() == lower {
                0
            } else {
                levenshtein(&lower, &c.to_ascii_lowercase())
            };
            (distance <= limit).then_some((distance, c))
        })
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ropey::Rope;

    /// Validates `text` on both trees; they must agree.
    fn check(text: &str) -> Vec<(String, Code, String)> {
        let catalog = Catalog::builtin();
        let found = on_both_trees(&catalog, text);
        found
            .into_iter()
            .map(|d| (text[d.range.clone()].to_string(), d.code, d.message))
            .collect()
    }

    /// The diagnostics of one document from its tree-sitter tree, checked to equal those from
    /// its span tree.
    fn on_both_trees(catalog: &Catalog, text: &str) -> Vec<Diagnostic> {
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let found = validate_document(catalog, &tree, text);
        if let Some(spans) = crate::yaml::lint::check(text).tree {
            let on_spans = validate_spans(catalog, &spans).diagnostics;
            assert_eq!(found, on_spans, "span tree vs tree-sitter on:\n{text}");
        }
        found
    }

    #[test]
    fn both_trees_give_the_same_diagnostics_on_the_corpus() {
        let catalog = Catalog::builtin();
        let documents = crate::yaml::split::corpus_documents();
        for (_, doc) in &documents {
            on_both_trees(&catalog, doc);
        }
        let documents = documents.len();
        assert!(documents > 100, "compared {documents} documents");
    }

    fn codes_at(text: &str) -> Vec<(String, Code)> {
        check(text).into_iter().map(|(t, c, _)| (t, c)).collect()
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 80\n    resources:\n      limits:\n        cpu: 500m\n        memory: 128Mi\n";

    #[test]
    fn the_fix_for_a_removed_api_version_says_how_the_object_fits_there() {
        let title = |text: &str| {
            let found = on_both_trees(&Catalog::builtin(), text);
            assert_eq!(found.len(), 1, "{found:?}");
            found[0].fix.as_ref().map(|f| f.title.clone())
        };
        let old_style = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        backend:\n          serviceName: web\n          servicePort: 80\n";
        assert_eq!(
            title(old_style).as_deref(),
            Some(
                "Use apiVersion networking.k8s.io/v1 for Ingress (then fix 3 fields its schema there does not accept)"
            )
        );
        let fits = "apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n  name: web\nspec:\n  ingressClassName: nginx\n";
        assert_eq!(
            title(fits).as_deref(),
            Some(
                "Use apiVersion networking.k8s.io/v1 for Ingress (its schema there fits this object as is)"
            )
        );
        let nowhere = "apiVersion: example.com/v1\nkind: Nothing\nmetadata:\n  name: x\n";
        assert_eq!(title(nowhere), None);
    }

    #[test]
    fn a_valid_pod_is_clean() {
        assert_eq!(check(POD), []);
    }

    #[test]
    fn unknown_fields_are_reported_on_the_key_with_a_suggestion() {
        let text = POD.replace("    image: nginx", "    imagee: nginx");
        let found = check(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].0, "name",
            "the missing image is reported at the item"
        );
        assert_eq!(found[0].1, codes::REQUIRED);
        assert_eq!(found[1].0, "imagee");
        assert_eq!(found[1].1, codes::UNKNOWN_FIELD);
        assert!(
            found[1].2.contains("did you mean `image`?"),
            "{}",
            found[1].2
        );
    }

    #[test]
    fn types_follow_kubectl_scalar_resolution() {
        let text = POD
            .replace("containerPort: 80", "containerPort: \"80\"")
            .replace("app: web", "app: yes");
        assert_eq!(
            codes_at(&text),
            [
                ("yes".to_string(), codes::TYPE),
                ("\"80\"".to_string(), codes::TYPE)
            ]
        );
        // `1.0` is the integer 1 once it is JSON; `null` is accepted anywhere.
        let text = POD
            .replace("containerPort: 80", "containerPort: 80.0")
            .replace(
                "  name: web\n  labels",
                "  name: web\n  creationTimestamp: null\n  labels",
            );
        assert_eq!(check(&text), []);
    }

    #[test]
    fn shapes_are_checked() {
        let text = POD.replace("  labels:\n    app: web\n", "  labels: [a]\n");
        assert_eq!(codes_at(&text), [("[a]".to_string(), codes::TYPE)]);
        let text = POD.replace(
            "  - name: web\n    image: nginx\n",
            "  - name:\n      x: 1\n    image: nginx\n",
        );
        assert_eq!(codes_at(&text), [("x: 1".to_string(), codes::TYPE)]);
    }

    #[test]
    fn required_fields() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  selector:\n    matchLabels: {a: b}\n  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers:\n      - image: nginx\n";
        assert_eq!(codes_at(text), [("image".to_string(), codes::REQUIRED)]);
        assert!(check(text)[0].2.contains("`name`"));
    }

    #[test]
    fn enums_int_or_string_and_quantities() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  type: ClusterIp\n  ports:\n  - port: 80\n    targetPort: http\n  - port: 81\n    targetPort: 8081\n  - port: 82\n    targetPort: true\n";
        assert_eq!(
            codes_at(text),
            [
                ("ClusterIp".to_string(), codes::ENUM),
                ("true".to_string(), codes::TYPE)
            ]
        );
        let text = POD
            .replace("cpu: 500m", "cpu: 500x")
            .replace("memory: 128Mi", "memory: 1.5e3");
        assert_eq!(codes_at(&text), [("500x".to_string(), codes::FORMAT)]);
        for good in [
            "1", "0.5", ".5", "5.", "500m", "1Ki", "2e3", "1E-2", "+1", "-1",
        ] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "m", "1K", "1.2.3", "1e", "1ki", "abc"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_kinds_get_one_warning_and_nothing_else() {
        let found = check("apiVersion: example.com/v1\nkind: Foo\nspec:\n  anything: 1\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "Foo");
        assert_eq!(
            found[0].2,
            "Foo (example.com/v1) is not in built-in Kubernetes 1.37"
        );
        let found = check("apiVersion: extensions/v1beta1\nkind: Deployment\n");
        assert!(
            found[0].2.ends_with("Deployment is served as apps/v1"),
            "{}",
            found[0].2
        );
    }

    #[test]
    fn documents_that_are_not_objects_are_not_validated() {
        assert_eq!(check("key: value\n"), []);
        assert_eq!(check("- a\n- b\n"), []);
        assert_eq!(
            check(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"
            ),
            []
        );
        assert_eq!(codes_at("kind:\n"), [("kind".to_string(), codes::REQUIRED)]);
        assert_eq!(
            codes_at("kind: Pod\nmetadata: {}\n"),
            [("kind".to_string(), codes::REQUIRED)]
        );
    }

    #[test]
    fn list_items_are_validated_each() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  dta: {}\n- apiVersion: v1\n  kind: Nope\n";
        assert_eq!(
            codes_at(text),
            [
                ("dta".to_string(), codes::UNKNOWN_FIELD),
                ("Nope".to_string(), codes::UNKNOWN_KIND)
            ]
        );
    }

    #[test]
    fn tags_anchors_and_merge_keys() {
        let text = POD.replace("containerPort: 80", "containerPort: !!int \"80\"");
        assert_eq!(check(&text), []);
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: a\ndata:\n  <<: {x: y}\n  k: !!str 1\n";
        assert_eq!(check(text), []);
    }

    #[test]
    fn crds_validate_against_json_schema_props() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: foos.example.com\nspec:\n  group: example.com\n  names: {plural: foos, kind: Foo}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n        properties:\n          spec:\n            type: object\n            default: {a: 1}\n            typo: 1\n";
        assert_eq!(codes_at(text), [("typo".to_string(), codes::UNKNOWN_FIELD)]);
    }
    #[test]
    fn metadata_rules_by_kind() {
        let found = codes_at(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n",
        );
        assert_eq!(found, [("1web".to_string(), codes::INVALID)]);
        let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:Reader\n";
        assert_eq!(check(role), []);
        let generated = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: pi-\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: pi, image: perl}]\n";
        assert_eq!(check(generated), []);
        // Create-only kinds (reviews) need no name.
        let review = "apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes: {verb: get, resource: pods}\n";
        assert_eq!(check(review), []);
        let found = codes_at(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: Team_A\n  labels:\n    -bad: ok\n  annotations:\n    example.com/a/b: x\n",
        );
        assert_eq!(
            found,
            [
                ("Team_A".to_string(), codes::INVALID),
                ("-bad".to_string(), codes::INVALID),
                ("example.com/a/b".to_string(), codes::INVALID)
            ]
        );
        // Labels of a template are checked too; its name is not required.
        let text = POD.replace("kind: Pod", "kind: PodTemplate").replace("spec:\n  containers", "template:\n  metadata:\n    labels: {app: -x}\n  spec:\n    containers").replace("\n  - name: web\n    image: nginx\n    ports:\n    - containerPort: 80\n    resources:\n      limits:\n        cpu: 500m\n        memory: 128Mi\n", "\n    - {name: web, image: nginx}\n");
        assert_eq!(codes_at(&text), [("-x".to_string(), codes::INVALID)]);
        let big = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n    a: {}\n",
            "x".repeat(300 * 1024)
        );
        assert_eq!(
            codes_at(&big),
            [("annotations".to_string(), codes::INVALID)]
        );
    }

    #[test]
    fn list_keys_are_unique() {
        let text = POD.replace("    - containerPort: 80\n", "    - containerPort: 80\n    - containerPort: 80\n      protocol: TCP\n    - {containerPort: 80, protocol: UDP}\n");
        let found = check(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1),
            ("containerPort", codes::DUPLICATE)
        );
        assert_eq!(
            found[0].2,
            "Duplicate value: {\"containerPort\":80,\"protocol\":\"TCP\"}"
        );
        // `set` lists (here a CRD's): scalar items unique.
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: tags.example.com}\nspec:\n  group: example.com\n  names: {kind: Tagged, plural: tags}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          tags: {type: array, x-kubernetes-list-type: set, items: {type: string}}\n";
        let store = crate::schema::crd::store_from_text("CRD in test", crd).unwrap();
        let catalog = Catalog::with_builtin([std::sync::Arc::new(store)]);
        let text =
            "apiVersion: example.com/v1\nkind: Tagged\nmetadata: {name: t}\ntags: [a, b, a]\n";
        let tree = syntax::parse(&Rope::from_str(text), 0..text.len(), None);
        let found = validate_document(&catalog, &tree, text);
        assert_eq!(found.len(), 1, "{found:?}");
        let last_a = text.rfind("a]").unwrap();
        assert_eq!(
            (found[0].range.clone(), found[0].code),
            (last_a..last_a + 1, codes::DUPLICATE)
        );
        assert_eq!(found[0].message, "Duplicate value: \"a\"");
    }

    #[test]
    fn core_type_rules() {
        let text = POD.replace("  - name: web\n", "  - name: Web_1\n").replace(
            "    - containerPort: 80\n",
            "    - containerPort: 80\n      name: metrics-endpoint-1\n",
        );
        assert_eq!(
            codes_at(&text),
            [
                ("Web_1".to_string(), codes::INVALID),
                ("metrics-endpoint-1".to_string(), codes::INVALID)
            ]
        );
        let empty = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n";
        assert_eq!(
            codes_at(empty),
            [("containers".to_string(), codes::REQUIRED)]
        );
        let secret = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  good: aGVsbG8=\n  bad: hello!\n  a/b: eA==\n";
        let found = check(secret);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1), ("hello!", codes::FORMAT));
        assert!(found[0].2.ends_with("illegal base64 data at input byte 5"));
        assert_eq!((found[1].0.as_str(), found[1].1), ("a/b", codes::INVALID));
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector:\n    matchLabels: {app: web}\n    matchExpressions: [{key: tier, operator: In, values: [fe]}]\n  template:\n    metadata:\n      labels: {app: web, tier: be}\n    spec:\n      containers: [{name: w, image: nginx}]\n";
        let found = check(deployment);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "labels");
        assert!(
            found[0]
                .2
                .ends_with("`selector` does not match template `labels`")
        );
        assert_eq!(check(&deployment.replace("tier: be", "tier: fe")), []);
        let port = POD.replace("containerPort: 80", "containerPort: 99999999999");
        assert_eq!(codes_at(&port), [("99999999999".to_string(), codes::TYPE)]);
        let timestamp = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  creationTimestamp: yesterday\n";
        assert_eq!(
            codes_at(timestamp),
            [("yesterday".to_string(), codes::FORMAT)]
        );
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widget.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n";
        assert_eq!(
            codes_at(crd),
            [("widget.example.com".to_string(), codes::INVALID)]
        );
        assert_eq!(check(&crd.replace("widget.", "widgets.")), []);
    }
    #[test]
    fn controllers_restart_policies_and_service_ports() {
        let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n";
        let found = check(job);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].0.as_str(), found[0].1), ("spec", codes::REQUIRED));
        assert!(
            found[0].2.contains("\"OnFailure\", \"Never\""),
            "{}",
            found[0].2
        );
        let always = job.replace(
            "    spec:\n      containers",
            "    spec:\n      restartPolicy: Always\n      containers",
        );
        assert_eq!(codes_at(&always), [("Always".to_string(), codes::INVALID)]);
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: nginx}]\n";
        assert_eq!(
            codes_at(deployment),
            [("Never".to_string(), codes::INVALID)]
        );
        let service =
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {a: b}\n";
        assert_eq!(codes_at(service), [("spec".to_string(), codes::REQUIRED)]);
        assert_eq!(check(&format!("{service}  clusterIP: None\n")), []);
        let external =
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: ExternalName\n";
        assert_eq!(codes_at(external), [("spec".to_string(), codes::REQUIRED)]);
        assert_eq!(
            check(&format!("{external}  externalName: db.example.com\n")),
            []
        );
    }
}
