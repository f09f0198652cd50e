//! The API server's field paths, in both syntaxes, resolved to a [`KeyPath`] of the manifest:
//!
//! - validation causes: `spec.containers[0].image`, `metadata.labels[app.kubernetes.io/name]`;
//! - server-side apply (structured-merge-diff): `.spec.containers[name="web"].ports`,
//!   `.spec.ports[port=80,protocol="TCP"]`, `.metadata.finalizers[="x"]` — list items chosen by
//!   their keys, which are looked up in the manifest's JSON value to find the item's index.

use serde_json::Value;

use crate::yaml::key_path::{KeyPath, Segment};

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[k1=v1,k2=v2]`: the list item whose fields have these values.
    Match(Vec<(String, Value)>),
    /// `[=v]`: the set item equal to v.
    Item(Value),
}

/// Parses a field path in either syntax into steps.
fn parse(text: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let bytes = text.trim().as_bytes();
    let text = text.trim();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'.' => i += 1,
            b'[' => {
                let close = matching_bracket(text, i).unwrap_or(text.len());
                let inner = &text[i + 1..close.min(text.len())];
                steps.push(bracket_step(inner));
                i = close + 1;
            }
            _ => {
                let end = text[i..].find(['.', '[']).map_or(text.len(), |e| i + e);
                steps.push(Step::Key(text[i..end].to_string()));
                i = end;
            }
        }
    }
    steps
}

/// The index of the `]` closing the `[` at `open`, skipping quoted text.
fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    let mut in_quote = false;
    let mut escaped = false;
    for (offset, c) in text[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            ']' if !in_quote => return Some(open + 1 + offset),
            _ => {}
        }
    }
    None
}

fn bracket_step(inner: &str) -> Step {
    if let Some(value) = inner.strip_prefix('=') {
        return Step::Item(literal(value));
    }
    if let Ok(index) = inner.parse::<usize>() {
        return Step::Index(index);
    }
    // `name="x"` or `port=80,protocol="TCP"`: split on commas outside quotes.
    let mut pairs = Vec::new();
    for part in split_outside_quotes(inner) {
        match part.split_once('=') {
            Some((key, value)) if is_identifier(key) => {
                pairs.push((key.to_string(), literal(value)))
            }
            _ => return Step::Key(inner.trim_matches(['\'', '"']).to_string()),
        }
    }
    if pairs.is_empty() {
        Step::Key(inner.trim_matches(['\'', '"']).to_string())
    } else {
        Step::Match(pairs)
    }
}

fn is_identifier(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn split_outside_quotes(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_quote, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            ',' if !in_quote => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// A JSON literal (`"x"`, `80`, `true`), or the bare text as a string.
fn literal(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// The manifest path of an API server field path, resolving list-item selectors against
/// `manifest`. Stops at the first step the manifest does not have (so the result names the
/// deepest existing part).
pub fn resolve(field: &str, manifest: &Value) -> KeyPath {
    let mut path = KeyPath::default();
    let mut node = Some(manifest);
    for step in parse(field) {
        match step {
            Step::Key(key) => {
                node = node.and_then(|n| n.get(&key));
                path.0.push(Segment::Key(key));
            }
            Step::Index(index) => {
                node = node.and_then(|n| n.get(index));
                path.0.push(Segment::Index(index));
            }
            Step::Match(pairs) => {
                let found = node.and_then(Value::as_array).and_then(|items| {
                    items.iter().position(|item| {
                        pairs
                            .iter()
                            .all(|(k, v)| item.get(k).is_some_and(|x| loosely_equal(x, v)))
                    })
                });
                let Some(index) = found else { break };
                node = node.and_then(|n| n.get(index));
                path.0.push(Segment::Index(index));
            }
            Step::Item(value) => {
                let found = node
                    .and_then(Value::as_array)
                    .and_then(|items| items.iter().position(|x| loosely_equal(x, &value)));
                let Some(index) = found else { break };
                node = node.and_then(|n| n.get(index));
                path.0.push(Segment::Index(index));
            }
        }
    }
    path
}

/// SSA's `.spec.ports: duplicate entries for key [port=80,protocol="TCP"]`: the path of the last
/// item with that key (the duplicate to remove), when the message says so and the manifest has
/// more than one such item.
pub fn duplicate_entry(message: &str, manifest: &Value) -> Option<KeyPath> {
    let (field, rest) = path_in_message(message)?;
    let selector = rest.strip_prefix("duplicate entries for key ")?;
    let is_item: Box<dyn Fn(&Value) -> bool> = match parse(selector).as_slice() {
        [Step::Match(pairs)] => {
            let pairs = pairs.clone();
            // A key the item leaves out may have been defaulted to the duplicate's value.
            Box::new(move |item: &Value| {
                pairs.iter().any(|(k, _)| item.get(k).is_some())
                    && pairs
                        .iter()
                        .all(|(k, v)| item.get(k).is_none_or(|x| loosely_equal(x, v)))
            })
        }
        [Step::Item(value)] => {
            let value = value.clone();
            Box::new(move |item: &Value| loosely_equal(item, &value))
        }
        _ => return None,
    };
    let mut path = resolve(&field, manifest);
    let items = value_at(manifest, &path)?.as_array()?;
    if items.iter().filter(|item| is_item(item)).count() < 2 {
        return None;
    }
    path.0
        .push(Segment::Index(items.iter().rposition(&is_item)?));
    Some(path)
}

/// The value at `path` in `value`.
pub fn value_at<'v>(value: &'v Value, path: &KeyPath) -> Option<&'v Value> {
    path.0
        .iter()
        .try_fold(value, |node, segment| match segment {
            Segment::Key(key) => node.get(key),
            Segment::Index(index) => node.get(index),
        })
}

/// Equal as JSON, with numbers compared by value (`80` and `80.0`).
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// Finds a field path inside an error message: SSA's `.spec.x[name="y"].z: …`, or encoding/json's
/// `Go struct field PodSpec.spec.containers of type …`. Returns the path and the message's text
/// after it.
pub fn path_in_message(message: &str) -> Option<(String, String)> {
    if let Some(at) = message.find("Go struct field ") {
        let rest = &message[at + "Go struct field ".len()..];
        let end = rest.find(" of type").unwrap_or(rest.len());
        let qualified = &rest[..end];
        // `PodSpec.spec.containers`: the Go type first, then the JSON path.
        let path = qualified.split_once('.').map_or(qualified, |(_, p)| p);
        return Some((path.to_string(), message.to_string()));
    }
    let bytes = message.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i] == b'.'
            && (i == 0 || bytes[i - 1] == b' ')
            && bytes.get(i + 1).is_some_and(|b| b.is_ascii_alphabetic());
        if starts {
            // The path ends at `: ` outside brackets.
            let mut depth = 0usize;
            let mut in_quote = false;
            let mut j = i;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' if depth > 0 => in_quote = !in_quote,
                    b'[' if !in_quote => depth += 1,
                    b']' if !in_quote => depth = depth.saturating_sub(1),
                    b':' if depth == 0 && !in_quote => break,
                    b' ' if depth == 0 && !in_quote => break,
                    _ => {}
                }
                j += 1;
            }
            if j < bytes.len() && bytes[j] == b':' {
                let rest = message[j + 1..].trim().to_string();
                return Some((message[i..j].to_string(), rest));
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Value {
        json!({"spec": {
            "containers": [{"name": "a"}, {"name": "web", "ports": [{"containerPort": 80, "protocol": "TCP"}]}],
            "finalizers": ["x", "y"]
        }, "metadata": {"labels": {"app.kubernetes.io/name": "n"}}})
    }

    #[test]
    fn validation_paths() {
        let m = manifest();
        assert_eq!(
            resolve("spec.containers[1].ports[0].containerPort", &m).to_string(),
            "spec.containers[1].ports[0].containerPort"
        );
        assert_eq!(
            resolve("metadata.labels[app.kubernetes.io/name]", &m)
                .0
                .last(),
            Some(&Segment::Key("app.kubernetes.io/name".into()))
        );
    }

    #[test]
    fn ssa_paths_find_items_by_their_keys() {
        let m = manifest();
        assert_eq!(
            resolve(r#".spec.containers[name="web"].foo"#, &m).to_string(),
            "spec.containers[1].foo"
        );
        assert_eq!(
            resolve(
                r#".spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]"#,
                &m
            )
            .to_string(),
            "spec.containers[1].ports[0]"
        );
        assert_eq!(
            resolve(r#".spec.finalizers[="y"]"#, &m).to_string(),
            "spec.finalizers[1]"
        );
        // An item that is not there: the path stops at the list.
        assert_eq!(
            resolve(r#".spec.containers[name="zz"].image"#, &m).to_string(),
            "spec.containers"
        );
    }

    #[test]
    fn duplicates_point_at_the_second_item() {
        let manifest = json!({"spec": {"containers": [{"name": "web", "ports": [
            {"containerPort": 80, "protocol": "TCP"},
            {"containerPort": 88, "protocol": "TCP"},
            {"containerPort": 88, "protocol": "TCP"}]}]}});
        let message = r#".spec.containers[name="web"].ports: duplicate entries for key [containerPort=88,protocol="TCP"]"#;
        assert_eq!(
            duplicate_entry(message, &manifest),
            Some(KeyPath::parse("spec.containers[0].ports[2]"))
        );
        let once = r#".spec.containers[name="web"].ports: duplicate entries for key [containerPort=80,protocol="TCP"]"#;
        assert_eq!(duplicate_entry(once, &manifest), None);
        // The second item's protocol comes from the schema's default.
        let defaulted =
            json!({"map_list": [{"protocol": "TCP", "containerPort": 88}, {"containerPort": 88}]});
        let message = r#".map_list: duplicate entries for key [containerPort=88,protocol="TCP"]"#;
        assert_eq!(
            duplicate_entry(message, &defaulted),
            Some(KeyPath::parse("map_list[1]"))
        );
    }

    #[test]
    fn paths_inside_messages() {
        let message = r#"failed to create typed patch object (default/bad; /v1, Kind=Pod): .spec.containers[name="web"].foo: field not declared in schema"#;
        assert_eq!(
            path_in_message(message),
            Some((
                r#".spec.containers[name="web"].foo"#.to_string(),
                "field not declared in schema".to_string()
            ))
        );
        let (path, _) = path_in_message("json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container").unwrap();
        assert_eq!(path, "spec.containers");
        assert_eq!(path_in_message("nothing here: at all"), None);
    }
}
