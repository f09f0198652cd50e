//! The diagnostics of a file from every layer, merged in one place: the YAML layer's (syntax,
//! duplicate keys, tabs), the schema layer's (cached per document in `SchemaDiagnostics`), the
//! rules' (`rules::RuleDiagnostics`) and
//! the cluster's (dry-run and diff, for an open document: `document::OpenDocument`).

use ropey::Rope;

use std::ops::Range;
use std::sync::Arc;

use super::document::OpenDocument;
use super::helm::template::ChartRole;
use super::rules::{Config, Context, Finding, RuleDiagnostics};
use super::schema_diagnostics::SchemaDiagnostics;
use crate::diagnostic::{Code, Diagnostic, Severity, codes};
use crate::schema::Catalog;
use crate::schema::validate::Role;
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
    merged_with_rules(file, schema, &RuleDiagnostics::default(), cluster)
}

/// [`merged`] with the rules' findings, sorted by position with the YAML and schema layers'.
pub fn merged_with_rules(
    file: &YamlFile,
    schema: &SchemaDiagnostics,
    rules: &RuleDiagnostics,
    cluster: &[Diagnostic],
) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = file
        .diagnostics()
        .chain(schema.diagnostics())
        .chain(rules.diagnostics())
        .collect();
    diagnostics.sort_by_key(|d| (d.range.start, d.range.end));
    diagnostics.extend_from_slice(cluster);
    diagnostics
}

/// How many diagnostics of one file the editor is sent at most: a broken 7 MB file has
/// hundreds of thousands, which cost gigabytes as LSP JSON and which nobody reads.
pub const MAX_SHOWN: usize = 1_000;

/// The first [`MAX_SHOWN`] diagnostics (in the merged order: by position, the cluster's last),
/// then, when there were more, one information entry saying how many more, on the last one shown.
pub fn capped(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    if diagnostics.len() <= MAX_SHOWN {
        return diagnostics;
    }
    let more = diagnostics.len() - MAX_SHOWN;
    diagnostics.truncate(MAX_SHOWN);
    let too_many = too_many(&diagnostics, more);
    diagnostics.push(too_many);
    diagnostics
}

/// The entry saying `more` diagnostics after `shown` are not shown, on the last one shown.
fn too_many(shown: &[Diagnostic], more: usize) -> Diagnostic {
    let range = shown.last().map(|d| d.range.clone()).unwrap_or_default();
    Diagnostic {
        severity: Severity::Information,
        ..Diagnostic::error(
            range,
            codes::TOO_MANY,
            format!("{more} more diagnostics not shown (kube-lsp shows {MAX_SHOWN} per file)"),
        )
    }
}

/// A diagnostic where its layer keeps it, in file offsets: merged, filtered and counted as it
/// is, cloned only when it is sent ([`capped_found`]).
#[derive(Clone, Copy, Debug)]
pub struct Found<'a> {
    source: Source<'a>,
    by: isize,
}

#[derive(Clone, Copy, Debug)]
enum Source<'a> {
    /// A diagnostic, in offsets that `by` shifts to the file's.
    Kept(&'a Diagnostic),
    /// A rule's finding at its configured severity.
    Rule(&'a Finding, Severity),
}

impl<'a> Found<'a> {
    /// `diagnostic`, whose offsets `by` shifts to the file's.
    pub fn kept(diagnostic: &'a Diagnostic, by: isize) -> Self {
        Found {
            source: Source::Kept(diagnostic),
            by,
        }
    }

    /// A rule's `finding`, shown at `severity`, whose offsets `by` shifts to the file's.
    pub fn rule(finding: &'a Finding, severity: Severity, by: isize) -> Self {
        Found {
            source: Source::Rule(finding, severity),
            by,
        }
    }

    /// Its range in the file.
    pub fn range(&self) -> Range<usize> {
        let range = match self.source {
            Source::Kept(d) => &d.range,
            Source::Rule(finding, _) => &finding.range,
        };
        crate::text::shift_range(range, self.by)
    }

    pub fn code(&self) -> Code {
        match self.source {
            Source::Kept(d) => d.code,
            Source::Rule(finding, _) => finding.code,
        }
    }

    pub fn message(&self) -> &'a str {
        match self.source {
            Source::Kept(d) => &d.message,
            Source::Rule(finding, _) => &finding.message,
        }
    }

    /// The diagnostic, in file offsets: a copy.
    pub fn to_diagnostic(&self) -> Diagnostic {
        count_work!(COPIES);
        match self.source {
            Source::Kept(d) => d.clone().shifted(self.by),
            Source::Rule(finding, severity) => Diagnostic {
                range: finding.range.clone(),
                severity,
                code: finding.code,
                message: finding.message.clone(),
                fix: finding.fix.clone().map(Box::new),
            }
            .shifted(self.by),
        }
    }
}

work_counter!(
    /// How many [`Found`]s this thread has copied into diagnostics so far.
    pub fn copies() => COPIES
);

/// [`capped`] of the diagnostics `found` holds, copying only the ones shown.
pub fn capped_found<'a>(found: impl Iterator<Item = Found<'a>>) -> Vec<Diagnostic> {
    let mut shown = Vec::new();
    let mut more = 0;
    for found in found {
        if shown.len() < MAX_SHOWN {
            shown.push(found.to_diagnostic());
        } else {
            more += 1;
        }
    }
    if more > 0 {
        shown.push(too_many(&shown, more));
    }
    shown
}

/// [`capped_found`] of `found`, which holds `total` diagnostics: walked only as far as shown.
pub fn capped_counted<'a>(found: impl Iterator<Item = Found<'a>>, total: usize) -> Vec<Diagnostic> {
    let mut shown: Vec<Diagnostic> = found
        .take(MAX_SHOWN)
        .map(|found| found.to_diagnostic())
        .collect();
    let more = total.saturating_sub(shown.len());
    if more > 0 {
        shown.push(too_many(&shown, more));
    }
    shown
}

/// Two sequences in position order merged into one, `first`'s before `second`'s at the same
/// place (what a stable sort of the two one after the other gives), taken lazily.
pub fn merge_by_position<'a>(
    first: impl Iterator<Item = Found<'a>>,
    second: impl Iterator<Item = Found<'a>>,
) -> impl Iterator<Item = Found<'a>> {
    let key = |d: &Found<'_>| {
        let range = d.range();
        (range.start, range.end)
    };
    let (mut first, mut second) = (first.peekable(), second.peekable());
    std::iter::from_fn(move || match (first.peek(), second.peek()) {
        (Some(a), Some(b)) if key(b) < key(a) => second.next(),
        (Some(_), _) => first.next(),
        (None, _) => second.next(),
    })
}

/// Every diagnostic of a text checked once (the `check` command), against `catalog`.
pub fn text_diagnostics(rope: &Rope, catalog: &Catalog) -> Vec<Diagnostic> {
    text_diagnostics_as(rope, catalog, Role::Manifest)
}

/// [`text_diagnostics`] for a file with `role` (a kustomization, a patch).
pub fn text_diagnostics_as(rope: &Rope, catalog: &Catalog, role: Role) -> Vec<Diagnostic> {
    let no_rules = Context::alone(Arc::new(Config::none()));
    text_diagnostics_with_rules(rope, catalog, role, &no_rules)
}

/// [`text_diagnostics_as`] with the rules of `rules` (against its workspace index).
pub fn text_diagnostics_with_rules(
    rope: &Rope,
    catalog: &Catalog,
    role: Role,
    rules: &Context<'_>,
) -> Vec<Diagnostic> {
    // A chart template, or any file with template actions: read as Helm reads it.
    if crate::yaml::detect::template_action(rope).is_some() {
        return chart_file_diagnostics(rope, catalog, ChartRole::None, None);
    }
    let mut file = YamlFile::open(rope);
    let mut found = RuleDiagnostics::default();
    // Before validation, which takes the span trees the rules read too.
    found.refresh(&file, rope, rules);
    let mut schema = SchemaDiagnostics::default();
    schema.set_role(role);
    schema.refresh(&mut file, rope, catalog);
    let documents: Vec<std::ops::Range<usize>> =
        file.documents().iter().map(|d| d.range()).collect();
    let merged = merged_with_rules(&file, &schema, &found, &[]);
    let merged = super::modeline::without_switched_off_schema(rope, &documents, merged);
    super::rules::suppress::without_ignored(rope, &documents, merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_shows_at_most_the_cap_and_says_how_many_more() {
        let many = |n: usize| {
            (0..n)
                .map(|i| Diagnostic::error(i..i + 1, codes::DUPLICATE_KEY, "x"))
                .collect::<Vec<_>>()
        };
        assert_eq!(capped(many(MAX_SHOWN)).len(), MAX_SHOWN);
        let shown = capped(many(MAX_SHOWN + 2_500));
        assert_eq!(shown.len(), MAX_SHOWN + 1);
        let last = shown.last().unwrap();
        assert_eq!(last.code, codes::TOO_MANY);
        assert_eq!(last.severity, Severity::Information);
        assert!(last.message.starts_with("2500 more"), "{}", last.message);
    }
}
