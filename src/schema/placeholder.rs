//! A schema's required fields written as YAML lines with placeholder values: what the quick fix
//! for missing fields inserts ([`Fill::Values`]) and what completion's skeletons offer
//! ([`Fill::TabStops`]). One writer, so both spell out required objects and lists alike.

use serde_json::Value;

use super::openapi::{SchemaNode, ValueKind};
use super::validate::required::required_fields;
use crate::yaml::scalar;

/// Columns a nested field is indented by, relative to its parent's key.
const STEP: usize = 2;

/// How many levels of objects and lists below a field [`Fill::Values`] spells out.
const VALUES_DEPTH: usize = 3;

/// How many levels of objects and lists below a field [`Fill::TabStops`] spells out.
const TAB_STOPS_DEPTH: usize = 8;

/// How the values are filled in. The two callers have always differed in a few details of the
/// layout too; each variant keeps its caller's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// Values the apiserver accepts as they are (the quick fix that adds missing fields): the
    /// field's default, else its first enum value, else a value of its type that says "fill me
    /// in":
    /// - strings `""` (the epoch for a `date-time`, which must parse), quantities `"0"`;
    /// - integers and numbers `0`, booleans `false`;
    /// - int-or-string `0`: the required ones in Kubernetes' own APIs are ports (probes'
    ///   `httpGet` and `tcpSocket`), and a quoted number there would be a port *name*;
    /// - objects with required fields spell those out on the following lines, lists of such
    ///   objects get one `- ` item at the key's column (as kubectl writes lists), other objects
    ///   `{}`, other lists `[]`;
    /// - values of unknown type `{}`.
    ///
    /// An object's fields are those validation requires ([`required_fields`]: a container's
    /// `image` too), in the order of the schema's `required`; [`VALUES_DEPTH`] levels are
    /// spelled out.
    Values,
    /// Snippet tab stops (completion's skeletons): `$n` where a value goes, `${n:value}` on the
    /// first enum value; an object with nothing required, and a list whose items have nothing
    /// required, get their tab stop on the line below (`  $n`, `  - $n`).
    ///
    /// An object's fields are those its schema marks required, in property order; a list
    /// item's `- ` is indented under its key; [`TAB_STOPS_DEPTH`] levels are spelled out.
    TabStops,
}

/// Writes fields with placeholders (see [`Fill`]), numbering tab stops across calls.
pub struct Writer {
    fill: Fill,
    /// The last tab stop written.
    stops: usize,
}

/// A placeholder value: on the key's line, or on lines of its own below it.
enum Placeholder {
    Inline(String),
    Lines(Vec<String>),
}

impl Writer {
    /// A writer of values to keep ([`Fill::Values`]).
    pub fn values() -> Self {
        Writer {
            fill: Fill::Values,
            stops: 0,
        }
    }

    /// A writer of tab stops ([`Fill::TabStops`]), the first numbered `first`.
    pub fn tab_stops(first: usize) -> Self {
        Writer {
            fill: Fill::TabStops,
            stops: first.saturating_sub(1),
        }
    }

    /// The lines of the fields `names` of an object of `schema`, their keys at column `indent`.
    pub fn fields(&mut self, schema: SchemaNode<'_>, names: &[&str], indent: usize) -> Vec<String> {
        let mut lines = Vec::new();
        for &name in names {
            self.field(&mut lines, name, child(schema, name), indent);
        }
        lines
    }

    /// Appends the lines of `name: placeholder` (`schema` is the field's, `None` when unknown),
    /// its key at column `indent`.
    pub fn field(
        &mut self,
        out: &mut Vec<String>,
        name: &str,
        schema: Option<SchemaNode<'_>>,
        indent: usize,
    ) {
        self.field_at(out, name, schema, indent, 0);
    }

    fn field_at(
        &mut self,
        out: &mut Vec<String>,
        name: &str,
        schema: Option<SchemaNode<'_>>,
        indent: usize,
        depth: usize,
    ) {
        let key = match self.fill {
            Fill::Values => scalar::from_json(&Value::String(name.to_string())),
            Fill::TabStops => escape_snippet(name),
        };
        let pad = " ".repeat(indent);
        match self.placeholder(schema, indent, depth) {
            Placeholder::Inline(value) => out.push(format!("{pad}{key}: {value}")),
            Placeholder::Lines(lines) => {
                out.push(format!("{pad}{key}:"));
                out.extend(lines);
            }
        }
    }

    /// The placeholder of a value of `schema` whose key is at column `indent`, `depth` levels
    /// below the field written first.
    fn placeholder(
        &mut self,
        schema: Option<SchemaNode<'_>>,
        indent: usize,
        depth: usize,
    ) -> Placeholder {
        let Some(schema) = schema else {
            return Placeholder::Inline("\"\"".to_string());
        };
        let max_depth = match self.fill {
            Fill::Values => VALUES_DEPTH,
            Fill::TabStops => TAB_STOPS_DEPTH,
        };
        let spelled_out = depth < max_depth;
        // An object's required fields come before its default, which is mostly `{}`
        // (Kubernetes' schemas give one to most fields of a struct type).
        let nested = match schema.kind() {
            ValueKind::Object if spelled_out => self.object_lines(schema, indent + STEP, depth + 1),
            ValueKind::Array if spelled_out => {
                let (dash, item) = match self.fill {
                    Fill::Values => (
                        indent,
                        schema.items().filter(|i| i.kind() == ValueKind::Object),
                    ),
                    Fill::TabStops => (indent + STEP, schema.items()),
                };
                // One item, its `- ` in place of its first key's indentation.
                item.and_then(|item| self.object_lines(item, dash + STEP, depth + 1))
                    .map(|mut lines| {
                        lines[0].replace_range(dash..dash + STEP, "- ");
                        lines
                    })
            }
            _ => None,
        };
        if let Some(lines) = nested {
            return Placeholder::Lines(lines);
        }
        match self.fill {
            Fill::Values => Placeholder::Inline(value(schema)),
            Fill::TabStops => {
                let below = " ".repeat(indent + STEP);
                match schema.kind() {
                    ValueKind::Array if spelled_out => {
                        Placeholder::Lines(vec![format!("{below}- {}", self.stop(None))])
                    }
                    ValueKind::Object => {
                        Placeholder::Lines(vec![format!("{below}{}", self.stop(None))])
                    }
                    _ => {
                        let first = schema.enum_values().and_then(<[Value]>::first);
                        Placeholder::Inline(self.stop(first))
                    }
                }
            }
        }
    }

    /// The lines of an object's required fields, its keys at column `indent`; `None` when it
    /// has none.
    fn object_lines(
        &mut self,
        schema: SchemaNode<'_>,
        indent: usize,
        depth: usize,
    ) -> Option<Vec<String>> {
        let fields: Vec<(&str, Option<SchemaNode<'_>>)> = match self.fill {
            Fill::Values => required_fields(schema)
                .into_iter()
                .map(|name| (name, child(schema, name)))
                .collect(),
            Fill::TabStops => schema
                .properties()
                .filter(|(name, _)| schema.required().iter().any(|r| &**r == *name))
                .map(|(name, property)| (name, Some(property)))
                .collect(),
        };
        if fields.is_empty() {
            return None;
        }
        let mut lines = Vec::new();
        for (name, schema) in fields {
            self.field_at(&mut lines, name, schema, indent, depth);
        }
        Some(lines)
    }

    /// The next tab stop, with `value` as its placeholder text.
    fn stop(&mut self, value: Option<&Value>) -> String {
        self.stops += 1;
        let stop = self.stops;
        match value {
            Some(value) => format!("${{{stop}:{}}}", escape_snippet(&scalar::from_json(value))),
            None => format!("${stop}"),
        }
    }
}

/// The schema of field `name` of an object of `schema`.
fn child<'a>(schema: SchemaNode<'a>, name: &str) -> Option<SchemaNode<'a>> {
    schema
        .property(name)
        .or_else(|| schema.additional().flatten())
}

/// The value [`Fill::Values`] writes for a field with nothing below it to spell out.
fn value(schema: SchemaNode<'_>) -> String {
    let given = schema
        .default()
        .or_else(|| schema.enum_values().and_then(<[Value]>::first));
    if let Some(value) = given {
        return scalar::from_json(value);
    }
    let value = match schema.kind() {
        ValueKind::String if schema.format() == Some("date-time") => "\"1970-01-01T00:00:00Z\"",
        ValueKind::String => "\"\"",
        ValueKind::Quantity => "\"0\"",
        ValueKind::Integer | ValueKind::Number | ValueKind::IntOrString => "0",
        ValueKind::Boolean => "false",
        ValueKind::Any | ValueKind::Object => "{}",
        ValueKind::Array => "[]",
    };
    value.to_string()
}

/// Escapes text for snippet syntax (`$`, `}` and `\` are special).
pub fn escape_snippet(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('$', "\\$")
        .replace('}', "\\}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::GroupVersionSchemas;

    const NODE: &[u8] = br##"{"components": {"schemas": {
        "Node": {"type": "object", "required": ["mode", "size", "on", "next"], "properties": {
            "mode": {"type": "string", "enum": ["Fast", "Slow"]},
            "size": {"type": "integer", "default": 3},
            "on": {"type": "boolean"},
            "next": {"$ref": "#/components/schemas/Node"}
        }}
    }}}"##;

    #[test]
    fn placeholders_follow_defaults_enums_and_stop_at_the_nesting_bound() {
        let gv = GroupVersionSchemas::parse(NODE, "", "v1").unwrap();
        let node = gv.node(gv.by_name("Node").unwrap());
        let mut lines = Vec::new();
        Writer::values().field(&mut lines, "next", Some(node), 0);
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

    #[test]
    fn tab_stops_number_on_across_fields() {
        let gv = GroupVersionSchemas::parse(NODE, "", "v1").unwrap();
        let node = gv.node(gv.by_name("Node").unwrap());
        let mut writer = Writer::tab_stops(2);
        let lines = writer.fields(node, &["mode", "size"], 2);
        assert_eq!(lines, ["  mode: ${2:Fast}", "  size: $3"]);
    }
}
