//! The checks the apiserver applies to a CRD's own schemas that matter before anything else
//! (apiextensions' structural-schema validation): `type` is one of the JSON types, arrays have
//! `items`, and `$ref` is not allowed. Walked on the syntax tree so each error sits on its key or
//! value.

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::schema::crd::MAX_SCHEMA_DEPTH;
use crate::yaml::node::{YamlNode, item_holding, pair_holding};
use crate::yaml::syntax::NodeShape;

const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

/// The structural errors of a CRD document (its root mapping).
pub fn check<N: YamlNode>(root: N, max_depth: usize) -> Vec<Diagnostic> {
    let mut walker = Walker {
        max_depth,
        out: Vec::new(),
    };
    let spec = walker.value(root, "spec");
    if let Some(spec) = spec {
        if let Some(schema) = walker
            .value(spec, "validation")
            .and_then(|v| walker.value(v, "openAPIV3Schema"))
        {
            walker.schema(schema, 0);
        }
        for version in walker
            .value(spec, "versions")
            .map(YamlNode::items)
            .unwrap_or_default()
            .into_iter()
            .flatten()
        {
            if let Some(schema) = walker
                .value(version, "schema")
                .and_then(|s| walker.value(s, "openAPIV3Schema"))
            {
                walker.schema(schema, 0);
            }
        }
    }
    walker.out
}

/// A schema node bigger than this (and than a sixteenth of its document, whose whole validation
/// costs a saphyr check and walk of all of it) is not re-checked on its own after an edit (see
/// `check_around`).
const AROUND_LIMIT: usize = 48 * 1024;

/// The structural checks an edit inside `changed` can affect, redone: those of the innermost
/// schema node that holds it (with its subtree), or none when the edit is in text the checks do
/// not read (a `description`, a field of `spec` outside the schemas). Returns the region whose
/// old diagnostics are replaced (empty: none) and the new ones; `None` when the edit touches
/// the way to the schemas or a big node: then the whole document is checked again.
pub fn check_around<N: YamlNode>(
    root: N,
    changed: &Range<usize>,
    max_depth: usize,
) -> Option<(Range<usize>, Vec<Diagnostic>)> {
    let unread = Some((0..0, Vec::new()));
    let (name, _, spec) = pair_holding(root, changed)?;
    if name != "spec" {
        return unread;
    }
    let (name, _, holder) = pair_holding(spec, changed)?;
    let schema_holder = match name.as_str() {
        "validation" => holder,
        "versions" => {
            let version = item_holding(holder, changed)?;
            let (name, _, schema) = pair_holding(version, changed)?;
            if name != "schema" {
                return unread;
            }
            schema
        }
        _ => return unread,
    };
    let (name, _, schema) = pair_holding(schema_holder, changed)?;
    if name != "openAPIV3Schema" {
        return unread;
    }
    let mut walker = Walker {
        max_depth,
        out: Vec::new(),
    };
    let (mut node, mut depth) = (schema, 0);
    loop {
        match walker.step_towards(node, depth, changed) {
            Step::Into(child, child_depth) => (node, depth) = (child, child_depth),
            Step::Unread => return unread,
            Step::Here => break,
        }
    }
    let region = node.start()..node.range().end;
    if region.len() > AROUND_LIMIT.max(root.range().len() / 16) {
        return None;
    }
    walker.schema(node, depth);
    Some((region, walker.out))
}

/// Where the change lies, seen from a schema node.
enum Step<N> {
    /// Inside a child schema, at that depth.
    Into(N, usize),
    /// In text this node's checks do not read.
    Unread,
    /// In what this node's own checks read: redo them here.
    Here,
}

struct Walker {
    max_depth: usize,
    out: Vec<Diagnostic>,
}

fn range<N: YamlNode>(node: N) -> Range<usize> {
    node.range()
}

impl Walker {
    fn entry<N: YamlNode>(&self, mapping: N, key: &str) -> Option<(N, Option<N>)> {
        if mapping.shape() != NodeShape::Mapping {
            return None;
        }
        mapping.pairs().into_iter().find_map(|pair| {
            let k = pair.key?;
            (k.text().as_deref() == Some(key)).then_some((k, pair.value))
        })
    }

    fn value<N: YamlNode>(&self, mapping: N, key: &str) -> Option<N> {
        self.entry(mapping, key)?.1
    }

    /// Where `changed` lies below the schema node `node`.
    fn step_towards<N: YamlNode>(&self, node: N, depth: usize, changed: &Range<usize>) -> Step<N> {
        let at_limit = depth + 2 > MAX_SCHEMA_DEPTH.min(self.max_depth);
        if node.shape() != NodeShape::Mapping || at_limit {
            return Step::Here;
        }
        let Some((name, _, value)) = pair_holding(node, changed) else {
            return Step::Here;
        };
        let child = match name.as_str() {
            "properties" | "patternProperties" | "definitions" => {
                pair_holding(value, changed).map(|(_, _, child)| (child, depth + 2))
            }
            "items" | "additionalProperties" | "not" if value.shape() != NodeShape::Sequence => {
                Some((value, depth + 1))
            }
            "items" | "additionalProperties" | "not" | "allOf" | "anyOf" | "oneOf" => {
                item_holding(value, changed).map(|child| (child, depth + 2))
            }
            "type" | "$ref" => None,
            _ => return Step::Unread,
        };
        match child {
            Some((child, depth)) => Step::Into(child, depth),
            None => Step::Here,
        }
    }

    /// Checks one schema node; `depth` counts JSON levels below `openAPIV3Schema`, as the
    /// conversion to a catalog layer (`crd::MAX_SCHEMA_DEPTH`) does.
    fn schema<N: YamlNode>(&mut self, node: N, depth: usize) {
        if node.shape() != NodeShape::Mapping {
            return;
        }
        if depth + 2 > MAX_SCHEMA_DEPTH.min(self.max_depth) {
            self.out.push(Diagnostic {
                range: node.start()..node.start() + 1,
                severity: Severity::Warning,
                code: codes::CRD,
                message: format!(
                    "openAPIV3Schema nests deeper than {MAX_SCHEMA_DEPTH} levels: kube-lsp does not read this schema, its custom resources are not validated"
                ),
                fix: None,
            });
            return;
        }
        let keys = SchemaKeys::of(node);
        let ty = keys.type_value.filter(|v| v.shape() == NodeShape::Scalar);
        let type_text = ty.and_then(|v| v.text());
        if let (Some(value), Some(text)) = (ty, &type_text)
            && !text.is_empty()
            && !TYPES.contains(&text.as_ref())
        {
            let supported: Vec<String> = TYPES.iter().map(|t| format!("\"{t}\"")).collect();
            self.out.push(Diagnostic::error(
                range(value),
                codes::CRD,
                format!(
                    "Unsupported value: \"{text}\": supported values: {}",
                    supported.join(", ")
                ),
            ));
        }
        if let Some(key) = keys.reference {
            self.out.push(Diagnostic::error(
                range(key),
                codes::CRD,
                "Forbidden: $ref is not supported in CRD schemas".to_string(),
            ));
        }
        if type_text.as_deref() == Some("array")
            && !keys.has_items
            && let Some(key) = keys.type_key
        {
            self.out.push(Diagnostic::error(
                range(key),
                codes::CRD,
                "Required value: items must be specified for type: array".to_string(),
            ));
        }
        for properties in keys.maps.into_iter().flatten() {
            for pair in properties.pairs() {
                if let Some(child) = pair.value {
                    self.schema(child, depth + 2);
                }
            }
        }
        for single in keys.singles.into_iter().flatten() {
            if single.shape() == NodeShape::Sequence {
                for item in single.items().into_iter().flatten() {
                    self.schema(item, depth + 2);
                }
            } else {
                self.schema(single, depth + 1);
            }
        }
        for list in keys.lists.into_iter().flatten() {
            for item in list.items().into_iter().flatten() {
                self.schema(item, depth + 2);
            }
        }
    }
}

/// What the structural checks read of one schema node, found in one pass over its pairs (the
/// first of duplicate keys counts, as everywhere): a big CRD has tens of thousands of schema
/// nodes, and looking each key up on its own would take a pass and an allocation per key.
struct SchemaKeys<N> {
    type_key: Option<N>,
    type_value: Option<N>,
    reference: Option<N>,
    has_items: bool,
    /// `properties`, `patternProperties`, `definitions`: maps of child schemas.
    maps: [Option<N>; 3],
    /// `items`, `additionalProperties`, `not`: a child schema (or a list of them).
    singles: [Option<N>; 3],
    /// `allOf`, `anyOf`, `oneOf`: lists of child schemas.
    lists: [Option<N>; 3],
}

impl<N: YamlNode> SchemaKeys<N> {
    fn of(node: N) -> Self {
        let mut keys = SchemaKeys {
            type_key: None,
            type_value: None,
            reference: None,
            has_items: false,
            maps: [None; 3],
            singles: [None; 3],
            lists: [None; 3],
        };
        // Bit `slot` set: that key was met (the first of duplicates counts).
        let mut seen = 0u16;
        for pair in node.pairs() {
            let Some(key) = pair.key else { continue };
            let Some(name) = key.text() else { continue };
            let slot = match name.as_ref() {
                "type" => 0,
                "$ref" => 1,
                "properties" => 2,
                "patternProperties" => 3,
                "definitions" => 4,
                "items" => 5,
                "additionalProperties" => 6,
                "not" => 7,
                "allOf" => 8,
                "anyOf" => 9,
                "oneOf" => 10,
                _ => continue,
            };
            if seen & (1 << slot) != 0 {
                continue;
            }
            seen |= 1 << slot;
            let value = pair.value;
            match slot {
                0 => (keys.type_key, keys.type_value) = (Some(key), value),
                1 => keys.reference = Some(key),
                2..=4 => keys.maps[slot - 2] = value,
                5..=7 => {
                    keys.has_items |= slot == 5;
                    keys.singles[slot - 5] = value;
                }
                _ => keys.lists[slot - 8] = value,
            }
        }
        keys
    }
}
