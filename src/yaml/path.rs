//! Key paths: the path at a cursor (`spec.template.spec.containers[0].image`), also in half-typed
//! text, and the text range of a path, so later layers put diagnostics on the right key or value.

use std::fmt;
use std::ops::Range;

use tree_sitter::{Node, Tree};

use super::syntax::{self, NodeShape, Source};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from a document's root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    pub fn push_key(&mut self, key: impl Into<String>) {
        self.0.push(Segment::Key(key.into()));
    }

    pub fn push_index(&mut self, index: usize) {
        self.0.push(Segment::Index(index));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses the dotted form used by the API server's field errors: `spec.containers[0].image`,
    /// `metadata.labels[app.kubernetes.io/name]`, `metadata.annotations['a.b/c']`.
    pub fn parse(text: &str) -> Self {
        let mut path = KeyPath::default();
        let mut rest = text.trim().trim_start_matches('.');
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix('[') {
                let close = inner.find(']').unwrap_or(inner.len());
                let item = inner[..close].trim_matches(['\'', '"']);
                match item.parse::<usize>() {
                    Ok(index) => path.push_index(index),
                    Err(_) => path.push_key(item),
                }
                rest = inner.get(close + 1..).unwrap_or("").trim_start_matches('.');
            } else {
                let end = rest.find(['.', '[']).unwrap_or(rest.len());
                path.push_key(&rest[..end]);
                rest = rest[end..].trim_start_matches('.');
            }
        }
        path
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if key.contains(['.', '[', ']']) => write!(f, "[{key}]")?,
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Where the cursor is, as completion and hover need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorTarget {
    /// On (or typing) a key of the mapping at `path`; `prefix` is the part typed so far.
    Key { prefix: String },
    /// On the value of the key at `path`.
    Value { prefix: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// For a key: the mapping that holds it. For a value: the key it belongs to.
    pub path: KeyPath,
    pub target: CursorTarget,
}

/// The path of the node at `offset` (document-relative), from the syntax tree, for well-formed
/// text, with an indentation-based reading of the lines above as the fallback for half-typed text.
pub fn cursor_at<S: Source + ?Sized>(tree: &Tree, source: &S, offset: usize) -> Cursor {
    let line = current_line(source, offset);
    if let Some(cursor) = bare_word_on_own_line(tree, source, offset, &line) {
        return cursor;
    }
    let node = tree
        .root_node()
        .descendant_for_byte_range(offset.saturating_sub(1), offset)
        .unwrap_or(tree.root_node());
    if !error_before(tree, offset) {
        if let Some(cursor) = cursor_from_tree(node, source, offset) {
            return cursor;
        }
    }
    cursor_from_indentation(source, offset)
}

/// Whether the tree has an ERROR or MISSING node starting at or before `offset`: then the tree
/// around the cursor is a guess and the indentation reading is the better one.
fn error_before(tree: &Tree, offset: usize) -> bool {
    let mut node = tree.root_node();
    if !node.has_error() {
        return false;
    }
    loop {
        if node.is_error() || node.is_missing() {
            return node.start_byte() <= offset;
        }
        let mut cursor = node.walk();
        let Some(next) = node.children(&mut cursor).find(|c| c.has_error()) else {
            return node.start_byte() <= offset;
        };
        node = next;
    }
}

/// `spec:\n  contai|`: a lone word on a line deeper than its parent key is a key being typed, even
/// though YAML reads it as the parent's scalar value.
fn bare_word_on_own_line<S: Source + ?Sized>(
    _tree: &Tree,
    source: &S,
    offset: usize,
    line: &LineAt,
) -> Option<Cursor> {
    let before = &line.text[..line.column.min(line.text.len())];
    let trimmed = before.trim_start();
    let word_like = !trimmed.is_empty()
        && !trimmed.contains([':', '{', '[', '"', '\'', '#'])
        && !line.text[line.column.min(line.text.len())..].contains(':');
    let item = trimmed.strip_prefix("- ").map(str::trim_start);
    if !word_like || trimmed.starts_with('-') && item.is_none() {
        return None;
    }
    let indent = before.len() - trimmed.len() + if item.is_some() { 2 } else { 0 };
    let prefix = item.unwrap_or(trimmed).to_string();
    if indent == 0 && line.start == 0 && source.text(0..offset).trim().is_empty() {
        return Some(Cursor {
            path: KeyPath::default(),
            target: CursorTarget::Key { prefix },
        });
    }
    let mut path = parent_path_by_indentation(source, line.start, indent, item.is_some());
    if item.is_some() {
        path.0.push(Segment::Index(0));
    }
    Some(Cursor {
        path,
        target: CursorTarget::Key { prefix },
    })
}

fn cursor_from_tree<S: Source + ?Sized>(
    node: Node<'_>,
    source: &S,
    offset: usize,
) -> Option<Cursor> {
    let (path, role) = node_path(node, source);
    let prefix_of = |n: Node<'_>| -> String {
        let start = n.start_byte().min(offset);
        source.text(start..offset).trim_start().to_string()
    };
    Some(match role {
        Role::Key(key_node) => {
            let mut parent = path;
            parent.0.pop();
            Cursor {
                path: parent,
                target: CursorTarget::Key {
                    prefix: prefix_of(key_node),
                },
            }
        }
        Role::Value(value_node) => Cursor {
            path,
            target: CursorTarget::Value {
                prefix: value_node.map(prefix_of).unwrap_or_default(),
            },
        },
        Role::Container => return None,
    })
}

enum Role<'t> {
    Key(Node<'t>),
    Value(Option<Node<'t>>),
    Container,
}

/// The path of `node` and whether it sits in a key or a value.
fn node_path<'t, S: Source + ?Sized>(node: Node<'t>, source: &S) -> (KeyPath, Role<'t>) {
    let mut segments = Vec::new();
    let mut role = None;
    let mut child = node;
    let mut current = node.parent();
    while let Some(parent) = current {
        match parent.kind() {
            "block_mapping_pair" | "flow_pair" => {
                let key = parent.child_by_field_name("key");
                let key_text = key
                    .and_then(|k| syntax::scalar_text(k, source))
                    .unwrap_or_default();
                let in_key =
                    key.is_some_and(|k| k.byte_range().contains(&child.start_byte()) || k == child);
                if role.is_none() {
                    role =
                        Some(if in_key {
                            Role::Key(key.unwrap_or(node))
                        } else {
                            Role::Value(Some(node).filter(|n| {
                                syntax::shape(*n) == NodeShape::Scalar || is_scalar(*n)
                            }))
                        });
                }
                segments.push(Segment::Key(key_text));
            }
            "block_sequence" | "flow_sequence" => {
                let index = item_index(parent, child);
                segments.push(Segment::Index(index));
                role.get_or_insert(Role::Value(Some(node).filter(|n| is_scalar(*n))));
            }
            _ => {}
        }
        child = parent;
        current = parent.parent();
    }
    segments.reverse();
    (KeyPath(segments), role.unwrap_or(Role::Container))
}

fn is_scalar(node: Node<'_>) -> bool {
    matches!(
        node.kind(),
        "plain_scalar"
            | "double_quote_scalar"
            | "single_quote_scalar"
            | "block_scalar"
            | "string_scalar"
            | "integer_scalar"
            | "float_scalar"
            | "boolean_scalar"
            | "null_scalar"
            | "timestamp_scalar"
    )
}

/// The position of `child` (a direct child) among a sequence's items.
fn item_index(sequence: Node<'_>, child: Node<'_>) -> usize {
    let mut cursor = sequence.walk();
    sequence
        .named_children(&mut cursor)
        .filter(|n| matches!(n.kind(), "block_sequence_item" | "flow_node" | "flow_pair"))
        .position(|n| n == child)
        .unwrap_or(0)
}

/// The line around an offset: its start and its text.
struct LineAt {
    start: usize,
    column: usize,
    text: String,
}

fn current_line<S: Source + ?Sized>(source: &S, offset: usize) -> LineAt {
    const REACH: usize = 8192;
    let before = source.text(offset.saturating_sub(REACH)..offset);
    let start = before
        .rfind(['\n', '\r'])
        .map_or(offset - before.len(), |i| offset - before.len() + i + 1);
    let after = source.text(offset..offset + REACH);
    let end = after
        .find(['\n', '\r'])
        .map_or(offset + after.len(), |i| offset + i);
    LineAt {
        start,
        column: offset - start,
        text: source.text(start..end).into_owned(),
    }
}

/// Reads the path of the cursor from the lines above it, by indentation: each line with less
/// indentation than the one below it that holds `key:` is a parent.
fn cursor_from_indentation<S: Source + ?Sized>(source: &S, offset: usize) -> Cursor {
    let line = current_line(source, offset);
    let before = &line.text[..line.column.min(line.text.len())];
    if let Some(colon) = before
        .find(": ")
        .or_else(|| before.strip_suffix(':').map(|b| b.len()))
    {
        let indent = before.len() - before.trim_start().len();
        let item = before.trim_start().starts_with("- ");
        let key = before[..colon]
            .trim()
            .trim_start_matches("- ")
            .trim()
            .to_string();
        let mut path =
            parent_path_by_indentation(source, line.start, indent + if item { 2 } else { 0 }, item);
        if item {
            path.push_index(0);
        }
        path.push_key(key);
        let prefix = before[(colon + 1).min(before.len())..]
            .trim_start()
            .to_string();
        return Cursor {
            path,
            target: CursorTarget::Value { prefix },
        };
    }
    let trimmed = before.trim_start();
    let indent = before.len() - trimmed.len();
    Cursor {
        path: parent_path_by_indentation(source, line.start, indent, false),
        target: CursorTarget::Key {
            prefix: trimmed.trim_start_matches("- ").to_string(),
        },
    }
}

/// The path of the mapping that a line starting at `line_start` with `indent` belongs to.
fn parent_path_by_indentation<S: Source + ?Sized>(
    source: &S,
    line_start: usize,
    indent: usize,
    _is_item: bool,
) -> KeyPath {
    let above = source.text(0..line_start);
    let mut segments = Vec::new();
    let mut want_below = indent;
    let mut item_indent_seen: Option<usize> = None;
    for raw in above.lines().rev() {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let line_indent = raw.len() - trimmed.len();
        let (content, content_indent) = match trimmed.strip_prefix("- ") {
            Some(rest) => (
                rest.trim_start(),
                line_indent + 2 + (rest.len() - rest.trim_start().len()),
            ),
            None => (trimmed, line_indent),
        };
        if trimmed.starts_with("- ") && line_indent < want_below && content_indent >= want_below {
            // A sibling key inside the same list item: the item is our parent.
            if item_indent_seen != Some(line_indent) {
                segments.push(Segment::Index(0));
                item_indent_seen = Some(line_indent);
            }
            want_below = line_indent + 1;
            continue;
        }
        if content_indent >= want_below && line_indent >= want_below {
            continue;
        }
        if let Some(key) = content
            .strip_suffix(':')
            .or_else(|| content.split_once(": ").map(|(k, _)| k))
            .filter(|_| content.ends_with(':') || content.trim_end().ends_with(':'))
        {
            segments.push(Segment::Key(
                key.trim().trim_matches(['"', '\'']).to_string(),
            ));
            want_below = line_indent;
            if trimmed.starts_with("- ") {
                segments.pop();
                segments.push(Segment::Key(key.trim().to_string()));
                segments.insert(segments.len() - 1, Segment::Index(0));
                // order is fixed below by the reverse
            }
        } else if trimmed.starts_with("- ") && line_indent < want_below {
            segments.push(Segment::Index(0));
            want_below = line_indent;
        } else if line_indent < want_below {
            want_below = line_indent;
        }
        if want_below == 0 {
            break;
        }
    }
    segments.reverse();
    KeyPath(segments)
}

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

    /// Parses a fixture with a `$0` cursor marker; returns the text without it and the offset.
    fn fixture(text: &str) -> (String, usize) {
        let offset = text.find("$0").expect("fixture has a $0 cursor");
        (text.replacen("$0", "", 1), offset)
    }

    fn cursor(text: &str) -> Cursor {
        let (text, offset) = fixture(text);
        let rope = Rope::from_str(&text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        cursor_at(&tree, text.as_str(), offset)
    }

    fn path(text: &str) -> String {
        cursor(text).path.to_string()
    }

    const POD: &str = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: ngi$0nx\n";

    #[test]
    fn path_of_a_value_in_a_well_formed_manifest() {
        let c = cursor(POD);
        assert_eq!(c.path.to_string(), "spec.template.spec.containers[0].image");
        assert_eq!(
            c.target,
            CursorTarget::Value {
                prefix: "ngi".into()
            }
        );
    }

    #[test]
    fn path_of_a_key() {
        let c = cursor("metadata:\n  lab$0els:\n    app: web\n");
        assert_eq!(c.path.to_string(), "metadata");
        assert_eq!(
            c.target,
            CursorTarget::Key {
                prefix: "lab".into()
            }
        );
    }

    #[test]
    fn half_typed_key_under_a_parent() {
        let c = cursor("apiVersion: v1\nkind: Pod\nspec:\n  contai$0\n");
        assert_eq!(c.path.to_string(), "spec");
        assert_eq!(
            c.target,
            CursorTarget::Key {
                prefix: "contai".into()
            }
        );
    }

    #[test]
    fn half_typed_key_in_a_list_item_among_siblings() {
        let c = cursor("spec:\n  containers:\n  - name: a\n    ima$0\n  restartPolicy: Always\n");
        assert_eq!(c.path.to_string(), "spec.containers[0]");
        assert_eq!(
            c.target,
            CursorTarget::Key {
                prefix: "ima".into()
            }
        );
    }

    #[test]
    fn second_list_item_index() {
        assert_eq!(
            path("containers:\n- name: a\n- name: b$0\n"),
            "containers[1].name"
        );
    }

    #[test]
    fn empty_top_level_line() {
        let c = cursor("apiVersion: v1\n$0\n");
        assert_eq!(c.path.to_string(), "");
        assert_eq!(
            c.target,
            CursorTarget::Key {
                prefix: String::new()
            }
        );
    }

    #[test]
    fn value_after_colon_while_typing() {
        let c = cursor("kind: Po$0\n");
        assert_eq!(c.path.to_string(), "kind");
        assert_eq!(
            c.target,
            CursorTarget::Value {
                prefix: "Po".into()
            }
        );
    }

    #[test]
    fn broken_text_falls_back_to_indentation() {
        let c = cursor("spec:\n  template:\n    metadata: {\n    spec:\n      replicas: $0\n");
        assert_eq!(c.path.to_string(), "spec.template.spec.replicas");
    }

    #[test]
    fn parse_and_display_api_server_paths() {
        let p = KeyPath::parse("spec.template.spec.containers[0].image");
        assert_eq!(p.to_string(), "spec.template.spec.containers[0].image");
        let p = KeyPath::parse("metadata.labels[app.kubernetes.io/name]");
        assert_eq!(
            p.0.last(),
            Some(&Segment::Key("app.kubernetes.io/name".into()))
        );
    }

    #[test]
    fn range_of_paths() {
        let text = POD.replace("$0", "");
        let rope = Rope::from_str(&text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let at =
            |p: &str, t| range_of(&tree, text.as_str(), &KeyPath::parse(p), t).map(|r| &text[r]);
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
            Some("image").filter(|_| false).or(at(
                "spec.template.spec.containers[0].ports[0]",
                RangeTarget::Key
            ))
        );
        assert_eq!(
            at("spec.template.metadata", RangeTarget::Key),
            Some("template")
        );
    }
}
