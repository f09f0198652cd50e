//! The quick fix for missing required fields: it inserts them, with placeholder values, at the end
//! of the block mapping that lacks them, indented like its keys and with the document's line
//! breaks. Every "missing required field" diagnostic of a mapping carries the same fix, which adds
//! all of that mapping's missing fields (the server offers it once).
//!
//! Placeholders are what the schema allows and kubectl sends as is: the field's default, else its
//! first enum value, else a value of its type that says "fill me in":
//! - strings `""` (the epoch for a `date-time`, which must parse), quantities `"0"`;
//! - integers and numbers `0`, booleans `false`;
//! - int-or-string `0`: the required ones in Kubernetes' own APIs are ports (probes' `httpGet`
//!   and `tcpSocket`), and a quoted number there would be a port *name*;
//! - objects with required fields spell those out on the following lines, lists of such objects
//!   get one `- ` item (up to [`NEST_DEPTH`] levels), other objects `{}`, other lists `[]`;
//! - values of unknown type `{}`.
//!
//! A mapping in flow style (`{a: 1}`), or one whose layout is unusual (a complex `? ` key, text
//! after its last value), gets no fix: guessing there could break the document.
//!
//! Text is read through [`YamlNode::source_text`], a few bytes at a time, so that the tree-sitter
//! tree and the span tree give identical edits (validation compares them on the corpus).

use std::borrow::Cow;
use std::ops::Range;

use serde_json::Value;

use super::complete::yaml_scalar;
use super::openapi::{SchemaNode, ValueKind};
use crate::yaml::node::YamlNode;
use crate::yaml::scalar::ScalarStyle;
use crate::yaml::syntax::NodeShape;

/// How many levels of objects and lists below an inserted field its placeholder spells out.
const NEST_DEPTH: usize = 3;

/// Columns a nested placeholder is indented by, relative to its parent's key.
const STEP: usize = 2;

/// Types whose objects the apiserver requires an `image` in (the OpenAPI schema does not say so).
const CONTAINERS: [&str; 2] = [
    "io.k8s.api.core.v1.Container",
    "io.k8s.api.core.v1.EphemeralContainer",
];

/// A fix: its title and its edits (document offsets).
pub type Fix = (String, Vec<(Range<usize>, String)>);

/// The fields an object of `schema` must have: the schema's `required`, and a container's image.
pub fn required_fields<'a>(schema: SchemaNode<'a>) -> Vec<&'a str> {
    let mut fields: Vec<&'a str> = schema.required().iter().map(|r| &**r).collect();
    if schema.name.is_some_and(|name| CONTAINERS.contains(&name)) && !fields.contains(&"image") {
        fields.push("image");
    }
    fields
}

/// The fix that adds `missing` fields to `mapping` (a block mapping whose schema is `schema`), if
/// its layout is plain enough to insert lines into.
pub fn fix<N: YamlNode>(mapping: N, schema: SchemaNode<'_>, missing: &[&str]) -> Option<Fix> {
    if missing.is_empty() || mapping.shape() != NodeShape::Mapping {
        return None;
    }
    let start = mapping.range().start;
    if mapping.source_text(start..start + 1) == "{" {
        return None;
    }
    let pairs = mapping.pairs();
    let first_key = pairs.first()?.key?;
    let indent = key_column(&mapping, first_key.range().start)?;
    let (at, eol, at_line_start) = insertion_point(&mapping)?;

    let mut lines = Vec::new();
    for &field in missing {
        field_lines(&mut lines, field, child(schema, field), indent, 0);
    }
    let text = if at_line_start {
        lines.iter().map(|line| format!("{line}{eol}")).collect()
    } else {
        format!("{eol}{}", lines.join(eol))
    };
    let names = missing
        .iter()
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let title = match missing {
        [_] => format!("Add missing required field {names}"),
        _ => format!("Add missing required fields {names}"),
    };
    Some((title, vec![(at..at, text)]))
}

/// The column of the key at `offset` (where a mapping's keys are), counted in characters, if the
/// line holds nothing before it but indentation, `- ` indicators and the key's properties.
fn key_column<N: YamlNode>(node: &N, offset: usize) -> Option<usize> {
    let (_, prefix) = line_before(node, offset);
    let mut chars = prefix.chars().peekable();
    let mut column = 0;
    while let Some(c) = chars.next() {
        match c {
            ' ' => column += 1,
            '-' if chars.peek() == Some(&' ') => column += 1,
            // An anchor or tag of the key: the mapping's keys start where it does.
            '&' | '!' => return Some(column),
            _ => return None,
        }
    }
    Some(column)
}

/// Where the mapping's last line ends: (offset to insert at, the line break to use, whether the
/// offset starts a line, or else is the end of the text).
fn insertion_point<N: YamlNode>(mapping: &N) -> Option<(usize, &'static str, bool)> {
    let (end, after_key) = last_end(*mapping)?;
    if end > 0 && mapping.source_text(end - 1..end) == "\n" {
        // A block scalar's range can end past its line break.
        let crlf = end > 1 && mapping.source_text(end - 2..end - 1) == "\r";
        return Some((end, if crlf { "\r\n" } else { "\n" }, true));
    }
    let rest = rest_of_line(mapping, end);
    let (content, line_break) = match rest.strip_suffix('\n') {
        Some(content) => match content.strip_suffix('\r') {
            Some(content) => (content, Some("\r\n")),
            None => (content, Some("\n")),
        },
        None => (rest.as_str(), None),
    };
    let mut content = content;
    if after_key {
        // `key:`, maybe with properties of a value that is empty (`key: !!null`, `key: &a`).
        content = content.strip_prefix(':')?;
        loop {
            content = content.trim_start_matches([' ', '\t']);
            if !content.starts_with(['!', '&']) {
                break;
            }
            content = content.trim_start_matches(|c: char| !matches!(c, ' ' | '\t'));
        }
    }
    let content = content.trim_start_matches([' ', '\t']);
    if !content.is_empty() && !content.starts_with('#') {
        return None;
    }
    match line_break {
        Some(eol) => Some((end + rest.len(), eol, true)),
        None => {
            // The text ends on this line: the break of the line before, if there is one.
            let (line_start, _) = line_before(mapping, end);
            let crlf = line_start > 1 && mapping.source_text(line_start - 2..line_start) == "\r\n";
            let eol = if crlf { "\r\n" } else { "\n" };
            Some((end + rest.len(), eol, false))
        }
    }
}

/// Where the last node under `node` ends, and whether that is a key without a value (whose `:`
/// follows). `None` when the last item of a list is missing (`- ` alone), or when it is a block
/// scalar that keeps its trailing blank lines (`|+`): lines inserted after them would be part of
/// it, before them would take them from it.
fn last_end<N: YamlNode>(mut node: N) -> Option<(usize, bool)> {
    loop {
        let start = node.range().start;
        node = match node.shape() {
            NodeShape::Mapping | NodeShape::Sequence
                if matches!(&*node.source_text(start..start + 1), "[" | "{") =>
            {
                // The trees disagree on where a flow collection ends (at its closing bracket, or
                // at its last child): read the text.
                return Some((flow_end(&node, start)?, false));
            }
            NodeShape::Mapping => {
                let pair = node.pairs().pop()?;
                match pair.value {
                    Some(value) if value.shape() != NodeShape::Empty => value,
                    _ => return Some((pair.key?.range().end, true)),
                }
            }
            NodeShape::Sequence => node.items().pop()??,
            _ if matches!(
                node.style(),
                Some(ScalarStyle::Literal | ScalarStyle::Folded)
            ) =>
            {
                let header = rest_of_line(&node, start);
                let indicators = header.split([' ', '\t', '#', '\r', '\n']).next()?;
                if indicators.contains('+') {
                    return None;
                }
                // Its last line with content: the trees disagree on whether the blank lines
                // after it are part of the scalar (they are dropped from its value).
                let text = node.source_text(start..node.range().end);
                let content = text.trim_end_matches([' ', '\t', '\r', '\n']);
                return Some((start + content.len(), false));
            }
            _ => return Some((node.range().end, false)),
        };
    }
}

/// Where the flow collection whose opening bracket is at `start` ends (past its closing one).
fn flow_end<N: YamlNode>(node: &N, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut offset = start;
    loop {
        let line = rest_of_line(node, offset);
        if line.is_empty() {
            return None;
        }
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (Some('\''), '\'') if chars.peek().is_some_and(|(_, n)| *n == '\'') => {
                    chars.next();
                }
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                // A quote opens a scalar only where one starts (`it's` is plain).
                (None, '\'' | '"') if previous.is_whitespace() || "[{,:".contains(previous) => {
                    quote = Some(c);
                }
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(offset + i + 1);
                    }
                }
                (None, '#') if previous.is_whitespace() => break,
                (None, _) => {}
            }
            previous = c;
        }
        previous = '\n';
        offset += line.len();
    }
}

/// How many bytes to read at once; near the end of the text and at multi-byte characters, one
/// character is read at a time.
const CHUNK: usize = 64;

/// The character at `offset` (empty at the end of the text).
fn char_at<'n, N: YamlNode>(node: &'n N, offset: usize) -> Cow<'n, str> {
    (1..=4)
        .map(|len| node.source_text(offset..offset + len))
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

/// The character before `offset` (empty at the start of the text).
fn char_before<'n, N: YamlNode>(node: &'n N, offset: usize) -> Cow<'n, str> {
    (1..=4.min(offset))
        .map(|len| node.source_text(offset - len..offset))
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

/// The text from `offset` through the next line break, or to the end of the text.
fn rest_of_line<N: YamlNode>(node: &N, mut offset: usize) -> String {
    let mut out = String::new();
    loop {
        let chunk = node.source_text(offset..offset + CHUNK);
        let piece = if chunk.len() == CHUNK {
            chunk
        } else {
            char_at(node, offset)
        };
        if piece.is_empty() {
            return out;
        }
        if let Some(i) = piece.find('\n') {
            out.push_str(&piece[..=i]);
            return out;
        }
        offset += piece.len();
        out.push_str(&piece);
    }
}

/// Where the line holding `offset` starts, and its text up to `offset`.
fn line_before<N: YamlNode>(node: &N, mut offset: usize) -> (usize, String) {
    let mut pieces = Vec::new();
    while offset > 0 {
        let chunk = match offset.checked_sub(CHUNK) {
            Some(from) => node.source_text(from..offset),
            None => Cow::Borrowed(""),
        };
        let piece = if chunk.len() == CHUNK {
            chunk
        } else {
            char_before(node, offset)
        };
        if piece.is_empty() {
            break;
        }
        if let Some(i) = piece.rfind('\n') {
            let tail = piece[i + 1..].to_string();
            offset -= tail.len();
            pieces.push(tail);
            break;
        }
        offset -= piece.len();
        pieces.push(piece.into_owned());
    }
    pieces.reverse();
    (offset, pieces.concat())
}

/// The schema of field `name` of an object of `schema`.
fn child<'a>(schema: SchemaNode<'a>, name: &str) -> Option<SchemaNode<'a>> {
    schema
        .property(name)
        .or_else(|| schema.additional().flatten())
}

/// A placeholder value: on the key's line, or on lines of its own below it.
enum Placeholder {
    Inline(String),
    Lines(Vec<String>),
}

/// The lines of `name: placeholder` with the key at column `indent`.
fn field_lines(
    out: &mut Vec<String>,
    name: &str,
    schema: Option<SchemaNode<'_>>,
    indent: usize,
    depth: usize,
) {
    let key = yaml_scalar(&Value::String(name.to_string()));
    let pad = " ".repeat(indent);
    let placeholder = match schema {
        Some(schema) => placeholder(schema, indent, depth),
        None => Placeholder::Inline("\"\"".to_string()),
    };
    match placeholder {
        Placeholder::Inline(value) => out.push(format!("{pad}{key}: {value}")),
        Placeholder::Lines(lines) => {
            out.push(format!("{pad}{key}:"));
            out.extend(lines);
        }
    }
}

/// The placeholder of a value of `schema` whose key is at column `indent`.
fn placeholder(schema: SchemaNode<'_>, indent: usize, depth: usize) -> Placeholder {
    // An object's required fields come before its default, which is mostly `{}` (Kubernetes'
    // schemas give one to most fields of a struct type).
    let nested = match schema.kind() {
        ValueKind::Object => object_lines(schema, indent + STEP, depth + 1),
        ValueKind::Array => {
            // One item, its `- ` at the key's column (as kubectl writes lists).
            let item = schema.items().filter(|i| i.kind() == ValueKind::Object);
            item.and_then(|item| object_lines(item, indent + STEP, depth + 1))
                .map(|mut lines| {
                    lines[0].replace_range(indent..indent + STEP, "- ");
                    lines
                })
        }
        _ => None,
    };
    if let Some(lines) = nested {
        return Placeholder::Lines(lines);
    }
    let value = schema
        .default()
        .or_else(|| schema.enum_values().and_then(<[Value]>::first));
    if let Some(value) = value {
        return Placeholder::Inline(scalar(value));
    }
    let inline = match schema.kind() {
        ValueKind::String if schema.format() == Some("date-time") => "\"1970-01-01T00:00:00Z\"",
        ValueKind::String => "\"\"",
        ValueKind::Quantity => "\"0\"",
        ValueKind::Integer | ValueKind::Number | ValueKind::IntOrString => "0",
        ValueKind::Boolean => "false",
        ValueKind::Any | ValueKind::Object => "{}",
        ValueKind::Array => "[]",
    };
    Placeholder::Inline(inline.to_string())
}

/// The lines of an object's required fields, its keys at column `indent`; `None` when it has none
/// or nesting is deep enough.
fn object_lines(schema: SchemaNode<'_>, indent: usize, depth: usize) -> Option<Vec<String>> {
    let fields = required_fields(schema);
    if fields.is_empty() || depth > NEST_DEPTH {
        return None;
    }
    let mut lines = Vec::new();
    for field in fields {
        field_lines(&mut lines, field, child(schema, field), indent, depth);
    }
    Some(lines)
}

/// A schema's default or enum value as YAML, on one line.
fn scalar(value: &Value) -> String {
    let text = yaml_scalar(value);
    if text.contains(['\n', '\r']) {
        serde_json::to_string(value).unwrap_or_default()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use ropey::Rope;

    use crate::schema::Catalog;
    use crate::diagnostic::{Diagnostic, Fix, codes};
    use crate::schema::validate::{validate_document, validate_spans};
    use crate::yaml::lint;
    use crate::yaml::syntax::{self, RopeSource};

    /// The missing-field diagnostics of `text`, identical on the span tree and on tree-sitter's
    /// tree read from a `&str` and from a rope.
    fn required(text: &str) -> Vec<Diagnostic> {
        let catalog = Catalog::builtin();
        let rope = Rope::from_str(text);
        let tree = syntax::parse(&rope, 0..text.len(), None);
        let found = validate_document(&catalog, &tree, text);
        let on_rope = validate_document(&catalog, &tree, &RopeSource::new(&rope, 0..text.len()));
        assert_eq!(found, on_rope, "str vs rope source on:\n{text}");
        let spans = lint::check(text).tree.expect("the text parses");
        let on_spans = validate_spans(&catalog, &spans).diagnostics;
        assert_eq!(found, on_spans, "span tree vs tree-sitter on:\n{text}");
        found
            .into_iter()
            .filter(|d| d.code == codes::REQUIRED)
            .collect()
    }

    /// The fix `text`'s missing fields offer (every one of them the same), if any.
    fn the_fix(text: &str) -> Option<Fix> {
        let found = required(text);
        assert!(!found.is_empty(), "nothing missing in:\n{text}");
        let fix = found[0].fix.as_deref().cloned();
        for d in &found {
            assert_eq!(
                d.fix.as_deref(),
                fix.as_ref(),
                "one fix for all of {found:?}"
            );
        }
        fix
    }

    /// The title of the fix and the text after it, checked to be clean YAML with no field missing.
    fn fixed(text: &str) -> (String, String) {
        let fix = the_fix(text).unwrap_or_else(|| panic!("no fix for:\n{text}"));
        let mut out = text.to_string();
        let mut edits = fix.edits.clone();
        edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
        for (range, new_text) in edits {
            out.replace_range(range, &new_text);
        }
        assert_eq!(lint::check(&out).diagnostics, [], "YAML errors in:\n{out}");
        let still: Vec<String> = required(&out).into_iter().map(|d| d.message).collect();
        assert!(still.is_empty(), "{still:?} in:\n{out}");
        (fix.title, out)
    }

    const DEPLOYMENT: &str =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n";

    #[test]
    fn a_deployment_gets_its_selector_and_template() {
        let (title, out) = fixed(DEPLOYMENT);
        assert_eq!(title, "Add missing required fields `selector`, `template`");
        assert_eq!(
            out,
            format!("{DEPLOYMENT}  selector: {{}}\n  template: {{}}\n")
        );
        // Both diagnostics carry that one fix.
        assert_eq!(required(DEPLOYMENT).len(), 2);
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n";

    #[test]
    fn a_container_gets_its_name_and_image_at_its_keys_column() {
        let text = format!(
            "{POD}  containers:\n  - ports:\n    - containerPort: 80\n  restartPolicy: Always\n"
        );
        let (title, out) = fixed(&text);
        assert_eq!(title, "Add missing required fields `name`, `image`");
        assert_eq!(
            out,
            text.replace("80\n", "80\n    name: \"\"\n    image: \"\"\n")
        );
    }

    #[test]
    fn the_image_the_apiserver_requires_is_added_too() {
        let text = format!("{POD}  containers:\n    - name: web\n");
        let (title, out) = fixed(&text);
        assert_eq!(title, "Add missing required field `image`");
        assert_eq!(out, format!("{text}      image: \"\"\n"));
    }

    #[test]
    fn required_objects_and_lists_are_spelled_out() {
        let (title, out) = fixed(&format!("{POD}  restartPolicy: Always\n"));
        assert_eq!(title, "Add missing required field `containers`");
        assert_eq!(
            out,
            format!(
                "{POD}  restartPolicy: Always\n  containers:\n  - name: \"\"\n    image: \"\"\n"
            )
        );
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\nspec:\n  minReplicas: 1\n";
        let (_, out) = fixed(hpa);
        assert_eq!(
            out,
            format!("{hpa}  scaleTargetRef:\n    kind: \"\"\n    name: \"\"\n  maxReplicas: 0\n")
        );
    }

    #[test]
    fn int_or_string_ports_get_a_number() {
        let text = format!(
            "{POD}  containers:\n  - name: web\n    image: nginx\n    livenessProbe:\n      httpGet:\n        path: /healthz\n"
        );
        let (title, out) = fixed(&text);
        assert_eq!(title, "Add missing required field `port`");
        assert_eq!(out, format!("{text}        port: 0\n"));
    }

    #[test]
    fn the_root_object_gets_fields_at_column_zero() {
        let text = "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: csr\n";
        let found = required(text);
        assert_eq!(
            found
                .iter()
                .map(|d| &text[d.range.clone()])
                .collect::<Vec<_>>(),
            ["CertificateSigningRequest"],
            "anchored on the kind"
        );
        let (title, out) = fixed(text);
        assert_eq!(title, "Add missing required field `spec`");
        assert_eq!(
            out,
            format!("{text}spec:\n  request: \"\"\n  signerName: \"\"\n")
        );
    }

    #[test]
    fn crlf_documents_stay_crlf() {
        let text = format!("{POD}  containers:\n  - name: web\n").replace('\n', "\r\n");
        let (_, out) = fixed(&text);
        assert_eq!(out, format!("{text}    image: \"\"\r\n"));
        // Without a final line break, the previous line's break is used.
        let text = text.trim_end_matches("\r\n");
        let (_, out) = fixed(text);
        assert_eq!(out, format!("{text}\r\n    image: \"\""));
    }

    #[test]
    fn a_text_without_final_line_break_gets_one_before_the_fields() {
        let text = format!("{POD}  containers:\n  - name: web");
        let (_, out) = fixed(&text);
        assert_eq!(out, format!("{text}\n    image: \"\""));
    }

    #[test]
    fn comments_and_the_rest_of_the_document_stay_in_place() {
        let text = format!(
            "{POD}  containers:\n  - name: web # café ☕\n    # more\n  restartPolicy: Always\n"
        );
        let (_, out) = fixed(&text);
        assert_eq!(out, text.replace("☕\n", "☕\n    image: \"\"\n"));
    }

    #[test]
    fn the_last_value_may_be_a_block_a_block_scalar_or_nothing() {
        let block = format!(
            "{POD}  containers:\n  - name: web\n    command:\n    - sh\n    - -c\n    - |\n      echo hi\n\n  restartPolicy: Always\n"
        );
        let (_, out) = fixed(&block);
        assert_eq!(
            out,
            block.replace("echo hi\n", "echo hi\n    image: \"\"\n"),
            "after the scalar's last line, before the blank line"
        );
        let kept = block.replace("- |", "- |+");
        assert_eq!(the_fix(&kept), None, "the blank line is the scalar's");
        let empty = format!("{POD}  containers:\n  - name: web\n    ports:\n");
        let (_, out) = fixed(&empty);
        assert_eq!(out, format!("{empty}    image: \"\"\n"));
        let crlf_scalar =
            format!("{POD}  containers:\n  - name: web\n    workingDir: |\n      /srv\n")
                .replace('\n', "\r\n");
        let (_, out) = fixed(&crlf_scalar);
        assert_eq!(out, format!("{crlf_scalar}    image: \"\"\r\n"));
    }

    #[test]
    fn the_last_value_may_be_a_flow_collection() {
        for value in [
            "{}",
            "[]",
            "[\"a\", b]",
            "{limits: {cpu: 1}} # flow",
            "[\n      \"x]\", # ] in a comment\n      'it''s ]', it's,\n      {a: [b]}\n    ]",
        ] {
            let key = if value.starts_with('{') {
                "resources"
            } else {
                "args"
            };
            let text = format!("{POD}  containers:\n  - name: web\n    {key}: {value}\n");
            let (_, out) = fixed(&text);
            assert_eq!(out, format!("{text}    image: \"\"\n"), "{value}");
        }
    }

    #[test]
    fn a_key_with_properties_sets_the_column() {
        let text = format!("{POD}  containers:\n  - &web name: web\n");
        let (_, out) = fixed(&text);
        assert_eq!(out, format!("{text}    image: \"\"\n"));
    }

    #[test]
    fn flow_mappings_and_unusual_layouts_get_no_fix() {
        for text in [
            format!("{POD}  containers:\n  - {{name: web}}\n"),
            format!("{POD}  containers:\n  - {{\n    name: web\n    }}\n"),
            format!("{POD}  containers:\n  - ? name\n    : web\n"),
        ] {
            assert_eq!(the_fix(&text), None, "{text}");
        }
    }

    #[test]
    fn empty_values_with_properties_end_the_mapping_on_their_line() {
        for value in ["!!null", "&ports", "!!null # none"] {
            let text = format!("{POD}  containers:\n  - name: web\n    ports: {value}\n");
            let (_, out) = fixed(&text);
            assert_eq!(out, format!("{text}    image: \"\"\n"));
        }
    }

    #[test]
    fn placeholders_follow_defaults_enums_and_stop_at_the_nesting_bound() {
        let json = br##"{"components": {"schemas": {
            "Node": {"type": "object", "required": ["mode", "size", "on", "next"], "properties": {
                "mode": {"type": "string", "enum": ["Fast", "Slow"]},
                "size": {"type": "integer", "default": 3},
                "on": {"type": "boolean"},
                "next": {"$ref": "#/components/schemas/Node"}
            }}
        }}}"##;
        let gv = crate::schema::GroupVersionSchemas::parse(json, "", "v1").unwrap();
        let node = gv.node(gv.by_name("Node").unwrap());
        let mut lines = Vec::new();
        super::field_lines(&mut lines, "next", Some(node), 0, 0);
        let level = |indent: usize| {
            let pad = " ".repeat(indent);
            format!("{pad}mode: Fast\n{pad}size: 3\n{pad}\"on\": false\n")
        };
        assert_eq!(
            lines.join("\n") + "\n",
            format!(
                "next:\n{}  next:\n{}    next:\n{}      next: {{}}\n",
                level(2),
                level(4),
                level(6)
            )
        );
    }

    /// Every fix the corpus gets applies cleanly: the text stays valid YAML, the fields are no
    /// longer missing there, and no other schema error appears.
    #[test]
    fn fixes_on_the_corpus_leave_no_field_missing() {
        let catalog = Catalog::builtin();
        let mut applied = 0;
        for (at, text) in crate::yaml::split::corpus_documents() {
            let rope = Rope::from_str(&text);
            let tree = syntax::parse(&rope, 0..text.len(), None);
            let before = validate_document(&catalog, &tree, text.as_str());
            let mut fixes: Vec<&Fix> = Vec::new();
            for fix in before.iter().filter_map(|d| d.fix.as_deref()) {
                if fix.title.starts_with("Add missing") && !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
            for fix in fixes {
                let mut out = text.clone();
                for (range, new_text) in fix.edits.iter().rev() {
                    out.replace_range(range.clone(), new_text);
                }
                assert_eq!(
                    lint::check(&out).diagnostics,
                    [],
                    "{at}: {}\n{out}",
                    fix.title
                );
                let rope = Rope::from_str(&out);
                let tree = syntax::parse(&rope, 0..out.len(), None);
                let after = validate_document(&catalog, &tree, out.as_str());
                let count =
                    |found: &[Diagnostic], code| found.iter().filter(|d| d.code == code).count();
                for code in [
                    codes::TYPE,
                    codes::ENUM,
                    codes::FORMAT,
                    codes::UNKNOWN_FIELD,
                ] {
                    assert!(
                        count(&after, code) <= count(&before, code),
                        "{at}: {code} after {}\n{out}",
                        fix.title
                    );
                }
                assert!(
                    count(&after, codes::REQUIRED) < count(&before, codes::REQUIRED),
                    "{at}: {}\n{out}",
                    fix.title
                );
                applied += 1;
            }
        }
        assert!(applied > 0, "the corpus has missing fields");
    }
}
