//! Scalar resolution exactly as kubectl performs it.
//!
//! kubectl reads manifests with `sigs.k8s.io/yaml`, which decodes through its
//! fork of go-yaml v2 (`go.yaml.in/yaml/v2`, YAML 1.1 rules) into
//! `interface{}`. This module mirrors go-yaml v2's `resolve()` (resolve.go) and
//! the scalar half of `decoder.scalar()` (decode.go) for that target type, so
//! `yes` is `true`, `0755` is `493` and `2001-12-14` stays a string. And the other way round,
//! [`from_json`] writes a value as a scalar kubectl reads back as that value.
//!
//! Pure functions.

use std::fmt;

/// Presentation style of a scalar in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl From<saphyr_parser::ScalarStyle> for ScalarStyle {
    fn from(style: saphyr_parser::ScalarStyle) -> Self {
        match style {
            saphyr_parser::ScalarStyle::Plain => ScalarStyle::Plain,
            saphyr_parser::ScalarStyle::SingleQuoted => ScalarStyle::SingleQuoted,
            saphyr_parser::ScalarStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
            saphyr_parser::ScalarStyle::Literal => ScalarStyle::Literal,
            saphyr_parser::ScalarStyle::Folded => ScalarStyle::Folded,
        }
    }
}

/// The value go-yaml v2 decodes a scalar to when the target is `interface{}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    /// Go `int` (64-bit).
    Int(i64),
    /// Go `uint64`: only for integers above `i64::MAX`.
    UInt(u64),
    /// Go `float64`, possibly NaN or infinite.
    Float(f64),
    String(String),
}

/// Prefix of the long form of the YAML core tags (`!!int` is `tag:yaml.org,2002:int`).
pub const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A tagged scalar whose text does not fit its tag, e.g. `!!int abc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    pub message: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResolveError {}

/// The tag kinds go-yaml distinguishes; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CoreTag {
    Str,
    Bool,
    Int,
    Float,
    Null,
    Timestamp,
    Binary,
    Merge,
}

impl CoreTag {
    fn from_long(tag: &str) -> Option<CoreTag> {
        let suffix = tag.strip_prefix(CORE_TAG_PREFIX)?;
        Some(match suffix {
            "str" => CoreTag::Str,
            "bool" => CoreTag::Bool,
            "int" => CoreTag::Int,
            "float" => CoreTag::Float,
            "null" => CoreTag::Null,
            "timestamp" => CoreTag::Timestamp,
            "binary" => CoreTag::Binary,
            "merge" => CoreTag::Merge,
            _ => return None,
        })
    }

    fn short_name(self) -> &'static str {
        match self {
            CoreTag::Str => "!!str",
            CoreTag::Bool => "!!bool",
            CoreTag::Int => "!!int",
            CoreTag::Float => "!!float",
            CoreTag::Null => "!!null",
            CoreTag::Timestamp => "!!timestamp",
            CoreTag::Binary => "!!binary",
            CoreTag::Merge => "!!merge",
        }
    }
}

/// A tag in the long form go-yaml compares: `!!int` is `tag:yaml.org,2002:int`; any other tag is
/// kept as written (`!custom`, `!`). `handle` and `suffix` as written, or as saphyr gives them
/// (with `!!` already expanded).
pub fn long_tag(handle: &str, suffix: &str) -> String {
    let handle = if handle == "!!" {
        CORE_TAG_PREFIX
    } else {
        handle
    };
    format!("{handle}{suffix}")
}

/// Whether `tag` (long form) is go-yaml's merge tag, which makes `<<` a merge key
/// even when quoted.
pub fn is_merge_tag(tag: &str) -> bool {
    CoreTag::from_long(tag) == Some(CoreTag::Merge)
}

/// Resolves a plain, untagged scalar: go-yaml v2's `resolve("", text)`.
/// Whether a plain scalar is a boolean in YAML 1.1 only (`yes`, `On`, `n`), not in YAML 1.2,
/// where just `true` and `false` are.
pub fn is_yaml_1_1_boolean(text: &str) -> bool {
    matches!(resolve_plain(text), Resolved::Bool(_))
        && !matches!(text, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
}

pub fn resolve_plain(text: &str) -> Resolved {
    resolve_untagged(text).1
}

/// Resolves any scalar the way go-yaml v2 decodes it into `interface{}`.
///
/// `tag` is the long form (`tag:yaml.org,2002:int`, `!custom`, `!`), or `None`
/// when the scalar has no tag.
pub fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&str>,
) -> Result<Resolved, ResolveError> {
    // libyaml's `plain_implicit`: untagged plain scalars and the non-specific `!` tag.
    let implicit = (tag.is_none() && style == ScalarStyle::Plain) || tag == Some("!");
    let Some(tag) = tag else {
        return Ok(if implicit {
            resolve_plain(text)
        } else {
            Resolved::String(text.to_owned())
        });
    };
    match CoreTag::from_long(tag) {
        Some(CoreTag::Binary) => decode_binary(text),
        Some(CoreTag::Merge) | None => Ok(Resolved::String(text.to_owned())),
        Some(wanted) => resolve_with_tag(text, wanted),
    }
}

/// go-yaml's `resolve(tag, in)` for a resolvable core tag, including its
/// deferred check that the resolved kind matches the tag.
fn resolve_with_tag(text: &str, wanted: CoreTag) -> Result<Resolved, ResolveError> {
    let (found, value) = match wanted {
        CoreTag::Str => return Ok(Resolved::String(text.to_owned())),
        CoreTag::Timestamp => resolve_untagged_allowing_timestamp(text, true),
        _ => resolve_untagged_allowing_timestamp(text, false),
    };
    if found == wanted {
        return Ok(value);
    }
    match (wanted, found, &value) {
        (CoreTag::Float, CoreTag::Int, Resolved::Int(int)) => Ok(Resolved::Float(*int as f64)),
        _ => Err(ResolveError {
            message: format!(
                "cannot decode {} `{}` as a {}",
                found.short_name(),
                text,
                wanted.short_name()
            ),
        }),
    }
}

/// `resolve("", text)`: timestamps are recognised but, as go-yaml v2 does for
/// `interface{}` targets, kept as the original string.
fn resolve_untagged(text: &str) -> (CoreTag, Resolved) {
    resolve_untagged_allowing_timestamp(text, true)
}

/// Whether [`resolve_plain`] reads `text` as null, without resolving it (which copies most texts).
pub fn plain_is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Whether [`resolve_plain`] reads `text` as a string (a timestamp too), deciding by its first
/// byte when that says string, as most names and kinds do, without resolving it.
pub fn plain_is_string(text: &str) -> bool {
    hint(text).is_none() || matches!(resolve_plain(text), Resolved::String(_))
}

/// go-yaml only looks further at scalars whose first byte hints at a non-string (its
/// `resolveTable`); the empty scalar is hinted as null. `None`: a string.
fn hint(text: &str) -> Option<Hint> {
    Some(match text.as_bytes().first() {
        None => Hint::Known,
        Some(b'+' | b'-') => Hint::SignOrDigit,
        Some(b'0'..=b'9') => Hint::SignOrDigit,
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
            Hint::Known
        }
        Some(b'.') => Hint::Dot,
        Some(_) => return None,
    })
}

work_counter!(
    /// How many scalars this thread resolved without a tag so far.
    pub fn resolved_untagged() => RESOLVED
);

fn resolve_untagged_allowing_timestamp(text: &str, try_timestamp: bool) -> (CoreTag, Resolved) {
    count_work!(RESOLVED);
    let as_string = || (CoreTag::Str, Resolved::String(text.to_owned()));
    let Some(hint) = hint(text) else {
        return as_string();
    };
    if let Some(known) = known_plain_value(text) {
        return known;
    }
    match hint {
        Hint::Known => as_string(),
        Hint::Dot => match go_parse_float_allowing_underscores(text) {
            Some(float) => (CoreTag::Float, Resolved::Float(float)),
            None => as_string(),
        },
        Hint::SignOrDigit => {
            if try_timestamp && looks_like_timestamp(text) {
                return (CoreTag::Timestamp, Resolved::String(text.to_owned()));
            }
            match resolve_number(text) {
                Some(number) => number,
                None => as_string(),
            }
        }
    }
}

enum Hint {
    Known,
    Dot,
    SignOrDigit,
}

/// go-yaml's `resolveMap`: YAML 1.1 booleans, nulls and special floats.
fn known_plain_value(text: &str) -> Option<(CoreTag, Resolved)> {
    let value = match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            (CoreTag::Bool, Resolved::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            (CoreTag::Bool, Resolved::Bool(false))
        }
        "" | "~" | "null" | "Null" | "NULL" => (CoreTag::Null, Resolved::Null),
        ".nan" | ".NaN" | ".NAN" => (CoreTag::Float, Resolved::Float(f64::NAN)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            (CoreTag::Float, Resolved::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => (CoreTag::Float, Resolved::Float(f64::NEG_INFINITY)),
        _ => return None,
    };
    Some(value)
}

/// The int / uint / float / `0b` cascade of go-yaml's `resolve`, after removing
/// every underscore.
fn resolve_number(text: &str) -> Option<(CoreTag, Resolved)> {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(int) = go_parse_int(&plain, 0) {
        return Some((CoreTag::Int, Resolved::Int(int)));
    }
    if let Some(uint) = go_parse_uint(&plain, 0) {
        return Some((CoreTag::Int, Resolved::UInt(uint)));
    }
    if is_yaml_style_float(&plain)
        && let Some(float) = go_parse_float(&plain)
    {
        return Some((CoreTag::Float, Resolved::Float(float)));
    }
    if let Some(binary) = plain.strip_prefix("0b") {
        if let Some(int) = go_parse_int(binary, 2) {
            return Some((CoreTag::Int, Resolved::Int(int)));
        }
        if let Some(uint) = go_parse_uint(binary, 2) {
            return Some((CoreTag::Int, Resolved::UInt(uint)));
        }
    } else if let Some(binary) = plain.strip_prefix("-0b") {
        let negative = format!("-{binary}");
        if let Some(int) = go_parse_int(&negative, 2) {
            return Some((CoreTag::Int, Resolved::Int(int)));
        }
    }
    None
}

/// Go's `strconv.ParseInt(s, base, 64)` for base 0 (Go literal prefixes) or 2.
fn go_parse_int(text: &str, base: u32) -> Option<i64> {
    let (negative, magnitude) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let magnitude = go_parse_uint(magnitude, base)?;
    if negative {
        if magnitude > i64::MIN.unsigned_abs() {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(magnitude))
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(s, base, 64)`; base 0 reads `0x`, `0o`, `0b` and a
/// bare leading `0` (octal). Underscores were already removed by the caller.
fn go_parse_uint(text: &str, base: u32) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let (radix, digits) = if base != 0 {
        (base, text)
    } else {
        split_go_base_prefix(text)
    };
    let mut value: u64 = 0;
    for byte in digits.bytes() {
        let digit = (byte as char).to_digit(36)?;
        if digit >= radix {
            return None;
        }
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

fn split_go_base_prefix(text: &str) -> (u32, &str) {
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'0') {
        return (10, text);
    }
    if bytes.len() >= 3 {
        match bytes[1].to_ascii_lowercase() {
            b'b' => return (2, &text[2..]),
            b'o' => return (8, &text[2..]),
            b'x' => return (16, &text[2..]),
            _ => {}
        }
    }
    // A leading zero means octal; "0" alone leaves no digits, which Go reads as 0.
    (8, &text[1..])
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        at += 1;
    }
    if bytes.get(at) == Some(&b'.') {
        at += 1;
        let digits = count_digits(&bytes[at..]);
        if digits == 0 {
            return false;
        }
        at += digits;
    } else {
        let digits = count_digits(&bytes[at..]);
        if digits == 0 {
            return false;
        }
        at += digits;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            at += count_digits(&bytes[at..]);
        }
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let digits = count_digits(&bytes[at..]);
        if digits == 0 {
            return false;
        }
        at += digits;
    }
    at == bytes.len()
}

fn count_digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

/// Go's `strconv.ParseFloat(s, 64)` for the decimal forms go-yaml can pass it.
/// Go reports overflow as an error (so the scalar stays a string); underflow
/// silently becomes zero, as in Rust.
fn go_parse_float(text: &str) -> Option<f64> {
    if !is_yaml_style_float(text) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Go's `ParseFloat` on raw text (the `.` hint skips go-yaml's underscore
/// removal): Go accepts underscores only between digits, as in `.5_0`.
fn go_parse_float_allowing_underscores(text: &str) -> Option<f64> {
    if !text.contains('_') {
        return go_parse_float(text);
    }
    let bytes = text.as_bytes();
    let underscores_ok = bytes.iter().enumerate().all(|(at, &byte)| {
        byte != b'_'
            || (at > 0
                && bytes[at - 1].is_ascii_digit()
                && bytes.get(at + 1).is_some_and(u8::is_ascii_digit))
    });
    if !underscores_ok {
        return None;
    }
    go_parse_float(&text.replace('_', ""))
}

/// go-yaml's `parseTimestamp` for the formats it accepts: `2006-1-2`,
/// `2006-1-2T15:4:5.999999999Z07:00` (also `t`), and `2006-1-2 15:4:5.999999999`.
fn looks_like_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    if count_digits(bytes) != 4 || bytes.get(4) != Some(&b'-') {
        return false;
    }
    let Some(rest) = parse_month_and_day(&text[5..], &text[..4]) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let (separator, time) = rest.split_at(1);
    match separator {
        "T" | "t" => parse_time(time).is_some_and(is_rfc3339_zone),
        " " => parse_time(time) == Some(""),
        _ => false,
    }
}

/// Month and day with one or two digits, validated against the calendar.
/// Returns the remaining text after the day.
fn parse_month_and_day<'a>(month_day: &'a str, year: &str) -> Option<&'a str> {
    let year: u32 = year.parse().ok()?;
    let (month, rest) = take_number(month_day, 1, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = take_number(rest, 1, 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(rest)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `15:4:5` with an optional fraction; returns what follows.
fn parse_time(text: &str) -> Option<&str> {
    let (hour, rest) = take_number(text, 1, 2)?;
    let (minute, rest) = take_number(rest.strip_prefix(':')?, 1, 2)?;
    let (second, mut rest) = take_number(rest.strip_prefix(':')?, 1, 2)?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = count_digits(fraction.as_bytes());
        if digits == 0 {
            return None;
        }
        rest = &fraction[digits..];
    }
    Some(rest)
}

/// `Z` or `±hh:mm`.
fn is_rfc3339_zone(zone: &str) -> bool {
    if zone == "Z" {
        return true;
    }
    let bytes = zone.as_bytes();
    bytes.len() == 6
        && matches!(bytes[0], b'+' | b'-')
        && bytes[1..3].iter().all(u8::is_ascii_digit)
        && bytes[3] == b':'
        && bytes[4..6].iter().all(u8::is_ascii_digit)
        && zone[1..3].parse::<u32>().is_ok_and(|hours| hours <= 24)
        && zone[4..6].parse::<u32>().is_ok_and(|minutes| minutes <= 59)
}

fn take_number(text: &str, min_digits: usize, max_digits: usize) -> Option<(u32, &str)> {
    let digits = count_digits(text.as_bytes());
    if digits < min_digits || digits > max_digits {
        return None;
    }
    Some((text[..digits].parse().ok()?, &text[digits..]))
}

/// `!!binary`: Go's `base64.StdEncoding.DecodeString` (padding required,
/// `\r` and `\n` ignored), and the bytes become a Go string.
fn decode_binary(text: &str) -> Result<Resolved, ResolveError> {
    let bytes = decode_std_base64(text).ok_or_else(|| ResolveError {
        message: "!!binary value contains invalid base64 data".to_owned(),
    })?;
    Ok(Resolved::String(go_string_from_bytes(&bytes)))
}

fn decode_std_base64(text: &str) -> Option<Vec<u8>> {
    let symbols: Vec<u8> = text.bytes().filter(|&b| b != b'\r' && b != b'\n').collect();
    if !symbols.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(symbols.len() / 4 * 3);
    let quads = symbols.chunks_exact(4);
    let last = quads.len().saturating_sub(1);
    for (index, quad) in quads.enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && index != last) {
            return None;
        }
        let mut group: u32 = 0;
        for &symbol in &quad[..4 - padding] {
            group = (group << 6) | base64_value(symbol)?;
        }
        group <<= 6 * padding as u32;
        let decoded = group.to_be_bytes();
        out.extend_from_slice(&decoded[1..4 - padding]);
    }
    Some(out)
}

fn base64_value(symbol: u8) -> Option<u32> {
    let value = match symbol {
        b'A'..=b'Z' => symbol - b'A',
        b'a'..=b'z' => symbol - b'a' + 26,
        b'0'..=b'9' => symbol - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(value))
}

/// Go strings hold arbitrary bytes; `encoding/json` writes each byte of an
/// invalid UTF-8 sequence as U+FFFD, which is what the API server receives.
pub fn go_string_from_bytes(mut bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(error) => {
                let (valid, rest) = bytes.split_at(error.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                bytes = rest.get(1..).unwrap_or_default();
            }
        }
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`, which sigs.k8s.io/yaml uses to
/// turn a float mapping key into a JSON object key (note: float32 precision).
pub fn format_float_key(value: f64) -> String {
    if value.is_nan() {
        return ".nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    let single = value as f32;
    if single == 0.0 {
        return if single.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    if single.is_infinite() {
        // Out of float32 range: Go prints +Inf / -Inf, which sigs.k8s.io/yaml maps.
        return if single > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    // Shortest round-trip digits of the float32, in scientific form.
    let scientific = format!("{single:e}");
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    // Go's %g with shortest precision switches to %e when exp < -4 || exp >= 6.
    if !(-4..6).contains(&exponent) {
        push_scientific(&mut out, &digits, exponent, 2);
    } else if exponent < 0 {
        out.push_str("0.");
        for _ in 0..(-exponent - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let integer_digits = (exponent + 1) as usize;
        if digits.len() <= integer_digits {
            out.push_str(&digits);
            for _ in digits.len()..integer_digits {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..integer_digits]);
            out.push('.');
            out.push_str(&digits[integer_digits..]);
        }
    }
    out
}

/// Appends `d.ddd e±x` as Go prints it: the shortest digits, a sign on the exponent, and at least
/// `exponent_width` exponent digits (2 for `%g`, 1 for encoding/json).
pub(crate) fn push_scientific(
    out: &mut String,
    digits: &str,
    exponent: i32,
    exponent_width: usize,
) {
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exponent < 0 { '-' } else { '+' });
    out.push_str(&format!("{:0exponent_width$}", exponent.unsigned_abs()));
}

/// A JSON value written as a YAML scalar that kubectl reads back as that value: a string plain
/// when go-yaml resolves it as a string and nothing in it is YAML syntax, else quoted (as JSON,
/// which YAML's double-quoted style reads alike); numbers, booleans and null as JSON writes them.
pub fn from_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => {
            let plain = matches!(resolve_plain(s), Resolved::String(_))
                && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
                && !s.contains(": ")
                && !s.contains(" #")
                && !s.contains(['\n', '\r'])
                && !s.ends_with([' ', ':']);
            if plain {
                s.clone()
            } else {
                serde_json::to_string(s).unwrap_or_default()
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_values_are_written_as_kubectl_reads_them() {
        let written = |value: serde_json::Value| from_json(&value);
        for plain in ["Always", "web-1", "a b", "tRuE", "http://x"] {
            assert_eq!(written(plain.into()), plain);
        }
        for quoted in [
            "", "yes", "Off", "~", "null", "8080", "0x1F", "1.5", "- a", "a: b", "a\nb",
        ] {
            assert_eq!(
                written(quoted.into()),
                serde_json::to_string(quoted).unwrap()
            );
        }
        assert_eq!(written(serde_json::json!(3)), "3");
        assert_eq!(written(serde_json::json!(false)), "false");
    }

    fn plain(text: &str) -> Resolved {
        resolve_plain(text)
    }

    fn string(text: &str) -> Resolved {
        Resolved::String(text.to_owned())
    }

    fn tagged(text: &str, suffix: &str) -> Result<Resolved, ResolveError> {
        let tag = format!("{CORE_TAG_PREFIX}{suffix}");
        resolve_scalar(text, ScalarStyle::Plain, Some(&tag))
    }

    #[test]
    fn yaml_1_1_booleans() {
        for text in [
            "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert_eq!(plain(text), Resolved::Bool(true), "{text}");
        }
        for text in [
            "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert_eq!(plain(text), Resolved::Bool(false), "{text}");
        }
        for text in ["yEs", "oN", "tRue", "Yes!", "nope"] {
            assert_eq!(plain(text), string(text), "{text}");
        }
    }

    #[test]
    fn nulls() {
        for text in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(text), Resolved::Null, "{text:?}");
        }
        assert_eq!(plain("nULL"), string("nULL"));
    }

    #[test]
    fn special_floats() {
        assert!(matches!(plain(".nan"), Resolved::Float(f) if f.is_nan()));
        assert!(matches!(plain(".NaN"), Resolved::Float(f) if f.is_nan()));
        assert_eq!(plain(".inf"), Resolved::Float(f64::INFINITY));
        assert_eq!(plain("+.INF"), Resolved::Float(f64::INFINITY));
        assert_eq!(plain("-.Inf"), Resolved::Float(f64::NEG_INFINITY));
        assert_eq!(plain(".iNf"), string(".iNf"));
        assert_eq!(plain("nan"), string("nan"));
        assert_eq!(plain("inf"), string("inf"));
    }

    #[test]
    fn integers_follow_go_parse_int_base_0() {
        assert_eq!(plain("0"), Resolved::Int(0));
        assert_eq!(plain("-0"), Resolved::Int(0));
        assert_eq!(plain("42"), Resolved::Int(42));
        assert_eq!(plain("+42"), Resolved::Int(42));
        assert_eq!(plain("0755"), Resolved::Int(493));
        assert_eq!(plain("0o17"), Resolved::Int(15));
        assert_eq!(plain("0O17"), Resolved::Int(15));
        assert_eq!(plain("0x1F"), Resolved::Int(31));
        assert_eq!(plain("-0x1f"), Resolved::Int(-31));
        assert_eq!(plain("0b101"), Resolved::Int(5));
        assert_eq!(plain("-0b101"), Resolved::Int(-5));
        assert_eq!(plain("1_000"), Resolved::Int(1000));
        assert_eq!(plain("1__0_"), Resolved::Int(10));
        assert_eq!(plain("0x_1F"), Resolved::Int(31));
        assert_eq!(plain("9223372036854775807"), Resolved::Int(i64::MAX));
        assert_eq!(plain("-9223372036854775808"), Resolved::Int(i64::MIN));
    }

    #[test]
    fn integers_beyond_int64() {
        assert_eq!(plain("9223372036854775808"), Resolved::UInt(1 << 63));
        assert_eq!(plain("18446744073709551615"), Resolved::UInt(u64::MAX));
        // Neither int64 nor uint64: falls through to float.
        assert_eq!(
            plain("18446744073709551616"),
            Resolved::Float(18446744073709551616.0)
        );
        assert_eq!(
            plain("-9223372036854775809"),
            Resolved::Float(-9223372036854775809.0)
        );
        // ParseUint takes no sign.
        assert_eq!(
            plain("+18446744073709551615"),
            Resolved::Float(18446744073709551615.0)
        );
    }

    #[test]
    fn octal_lookalikes_with_8_or_9_become_floats() {
        assert_eq!(plain("09"), Resolved::Float(9.0));
        assert_eq!(plain("0129"), Resolved::Float(129.0));
        assert_eq!(plain("0x"), string("0x"));
        assert_eq!(plain("0b"), string("0b"));
        assert_eq!(plain("0b2"), string("0b2"));
    }

    #[test]
    fn binary_quirks_after_0b() {
        // Go's ParseInt(base 2) accepts a sign, so go-yaml's 0b branch does too.
        assert_eq!(plain("0b-101"), Resolved::Int(-5));
        assert_eq!(plain("0b+101"), Resolved::Int(5));
        let max_bits = format!("0b{}", "1".repeat(64));
        assert_eq!(plain(&max_bits), Resolved::UInt(u64::MAX));
    }

    #[test]
    fn floats_match_yaml_style_regex() {
        assert_eq!(plain("1.5"), Resolved::Float(1.5));
        assert_eq!(plain(".5"), Resolved::Float(0.5));
        assert_eq!(plain("-.5"), Resolved::Float(-0.5));
        assert_eq!(plain("1."), Resolved::Float(1.0));
        assert_eq!(plain("1e3"), Resolved::Float(1000.0));
        assert_eq!(plain("1E-2"), Resolved::Float(0.01));
        assert_eq!(plain("1_000.5"), Resolved::Float(1000.5));
        assert_eq!(plain("1e-400"), Resolved::Float(0.0));
        // Go reports overflow as an error: the scalar stays a string.
        assert_eq!(plain("1e999"), string("1e999"));
        assert_eq!(plain(".5e999"), string(".5e999"));
        // The '.' hint uses ParseFloat on the raw text: Go's underscore rules apply.
        assert_eq!(plain(".5_0"), Resolved::Float(0.5));
        assert_eq!(plain(".5__0"), string(".5__0"));
        assert_eq!(plain("._5"), string("._5"));
        assert_eq!(plain(".5_"), string(".5_"));
        for text in [
            "1e", "1.2.3", "e3", ".", "+", "-", "1,000", "0x1p-2", "1:20", "--1",
        ] {
            assert_eq!(plain(text), string(text), "{text}");
        }
    }

    #[test]
    fn timestamps_and_other_text_stay_strings() {
        for text in [
            "2001-12-14",
            "2001-12-14t21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
            "2001-13-45",
            "1.2.3",
            "<<",
            "hello world",
            "@foo",
        ] {
            assert_eq!(plain(text), string(text), "{text}");
        }
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        for style in [
            ScalarStyle::SingleQuoted,
            ScalarStyle::DoubleQuoted,
            ScalarStyle::Literal,
            ScalarStyle::Folded,
        ] {
            assert_eq!(resolve_scalar("yes", style, None), Ok(string("yes")));
            assert_eq!(resolve_scalar("", style, None), Ok(string("")));
        }
    }

    #[test]
    fn core_tags() {
        assert_eq!(tagged("123", "str"), Ok(string("123")));
        assert_eq!(tagged("", "str"), Ok(string("")));
        assert_eq!(tagged("0x1F", "int"), Ok(Resolved::Int(31)));
        assert_eq!(tagged("1", "float"), Ok(Resolved::Float(1.0)));
        assert_eq!(tagged("1.5", "float"), Ok(Resolved::Float(1.5)));
        assert_eq!(tagged("yes", "bool"), Ok(Resolved::Bool(true)));
        assert_eq!(tagged("~", "null"), Ok(Resolved::Null));
        assert_eq!(tagged("2001-12-14", "timestamp"), Ok(string("2001-12-14")));
        let quoted_int = format!("{CORE_TAG_PREFIX}int");
        assert_eq!(
            resolve_scalar("12", ScalarStyle::DoubleQuoted, Some(&quoted_int)),
            Ok(Resolved::Int(12))
        );
    }

    #[test]
    fn long_tags() {
        assert_eq!(long_tag("!!", "int"), "tag:yaml.org,2002:int");
        assert_eq!(
            long_tag("tag:yaml.org,2002:", "int"),
            "tag:yaml.org,2002:int"
        );
        assert_eq!(long_tag("!", "custom"), "!custom");
        assert_eq!(long_tag("", "!"), "!");
    }

    #[test]
    fn mismatched_core_tags_fail_like_go_yaml() {
        let message = |result: Result<Resolved, ResolveError>| result.unwrap_err().message;
        assert_eq!(
            message(tagged("abc", "int")),
            "cannot decode !!str `abc` as a !!int"
        );
        assert_eq!(
            message(tagged("1", "bool")),
            "cannot decode !!int `1` as a !!bool"
        );
        assert_eq!(
            message(tagged("1.5", "int")),
            "cannot decode !!float `1.5` as a !!int"
        );
        assert_eq!(
            message(tagged("foo", "null")),
            "cannot decode !!str `foo` as a !!null"
        );
        assert_eq!(
            message(tagged("18446744073709551615", "float")),
            "cannot decode !!int `18446744073709551615` as a !!float"
        );
        assert!(tagged("2001-13-45", "timestamp").is_err());
    }

    #[test]
    fn binary_tag_decodes_base64() {
        assert_eq!(tagged("aGVsbG8=", "binary"), Ok(string("hello")));
        assert_eq!(tagged("aGVs\nbG8=\n", "binary"), Ok(string("hello")));
        assert_eq!(tagged("", "binary"), Ok(string("")));
        assert_eq!(tagged("/w==", "binary"), Ok(string("\u{FFFD}")));
        assert!(tagged("aGVsbG8", "binary").is_err());
        assert!(tagged("aG=sbG8=", "binary").is_err());
        assert!(tagged("a GVsbG8=", "binary").is_err());
    }

    #[test]
    fn custom_and_non_specific_tags_keep_the_text() {
        assert_eq!(
            resolve_scalar("123", ScalarStyle::Plain, Some("!foo")),
            Ok(string("123"))
        );
        assert_eq!(
            resolve_scalar("yes", ScalarStyle::Plain, Some("!")),
            Ok(string("yes"))
        );
        assert_eq!(
            resolve_scalar("1", ScalarStyle::Plain, Some("tag:example.com,2000:x")),
            Ok(string("1"))
        );
    }

    #[test]
    fn invalid_utf8_bytes_become_one_replacement_each() {
        assert_eq!(
            go_string_from_bytes(b"a\xF0\x9F\x98b"),
            "a\u{FFFD}\u{FFFD}\u{FFFD}b"
        );
        assert_eq!(go_string_from_bytes("é".as_bytes()), "é");
    }

    #[test]
    fn float_keys_use_float32_g_format() {
        assert_eq!(format_float_key(1.0), "1");
        assert_eq!(format_float_key(1.5), "1.5");
        assert_eq!(format_float_key(0.1), "0.1");
        assert_eq!(format_float_key(1000.0), "1000");
        assert_eq!(format_float_key(123456.0), "123456");
        assert_eq!(format_float_key(1e6), "1e+06");
        assert_eq!(format_float_key(1234567.0), "1.234567e+06");
        assert_eq!(format_float_key(1.234567891234), "1.2345679");
        assert_eq!(format_float_key(0.0001), "0.0001");
        assert_eq!(format_float_key(0.00001), "1e-05");
        assert_eq!(format_float_key(-2.5), "-2.5");
        assert_eq!(format_float_key(1e300), ".inf");
        assert_eq!(format_float_key(f64::NAN), ".nan");
        assert_eq!(format_float_key(f64::NEG_INFINITY), "-.inf");
    }
}
