//! What a document's `$schema` modeline (`yaml::modeline`) changes in its diagnostics:
//! `$schema=none` turns the schema's diagnostics (`schema-*` codes) off for that document.

use std::ops::Range;

use ropey::Rope;

use crate::diagnostic::Diagnostic;
use crate::yaml::modeline::schema_modeline;

/// `diagnostics` (file offsets) without the schema's in documents (`documents`: their ranges,
/// in order) whose modeline says `$schema=none`. Cheap when no document has a modeline.
pub fn without_switched_off_schema(
    rope: &Rope,
    documents: &[Range<usize>],
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let has_modeline = crate::text::contains(rope.slice(..), "yaml-language-server")
        || crate::text::contains(rope.slice(..), "$schema:");
    if diagnostics.is_empty() || !has_modeline {
        return diagnostics;
    }
    let text = rope.to_string();
    let off: Vec<&Range<usize>> = documents
        .iter()
        .filter(|range| {
            let document = text.get((*range).clone()).unwrap_or("");
            schema_modeline(document).is_some_and(|modeline| modeline.is_none())
        })
        .collect();
    diagnostics
        .into_iter()
        .filter(|d| {
            !(d.code.as_str().starts_with("schema-")
                && off.iter().any(|range| range.contains(&d.range.start)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;

    #[test]
    fn schema_none_drops_the_schema_diagnostics_of_its_document_only() {
        let text = "# yaml-language-server: $schema=none\na: 1\na: 2\nb: 1\n---\nc: 1\n";
        let rope = Rope::from_str(text);
        let documents = crate::yaml::split::split(text).documents;
        let at = |needle: &str| text.find(needle).unwrap();
        let found = |needle: &str, code| Diagnostic::error(at(needle)..at(needle) + 1, code, "x");
        let kept = without_switched_off_schema(
            &rope,
            &documents,
            vec![
                found("a: 2", codes::DUPLICATE_KEY),
                found("b: 1", codes::UNKNOWN_FIELD),
                found("c: 1", codes::UNKNOWN_FIELD),
            ],
        );
        let codes: Vec<_> = kept.iter().map(|d| (d.code, d.range.start)).collect();
        assert_eq!(
            codes,
            [
                (codes::DUPLICATE_KEY, at("a: 2")),
                (codes::UNKNOWN_FIELD, at("c: 1"))
            ]
        );
    }
}
