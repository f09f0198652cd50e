//! Live object vs dry-run result: the changed fields, YAML of both sides and a unified diff like
//! `kubectl diff`, with Secret values masked everywhere.

use serde_json::{Map, Value};

use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::scalar::{Resolved, resolve_plain};

/// The annotation `kubectl apply` (client-side) keeps the whole last manifest in.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The object without what always differs or is not the user's: `status`, and in `metadata`
/// `managedFields`, `resourceVersion`, `generation`, `uid`, `creationTimestamp`.
pub fn clean(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for key in [
                "managedFields",
                "resourceVersion",
                "generation",
                "uid",
                "creationTimestamp",
            ] {
                metadata.remove(key);
            }
        }
    }
    object
}

pub fn is_secret(object: &Value) -> bool {
    object.get("kind").and_then(Value::as_str) == Some("Secret")
        && object.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// Masks Secret values (`data`, `stringData`, the last-applied annotation) in both sides as
/// `kubectl diff` does: `***` where equal, `*** (before)` / `*** (after)` where they differ.
/// Either side may be absent (creation). Objects that are not Secrets are left alone.
pub fn mask_secrets(before: Option<&mut Value>, after: Option<&mut Value>) {
    let before_is = before.as_deref().is_some_and(is_secret);
    let after_is = after.as_deref().is_some_and(is_secret);
    if !before_is && !after_is {
        return;
    }
    let (mut before, mut after) = (before, after);
    for field in ["data", "stringData"] {
        mask_map(
            before.as_deref_mut().and_then(|v| v.get_mut(field)),
            after.as_deref_mut().and_then(|v| v.get_mut(field)),
        );
    }
    let b = annotations(before);
    let a = annotations(after);
    mask_keys(b, a, |key| key == LAST_APPLIED);
}

fn annotations(v: Option<&mut Value>) -> Option<&mut Value> {
    v?.pointer_mut("/metadata/annotations")
}

fn mask_map(before: Option<&mut Value>, after: Option<&mut Value>) {
    mask_keys(before, after, |_| true);
}

fn mask_keys(before: Option<&mut Value>, after: Option<&mut Value>, which: impl Fn(&str) -> bool) {
    let before = before.and_then(Value::as_object_mut);
    let after = after.and_then(Value::as_object_mut);
    let before_snapshot: Option<Map<String, Value>> = before.as_ref().map(|m| (*m).clone());
    let after_snapshot: Option<Map<String, Value>> = after.as_ref().map(|m| (*m).clone());
    let masked =
        |key: &str, this: &Value, other: Option<&Map<String, Value>>, side: &str| match other
            .and_then(|o| o.get(key))
        {
            Some(that) if that != this => Value::String(format!("*** ({side})")),
            _ => Value::String("***".into()),
        };
    if let Some(map) = before {
        for (key, value) in map.iter_mut().filter(|(k, _)| which(k)) {
            *value = masked(key, value, after_snapshot.as_ref(), "before");
        }
    }
    if let Some(map) = after {
        for (key, value) in map.iter_mut().filter(|(k, _)| which(k)) {
            *value = masked(key, value, before_snapshot.as_ref(), "after");
        }
    }
}

/// One changed field: its path and both values (`None`: absent on that side).
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub path: KeyPath,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// The leaf fields that differ between `before` and `after`, in path order. Lists are compared
/// item by item.
pub fn changes(before: &Value, after: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk(&mut KeyPath::default(), Some(before), Some(after), &mut out);
    out
}

fn walk(path: &mut KeyPath, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<Change>) {
    match (before, after) {
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                path.0.push(Segment::Key(key.clone()));
                walk(path, b.get(key), a.get(key), out);
                path.0.pop();
            }
        }
        (Some(Value::Array(b)), Some(Value::Array(a))) => {
            for index in 0..b.len().max(a.len()) {
                path.0.push(Segment::Index(index));
                walk(path, b.get(index), a.get(index), out);
                path.0.pop();
            }
        }
        (b, a) if b != a => out.push(Change {
            path: path.clone(),
            before: b.cloned(),
            after: a.cloned(),
        }),
        _ => {}
    }
}

/// A value in one line for a diagnostic: JSON, cut at 80 characters; absent is `(none)`.
pub fn short(value: Option<&Value>) -> String {
    let Some(value) = value else {
        return "(none)".into();
    };
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(77).collect();
        format!("{cut}...")
    } else {
        text
    }
}

/// YAML as `kubectl` prints objects (sigs.k8s.io/yaml over go-yaml v2): sorted keys, two-space
/// indentation, list items at their key's indentation, `{}`/`[]` for empty collections.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => emit_map(map, 0, &mut out),
        Value::Array(items) if !items.is_empty() => emit_list(items, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar, 0));
            out.push('\n');
        }
    }
    out
}

fn sorted(map: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn emit_map(map: &Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in sorted(map) {
        out.push_str(&" ".repeat(indent));
        out.push_str(&string_text(key, indent));
        out.push(':');
        emit_value_after_key(value, indent, out);
    }
}

fn emit_value_after_key(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            emit_map(map, indent + 2, out);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            emit_list(items, indent, out);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + 2));
            out.push('\n');
        }
    }
}

fn emit_list(items: &[Value], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                // The first key on the dash's line, the others below it.
                let mut first = true;
                for (key, value) in sorted(map) {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&string_text(key, indent + 2));
                    out.push(':');
                    emit_value_after_key(value, indent + 2, out);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push('\n');
                emit_list(inner, indent + 2, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn scalar_text(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s, indent),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// A string as go-yaml v2 writes it: plain when that reads back as the same string, double-quoted
/// when plain text would read as another type, a literal block for several lines, else
/// single-quoted.
fn string_text(s: &str, indent: usize) -> String {
    if s.contains('\n') && !s.chars().any(|c| c.is_control() && c != '\n') {
        let chomp = if s.ends_with('\n') { "" } else { "-" };
        let pad = " ".repeat(indent);
        let mut block = format!("|{chomp}");
        for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
            block.push('\n');
            if !line.is_empty() {
                block.push_str(&pad);
                block.push_str(line);
            }
        }
        return block;
    }
    if s.chars().any(|c| c.is_control()) {
        return serde_json::to_string(s).unwrap_or_default();
    }
    if !matches!(resolve_plain(s), Resolved::String(_)) || s.is_empty() {
        return format!("\"{s}\"");
    }
    if plain_ok(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn plain_ok(s: &str) -> bool {
    let first = s.chars().next().unwrap_or(' ');
    let second = s.chars().nth(1);
    if s.starts_with(' ') || s.ends_with(' ') || s.ends_with(':') {
        return false;
    }
    if matches!(
        first,
        '[' | ']'
            | '{'
            | '}'
            | ','
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && second.is_none_or(|c| c == ' ') {
        return false;
    }
    if s == "---" || s == "..." {
        return false;
    }
    !(s.contains(": ") || s.contains(" #"))
}

/// A unified diff of two YAML texts, `kubectl diff` style (3 lines of context).
pub fn unified(before: &str, after: &str, before_name: &str, after_name: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(before_name, after_name)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cleaning_drops_server_noise() {
        let object = json!({"metadata": {"name": "a", "uid": "u", "resourceVersion": "1", "managedFields": [], "generation": 2, "creationTimestamp": "t"}, "status": {"phase": "Pending"}, "spec": {}});
        assert_eq!(
            clean(&object),
            json!({"metadata": {"name": "a"}, "spec": {}})
        );
    }

    #[test]
    fn changed_leaves() {
        let before = json!({"metadata": {"labels": {"run": "web"}}, "spec": {"replicas": 3, "list": [1, 2]}});
        let after = json!({"metadata": {"labels": {"run": "web", "demo": "test"}}, "spec": {"replicas": 5, "list": [1]}});
        let found: Vec<String> = changes(&before, &after)
            .iter()
            .map(|c| {
                format!(
                    "{} {} → {}",
                    c.path,
                    short(c.before.as_ref()),
                    short(c.after.as_ref())
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                "metadata.labels.demo (none) → test",
                "spec.list[1] 2 → (none)",
                "spec.replicas 3 → 5"
            ]
        );
    }

    #[test]
    fn secrets_are_masked_on_both_sides() {
        let mut before = json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "MQ==", "b": "Mg=="},
            "metadata": {"annotations": {LAST_APPLIED: "{\"data\":{\"a\":\"MQ==\"}}", "other": "x"}}});
        let mut after = json!({"apiVersion": "v1", "kind": "Secret", "data": {"a": "MQ==", "b": "Mw==", "c": "NA=="},
            "metadata": {"annotations": {"other": "x"}}});
        mask_secrets(Some(&mut before), Some(&mut after));
        assert_eq!(before["data"], json!({"a": "***", "b": "*** (before)"}));
        assert_eq!(
            after["data"],
            json!({"a": "***", "b": "*** (after)", "c": "***"})
        );
        assert_eq!(before["metadata"]["annotations"][LAST_APPLIED], "***");
        assert_eq!(before["metadata"]["annotations"]["other"], "x");
        let text = to_yaml(&before) + &to_yaml(&after);
        assert!(!text.contains("MQ==") && !text.contains("Mw=="), "{text}");
    }

    #[test]
    fn yaml_like_kubectl() {
        let value = json!({"kind": "Pod", "metadata": {"labels": {"demo": "test"}, "name": "web"},
            "spec": {"containers": [{"name": "web", "image": "nginx", "resources": {}, "command": ["sh", "-c", "sleep 1000000"]}],
                     "n": "123", "b": "true", "e": "", "star": "*", "multi": "a\nb\n"}});
        assert_eq!(
            to_yaml(&value),
            "kind: Pod\nmetadata:\n  labels:\n    demo: test\n  name: web\nspec:\n  b: \"true\"\n  containers:\n  - command:\n    - sh\n    - -c\n    - sleep 1000000\n    image: nginx\n    name: web\n    resources: {}\n  e: \"\"\n  multi: |\n    a\n    b\n  \"n\": \"123\"\n  star: '*'\n"
        );
    }

    #[test]
    fn unified_diff_lines() {
        let diff = unified("a: 1\nb: 2\n", "a: 1\nb: 3\n", "live", "merged");
        assert!(diff.contains("-b: 2\n+b: 3\n"), "{diff}");
    }
}
