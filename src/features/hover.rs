//! Hover at a position of a file: the schema's explanation of the key or value there, with its
//! range in file offsets. Text only, like completion (no syntax tree).

use std::ops::Range;

use ropey::Rope;

use super::completion::with_document_text;
use crate::schema::complete::SchemaLookup;
use crate::schema::hover::{self, Hover};
use crate::text::shift_range;

/// The hover at `offset`, if the schema has something to say there.
pub fn hover_at(
    rope: &Rope,
    documents: &[Range<usize>],
    offset: usize,
    lookup: &impl SchemaLookup,
) -> Option<Hover> {
    with_document_text(rope, documents, offset, |start, text| {
        let found = hover::hover_in_text(lookup, text, offset - start)?;
        Some(Hover {
            markdown: found.markdown,
            range: shift_range(&found.range, start as isize),
        })
    })?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Store;
    use crate::yaml::file::YamlFile;

    #[test]
    fn hover_in_the_second_document() {
        let text = "apiVersion: v1\nkind: Pod\n---\napiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n";
        let rope = Rope::from_str(text);
        let file = YamlFile::open(&rope);
        let documents: Vec<_> = file.documents().iter().map(|d| d.range()).collect();
        let at = text.find("replicas").unwrap() + 2;
        let found = hover_at(&rope, &documents, at, Store::builtin()).unwrap();
        assert_eq!(&text[found.range], "replicas");
        assert!(
            found.markdown.contains("apps/v1 Deployment"),
            "{}",
            found.markdown
        );
        let on_kind = text.find("Pod").unwrap();
        let found = hover_at(&rope, &documents, on_kind, Store::builtin()).unwrap();
        assert!(
            found.markdown.contains("resource `pods`"),
            "{}",
            found.markdown
        );
    }
}
