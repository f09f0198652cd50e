//! Golden parity with kubectl's YAML → JSON conversion.
//!
//! Every `tests/fixtures/yaml-to-json/<name>.yaml` has a sibling `<name>.json`
//! (or `<name>.error`) written by the real `sigs.k8s.io/yaml.YAMLToJSON`
//! (see tools/yaml-golden). `document_to_json` must give the same value, and
//! printing it the way Go's `encoding/json` does must give the same bytes.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use kube_lsp::yaml::value::number::go_json_float;
use kube_lsp::yaml::value::{Limits, document_to_json};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/yaml-to-json")
}

fn fixtures() -> Vec<PathBuf> {
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .map(|entry| entry.expect("fixture entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    inputs.sort();
    inputs
}

enum Golden {
    Json(String),
    Error(String),
}

fn golden_for(input: &Path) -> Golden {
    let json = input.with_extension("json");
    let error = input.with_extension("error");
    match (
        std::fs::read_to_string(&json),
        std::fs::read_to_string(&error),
    ) {
        (Ok(text), Err(_)) => Golden::Json(text.trim_end().to_owned()),
        (Err(_), Ok(text)) => Golden::Error(text.trim_end().to_owned()),
        _ => panic!("{} needs exactly one of .json / .error", input.display()),
    }
}

/// Checks one fixture; returns a description of the mismatch, if any.
fn check(input: &Path) -> Option<String> {
    let source = std::fs::read_to_string(input).expect("fixture text");
    let actual = document_to_json(&source, &Limits::default());
    match (golden_for(input), actual) {
        (Golden::Json(expected), Ok(value)) => {
            let value = value.unwrap_or(Value::Null);
            let expected_value: Value = serde_json::from_str(&expected).expect("golden JSON");
            if value != expected_value {
                return Some(format!(
                    "value differs\n  go:   {expected}\n  ours: {value}"
                ));
            }
            let printed = go_marshal(&value);
            (printed != expected)
                .then(|| format!("printing differs\n  go:   {expected}\n  ours: {printed}"))
        }
        (Golden::Json(expected), Err(error)) => Some(format!(
            "expected {expected}\n  but failed: {} at {:?}",
            error.message, error.range
        )),
        (Golden::Error(_), Err(_)) => None,
        (Golden::Error(expected), Ok(value)) => Some(format!(
            "expected the error {expected:?}\n  but got {}",
            value.map_or("no value".to_owned(), |v| v.to_string())
        )),
    }
}

#[test]
fn fixtures_match_sigs_k8s_yaml() {
    let inputs = fixtures();
    assert!(inputs.len() >= 40, "only {} fixtures", inputs.len());
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|input| {
            let name = input.file_name()?.to_string_lossy().into_owned();
            check(input).map(|problem| format!("{name}: {problem}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ from kubectl:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}

#[test]
fn errors_point_into_the_text() {
    for input in fixtures() {
        let source = std::fs::read_to_string(&input).expect("fixture text");
        if let Err(error) = document_to_json(&source, &Limits::default()) {
            assert!(
                source.get(error.range.clone()).is_some(),
                "{}: range {:?} is not inside the text",
                input.display(),
                error.range
            );
            assert!(!error.message.is_empty());
        }
    }
}

/// `json.Marshal` of the decoded value: sorted keys, no spaces, HTML-safe
/// escapes, Go's float formatting.
fn go_marshal(value: &Value) -> String {
    let mut out = String::new();
    write_go_json(value, &mut out);
    out
}

fn write_go_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(boolean) => out.push_str(if *boolean { "true" } else { "false" }),
        Value::Number(number) if number.is_f64() => {
            let float = number.as_f64().unwrap_or_default();
            out.push_str(&go_json_float(float).unwrap_or_default());
        }
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(string) => write_go_string(string, out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(entries) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                write_go_json(&entries[key], out);
            }
            out.push('}');
        }
    }
}

fn write_go_string(string: &str, out: &mut String) {
    out.push('"');
    for c in string.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
