//! The diagnostics of a file: the YAML layer's (syntax, duplicate keys, tabs) and the schema
//! layer's (cached per document in `SchemaDiagnostics`); the cluster layer adds its own here.

use ropey::Rope;

use super::schema_diagnostics::SchemaDiagnostics;
use crate::schema::Catalog;
use crate::yaml::file::YamlFile;
use crate::diagnostic::Diagnostic;

/// Every diagnostic of the file, in file byte offsets, sorted by position.
pub fn file_diagnostics(file: &YamlFile, schema: &SchemaDiagnostics) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = file.diagnostics().chain(schema.diagnostics()).collect();
    diagnostics.sort_by_key(|d| (d.range.start, d.range.end));
    diagnostics
}

/// Every diagnostic of a text checked once (the `check` command), against `catalog`.
pub fn text_diagnostics(rope: &Rope, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut file = YamlFile::open(rope);
    let mut schema = SchemaDiagnostics::default();
    schema.refresh(&mut file, rope, catalog);
    file_diagnostics(&file, &schema)
}
