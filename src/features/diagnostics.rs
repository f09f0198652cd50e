//! The diagnostics of a file from every layer, merged in one place: the YAML layer's (syntax,
//! duplicate keys, tabs), the schema layer's (cached per document in `SchemaDiagnostics`) and
//! the cluster's (dry-run and diff, for an open document: `document::OpenDocument`).

use ropey::Rope;

use super::document::OpenDocument;
use super::helm::template::ChartRole;
use super::schema_diagnostics::SchemaDiagnostics;
use crate::diagnostic::Diagnostic;
use crate::schema::Catalog;
use crate::yaml::file::YamlFile;

/// Every diagnostic of a file of a Helm chart (or any text with template actions), checked once:
/// as the open document has them (a template's masked text validated, `.Values` it reads that
/// the chart does not define, a values file against `values.schema.json`).
pub fn chart_file_diagnostics(
    rope: &Rope,
    catalog: &Catalog,
    role: ChartRole,
    chart: Option<std::sync::Arc<crate::workspace::chart::ChartModel>>,
) -> Vec<Diagnostic> {
    let mut document = OpenDocument::open(&rope.to_string(), 0, catalog);
    document.set_chart(role, chart);
    document.validate(catalog);
    document.diagnostics()
}

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
    if crate::yaml::detect::template_action(rope).is_some() {
        return chart_file_diagnostics(rope, catalog, ChartRole::None, None);
    }
    let mut file = YamlFile::open(rope);
    let mut schema = SchemaDiagnostics::default();
    schema.refresh(&mut file, rope, catalog);
    merged(&file, &schema, &[])
}
