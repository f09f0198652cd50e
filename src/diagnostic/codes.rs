//! Every diagnostic code kube-lsp reports, with its meaning: one registry. Codes are stable
//! (editors, `check --format json` and users' filters rely on them); a [`Code`] can only be one
//! of the constants below, and `docs/diagnostics.md` lists exactly these (a test compares them).

use std::fmt;

/// A registered diagnostic code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(&'static str);

impl Code {
    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The registry entry of this code.
    pub fn info(self) -> &'static CodeInfo {
        ALL.iter()
            .find(|info| info.code == self)
            .expect("every Code is a registry constant")
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Which part of kube-lsp reports a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The YAML layer: the text itself.
    Yaml,
    /// The schema layer: the document against its kind's OpenAPI schema and Kubernetes' rules.
    Schema,
    /// The cluster's server-side dry-run.
    DryRun,
    /// The difference between the document and the live object.
    Diff,
    /// `kube-lsp check`'s reading of its input files.
    Input,
    /// Helm charts: templates, values, rendering.
    Helm,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Yaml => "YAML",
            Group::Schema => "Schema",
            Group::DryRun => "Server-side dry-run",
            Group::Diff => "Diff against the live object",
            Group::Input => "Input files (`kube-lsp check`)",
            Group::Helm => "Helm charts",
        }
    }
}

/// A code and what it means.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: Code,
    pub group: Group,
    pub meaning: &'static str,
}

macro_rules! registry {
    ($($(#[$doc:meta])* $name:ident = $text:literal, $group:ident, $meaning:literal;)*) => {
        $($(#[$doc])* pub const $name: Code = Code($text);)*
        /// Every code, in the order `docs/diagnostics.md` lists them.
        pub const ALL: &[CodeInfo] = &[
            $(CodeInfo { code: $name, group: Group::$group, meaning: $meaning },)*
        ];
    };
}

registry! {
    SYNTAX = "yaml-syntax", Yaml,
        "The text is not valid YAML: the first syntax error of each document, in libyaml's words.";
    DUPLICATE_KEY = "yaml-duplicate-key", Yaml,
        "A mapping repeats a key; every occurrence after the first is flagged.";
    TAB_INDENTATION = "yaml-tab-indentation", Yaml,
        "A tab in indentation, which YAML forbids.";
    UNKNOWN_FIELD = "schema-unknown-field", Schema,
        "A field the kind's schema does not declare; the quick fix renames it to the field it was probably meant to be.";
    TYPE = "schema-type", Schema,
        "A value of the wrong type (a string where an integer is expected, a list where a mapping is).";
    REQUIRED = "schema-required", Schema,
        "A required field is missing; the quick fix adds the missing fields with placeholder values.";
    ENUM = "schema-enum", Schema,
        "A value outside the field's allowed values.";
    FORMAT = "schema-format", Schema,
        "A value that does not match the field's format: quantities, int-or-string, dates, patterns, lengths and bounds.";
    UNKNOWN_KIND = "schema-unknown-kind", Schema,
        "No schema source serves this apiVersion and kind; for a removed or deprecated apiVersion the quick fix switches to the one that serves the kind.";
    /// A value the apiserver's own rules reject (names, labels, annotations, core-type rules).
    INVALID = "schema-invalid", Schema,
        "A value the API server's own rules reject although the OpenAPI schema allows it: object names per kind, labels, annotations, selectors, container images, restart policies.";
    /// Two items of an `x-kubernetes-list-type: map` or `set` list with the same key.
    DUPLICATE = "schema-duplicate", Schema,
        "Two items of a list whose items must be unique (`x-kubernetes-list-type: map` or `set`) have the same key.";
    /// A CRD's `x-kubernetes-validations` rule evaluated to false.
    RULE = "schema-rule", Schema,
        "A custom resource breaks one of its CRD's CEL rules (`x-kubernetes-validations`).";
    /// A CRD's own schema the apiserver would reject.
    CRD = "schema-crd", Schema,
        "A CustomResourceDefinition whose schema the API server would reject (not structural, invalid defaults).";
    DRY_RUN_INVALID = "dry-run-invalid", DryRun,
        "The API server's dry-run rejected a field, on that field.";
    DRY_RUN_FORBIDDEN = "dry-run-forbidden", DryRun,
        "Warning: the credentials may not apply this object (RBAC), so it was not checked.";
    DRY_RUN_DENIED = "dry-run-denied", DryRun,
        "An admission webhook, a ValidatingAdmissionPolicy or a quota denied the object.";
    DRY_RUN_WARNING = "dry-run-warning", DryRun,
        "A warning the API server returned for the object (deprecated API, ignored field).";
    DRY_RUN_ERROR = "dry-run-error", DryRun,
        "The dry-run failed for another reason: a kind the cluster does not serve, an unexpected response.";
    DIFF_CHANGED = "diff-changed", Diff,
        "Information on a field whose value would change the live object (`live: old → new`).";
    DIFF_SUMMARY = "diff-summary", Diff,
        "The object would be configured: how many fields differ from the live object.";
    DIFF_CREATE = "diff-create", Diff,
        "The object does not exist in the cluster and would be created.";
    /// A hint that applying would change nothing (kubectl's "unchanged").
    DIFF_UNCHANGED = "diff-unchanged", Diff,
        "Hint: applying the object would change nothing.";
    ENCODING = "encoding", Input,
        "A file given to `kube-lsp check` is not UTF-8 text.";
    HELM_TEMPLATE = "helm-template", Helm,
        "A Go template action that cannot be read: `{{` without `}}`, an unterminated string or comment, an `end` or `else` with no block open, a block without its `end`.";
    HELM_VALUES_UNDEFINED = "helm-values-undefined", Helm,
        "Warning: a template reads `.Values.x.y` that no values file of the chart (nor its parent chart's) defines.";
    HELM_VALUES_SCHEMA = "helm-values-schema", Helm,
        "A value of `values.yaml` that the chart's `values.schema.json` rejects.";
    HELM_RENDER = "helm-render", Helm,
        "`helm template` failed: Helm's error on the line it names (a nil pointer, a `required` value, YAML broken after rendering, missing dependencies, a render over its time limit).";
    HELM_RENDERED = "helm-rendered", Helm,
        "A finding on the rendered chart (its schema, or the cluster's dry-run) mapped back to the template line, or to `values.yaml` when the value came straight from there.";
}

/// The registry as the Markdown table `docs/diagnostics.md` holds.
pub fn markdown_table() -> String {
    let mut table = String::from("| code | reported by | meaning |\n|---|---|---|\n");
    for info in ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            info.code,
            info.group.title(),
            info.meaning
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_doc(relative: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn docs_list_exactly_the_registered_codes() {
        let table = markdown_table();
        assert!(
            read_doc("docs/diagnostics.md").contains(&table),
            "docs/diagnostics.md must hold the registry's table:\n{table}"
        );
    }

    /// Every code README and docs name in backticks (`yaml-syntax`, or a family like
    /// `schema-*`) exists.
    #[test]
    fn readme_and_docs_name_only_registered_codes() {
        let prefixes = ["yaml-", "schema-", "dry-run-", "diff-"];
        let docs = std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"))
            .unwrap()
            .filter_map(|e| e.ok()?.path().to_str().map(str::to_string))
            .filter(|p| p.ends_with(".md"));
        for path in std::iter::once("README.md".to_string()).chain(docs) {
            let text = read_doc(&path);
            let named = text
                .split('`')
                .skip(1)
                .step_by(2)
                .filter(|word| prefixes.iter().any(|p| word.starts_with(p)))
                .filter(|word| {
                    word.chars()
                        .all(|c| c.is_ascii_lowercase() || c == '-' || c == '*')
                });
            for word in named {
                let known = match word.strip_suffix('*') {
                    Some(family) => ALL.iter().any(|i| i.code.as_str().starts_with(family)),
                    None => ALL.iter().any(|i| i.code == word),
                };
                assert!(
                    known,
                    "{path} names `{word}`, which is not a registered code"
                );
            }
        }
    }

    #[test]
    fn codes_are_unique_and_named_after_their_group() {
        for (i, info) in ALL.iter().enumerate() {
            assert!(
                ALL[..i].iter().all(|other| other.code != info.code),
                "{} twice",
                info.code
            );
            let prefix = match info.group {
                Group::Yaml => "yaml-",
                Group::Schema => "schema-",
                Group::DryRun => "dry-run-",
                Group::Diff => "diff-",
                Group::Input => "",
                Group::Helm => "helm-",
            };
            assert!(info.code.as_str().starts_with(prefix), "{}", info.code);
            assert_eq!(info.code.info().code, info.code);
        }
    }
}
