//! Key paths: the path at a cursor (`spec.template.spec.containers[0].image`), read from the
//! text's indentation so half-typed text works too, and the text range of a path, so later layers
//! put diagnostics on the right key or value.

use std::fmt;
use std::ops::Range;

use tree_sitter::Tree;

use super::manifest::TypeMeta;
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

/// A block-YAML line, read as far as paths need.
struct Line<'a> {
    /// Document-relative offset of its first byte.
    start: usize,
    text: &'a str,
    indent: usize,
    /// Columns of `- ` sequence entries before the content (`- - a` has two).
    dashes: Vec<usize>,
    /// Column of what follows the dashes.
    content: usize,
    key: Option<LineKey<'a>>,
    comment_start: Option<usize>,
    /// `---`, `...` or a `%` directive.
    marker: bool,
}

struct LineKey<'a> {
    name: String,
    column: usize,
    /// Column just after the key's text (before the colon and any spaces).
    end: usize,
    colon: usize,
    /// The value's text after the colon, without a trailing comment.
    value: &'a str,
    value_column: usize,
}

impl<'a> Line<'a> {
    fn parse(start: usize, text: &'a str) -> Line<'a> {
        let bytes = text.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let marker = indent == 0
            && (crate::yaml::split::marker_kind(bytes).is_some()
                || bytes.starts_with(b"---") && bytes.len() == 3);
        let mut dashes = Vec::new();
        let mut column = indent;
        if !marker {
            while bytes.get(column) == Some(&b'-')
                && matches!(bytes.get(column + 1), None | Some(b' '))
            {
                dashes.push(column);
                column += 1;
                column += bytes[column..].iter().take_while(|&&b| b == b' ').count();
            }
        }
        let comment_start = comment_start(text, column);
        let mut line = Line {
            start,
            text,
            indent,
            dashes,
            content: column,
            key: None,
            comment_start,
            marker,
        };
        if !marker && comment_start != Some(column) {
            line.key = line.parse_key(column);
        }
        line
    }

    /// Nothing on it but spaces or a comment (a `-` alone is an item: not blank).
    fn is_blank(&self) -> bool {
        self.marker
            || self.dashes.is_empty()
                && (self.comment_start == Some(self.content)
                    || self.text[self.content..].trim().is_empty())
    }

    /// `key: value` starting at `column`, if the line has one there.
    fn parse_key(&self, column: usize) -> Option<LineKey<'a>> {
        let text = self.text;
        let rest = &text[column..];
        let (name, end) = match rest.as_bytes().first()? {
            quote @ (b'"' | b'\'') => {
                let close = closing_quote(rest, *quote)?;
                let inner = &rest[1..close];
                let name = if *quote == b'\'' {
                    inner.replace("''", "'")
                } else {
                    inner.replace("\\\"", "\"")
                };
                (name, column + close + 1)
            }
            b'{' | b'[' | b'?' | b'|' | b'>' | b'#' => return None,
            _ => {
                let limit = self.comment_start.unwrap_or(text.len());
                let colon = mapping_colon(&text[column..limit])?;
                let name = text[column..column + colon].trim_end();
                (name.to_string(), column + name.len())
            }
        };
        let after = &text[end..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        let colon = end + spaces;
        if text.as_bytes().get(colon) != Some(&b':')
            || !matches!(text.as_bytes().get(colon + 1), None | Some(b' ' | b'\t'))
        {
            return None;
        }
        let value_end = self.comment_start.unwrap_or(text.len()).max(colon + 1);
        let raw = &text[colon + 1..value_end];
        let value_column = colon + 1 + (raw.len() - raw.trim_start().len());
        Some(LineKey {
            name,
            column,
            end,
            colon,
            value: raw.trim(),
            value_column,
        })
    }

    /// Where the plain scalar starting at `column` ends (before a comment and trailing blanks).
    fn plain_end(&self, column: usize) -> usize {
        let limit = self.comment_start.unwrap_or(self.text.len()).max(column);
        column + self.text[column..limit].trim_end().len()
    }

    /// Whether the content at `column` opens a flow collection.
    fn flow_at(&self, column: usize) -> bool {
        self.text[column..].starts_with(['{', '['])
    }

    /// The last entry of this line that starts before `column`: the collection a node at
    /// `column` (on this line or below) belongs to.
    fn entry_before(&self, column: usize) -> Option<Container> {
        if let Some(key) = self.key.as_ref().filter(|k| k.column < column) {
            return Some(Container::Key {
                name: key.name.clone(),
                column: key.column,
                block_scalar: key.value.starts_with(['|', '>']),
            });
        }
        self.dashes
            .iter()
            .rev()
            .find(|&&d| d < column)
            .map(|&column| Container::Item { column })
    }

    fn key_at(&self, column: usize) -> Option<&LineKey<'a>> {
        self.key.as_ref().filter(|k| k.column == column)
    }
}

/// Column of a ` #` comment (or `#` at `from`), outside quotes.
fn comment_start(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote = None;
    for i in from..bytes.len() {
        match (quote, bytes[i]) {
            (None, b'#') if i == from || matches!(bytes[i - 1], b' ' | b'\t') => return Some(i),
            (None, q @ (b'"' | b'\'')) if i == from || matches!(bytes[i - 1], b' ' | b':') => {
                quote = Some(q)
            }
            (Some(b'"'), b'\\') => {}
            (Some(q), b) if b == q && !(q == b'"' && i > 0 && bytes[i - 1] == b'\\') => {
                quote = None
            }
            _ => {}
        }
    }
    None
}

fn closing_quote(text: &str, quote: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b if b == quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the `:` that makes a plain `key: value`, if any.
fn mapping_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')))
}

/// What a node is an entry of.
enum Container {
    Key {
        name: String,
        column: usize,
        block_scalar: bool,
    },
    Item {
        column: usize,
    },
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

/// Calls `f` with each line below `line` that holds a key at `column` (and that key), up to the
/// end of their mapping or until `f` returns `true`.
fn keys_below<'a>(
    text: &'a str,
    line: &Line<'_>,
    column: usize,
    mut f: impl FnMut(&Line<'a>, &LineKey<'a>) -> bool,
) {
    let mut start = line.start + line.text.len();
    while start < text.len() {
        start += if text[start..].starts_with("\r\n") {
            2
        } else {
            1
        };
        let end = text[start..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| start + i);
        let raw = &text[start..end];
        let indent = raw.bytes().take_while(|&b| b == b' ').count();
        if indent > column || indent == raw.len() {
            start = end;
            continue;
        }
        let below = Line::parse(start, raw);
        start = end;
        if below.is_blank() || below.indent == column && below.dashes.first() == Some(&column) {
            continue;
        }
        if below.indent < column {
            break;
        }
        if let Some(key) = below.key_at(column)
            && f(&below, key)
        {
            break;
        }
    }
}

/// The lines above a point, last first; lines deeper than asked are skipped unparsed.
struct LinesAbove<'a> {
    text: &'a str,
    /// Start of the last line returned.
    start: usize,
    last: Option<Line<'a>>,
}

impl<'a> LinesAbove<'a> {
    fn new(text: &'a str, start: usize) -> Self {
        Self {
            text,
            start,
            last: None,
        }
    }

    /// The next line up that is indented `column` or less, parsed. Lines deeper than that and
    /// blank ones, which a walk up at `column` passes by, are skipped after a look at their
    /// first `column + 1` bytes, so a walk to the top of a long List or CRD stays one quick pass.
    fn next_line(&mut self, column: usize) -> Option<&Line<'a>> {
        if self.start == 0 {
            return None;
        }
        let bytes = self.text.as_bytes();
        // The end of the line above the last one: before its `\n` or `\r\n`.
        let line_end = |start: usize| {
            let end = start - 1;
            if end > 0 && bytes[end] == b'\n' && bytes[end - 1] == b'\r' {
                end - 1
            } else {
                end
            }
        };
        let mut end = line_end(self.start);
        let mut breaks = memchr::memrchr2_iter(b'\n', b'\r', &bytes[..end]);
        let start = loop {
            let start = breaks.next().map_or(0, |i| i + 1);
            let deeper_or_blank = spaces_only(&bytes[start..end], column + 1);
            if !deeper_or_blank {
                break start;
            }
            if start == 0 {
                self.start = 0;
                return None;
            }
            end = line_end(start);
            if end + 1 < start {
                // The `\r` of a `\r\n`.
                breaks.next();
            }
        };
        self.start = start;
        self.last = Some(Line::parse(start, &self.text[start..end]));
        self.last.as_ref()
    }

    /// On the last line returned: the entry before `column` (the next container up, if any).
    fn entry_before(&self, column: usize) -> Option<Container> {
        self.last.as_ref()?.entry_before(column)
    }
}

/// Whether the first `count` bytes of `line` (all of it when shorter) are spaces. Compared a
/// block at a time: a walk up a long CRD document looks at thousands of deeper lines.
fn spaces_only(line: &[u8], count: usize) -> bool {
    const SPACES: [u8; 64] = [b' '; 64];
    let head = &line[..line.len().min(count)];
    head.chunks(SPACES.len())
        .all(|chunk| chunk == &SPACES[..chunk.len()])
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
    #[test]
    fn spaces_only_reads_the_first_bytes() {
        use super::spaces_only;
        assert!(spaces_only(b"    key: x", 4));
        assert!(!spaces_only(b"    key: x", 5));
        assert!(
            spaces_only(b"  ", 10),
            "a blank line shorter than the count"
        );
        assert!(spaces_only(b"", 3));
        let deep = format!("{}x", " ".repeat(130));
        assert!(spaces_only(deep.as_bytes(), 130));
        assert!(!spaces_only(deep.as_bytes(), 131));
    }

    use super::*;
    use ropey::Rope;
    use tree_sitter::Node;

    /// Parses a fixture with a `$0` cursor marker; returns the text without it and the offset.
    fn fixture(text: &str) -> (String, usize) {
        let offset = text.find("$0").expect("fixture has a $0 cursor");
        (text.replacen("$0", "", 1), offset)
    }

    fn cursor(text: &str) -> Cursor {
        let (text, offset) = fixture(text);
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
        let text = POD.replace("$0", "");
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
        let (text, offset) = fixture(text);
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
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(root.join("examples"))
            .into_iter()
            .chain(walkdir::WalkDir::new(root.join("../shared/corpus/real")))
            .chain(walkdir::WalkDir::new(root.join("../shared/corpus/seed")))
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
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
            Some("name: web\n        image: nginx\n")
        );
        assert_eq!(
            at("spec.template.metadata", RangeTarget::Key),
            Some("template")
        );
    }
}
