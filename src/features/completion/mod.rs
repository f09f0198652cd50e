//! Completion at a position of a file, from discovery and the OpenAPI schema: the YAML document
//! around it, the cursor's path read from its text, the `apiVersion`/`kind` of the object it is
//! in, then the schema's items, in file offsets.
//!
//! - `apiVersion:` / `kind:` values from discovery, consistent with each other; a kind chosen
//!   without an apiVersion adds it ([`kinds`]).
//! - At the start of a document, a skeleton per kind (apiVersion, kind, metadata.name and the
//!   required fields, recursively: [`skeleton`]).
//! - Keys at any depth (required first, snippets for objects and arrays, keys already present
//!   left out: [`keys`]), enum, boolean and default values ([`values`]).
//! - In an item of a List (`v1 List`, `<Kind>List`), all of the above as in a document holding
//!   that item: against the item's own apiVersion and kind ([`context`]).
//!
//! Works on the text alone (no syntax tree), so it answers at once in a document that was never
//! parsed, and in half-typed text.

pub(crate) mod context;
mod keys;
mod kinds;
mod skeleton;
mod snippet;
mod values;

use std::cell::RefCell;
use std::ops::Range;

use ropey::Rope;

use crate::schema::ValueKind;
use crate::schema::lookup::SchemaLookup;
use crate::text::shift_range;
use crate::yaml::path::CursorTarget;
use context::{Context, cursor_in_object, floor_char_boundary, root_key, with_node};
use keys::{key_items, root_key_items};
use kinds::{api_version_items, kind_items};
use skeleton::skeleton_items;
use snippet::snippet_to_plain;
use values::value_items;

/// The completion items at `offset`. `documents` are the file's document ranges; `trigger` is
/// the character that made the client ask, if one did.
pub fn completions(
    rope: &Rope,
    documents: &[Range<usize>],
    offset: usize,
    trigger: Option<char>,
    lookup: &impl SchemaLookup,
    snippets: bool,
) -> Vec<Item> {
    let found = with_document_text(rope, documents, offset, |start, text| {
        let offset = offset - start;
        let before = &text[..offset];
        if trigger == Some(' ') && !(before.ends_with(": ") || before.ends_with("- ")) {
            // A space triggers only after `key: ` and `- `, not in the middle of free text.
            return None;
        }
        Some((start, complete_in_text(lookup, text, offset, snippets)))
    });
    let Some((start, mut items)) = found.flatten() else {
        return Vec::new();
    };
    for item in &mut items {
        item.range = shift_range(&item.range, start as isize);
        for (range, _) in &mut item.additional_edits {
            *range = shift_range(range, start as isize);
        }
    }
    items
}

thread_local! {
    /// The last document text completion or hover copied out of the rope on this thread, kept
    /// so the next request copies into memory already touched: mimalloc returns freed memory at
    /// once (`main.rs`), and a fresh buffer for a big document (a CRD of a megabyte) would be
    /// faulted in again on every request.
    static DOCUMENT_COPY: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Copies bigger than this are not kept between requests.
const KEPT_COPY_MAX: usize = 4 << 20;

/// Runs `read` on the start and text of the document holding `offset`: the rope's own chunk
/// when the document lies in one, else a copy in this thread's reused buffer.
pub(crate) fn with_document_text<R>(
    rope: &Rope,
    documents: &[Range<usize>],
    offset: usize,
    read: impl FnOnce(usize, &str) -> R,
) -> Option<R> {
    let index = documents
        .partition_point(|d| d.start <= offset)
        .checked_sub(1)?;
    let range = documents[index].clone();
    let slice = rope.get_byte_slice(range.clone())?;
    if offset > range.end {
        return None;
    }
    if let Some(text) = slice.as_str() {
        return Some(read(range.start, text));
    }
    DOCUMENT_COPY.with(|kept| {
        // A nested call (none today) gets a buffer of its own.
        let mut fresh = String::new();
        let mut kept = kept.try_borrow_mut();
        let buffer = kept.as_deref_mut().unwrap_or(&mut fresh);
        buffer.clear();
        buffer.reserve(slice.len_bytes());
        slice.chunks().for_each(|chunk| buffer.push_str(chunk));
        let result = read(range.start, buffer);
        if buffer.capacity() > KEPT_COPY_MAX {
            *buffer = String::new();
        }
        Some(result)
    })
}

/// What a completion item is, for the editor's icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Field,
    Value,
    EnumMember,
    /// A resource kind (`kind:` values).
    Kind,
    /// A group/version (`apiVersion:` values).
    ApiVersion,
    /// A whole manifest.
    Skeleton,
    /// A file a path names (kustomization paths).
    File,
    /// A folder a path names.
    Folder,
}

/// One completion item, with document-relative ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    /// Shown right after the label (` apps/v1`).
    pub label_detail: Option<String>,
    /// Shown aligned right (`namespaced · deploy`).
    pub label_description: Option<String>,
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    pub filter_text: Option<String>,
    pub sort_text: String,
    /// Snippet syntax when `snippet`, else plain text.
    pub insert_text: String,
    pub snippet: bool,
    /// The text the item replaces.
    pub range: Range<usize>,
    /// Further edits (e.g. the `apiVersion:` line a kind needs).
    pub additional_edits: Vec<(Range<usize>, String)>,
}

impl Item {
    fn new(label: impl Into<String>, kind: ItemKind, range: Range<usize>) -> Self {
        let label = label.into();
        Item {
            insert_text: label.clone(),
            sort_text: label.clone(),
            label,
            kind,
            label_detail: None,
            label_description: None,
            detail: None,
            documentation: None,
            filter_text: None,
            snippet: false,
            range,
            additional_edits: Vec::new(),
        }
    }

    /// Sets the text to insert: snippet syntax, turned into plain text for clients without
    /// snippet support.
    fn insert(mut self, snippet: &str, snippets: bool) -> Self {
        if snippets && snippet.contains('$') {
            self.insert_text = snippet.to_string();
            self.snippet = true;
        } else {
            self.insert_text = snippet_to_plain(snippet);
            self.snippet = false;
        }
        self
    }
}

/// The completion items at `offset` of one document's `text`: reads the cursor's path and the
/// `apiVersion`/`kind` of the object it is in (the document, or an item of a List) from the
/// text, then completes.
fn complete_in_text(
    lookup: &impl SchemaLookup,
    text: &str,
    offset: usize,
    snippets: bool,
) -> Vec<Item> {
    let (cursor, object) = cursor_in_object(lookup, text, offset);
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    // The column of the line's first key, after its indentation and `- ` markers.
    let line = &text[line_start..offset];
    let key_column = line.len() - line.trim_start_matches([' ', '-']).len();
    let context = Context {
        cursor: &cursor,
        api_version: object.api_version.as_deref(),
        kind: object.kind.as_deref(),
        api_version_insert_at: line_start + key_column,
        api_version_column: key_column,
        snippets,
    };
    complete(lookup, &context)
}

/// The completion items at the cursor.
fn complete(lookup: &impl SchemaLookup, context: &Context<'_>) -> Vec<Item> {
    let cursor = context.cursor;
    let range = cursor.range.clone();
    match &cursor.target {
        CursorTarget::Nothing => Vec::new(),
        CursorTarget::Value { needs_space, .. } => {
            let space = if *needs_space { " " } else { "" };
            match root_key(&cursor.path) {
                Some("kind") => kind_items(lookup, context, space),
                Some("apiVersion") => api_version_items(lookup, context, space),
                _ => with_node(lookup, context, &cursor.path, |node, _| {
                    value_items(node, range, space)
                })
                .unwrap_or_default(),
            }
        }
        CursorTarget::Key { has_colon, .. } => {
            if cursor.path.is_empty() {
                if !context.names_type() && is_other_yaml(&cursor.siblings) {
                    return Vec::new();
                }
                let mut items = root_key_items(lookup, context);
                if cursor.siblings.is_empty() && !has_colon {
                    items.extend(skeleton_items(lookup, context));
                }
                return items;
            }
            with_node(lookup, context, &cursor.path, |node, _| {
                if node.has_properties() {
                    key_items(node, context)
                } else if node.kind() == ValueKind::Object {
                    Vec::new()
                } else {
                    // `- |` in a sequence of scalars: the item's values.
                    value_items(node, range, "")
                }
            })
            .unwrap_or_default()
        }
    }
}

/// Whether a document's top-level keys are those of other YAML than a Kubernetes object: it
/// has some, and none an object has at the top (a workflow's `on` and `jobs`, a Compose file's
/// `services`). An empty document may become an object.
fn is_other_yaml(top_level_keys: &[String]) -> bool {
    const OBJECT_KEYS: [&str; 6] = [
        "apiVersion",
        "kind",
        "metadata",
        "spec",
        "data",
        "stringData",
    ];
    !top_level_keys.is_empty()
        && !top_level_keys
            .iter()
            .any(|key| OBJECT_KEYS.contains(&key.as_str()))
}

/// Whether the document holding `offset` has a top-level `apiVersion` or `kind` key: in a file
/// of another tool (`yaml::detect::other_tool_file`), only such a document gets Kubernetes
/// completion.
pub fn document_names_type(rope: &Rope, documents: &[Range<usize>], offset: usize) -> bool {
    with_document_text(rope, documents, offset, |_, text| {
        text.lines()
            .any(|line| line.starts_with("apiVersion:") || line.starts_with("kind:"))
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Store;
    use crate::text::fixture;
    use crate::yaml::file::YamlFile;
    use crate::yaml::path::cursor_at;

    /// Completion items at `$0` in one document's `text`.
    pub(super) fn complete_at(text: &str, snippets: bool) -> (String, Vec<Item>) {
        let (text, offset) = fixture::cursor(text);
        let items = complete_in_text(Store::builtin(), &text, offset, snippets);
        (text, items)
    }

    pub(super) fn labels(text: &str) -> Vec<String> {
        let (_, items) = complete_at(text, true);
        let mut items = items;
        items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
        items.into_iter().map(|i| i.label).collect()
    }

    pub(super) fn item<'a>(items: &'a [Item], label: &str) -> &'a Item {
        items
            .iter()
            .find(|i| i.label == label)
            .unwrap_or_else(|| panic!("no item {label}"))
    }

    /// Applies an item (main and additional edits) to the text, as an editor would.
    pub(super) fn apply(text: &str, item: &Item) -> String {
        let mut edits = item.additional_edits.clone();
        edits.push((item.range.clone(), snippet_to_plain(&item.insert_text)));
        edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        let mut out = text.to_string();
        for (range, new) in edits {
            out.replace_range(range, &new);
        }
        out
    }

    fn complete_in_file(text: &str, trigger: Option<char>) -> (String, Vec<Item>) {
        let (text, offset) = fixture::cursor(text);
        let rope = Rope::from_str(&text);
        let file = YamlFile::open(&rope);
        let documents: Vec<_> = file.documents().iter().map(|d| d.range()).collect();
        let items = completions(&rope, &documents, offset, trigger, Store::builtin(), true);
        (text, items)
    }

    #[test]
    fn every_document_of_a_file_completes_with_its_own_kind() {
        let (text, items) = complete_in_file(
            "apiVersion: v1\nkind: Service\nspec:\n  type: ClusterIP\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  $0\n",
            None,
        );
        let replicas = items.iter().find(|i| i.label == "replicas").unwrap();
        // File offsets: the range is in the second document.
        assert_eq!(replicas.range.start, text.rfind("  \n").unwrap() + 2);
        assert!(items.iter().all(|i| i.label != "clusterIP"));
        let (_, items) = complete_in_file("---\n$0\n---\nkind: Pod\n", None);
        assert!(items.iter().any(|i| i.label == "Deployment" && i.snippet));
    }

    #[test]
    fn documents_across_rope_chunks_complete_from_a_kept_copy() {
        let padding: String = (0..3_000).map(|i| format!("  key-{i}: value\n")).collect();
        let text = format!(
            "apiVersion: v1\nkind: Pod\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n{padding}spec:\n  \n"
        );
        let offset = text.len() - 1;
        // Built piece by piece, so the second document spans many chunks.
        let mut rope = Rope::new();
        for piece in text.as_bytes().chunks(100) {
            rope.insert(rope.len_chars(), std::str::from_utf8(piece).unwrap());
        }
        let documents: Vec<_> = YamlFile::open(&rope)
            .documents()
            .iter()
            .map(|d| d.range())
            .collect();
        assert!(rope.byte_slice(documents[1].clone()).as_str().is_none());
        let labels = |rope: &Rope| -> Vec<String> {
            completions(rope, &documents, offset, None, Store::builtin(), true)
                .into_iter()
                .map(|i| i.label)
                .collect()
        };
        let from_copy = labels(&rope);
        assert!(from_copy.iter().any(|l| l == "replicas"), "{from_copy:?}");
        assert_eq!(from_copy, labels(&Rope::from_str(&text)));
        let kept = DOCUMENT_COPY.with(|kept| kept.borrow().capacity());
        assert!(
            kept >= documents[1].len(),
            "the copy's buffer is kept for the next request"
        );
    }

    #[test]
    fn a_kind_in_a_later_document_adds_its_api_version_there() {
        let (text, items) = complete_in_file("kind: Pod\n---\nkind: $0\n", None);
        let pod = items.iter().find(|i| i.label == "Pod").unwrap();
        let (range, insert) = &pod.additional_edits[0];
        assert_eq!(range.start, text.rfind("kind").unwrap());
        assert_eq!(insert, "apiVersion: v1\n");
    }

    #[test]
    fn a_space_triggers_only_after_a_colon_or_dash() {
        let (_, items) = complete_in_file("apiVersion: v1\nkind: $0\n", Some(' '));
        assert!(!items.is_empty());
        let (_, items) = complete_in_file(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: some text $0\n",
            Some(' '),
        );
        assert!(items.is_empty());
    }

    /// Bad input never panics: every offset of odd texts gets a cursor, items and a hover.
    #[test]
    fn every_offset_of_odd_text_is_answered() {
        let texts = [
            "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - name: é\r\n    ima",
            "kind: Pod\rspec:\r  hostNetwork: \r",
            "\tkind: Pod\nspec:\n\t- name: x\n",
            "- - - a: 'unclosed\n  - \"b\\\": c\n-\n-- x\n- ? y\n  : z\n",
            "apiVersion: apps/v1\nkind: Deployment\nspec: {template: {spec: [a, {b: c}]}}\n# 🎉 ünïcode: x\n",
            "\"apiVersion\": v1\n'kind': Pod\nmetadata:\n  name: |\n    text: x\n  labels:\n    a: b # c\n",
            "---\n...\n%YAML 1.2\n---\nkind: : :\n: x\n  :\n",
            "apiVersion: v1\nkind: List\nitems:\n-\n  - kind: \n-  kind: Pod\n   apiVersion: v1\n - items:\n  -\n",
            "",
        ];
        for text in texts {
            let mut offset = 0;
            while offset <= text.len() {
                let marked = format!("{}$0{}", &text[..offset], &text[offset..]);
                let (_, items) = complete_at(&marked, offset % 2 == 0);
                for item in &items {
                    assert!(item.range.end <= text.len(), "{text:?} at {offset}");
                }
                let cursor = cursor_at(text, offset);
                let _ = crate::features::hover::hover(
                    Store::builtin(),
                    &cursor,
                    Some("v1"),
                    Some("Pod"),
                );
                let _ = crate::features::hover::hover_in_text(Store::builtin(), text, offset);
                offset += text[offset..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
}
