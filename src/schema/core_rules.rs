//! Rules the apiserver applies to core types that their OpenAPI schema does not state: container
//! and port names, ConfigMap/Secret keys, base64 (`format: byte`) and RFC 3339 date-times,
//! workload selectors that must match their template's labels. Messages are the apiserver's.

use std::collections::BTreeMap;

use super::metadata::{dns1123_label, invalid};

const PORT_NAME_MAX: usize = 15;
const CONFIG_KEY_MAX: usize = 253;

/// IANA_SVC_NAME: a container port's name, a Service's string `targetPort`.
pub fn port_name(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > PORT_NAME_MAX {
        errors.push(format!("must be no more than {PORT_NAME_MAX} characters"));
    }
    if !text
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errors.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if text.contains("--") {
        errors.push("must not contain consecutive hyphens".to_string());
    }
    if !text.bytes().any(|c| c.is_ascii_alphabetic()) {
        errors.push("must contain at least one letter (a-z)".to_string());
    }
    if text.starts_with('-') || text.ends_with('-') {
        errors.push("must not begin or end with a hyphen".to_string());
    }
    errors
}

/// A container's name is an RFC 1123 label.
pub fn container_name(text: &str) -> Vec<String> {
    dns1123_label(text)
}

/// A key of a ConfigMap's or Secret's `data`, `binaryData` or `stringData`.
pub fn config_key(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > CONFIG_KEY_MAX {
        errors.push(format!("must be no more than {CONFIG_KEY_MAX} characters"));
    }
    if text.is_empty()
        || !text
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    {
        errors.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    if text == "." || text == ".." {
        errors.push(format!("must not be '{text}'"));
    } else if text.starts_with("..") {
        errors.push("must not start with '..'".to_string());
    }
    errors
}

/// Base64 that Go would not decode, at the byte it names (Go's `CorruptInputError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("illegal base64 data at input byte {0}")]
pub struct Base64Error(pub usize);

/// Go's `base64.StdEncoding` as `encoding/json` decodes `[]byte`: padded, `\r` and `\n`
/// ignored. The error is worded as Go's (its byte offset may differ for truncated input).
pub fn base64(text: &str) -> Result<(), Base64Error> {
    let bytes: Vec<(usize, u8)> = text
        .bytes()
        .enumerate()
        .filter(|(_, c)| !matches!(c, b'\r' | b'\n'))
        .collect();
    let is_symbol = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let padding = bytes.iter().rev().take_while(|(_, c)| *c == b'=').count();
    let body = &bytes[..bytes.len() - padding];
    if let Some(&(at, _)) = body.iter().find(|(_, c)| !is_symbol(*c)) {
        return Err(Base64Error(at));
    }
    if padding > 2 || !bytes.len().is_multiple_of(4) || (padding > 0 && body.len() % 4 == 1) {
        let at = bytes.last().map_or(0, |(i, _)| *i);
        return Err(Base64Error(at));
    }
    Ok(())
}

/// RFC 3339 as Go's `time.RFC3339` parses it: `2006-01-02T15:04:05Z07:00`, optional fraction.
pub fn rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|s| s.len() == range.len() && s.iter().all(u8::is_ascii_digit))
    };
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19))
    {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let count = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 {
            return false;
        }
        rest = &fraction[count..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// The message when a workload's selector does not select its own template.
pub fn selector_mismatch(labels: &BTreeMap<String, String>) -> String {
    let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    format!(
        "Invalid value: map[string]string{{{}}}: `selector` does not match template `labels`",
        shown.join(", ")
    )
}

/// Whether a LabelSelector (`matchLabels` + `matchExpressions`) selects `labels`.
pub fn selects(
    match_labels: &BTreeMap<String, String>,
    expressions: &[(String, String, Vec<String>)],
    labels: &BTreeMap<String, String>,
) -> bool {
    let labels_ok = match_labels.iter().all(|(k, v)| labels.get(k) == Some(v));
    labels_ok
        && expressions.iter().all(|(key, operator, values)| {
            let value = labels.get(key);
            match operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                // An unknown operator is the schema's business (enum); do not guess here.
                _ => true,
            }
        })
}

/// `Invalid value: "<value>": <message>` for each message.
pub fn invalid_all(value: &str, messages: Vec<String>) -> Vec<String> {
    messages.iter().map(|m| invalid(value, m)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_and_container_names() {
        assert!(port_name("http-metrics").is_empty());
        assert_eq!(
            port_name("metrics-endpoint-1"),
            ["must be no more than 15 characters"]
        );
        assert_eq!(
            port_name("8080"),
            ["must contain at least one letter (a-z)"]
        );
        assert_eq!(
            port_name("Http"),
            ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"]
        );
        assert_eq!(port_name("a--b"), ["must not contain consecutive hyphens"]);
        assert!(container_name("web-1").is_empty());
        assert_eq!(container_name("web_1").len(), 1);
    }

    #[test]
    fn config_keys() {
        assert!(config_key("app.properties").is_empty());
        assert!(config_key("KEY_NAME-1").is_empty());
        assert_eq!(config_key("a/b").len(), 1);
        assert_eq!(config_key(".."), ["must not be '..'"]);
        assert_eq!(config_key("..a"), ["must not start with '..'"]);
    }

    #[test]
    fn base64_as_go_decodes_it() {
        for good in ["", "YQ==", "YWI=", "YWJj", "YWJj\nZGVm", "aGVsbG8gd29ybGQ="] {
            assert_eq!(base64(good), Ok(()), "{good}");
        }
        assert_eq!(
            base64("hello!").map_err(|e| e.to_string()),
            Err("illegal base64 data at input byte 5".to_string())
        );
        assert_eq!(base64("YWJ"), Err(Base64Error(2)));
        assert_eq!(base64("password"), Ok(()));
        assert!(base64("YQ=").is_err());
        assert!(base64("Y===").is_err());
    }

    #[test]
    fn rfc3339_dates() {
        for good in [
            "2024-01-31T12:00:00Z",
            "2024-01-31T12:00:00.123+02:00",
            "2024-01-31t12:00:00z",
        ] {
            assert!(rfc3339(good), "{good}");
        }
        for bad in [
            "2024-01-31",
            "2024-01-31 12:00:00Z",
            "2024-01-31T12:00:00",
            "yesterday",
            "2024-01-31T12:00:00.Z",
        ] {
            assert!(!rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn selectors() {
        let labels: BTreeMap<String, String> = [
            ("app".to_string(), "web".to_string()),
            ("tier".to_string(), "fe".to_string()),
        ]
        .into();
        let wanted: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(selects(&wanted, &[], &labels));
        let other: BTreeMap<String, String> = [("app".to_string(), "api".to_string())].into();
        assert!(!selects(&other, &[], &labels));
        let expression = ("tier".to_string(), "In".to_string(), vec!["be".to_string()]);
        assert!(!selects(&wanted, &[expression], &labels));
        assert_eq!(
            selector_mismatch(&labels),
            "Invalid value: map[string]string{\"app\":\"web\", \"tier\":\"fe\"}: `selector` does not match template `labels`"
        );
    }
}
