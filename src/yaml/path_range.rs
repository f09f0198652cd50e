//! The text range of a key path in a document's syntax tree, so later layers put diagnostics on
//! the right key or value.

use std::ops::Range;

use tree_sitter::Tree;

use super::key_path::{KeyPath, Segment};
use super::syntax::{self, NodeShape, Source};

/// What part of a path's node a range should cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeTarget {
    /// The key (for unknown or missing fields); the item itself for sequence items.
    Key,
    /// The value (for type, format and enum errors).
    Value,
}

/// The document-relative range of `path`: of its key or value as asked. When the path goes
/// further than the text does, the range of the deepest part that exists (its key).
pub fn range_of<S: Source + ?Sized>(
    tree: &Tree,
    source: &S,
    path: &KeyPath,
    target: RangeTarget,
) -> Option<Range<usize>> {
    let mut node = syntax::document_root(tree)?;
    let mut key_range = None;
    for segment in &path.0 {
        match (segment, syntax::shape(node)) {
            (Segment::Key(wanted), NodeShape::Mapping) => {
                let pair = syntax::pairs(node).into_iter().find(|pair| {
                    pair.key
                        .and_then(|k| syntax::scalar_text(k, source))
                        .as_deref()
                        == Some(wanted.as_str())
                });
                let Some(pair) = pair else {
                    return key_range.or(Some(node.byte_range()));
                };
                let key = pair.key.expect("found by its key");
                key_range = Some(syntax::content(key).unwrap_or(key).byte_range());
                match pair.value {
                    Some(value) => node = value,
                    None => return key_range,
                }
            }
            (Segment::Index(wanted), NodeShape::Sequence) => {
                let Some(Some(item)) = syntax::items(node).into_iter().nth(*wanted) else {
                    return key_range.or(Some(node.byte_range()));
                };
                node = item;
                key_range = Some(item.byte_range());
            }
            _ => return key_range.or(Some(node.byte_range())),
        }
    }
    match target {
        RangeTarget::Key => key_range.or(Some(node.byte_range())),
        RangeTarget::Value => Some(syntax::content(node).unwrap_or(node).byte_range()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ropey::Rope;

    #[test]
    fn range_of_paths() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx\n";
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let at = |p: &str, t| range_of(&tree, text, &KeyPath::parse(p), t).map(|r| &text[r]);
        assert_eq!(
            at("spec.template.spec.containers[0].image", RangeTarget::Value),
            Some("nginx")
        );
        assert_eq!(
            at("spec.template.spec.containers[0].image", RangeTarget::Key),
            Some("image")
        );
        assert_eq!(at("kind", RangeTarget::Value), Some("Deployment"));
        // A path deeper than the text: the deepest existing key.
        assert_eq!(
            at(
                "spec.template.spec.containers[0].ports[0]",
                RangeTarget::Key
            ),
            Some("name: web\n        image: nginx\n")
        );
        assert_eq!(
            at("spec.template.metadata", RangeTarget::Key),
            Some("template")
        );
    }
}
