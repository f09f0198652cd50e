//! The path at a cursor (`spec.template.spec.containers[0].image`), read from the text's
//! indentation so half-typed text works too, and the `apiVersion`/`kind` read the same way.

use std::ops::Range;

use super::key_path::{KeyPath, Segment};
use super::lines::{Container, Line, LineKey, LinesAbove, keys_below};
use super::manifest::TypeMeta;

/// Where the cursor is, as completion and hover need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CursorTarget {
    /// A key of the mapping at `path` (or, for `- |` in a sequence of scalars, the item itself).
    /// `prefix` is what is typed before the cursor, `key` the whole word under it, `has_colon`
    /// whether a `:` already follows it.
    Key {
        prefix: String,
        key: String,
        has_colon: bool,
    },
    /// The value of the key at `path`; `value` is the whole scalar under the cursor;
    /// `needs_space` when the cursor is right after the colon (`kind:|`).
    Value {
        prefix: String,
        value: String,
        needs_space: bool,
    },
    /// In a comment, a block scalar or a flow collection: nothing to complete or explain.
    Nothing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// For a key: the mapping that holds it. For a value: the key it belongs to.
    pub path: KeyPath,
    pub target: CursorTarget,
    /// The key or value text under the cursor (document-relative): what completion replaces and
    /// hover is about. Empty where nothing is typed yet.
    pub range: Range<usize>,
    /// The column the key or value starts at, for indenting multi-line insertions.
    pub column: usize,
    /// For a key: the other keys of its mapping, above and below.
    pub siblings: Vec<String>,
    /// The sequence items along `path` whose content is a block mapping (an item of a List's
    /// `items`, a container…) or may become one (a word being typed after `-`), outermost
    /// first: where each starts, to read its other keys.
    pub items: Vec<ItemStart>,
}

/// Where a block sequence item holding a mapping starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemStart {
    /// How many segments of the cursor's path lead to the item, its index included (2 for
    /// `items[3]`).
    pub depth: usize,
    /// Offset of the line holding the item's `-`.
    pub line_start: usize,
    /// Column of the item's keys.
    pub column: usize,
}

impl Cursor {
    fn nothing(offset: usize) -> Self {
        Cursor {
            path: KeyPath::default(),
            target: CursorTarget::Nothing,
            range: offset..offset,
            column: 0,
            siblings: Vec::new(),
            items: Vec::new(),
        }
    }
}

/// The path at `offset` in a document's text, read from indentation alone: no syntax tree, so it
/// works the same in half-typed text (`spec:\n  contai|` is a key being typed under `spec`) and
/// costs one backward pass over the lines above, even in a document of 20,000 lines. Block
/// YAML only: inside flow collections (`{…}`, `[…]`), comments and block scalars it gives
/// `Nothing`.
pub fn cursor_at(text: &str, offset: usize) -> Cursor {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line_end = text[offset..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| offset + i);
    let line = Line::parse(line_start, &text[line_start..line_end]);
    let column = offset - line_start;
    if line.comment_start.is_some_and(|c| column > c) || line.marker {
        return Cursor::nothing(offset);
    }
    match &line.key {
        Some(key) if column > key.colon => value_cursor(text, &line, key, column),
        _ => key_cursor(text, &line, column),
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The cursor on a key, or where a key (or a sequence item's scalar) is being typed.
fn key_cursor(text: &str, line: &Line<'_>, column: usize) -> Cursor {
    let start_column = if column >= line.content {
        line.content
    } else if line.is_blank() {
        column
    } else {
        // In the indentation (or between `-` markers) of a line that has content.
        return Cursor::nothing(line.start + column);
    };
    if line.flow_at(start_column) {
        return Cursor::nothing(line.start + column);
    }
    let (word_end, has_colon) = match &line.key {
        Some(key) => (key.end.max(column), true),
        None => (line.plain_end(start_column).max(column), false),
    };
    let key = match &line.key {
        Some(key) => key.name.clone(),
        None => line.text[start_column..word_end].trim_end().to_string(),
    };
    let prefix = line.text[start_column..column].to_string();
    let Some(Walk {
        path,
        mut siblings,
        items,
    }) = container_path(text, line, start_column, Entry::Key)
    else {
        return Cursor::nothing(line.start + column);
    };
    siblings.extend(siblings_below(text, line, start_column));
    siblings.retain(|s| *s != key || key.is_empty());
    Cursor {
        path,
        target: CursorTarget::Key {
            prefix,
            key,
            has_colon,
        },
        range: line.start + start_column..line.start + word_end,
        column: start_column,
        siblings,
        items,
    }
}

/// The cursor after `key:`.
fn value_cursor(text: &str, line: &Line<'_>, key: &LineKey, column: usize) -> Cursor {
    let Some(Walk {
        mut path, items, ..
    }) = container_path(text, line, key.column, Entry::Key)
    else {
        return Cursor::nothing(line.start + column);
    };
    path.push_key(key.name.clone());
    let value = key.value;
    if value.starts_with(['|', '>', '{', '[', '&', '*', '!']) {
        return Cursor::nothing(line.start + column);
    }
    let (mut start, mut end) = (key.value_column, key.value_column + value.len());
    if value.starts_with(['"', '\'']) {
        start += 1;
        if value.len() > 1 && value.ends_with(&value[..1]) {
            end -= 1;
        }
    }
    let (start, end) = if column < start {
        (column, column)
    } else {
        (start, end.max(column))
    };
    Cursor {
        path,
        target: CursorTarget::Value {
            prefix: line.text[start..column].to_string(),
            value: line.text[start..end].to_string(),
            needs_space: start == key.colon + 1,
        },
        range: line.start + start..line.start + end,
        column: start,
        siblings: Vec::new(),
        items,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// A key of a block mapping.
    Key,
    /// A `- ` sequence item.
    Item,
}

/// What [`container_path`] reads on its way up.
struct Walk {
    path: KeyPath,
    siblings: Vec<String>,
    items: Vec<ItemStart>,
}

/// The path of the collection holding the entry at `column` of `line`, (for a key) the keys
/// above it in the same mapping, and where the mapping items along the path start; `None` inside
/// a block scalar.
fn container_path(text: &str, line: &Line<'_>, column: usize, entry: Entry) -> Option<Walk> {
    let mut above = LinesAbove::new(text, line.start);
    let mut segments = Vec::new();
    let mut siblings = Vec::new();
    // (segments read so far, line start, keys' column): the item's index is the next segment.
    let mut items = Vec::new();
    let (mut column, mut entry) = (column, entry);
    let mut on_line = line.entry_before(column);
    // Containers come from the cursor's own line until the walk leaves it.
    let mut left_cursor_line = false;
    for step in 0.. {
        let mut index = 0;
        let found = match on_line.take() {
            Some(container) => Some(container),
            None => {
                left_cursor_line = true;
                // Only the cursor's own mapping has siblings to report.
                let siblings = (step == 0).then_some(&mut siblings);
                walk_up(&mut above, column, entry, &mut index, siblings)
            }
        };
        let found_on = if left_cursor_line {
            above.start
        } else {
            line.start
        };
        if entry == Entry::Item {
            segments.push(Segment::Index(index));
        }
        if let (Entry::Key, Some(Container::Item { .. })) = (entry, &found) {
            items.push((segments.len(), found_on, column));
        }
        let (next_column, next_entry) = match found {
            None => break,
            Some(Container::Key {
                block_scalar: true, ..
            }) => return None,
            Some(Container::Key { name, column, .. }) => {
                segments.push(Segment::Key(name));
                (column, Entry::Key)
            }
            Some(Container::Item { column }) => (column, Entry::Item),
        };
        on_line = if left_cursor_line {
            above.entry_before(next_column)
        } else {
            line.entry_before(next_column)
        };
        (column, entry) = (next_column, next_entry);
    }
    segments.reverse();
    let depth = segments.len();
    let items = items
        .into_iter()
        .rev()
        .map(|(read, line_start, column)| ItemStart {
            depth: depth - read,
            line_start,
            column,
        })
        .collect();
    Some(Walk {
        path: KeyPath(segments),
        siblings,
        items,
    })
}

/// Walks up from the last line read to the line holding the collection of an entry at `column`;
/// counts earlier items of a sequence into `index` and collects keys of a mapping into `siblings`.
fn walk_up(
    above: &mut LinesAbove<'_>,
    column: usize,
    entry: Entry,
    index: &mut usize,
    mut siblings: Option<&mut Vec<String>>,
) -> Option<Container> {
    while let Some(line) = above.next_line(column) {
        if line.is_blank() || line.indent > column {
            continue;
        }
        match entry {
            Entry::Key => {
                if let Some(key) = line.key_at(column) {
                    if let Some(siblings) = siblings.as_deref_mut() {
                        siblings.push(key.name.clone());
                    }
                    if let Some(container) = line.entry_before(column) {
                        return Some(container);
                    }
                    continue;
                }
                if line.indent == column {
                    // A compact sequence (`- …` at the key's column) or a half-typed word.
                    continue;
                }
            }
            Entry::Item => {
                if line.dashes.contains(&column) {
                    *index += 1;
                    if let Some(container) = line.entry_before(column) {
                        return Some(container);
                    }
                    continue;
                }
                // `key:` at the items' column holds a compact sequence (also `- key:`).
                if let Some(key) = line.key_at(column) {
                    return Some(Container::Key {
                        name: key.name.clone(),
                        column,
                        block_scalar: false,
                    });
                }
                if line.indent == column {
                    continue;
                }
            }
        }
        if let Some(container) = line.entry_before(column) {
            return Some(container);
        }
    }
    None
}

/// The keys at `column` in the lines below `line`, up to the end of their mapping.
fn siblings_below(text: &str, line: &Line<'_>, column: usize) -> Vec<String> {
    let mut siblings = Vec::new();
    keys_below(text, line, column, |_, key| {
        siblings.push(key.name.clone());
        false
    });
    siblings
}

/// The text and range of a top-level scalar (`apiVersion`, `kind`) of a document.
pub fn top_level_scalar(text: &str, key: &str) -> Option<(String, Range<usize>)> {
    let finder = memchr::memmem::Finder::new(key.as_bytes());
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = finder.find(&bytes[from..]) {
        let at = from + found;
        from = at + 1;
        if at != 0 && !matches!(bytes[at - 1], b'\n' | b'\r') {
            continue;
        }
        let end = text[at..].find(['\n', '\r']).map_or(text.len(), |i| at + i);
        let line = Line::parse(at, &text[at..end]);
        let Some(parsed) = line.key.as_ref().filter(|k| k.name == key && k.column == 0) else {
            continue;
        };
        return scalar_value(&line, parsed);
    }
    None
}

/// A key's scalar value and its range (inside quotes); `None` when it is empty.
fn scalar_value(line: &Line<'_>, key: &LineKey<'_>) -> Option<(String, Range<usize>)> {
    let value = key.value.trim_matches(['"', '\'']);
    if value.is_empty() {
        return None;
    }
    let quote = usize::from(key.value.starts_with(['"', '\'']));
    let start = line.start + key.value_column + quote;
    Some((value.to_string(), start..start + value.len()))
}

/// The `apiVersion` and `kind` of a sequence item holding an object (an item of a List): its
/// keys at `item.column`, from its `-` line down to the end of the item, read from indentation
/// alone like [`cursor_at`], so lines that do not parse yet around them do not matter. Reads no
/// further than the item, and stops once both are found.
pub fn item_type_meta(text: &str, item: &ItemStart) -> TypeMeta {
    let mut meta = TypeMeta::default();
    let Some(head) = text.get(item.line_start..) else {
        return meta;
    };
    let end = head
        .find(['\n', '\r'])
        .map_or(text.len(), |i| item.line_start + i);
    let first = Line::parse(item.line_start, &text[item.line_start..end]);
    let mut read = |line: &Line<'_>, key: &LineKey<'_>| {
        let slot = match key.name.as_str() {
            "apiVersion" => &mut meta.api_version,
            "kind" => &mut meta.kind,
            _ => return false,
        };
        if slot.is_none() {
            *slot = scalar_value(line, key);
        }
        meta.api_version.is_some() && meta.kind.is_some()
    };
    if let Some(key) = first.key_at(item.column)
        && read(&first, key)
    {
        return meta;
    }
    keys_below(text, &first, item.column, read);
    meta
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fixture;
    use crate::yaml::corpus;
    use crate::yaml::syntax::{self, NodeShape};
    use ropey::Rope;
    use tree_sitter::Node;

    fn cursor(text: &str) -> Cursor {
        let (text, offset) = fixture::cursor(text);
        cursor_at(&text, offset)
    }

    fn path(text: &str) -> String {
        cursor(text).path.to_string()
    }

    fn key(prefix: &str, key: &str, has_colon: bool) -> CursorTarget {
        CursorTarget::Key {
            prefix: prefix.into(),
            key: key.into(),
            has_colon,
        }
    }

    fn value(prefix: &str, value: &str) -> CursorTarget {
        CursorTarget::Value {
            prefix: prefix.into(),
            value: value.into(),
            needs_space: false,
        }
    }

    const POD: &str = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: ngi$0nx\n";

    #[test]
    fn path_of_a_value_in_a_well_formed_manifest() {
        let c = cursor(POD);
        assert_eq!(c.path.to_string(), "spec.template.spec.containers[0].image");
        assert_eq!(c.target, value("ngi", "nginx"));
        let (text, _) = fixture::cursor(POD);
        assert_eq!(&text[c.range], "nginx");
    }

    #[test]
    fn path_of_a_key() {
        let c = cursor("metadata:\n  lab$0els:\n    app: web\n  name: x\n");
        assert_eq!(c.path.to_string(), "metadata");
        assert_eq!(c.target, key("lab", "labels", true));
        assert_eq!(c.siblings, ["name"]);
    }

    #[test]
    fn half_typed_key_under_a_parent() {
        for text in [
            "apiVersion: v1\nkind: Pod\nspec:\n  contai$0\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  contai$0",
        ] {
            let c = cursor(text);
            assert_eq!(c.path.to_string(), "spec");
            assert_eq!(c.target, key("contai", "contai", false));
            assert_eq!(c.column, 2);
        }
    }

    #[test]
    fn half_typed_key_in_a_list_item_among_siblings() {
        let c = cursor("spec:\n  containers:\n  - name: a\n    ima$0\n  restartPolicy: Always\n");
        assert_eq!(c.path.to_string(), "spec.containers[0]");
        assert_eq!(c.target, key("ima", "ima", false));
        assert_eq!(c.siblings, ["name"]);
        let c = cursor("- name: x\n  ima$0");
        assert_eq!(c.path.to_string(), "[0]");
        assert_eq!(c.siblings, ["name"]);
    }

    #[test]
    fn empty_line_under_a_sequence_item() {
        let c = cursor(
            "containers:\n- name: a\n  image: b\n- name: c\n  $0\n  ports: []\nvolumes: []\n",
        );
        assert_eq!(c.path.to_string(), "containers[1]");
        assert_eq!(c.target, key("", "", false));
        assert_eq!(c.siblings, ["name", "ports"]);
        // Indented sequences and a cursor right after `- `.
        let c = cursor("spec:\n  containers:\n    - name: a\n    - $0\n");
        assert_eq!(c.path.to_string(), "spec.containers[1]");
        assert_eq!(c.target, key("", "", false));
    }

    #[test]
    fn item_indices_count_only_their_own_sequence() {
        assert_eq!(
            path("containers:\n- name: a\n- name: b$0\n"),
            "containers[1].name"
        );
        assert_eq!(
            path("a:\n- x: 1\n  b:\n  - 1\n  - 2\n- x: 2\n  b:\n  - $0\n"),
            "a[1].b[0]"
        );
        assert_eq!(path("- - a\n  - b$0\n"), "[0][1]");
        assert_eq!(path("- - a\n  - b\n- - c$0\n"), "[1][0]");
        // `-` alone on its line, the item's keys below it.
        assert_eq!(path("a:\n-\n  x: 1\n-\n  y: $0\n"), "a[1].y");
        let c = cursor("a:\n-\n  x: 1\n  $0\n-\n  y: 2\n");
        assert_eq!(c.path.to_string(), "a[0]");
        assert_eq!(c.siblings, ["x"]);
    }

    #[test]
    fn empty_top_level_line() {
        let c = cursor("apiVersion: v1\n$0\nkind: Pod\n");
        assert_eq!(c.path.to_string(), "");
        assert_eq!(c.target, key("", "", false));
        assert_eq!(c.siblings, ["apiVersion", "kind"]);
    }

    #[test]
    fn value_after_colon_while_typing() {
        let c = cursor("kind: Po$0\n");
        assert_eq!(c.path.to_string(), "kind");
        assert_eq!(c.target, value("Po", "Po"));
        let c = cursor("apiVersion: v1\nkind: $0\n");
        assert_eq!(c.path.to_string(), "kind");
        assert_eq!(c.target, value("", ""));
        assert_eq!(c.range, 21..21);
        let c = cursor("kind:$0\n");
        assert_eq!(
            c.target,
            CursorTarget::Value {
                prefix: String::new(),
                value: String::new(),
                needs_space: true
            }
        );
        let c = cursor("kind: \"Dep$0loyment\" # the kind\n");
        assert_eq!(c.target, value("Dep", "Deployment"));
        let c = cursor("spec:\n  containers:\n  - name: $0\n");
        assert_eq!(c.path.to_string(), "spec.containers[0].name");
    }

    #[test]
    fn broken_text_falls_back_to_indentation() {
        let c = cursor("spec:\n  template:\n    metadata: {\n    spec:\n      replicas: $0\n");
        assert_eq!(c.path.to_string(), "spec.template.spec.replicas");
    }

    #[test]
    fn markers_comments_and_block_scalars() {
        assert_eq!(path("---\nkind: $0\n"), "kind");
        assert_eq!(cursor("# a comment $0\n").target, CursorTarget::Nothing);
        assert_eq!(cursor("kind: Pod # a $0\n").target, CursorTarget::Nothing);
        let block = "data:\n  script: |\n    echo\n    $0\n  other: 1\n";
        assert_eq!(cursor(block).target, CursorTarget::Nothing);
        let after_block = "data:\n  script: |\n    echo\n  $0\n";
        assert_eq!(cursor(after_block).path.to_string(), "data");
        assert_eq!(cursor(after_block).siblings, ["script"]);
        assert_eq!(
            cursor("metadata:\n  labels: {a: $0}\n").target,
            CursorTarget::Nothing
        );
    }

    #[test]
    fn crlf_and_multibyte_text() {
        assert_eq!(
            path("metadata:\r\n  annotations:\r\n    note: héllo\r\n    $0\r\n"),
            "metadata.annotations"
        );
        assert_eq!(path("a: é$0"), "a");
        // Deeper and blank lines skipped on the way up, with each kind of line break.
        for br in ["\n", "\r\n", "\r"] {
            let text = [
                "a:",
                "- b:",
                "    c: 1",
                "",
                "      ",
                "  d:",
                "      e: 2",
                "",
                "  $0",
            ]
            .join(br);
            let c = cursor(&text);
            assert_eq!(c.path.to_string(), "a[0]", "{text:?}");
            assert_eq!(c.siblings, ["d", "b"], "{text:?}");
            assert_eq!(path(&text.replace("  $0", "- y: $0")), "a[1].y", "{text:?}");
        }
    }

    #[test]
    fn top_level_scalars() {
        let text =
            "# c\napiVersion: \"apps/v1\"\nmetadata:\n  kind: nested\nkind: Deployment # x\n";
        let (kind, range) = top_level_scalar(text, "kind").unwrap();
        assert_eq!((kind.as_str(), &text[range]), ("Deployment", "Deployment"));
        let (version, range) = top_level_scalar(text, "apiVersion").unwrap();
        assert_eq!((version.as_str(), &text[range]), ("apps/v1", "apps/v1"));
        assert_eq!(top_level_scalar("kind:\n", "kind"), None);
    }

    /// The apiVersion and kind of the item at `depth` of the cursor's path, as text.
    fn item_type(text: &str, depth: usize) -> (Option<String>, Option<String>) {
        let (text, offset) = fixture::cursor(text);
        let c = cursor_at(&text, offset);
        let item = c
            .items
            .iter()
            .find(|i| i.depth == depth)
            .unwrap_or_else(|| panic!("no item at depth {depth}: {c:?}"));
        let meta = item_type_meta(&text, item);
        let at = |found: Option<(String, Range<usize>)>| {
            found.map(|(value, range)| {
                assert_eq!(text[range].to_string(), value);
                value
            })
        };
        (at(meta.api_version), at(meta.kind))
    }

    fn some(api_version: &str, kind: &str) -> (Option<String>, Option<String>) {
        (Some(api_version.into()), Some(kind.into()))
    }

    #[test]
    fn items_along_the_path_start_where_their_dash_is() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    repl$0\n";
        let c = cursor(text);
        assert_eq!(c.path.to_string(), "items[1].spec");
        let dash = text.find("- apiVersion: apps/v1").unwrap();
        assert_eq!(
            c.items,
            [ItemStart {
                depth: 2,
                line_start: dash,
                column: 2
            }]
        );
        // Every mapping item on the way, outermost first; indented sequences.
        let c = cursor(
            "items:\n  - kind: List\n    items:\n      -\n        kind: Pod\n        spec:\n          containers:\n          - name: a\n            ima$0\n",
        );
        assert_eq!(c.path.to_string(), "items[0].items[0].spec.containers[0]");
        let depths: Vec<(usize, usize)> = c.items.iter().map(|i| (i.depth, i.column)).collect();
        assert_eq!(depths, [(2, 4), (4, 8), (7, 12)]);
        // On the item's own line: a key being typed, a value, an empty item.
        let c = cursor("items:\n- ki$0\n");
        assert_eq!(c.path.to_string(), "items[0]");
        assert_eq!((c.items[0].depth, c.items[0].line_start), (2, 7));
        assert_eq!(cursor("items:\n- kind: Po$0\n").items[0].line_start, 7);
        let c = cursor("items:\n- kind: Pod\n- $0\n");
        assert_eq!(c.path.to_string(), "items[1]");
        assert_eq!((c.items[0].line_start, c.items[0].column), (19, 2));
        // A word after `-` may be a key being typed; an item holding a sequence is no mapping.
        let c = cursor("a:\n- - b$0\n");
        assert_eq!(c.path.to_string(), "a[0][0]");
        let depths: Vec<(usize, usize)> = c.items.iter().map(|i| (i.depth, i.column)).collect();
        assert_eq!(depths, [(3, 4)]);
        assert!(cursor("a:\n  b: $0\n").items.is_empty());
    }

    #[test]
    fn the_type_of_a_list_item() {
        let list = "apiVersion: v1\nkind: List\nitems:\n";
        assert_eq!(
            item_type(
                &format!(
                    "{list}- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    $0\n- apiVersion: v1\n  kind: Service\n"
                ),
                2
            ),
            some("apps/v1", "Deployment")
        );
        // Below the cursor, after lines that do not parse yet; quoted; the item's own only.
        assert_eq!(
            item_type(
                &format!(
                    "{list}- metadata:\n    name: x\n  spec:\n    selector: {{\n    $0\n  status: [\n  \"kind\": 'Pod' # a pod\n  apiVersion: \"v1\"\n- kind: Service\n"
                ),
                2
            ),
            some("v1", "Pod")
        );
        assert_eq!(
            item_type(
                &format!("{list}- metadata:\n    $0\n- apiVersion: v1\n  kind: Service\n"),
                2
            ),
            (None, None)
        );
        // `-` alone on its line; compact sequences in the item; a half-typed kind.
        assert_eq!(
            item_type(
                &format!(
                    "{list}-\n  apiVersion: v1\n  spec:\n    ports:\n    - port: 1\n  $0\n  kind: Service\n"
                ),
                2
            ),
            some("v1", "Service")
        );
        assert_eq!(
            item_type(&format!("{list}- apiVersion: v1\n  kind: $0\n"), 2),
            (Some("v1".into()), None)
        );
        // A List in a List: each item has its own.
        let nested = format!(
            "{list}- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: batch/v1\n    kind: Job\n    spec:\n      $0\n"
        );
        assert_eq!(item_type(&nested, 2), some("v1", "List"));
        assert_eq!(item_type(&nested, 4), some("batch/v1", "Job"));
        // CRLF line breaks.
        assert_eq!(
            item_type("items:\r\n- kind: Pod\r\n  $0\r\n  apiVersion: v1\r\n", 2),
            some("v1", "Pod")
        );
    }

    /// The path of a node from the syntax tree, as the reference for the indentation reading.
    fn tree_path(node: Node<'_>, source: &str) -> Option<KeyPath> {
        let mut segments = Vec::new();
        let mut child = node;
        let mut current = node.parent();
        while let Some(parent) = current {
            match parent.kind() {
                "block_mapping_pair" => {
                    let key = parent.child_by_field_name("key")?;
                    if key != child {
                        segments.push(Segment::Key(syntax::scalar_text(key, source)?));
                    }
                }
                "block_sequence" => {
                    let mut cursor = parent.walk();
                    let index = parent
                        .named_children(&mut cursor)
                        .filter(|n| n.kind() == "block_sequence_item")
                        .position(|n| n == child)?;
                    segments.push(Segment::Index(index));
                }
                "flow_mapping" | "flow_sequence" | "block_scalar" => return None,
                _ => {}
            }
            child = parent;
            current = parent.parent();
        }
        segments.reverse();
        Some(KeyPath(segments))
    }

    /// The block sequence items holding a block mapping around `node`, from the syntax tree.
    fn tree_items(node: Node<'_>, source: &str) -> Vec<ItemStart> {
        let mut items = Vec::new();
        let mut current = node.parent();
        while let Some(item) = current {
            current = item.parent();
            if item.kind() != "block_sequence_item" {
                continue;
            }
            let Some(mapping) = item
                .named_child(0)
                .and_then(syntax::content)
                .filter(|m| m.kind() == "block_mapping")
            else {
                continue;
            };
            let line_start = source[..item.start_byte()]
                .rfind(['\n', '\r'])
                .map_or(0, |i| i + 1);
            items.push(ItemStart {
                depth: tree_path(mapping, source).map_or(0, |p| p.0.len()),
                line_start,
                column: mapping.start_position().column,
            });
        }
        items.reverse();
        items
    }

    /// Every single-line key and scalar value of a well-formed document: the indentation reading
    /// gives the same path as the syntax tree.
    fn check_against_tree(text: &str) -> usize {
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        if tree.root_node().has_error() {
            return 0;
        }
        let mut pairs = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(node) = stack.pop() {
            let mut walk = node.walk();
            stack.extend(node.named_children(&mut walk));
            if node.kind() == "block_mapping_pair" {
                pairs.push(node);
            }
        }
        // Each reading walks up to the document's root: sample big documents (argocd's CRD has
        // tens of thousands of keys) so the test stays linear.
        let step = pairs.len().div_ceil(60).max(1);
        let mut checked = 0;
        for node in pairs.into_iter().step_by(step) {
            let single_line = node.start_position().row == node.end_position().row;
            {
                let Some(key) = node.child_by_field_name("key") else {
                    continue;
                };
                let Some(expected) = tree_path(key, text) else {
                    continue;
                };
                if key.start_position().row != key.end_position().row {
                    continue;
                }
                let name = syntax::scalar_text(key, text).unwrap_or_default();
                let c = cursor_at(text, key.end_byte());
                assert_eq!(
                    c.path,
                    expected,
                    "key {name:?} at byte {}",
                    key.start_byte()
                );
                assert_eq!(
                    c.items,
                    tree_items(key, text),
                    "items around key {name:?} at byte {}",
                    key.start_byte()
                );
                assert!(
                    matches!(&c.target, CursorTarget::Key { key, .. } if *key == name),
                    "key {name:?} at byte {}: {c:?}",
                    key.start_byte()
                );
                let mut expected = expected;
                expected.push_key(name.clone());
                checked += 1;
                if let Some(value) = node.child_by_field_name("value").filter(|_| single_line) {
                    let scalar = syntax::shape(value) == NodeShape::Scalar
                        && !text[value.byte_range()].starts_with(['|', '>', '&', '!', '*']);
                    if scalar {
                        let c = cursor_at(text, value.end_byte());
                        assert!(
                            matches!(c.target, CursorTarget::Value { .. }),
                            "value at byte {}: {c:?}",
                            value.start_byte()
                        );
                        assert_eq!(c.path, expected, "value at byte {}", value.start_byte());
                        checked += 1;
                    }
                }
            }
        }
        checked
    }

    #[test]
    fn indentation_reading_agrees_with_the_tree_on_real_manifests() {
        let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let mut files: Vec<std::path::PathBuf> = [
            examples,
            corpus::root().join("real"),
            corpus::root().join("seed"),
        ]
        .iter()
        .flat_map(|dir| corpus::yaml_files(dir))
        .collect();
        files.sort();
        let mut checked = 0;
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            for range in crate::yaml::split::split(&text).documents {
                checked += check_against_tree(&text[range]);
            }
        }
        assert!(checked > 1000, "only {checked} nodes checked in {files:?}");
    }
}
