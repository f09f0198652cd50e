//! The `kube-lsp` settings section (from `initializationOptions` and
//! `workspace/didChangeConfiguration`), parsed once: `{"kube-lsp": {...}}` or the section itself.
//! Unknown, missing or malformed keys keep their defaults.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::cluster::ClusterSettings;
use crate::features::format::{FormatOptions, QuoteStyle};
use crate::features::rules::config::Settings as RuleSettings;

/// The settings section's name.
pub const SECTION: &str = "kube-lsp";

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    pub cluster: ClusterOptions,
    /// `schemaPaths`: CRD and schema files or folders; `None` when the payload does not name
    /// the key (the current ones stay).
    pub schema_paths: Option<Vec<PathBuf>>,
    /// `schemaPaths` entries `{"schema": <file>, "files": [<glob>, ...]}`: a JSON schema for
    /// the documents of the files the globs match; `None` when the payload does not name the
    /// key.
    pub schema_associations: Option<Vec<(PathBuf, Vec<String>)>>,
    /// `maxFileBytes`: files bigger than this are not read (workspace, schema paths,
    /// kubeconfig); `None` when the payload does not name the key.
    pub max_file_bytes: Option<u64>,
    /// `rules`: which rules are on and how severe (`features::rules::config::Settings`);
    /// `None` when the payload does not name the key (the current ones stay).
    pub rules: Option<RuleSettings>,
    /// `kustomize`: how kustomizations are rendered.
    pub kustomize: KustomizeOptions,
    /// `helm`: how charts are rendered.
    pub helm: HelmSettings,
    /// `format`: whether and how documents are formatted.
    pub format: FormatSettings,
    /// `schemaDownload`: whether a schema a modeline names by URL is downloaded (default false).
    pub schema_download: bool,
}

/// `format.enable` (default true), `format.indent` (2), `format.indentSequences` (true),
/// `format.quoteStyle` (`preserve`, `double`, `single`), `format.lineWidth` (80),
/// `format.keepBlankLines` (true).
#[derive(Clone, Debug, PartialEq)]
pub struct FormatSettings {
    pub enable: bool,
    pub options: FormatOptions,
}

impl Default for FormatSettings {
    fn default() -> Self {
        FormatSettings {
            enable: true,
            options: FormatOptions::default(),
        }
    }
}

impl FormatSettings {
    fn from_json(section: &Value) -> FormatSettings {
        let mut format = FormatSettings::default();
        let Some(value) = section.get("format") else {
            return format;
        };
        let options = &mut format.options;
        if let Some(enable) = value.get("enable").and_then(Value::as_bool) {
            format.enable = enable;
        }
        if let Some(indent) = value.get("indent").and_then(Value::as_u64) {
            options.indent = indent.clamp(1, 8) as usize;
        }
        if let Some(indent) = value.get("indentSequences").and_then(Value::as_bool) {
            options.indent_sequences = indent;
        }
        if let Some(quotes) = value
            .get("quoteStyle")
            .and_then(Value::as_str)
            .and_then(QuoteStyle::from_name)
        {
            options.quotes = quotes;
        }
        if let Some(width) = value.get("lineWidth").and_then(Value::as_u64) {
            options.line_width = width.clamp(20, 1_000) as usize;
        }
        if let Some(keep) = value.get("keepBlankLines").and_then(Value::as_bool) {
            options.keep_blank_lines = keep;
        }
        format
    }
}

/// The `kustomize` object: `path` (a `kustomize` or `kubectl` binary; default `kubectl` from
/// PATH), `render` (render kustomizations on open and save; default true), `timeoutMs`.
#[derive(Clone, Debug, PartialEq)]
pub struct KustomizeOptions {
    pub path: Option<PathBuf>,
    pub render: bool,
    pub timeout: Duration,
}

impl Default for KustomizeOptions {
    fn default() -> Self {
        KustomizeOptions {
            path: None,
            render: true,
            timeout: Duration::from_secs(20),
        }
    }
}

/// `helm.path` (default `helm` on PATH), `helm.valuesFiles` (extra values files, relative to the
/// chart), `helm.timeoutMs` (default 20000), `helm.render` (default true).
#[derive(Clone, Debug, PartialEq)]
pub struct HelmSettings {
    pub path: PathBuf,
    pub values_files: Vec<PathBuf>,
    pub timeout: Duration,
    pub render: bool,
}

impl Default for HelmSettings {
    fn default() -> Self {
        HelmSettings {
            path: PathBuf::from("helm"),
            values_files: Vec::new(),
            timeout: Duration::from_secs(20),
            render: true,
        }
    }
}

impl KustomizeOptions {
    fn from_json(section: &Value) -> KustomizeOptions {
        let mut options = KustomizeOptions::default();
        let Some(object) = section.get("kustomize") else {
            return options;
        };
        options.path = object
            .get("path")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        if let Some(render) = object.get("render").and_then(Value::as_bool) {
            options.render = render;
        }
        if let Some(ms) = object.get("timeoutMs").and_then(Value::as_u64) {
            options.timeout = Duration::from_millis(ms.clamp(100, 600_000));
        }
        options
    }
}

impl HelmSettings {
    fn from_json(section: &Value) -> HelmSettings {
        let mut helm = HelmSettings::default();
        let Some(value) = section.get("helm") else {
            return helm;
        };
        if let Some(path) = value.get("path").and_then(Value::as_str).map(str::trim)
            && !path.is_empty()
        {
            helm.path = PathBuf::from(path);
        }
        if let Some(files) = value.get("valuesFiles").and_then(Value::as_array) {
            helm.values_files = files
                .iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(ms) = value.get("timeoutMs").and_then(Value::as_u64) {
            helm.timeout = Duration::from_millis(ms.clamp(500, 600_000));
        }
        if let Some(render) = value.get("render").and_then(Value::as_bool) {
            helm.render = render;
        }
        helm
    }
}

/// What the cluster work uses: a change reconnects and checks every file again.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterOptions {
    /// `kubeconfig`, `context`, `namespace`, `requestTimeoutMs`.
    pub connection: ClusterSettings,
    /// `dryRun`: `onChange`, `onSave` (default) or `off`.
    pub dry_run: DryRunMode,
    /// `diff`: diff diagnostics against the live object.
    pub diff: bool,
    /// `debounceMs`: how long typing must pause before a dry-run on change.
    pub debounce: Duration,
    /// `clusterSchema`: validate and complete with the cluster's own schema.
    pub cluster_schema: bool,
    /// `dryRunContexts`: the contexts open documents may be sent to (dry-run and diff); `*` for
    /// any. Others are asked once (`window/showMessageRequest`); none by default.
    pub send_contexts: Vec<String>,
    /// `dryRunSecrets`: Secret documents are sent too (never by default).
    pub send_secrets: bool,
}

/// When dry-runs run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DryRunMode {
    OnChange,
    OnSave,
    Off,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            connection: ClusterSettings::default(),
            dry_run: DryRunMode::OnSave,
            diff: true,
            debounce: Duration::from_millis(500),
            cluster_schema: true,
            send_contexts: Vec::new(),
            send_secrets: false,
        }
    }
}

impl Settings {
    /// Whether a `didChangeConfiguration` payload carries no section (null, or `{"kube-lsp":
    /// null}`): the client wants to be asked for it (`workspace/configuration`).
    pub fn must_be_pulled(payload: &Value) -> bool {
        payload.is_null() || payload.get(SECTION).is_some_and(Value::is_null)
    }

    pub fn from_json(value: &Value) -> Settings {
        let section = value.get(SECTION).unwrap_or(value);
        let text = |key: &str| {
            section
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut cluster = ClusterOptions::default();
        cluster.connection.kubeconfig = text("kubeconfig");
        cluster.connection.context = text("context");
        cluster.connection.namespace = text("namespace");
        if let Some(ms) = section.get("requestTimeoutMs").and_then(Value::as_u64) {
            cluster.connection.request_timeout = Duration::from_millis(ms.clamp(100, 600_000));
        }
        cluster.dry_run = match text("dryRun").as_deref() {
            Some("onChange") => DryRunMode::OnChange,
            Some("off") => DryRunMode::Off,
            _ => DryRunMode::OnSave,
        };
        if let Some(diff) = section.get("diff").and_then(Value::as_bool) {
            cluster.diff = diff;
        }
        if let Some(ms) = section.get("debounceMs").and_then(Value::as_u64) {
            cluster.debounce = Duration::from_millis(ms.min(60_000));
        }
        if let Some(enabled) = section.get("clusterSchema").and_then(Value::as_bool) {
            cluster.cluster_schema = enabled;
        }
        cluster.send_contexts = strings(section.get("dryRunContexts"));
        if let Some(send) = section.get("dryRunSecrets").and_then(Value::as_bool) {
            cluster.send_secrets = send;
        }
        let schema_paths = section
            .get("schemaPaths")
            .and_then(Value::as_array)
            .map(|paths| {
                paths
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect()
            });
        let schema_associations = section
            .get("schemaPaths")
            .and_then(Value::as_array)
            .map(|entries| entries.iter().filter_map(schema_association).collect());
        let rules = section.get("rules").map(RuleSettings::from_json);
        Settings {
            cluster,
            schema_paths,
            schema_associations,
            max_file_bytes: section.get("maxFileBytes").and_then(Value::as_u64),
            rules,
            kustomize: KustomizeOptions::from_json(section),
            helm: HelmSettings::from_json(section),
            format: FormatSettings::from_json(section),
            schema_download: section
                .get("schemaDownload")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// A `schemaPaths` entry `{"schema": <file>, "files": [<glob>, ...]}` (`files` may be one
/// string).
fn schema_association(entry: &Value) -> Option<(PathBuf, Vec<String>)> {
    let schema = entry.get("schema")?.as_str()?.trim();
    let files = strings(entry.get("files"));
    (!schema.is_empty() && !files.is_empty()).then(|| (PathBuf::from(schema), files))
}

/// The non-empty strings of a JSON array (a single string counts as one).
fn strings(value: Option<&Value>) -> Vec<String> {
    let items = match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::String(_)) => vec![one],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_from_either_shape() {
        let s = Settings::from_json(
            &json!({"kube-lsp": {"context": "admin", "dryRun": "onChange", "diff": false, "debounceMs": 100, "requestTimeoutMs": 2000}}),
        )
        .cluster;
        assert_eq!(s.connection.context.as_deref(), Some("admin"));
        assert_eq!(s.dry_run, DryRunMode::OnChange);
        assert!(!s.diff);
        assert_eq!(s.debounce, Duration::from_millis(100));
        assert_eq!(s.connection.request_timeout, Duration::from_millis(2000));
        assert!(s.cluster_schema);
        assert!(
            !Settings::from_json(&json!({"clusterSchema": false}))
                .cluster
                .cluster_schema
        );
        let s = Settings::from_json(&json!({"kubeconfig": "/x", "dryRun": "bogus"})).cluster;
        assert_eq!(s.connection.kubeconfig.as_deref(), Some("/x"));
        assert_eq!(s.dry_run, DryRunMode::OnSave);
        assert_eq!(Settings::from_json(&Value::Null), Settings::default());
    }

    #[test]
    fn documents_are_sent_to_no_context_and_no_secret_unless_allowed() {
        let default = Settings::from_json(&Value::Null).cluster;
        assert!(default.send_contexts.is_empty() && !default.send_secrets);
        let s = Settings::from_json(
            &json!({"dryRunContexts": ["kind-dev", " "], "dryRunSecrets": true}),
        );
        assert_eq!(s.cluster.send_contexts, ["kind-dev"]);
        assert!(s.cluster.send_secrets);
        let s = Settings::from_json(&json!({"dryRunContexts": "*"}));
        assert_eq!(s.cluster.send_contexts, ["*"]);
    }

    #[test]
    fn schema_paths_setting() {
        let value = json!({"kube-lsp": {"schemaPaths": [
            "crds/", " ", "a.yaml",
            {"schema": "schemas/workflow.json", "files": [".github/workflows/*.yml"]},
            {"schema": "compose.json", "files": "docker-compose.yml"},
            {"schema": "no-files.json"}
        ]}});
        let settings = Settings::from_json(&value);
        assert_eq!(
            settings.schema_paths.unwrap(),
            [PathBuf::from("crds/"), PathBuf::from("a.yaml")]
        );
        assert_eq!(
            settings.schema_associations.unwrap(),
            [
                (
                    PathBuf::from("schemas/workflow.json"),
                    vec![".github/workflows/*.yml".to_string()]
                ),
                (
                    PathBuf::from("compose.json"),
                    vec!["docker-compose.yml".to_string()]
                )
            ]
        );
        assert!(
            Settings::from_json(&json!({"dryRun": "off"}))
                .schema_paths
                .is_none()
        );
    }

    #[test]
    fn rules_setting() {
        let value = json!({"kube-lsp": {"rules": {"enable": ["security"], "severity": {"latest-tag": "hint"}}}});
        let rules = Settings::from_json(&value).rules.unwrap();
        assert_eq!(rules.enable, ["security"]);
        assert_eq!(
            rules.severity,
            [(
                "latest-tag".to_string(),
                Some(crate::diagnostic::Severity::Hint)
            )]
        );
        assert_eq!(
            Settings::from_json(&json!({"rules": false}))
                .rules
                .unwrap()
                .disable,
            ["all"]
        );
        assert!(
            Settings::from_json(&json!({"dryRun": "off"}))
                .rules
                .is_none()
        );
    }

    #[test]
    fn helm_settings() {
        let helm = Settings::from_json(&json!({"kube-lsp": {"helm": {"path": "/opt/helm", "valuesFiles": ["ci.yaml"], "timeoutMs": 5000, "render": false}}})).helm;
        assert_eq!(helm.path, PathBuf::from("/opt/helm"));
        assert_eq!(helm.values_files, [PathBuf::from("ci.yaml")]);
        assert_eq!(helm.timeout, Duration::from_secs(5));
        assert!(!helm.render);
        assert_eq!(
            Settings::from_json(&json!({})).helm,
            HelmSettings::default()
        );
    }

    #[test]
    fn format_settings() {
        let format = Settings::from_json(&json!({"kube-lsp": {"format": {"enable": false, "indent": 4, "indentSequences": false, "quoteStyle": "single", "lineWidth": 120, "keepBlankLines": false}}})).format;
        assert!(!format.enable);
        assert_eq!(
            format.options,
            FormatOptions {
                indent: 4,
                indent_sequences: false,
                quotes: QuoteStyle::Single,
                line_width: 120,
                keep_blank_lines: false,
            }
        );
        let format = Settings::from_json(&json!({"format": {"quoteStyle": "fancy", "indent": 0}}));
        assert_eq!(format.format.options.quotes, QuoteStyle::Preserve);
        assert_eq!(format.format.options.indent, 1);
        assert_eq!(
            Settings::from_json(&json!({})).format,
            FormatSettings::default()
        );
    }

    #[test]
    fn an_empty_payload_is_pulled() {
        assert!(Settings::must_be_pulled(&Value::Null));
        assert!(Settings::must_be_pulled(&json!({"kube-lsp": null})));
        assert!(!Settings::must_be_pulled(&json!({"kube-lsp": {}})));
        assert!(!Settings::must_be_pulled(&json!({"dryRun": "off"})));
    }
}
