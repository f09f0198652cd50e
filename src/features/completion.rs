//! Completion at a position of a file: the YAML document around it, the cursor's path read from
//! its text, the document's `apiVersion`/`kind`, then the schema's items, in file offsets.
//!
//! Works on the text alone (no syntax tree), so it answers at once in a document that was never
//! parsed, and in half-typed text.

use std::cell::RefCell;
use std::ops::Range;

use ropey::Rope;

use crate::schema::complete::{self, Item, SchemaLookup};
use crate::text::shift_range;

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
        Some((
            start,
            complete::complete_in_text(lookup, text, offset, snippets),
        ))
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
    /// once (`main.rs`), and a fresh buffer for argocd's 1.4 MB CRD document was faulted in
    /// again on every request (completion p50 2.3–2.7 ms instead of ~1).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Store;
    use crate::yaml::file::YamlFile;

    fn complete_at(text: &str, trigger: Option<char>) -> (String, Vec<Item>) {
        let offset = text.find("$0").expect("fixture has a $0 cursor");
        let text = text.replacen("$0", "", 1);
        let rope = Rope::from_str(&text);
        let file = YamlFile::open(&rope);
        let documents: Vec<_> = file.documents().iter().map(|d| d.range()).collect();
        let items = completions(&rope, &documents, offset, trigger, Store::builtin(), true);
        (text, items)
    }

    #[test]
    fn every_document_of_a_file_completes_with_its_own_kind() {
        let (text, items) = complete_at(
            "apiVersion: v1\nkind: Service\nspec:\n  type: ClusterIP\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  $0\n",
            None,
        );
        let replicas = items.iter().find(|i| i.label == "replicas").unwrap();
        // File offsets: the range is in the second document.
        assert_eq!(replicas.range.start, text.rfind("  \n").unwrap() + 2);
        assert!(items.iter().all(|i| i.label != "clusterIP"));
        let (_, items) = complete_at("---\n$0\n---\nkind: Pod\n", None);
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
        let (text, items) = complete_at("kind: Pod\n---\nkind: $0\n", None);
        let pod = items.iter().find(|i| i.label == "Pod").unwrap();
        let (range, insert) = &pod.additional_edits[0];
        assert_eq!(range.start, text.rfind("kind").unwrap());
        assert_eq!(insert, "apiVersion: v1\n");
    }

    #[test]
    fn a_space_triggers_only_after_a_colon_or_dash() {
        let (_, items) = complete_at("apiVersion: v1\nkind: $0\n", Some(' '));
        assert!(!items.is_empty());
        let (_, items) = complete_at(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: some text $0\n",
            Some(' '),
        );
        assert!(items.is_empty());
    }
}
