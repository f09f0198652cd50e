//! What a document's `$schema` modeline (`yaml::modeline`) changes in its diagnostics:
//! `$schema=none` turns the schema's diagnostics (`schema-*` codes) off for that document; a
//! local JSON schema file replaces kube-lsp's schemas for it (its findings: `schema-modeline`);
//! a URL is not downloaded (one information says so) and kube-lsp's schemas stay.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ropey::Rope;

use crate::diagnostic::codes::MODELINE_SCHEMA;
use crate::diagnostic::{Diagnostic, Severity};
use crate::yaml::modeline::{SchemaModeline, schema_modeline};

/// Whether kube-lsp's own schema findings are dropped for a document with this modeline: it
/// says `none`, or names a local schema file (which replaces them).
fn replaces_own_schema(modeline: &SchemaModeline<'_>) -> bool {
    !modeline.is_url()
}

/// `diagnostics` (file offsets) without kube-lsp's schema findings in documents (`documents`:
/// their ranges, in order) whose modeline says `$schema=none` or names a schema file. Cheap
/// when no document has a modeline.
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
            schema_modeline(document).is_some_and(|modeline| replaces_own_schema(&modeline))
        })
        .collect();
    diagnostics
        .into_iter()
        .filter(|d| {
            !(d.code.as_str().starts_with("schema-")
                && d.code != MODELINE_SCHEMA
                && off.iter().any(|range| range.contains(&d.range.start)))
        })
        .collect()
}

/// What is known of a schema a modeline names by URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlSchema {
    /// Downloads are off (`schemaDownload`).
    NotDownloaded,
    /// Being downloaded.
    Pending,
    Fetched(std::sync::Arc<str>),
    Failed(String),
}

/// Where a modeline's schema comes from: files read with `read` (a relative path is in
/// `folder`, the file's folder) and what is known of URLs.
pub struct SchemaSource<'a> {
    pub folder: Option<&'a Path>,
    pub read: &'a dyn Fn(&Path) -> Result<String, String>,
    pub url: &'a dyn Fn(&str) -> UrlSchema,
}

/// The findings of the documents of `text` (`documents`: their ranges) whose modeline names a
/// JSON schema: against a schema file or a downloaded one; for a URL not downloaded, an
/// information that says so.
pub fn named_schema_findings(
    text: &str,
    documents: &[Range<usize>],
    source: &SchemaSource<'_>,
) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for range in documents {
        let Some(document) = text.get(range.clone()) else {
            continue;
        };
        let Some(modeline) = schema_modeline(document) else {
            continue;
        };
        let at = range.start + modeline.range.start..range.start + modeline.range.end;
        if modeline.is_none() {
            continue;
        }
        let schema = if modeline.is_url() {
            match (source.url)(modeline.value) {
                UrlSchema::Fetched(schema) => schema.to_string(),
                UrlSchema::Pending => continue,
                UrlSchema::NotDownloaded => {
                    found.push(Diagnostic {
                        severity: Severity::Information,
                        ..Diagnostic::error(
                            at,
                            MODELINE_SCHEMA,
                            format!(
                                "The schema {} is not downloaded (only with the setting kube-lsp.schemaDownload on, never by kube-lsp check): the document is checked against kube-lsp's own schemas",
                                modeline.value
                            ),
                        )
                    });
                    continue;
                }
                UrlSchema::Failed(why) => {
                    let message =
                        format!("The schema {} cannot be downloaded: {why}", modeline.value);
                    found.push(Diagnostic::error(at, MODELINE_SCHEMA, message));
                    continue;
                }
            }
        } else {
            match local_schema(modeline.value, source) {
                Ok(schema) => schema,
                Err(message) => {
                    found.push(Diagnostic::error(at, MODELINE_SCHEMA, message));
                    continue;
                }
            }
        };
        let findings = super::helm::values_schema::check_against(
            document,
            &schema,
            modeline.value,
            MODELINE_SCHEMA,
        );
        found.extend(findings.into_iter().map(|mut d| {
            // A schema that is not valid: on the modeline.
            d.range = if d.range.is_empty() && d.range.start == 0 {
                at.clone()
            } else {
                range.start + d.range.start..range.start + d.range.end
            };
            d
        }));
    }
    found
}

/// The text of a modeline's schema file, or what is wrong.
fn local_schema(value: &str, source: &SchemaSource<'_>) -> Result<String, String> {
    let Some(path) = schema_path(value, source.folder) else {
        return Err(format!(
            "The schema {value} is relative to a file that is not saved"
        ));
    };
    (source.read)(&path)
        .map_err(|why| format!("The schema {} cannot be read: {why}", path.display()))
}

/// The file a modeline's local schema names: absolute, `file://`, or relative to `folder`.
fn schema_path(value: &str, folder: Option<&Path>) -> Option<PathBuf> {
    let value = value.strip_prefix("file://").unwrap_or(value);
    let path = Path::new(value);
    if path.is_absolute() {
        return Some(path.to_path_buf());
    }
    Some(folder?.join(path))
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

    #[test]
    fn a_schema_file_replaces_own_schema_and_a_url_is_not_downloaded() {
        let schema = r#"{"type": "object", "required": ["name"], "properties": {"size": {"type": "integer"}}}"#;
        let text = "# yaml-language-server: $schema=./thing.json\nsize: big\n---\n# yaml-language-server: $schema=https://example.com/s.json\na: 1\n---\n# yaml-language-server: $schema=missing.json\nb: 1\n";
        let documents = crate::yaml::split::split(text).documents;
        let read = |path: &Path| {
            if path == Path::new("/work/thing.json") {
                Ok(schema.to_string())
            } else {
                Err("not found".to_string())
            }
        };
        let source = SchemaSource {
            folder: Some(Path::new("/work")),
            read: &read,
            url: &|_| UrlSchema::NotDownloaded,
        };
        let found = named_schema_findings(text, &documents, &source);
        let summary: Vec<(&str, Severity)> = found
            .iter()
            .map(|d| (&text[d.range.clone()], d.severity))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "# yaml-language-server: $schema=./thing.json",
                    Severity::Error
                ),
                ("big", Severity::Error),
                ("https://example.com/s.json", Severity::Information),
                ("missing.json", Severity::Error),
            ],
            "{found:?}"
        );
        assert!(
            found[1].message.contains("./thing.json at `size`"),
            "{}",
            found[1].message
        );
        assert!(
            found[3]
                .message
                .contains("/work/missing.json cannot be read: not found")
        );
        // Downloaded, the URL's schema applies; pending, nothing is said yet.
        let fetched = |url: &str| {
            assert_eq!(url, "https://example.com/s.json");
            UrlSchema::Fetched(r#"{"properties": {"a": {"type": "string"}}}"#.into())
        };
        let source = SchemaSource {
            url: &fetched,
            ..source
        };
        let found = named_schema_findings(text, &documents, &source);
        assert_eq!(&text[found[2].range.clone()], "1");
        assert!(
            found[2]
                .message
                .contains("https://example.com/s.json at `a`")
        );
        let source = SchemaSource {
            url: &|_| UrlSchema::Pending,
            ..source
        };
        assert_eq!(named_schema_findings(text, &documents, &source).len(), 3);
        // kube-lsp's own schema findings go for the schema file, stay for the URL.
        let rope = Rope::from_str(text);
        let own = |needle: &str| {
            let at = text.find(needle).unwrap();
            Diagnostic::error(at..at + 1, codes::UNKNOWN_FIELD, "x")
        };
        let kept = without_switched_off_schema(&rope, &documents, vec![own("size"), own("a: 1")]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].range.start, text.find("a: 1").unwrap());
    }
}
