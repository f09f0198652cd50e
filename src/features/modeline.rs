//! What a document's `$schema` modeline (`yaml::modeline`) changes in its diagnostics:
//! `$schema=none` turns the schema's diagnostics (`schema-*` codes) off for that document; a
//! local JSON schema file replaces kube-lsp's schemas for it (its findings: `schema-modeline`);
//! a URL is not downloaded (one information says so) and kube-lsp's schemas stay.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ropey::Rope;

use super::helm::values_schema;
use crate::diagnostic::codes::MODELINE_SCHEMA;
use crate::diagnostic::{Diagnostic, Severity};
use crate::yaml::modeline::{SchemaModeline, schema_modeline};
use crate::yaml::value::Limits;

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
    if diagnostics.is_empty() || !super::markers::Markers::of(rope).modeline {
        return diagnostics;
    }
    let mut off = SchemaSwitchedOff::new(rope, documents);
    diagnostics
        .into_iter()
        .filter(|d| !off.hides(d.range.start, d.code))
        .collect()
}

/// Which findings [`without_switched_off_schema`] drops, asked one at a time: a document's
/// modeline is read when one of its schema findings is first asked about, from its own text
/// (not a copy of the file's).
pub struct SchemaSwitchedOff<'r> {
    rope: &'r Rope,
    documents: &'r [Range<usize>],
    /// Per document, once read: whether its modeline turns its schema findings off.
    off: Vec<Option<bool>>,
}

impl<'r> SchemaSwitchedOff<'r> {
    /// For the documents `documents` (their ranges, in order) of `rope`.
    pub fn new(rope: &'r Rope, documents: &'r [Range<usize>]) -> Self {
        SchemaSwitchedOff {
            rope,
            documents,
            off: vec![None; documents.len()],
        }
    }

    /// Whether a finding of `code` at `at` (a file offset) is dropped.
    pub fn hides(&mut self, at: usize, code: crate::diagnostic::Code) -> bool {
        if !code.as_str().starts_with("schema-") || code == MODELINE_SCHEMA {
            return false;
        }
        let index = self.documents.partition_point(|range| range.end <= at);
        let Some(range) = self.documents.get(index).filter(|r| r.contains(&at)) else {
            return false;
        };
        let rope = self.rope;
        *self.off[index].get_or_insert_with(|| {
            let document = document_text(rope, range);
            schema_modeline(&document).is_some_and(|modeline| replaces_own_schema(&modeline))
        })
    }
}

/// The text of the document at `range` of `rope` (borrowed when the rope holds it in one piece).
pub fn document_text<'r>(rope: &'r Rope, range: &Range<usize>) -> std::borrow::Cow<'r, str> {
    rope.get_byte_slice(range.clone())
        .map_or(std::borrow::Cow::Borrowed(""), std::borrow::Cow::from)
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
/// `folder`, the file's folder) and what is known of URLs; compiled through `compiled`.
/// `associated` is the schema file the `schemaPaths` setting associates with the file, for its
/// documents without a modeline.
pub struct SchemaSource<'a> {
    pub folder: Option<&'a Path>,
    pub read: &'a dyn Fn(&Path) -> Result<String, String>,
    pub url: &'a dyn Fn(&str) -> UrlSchema,
    pub compiled: &'a CompiledSchemas,
    pub associated: Option<&'a Path>,
}

/// The schema a document is checked against: what names it, and where the finding that it
/// cannot be used goes (document offsets).
struct Named<'t> {
    value: std::borrow::Cow<'t, str>,
    at: Range<usize>,
    by_url: bool,
}

/// The schema a document's modeline names, else the one its file is associated with; `None`
/// for `$schema=none` and for neither.
fn named_schema<'t>(document: &'t str, source: &SchemaSource<'_>) -> Option<Named<'t>> {
    match schema_modeline(document) {
        Some(modeline) if modeline.is_none() => None,
        Some(modeline) => Some(Named {
            by_url: modeline.is_url(),
            value: modeline.value.into(),
            at: modeline.range,
        }),
        None => Some(Named {
            value: source.associated?.to_string_lossy().into_owned().into(),
            at: 0..document.find('\n').unwrap_or(document.len()),
            by_url: false,
        }),
    }
}

/// The findings of the documents of `text` (`documents`: their ranges) whose modeline names a
/// JSON schema, or all without one when the file is associated with a schema: against a schema
/// file or a downloaded one; for a URL not downloaded, an information that says so.
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
        let Some(named) = named_schema(document, source) else {
            continue;
        };
        let value = named.value.as_ref();
        let at = range.start + named.at.start..range.start + named.at.end;
        let (key, schema) = if named.by_url {
            match (source.url)(value) {
                UrlSchema::Fetched(schema) => (value.to_string(), schema.to_string()),
                UrlSchema::Pending => continue,
                UrlSchema::NotDownloaded => {
                    found.push(Diagnostic {
                        severity: Severity::Information,
                        ..Diagnostic::error(
                            at,
                            MODELINE_SCHEMA,
                            format!(
                                "The schema {value} is not downloaded (only with the setting kube-lsp.schemaDownload on, never by kube-lsp check): the document is checked against kube-lsp's own schemas"
                            ),
                        )
                    });
                    continue;
                }
                UrlSchema::Failed(why) => {
                    let message = format!("The schema {value} cannot be downloaded: {why}");
                    found.push(Diagnostic::error(at, MODELINE_SCHEMA, message));
                    continue;
                }
            }
        } else {
            match local_schema(value, source) {
                Ok((path, schema)) => (path.to_string_lossy().into_owned(), schema),
                Err(message) => {
                    found.push(Diagnostic::error(at, MODELINE_SCHEMA, message));
                    continue;
                }
            }
        };
        let findings = match &*source.compiled.get(&key, value, &schema) {
            Ok(validator) => values_schema::check_with(
                document,
                validator,
                value,
                MODELINE_SCHEMA,
                &read_as(document),
            ),
            Err(message) => vec![Diagnostic::error(0..0, MODELINE_SCHEMA, message.clone())],
        };
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

/// How a document is read for its JSON schema: a Kubernetes object as kubectl reads it (YAML
/// 1.1), other YAML as yaml-language-server does (YAML 1.2's booleans: a workflow's `on:` is
/// the key "on").
fn read_as(document: &str) -> Limits {
    let object = document
        .lines()
        .any(|line| line.starts_with("apiVersion:") || line.starts_with("kind:"));
    Limits {
        yaml_1_2_booleans: !object,
        ..Limits::default()
    }
}

/// The compiled JSON schemas modelines and `schemaPaths` name, one per schema (its resolved file
/// path or URL, and its name as written), kept while the schema's text stays the same: an edit
/// of a document compiles nothing again.
#[derive(Default)]
pub struct CompiledSchemas {
    by_key: Mutex<HashMap<(String, String), (u64, Compiled)>>,
    compilations: AtomicUsize,
}

/// A validator, or why the schema's text is none.
type Compiled = Arc<Result<jsonschema::Validator, String>>;

/// Schemas kept at most; past that the cache starts again.
const MAX_COMPILED: usize = 64;

impl CompiledSchemas {
    /// The validator of `schema` (the text of the schema at `key`, named `name` in messages):
    /// kept from before when the text is the same.
    fn get(&self, key: &str, name: &str, schema: &str) -> Compiled {
        let hash = {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            schema.hash(&mut hasher);
            hasher.finish()
        };
        let key = (key.to_string(), name.to_string());
        if let Some((kept, compiled)) = lock(&self.by_key).get(&key)
            && *kept == hash
        {
            return compiled.clone();
        }
        let compiled = Arc::new(values_schema::compile(schema, name));
        self.compilations.fetch_add(1, Ordering::Relaxed);
        let mut by_key = lock(&self.by_key);
        if by_key.len() >= MAX_COMPILED && !by_key.contains_key(&key) {
            by_key.clear();
        }
        by_key.insert(key, (hash, compiled.clone()));
        compiled
    }

    /// How many schemas were compiled so far (the server logs it at debug).
    pub fn compilations(&self) -> usize {
        self.compilations.load(Ordering::Relaxed)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// The resolved path and text of a modeline's schema file, or what is wrong.
fn local_schema(value: &str, source: &SchemaSource<'_>) -> Result<(PathBuf, String), String> {
    let Some(path) = schema_path(value, source.folder) else {
        return Err(format!(
            "The schema {value} is relative to a file that is not saved"
        ));
    };
    let text = (source.read)(&path)
        .map_err(|why| format!("The schema {} cannot be read: {why}", path.display()))?;
    Ok((path, text))
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

    /// A file's schema sources in folder `/work`, `read` from disk, no URL downloaded.
    fn offline_in_work<'a>(
        read: &'a dyn Fn(&Path) -> Result<String, String>,
        compiled: &'a CompiledSchemas,
    ) -> SchemaSource<'a> {
        SchemaSource {
            folder: Some(Path::new("/work")),
            read,
            url: &|_| UrlSchema::NotDownloaded,
            compiled,
            associated: None,
        }
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
        let compiled = CompiledSchemas::default();
        let source = offline_in_work(&read, &compiled);
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

    #[test]
    fn a_schema_is_compiled_once_while_its_text_stays_the_same() {
        let text = "# yaml-language-server: $schema=s.json\nsize: big\n---\n# yaml-language-server: $schema=s.json\nsize: 1\n";
        let documents = crate::yaml::split::split(text).documents;
        let schema =
            std::cell::RefCell::new(r#"{"properties": {"size": {"type": "integer"}}}"#.to_string());
        let read = |_: &Path| Ok(schema.borrow().clone());
        let compiled = CompiledSchemas::default();
        let source = offline_in_work(&read, &compiled);
        for _ in 0..3 {
            assert_eq!(named_schema_findings(text, &documents, &source).len(), 1);
        }
        assert_eq!(compiled.compilations(), 1);
        // The file changed: compiled again, once.
        *schema.borrow_mut() = r#"{"properties": {"size": {"type": "string"}}}"#.to_string();
        for _ in 0..2 {
            assert_eq!(named_schema_findings(text, &documents, &source).len(), 1);
        }
        assert_eq!(compiled.compilations(), 2);
    }

    #[test]
    fn an_associated_schema_checks_the_documents_without_a_modeline() {
        let text = "on: push\njobs: 3\n---\n# yaml-language-server: $schema=none\njobs: 4\n---\n# yaml-language-server: $schema=other.json\njobs: 5\n";
        let documents = crate::yaml::split::split(text).documents;
        let read = |path: &Path| match path.to_str() {
            Some("/work/workflow.json") => {
                Ok(r#"{"properties": {"jobs": {"type": "object"}}}"#.to_string())
            }
            Some("/work/other.json") => {
                Ok(r#"{"properties": {"jobs": {"type": "string"}}}"#.to_string())
            }
            _ => Err("not found".to_string()),
        };
        let compiled = CompiledSchemas::default();
        let source = SchemaSource {
            associated: Some(Path::new("/work/workflow.json")),
            ..offline_in_work(&read, &compiled)
        };
        let found = named_schema_findings(text, &documents, &source);
        let values: Vec<&str> = found.iter().map(|d| &text[d.range.clone()]).collect();
        assert_eq!(values, ["3", "5"], "{found:?}");
        assert!(
            found[0]
                .message
                .starts_with("/work/workflow.json at `jobs`"),
            "{}",
            found[0].message
        );
        // An associated schema that cannot be read: on the document's first line.
        let source = SchemaSource {
            associated: Some(Path::new("/work/gone.json")),
            ..source
        };
        let found = named_schema_findings(text, &documents, &source);
        assert_eq!(&text[found[0].range.clone()], "on: push");
        assert!(
            found[0].message.contains("cannot be read"),
            "{}",
            found[0].message
        );
    }
}
