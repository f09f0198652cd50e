//! The checks the apiserver applies to a CRD's own schemas that matter before anything else
//! (apiextensions' structural-schema validation): `type` is one of the JSON types, arrays have
//! `items`, and `$ref` is not allowed. Walked on the syntax tree so each error sits on its key or
//! value.

use std::ops::Range;

use super::crd::MAX_SCHEMA_DEPTH;
use super::validate::codes;
use crate::yaml::lint::{Diagnostic, Severity};
use crate::yaml::node::YamlNode;
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
        if let (Some(value), Some(text)) = (ty, &type_text) {
            if !text.is_empty() && !TYPES.contains(&text.as_str()) {
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
