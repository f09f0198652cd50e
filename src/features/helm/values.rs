//! What a chart's templates and values files know about each other: completion inside template
//! actions (`.Values.` at any depth from the chart's values files, `.Chart.`, `.Release.`,
//! `.Capabilities.`, and `include`/`template` names), hover on `.Values` paths (the value and
//! the file that sets it) and on included names, go-to-definition (into `values.yaml`, into the
//! `define`), and references (from a values key to every template that reads it). Byte ranges,
//! with the file each is in.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::workspace::chart::{ChartModel, ValueShape, ValuesFile, ValuesSource};
use crate::yaml::template::{ActionKind, Template, Token};

/// What a completion item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    /// A key of the values (or of a built-in object) that holds more keys.
    Object,
    /// A key with a value.
    Field,
    /// A named template (`define`).
    Template,
}

/// One completion inside a template action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    /// The value, or what the built-in field is.
    pub detail: String,
    /// The text the item replaces (the word typed so far).
    pub replace: Range<usize>,
}

/// A place in a file of the chart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub range: Range<usize>,
}

/// The built-in objects of a template's dot.
const TOP: &[(&str, &str)] = &[
    ("Values", "the chart's values (values.yaml and -f files)"),
    ("Chart", "the chart's Chart.yaml"),
    ("Release", "the release being rendered"),
    ("Capabilities", "what the cluster supports"),
    ("Files", "the chart's other files"),
    ("Template", "the template being rendered"),
];

const CHART: &[(&str, &str)] = &[
    ("Name", "the chart's name"),
    ("Version", "the chart's version (SemVer)"),
    ("AppVersion", "the version of the app the chart installs"),
    ("Description", "the chart's one-line description"),
    ("Type", "application or library"),
    ("ApiVersion", "the chart API version (v2)"),
    ("KubeVersion", "the Kubernetes versions the chart supports"),
    ("Home", "the project's home page"),
    ("Icon", "the chart's icon URL"),
    ("Keywords", "the chart's keywords"),
    ("Sources", "the project's source URLs"),
    ("Maintainers", "the chart's maintainers"),
    ("Annotations", "the chart's annotations"),
    ("Deprecated", "whether the chart is deprecated"),
];

const RELEASE: &[(&str, &str)] = &[
    ("Name", "the release name"),
    ("Namespace", "the namespace the release goes to"),
    ("IsUpgrade", "true when upgrading or rolling back"),
    ("IsInstall", "true when installing"),
    ("Revision", "the release's revision number"),
    (
        "Service",
        "the service rendering the template (always Helm)",
    ),
];

const CAPABILITIES: &[(&str, &str)] = &[
    (
        "APIVersions",
        "the API versions the cluster serves (`.Has \"apps/v1\"`)",
    ),
    ("KubeVersion", "the cluster's Kubernetes version"),
    ("HelmVersion", "the Helm version"),
];

const KUBE_VERSION: &[(&str, &str)] = &[
    ("Version", "the Kubernetes version (v1.37.2)"),
    ("Major", "the major version"),
    ("Minor", "the minor version"),
    ("GitVersion", "the full version"),
];

const TEMPLATE: &[(&str, &str)] = &[
    ("Name", "the template's path (mychart/templates/x.yaml)"),
    ("BasePath", "the chart's templates folder"),
];

/// What the cursor is on inside an action.
#[derive(Debug, PartialEq, Eq)]
enum Context {
    /// A field chain being typed: the fields before the last dot, and the partial field.
    Chain {
        variable: Option<String>,
        fields: Vec<String>,
        partial: Range<usize>,
    },
    /// The name of an `include` or `template` being typed (inside its quotes).
    Name { partial: Range<usize> },
}

/// The start of the action the cursor is in (its `{{`), if it is in one, even an unclosed one.
fn action_start(text: &str, offset: usize) -> Option<usize> {
    let before = text.get(..offset)?;
    let open = before.rfind("{{")?;
    (!before[open..].contains("}}")).then_some(open)
}

fn context(text: &str, offset: usize) -> Option<Context> {
    let start = action_start(text, offset)?;
    let inside = &text[start + 2..offset];
    // Inside quotes: an odd number of `"` before the cursor.
    if inside.matches('"').count() % 2 == 1 {
        let quote = start + 2 + inside.rfind('"')?;
        let before = text[start + 2..quote].trim_end();
        let word = before
            .rsplit(|c: char| c.is_whitespace() || c == '(')
            .next()
            .unwrap_or_default();
        return matches!(word, "include" | "template").then_some(Context::Name {
            partial: quote + 1..offset,
        });
    }
    let bytes = text.as_bytes();
    let mut from = offset;
    while from > start + 2
        && (bytes[from - 1].is_ascii_alphanumeric()
            || matches!(bytes[from - 1], b'_' | b'.' | b'$'))
    {
        from -= 1;
    }
    let chain = &text[from..offset];
    if !chain.contains('.') {
        return None;
    }
    let (variable, rest) = match chain.strip_prefix('$') {
        Some(rest) => {
            let dot = rest.find('.').unwrap_or(rest.len());
            (Some(format!("${}", &rest[..dot])), &rest[dot..])
        }
        None if chain.starts_with('.') => (None, chain),
        None => return None,
    };
    let mut parts: Vec<&str> = rest.trim_start_matches('.').split('.').collect();
    let last = parts.pop().unwrap_or_default();
    Some(Context::Chain {
        variable,
        fields: parts.into_iter().map(str::to_string).collect(),
        partial: offset - last.len()..offset,
    })
}

/// Completion inside a template action; `None` when the cursor is in none (the schema's
/// completion applies there).
pub fn completions(text: &str, offset: usize, chart: Option<&ChartModel>) -> Option<Vec<Item>> {
    let context = context(text, offset)?;
    let mut items = Vec::new();
    let builtin = |list: &[(&str, &str)], partial: &Range<usize>, object: bool| {
        list.iter()
            .map(|(label, detail)| Item {
                label: label.to_string(),
                kind: if object {
                    ItemKind::Object
                } else {
                    ItemKind::Field
                },
                detail: detail.to_string(),
                replace: partial.clone(),
            })
            .collect::<Vec<_>>()
    };
    match context {
        Context::Name { partial } => {
            if let Some(chart) = chart {
                let mut seen = std::collections::BTreeSet::new();
                for (name, path, _) in chart.defines() {
                    if seen.insert(name.to_string()) {
                        items.push(Item {
                            label: name.to_string(),
                            kind: ItemKind::Template,
                            detail: format!("defined in {}", relative(chart, path)),
                            replace: partial.clone(),
                        });
                    }
                }
            }
        }
        Context::Chain {
            variable,
            fields,
            partial,
        } => {
            if variable.as_deref().is_some_and(|v| v != "$") {
                return Some(items);
            }
            let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
            match fields.as_slice() {
                [] => items = builtin(TOP, &partial, true),
                ["Chart"] => items = builtin(CHART, &partial, false),
                ["Release"] => items = builtin(RELEASE, &partial, false),
                ["Capabilities"] => items = builtin(CAPABILITIES, &partial, true),
                ["Capabilities", "KubeVersion"] => items = builtin(KUBE_VERSION, &partial, false),
                ["Template"] => items = builtin(TEMPLATE, &partial, false),
                ["Values", path @ ..] => {
                    let path: Vec<String> = path.iter().map(|s| s.to_string()).collect();
                    for (file, entry) in chart.map(|c| c.children(&path)).unwrap_or_default() {
                        let object = matches!(entry.shape, ValueShape::Map { empty: false });
                        items.push(Item {
                            label: entry.path.last().cloned().unwrap_or_default(),
                            kind: if object {
                                ItemKind::Object
                            } else {
                                ItemKind::Field
                            },
                            detail: completion_detail(chart, file, entry, object),
                            replace: partial.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    Some(items)
}

/// What the cursor is on in a template: a `.Values` path (up to the field under the cursor) or
/// an included name, with its range.
enum Target {
    Values(Vec<String>, Range<usize>),
    Builtin(String, String, Range<usize>),
    Name(String, Range<usize>),
}

fn target(template: &Template, offset: usize) -> Option<Target> {
    let action = template.action_at(offset)?;
    for (name, range) in action.included_names() {
        if range.start <= offset && offset <= range.end {
            return Some(Target::Name(name, range));
        }
    }
    if let ActionKind::Define(name, range) = &action.kind
        && range.start <= offset
        && offset <= range.end
    {
        return Some(Target::Name(name.clone(), range.clone()));
    }
    for token in &action.tokens {
        let Token::Chain { variable, fields } = &token.token else {
            continue;
        };
        if variable.as_deref().is_some_and(|v| v != "$") {
            continue;
        }
        let Some(at) = fields
            .iter()
            .position(|(_, r)| r.start <= offset && offset <= r.end)
        else {
            continue;
        };
        let range = fields[at].1.clone();
        if fields[0].0 == "Values" && at > 0 {
            let path = fields[1..=at].iter().map(|(f, _)| f.clone()).collect();
            return Some(Target::Values(path, fields[1].1.start..range.end));
        }
        if at == 1 {
            return Some(Target::Builtin(
                fields[0].0.clone(),
                fields[1].0.clone(),
                range,
            ));
        }
    }
    None
}

/// Hover inside a template action: markdown and the range it is about.
pub fn hover(
    template: &Template,
    offset: usize,
    chart: Option<&ChartModel>,
) -> Option<(String, Range<usize>)> {
    match target(template, offset)? {
        Target::Values(path, range) => {
            let chart = chart?;
            Some((values_hover(chart, &path), range))
        }
        Target::Builtin(object, field, range) => {
            let list = match object.as_str() {
                "Chart" => CHART,
                "Release" => RELEASE,
                "Capabilities" => CAPABILITIES,
                "Template" => TEMPLATE,
                _ => return None,
            };
            let (_, detail) = list.iter().find(|(name, _)| *name == field)?;
            Some((format!("`.{object}.{field}`: {detail}"), range))
        }
        Target::Name(name, range) => {
            let chart = chart?;
            let (_, path, _) = chart.defines().find(|(n, _, _)| *n == name)?;
            Some((
                format!("template `{name}`, defined in `{}`", relative(chart, path)),
                range,
            ))
        }
    }
}

/// The hover of `.Values.<path>`: each file's value in Helm's merge order, which file sets it,
/// and the one a render takes; then the alternative `values-*.yaml` that a render does not read.
fn values_hover(chart: &ChartModel, path: &[String]) -> String {
    let dotted = format!(".Values.{}", path.join("."));
    let found = chart.lookup_all(path);
    if found.is_empty() {
        return format!("`{dotted}`: not defined in the chart's values files");
    }
    let applied = found.iter().filter(|(file, _)| file.is_applied()).count();
    let mut text = format!("`{dotted}`\n");
    for (index, (file, entry)) in found.iter().enumerate() {
        let value = file.value_text(entry);
        let shown: String = value.lines().take(12).collect::<Vec<_>>().join("\n");
        let more = if value.lines().count() > 12 {
            "\n…"
        } else {
            ""
        };
        let source = match file.source {
            ValuesSource::Chart => "",
            ValuesSource::Extra => " (kube-lsp.helm.valuesFiles)",
            ValuesSource::Parent | ValuesSource::ParentExtra => " (the parent chart's)",
            ValuesSource::Alternative => " (not read by the render: Helm reads it only with `-f`)",
        };
        let last_applied = applied > 1 && index == applied - 1;
        let outcome = match entry.shape {
            _ if !last_applied => "",
            ValueShape::Map { .. } => ": the mappings are merged, a later file's keys win",
            _ => ": this value wins (a later file wins)",
        };
        text.push_str(&format!(
            "\n```yaml\n{shown}{more}\n```\nset in `{}`{source}{outcome}\n",
            relative(chart, &file.path)
        ));
    }
    text
}

/// Where the `.Values` path or included name under the cursor is defined.
pub fn definition(template: &Template, offset: usize, chart: &ChartModel) -> Vec<Location> {
    match target(template, offset) {
        Some(Target::Values(path, _)) => chart
            .lookup_all(&path)
            .into_iter()
            .map(|(file, entry)| Location {
                path: file.path.clone(),
                range: entry.key.clone(),
            })
            .collect(),
        Some(Target::Name(name, _)) => chart
            .defines()
            .filter(|(n, _, _)| *n == name)
            .map(|(_, path, range)| Location {
                path: path.to_path_buf(),
                range,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Every template that reads the `.Values` path under the cursor: in a values file of the chart
/// (`values_path` is that file) the key at `offset`, in a template the path at `offset`.
pub fn references(
    text: &str,
    offset: usize,
    values_path: Option<&Path>,
    chart: &ChartModel,
) -> Vec<Location> {
    let path = match values_path {
        Some(file) => {
            let Some(values) = chart.values.iter().find(|v| v.path == file) else {
                return Vec::new();
            };
            let entries = crate::workspace::chart::value_entries(text, &[]);
            let Some(entry) = entries
                .iter()
                .rfind(|e| e.key.start <= offset && offset <= e.key.end)
            else {
                return Vec::new();
            };
            if values.from_parent() {
                // Keys under the subchart's own key.
                let mut path = entry.path.clone();
                if path.first() != Some(&chart.name) {
                    return Vec::new();
                }
                path.remove(0);
                path
            } else {
                entry.path.clone()
            }
        }
        None => match target(&Template::parse(text), offset) {
            Some(Target::Values(path, _)) => path,
            _ => return Vec::new(),
        },
    };
    chart
        .reads_of(&path)
        .into_iter()
        .map(|(path, range)| Location {
            path: path.to_path_buf(),
            range,
        })
        .collect()
}

/// A values key's completion detail: its value (as the render reads it) and the file it is
/// from, said when that is not the chart's own `values.yaml`.
fn completion_detail(
    chart: Option<&ChartModel>,
    file: &ValuesFile,
    entry: &crate::workspace::chart::ValueEntry,
    object: bool,
) -> String {
    let value = if object {
        "{…}".to_string()
    } else {
        first_line(file.value_text(entry))
    };
    let name = chart.map_or_else(String::new, |chart| relative(chart, &file.path));
    match file.source {
        ValuesSource::Chart => value,
        ValuesSource::Alternative => format!("{value} (only in `{name}`, read with -f)"),
        _ => format!("{value} (from `{name}`)"),
    }
}

fn first_line(value: &str) -> String {
    let line = value.lines().next().unwrap_or_default();
    let short: String = line.chars().take(60).collect();
    if value.lines().nth(1).is_some() || short.len() < line.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// A chart file's path from the folder holding the outermost chart (`mychart/values.yaml`,
/// `mychart/charts/db/values.yaml`).
fn relative(chart: &ChartModel, path: &Path) -> String {
    let mut top = chart.root.as_path();
    while let Some(parent) = top
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "charts"))
        .and_then(Path::parent)
    {
        top = parent;
    }
    let base = top.parent().unwrap_or(top);
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::fixture::cursor;

    fn chart() -> (tempfile::TempDir, ChartModel) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("shop");
        std::fs::create_dir_all(root.join("templates")).unwrap();
        std::fs::write(
            root.join("Chart.yaml"),
            "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
        )
        .unwrap();
        std::fs::write(
            root.join("values.yaml"),
            "image:\n  repository: nginx\n  tag: \"1.27\"\nreplicaCount: 2\nextra: {}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("templates/_helpers.tpl"),
            "{{- define \"shop.name\" -}}\n{{ .Chart.Name }}\n{{- end }}\n",
        )
        .unwrap();
        std::fs::write(
            root.join("templates/cm.yaml"),
            "data:\n  image: {{ .Values.image.repository }}\n  n: {{ .Values.replicaCount }}\n",
        )
        .unwrap();
        let model = ChartModel::load(&root, &|_| None);
        (dir, model)
    }

    fn labels(items: &[Item]) -> Vec<&str> {
        items.iter().map(|i| i.label.as_str()).collect()
    }

    #[test]
    fn completion_of_values_builtins_and_names() {
        let (_dir, chart) = chart();
        let complete = |text: &str| {
            let (text, offset) = cursor(text);
            completions(&text, offset, Some(&chart))
        };
        let items = complete("a: {{ .Values.image.re$0").unwrap();
        assert_eq!(labels(&items), ["repository", "tag"]);
        assert_eq!(items[0].detail, "nginx");
        let items = complete("a: {{ .Values.$0 }}").unwrap();
        assert_eq!(labels(&items), ["image", "replicaCount", "extra"]);
        assert_eq!(items[0].kind, ItemKind::Object);
        assert!(labels(&complete("a: {{ .Release.$0 }}").unwrap()).contains(&"Namespace"));
        assert!(labels(&complete("a: {{ $.Chart.$0 }}").unwrap()).contains(&"AppVersion"));
        assert!(labels(&complete("a: {{ .$0 }}").unwrap()).contains(&"Capabilities"));
        assert_eq!(
            labels(&complete("a: {{ include \"sh$0\" . }}").unwrap()),
            ["shop.name"]
        );
        assert_eq!(complete("a: .Values.$0"), None);
    }

    #[test]
    fn hover_definition_and_references() {
        let (_dir, chart) = chart();
        let (text, offset) =
            cursor("x: {{ .Values.image.t$0ag | quote }}\ny: {{ include \"shop.name\" . }}\n");
        let template = Template::parse(&text);
        let (markdown, range) = hover(&template, offset, Some(&chart)).unwrap();
        assert!(
            markdown.contains("\"1.27\"") && markdown.contains("shop/values.yaml"),
            "{markdown}"
        );
        assert_eq!(&text[range], "image.tag");
        let found = definition(&template, offset, &chart);
        assert_eq!(found.len(), 1);
        assert_eq!(&chart.values[0].text[found[0].range.clone()], "tag");
        let name = text.find("shop.name").unwrap() + 2;
        let found = definition(&template, name, &chart);
        assert!(found[0].path.ends_with("_helpers.tpl"));

        let values = chart.values[0].text.clone();
        let at = values.find("repository").unwrap() + 1;
        let refs = references(&values, at, Some(&chart.values[0].path.clone()), &chart);
        assert_eq!(refs.len(), 1);
        assert!(refs[0].path.ends_with("cm.yaml"));
    }
}
