//! A chart's `values.yaml` against its `values.schema.json` (what `helm install`, `lint` and
//! `template` check before rendering), with each error on the key it is about.
//!
//! Validated with the `jsonschema` crate (drafts 4 to 2020-12, as Helm's validator reads them);
//! the YAML is read as Helm reads it (sigs.k8s.io/yaml, `yaml::value`).

use std::ops::Range;

use crate::diagnostic::Diagnostic;
use crate::diagnostic::codes::{self, Code};
use crate::workspace::chart::value_entries;
use crate::yaml::value::{Limits, document_to_json};

/// The diagnostics of `values` (a values file's text) under `schema` (the JSON schema's text).
pub fn check(values: &str, schema: &str) -> Vec<Diagnostic> {
    check_against(
        values,
        schema,
        "values.schema.json",
        codes::HELM_VALUES_SCHEMA,
    )
}

/// The diagnostics of `text` (one YAML document) under `schema` (a JSON schema's text, named
/// `name` in messages), each on the key or value it is about, with `code`. A schema that is not
/// valid gives one diagnostic at the document's start.
pub fn check_against(text: &str, schema: &str, name: &str, code: Code) -> Vec<Diagnostic> {
    match compile(schema, name) {
        Ok(validator) => check_with(text, &validator, name, code, &Limits::default()),
        Err(message) => vec![Diagnostic::error(0..0, code, message)],
    }
}

/// The validator of a JSON schema's text (named `name` in messages), or why it is none.
pub fn compile(schema: &str, name: &str) -> Result<jsonschema::Validator, String> {
    let schema: serde_json::Value = serde_json::from_str(schema)
        .map_err(|error| format!("{name} is not valid JSON: {error}"))?;
    jsonschema::validator_for(&schema)
        .map_err(|error| format!("{name} is not a valid JSON schema: {error}"))
}

/// [`check_against`] with the schema compiled already; `limits` say how the YAML is read.
pub fn check_with(
    text: &str,
    validator: &jsonschema::Validator,
    name: &str,
    code: Code,
    limits: &Limits,
) -> Vec<Diagnostic> {
    let instance = match document_to_json(text, limits) {
        Ok(Some(value)) => value,
        Ok(None) => serde_json::Value::Object(Default::default()),
        // The YAML layer reports what is wrong with the text.
        Err(_) => return Vec::new(),
    };
    let entries = value_entries(text, &[]);
    let mut out = Vec::new();
    for error in validator.iter_errors(&instance) {
        let pointer = error.instance_path().as_str().to_string();
        let path: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        let range = range_of(&entries, &path, text);
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" at `{}`", path.join("."))
        };
        out.push(Diagnostic::error(
            range,
            code,
            format!("{name}{at}: {error}"),
        ));
    }
    out.sort_by_key(|d| (d.range.start, d.range.end));
    out
}

/// The value of the longest part of `path` a key of the file names (list indices stop there);
/// the file's first line for the root.
fn range_of(
    entries: &[crate::workspace::chart::ValueEntry],
    path: &[String],
    text: &str,
) -> Range<usize> {
    for length in (1..=path.len()).rev() {
        if let Some(entry) = entries.iter().find(|e| e.path == path[..length]) {
            return if length == path.len() {
                entry.value.clone()
            } else {
                entry.key.clone()
            };
        }
    }
    0..text.find('\n').unwrap_or(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{
      "$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object",
      "required": ["image"],
      "properties": {
        "replicaCount": {"type": "integer", "minimum": 1},
        "image": {"type": "object", "properties": {"pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]}}}
      }
    }"#;

    #[test]
    fn errors_sit_on_their_keys() {
        let values = "replicaCount: two\nimage:\n  pullPolicy: Sometimes\n";
        let found = check(values, SCHEMA);
        let at: Vec<&str> = found.iter().map(|d| &values[d.range.clone()]).collect();
        assert_eq!(at, ["two", "Sometimes"], "{found:?}");
        assert!(
            found[0].message.contains("replicaCount"),
            "{}",
            found[0].message
        );
        let missing = check("replicaCount: 1\n", SCHEMA);
        assert_eq!(missing.len(), 1);
        assert!(
            missing[0].message.contains("image"),
            "{}",
            missing[0].message
        );
        assert!(check("image: {}\n", SCHEMA).is_empty());
        assert_eq!(check("a: 1\n", "{not json").len(), 1);
    }
}
