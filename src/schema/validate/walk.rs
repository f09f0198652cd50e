//! The generic walk: a document's objects (the document, or the items of a List) checked against
//! their kind's schema, value by value, with the apiserver's reading of YAML (go-yaml v2 scalar
//! resolution, `null` accepted anywhere, strict unknown fields).

use std::borrow::Cow;
use std::ops::Range;

use super::{
    MAX_DEPTH, Origin, Role, crd_structure, is_tool_config, metadata, required, suggest, values,
};
use crate::diagnostic::{Code, Diagnostic, Severity, codes};
use crate::schema::catalog::Catalog;
use crate::schema::crd;
use crate::schema::openapi::{SchemaNode, ValueKind};
use crate::schema::store::ResourceInfo;
use crate::yaml::manifest::type_meta;
use crate::yaml::node::YamlNode;
use crate::yaml::scalar::{self, Resolved, ScalarStyle};
use crate::yaml::syntax::NodeShape;
use crate::yaml::template::DocumentActions;

/// An object with an unknown kind is tried against the schema of the apiVersion its fix offers
/// only up to this size: the trial walks it whole, and after each edit of the object it runs
/// again on tree-sitter's tree, so it must stay cheap.
const TRIAL_LIMIT: usize = 32 * 1024;

/// The walk's state: what it found so far.
pub(super) struct Validator<'a> {
    pub(super) catalog: &'a Catalog,
    /// Every (apiVersion, kind) looked up in the catalog.
    pub(super) consulted: Vec<(String, String)>,
    pub(super) out: Vec<Diagnostic>,
    /// The origin of each diagnostic in `out` up to its length (see [`Validator::mark`]).
    pub(super) origins: Vec<Origin>,
    /// How the file's documents are read.
    pub(super) role: Role,
    /// Whether the object is read as a strategic-merge patch (its role, or a `$patch`
    /// directive in it): no required fields, no whole-object rules, directive keys allowed.
    pub(super) patch: bool,
    /// A Helm template's actions, when the document is one (its masked text is validated).
    pub(super) template: Option<&'a DocumentActions<'a>>,
}

pub(super) fn key_range<N: YamlNode>(node: N) -> Range<usize> {
    node.range()
}

impl<'a> Validator<'a> {
    pub(super) fn new(catalog: &'a Catalog) -> Self {
        Validator {
            catalog,
            consulted: Vec::new(),
            out: Vec::new(),
            origins: Vec::new(),
            role: Role::Manifest,
            patch: false,
            template: None,
        }
    }

    /// Whether `range` is (part of) a template action: its value is not known before rendering.
    pub(super) fn is_action(&self, range: &Range<usize>) -> bool {
        self.template.is_some_and(|t| t.overlaps(range))
    }

    /// Whether a template action may add keys to `mapping` (a block printed at its keys'
    /// indentation, or a key that is itself an action): its required fields may be there.
    pub(super) fn may_add_keys<N: YamlNode>(&self, mapping: N) -> bool {
        let Some(template) = self.template else {
            return false;
        };
        let range = mapping.range();
        template.may_add_keys(&range, template.column(range.start))
            || mapping
                .pairs()
                .iter()
                .any(|p| p.key.is_some_and(|k| template.overlaps(&k.range())))
    }

    /// Whether the value of the key at `key` is printed by a template action on the lines below.
    pub(super) fn value_from_action(&self, key: &Range<usize>) -> bool {
        self.template
            .is_some_and(|t| t.block_below(key.end, t.column(key.start)))
    }

    /// Tags every diagnostic pushed since the last mark with `origin`.
    pub(super) fn mark(&mut self, origin: Origin) {
        let unmarked = self.out.len() - self.origins.len();
        self.origins.extend(std::iter::repeat_n(origin, unmarked));
    }
}

impl Validator<'_> {
    pub(super) fn error(&mut self, range: Range<usize>, code: Code, message: String) {
        self.out.push(Diagnostic::error(range, code, message));
    }

    /// A Kubernetes object (a document, or an item of a List).
    pub(super) fn object<N: YamlNode>(&mut self, node: N, depth: usize) {
        self.mark(Origin::Walk);
        if node.shape() != NodeShape::Mapping || depth > MAX_DEPTH {
            return;
        }
        let mut meta = type_meta(node);
        if self.role == Role::Kustomization && depth == 0 {
            kustomization_type(&mut meta, node);
        }
        if depth == 0 {
            self.patch = self.role == Role::Patch || has_patch_directive(node);
        }
        let (api_version, kind) = match (&meta.api_version, &meta.kind) {
            (None, None) if meta.api_version_key.is_none() && meta.kind_key.is_none() => return,
            // Other YAML with an `apiVersion` of its own (Helm's Chart.yaml): not an object.
            _ if depth == 0 && self.role == Role::Manifest && !meta.reads_as_object() => return,
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
        let ((mut api_version, api_version_range), (kind, kind_range)) = (api_version, kind);
        if self.is_action(&kind_range) {
            // The kind comes from the chart's values or helpers: known once rendered.
            return;
        }
        if self.is_action(&api_version_range) {
            // `apiVersion: {{ include "capabilities.deployment.apiVersion" . }}`: the version
            // the schema serves the kind as.
            match self.catalog.api_versions_of_kind(&kind).into_iter().next() {
                Some(served) => api_version = served,
                None => return,
            }
        }
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
        // Kustomization files are read by kustomize, not the apiserver: no object rules.
        if self.patch || crate::schema::kustomize::is_kustomize_group(&api_version) {
            return;
        }
        self.object_checks(node, found.resource, kind_range);
        if crd::is_crd(&api_version, &kind) {
            self.out.extend(crd_structure::check(node, MAX_DEPTH));
            self.mark(Origin::Structure);
        }
    }

    /// The rules about a whole object (origin [`Origin::Object`]).
    pub(super) fn object_checks<N: YamlNode>(
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
    pub(super) fn list_items<N: YamlNode>(
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
    pub(super) fn unknown_kind<N: YamlNode>(
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
        trial.template = self.template;
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
    pub(super) fn check<N: YamlNode>(
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
            Some(metadata::OBJECT_META) => self.labels_and_annotations(node),
            Some(name) => self.core_type_rules(node, name),
            None => {}
        }
        if self.patch {
            return;
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
        if merged || self.may_add_keys(node) {
            return;
        }
        // The schema's required fields, and a container's image (the apiserver requires it).
        let missing: Vec<&str> = required::required_fields(schema)
            .into_iter()
            .filter(|r| !seen.iter().any(|key| key == r))
            .collect();
        // One fix adds them all; each of their diagnostics carries it.
        let fix = required::fix(node, schema, &missing);
        for field in missing {
            let label = schema.type_label();
            let message = format!("missing required field `{field}` in {label}");
            let mut diagnostic = Diagnostic::error(anchor.clone(), codes::REQUIRED, message);
            diagnostic.fix = fix.clone().map(Box::new);
            self.out.push(diagnostic);
        }
    }

    /// One pair of a mapping whose schema is `schema`: an unknown key, or its value checked.
    pub(super) fn pair<N: YamlNode>(
        &mut self,
        name: &str,
        key: N,
        value: Option<N>,
        schema: SchemaNode<'_>,
        depth: usize,
    ) {
        let key_range = key_range(key);
        if self.patch && name.starts_with('$') {
            self.patch_directive(name, key_range, value);
            return;
        }
        match (value_schema(schema, name), value) {
            (None, _) if self.is_action(&key_range) => {}
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
        let suggestion = suggest::did_you_mean(name, schema.properties().map(|(n, _)| n));
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
        if self.is_action(&node.range()) {
            return;
        }
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
    pub(super) fn resolve<N: YamlNode>(&self, node: N) -> Option<Resolved> {
        let style = node.style()?;
        let text = node.text()?;
        match node.tag() {
            None if style == ScalarStyle::Plain => Some(scalar::resolve_plain(&text)),
            None => Some(Resolved::String(text.into_owned())),
            Some(tag) => scalar::resolve_scalar(&text, style, Some(&tag)).ok(),
        }
    }

    fn scalar<N: YamlNode>(&mut self, node: N, schema: SchemaNode<'_>, kind: ValueKind) {
        if self.is_action(&node.range()) {
            return;
        }
        let Some(resolved) = self.resolve(node) else {
            return;
        };
        if resolved == Resolved::Null {
            return;
        }
        let ok = values::accepts(&resolved, kind);
        let range = value_range(node);
        if ok && kind == ValueKind::Integer && !values::fits_format(&resolved, schema.format()) {
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
                && let Some(message) = values::format_error(schema, text)
            {
                self.error(
                    range.clone(),
                    codes::FORMAT,
                    metadata::invalid(text, &message),
                );
                return;
            }
            if kind == ValueKind::Quantity && !values::is_quantity(text) {
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

/// Strategic-merge patch directives (`$patch`, `$retainKeys`, `$setElementOrder/<list>`,
/// `$deleteFromPrimitiveList/<list>`): apimachinery's strategicpatch package reads them.
const PATCH_DIRECTIVES: [&str; 4] = [
    "$patch",
    "$retainKeys",
    "$setElementOrder/",
    "$deleteFromPrimitiveList/",
];

/// Whether a key of the object's text is a patch directive (a `$` key is rare in manifests, so
/// this is one byte search in the common case).
fn has_patch_directive<N: YamlNode>(node: N) -> bool {
    let text = node.source_text(node.range());
    let bytes = text.as_bytes();
    memchr::memchr_iter(b'$', bytes).any(|at| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let opens_key = matches!(
            before,
            None | Some(b' ' | b'\t' | b'\n' | b'{' | b',' | b'"' | b'\'')
        );
        let rest = &text[at..];
        opens_key
            && PATCH_DIRECTIVES.iter().any(|directive| {
                rest.starts_with(directive)
                    && (directive.ends_with('/')
                        || rest[directive.len()..]
                            .trim_start_matches(['"', '\''])
                            .starts_with(':'))
            })
    })
}

/// A kustomization's missing apiVersion or kind, as kustomize fills them in (a `Component`
/// kind is v1alpha1, anything else a v1beta1 `Kustomization`).
fn kustomization_type<N: YamlNode>(meta: &mut crate::yaml::manifest::TypeMeta, node: N) {
    use crate::schema::kustomize::{COMPONENT, KUSTOMIZATION};
    let at = node.start()..node.start();
    if meta.kind.is_none() {
        meta.kind = Some((KUSTOMIZATION.1.to_string(), at.clone()));
    }
    if meta.api_version.is_none() {
        let is_component = meta.kind.as_ref().is_some_and(|(k, _)| k == COMPONENT.1);
        let api_version = if is_component {
            COMPONENT.0
        } else {
            KUSTOMIZATION.0
        };
        meta.api_version = Some((api_version.to_string(), at));
    }
}

impl Validator<'_> {
    /// A directive key of a strategic-merge patch: known ones pass (`$patch` takes one of its
    /// three values), others are unknown fields.
    fn patch_directive<N: YamlNode>(&mut self, name: &str, key: Range<usize>, value: Option<N>) {
        let known = PATCH_DIRECTIVES.iter().any(|d| {
            name == *d || (d.ends_with('/') && name.starts_with(d) && name.len() > d.len())
        });
        if !known {
            self.error(
                key,
                codes::UNKNOWN_FIELD,
                format!(
                    "unknown patch directive `{name}`: a strategic-merge patch knows `$patch`, `$retainKeys`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>`"
                ),
            );
            return;
        }
        if name != "$patch" {
            return;
        }
        if let Some((text, range)) = self.string_value(value)
            && !matches!(text.as_str(), "replace" | "merge" | "delete")
        {
            self.error(
                range,
                codes::ENUM,
                format!("unsupported value `{text}`: expected one of `replace`, `merge`, `delete`"),
            );
        }
    }
}

/// Reading a scalar value.
impl Validator<'_> {
    /// A scalar that resolves to a string, with its range.
    pub(super) fn string_value<N: YamlNode>(
        &self,
        node: Option<N>,
    ) -> Option<(String, Range<usize>)> {
        let node = node?;
        match self.resolve(node)? {
            Resolved::String(text) => Some((text, value_range(node))),
            _ => None,
        }
    }
}

/// The schema of key `name`'s value in a mapping of `schema`: `None` for an unknown field,
/// `Some(None)` when any value goes.
pub(super) fn value_schema<'s>(
    schema: SchemaNode<'s>,
    name: &str,
) -> Option<Option<SchemaNode<'s>>> {
    match (schema.property(name), schema.additional()) {
        (Some(property), _) => Some(Some(property)),
        (None, additional) => additional,
    }
}

pub(super) fn value_range<N: YamlNode>(node: N) -> Range<usize> {
    node.range()
}

/// The range of a list item's first key, where its missing fields are reported.
pub(super) fn first_key_range<N: YamlNode>(item: N) -> Option<Range<usize>> {
    if item.shape() != NodeShape::Mapping {
        return None;
    }
    item.pairs().first()?.key.map(key_range)
}

pub(super) fn item_anchor<N: YamlNode>(item: N) -> Range<usize> {
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
