//! One view of a YAML node for the layers above, whichever tree it comes from: tree-sitter's
//! (kept and re-parsed incrementally after edits) or the span tree saphyr's pass builds on open.
//! Validation walks either through [`YamlNode`], so both give the same diagnostics (a test over
//! the corpus checks it).

use std::borrow::Cow;
use std::ops::Range;

use tree_sitter::Node;

use super::scalar::{ScalarStyle, long_tag};
use super::spans::{SpanKind, SpanRef};
use super::syntax::{self, NodeShape, Source};

/// A key/value pair of a mapping. A key without a value (`key:`) has `value: None` or an empty
/// scalar, depending on the tree; both read as null.
#[derive(Clone, Copy, Debug)]
pub struct NodePair<N> {
    pub key: Option<N>,
    pub value: Option<N>,
}

/// A YAML node: its shape, children, scalar text and ranges (relative to its document).
pub trait YamlNode: Copy {
    fn shape(self) -> NodeShape;
    /// A mapping's pairs, in order (empty for other shapes).
    fn pairs(self) -> Vec<NodePair<Self>>;
    /// The first pair of a mapping whose key reads `key`, as [`pairs`](Self::pairs) gives it.
    fn pair_of(self, key: &str) -> Option<(Self, Option<Self>)> {
        self.pairs().into_iter().find_map(|pair| {
            let k = pair.key?;
            (k.text().as_deref() == Some(key)).then_some((k, pair.value))
        })
    }
    /// A sequence's items, in order (`None` for a missing item).
    fn items(self) -> Vec<Option<Self>>;
    /// A scalar's value as YAML reads it (quotes removed, escapes and folding applied):
    /// borrowed from the tree where it can be (validation reads every key of a big document).
    fn text<'a>(self) -> Option<Cow<'a, str>>
    where
        Self: 'a;
    /// A scalar's style.
    fn style(self) -> Option<ScalarStyle>;
    /// The long form of the node's tag (`!!str` → `tag:yaml.org,2002:str`).
    fn tag(self) -> Option<String>;
    /// The node's content (without anchor and tag).
    fn range(self) -> Range<usize>;
    /// Where the node starts, properties included.
    fn start(self) -> usize;
    /// The document's text in `range`, as written; empty when `range` is out of bounds or
    /// splits a character (a text tree clamps to its end: read to the end with care).
    fn source_text(&self, range: Range<usize>) -> Cow<'_, str>;
}

/// Whether `node` (with its properties) holds all of `range`.
pub fn holds<N: YamlNode>(node: N, range: &Range<usize>) -> bool {
    node.start() <= range.start && range.end <= node.range().end
}

/// The pair of `mapping` whose value holds all of `range` (which touches neither its key nor
/// the text between key and value), with the key's text.
pub fn pair_holding<N: YamlNode>(mapping: N, range: &Range<usize>) -> Option<(String, N, N)> {
    mapping.pairs().into_iter().find_map(|pair| {
        let (key, value) = (pair.key?, pair.value?);
        if !holds(value, range) || key.range().end > range.start {
            return None;
        }
        Some((key.text()?.into_owned(), key, value))
    })
}

/// The item of `sequence` that holds all of `range`.
pub fn item_holding<N: YamlNode>(sequence: N, range: &Range<usize>) -> Option<N> {
    sequence
        .items()
        .into_iter()
        .flatten()
        .find(|item| holds(*item, range))
}

/// A tree-sitter node with the text it was parsed from.
pub struct TsNode<'t, 's, S: ?Sized> {
    pub node: Node<'t>,
    pub source: &'s S,
}

impl<S: ?Sized> Clone for TsNode<'_, '_, S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: ?Sized> Copy for TsNode<'_, '_, S> {}

impl<'t, 's, S: Source + ?Sized> TsNode<'t, 's, S> {
    pub fn new(node: Node<'t>, source: &'s S) -> Self {
        Self { node, source }
    }

    fn wrap(&self, node: Node<'t>) -> Self {
        Self::new(node, self.source)
    }
}

impl<S: Source + ?Sized> YamlNode for TsNode<'_, '_, S> {
    fn shape(self) -> NodeShape {
        syntax::shape(self.node)
    }

    fn pairs(self) -> Vec<NodePair<Self>> {
        syntax::pairs(self.node)
            .into_iter()
            .map(|pair| NodePair {
                key: pair.key.map(|k| self.wrap(k)),
                value: pair.value.map(|v| self.wrap(v)),
            })
            .collect()
    }

    fn items(self) -> Vec<Option<Self>> {
        syntax::items(self.node)
            .into_iter()
            .map(|item| item.map(|i| self.wrap(i)))
            .collect()
    }

    fn text<'a>(self) -> Option<Cow<'a, str>>
    where
        Self: 'a,
    {
        syntax::scalar_text(self.node, self.source).map(Cow::Owned)
    }

    fn style(self) -> Option<ScalarStyle> {
        let content = syntax::content(self.node)?;
        Some(match content.kind() {
            "plain_scalar" => ScalarStyle::Plain,
            "single_quote_scalar" => ScalarStyle::SingleQuoted,
            "double_quote_scalar" => ScalarStyle::DoubleQuoted,
            "block_scalar" if self.source.text(content.byte_range()).starts_with('>') => {
                ScalarStyle::Folded
            }
            "block_scalar" => ScalarStyle::Literal,
            _ => return None,
        })
    }

    fn tag(self) -> Option<String> {
        let mut current = self.node;
        loop {
            if !matches!(current.kind(), "block_node" | "flow_node") {
                return None;
            }
            let mut cursor = current.walk();
            let children: Vec<Node<'_>> = current.named_children(&mut cursor).collect();
            if let Some(tag) = children.iter().find(|c| c.kind() == "tag") {
                let written = self.source.text(tag.byte_range());
                // `!!` is the one handle to expand (saphyr expands it too).
                let handle = if written.starts_with("!!") { 2 } else { 0 };
                let (handle, suffix) = written.split_at(handle);
                return Some(long_tag(handle, suffix));
            }
            current = *children
                .iter()
                .find(|c| !matches!(c.kind(), "anchor" | "comment"))?;
        }
    }

    fn range(self) -> Range<usize> {
        syntax::content(self.node).unwrap_or(self.node).byte_range()
    }

    fn start(self) -> usize {
        self.node.start_byte()
    }

    fn source_text(&self, range: Range<usize>) -> Cow<'_, str> {
        self.source.text(range)
    }
}

impl YamlNode for SpanRef<'_> {
    fn shape(self) -> NodeShape {
        match self.kind() {
            SpanKind::Mapping => NodeShape::Mapping,
            SpanKind::Sequence => NodeShape::Sequence,
            SpanKind::Alias => NodeShape::Alias,
            // `key:` and `- ` hold an empty scalar here; tree-sitter has no node there.
            SpanKind::Scalar(_) if self.is_empty_scalar() => NodeShape::Empty,
            SpanKind::Scalar(_) => NodeShape::Scalar,
        }
    }

    fn pairs(self) -> Vec<NodePair<Self>> {
        // `: value` has no key, as `key:` has no value: tree-sitter has no node there either.
        SpanRef::pairs(&self)
            .map(|(key, value)| NodePair {
                key: Some(key).filter(|k| !k.is_empty_scalar()),
                value: value.filter(|v| !v.is_empty_scalar()),
            })
            .collect()
    }

    /// Without the list of pairs: keys of another length are not read (validation looks keys
    /// up in every object of a file).
    fn pair_of(self, key: &str) -> Option<(Self, Option<Self>)> {
        if key.is_empty() {
            // `pairs` has no key for an empty one.
            return None;
        }
        let (key, value) = SpanRef::pair(&self, key)?;
        Some((key, value.filter(|v| !v.is_empty_scalar())))
    }

    fn items(self) -> Vec<Option<Self>> {
        if self.kind() != SpanKind::Sequence {
            return Vec::new();
        }
        self.children()
            .map(|item| (!item.is_empty_scalar()).then_some(item))
            .collect()
    }

    fn text<'a>(self) -> Option<Cow<'a, str>>
    where
        Self: 'a,
    {
        self.value().map(Cow::Borrowed)
    }

    fn style(self) -> Option<ScalarStyle> {
        SpanRef::style(&self)
    }

    fn tag(self) -> Option<String> {
        SpanRef::tag(&self).map(str::to_string)
    }

    fn range(self) -> Range<usize> {
        SpanRef::range(&self)
    }

    fn start(self) -> usize {
        SpanRef::range(&self).start
    }

    fn source_text(&self, range: Range<usize>) -> Cow<'_, str> {
        Cow::Borrowed(self.source().get(range).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::spans::{SpanKind, SpanTree};

    /// What the trait's own `pair_of` answers: the first of `pairs` whose key reads `key`.
    fn pair_by_pairs<N: YamlNode>(mapping: N, key: &str) -> Option<(N, Option<N>)> {
        mapping.pairs().into_iter().find_map(|pair| {
            let k = pair.key?;
            (k.text().as_deref() == Some(key)).then_some((k, pair.value))
        })
    }

    #[test]
    fn a_span_trees_pair_of_a_key_is_the_one_its_pairs_give_over_the_corpus() {
        let mut looked_up = 0;
        let ids = |found: Option<(SpanRef<'_>, Option<SpanRef<'_>>)>| {
            found.map(|(k, v)| (k.id(), v.map(|v| v.id())))
        };
        for (at, text) in crate::yaml::corpus::documents() {
            let (tree, _) = SpanTree::parse(&text);
            for node in tree.all() {
                let keys: Vec<&str> = SpanRef::pairs(&node)
                    .filter_map(|(k, _)| k.value())
                    .collect();
                let absent = ["", "spec", "name", "é", "apiVersionx"];
                for key in keys.iter().copied().chain(absent) {
                    assert_eq!(
                        ids(YamlNode::pair_of(node, key)),
                        ids(pair_by_pairs(node, key)),
                        "{at}: {key:?} in {:?}",
                        node.kind() == SpanKind::Mapping
                    );
                    looked_up += 1;
                }
            }
        }
        assert!(looked_up > 100_000, "{looked_up}");
    }
}
