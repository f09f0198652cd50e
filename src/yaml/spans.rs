//! A compact syntax tree built from saphyr's event stream: the tree a file gets on open.
//!
//! tree-sitter gives error recovery and incremental re-parsing, but a full parse of a big
//! document costs many times saphyr's event pass. Opening a file runs saphyr anyway (for lint),
//! so the same pass records every node (kind, byte range, scalar value, style, tag) into one flat
//! vector. Validation on open walks this tree; edits later use tree-sitter's. A span tree exists
//! only for text without syntax errors (saphyr stops at the first one). Block YAML, what most
//! manifests are, is read by a faster line reader (`fast`) that builds the same tree, and
//! leaves everything else, errors included, to saphyr.

use std::ops::Range;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScanError, Span};

use super::scalar::{self, ScalarStyle};

mod cut;
mod fast;
mod splice;
pub use cut::{Cut, Seam, find_cut};
pub(crate) use splice::push_key_line;
pub use splice::{EntryRun, Spliced};

const NONE: u32 = u32::MAX;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    Mapping,
    Sequence,
    Scalar(ScalarStyle),
    Alias,
}

/// 32 bytes, no allocation of its own: a big document has a node per ~14 bytes of text.
#[derive(Clone, Copy, Debug, PartialEq)]
struct SpanNode {
    start: u32,
    end: u32,
    first_child: u32,
    next_sibling: u32,
    /// The scalar's value (escapes and folding applied; empty for other kinds): `value_len`
    /// bytes at `value_at` of the text when the value is written as is there (most plain
    /// scalars), else of the tree's `values`.
    value_at: u32,
    value_len: u32,
    /// Index into the tree's `tags` (the long form, `tag:yaml.org,2002:str`, `!custom`), or NONE.
    tag: u32,
    kind: SpanKind,
    value_in_text: bool,
}

/// The nodes of one YAML text. Offsets are byte offsets into that text.
#[derive(Debug, Default)]
pub struct SpanTree {
    /// In document order (parents before children, siblings in order).
    nodes: Vec<SpanNode>,
    roots: Vec<u32>,
    /// The parsed text (a quick fix that inserts lines reads the lines around its nodes; most
    /// scalar values are read from it).
    text: TreeText,
    /// Scalar values that differ from their text (quoted, escaped, folded, block), end to end.
    values: String,
    tags: Vec<Box<str>>,
}

/// The text a [`SpanTree`] was parsed from: a copy of its own, or a range of a file's text that
/// the trees of all its documents share (opening a 2 MB file copies no document).
#[derive(Debug)]
pub enum TreeText {
    Owned(String),
    Shared(Arc<String>, Range<usize>),
}

impl TreeText {
    pub fn as_str(&self) -> &str {
        match self {
            TreeText::Owned(text) => text,
            TreeText::Shared(file, range) => &file[range.clone()],
        }
    }
}

impl Default for TreeText {
    fn default() -> Self {
        TreeText::Owned(String::new())
    }
}

impl From<&str> for TreeText {
    fn from(text: &str) -> Self {
        TreeText::Owned(text.to_string())
    }
}

/// A node of a [`SpanTree`].
#[derive(Clone, Copy)]
pub struct SpanRef<'t> {
    tree: &'t SpanTree,
    index: u32,
}

impl std::fmt::Debug for SpanRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}@{:?}", self.kind(), self.range())
    }
}

impl SpanTree {
    /// Parses `text` (one or more documents). On a syntax error, the tree holds what came before
    /// it and the error is returned beside it.
    pub fn parse(text: &str) -> (SpanTree, Option<ScanError>) {
        let (mut tree, error) = Self::parse_events(text);
        tree.text = text.into();
        (tree, error)
    }

    /// [`parse`](Self::parse) keeping `text` as it is, without a copy.
    pub fn parse_owned(text: String) -> (SpanTree, Option<ScanError>) {
        let (mut tree, error) = Self::parse_events(&text);
        tree.text = TreeText::Owned(text);
        (tree, error)
    }

    /// [`parse`](Self::parse) of `range` of a file's text, sharing it (offsets are relative to
    /// the range's start).
    pub fn parse_shared(file: &Arc<String>, range: Range<usize>) -> (SpanTree, Option<ScanError>) {
        let (mut tree, error) = Self::parse_events(&file[range.clone()]);
        tree.text = TreeText::Shared(file.clone(), range);
        (tree, error)
    }

    /// The fast path's tree when it takes the text, else saphyr's.
    fn parse_events(text: &str) -> (SpanTree, Option<ScanError>) {
        match fast::parse(text) {
            Some(tree) => (tree, None),
            None => Self::parse_saphyr_events(text),
        }
    }

    fn parse_saphyr_events(text: &str) -> (SpanTree, Option<ScanError>) {
        let mut builder = Builder::new(text);
        let mut parser = Parser::new_from_str(text);
        let mut error = None;
        while let Some(next) = parser.next_event() {
            match next {
                Ok((event, span)) => builder.event(event, span),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        (builder.finish(), error)
    }

    /// The text the tree was parsed from.
    pub fn text(&self) -> &str {
        self.text.as_str()
    }

    /// Gives the tree a copy of its text of its own when it shares a file's (so that keeping
    /// the tree does not keep the file's text), with room for `spare` more bytes (edits
    /// [spliced](Self::splice) in place).
    pub fn own_text(&mut self, spare: usize) {
        if let TreeText::Shared(..) = self.text {
            let text = self.text.as_str();
            let mut owned = String::with_capacity(text.len() + spare);
            owned.push_str(text);
            self.text = TreeText::Owned(owned);
        }
    }

    /// The root node of the first document, if it has content.
    pub fn root(&self) -> Option<SpanRef<'_>> {
        self.roots.first().map(|&index| self.node(index))
    }

    /// The root node of every document.
    pub fn roots(&self) -> impl Iterator<Item = SpanRef<'_>> + '_ {
        self.roots.iter().map(|&index| self.node(index))
    }

    /// Every node, in document order.
    pub fn all(&self) -> impl Iterator<Item = SpanRef<'_>> + '_ {
        (0..self.len() as u32).map(|index| self.node(index))
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, index: u32) -> &SpanNode {
        &self.nodes[index as usize]
    }

    fn node(&self, index: u32) -> SpanRef<'_> {
        SpanRef { tree: self, index }
    }
}

impl<'t> SpanRef<'t> {
    fn data(&self) -> &'t SpanNode {
        self.tree.get(self.index)
    }

    /// The node's index in its tree.
    pub fn id(&self) -> u32 {
        self.index
    }

    pub fn kind(&self) -> SpanKind {
        self.data().kind
    }

    /// Byte range in the parsed text: a scalar's token (quotes included), a collection from its
    /// first token to the end of its last child.
    pub fn range(&self) -> Range<usize> {
        let data = self.data();
        data.start as usize..data.end as usize
    }

    /// A scalar's value as YAML reads it (quotes removed, escapes and folding applied).
    pub fn value(&self) -> Option<&'t str> {
        matches!(self.kind(), SpanKind::Scalar(_)).then(|| {
            let data = self.data();
            let range = data.value_at as usize..(data.value_at + data.value_len) as usize;
            if data.value_in_text {
                &self.tree.text.as_str()[range]
            } else {
                &self.tree.values[range]
            }
        })
    }

    /// Whether the node is a flow mapping or sequence (`{…}`, `[…]`).
    pub fn is_flow(&self) -> bool {
        let data = self.data();
        let first_child = (data.first_child != NONE).then(|| self.tree.get(data.first_child).start);
        matches!(self.kind(), SpanKind::Mapping | SpanKind::Sequence)
            && opens_flow(self.source(), data.start, first_child)
    }

    pub fn style(&self) -> Option<ScalarStyle> {
        match self.kind() {
            SpanKind::Scalar(style) => Some(style),
            _ => None,
        }
    }

    pub fn tag(&self) -> Option<&'t str> {
        let tag = self.data().tag;
        (tag != NONE).then(|| &*self.tree.tags[tag as usize])
    }

    /// The text the tree was parsed from.
    pub fn source(&self) -> &'t str {
        self.tree.text.as_str()
    }

    /// An empty plain scalar without a tag: what `key:` with nothing after it holds.
    pub fn is_empty_scalar(&self) -> bool {
        self.kind() == SpanKind::Scalar(ScalarStyle::Plain)
            && self.data().value_len == 0
            && self.data().start == self.data().end
            && self.tag().is_none()
    }

    pub fn children(&self) -> impl Iterator<Item = SpanRef<'t>> + use<'t> {
        let tree = self.tree;
        let mut next = self.data().first_child;
        std::iter::from_fn(move || {
            if next == NONE {
                return None;
            }
            let node = tree.node(next);
            next = node.data().next_sibling;
            Some(node)
        })
    }

    /// The first pair of a mapping whose key is `key` (its value `None` when empty: `key:`).
    ///
    /// Keys are compared by their value's length first, and read only when it matches: the
    /// rules, the index and validation look keys up in every object of a file.
    pub fn pair(&self, key: &str) -> Option<(SpanRef<'t>, Option<SpanRef<'t>>)> {
        self.pairs().find(|(candidate, _)| {
            let data = candidate.data();
            matches!(data.kind, SpanKind::Scalar(_)) && data.value_len as usize == key.len() && {
                count_work!(KEY_BYTES_COMPARED);
                candidate.value() == Some(key)
            }
        })
    }

    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<SpanRef<'t>> {
        self.pair(key).and_then(|(_, value)| value)
    }

    /// A mapping's (key, value) pairs, in order.
    pub fn pairs(&self) -> impl Iterator<Item = (SpanRef<'t>, Option<SpanRef<'t>>)> + use<'t> {
        let mut children = if self.kind() == SpanKind::Mapping {
            Some(self.children())
        } else {
            None
        };
        std::iter::from_fn(move || {
            let children = children.as_mut()?;
            let key = children.next()?;
            Some((key, children.next()))
        })
    }
}

work_counter!(
    /// How many keys this thread's [`SpanRef::pair`] compared byte by byte so far.
    pub fn key_bytes_compared() => KEY_BYTES_COMPARED
);

/// Builds the flat tree from events, converting saphyr's character offsets to byte offsets.
struct Builder<'t> {
    offsets: CharToByte<'t>,
    nodes: Vec<SpanNode>,
    roots: Vec<u32>,
    values: String,
    tags: Vec<Box<str>>,
    /// Open collections: (node, its last child so far).
    open: Vec<(u32, u32)>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str) -> Self {
        Self::with_offsets(CharToByte::new(text))
    }

    /// A builder given byte offsets (the fast path's), not saphyr's character offsets.
    fn with_byte_offsets(text: &'t str) -> Self {
        Self::with_offsets(CharToByte {
            text,
            checkpoints: None,
        })
    }

    fn with_offsets(offsets: CharToByte<'t>) -> Self {
        let text = offsets.text;
        Self {
            offsets,
            // About one node per 14 bytes of manifest YAML; reserving avoids most regrowth.
            nodes: Vec::with_capacity(text.len() / 14 + 4),
            roots: Vec::new(),
            values: String::new(),
            tags: Vec::new(),
            open: Vec::new(),
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) {
        let start = self.offsets.byte(span.start.index());
        match event {
            Event::Scalar(value, style, _, tag) => {
                let end = self.offsets.byte(span.end.index());
                let tag = tag.map(|t| long_tag(&t));
                self.scalar(ScalarStyle::from(style), start..end, &value, tag);
            }
            Event::Alias(_) => {
                let end = self.offsets.byte(span.end.index());
                self.node(SpanKind::Alias, start..end, None);
            }
            Event::MappingStart(_, tag) => {
                self.open(SpanKind::Mapping, start, tag.map(|t| long_tag(&t)))
            }
            Event::SequenceStart(_, tag) => {
                self.open(SpanKind::Sequence, start, tag.map(|t| long_tag(&t)))
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let end = self.offsets.byte(span.end.index());
                self.close(Some(end));
            }
            _ => {}
        }
    }

    /// A scalar whose token saphyr puts at `range` (byte offsets).
    fn scalar(
        &mut self,
        style: ScalarStyle,
        range: Range<usize>,
        value: &str,
        tag: Option<Box<str>>,
    ) {
        let header_from = self.previous_end();
        let index = self.node(SpanKind::Scalar(style), range, tag);
        let node = &mut self.nodes[index as usize];
        if let Some(end) = quoted_end(self.offsets.text, node.start as usize, style) {
            // saphyr's span of a quoted scalar can run on past a trailing comment.
            node.end = end as u32;
        } else if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            // saphyr's span starts at the content; the scalar starts at its `|`/`>`.
            let text = self.offsets.text;
            if let Some(header) = block_header(text, header_from, node.start as usize) {
                node.start = header as u32;
            }
            // ... and ends with its last character, not at the next token.
            let body = &text[node.start as usize..node.end as usize];
            node.end = node.start + body.trim_end().len() as u32;
        }
        let written = &self.offsets.text[node.start as usize..node.end as usize];
        if value == written {
            node.value_at = node.start;
            node.value_in_text = true;
        } else {
            node.value_at = self.values.len() as u32;
            self.values.push_str(value);
        }
        node.value_len = value.len() as u32;
    }

    /// Where the text before the next node starts: the end of the previous sibling, else the
    /// start of the enclosing collection.
    fn previous_end(&self) -> usize {
        match self.open.last() {
            Some(&(_, last)) if last != NONE => self.nodes[last as usize].end as usize,
            Some(&(parent, _)) => self.nodes[parent as usize].start as usize,
            None => 0,
        }
    }

    /// Adds a node under the innermost open collection (or as a document root).
    fn node(&mut self, kind: SpanKind, range: Range<usize>, tag: Option<Box<str>>) -> u32 {
        let index = self.nodes.len() as u32;
        let tag = match tag {
            Some(tag) => {
                self.tags.push(tag);
                self.tags.len() as u32 - 1
            }
            None => NONE,
        };
        let start = skip_properties(self.offsets.text, range.start);
        let end = range.end.max(start);
        self.nodes.push(SpanNode {
            start: start as u32,
            end: end as u32,
            first_child: NONE,
            next_sibling: NONE,
            value_at: 0,
            value_len: 0,
            tag,
            kind,
            value_in_text: false,
        });
        match self.open.last_mut() {
            Some((parent, last)) => {
                if *last == NONE {
                    self.nodes[*parent as usize].first_child = index;
                } else {
                    self.nodes[*last as usize].next_sibling = index;
                }
                *last = index;
            }
            None => self.roots.push(index),
        }
        index
    }

    fn open(&mut self, kind: SpanKind, start: usize, tag: Option<Box<str>>) {
        // A collection's start is its first token; its end is set when it closes.
        let index = self.node(kind, start..start, tag);
        self.open.push((index, NONE));
    }

    /// Ends the innermost collection: a flow collection at its closing bracket, a block one with
    /// its last child (saphyr's end event sits at the next token, past comments and blank lines).
    fn close(&mut self, end_event: Option<usize>) {
        let Some((index, last)) = self.open.pop() else {
            return;
        };
        let node = &self.nodes[index as usize];
        let first_child =
            (node.first_child != NONE).then(|| self.nodes[node.first_child as usize].start);
        let is_flow = opens_flow(self.offsets.text, node.start, first_child);
        let end = if let (true, Some(end)) = (is_flow, end_event) {
            end as u32
        } else if last != NONE {
            self.block_end_after(last)
        } else {
            return;
        };
        let node = &mut self.nodes[index as usize];
        node.end = node.end.max(end);
    }

    /// Where a block collection whose last child is `last` ends: with that child, or, when the
    /// child is the empty value of `key:` (or `-`), after the indicator, as the text shows it.
    fn block_end_after(&self, last: u32) -> u32 {
        let child = &self.nodes[last as usize];
        let empty = matches!(child.kind, SpanKind::Scalar(ScalarStyle::Plain))
            && child.start == child.end
            && child.tag == NONE;
        if !empty {
            return child.end;
        }
        let text = self.offsets.text.as_bytes();
        let mut at = child.end as usize;
        while at < text.len() && matches!(text[at], b' ' | b'\t') {
            at += 1;
        }
        match text.get(at) {
            Some(b':' | b'-') => at as u32 + 1,
            _ => child.end,
        }
    }

    fn finish(mut self) -> SpanTree {
        // Collections left open by a syntax error end with their last child.
        while !self.open.is_empty() {
            self.close(None);
        }
        SpanTree {
            nodes: self.nodes,
            roots: self.roots,
            text: TreeText::default(),
            values: self.values,
            tags: self.tags,
        }
    }
}

/// Whether a collection starting at `start` whose first child starts at `first_child` is a flow
/// one: it starts with its bracket. A block sequence starts where its first item does (saphyr
/// puts it after the `-`), so `- {}` starts with a brace without being a flow sequence.
fn opens_flow(text: &str, start: u32, first_child: Option<u32>) -> bool {
    matches!(text.as_bytes().get(start as usize), Some(b'[' | b'{')) && first_child != Some(start)
}

/// The offset just past the closing quote of a quoted scalar starting at `start`.
fn quoted_end(text: &str, start: usize, style: ScalarStyle) -> Option<usize> {
    let quote = match style {
        ScalarStyle::SingleQuoted => b'\'',
        ScalarStyle::DoubleQuoted => b'"',
        _ => return None,
    };
    let bytes = text.as_bytes();
    if bytes.get(start) != Some(&quote) {
        return None;
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The offset of a block scalar's `|` or `>` between `from` and its content, skipping comments.
fn block_header(text: &str, from: usize, content: usize) -> Option<usize> {
    let bytes = text.as_bytes().get(from..content)?;
    let mut in_comment = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' | b'\r' => in_comment = false,
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => in_comment = true,
            b'|' | b'>' if !in_comment => return Some(from + i),
            _ => {}
        }
    }
    None
}

/// The offset of a node's content after its anchor and tag (`&a !t {`).
fn skip_properties(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while matches!(bytes.get(at), Some(b'&' | b'!')) {
        while bytes.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
            at += 1;
        }
        while bytes.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
            at += 1;
        }
    }
    at.min(text.len())
}

fn long_tag(tag: &saphyr_parser::Tag) -> Box<str> {
    scalar::long_tag(&tag.handle, &tag.suffix).into_boxed_str()
}

/// saphyr counts offsets in characters. For ASCII text they are byte offsets; otherwise a table
/// of byte offsets every 64 characters bounds each conversion to a short walk.
pub(super) struct CharToByte<'t> {
    text: &'t str,
    checkpoints: Option<Vec<usize>>,
}

const CHECKPOINT_EVERY: usize = 64;

impl<'t> CharToByte<'t> {
    pub(super) fn new(text: &'t str) -> Self {
        let checkpoints = (!text.is_ascii()).then(|| {
            text.char_indices()
                .step_by(CHECKPOINT_EVERY)
                .map(|(byte, _)| byte)
                .collect()
        });
        Self { text, checkpoints }
    }

    pub(super) fn byte(&self, char_index: usize) -> usize {
        let Some(checkpoints) = &self.checkpoints else {
            return char_index.min(self.text.len());
        };
        let Some(&base) = checkpoints.get(char_index / CHECKPOINT_EVERY) else {
            return self.text.len();
        };
        self.text[base..]
            .char_indices()
            .nth(char_index % CHECKPOINT_EVERY)
            .map_or(self.text.len(), |(i, _)| base + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first pair whose key reads `key`, by reading every key's value (what `pair` does).
    fn pair_by_values<'t>(
        node: SpanRef<'t>,
        key: &str,
    ) -> Option<(SpanRef<'t>, Option<SpanRef<'t>>)> {
        node.pairs().find(|(k, _)| k.value() == Some(key))
    }

    #[test]
    fn a_key_is_compared_byte_by_byte_only_when_its_length_matches() {
        let text =
            "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n\"sp\\x65c\": {}\n? [x]\n: y\nlast:\n";
        let (tree, error) = SpanTree::parse(text);
        assert!(error.is_none(), "{error:?}");
        let root = tree.root().unwrap();
        let compared = |key: &str| {
            let before = key_bytes_compared();
            let found = root.pair(key);
            assert_eq!(
                found.map(|(k, v)| (k.id(), v.map(|v| v.id()))),
                pair_by_values(root, key).map(|(k, v)| (k.id(), v.map(|v| v.id()))),
                "{key}"
            );
            key_bytes_compared() - before
        };
        // Of six keys (one a sequence), only those as long as the one looked up.
        assert_eq!(compared("metadata"), 1);
        assert_eq!(compared("spec"), 2, "kind, then the escaped spec");
        assert_eq!(compared("kind"), 1);
        assert_eq!(compared("status"), 0);
        assert_eq!(compared("last"), 3, "kind, spec, then last");
        assert!(root.pair("last").unwrap().1.unwrap().is_empty_scalar());
        assert!(root.get("y").is_none() && root.get("x").is_none());
        let not_a_mapping = root.get("apiVersion").unwrap();
        assert_eq!(not_a_mapping.pair("v1").map(|(k, _)| k.id()), None);
    }

    #[test]
    fn pairs_found_by_length_and_bytes_are_those_read_by_value_over_the_corpus() {
        let mut looked_up = 0;
        for (at, text) in crate::yaml::corpus::documents() {
            let (tree, _) = SpanTree::parse(&text);
            for node in tree.all().filter(|n| n.kind() == SpanKind::Mapping) {
                let keys: Vec<&str> = node.pairs().filter_map(|(k, _)| k.value()).collect();
                let absent = ["", "spec", "metadata", "name", "kind", "é", "apiVersionx"];
                for key in keys.iter().copied().chain(absent) {
                    let ids = |found: Option<(SpanRef<'_>, Option<SpanRef<'_>>)>| {
                        found.map(|(k, v)| (k.id(), v.map(|v| v.id())))
                    };
                    assert_eq!(
                        ids(node.pair(key)),
                        ids(pair_by_values(node, key)),
                        "{at}: {key:?}"
                    );
                    looked_up += 1;
                }
            }
        }
        assert!(looked_up > 100_000, "{looked_up}");
    }

    #[test]
    fn nodes_stay_small() {
        assert_eq!(std::mem::size_of::<SpanNode>(), 32);
    }

    fn outline(text: &str) -> String {
        let (tree, error) = SpanTree::parse(text);
        assert!(error.is_none(), "{error:?}");
        let mut out = String::new();
        for root in tree.roots() {
            write_node(&mut out, text, root, 0);
        }
        out
    }

    fn write_node(out: &mut String, text: &str, node: SpanRef<'_>, depth: usize) {
        let pad = "  ".repeat(depth);
        let source = &text[node.range()];
        match node.kind() {
            SpanKind::Scalar(style) => out.push_str(&format!(
                "{pad}{style:?} {:?} at {:?}{}\n",
                node.value().unwrap_or_default(),
                source,
                node.tag().map(|t| format!(" tag {t}")).unwrap_or_default()
            )),
            kind => {
                out.push_str(&format!(
                    "{pad}{kind:?} {:?}\n",
                    source.lines().next().unwrap_or("")
                ));
                for child in node.children() {
                    write_node(out, text, child, depth + 1);
                }
            }
        }
    }

    #[test]
    fn a_manifest_becomes_nodes_with_byte_ranges() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"web\"\nspec:\n  containers:\n    - name: x\n      args: [a, 'b']\n";
        insta::assert_snapshot!(outline(text), @r###"
        Mapping "apiVersion: v1"
          Plain "apiVersion" at "apiVersion"
          Plain "v1" at "v1"
          Plain "kind" at "kind"
          Plain "Pod" at "Pod"
          Plain "metadata" at "metadata"
          Mapping "name: \"web\""
            Plain "name" at "name"
            DoubleQuoted "web" at "\"web\""
          Plain "spec" at "spec"
          Mapping "containers:"
            Plain "containers" at "containers"
            Sequence "- name: x"
              Mapping "name: x"
                Plain "name" at "name"
                Plain "x" at "x"
                Plain "args" at "args"
                Sequence "[a, 'b']"
                  Plain "a" at "a"
                  SingleQuoted "b" at "'b'"
        "###);
    }

    #[test]
    fn offsets_are_bytes_after_multibyte_text() {
        let text = "# 注释 😀\nname: 网站\nimage: nginx # ✓\n";
        let (tree, _) = SpanTree::parse(text);
        let pairs: Vec<(String, String)> = tree
            .root()
            .unwrap()
            .pairs()
            .map(|(k, v)| {
                (
                    text[k.range()].to_string(),
                    text[v.unwrap().range()].to_string(),
                )
            })
            .collect();
        assert_eq!(
            pairs,
            [
                ("name".into(), "网站".into()),
                ("image".into(), "nginx".into())
            ]
        );
    }

    #[test]
    fn a_block_collection_ending_in_an_empty_value_ends_after_its_indicator() {
        let text = "spec:\n  b:\n    c:\n---\n";
        let (tree, _) = SpanTree::parse(&text[..text.find("---").unwrap()]);
        let (_, spec) = tree.root().unwrap().pairs().next().unwrap();
        assert_eq!(&text[spec.unwrap().range()], "b:\n    c:");
        let (tree, _) = SpanTree::parse("items:\n  - a\n  -\n");
        let (_, items) = tree.root().unwrap().pairs().next().unwrap();
        assert_eq!(&"items:\n  - a\n  -\n"[items.unwrap().range()], "- a\n  -");
    }

    #[test]
    fn tags_empty_values_and_aliases() {
        let text = "a: !!str 1\nb:\nc: &x {d: 1}\ne: *x\n";
        insta::assert_snapshot!(outline(text), @r###"
        Mapping "a: !!str 1"
          Plain "a" at "a"
          Plain "1" at "1" tag tag:yaml.org,2002:str
          Plain "b" at "b"
          Plain "" at ""
          Plain "c" at "c"
          Mapping "{d: 1}"
            Plain "d" at "d"
            Plain "1" at "1"
          Plain "e" at "e"
          Alias "*x"
        "###);
    }

    #[test]
    fn a_syntax_error_keeps_what_came_before() {
        let (tree, error) = SpanTree::parse("a: 1\nb: [\n");
        assert!(error.is_some());
        assert!(tree.root().is_some());
    }

    /// Walks a tree-sitter tree and a span tree of the same text side by side: same shapes, same
    /// key and scalar ranges, same scalar values.
    fn assert_same(text: &str, ts: tree_sitter::Node<'_>, span: SpanRef<'_>, path: &str) {
        use crate::yaml::syntax::{self, NodeShape};
        let shape = syntax::shape(ts);
        let content = syntax::content(ts).unwrap_or(ts);
        match (shape, span.kind()) {
            (NodeShape::Mapping, SpanKind::Mapping) => {
                let ts_pairs = syntax::pairs(ts);
                let span_pairs: Vec<_> = span.pairs().collect();
                assert_eq!(ts_pairs.len(), span_pairs.len(), "pairs at {path}");
                for (tp, (sk, sv)) in ts_pairs.iter().zip(span_pairs) {
                    let key = tp.key.expect("a key");
                    let key_text = syntax::scalar_text(key, text).unwrap_or_default();
                    let at = format!("{path}.{key_text}");
                    assert_same(text, key, sk, &at);
                    match (tp.value, sv) {
                        (Some(tv), Some(sv)) => assert_same(text, tv, sv, &at),
                        (None, Some(sv)) => assert!(sv.is_empty_scalar(), "value at {at}"),
                        (tv, sv) => panic!("value at {at}: {tv:?} vs {sv:?}"),
                    }
                }
            }
            (NodeShape::Sequence, SpanKind::Sequence) => {
                let ts_items = syntax::items(ts);
                let span_items: Vec<_> = span.children().collect();
                assert_eq!(ts_items.len(), span_items.len(), "items at {path}");
                for (i, (ti, si)) in ts_items.into_iter().zip(span_items).enumerate() {
                    let at = format!("{path}[{i}]");
                    match ti {
                        Some(ti) if ti.kind() != "block_sequence_item" => {
                            assert_same(text, ti, si, &at)
                        }
                        _ => assert!(si.is_empty_scalar(), "item at {at}"),
                    }
                }
            }
            (NodeShape::Scalar, SpanKind::Scalar(_)) => {
                // At a document's end tree-sitter keeps a block scalar's final line break.
                let ts_range = content.byte_range();
                let ts_end = ts_range.start + text[ts_range.clone()].trim_end().len();
                assert_eq!(
                    ts_range.start..ts_end,
                    span.range(),
                    "scalar range at {path}"
                );
                assert_eq!(
                    syntax::scalar_text(ts, text).as_deref(),
                    span.value(),
                    "scalar at {path}"
                );
            }
            (NodeShape::Alias, SpanKind::Alias) => {}
            (NodeShape::Empty, SpanKind::Scalar(_)) if span.value() == Some("") => {}
            (a, b) => panic!("{path}: tree-sitter {a:?}, spans {b:?}"),
        }
    }

    #[test]
    fn agrees_with_tree_sitter_on_the_corpus() {
        let mut documents = 0;
        for (at, doc) in crate::yaml::corpus::documents() {
            let (spans, error) = SpanTree::parse(&doc);
            let rope = ropey::Rope::from_str(&doc);
            let tree = crate::yaml::syntax::parse(&rope, 0..doc.len(), None);
            if error.is_some() || tree.root_node().has_error() {
                continue;
            }
            match (crate::yaml::syntax::document_root(&tree), spans.root()) {
                (Some(t), Some(s)) => {
                    assert_same(&doc, t, s, &at);
                    documents += 1;
                }
                (None, root) => assert!(root.is_none_or(|r| r.is_empty_scalar())),
                (Some(t), None) => panic!("{at}: only tree-sitter has {t:?}"),
            }
        }
        assert!(documents > 100, "compared {documents} documents");
    }

    #[test]
    fn every_document_has_a_root() {
        let (tree, error) = SpanTree::parse("a: 1\n---\n- b\n");
        assert!(error.is_none());
        let kinds: Vec<SpanKind> = tree.roots().map(|r| r.kind()).collect();
        assert_eq!(kinds, [SpanKind::Mapping, SpanKind::Sequence]);
    }
}
