//! Deprecated kustomization fields, as kustomize's `CheckDeprecatedFields` lists them, each with
//! a quick fix to the current form where kustomize has one (what `kustomize edit fix` does):
//! `bases` → `resources`, `imageTags` → `images`, `patchesStrategicMerge` and `patchesJson6902`
//! → `patches`, `commonLabels` → `labels` (with `includeSelectors: true`, which keeps what
//! `commonLabels` did). `vars` → `replacements` has no mechanical form and gets none.

use std::ops::Range;

use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::yaml::spans::{SpanKind, SpanRef, SpanTree};

/// How a deprecated field's entries become the current field's.
#[derive(Clone, Copy)]
enum Convert {
    /// Each item as it is.
    Items,
    /// `patchesStrategicMerge` items: a file becomes `path:`, an inline patch `patch:`.
    StrategicMerge,
    /// The map becomes one `labels` item.
    CommonLabels,
}

struct Deprecation {
    key: &'static str,
    message: &'static str,
    to: Option<(&'static str, Convert)>,
}

const DEPRECATIONS: [Deprecation; 7] = [
    Deprecation {
        key: "bases",
        message: "`bases` is deprecated: list bases in `resources`",
        to: Some(("resources", Convert::Items)),
    },
    Deprecation {
        key: "imageTags",
        message: "`imageTags` is deprecated: use `images`",
        to: Some(("images", Convert::Items)),
    },
    Deprecation {
        key: "patchesStrategicMerge",
        message: "`patchesStrategicMerge` is deprecated: use `patches`, which takes strategic-merge and JSON 6902 patches",
        to: Some(("patches", Convert::StrategicMerge)),
    },
    Deprecation {
        key: "patchesJson6902",
        message: "`patchesJson6902` is deprecated: use `patches`, which takes strategic-merge and JSON 6902 patches",
        to: Some(("patches", Convert::Items)),
    },
    Deprecation {
        key: "commonLabels",
        message: "`commonLabels` is deprecated: use `labels` (with `includeSelectors: true` for the same effect on selectors)",
        to: Some(("labels", Convert::CommonLabels)),
    },
    Deprecation {
        key: "vars",
        message: "`vars` is deprecated and will be removed: migrate to `replacements` (no automatic fix: each var's source and every `$(VAR)` use become a replacement's source and targets)",
        to: None,
    },
    Deprecation {
        key: "helmChartInflationGenerator",
        message: "`helmChartInflationGenerator` is deprecated: use `helmCharts` and `helmGlobals`",
        to: None,
    },
];

/// The deprecated fields of the kustomization `text`, each with its fix when there is one.
pub fn check(text: &str) -> Vec<Diagnostic> {
    let (tree, _) = SpanTree::parse(text);
    let Some(root) = tree.root().filter(|r| r.kind() == SpanKind::Mapping) else {
        return Vec::new();
    };
    let pairs: Vec<(SpanRef<'_>, Option<SpanRef<'_>>)> = root.pairs().collect();
    let mut out = Vec::new();
    for (key, value) in &pairs {
        let Some(name) = key.value() else { continue };
        let Some(deprecation) = DEPRECATIONS.iter().find(|d| d.key == name) else {
            continue;
        };
        let mut diagnostic = Diagnostic {
            range: key.range(),
            severity: Severity::Warning,
            code: codes::KUSTOMIZE_DEPRECATED,
            message: deprecation.message.to_string(),
            fix: None,
        };
        if let (Some((target, convert)), Some(value)) = (deprecation.to, value) {
            let existing = pairs
                .iter()
                .find(|(k, _)| k.value() == Some(target))
                .map(|(k, v)| (*k, *v));
            if let Some(edits) = fix(text, (*key, *value), target, convert, existing) {
                diagnostic = diagnostic.with_fix(format!("Move `{name}` to `{target}`"), edits);
            }
        }
        out.push(diagnostic);
    }
    out
}

/// The edits that move the deprecated pair's entries to `target` (appended to its list when it
/// exists, else a new `target:` in the pair's place).
fn fix(
    text: &str,
    (key, value): (SpanRef<'_>, SpanRef<'_>),
    target: &str,
    convert: Convert,
    existing: Option<(SpanRef<'_>, Option<SpanRef<'_>>)>,
) -> Option<Vec<(Range<usize>, String)>> {
    let items = converted(text, value, convert)?;
    let pair_lines = line_start(text, key.range().start)..lines_end(text, value.range().end);
    let key_column = key.range().start - pair_lines.start;
    match existing {
        None => {
            let indent = " ".repeat(key_column);
            let mut block = format!("{indent}{target}:\n");
            for item in &items {
                block.push_str(&list_item(item, key_column));
            }
            Some(vec![(pair_lines, block)])
        }
        Some((_, Some(list))) if list.kind() == SpanKind::Sequence && !list.is_flow() => {
            let first = list.children().next()?;
            let first_line = line_start(text, first.range().start);
            let dash_column = text[first_line..first.range().start].find('-')?;
            let end = lines_end(text, list.range().end);
            let mut block = String::new();
            for item in &items {
                block.push_str(&list_item(item, dash_column));
            }
            if end == pair_lines.start {
                // The pair follows the list: one edit replaces it.
                return Some(vec![(pair_lines, block)]);
            }
            Some(vec![(end..end, block), (pair_lines, String::new())])
        }
        _ => None,
    }
}

/// The deprecated value's entries as items of the current field, each as YAML relative to
/// column 0.
fn converted(text: &str, value: SpanRef<'_>, convert: Convert) -> Option<Vec<String>> {
    match convert {
        Convert::Items => {
            (value.kind() == SpanKind::Sequence).then_some(())?;
            Some(value.children().map(|item| block_of(text, item)).collect())
        }
        Convert::StrategicMerge => {
            (value.kind() == SpanKind::Sequence).then_some(())?;
            value
                .children()
                .map(|item| {
                    let patch = item.value()?;
                    if !patch.contains('\n') {
                        return Some(format!("path: {}", block_of(text, item)));
                    }
                    let (body, indicator) = match patch.strip_suffix('\n') {
                        Some(body) => (body, "|"),
                        None => (patch, "|-"),
                    };
                    let lines: Vec<String> = body.lines().map(|l| format!("  {l}")).collect();
                    Some(format!("patch: {indicator}\n{}", lines.join("\n")))
                })
                .collect()
        }
        Convert::CommonLabels => {
            (value.kind() == SpanKind::Mapping).then_some(())?;
            let pairs = block_of(text, value);
            let pairs = if pairs.contains('\n') || !value.is_flow() {
                let lines: Vec<String> = pairs.lines().map(|l| format!("  {l}")).collect();
                format!("pairs:\n{}", lines.join("\n"))
            } else {
                format!("pairs: {pairs}")
            };
            Some(vec![format!("{pairs}\nincludeSelectors: true")])
        }
    }
}

/// A node's text as written, its lines made relative to the node's first column (trailing
/// line breaks dropped). Quoted and plain scalars keep their quotes.
fn block_of(text: &str, node: SpanRef<'_>) -> String {
    let range = node.range();
    let column = range.start - line_start(text, range.start);
    let written = text[range].trim_end();
    let mut out = String::new();
    for (i, line) in written.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            let indent = line.len() - line.trim_start_matches(' ').len();
            out.push_str(&line[indent.min(column)..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// `item` (relative to column 0) as a `- ` item at `dash_column`, with its line break.
fn list_item(item: &str, dash_column: usize) -> String {
    let indent = " ".repeat(dash_column);
    let mut out = format!("{indent}- ");
    for (i, line) in item.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&indent);
                out.push_str("  ");
            }
        }
        out.push_str(line);
    }
    out.push('\n');
    out
}

fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map_or(0, |n| n + 1)
}

/// The end of the line holding the last non-blank byte before `end`, its line break included.
fn lines_end(text: &str, end: usize) -> usize {
    let last = text[..end].trim_end().len();
    match text[last..].find('\n') {
        Some(n) => last + n + 1,
        None => text.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text after applying the first diagnostic's fix.
    fn fixed(text: &str) -> String {
        let found = check(text);
        let fix = found[0].fix.as_ref().expect("a fix");
        let mut edits = fix.edits.clone();
        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        let mut out = text.to_string();
        for (range, new) in edits {
            out.replace_range(range, &new);
        }
        out
    }

    #[test]
    fn bases_move_to_resources() {
        assert_eq!(
            fixed("bases:\n- ../base\n- ../other\nnamespace: x\n"),
            "resources:\n- ../base\n- ../other\nnamespace: x\n"
        );
        assert_eq!(
            fixed("resources:\n  - a.yaml\nbases: [../base]\nnamespace: x\n"),
            "resources:\n  - a.yaml\n  - ../base\nnamespace: x\n"
        );
    }

    #[test]
    fn strategic_merge_patches_become_patches() {
        let text = "patchesStrategicMerge:\n- replicas.yaml\n- |-\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata:\n    name: web\npatches:\n- path: other.yaml\n";
        assert_eq!(
            fixed(text),
            "patches:\n- path: other.yaml\n- path: replicas.yaml\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata:\n      name: web\n"
        );
        let json =
            "patchesJson6902:\n- target:\n    kind: Deployment\n    name: web\n  path: ops.yaml\n";
        assert_eq!(
            fixed(json),
            "patches:\n- target:\n    kind: Deployment\n    name: web\n  path: ops.yaml\n"
        );
    }

    #[test]
    fn common_labels_become_labels_with_selectors_and_vars_get_no_fix() {
        assert_eq!(
            fixed("commonLabels:\n  app: web\n  tier: front\n"),
            "labels:\n- pairs:\n    app: web\n    tier: front\n  includeSelectors: true\n"
        );
        assert_eq!(
            fixed("commonLabels: {app: web}\nresources: []\n"),
            "labels:\n- pairs: {app: web}\n  includeSelectors: true\nresources: []\n"
        );
        let vars = check("vars:\n- name: X\n  objref: {kind: Service, name: s, apiVersion: v1}\n");
        assert_eq!(vars.len(), 1);
        assert!(vars[0].fix.is_none());
        assert!(vars[0].message.contains("replacements"));
        assert!(check("resources: [a.yaml]\nlabels: []\n").is_empty());
    }
}
