//! Validation after an edit, redone only where the edit can have changed the answer.
//!
//! A document's validation has three parts ([`Origin`]). After an edit inside `changed`:
//! - the walk is redone for the innermost pair or list item that holds the whole change, as
//!   long as no check above it reads deeper than its own keys (CEL rules, list-map and list-set
//!   uniqueness, the core rules of named types, ObjectMeta's labels);
//! - the rules about the whole object are cheap and read fixed paths: they are redone;
//! - a CRD's structural checks are redone for the innermost schema node holding the change, or
//!   not at all when the change is in text they do not read (a `description`).
//!
//! Every check that is not redone reads only text outside the redone region, so its old
//! diagnostics (moved along with the edit) still hold. `None` means the edit is not local
//! enough (it touches `apiVersion`/`kind`, a key on the way down, or a big region): the caller
//! validates the whole document. A test compares the result with a fresh validation on many
//! edits of the corpus.

use std::ops::Range;

use super::metadata::OBJECT_META;
use super::required::required_fields;
use super::walk::{Validator, first_key_range, item_anchor, value_schema};
use super::{MAX_DEPTH, Origin, Validation, crd_structure, is_tool_config, sorted};
use crate::diagnostic::Diagnostic;
use crate::schema::catalog::Catalog;
use crate::schema::crd;
use crate::schema::openapi::{SchemaNode, ValueKind};
use crate::yaml::manifest::type_meta;
use crate::yaml::node::{YamlNode, item_holding, pair_holding};
use crate::yaml::syntax::NodeShape;

/// A region bigger than this is validated whole instead: walking tree-sitter's tree costs more per
/// node than the span tree, and saphyr's check plus the span-tree walk wins past this size.
const SCOPED_LIMIT: usize = 48 * 1024;

/// Names of schemas whose checks read their children's values (`core_type_rules`, labels).
const READS_CHILDREN: [&str; 6] = [
    OBJECT_META,
    "io.k8s.api.core.v1.Container",
    "io.k8s.api.core.v1.EphemeralContainer",
    "io.k8s.api.core.v1.ContainerPort",
    "io.k8s.api.core.v1.ServicePort",
    "io.k8s.api.core.v1.PodSpec",
];

/// The validation of a document after an edit inside `changed` (offsets of the new text, as are
/// `old`'s, already moved by [`Validation::follow_edit`]), or `None` when the whole document must
/// be validated again.
pub fn revalidate<N: YamlNode>(
    catalog: &Catalog,
    root: N,
    old: &Validation,
    changed: Range<usize>,
) -> Option<Validation> {
    if old.whole_only {
        return None;
    }
    let patches = Validator::new(catalog).object_patches(root, &changed, 0)?;
    let mut tagged: Vec<(Diagnostic, Origin)> = old
        .diagnostics
        .iter()
        .cloned()
        .zip(old.origins.iter().copied())
        .filter(|(d, origin)| !patches.iter().any(|p| p.replaces(d, *origin)))
        .collect();
    for patch in patches {
        tagged.extend(patch.diagnostics.into_iter().map(|d| (d, patch.origin)));
    }
    let (diagnostics, origins) = tagged.into_iter().unzip();
    let (diagnostics, origins) = sorted(diagnostics, origins);
    Some(Validation {
        diagnostics,
        origins,
        kinds: old.kinds.clone(),
        whole_only: false,
    })
}

/// Part of a validation redone: `origin`'s diagnostics inside `region` are replaced.
struct Patch {
    origin: Origin,
    region: Range<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl Patch {
    fn replaces(&self, diagnostic: &Diagnostic, origin: Origin) -> bool {
        origin == self.origin
            && !self.region.is_empty()
            && self.region.start <= diagnostic.range.start
            && diagnostic.range.end <= self.region.end
    }
}

/// Whether `mapping` misses required fields and `key` is its last: the fix that adds them goes
/// after the last line of that pair's value, so an edit there can move or remove it
/// (`required::fix`), and the mapping is checked again rather than the pair.
fn required_fix_may_move<N: YamlNode>(mapping: N, schema: SchemaNode<'_>, key: N) -> bool {
    let pairs = mapping.pairs();
    let is_last = pairs
        .last()
        .and_then(|pair| pair.key)
        .is_some_and(|last| last.range() == key.range());
    is_last
        && required_fields(schema).into_iter().any(|field| {
            !pairs
                .iter()
                .any(|pair| pair.key.and_then(|k| k.text()).as_deref() == Some(field))
        })
}

/// The innermost piece of the walk that holds the change.
enum Unit<'s, N> {
    /// A pair of a mapping whose schema is `schema`, at `depth` (the mapping's).
    Pair {
        name: String,
        key: N,
        value: N,
        schema: SchemaNode<'s>,
        depth: usize,
    },
    /// An item of a list whose items' schema is `schema`, at `depth` (the list's).
    Item {
        item: N,
        schema: SchemaNode<'s>,
        depth: usize,
    },
}

impl<N: YamlNode> Unit<'_, N> {
    /// Whether checking the unit walks its value: not when the value may be anything (as
    /// `items` of a CRD's JSONSchemaProps), which costs nothing however big it is.
    fn walks_below(&self) -> bool {
        let value_schema = match self {
            Unit::Pair { name, schema, .. } => value_schema(*schema, name).flatten(),
            Unit::Item { schema, .. } => Some(*schema),
        };
        value_schema.is_some_and(|s| s.kind() != ValueKind::Any || !s.schema.validations.is_empty())
    }

    fn region(&self) -> Range<usize> {
        match self {
            Unit::Pair { key, value, .. } => key.start()..value.range().end,
            Unit::Item { item, .. } => item.start()..item.range().end,
        }
    }
}

impl Validator<'_> {
    /// What to redo in an object (a document or an item of a List).
    fn object_patches<N: YamlNode>(
        &mut self,
        node: N,
        changed: &Range<usize>,
        depth: usize,
    ) -> Option<Vec<Patch>> {
        if node.shape() != NodeShape::Mapping || depth > MAX_DEPTH {
            return None;
        }
        let (name, _, value) = pair_holding(node, changed)?;
        if matches!(name.as_str(), "apiVersion" | "kind") {
            return None;
        }
        let meta = type_meta(node);
        let (Some((api_version, api_version_range)), Some((kind, kind_range))) =
            (meta.api_version, meta.kind)
        else {
            // Not an object, or half a type: what is reported does not depend on other keys.
            return Some(Vec::new());
        };
        if is_tool_config(&api_version, &kind) {
            return Some(Vec::new());
        }
        if self.list_items(node, &api_version, &kind).is_some() {
            if name != "items" {
                return Some(Vec::new());
            }
            let item = item_holding(value, changed)?;
            return self.object_patches(item, changed, depth + 1);
        }
        let Some(found) = self.catalog.schemas_for(&api_version, &kind) else {
            // Unknown: its warning's fix says how the object fits where the kind is served.
            self.unknown_kind(node, &api_version, api_version_range, &kind, kind_range);
            return Some(vec![self.take_patch(Origin::Object, node.range())]);
        };
        let Some(schema) = found.schemas.kind(&kind) else {
            return Some(Vec::new());
        };
        let mut patches = vec![self.walk_patch(node, schema, changed, depth)?];
        self.object_checks(node, found.resource, kind_range);
        patches.push(self.take_patch(Origin::Object, node.range()));
        if crd::is_crd(&api_version, &kind) {
            let (region, diagnostics) = crd_structure::check_around(node, changed, MAX_DEPTH)?;
            patches.push(Patch {
                origin: Origin::Structure,
                region,
                diagnostics,
            });
        }
        Some(patches)
    }

    /// The diagnostics pushed so far, as a patch of `region`.
    fn take_patch(&mut self, origin: Origin, region: Range<usize>) -> Patch {
        self.origins.clear();
        Patch {
            origin,
            region,
            diagnostics: std::mem::take(&mut self.out),
        }
    }

    /// Redoes the walk of the innermost unit below the object `root` that holds the change.
    fn walk_patch<'s, N: YamlNode>(
        &mut self,
        root: N,
        schema: SchemaNode<'s>,
        changed: &Range<usize>,
        depth: usize,
    ) -> Option<Patch> {
        let mut unit = None;
        let (mut node, mut schema, mut depth) = (root, schema, depth);
        while let Some(inner) = self.unit_holding(node, schema, changed, depth) {
            let next = match &inner {
                Unit::Pair {
                    name,
                    value,
                    schema,
                    ..
                } => value_schema(*schema, name).flatten().map(|s| (*value, s)),
                Unit::Item { item, schema, .. } => Some((*item, *schema)),
            };
            unit = Some(inner);
            let Some((child, child_schema)) = next else {
                break;
            };
            (node, schema, depth) = (child, child_schema, depth + 1);
        }
        let unit = unit?;
        let region = unit.region();
        if region.len() > SCOPED_LIMIT && unit.walks_below() {
            return None;
        }
        match unit {
            Unit::Pair {
                name,
                key,
                value,
                schema,
                depth,
            } => self.pair(&name, key, Some(value), schema, depth),
            Unit::Item {
                item,
                schema,
                depth,
            } => {
                let anchor = first_key_range(item).unwrap_or_else(|| item_anchor(item));
                self.check(item, schema, anchor, depth + 1);
            }
        }
        Some(self.take_patch(Origin::Walk, region))
    }

    /// The pair or item of `node` that holds the change, if the checks of `node` itself do not
    /// depend on what is inside it.
    fn unit_holding<'s, N: YamlNode>(
        &self,
        node: N,
        schema: SchemaNode<'s>,
        changed: &Range<usize>,
        depth: usize,
    ) -> Option<Unit<'s, N>> {
        if depth > MAX_DEPTH || !schema.schema.validations.is_empty() {
            return None;
        }
        match (schema.kind(), node.shape()) {
            (ValueKind::Object, NodeShape::Mapping) => {
                if schema
                    .name
                    .is_some_and(|name| READS_CHILDREN.contains(&name))
                {
                    return None;
                }
                let (name, key, value) = pair_holding(node, changed)?;
                if name == "<<" || required_fix_may_move(node, schema, key) {
                    return None;
                }
                Some(Unit::Pair {
                    name,
                    key,
                    value,
                    schema,
                    depth,
                })
            }
            (ValueKind::Array, NodeShape::Sequence) => {
                if matches!(schema.list_type(), Some("map" | "set")) {
                    return None;
                }
                let items = schema.items()?;
                let item = item_holding(node, changed)?;
                Some(Unit::Item {
                    item,
                    schema: items,
                    depth,
                })
            }
            _ => None,
        }
    }
}
