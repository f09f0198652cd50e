//! The diagnostics of a file from every layer, merged in one place: the YAML layer's (syntax,
//! duplicate keys, tabs), the schema layer's (cached per document in `SchemaDiagnostics`) and
//! the cluster's (dry-run and diff, for an open document: `document::OpenDocument`).

use ropey::Rope;

use super::schema_diagnostics::SchemaDiagnostics;
use crate::diagnostic::Diagnostic;
use crate::schema::Catalog;
use crate::yaml::file::YamlFile;

/// Every diagnostic of the file, in file byte offsets: the YAML layer's and the schema's sorted
/// by position, then the cluster's (`cluster`, already for this text) in their own order.
pub fn merged(
    file: &YamlFile,
    schema: &SchemaDiagnostics,
    cluster: &[Diagnostic],
) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = file.diagnostics().chain(schema.diagnostics()).collect();
    diagnostics.sort_by_key(|d| (d.range.start, d.range.end));
    diagnostics.extend_from_slice(cluster);
    diagnostics
}

/// Every diagnostic of a text checked once (the `check` command), against `catalog`.
pub fn text_diagnostics(rope: &Rope, catalog: &Catalog) -> Vec<Diagnostic> {
    text_diagnostics_as(rope, catalog, crate::schema::validate::Role::Manifest)
}

/// [`text_diagnostics`] for a file with `role` (a kustomization, a patch).
pub fn text_diagnostics_as(
    rope: &Rope,
    catalog: &Catalog,
    role: crate::schema::validate::Role,
) -> Vec<Diagnostic> {
    let mut file = YamlFile::open(rope);
    let mut schema = SchemaDiagnostics::default();
    schema.set_role(role);
    schema.refresh(&mut file, rope, catalog);
    merged(&file, &schema, &[])
}
