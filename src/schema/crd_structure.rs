//! The checks the apiserver applies to a CRD's own schemas that matter before anything else
//! (apiextensions' structural-schema validation): `type` is one of the JSON types, arrays have
//! `items`, and `$ref` is not allowed. Walked on the syntax tree so each error sits on its key or
//! value.

use std::ops::Range;

use super::crd::MAX_SCHEMA_DEPTH;
use super::validate::codes;
use crate::yaml::lint::{Diagnostic, Severity};
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

/// A schema node bigger than this is not re-checked on its own after an edit (see `check_around`).
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
    if region.len() > AROUND_LIMIT {
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
        let ty = self
            .value(node, "type")
            .filter(|v| v.shape() == NodeShape::Scalar);
        let type_text = ty.and_then(|v| v.text());
        if let (Some(value), Some(text)) = (ty, &type_text)
            && !text.is_empty()
            && !TYPES.contains(&text.as_str())
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
        if let Some((key, _)) = self.entry(node, "$ref") {
            self.out.push(Diagnostic::error(
                range(key),
                codes::CRD,
                "Forbidden: $ref is not supported in CRD schemas".to_string(),
            ));
        }
        if type_text.as_deref() == Some("array") && self.entry(node, "items").is_none() {
            let key = self.entry(node, "type").map(|(k, _)| range(k));
            if let Some(at) = key {
                self.out.push(Diagnostic::error(
                    at,
                    codes::CRD,
                    "Required value: items must be specified for type: array".to_string(),
                ));
            }
        }
        for map_key in ["properties", "patternProperties", "definitions"] {
            if let Some(properties) = self.value(node, map_key) {
                for pair in properties.pairs() {
                    if let Some(child) = pair.value {
                        self.schema(child, depth + 2);
                    }
                }
            }
        }
        for single in ["items", "additionalProperties", "not"] {
            match self.value(node, single) {
                Some(child) if child.shape() == NodeShape::Sequence => {
                    for item in child.items().into_iter().flatten() {
                        self.schema(item, depth + 2);
                    }
                }
                Some(child) => self.schema(child, depth + 1),
                None => {}
            }
        }
        for list in ["allOf", "anyOf", "oneOf"] {
            for item in self
                .value(node, list)
                .map(YamlNode::items)
                .unwrap_or_default()
                .into_iter()
                .flatten()
            {
                self.schema(item, depth + 2);
            }
        }
    }
}
