//! Which rules are on, and how severe: kube-linter's defaults, then its configuration file
//! (`.kube-linter.yaml`: `checks.addAllBuiltIn`, `doNotAutoAddDefaults`, `include`, `exclude`),
//! then the editor's settings (`kube-lsp.rules`: `enable`/`disable` by name, group or `all`, and
//! a severity per rule or group). Pure: the callers read the file and the settings.

use serde_json::Value;

use super::catalog::{Group, RULES, Rule};
use crate::diagnostic::{Code, Severity};

/// The rules that are on, each with its severity (indexed like [`RULES`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    severities: Vec<Option<Severity>>,
}

impl Default for Config {
    /// kube-linter's default checks, at their default severities.
    fn default() -> Self {
        Config {
            severities: RULES
                .iter()
                .map(|r| r.default.then_some(r.severity))
                .collect(),
        }
    }
}

impl Config {
    /// No rule at all.
    pub fn none() -> Self {
        Config {
            severities: vec![None; RULES.len()],
        }
    }

    /// Only `name`, at its default severity (what kube-linter's parity tests run).
    pub fn only(name: &str) -> Self {
        let mut config = Config::none();
        config.set(name, true);
        config
    }

    /// The severity of `code` when its rule is on.
    pub fn severity(&self, code: Code) -> Option<Severity> {
        // Asked of every rule finding at each publication: by name, not a walk of the table.
        static INDEX: std::sync::LazyLock<std::collections::HashMap<Code, usize>> =
            std::sync::LazyLock::new(|| {
                RULES
                    .iter()
                    .enumerate()
                    .map(|(index, rule)| (rule.code, index))
                    .collect()
            });
        self.severities[*INDEX.get(&code)?]
    }

    pub fn is_on(&self, code: Code) -> bool {
        self.severity(code).is_some()
    }

    /// Whether any rule is on.
    pub fn any(&self) -> bool {
        self.severities.iter().any(Option::is_some)
    }

    /// The rules that are on.
    pub fn enabled(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        RULES
            .iter()
            .zip(&self.severities)
            .filter(|(_, s)| s.is_some())
            .map(|(rule, _)| rule)
    }

    /// Turns on (at its default severity, unless one was set) or off what `name` selects: a
    /// rule, a group or `all`. `false` when the name selects nothing.
    pub fn set(&mut self, name: &str, on: bool) -> bool {
        let selected = selects(name);
        for index in selected.iter().copied() {
            let severity = &mut self.severities[index];
            *severity = match (on, *severity) {
                (false, _) => None,
                (true, Some(kept)) => Some(kept),
                (true, None) => Some(RULES[index].severity),
            };
        }
        !selected.is_empty()
    }

    /// Sets the severity of what `name` selects (turning it on), or turns it off (`None`).
    pub fn set_severity(&mut self, name: &str, severity: Option<Severity>) -> bool {
        let selected = selects(name);
        for index in selected.iter().copied() {
            self.severities[index] = severity;
        }
        !selected.is_empty()
    }

    /// The configuration: defaults, then kube-linter's file, then the settings. Names that select
    /// nothing are returned, for a warning.
    pub fn build(
        settings: &Settings,
        kube_linter: Option<&KubeLinterConfig>,
    ) -> (Config, Vec<String>) {
        let mut unknown = Vec::new();
        let mut config = Config::default();
        let mut turn = |config: &mut Config, names: &[String], on: bool| {
            for name in names {
                if !config.set(name, on) {
                    unknown.push(name.clone());
                }
            }
        };
        if let Some(file) = kube_linter.filter(|_| settings.kube_linter_config) {
            if file.do_not_auto_add_defaults {
                config = Config::none();
            }
            if file.add_all_built_in {
                config.set("all", true);
            }
            turn(&mut config, &file.include, true);
            turn(&mut config, &file.exclude, false);
        }
        turn(&mut config, &settings.enable, true);
        turn(&mut config, &settings.disable, false);
        for (name, severity) in &settings.severity {
            if !config.set_severity(name, *severity) {
                unknown.push(name.clone());
            }
        }
        (config, unknown)
    }
}

/// What `name` selects: a rule, every rule of a group, or all of them.
fn selects(name: &str) -> Vec<usize> {
    let name = name.trim();
    let group = Group::parse(name);
    RULES
        .iter()
        .enumerate()
        .filter(|(_, rule)| name == "all" || rule.code == name || Some(rule.group) == group)
        .map(|(index, _)| index)
        .collect()
}

/// The `kube-lsp.rules` settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Rules, groups or `all` to turn on on top of the defaults.
    pub enable: Vec<String>,
    /// Rules, groups or `all` to turn off (after `enable`).
    pub disable: Vec<String>,
    /// A severity per rule or group; `None` turns it off.
    pub severity: Vec<(String, Option<Severity>)>,
    /// Whether a `.kube-linter.yaml` of the workspace counts.
    pub kube_linter_config: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enable: Vec::new(),
            disable: Vec::new(),
            severity: Vec::new(),
            kube_linter_config: true,
        }
    }
}

impl Settings {
    /// From the `rules` value of the settings section: `false` turns every rule off, an object
    /// has `enable`, `disable` (names or one name), `severity` (`{"latest-tag": "warning"}`,
    /// `"off"` turns one off) and `kubeLinterConfig`. Malformed parts are left out.
    pub fn from_json(value: &Value) -> Settings {
        let mut settings = Settings::default();
        if value.as_bool() == Some(false) {
            settings.disable.push("all".to_string());
            return settings;
        }
        let names = |key: &str| -> Vec<String> {
            match value.get(key) {
                Some(Value::String(one)) => vec![one.clone()],
                Some(Value::Array(many)) => many
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            }
        };
        settings.enable = names("enable");
        settings.disable = names("disable");
        if let Some(map) = value.get("severity").and_then(Value::as_object) {
            for (name, level) in map {
                if let Some(level) = level.as_str().and_then(parse_severity) {
                    settings.severity.push((name.clone(), level));
                }
            }
        }
        if let Some(honour) = value.get("kubeLinterConfig").and_then(Value::as_bool) {
            settings.kube_linter_config = honour;
        }
        settings
    }
}

/// A severity as settings write it; `Some(None)` is `off`.
pub fn parse_severity(text: &str) -> Option<Option<Severity>> {
    Some(match text.to_ascii_lowercase().as_str() {
        "error" => Some(Severity::Error),
        "warning" | "warn" => Some(Severity::Warning),
        "information" | "info" => Some(Severity::Information),
        "hint" => Some(Severity::Hint),
        "off" | "none" => None,
        _ => return None,
    })
}

/// The `checks` part of kube-linter's configuration file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KubeLinterConfig {
    pub add_all_built_in: bool,
    pub do_not_auto_add_defaults: bool,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

/// The names kube-linter's configuration file may have.
pub const KUBE_LINTER_FILES: [&str; 2] = [".kube-linter.yaml", ".kube-linter.yml"];

impl KubeLinterConfig {
    /// Reads a `.kube-linter.yaml`; `Err` with the reason when it is not YAML. Custom checks
    /// (`customChecks`) are not run.
    pub fn parse(text: &str) -> Result<KubeLinterConfig, String> {
        let limits = crate::yaml::value::Limits::default();
        let value = crate::yaml::value::document_to_json(text, &limits)
            .map_err(|e| e.to_string())?
            .unwrap_or(Value::Null);
        let checks = value.get("checks").cloned().unwrap_or(Value::Null);
        let flag = |key: &str| checks.get(key).and_then(Value::as_bool).unwrap_or(false);
        let names = |key: &str| -> Vec<String> {
            checks
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        Ok(KubeLinterConfig {
            add_all_built_in: flag("addAllBuiltIn"),
            do_not_auto_add_defaults: flag("doNotAutoAddDefaults"),
            include: names("include"),
            exclude: names("exclude"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;
    use serde_json::json;

    #[test]
    fn defaults_groups_and_severities() {
        let default = Config::default();
        assert_eq!(default.enabled().count(), 31);
        assert_eq!(
            default.severity(codes::PRIVILEGED_CONTAINER),
            Some(Severity::Warning)
        );
        assert_eq!(
            default.severity(codes::LATEST_TAG),
            Some(Severity::Information)
        );
        assert!(!default.is_on(codes::NO_LIVENESS_PROBE));

        let settings = Settings::from_json(&json!({
            "enable": ["security", "no-liveness-probe"],
            "disable": "latest-tag",
            "severity": {"no-liveness-probe": "warning", "ssh-port": "off", "bogus": "error", "host-pid": "loud"}
        }));
        let (config, unknown) = Config::build(&settings, None);
        assert_eq!(unknown, ["bogus"]);
        assert!(config.is_on(codes::WILDCARD_IN_RULES));
        assert!(!config.is_on(codes::LATEST_TAG) && !config.is_on(codes::SSH_PORT));
        assert_eq!(
            config.severity(codes::NO_LIVENESS_PROBE),
            Some(Severity::Warning)
        );
        assert_eq!(config.severity(codes::HOST_PID), Some(Severity::Warning));

        let (off, _) = Config::build(&Settings::from_json(&json!(false)), None);
        assert!(!off.any());
        let (all, _) = Config::build(&Settings::from_json(&json!({"enable": "all"})), None);
        assert_eq!(all.enabled().count(), RULES.len());
    }

    #[test]
    fn kube_linters_configuration_file() {
        let file = KubeLinterConfig::parse(
            "checks:\n  doNotAutoAddDefaults: true\n  include: [no-liveness-probe, latest-tag, nope]\n  exclude:\n  - latest-tag\ncustomChecks: []\n",
        )
        .unwrap();
        let (config, unknown) = Config::build(&Settings::default(), Some(&file));
        assert_eq!(unknown, ["nope"]);
        assert_eq!(
            config.enabled().map(Rule::name).collect::<Vec<_>>(),
            ["no-liveness-probe"]
        );
        // The settings come after the file; and can ignore it.
        let settings = Settings {
            enable: vec!["host-pid".into()],
            ..Settings::default()
        };
        assert_eq!(Config::build(&settings, Some(&file)).0.enabled().count(), 2);
        let ignoring = Settings {
            kube_linter_config: false,
            ..Settings::default()
        };
        assert_eq!(Config::build(&ignoring, Some(&file)).0, Config::default());
        let all = KubeLinterConfig::parse("checks: {addAllBuiltIn: true}").unwrap();
        assert_eq!(
            Config::build(&Settings::default(), Some(&all))
                .0
                .enabled()
                .count(),
            RULES.len()
        );
        assert!(KubeLinterConfig::parse("checks: [").is_err());
        assert_eq!(Config::only("host-pid").enabled().count(), 1);
    }
}
