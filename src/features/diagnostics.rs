//! The diagnostics of a file: for now the YAML layer's (syntax, duplicate keys, tabs); the schema
//! and cluster layers add theirs here.

use crate::yaml::file::YamlFile;
use crate::yaml::lint::Diagnostic;

/// The name editors show as the diagnostics' source.
pub const SOURCE: &str = "kube-lsp";

/// Every diagnostic of the file, in file byte offsets, sorted by position.
pub fn file_diagnostics(file: &YamlFile) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = file.diagnostics().collect();
    diagnostics.sort_by_key(|d| (d.range.start, d.range.end));
    diagnostics
}
