//! An open Helm template as the YAML layers read it: its actions (`yaml::template`), its masked
//! text (the YAML the layers check and validate), and the diagnostics only a template has: its
//! action errors, `.Values` paths no values file defines, and which YAML findings to keep.

use std::sync::Arc;

use ropey::Rope;

use crate::diagnostic::{Diagnostic, Severity, codes};
use crate::workspace::chart::ChartModel;
use crate::yaml::template::{ActionKind, Template, Token};

/// What a chart file is to the chart (the server tells the open document).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChartRole {
    /// Not in a chart (still read as a template when it holds actions).
    #[default]
    None,
    /// A manifest template under `templates/`.
    Template,
    /// A `_*.tpl` helper: template definitions, not YAML.
    Helper,
    /// `values.yaml` (or `values-*.yaml`).
    Values,
    /// Chart.yaml, Chart.lock and other files of the chart that are no Kubernetes objects.
    ChartFile,
}

impl ChartRole {
    /// Whether the file holds Kubernetes objects to validate against their schema.
    pub fn has_manifests(self) -> bool {
        matches!(self, ChartRole::None | ChartRole::Template)
    }
}

/// A template's text, parsed and masked.
pub struct TemplateText {
    pub template: Arc<Template>,
    pub masked: Arc<String>,
    pub masked_rope: Rope,
}

impl TemplateText {
    pub fn new(text: &str) -> TemplateText {
        let template = Template::parse(text);
        let masked = template.masked(text);
        TemplateText {
            masked_rope: Rope::from_str(&masked),
            masked: Arc::new(masked),
            template: Arc::new(template),
        }
    }

    /// The errors of its actions.
    pub fn errors(&self) -> impl Iterator<Item = Diagnostic> + '_ {
        self.template
            .errors
            .iter()
            .map(|e| Diagnostic::error(e.range.clone(), codes::HELM_TEMPLATE, e.message.clone()))
    }

    /// Whether a YAML-layer diagnostic of the masked text is worth showing: not on an action
    /// (what an action prints is not known before rendering), and no duplicate key whose first
    /// occurrence is in another branch of an `if`/`else` or `range`.
    pub fn keeps_yaml(&self, diagnostic: &Diagnostic) -> bool {
        let document = self.template.document(&self.masked, 0..self.masked.len());
        if document.overlaps(&diagnostic.range) {
            return false;
        }
        if diagnostic.code != codes::DUPLICATE_KEY {
            return true;
        }
        let text = self.masked.as_str();
        let key = &text[diagnostic.range.clone()];
        let column = document.column(diagnostic.range.start);
        let line_start = text[..diagnostic.range.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let mut end = line_start;
        // Up through the lines above, at every earlier occurrence in the same mapping: the
        // duplicate is real if one of them is rendered together with this one.
        while end > 0 {
            let start = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
            let line = &text[start..end - 1];
            let indent = line.len() - line.trim_start().len();
            let content = line.trim_start();
            if !content.is_empty() && !content.starts_with('#') {
                if indent < column && !content.starts_with("- ") {
                    return false;
                }
                let same = indent == column
                    && content
                        .strip_prefix(key)
                        .is_some_and(|rest| rest.trim_start().starts_with(':'));
                if same
                    && !self
                        .template
                        .exclusive(start + indent, diagnostic.range.start)
                {
                    return true;
                }
            }
            end = start;
        }
        false
    }

    /// Warnings for the `.Values` paths of its actions that no values file of `chart` defines.
    pub fn undefined_values(&self, chart: &ChartModel) -> Vec<Diagnostic> {
        if chart.applied_values().next().is_none() {
            return Vec::new();
        }
        let mut out = Vec::new();
        // The paths an enclosing `if`/`with` tests: reads of them (or under them) are guarded.
        let mut guards: Vec<Vec<Vec<String>>> = Vec::new();
        for action in &self.template.actions {
            let tested: Vec<Vec<String>> = action.values_refs().map(|r| r.path).collect();
            match action.kind {
                ActionKind::If | ActionKind::With | ActionKind::Range => {
                    guards.push(tested);
                    continue;
                }
                ActionKind::Else => {
                    if let Some(top) = guards.last_mut() {
                        top.extend(tested);
                    }
                    continue;
                }
                ActionKind::End => {
                    guards.pop();
                    continue;
                }
                _ => {}
            }
            let defaulted = action
                .tokens
                .iter()
                .any(|t| matches!(&t.token, Token::Identifier(f) if f == "default" || f == "hasKey" || f == "empty"));
            for read in action.values_refs() {
                let guarded = defaulted
                    || guards
                        .iter()
                        .flatten()
                        .any(|g| !g.is_empty() && read.path.starts_with(g));
                if read.path.is_empty() || guarded || chart.is_defined(&read.path) {
                    continue;
                }
                // The deepest part that is defined, to say where the path leaves the values.
                let known = (1..read.path.len())
                    .rev()
                    .find(|&n| !chart.lookup(&read.path[..n]).is_empty())
                    .unwrap_or(0);
                let missing = &read.ranges[known..];
                let range = missing[0].start..missing[missing.len() - 1].end;
                out.push(Diagnostic {
                    range,
                    severity: Severity::Warning,
                    code: codes::HELM_VALUES_UNDEFINED,
                    message: format!(
                        "`.Values.{}` is not defined in {}",
                        read.path.join("."),
                        applied_names(chart)
                    ),
                    fix: None,
                });
            }
        }
        out
    }
}

/// The values files a render reads, named once each: `mychart/values.yaml or mychart/ci.yaml`.
fn applied_names(chart: &ChartModel) -> String {
    let mut names: Vec<String> = Vec::new();
    for file in chart.applied_values() {
        let name = file_name(&file.path);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(" or ")
}

fn file_name(path: &std::path::Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned());
    match (parent, name) {
        (Some(parent), Some(name)) => format!("{parent}/{name}"),
        (_, Some(name)) => name,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::ChartRole;
    use crate::features::document::OpenDocument;
    use crate::schema::Catalog;

    fn catalog() -> Catalog {
        static CATALOG: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(Catalog::builtin).clone()
    }

    fn found(text: &str) -> Vec<(String, String)> {
        let mut document = OpenDocument::open(text, 1, &catalog());
        document.validate(&catalog());
        document
            .diagnostics()
            .into_iter()
            .map(|d| (text[d.range.clone()].to_string(), d.code.to_string()))
            .collect()
    }

    const DEPLOYMENT: &str = r#"{{- if .Values.enabled }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- else }}
  replicas: 1
  {{- end }}
  selector:
    matchLabels:
      {{- include "app.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.service.port }}
              protocol: TCP
          {{- with .Values.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
{{- end }}
"#;

    #[test]
    fn a_valid_template_is_clean() {
        assert_eq!(found(DEPLOYMENT), []);
    }

    #[test]
    fn static_keys_and_values_are_validated() {
        let text = DEPLOYMENT
            .replace("imagePullPolicy:", "imagePullPolicyy:")
            .replace("protocol: TCP", "protocol: TCPX");
        assert_eq!(
            found(&text),
            [
                (
                    "imagePullPolicyy".to_string(),
                    "schema-unknown-field".to_string()
                ),
                ("TCPX".to_string(), "schema-enum".to_string()),
            ]
        );
    }

    #[test]
    fn required_fields_only_where_no_action_could_supply_them() {
        // `selector` is gone and nothing prints it: missing. The container has no image but an
        // include prints the rest of it: not missing.
        let text = DEPLOYMENT
            .replace("  selector:\n    matchLabels:\n      {{- include \"app.selectorLabels\" . | nindent 6 }}\n", "")
            .replace(
                "          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\"\n",
                "          {{- include \"app.image\" . | nindent 10 }}\n",
            );
        assert_eq!(
            found(&text),
            [("spec".to_string(), "schema-required".to_string())]
        );
    }

    #[test]
    fn action_errors_and_branch_duplicates() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  {{- if .Values.a }}\n  k: a\n  {{- else }}\n  k: b\n  {{- end }}\n  k: c\n  v: {{ .Values.x\n";
        let mut document = OpenDocument::open(text, 1, &catalog());
        document.set_chart(ChartRole::Template, None);
        document.validate(&catalog());
        let got: Vec<(String, String)> = document
            .diagnostics()
            .into_iter()
            .map(|d| (text[d.range.clone()].to_string(), d.code.to_string()))
            .collect();
        assert!(
            got.contains(&("k".to_string(), "yaml-duplicate-key".to_string())),
            "{got:?}"
        );
        assert_eq!(
            got.iter()
                .filter(|(_, c)| c == "yaml-duplicate-key")
                .count(),
            1,
            "{got:?}"
        );
        assert!(got.iter().any(|(_, c)| c == "helm-template"), "{got:?}");
    }

    #[test]
    fn a_templated_api_version_is_read_as_the_served_one() {
        let text = "apiVersion: {{ include \"capabilities.deployment.apiVersion\" . }}\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicaz: 1\n  selector: {}\n  template: {}\n";
        assert_eq!(
            found(text),
            [("replicaz".to_string(), "schema-unknown-field".to_string())]
        );
    }
}
