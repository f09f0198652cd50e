//! Document symbols: one per Kubernetes manifest (`Deployment web`, namespace as detail) with its
//! top-level keys as children; for other YAML, the top-level keys themselves.

use std::ops::Range;

use ropey::Rope;
use tree_sitter::Tree;

use crate::yaml::file::YamlFile;
use crate::yaml::syntax::{self, NodeShape, RopeSource};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    /// A Kubernetes object.
    Object,
    /// A key whose value is a mapping.
    Module,
    /// A key whose value is a sequence.
    Array,
    /// A key with a scalar value.
    Field,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole manifest or pair, in file offsets.
    pub range: Range<usize>,
    /// What to highlight: the name (or kind) value, or the key.
    pub selection_range: Range<usize>,
    pub children: Vec<Symbol>,
}

/// Symbols of every document of the file.
pub fn document_symbols(file: &mut YamlFile, rope: &Rope) -> Vec<Symbol> {
    let mut symbols = Vec::new();
    for index in 0..file.documents().len() {
        let range = file.documents()[index].range();
        if let Some(tree) = file.tree(rope, index) {
            symbols.extend(symbols_of_document(
                tree,
                &RopeSource::new(rope, range.clone()),
                range.start,
            ));
        }
    }
    symbols
}

fn symbols_of_document(tree: &Tree, source: &RopeSource<'_>, offset: usize) -> Vec<Symbol> {
    let Some(root) = syntax::document_root(tree) else {
        return Vec::new();
    };
    if syntax::shape(root) != NodeShape::Mapping {
        return Vec::new();
    }
    let shift = |r: Range<usize>| r.start + offset..r.end + offset;
    let mut kind = None;
    let mut name = None;
    let mut namespace = None;
    let mut children = Vec::new();
    for pair in syntax::pairs(root) {
        let Some(key_node) = pair.key else { continue };
        let Some(key) = syntax::scalar_text(key_node, source) else {
            continue;
        };
        let value_shape = pair.value.map(syntax::shape).unwrap_or(NodeShape::Empty);
        match key.as_str() {
            "kind" => {
                kind = pair
                    .value
                    .and_then(|v| Some((syntax::scalar_text(v, source)?, v.byte_range())))
            }
            "metadata" if value_shape == NodeShape::Mapping => {
                for meta in syntax::pairs(pair.value.expect("mapping value")) {
                    let text = |n| syntax::scalar_text(n, source);
                    match meta.key.and_then(text).as_deref() {
                        Some("name") => {
                            name = meta.value.and_then(|v| Some((text(v)?, v.byte_range())))
                        }
                        Some("generateName") if name.is_none() => {
                            name = meta
                                .value
                                .and_then(|v| Some((format!("{}*", text(v)?), v.byte_range())))
                        }
                        Some("namespace") => namespace = meta.value.and_then(text),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        children.push(Symbol {
            name: key,
            detail: None,
            kind: match value_shape {
                NodeShape::Mapping => SymbolKind::Module,
                NodeShape::Sequence => SymbolKind::Array,
                _ => SymbolKind::Field,
            },
            range: shift(pair.node.byte_range()),
            selection_range: shift(key_node.byte_range()),
            children: Vec::new(),
        });
    }
    let Some((kind, kind_range)) = kind else {
        return children;
    };
    let (label, selection) = match name {
        Some((name, name_range)) => (format!("{kind} {name}"), name_range),
        None => (kind, kind_range),
    };
    vec![Symbol {
        name: label,
        detail: namespace,
        kind: SymbolKind::Object,
        range: shift(root.byte_range()),
        selection_range: shift(selection),
        children,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symbols(text: &str) -> Vec<Symbol> {
        let rope = Rope::from_str(text);
        let mut file = YamlFile::open(&rope);
        document_symbols(&mut file, &rope)
    }

    #[test]
    fn one_symbol_per_manifest_with_namespace_and_top_level_keys() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n---\napiVersion: v1\nkind: Service\nmetadata:\n  generateName: svc-\n";
        let symbols = symbols(text);
        assert_eq!(symbols.len(), 2);
        assert_eq!(symbols[0].name, "Deployment web");
        assert_eq!(symbols[0].detail.as_deref(), Some("shop"));
        assert_eq!(&text[symbols[0].selection_range.clone()], "web");
        let keys: Vec<_> = symbols[0]
            .children
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata", "spec"]);
        assert_eq!(symbols[1].name, "Service svc-*");
        assert!(symbols[1].range.start > symbols[0].range.end);
    }

    #[test]
    fn non_kubernetes_yaml_lists_its_top_level_keys() {
        let symbols = symbols("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n");
        let names: Vec<_> = symbols.iter().map(|s| (s.name.as_str(), s.kind)).collect();
        assert_eq!(
            names,
            [("on", SymbolKind::Field), ("jobs", SymbolKind::Module)]
        );
    }

    #[test]
    fn empty_and_scalar_documents_have_no_symbols() {
        assert!(symbols("").is_empty());
        assert!(symbols("# just a comment\n---\nhello\n").is_empty());
    }
}
