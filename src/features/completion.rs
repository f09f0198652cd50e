//! Completion at a position of a file: the YAML document around it, the cursor's path read from
//! its text, the document's `apiVersion`/`kind`, then the schema's items, in file offsets.
//!
//! Works on the text alone (no syntax tree), so it answers at once in a document that was never
//! parsed, and in half-typed text.

use std::borrow::Cow;
use std::ops::Range;

use ropey::Rope;

use crate::schema::complete::{self, Item, SchemaLookup};

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
    let Some((start, text)) = document_text(rope, documents, offset) else {
        return Vec::new();
    };
    let offset = offset - start;
    let before = &text[..offset];
    if trigger == Some(' ') && !(before.ends_with(": ") || before.ends_with("- ")) {
        // A space triggers only after `key: ` and `- `, not in the middle of free text.
        return Vec::new();
    }
    let mut items = complete::complete_in_text(lookup, &text, offset, snippets);
    for item in &mut items {
        item.range = shift(&item.range, start);
        for (range, _) in &mut item.additional_edits {
            *range = shift(range, start);
        }
    }
    items
}

/// The start and text of the document holding `offset`.
pub(crate) fn document_text<'r>(
    rope: &'r Rope,
    documents: &[Range<usize>],
    offset: usize,
) -> Option<(usize, Cow<'r, str>)> {
    let index = documents
        .partition_point(|d| d.start <= offset)
        .checked_sub(1)?;
    let range = documents[index].clone();
    let slice = rope.get_byte_slice(range.clone())?;
    (offset <= range.end).then(|| (range.start, Cow::from(slice)))
}

fn shift(range: &Range<usize>, by: usize) -> Range<usize> {
    range.start + by..range.end + by
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
