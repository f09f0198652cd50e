//! Findings on the rendered chart, put back where the user can fix them: the template a
//! rendered document came from (Helm's `# Source:` line), then, in that template, the node at
//! the same key path (its static keys are the same as in the output), or the line whose static
//! text matches the rendered line; and, when the failing value came straight from a `.Values`
//! path (`{{ .Values.replicas | quote }}`), the key in `values.yaml` that set it too. Helm's own
//! errors go on the template line they name.

use std::ops::Range;
use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::render::helm::{HelmFailure, RenderedDocument, source_path};
use crate::schema::Catalog;
use crate::schema::validate;
use crate::workspace::chart::{ChartModel, TemplateFile};
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};
use crate::yaml::{lint, split};

/// A diagnostic for one file of the chart.
#[derive(Clone, Debug, PartialEq)]
pub struct FileFinding {
    pub path: PathBuf,
    pub diagnostic: Diagnostic,
}

/// Validates every rendered document against `catalog` and maps what it finds back.
pub fn check_rendered(
    chart: &ChartModel,
    documents: &[RenderedDocument],
    catalog: &Catalog,
) -> Vec<FileFinding> {
    let mut out = Vec::new();
    for (index, document) in documents.iter().enumerate() {
        let checked = lint::check(&document.text);
        let found: Vec<Diagnostic> = match &checked.tree {
            Some(tree) => validate::validate_spans(catalog, tree).diagnostics,
            None => checked.diagnostics,
        };
        out.extend(map_back(
            chart,
            document,
            nth(documents, index),
            &found,
            "rendered",
        ));
    }
    out
}

/// Which of its template's outputs document `index` is (0 for the first from that template).
pub fn nth(documents: &[RenderedDocument], index: usize) -> usize {
    documents[..index]
        .iter()
        .filter(|d| d.source == documents[index].source)
        .count()
}

/// Maps diagnostics on `document` (the `nth` of its template's output; ranges in its text) to
/// the chart's files.
pub fn map_back(
    chart: &ChartModel,
    document: &RenderedDocument,
    nth: usize,
    found: &[Diagnostic],
    origin: &str,
) -> Vec<FileFinding> {
    let path = source_path(&chart.root, &document.source);
    let Some(file) = chart.templates.iter().find(|t| t.path == path) else {
        return Vec::new();
    };
    let masked = file.template.masked(&file.text);
    let (rendered, _) = SpanTree::parse(&document.text);
    let rendered_kind = rendered.root().and_then(|r| kind_of(r));
    let target = template_document(&masked, rendered_kind.as_deref(), nth);
    let mut out = Vec::new();
    for diagnostic in found {
        let located = rendered
            .root()
            .and_then(|root| path_at(root, diagnostic.range.start));
        let mut range = None;
        let mut values = None;
        if let (Some((key_path, on_key)), Some(doc)) = (&located, &target) {
            let (tree, _) = SpanTree::parse(&masked[doc.clone()]);
            if let Some(root) = tree.root() {
                let (key, value, whole) = resolve(root, key_path);
                let chosen = if *on_key || !whole {
                    key.clone()
                } else {
                    value.clone().or(key.clone())
                };
                range = chosen.map(|r| r.start + doc.start..r.end + doc.start);
                if whole && !on_key {
                    values = value
                        .map(|r| r.start + doc.start..r.end + doc.start)
                        .and_then(|r| values_source(chart, file, &r));
                }
            }
        }
        let range = range.or_else(|| {
            let line = line_of(&document.text, diagnostic.range.start);
            template_line(&masked, &document.text, line)
        });
        let range = range.unwrap_or_else(|| first_line(&file.text));
        let message = format!("{origin}: {}", diagnostic.message);
        let finding = Diagnostic {
            range,
            severity: diagnostic.severity,
            code: codes::HELM_RENDERED,
            message: message.clone(),
            fix: None,
        };
        out.push(FileFinding {
            path: file.path.clone(),
            diagnostic: finding,
        });
        if let Some((values_path, range, dotted)) = values {
            out.push(FileFinding {
                path: values_path,
                diagnostic: Diagnostic {
                    range,
                    severity: diagnostic.severity,
                    code: codes::HELM_RENDERED,
                    message: format!(
                        "{message} (in {}, from `.Values.{dotted}`)",
                        file.path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ),
                    fix: None,
                },
            });
        }
    }
    out
}

/// Helm's error as a diagnostic on the line it names (or, for missing dependencies, on
/// Chart.yaml's `dependencies`).
pub fn failure_findings(chart: &ChartModel, failure: &HelmFailure) -> Vec<FileFinding> {
    let diagnostic = |range: Range<usize>| Diagnostic {
        range,
        severity: Severity::Error,
        code: codes::HELM_RENDER,
        message: format!("helm template: {}", failure.message),
        fix: None,
    };
    if let Some(location) = &failure.location {
        let path = source_path(&chart.root, &location.source);
        if let Some(file) = chart.templates.iter().find(|t| t.path == path) {
            let range = if location.rendered {
                failure
                    .documents
                    .iter()
                    .find(|d| d.source == location.source)
                    .and_then(|d| {
                        let masked = file.template.masked(&file.text);
                        template_line(&masked, &d.text, location.line.saturating_sub(1))
                    })
                    .unwrap_or_else(|| first_line(&file.text))
            } else {
                let offset = offset_of(&file.text, location.line, location.column);
                match file.template.action_at(offset) {
                    Some(action) if location.column.is_some() => action.range.clone(),
                    _ => line_range(&file.text, offset),
                }
            };
            return vec![FileFinding {
                path,
                diagnostic: diagnostic(range),
            }];
        }
    }
    let chart_yaml = chart.root.join("Chart.yaml");
    let text = chart.chart_yaml.as_deref().map_or("", String::as_str);
    let range = failure
        .missing_dependencies
        .then(|| {
            text.find("dependencies:")
                .map(|at| at..at + "dependencies".len())
        })
        .flatten()
        .unwrap_or_else(|| first_line(text));
    vec![FileFinding {
        path: chart_yaml,
        diagnostic: diagnostic(range),
    }]
}

/// When the template's value at `range` is one action reading a `.Values` path as is, the
/// values file key that sets it (the one that wins), its range and the dotted path.
fn values_source(
    chart: &ChartModel,
    file: &TemplateFile,
    range: &Range<usize>,
) -> Option<(PathBuf, Range<usize>, String)> {
    let action = file
        .template
        .actions
        .iter()
        .find(|a| a.range.start < range.end && range.start < a.range.end)?;
    let read = action.direct_values_path()?;
    let found = chart.lookup(&read.path);
    let (values, entry) = found.last()?;
    Some((
        values.path.clone(),
        entry.value.clone(),
        read.path.join("."),
    ))
}

/// The `kind` of a document's root mapping, if it is written as is.
fn kind_of(root: SpanRef<'_>) -> Option<String> {
    root.pairs()
        .find(|(k, _)| k.value() == Some("kind"))
        .and_then(|(_, v)| v?.value().map(str::to_string))
        .filter(|kind| !kind.contains('_'))
}

/// Which document of the template (masked) a rendered document of `kind` came from: the `nth`
/// output of that template, counted among its documents of the same kind.
fn template_document(masked: &str, kind: Option<&str>, nth: usize) -> Option<Range<usize>> {
    let documents: Vec<Range<usize>> = split::split(masked)
        .documents
        .into_iter()
        .filter(|r| !masked[r.clone()].trim().is_empty())
        .collect();
    let kinds: Vec<Option<String>> = documents
        .iter()
        .map(|r| {
            SpanTree::parse(&masked[r.clone()])
                .0
                .root()
                .and_then(|root| kind_of(root))
        })
        .collect();
    let same: Vec<usize> = (0..documents.len())
        .filter(|&i| kind.is_some() && kinds[i].as_deref() == kind)
        .collect();
    let index = match same.len() {
        0 => nth.min(documents.len().checked_sub(1)?),
        n => same[nth.min(n - 1)],
    };
    documents.get(index).cloned()
}

/// The key path of the node at `offset`, and whether the offset is on a key.
fn path_at(root: SpanRef<'_>, offset: usize) -> Option<(KeyPath, bool)> {
    let mut path = KeyPath::default();
    let mut node = root;
    'descend: loop {
        match node.kind() {
            SpanKind::Mapping => {
                for (key, value) in node.pairs() {
                    let name = key.value().unwrap_or_default().to_string();
                    if key.range().contains(&offset) {
                        path.push_key(name);
                        return Some((path, true));
                    }
                    if let Some(value) = value.filter(|v| v.range().contains(&offset)) {
                        path.push_key(name);
                        node = value;
                        continue 'descend;
                    }
                }
                return Some((path, false));
            }
            SpanKind::Sequence => {
                for (index, item) in node.children().enumerate() {
                    if item.range().contains(&offset) {
                        path.push_index(index);
                        node = item;
                        continue 'descend;
                    }
                }
                return Some((path, false));
            }
            _ => return Some((path, false)),
        }
    }
}

/// Follows `path` in a template's (masked) tree: the range of the last key found, of the value
/// there, and whether the whole path was found. A list built by a `range` has one item in the
/// template: every rendered index goes to it.
fn resolve(
    root: SpanRef<'_>,
    path: &KeyPath,
) -> (Option<Range<usize>>, Option<Range<usize>>, bool) {
    let mut node = root;
    let mut key = None;
    for segment in &path.0 {
        let next = match (segment, node.kind()) {
            (Segment::Key(wanted), SpanKind::Mapping) => node
                .pairs()
                .find(|(k, _)| k.value() == Some(wanted.as_str()))
                .map(|(k, v)| {
                    key = Some(k.range());
                    v
                }),
            (Segment::Index(index), SpanKind::Sequence) => {
                let items: Vec<SpanRef<'_>> = node.children().collect();
                let item = items.get(*index).or(if items.len() == 1 {
                    items.first()
                } else {
                    None
                });
                item.map(|item| {
                    key = Some(item.range().start..item.range().start + 1);
                    Some(*item)
                })
            }
            _ => None,
        };
        match next {
            Some(Some(value)) => node = value,
            Some(None) => return (key, None, segment == path.0.last().unwrap_or(segment)),
            None => return (key, None, false),
        }
    }
    (key, Some(node.range()), true)
}

/// The range of the template's line whose static text matches rendered line `line` (0-based)
/// of `rendered`: its masked actions (`_` runs) match anything.
fn template_line(masked: &str, rendered: &str, line: usize) -> Option<Range<usize>> {
    let wanted = rendered.lines().nth(line)?.trim();
    if wanted.is_empty() {
        return None;
    }
    let mut offset = 0;
    let mut candidates = Vec::new();
    for text in masked.split_inclusive('\n') {
        let content = text.trim();
        if !content.is_empty() && matches_with_holes(content, wanted) {
            let start = offset + (text.len() - text.trim_start().len());
            candidates.push(start..start + content.len());
        }
        offset += text.len();
    }
    // Several lines alike: the one nearest the same line number.
    candidates.into_iter().min_by_key(|r| {
        let at = masked[..r.start].matches('\n').count();
        at.abs_diff(line)
    })
}

/// Whether `pattern` (with `_` runs standing for anything) matches `text` whole.
fn matches_with_holes(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('_').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let Some(rest) = text.strip_prefix(parts[0]) else {
        return false;
    };
    let mut rest = rest;
    let last = parts[parts.len() - 1];
    for part in &parts[1..parts.len() - 1] {
        if part.is_empty() {
            continue;
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count()
}

fn first_line(text: &str) -> Range<usize> {
    0..text.find('\n').unwrap_or(text.len())
}

/// Byte offset of a 1-based line and column (Helm counts columns in bytes).
fn offset_of(text: &str, line: usize, column: Option<usize>) -> usize {
    let start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>()
        .min(text.len());
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    (start + column.unwrap_or(1).saturating_sub(1)).min(end)
}

/// The line holding `offset`, without its indentation.
fn line_range(text: &str, offset: usize) -> Range<usize> {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let indent = text[start..end].len() - text[start..end].trim_start().len();
    start + indent..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holes_match_anything() {
        assert!(matches_with_holes("name: ____-svc", "name: rel-web-svc"));
        assert!(matches_with_holes(
            "image: \"____:____\"",
            "image: \"nginx:1.2\""
        ));
        assert!(!matches_with_holes("name: ____-svc", "name: rel"));
        assert!(matches_with_holes("a: 1", "a: 1"));
    }

    #[test]
    fn paths_resolve_through_range_lists() {
        let (rendered, _) =
            SpanTree::parse("spec:\n  ports:\n  - port: 80\n  - port: 81\n    bad: 1\n");
        let text = "spec:\n  ports:\n  - port: 80\n  - port: 81\n    bad: 1\n";
        let (path, on_key) = path_at(rendered.root().unwrap(), text.find("bad").unwrap()).unwrap();
        assert_eq!(path.to_string(), "spec.ports[1].bad");
        assert!(on_key);
        let template = "spec:\n  ports:\n  {{- range .Values.ports }}\n  - port: {{ . }}\n    bad: 1\n  {{- end }}\n";
        let parsed = crate::yaml::template::Template::parse(template);
        let masked = parsed.masked(template);
        let (tree, _) = SpanTree::parse(&masked);
        let (key, _, whole) = resolve(tree.root().unwrap(), &path);
        assert!(whole);
        assert_eq!(&template[key.unwrap()], "bad");
    }
}
