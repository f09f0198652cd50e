//! Scalar values as the apiserver decodes them: which types a value fits (int-or-string,
//! quantities), integer formats, string formats (`byte`, `date-time`), `resource.Quantity`.

use serde_json::Value;

use crate::schema::openapi::{SchemaNode, ValueKind};
use crate::yaml::scalar::Resolved;

/// Whether a scalar (not null) fits a value of `kind`: an int-or-string takes integers (integral
/// floats too) and strings, a quantity numbers and strings.
pub fn accepts(value: &Resolved, kind: ValueKind) -> bool {
    match (value, kind) {
        (Resolved::String(_), ValueKind::String | ValueKind::IntOrString | ValueKind::Quantity) => {
            true
        }
        (
            Resolved::Int(_) | Resolved::UInt(_),
            ValueKind::Integer | ValueKind::Number | ValueKind::IntOrString | ValueKind::Quantity,
        ) => true,
        (Resolved::Float(f), ValueKind::Integer | ValueKind::IntOrString) => {
            f.is_finite() && f.fract() == 0.0
        }
        (Resolved::Float(f), ValueKind::Number | ValueKind::Quantity) => f.is_finite(),
        (Resolved::Bool(_), ValueKind::Boolean) => true,
        _ => false,
    }
}

/// Whether an integer fits the Go type its `format` names (`int32` fields are `int32`).
pub fn fits_format(value: &Resolved, format: Option<&str>) -> bool {
    let (min, max) = match format {
        Some("int32") => (i32::MIN as i128, i32::MAX as i128),
        Some("int64") => (i64::MIN as i128, i64::MAX as i128),
        _ => return true,
    };
    let number = match value {
        Resolved::Int(i) => *i as i128,
        Resolved::UInt(u) => *u as i128,
        Resolved::Float(f) if f.is_finite() => *f as i128,
        _ => return true,
    };
    (min..=max).contains(&number)
}

/// `byte` everywhere (base64, as Go decodes `[]byte`); `date-time` only for metav1.Time, which
/// Go parses as RFC 3339 (CRD date-times accept more layouts).
pub fn format_error(schema: SchemaNode<'_>, text: &str) -> Option<String> {
    match schema.format()? {
        "byte" => base64(text).err().map(|e| e.to_string()),
        "date-time"
            if schema.name == Some("io.k8s.apimachinery.pkg.apis.meta.v1.Time")
                && !rfc3339(text) =>
        {
            Some("must be an RFC 3339 date-time (e.g. 2006-01-02T15:04:05Z)".to_string())
        }
        _ => None,
    }
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

pub fn json_of_scalar(value: Resolved) -> Value {
    match value {
        Resolved::Null => Value::Null,
        Resolved::Bool(b) => Value::Bool(b),
        Resolved::Int(i) => Value::from(i),
        Resolved::UInt(u) => Value::from(u),
        Resolved::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
        Resolved::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Resolved::String(s) => Value::String(s),
    }
}

/// Whether `text` parses as a `resource.Quantity` (k8s.io/apimachinery's ParseQuantity).
pub fn is_quantity(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut pos = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        pos += 1;
    }
    let mut digits = 0;
    let mut dots = 0;
    while pos < bytes.len() {
        match bytes[pos] {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => break,
        }
        pos += 1;
    }
    if digits == 0 || dots > 1 {
        return false;
    }
    let suffix = &text[pos..];
    match suffix {
        "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" | "n" | "u" | "m" | "k" | "M" | "G" | "T"
        | "P" | "E" => true,
        _ => {
            let Some(exponent) = suffix.strip_prefix(['e', 'E']) else {
                return false;
            };
            let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
            !exponent.is_empty() && exponent.bytes().all(|b| b.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn quantities() {
        for good in [
            "1", "0.5", ".5", "5.", "500m", "1Ki", "2e3", "1E-2", "+1", "-1",
        ] {
            assert!(is_quantity(good), "{good}");
        }
        for bad in ["", "m", "1K", "1.2.3", "1e", "1ki", "abc"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }
}
