//! The JSON value kubectl would send for one YAML document.
//!
//! kubectl converts manifests with `sigs.k8s.io/yaml.YAMLToJSON`: go-yaml v2
//! decodes the document into `interface{}` (YAML 1.1 scalars, anchors, merge
//! keys), `convertToJSONableObject` turns mapping keys into strings, and
//! `encoding/json` prints the result. [`document_to_json`] reproduces that value
//! from saphyr-parser events, without recursion and within [`Limits`].

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScanError, Span, Tag};
use serde_json::{Map, Value};

use super::scalar::{self, Resolved, ScalarStyle};

mod escapes;
pub mod number;

use escapes::EscapeShim;
use number::json_number_from_float;

/// Bounds that keep hostile documents cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Deepest allowed nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most JSON nodes the document may produce, alias copies included.
    pub max_nodes: usize,
    /// Whether plain `yes`, `no`, `on`, `off`, `y` and `n` (any case YAML 1.1 allows) stay
    /// strings, as YAML 1.2 reads them: for other YAML than Kubernetes objects (a GitHub
    /// workflow's `on:` key), checked against a JSON schema.
    pub yaml_1_2_booleans: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 512,
            max_nodes: 1_000_000,
            yaml_1_2_booleans: false,
        }
    }
}

/// Why a document has no JSON value, and where (byte range into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub message: String,
    pub range: Range<usize>,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// Converts ONE YAML document to the JSON value kubectl would produce.
///
/// Returns `Ok(None)` for a document without content (empty, comments only,
/// or a bare `---`). Only the first document of `text` is read, as go-yaml's
/// `Unmarshal` does.
pub fn document_to_json(text: &str, limits: &Limits) -> Result<Option<Value>, ValueError> {
    let mut shim = EscapeShim::default();
    loop {
        match convert_once(text, &shim, limits) {
            Err(Failure::QuotedSingleQuoteEscape(error)) => {
                if !shim.substitute_in_scalar_at(text, error.range.start) {
                    return Err(error);
                }
            }
            Err(Failure::Invalid(error)) => return Err(error),
            Ok(value) => return Ok(value),
        }
    }
}

enum Failure {
    Invalid(ValueError),
    /// saphyr rejected an escape in a double-quoted scalar that may be libyaml's `\'`.
    QuotedSingleQuoteEscape(ValueError),
}

fn convert_once(text: &str, shim: &EscapeShim, limits: &Limits) -> Result<Option<Value>, Failure> {
    let shimmed = shim.apply(text);
    let mut builder = Builder::new(text, limits, shim);
    let mut parser = Parser::new_from_str(&shimmed);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| builder.syntax_failure(&error))?;
        if builder.handle(event, span).map_err(Failure::Invalid)? == Flow::Done {
            break;
        }
    }
    builder.finish().map_err(Failure::Invalid)
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    More,
    Done,
}

/// A completed node, before it is placed into its parent.
struct Built {
    content: Content,
    /// JSON nodes this value holds (for `max_nodes`).
    nodes: usize,
    /// go-yaml decode operations it costs (for its excessive-aliasing check).
    decodes: usize,
    from_alias: bool,
    /// A plain `<<` (or `!!merge`) key: merges rather than sets.
    merge_key: bool,
    /// The untagged, unanchored empty plain scalar: "no content".
    empty: bool,
    start: usize,
}

/// Scalars stay resolved (not JSON) until placed: as a key, a float is
/// formatted differently, and NaN is fine as a key but not as a value.
#[derive(Clone)]
enum Content {
    Scalar { resolved: Resolved, text: String },
    Json(Value),
}

#[derive(Clone)]
struct Anchored {
    content: Content,
    nodes: usize,
    decodes: usize,
}

struct Frame {
    collection: Collection,
    anchor: usize,
    nodes: usize,
    decodes: usize,
    start: usize,
}

enum Collection {
    Sequence(Vec<Value>),
    Mapping {
        entries: Map<String, Value>,
        pending: Option<PendingKey>,
    },
}

enum PendingKey {
    Key(String),
    Merge { start: usize },
}

struct Builder<'t> {
    text: &'t str,
    text_is_ascii: bool,
    limits: &'t Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    open_anchors: HashSet<usize>,
    root: Option<Built>,
    started: bool,
    nodes_produced: usize,
    alias_budget: AliasBudget,
    shim: &'t EscapeShim,
    /// Byte offset of each character, for non-ASCII text (saphyr counts characters).
    char_offsets: Vec<usize>,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, limits: &'t Limits, shim: &'t EscapeShim) -> Self {
        let text_is_ascii = text.is_ascii();
        let char_offsets = if text_is_ascii {
            Vec::new()
        } else {
            text.char_indices().map(|(byte, _)| byte).collect()
        };
        Builder {
            text,
            text_is_ascii,
            shim,
            char_offsets,
            limits,
            stack: Vec::new(),
            anchors: HashMap::new(),
            open_anchors: HashSet::new(),
            root: None,
            started: false,
            nodes_produced: 0,
            alias_budget: AliasBudget::default(),
        }
    }

    fn handle(&mut self, event: Event<'_>, span: Span) -> Result<Flow, ValueError> {
        let start = self.byte_offset(span.start.index());
        match event {
            Event::StreamStart | Event::Nothing => {}
            Event::DocumentStart(_) => {
                self.started = true;
                // go-yaml counts the document node as one decode.
                self.alias_budget.decode(1, false);
            }
            Event::DocumentEnd | Event::StreamEnd => return Ok(Flow::Done),
            Event::Scalar(text, style, anchor, tag) => {
                let range = start..self.byte_offset(span.end.index()).max(start + 1);
                let text = if style == saphyr_parser::ScalarStyle::DoubleQuoted {
                    self.shim
                        .check_double_quoted(self.text, text, &range)
                        .map_err(|(message, at)| self.error(message, at))?
                } else {
                    text
                };
                let built = self.scalar(&text, style, anchor, tag.as_deref(), range)?;
                self.attach(built)?;
            }
            Event::Alias(anchor) => {
                let built = self.alias(anchor, span)?;
                self.attach(built)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.open(Collection::Sequence(Vec::new()), anchor, start)?
            }
            Event::MappingStart(anchor, _) => {
                let mapping = Collection::Mapping {
                    entries: Map::new(),
                    pending: None,
                };
                self.open(mapping, anchor, start)?
            }
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
        }
        Ok(Flow::More)
    }

    fn finish(mut self) -> Result<Option<Value>, ValueError> {
        if !self.started {
            return Ok(None);
        }
        let Some(root) = self.root.take() else {
            // The parser stopped mid-document; it reports such input as an error,
            // so this is only reached for an empty stream.
            return Ok(None);
        };
        if root.empty {
            return Ok(None);
        }
        self.to_json(root.content, root.start).map(Some)
    }

    fn scalar(
        &mut self,
        text: &str,
        style: saphyr_parser::ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        range: Range<usize>,
    ) -> Result<Built, ValueError> {
        let start = range.start;
        let style = ScalarStyle::from(style);
        let long_tag = tag.map(|tag| scalar::long_tag(&tag.handle, &tag.suffix));
        let resolved = if self.limits.yaml_1_2_booleans
            && long_tag.is_none()
            && style == ScalarStyle::Plain
            && scalar::is_yaml_1_1_boolean(text)
        {
            scalar::Resolved::String(text.to_owned())
        } else {
            scalar::resolve_scalar(text, style, long_tag.as_deref())
                .map_err(|error| self.error(error.message, range.clone()))?
        };
        let is_merge_key = text == "<<"
            && (long_tag.is_none() && style == ScalarStyle::Plain
                || long_tag.as_deref().is_some_and(scalar::is_merge_tag));
        let empty = text.is_empty() && style == ScalarStyle::Plain && tag.is_none() && anchor == 0;
        let content = Content::Scalar {
            resolved,
            text: text.to_owned(),
        };
        self.produce(1, start)?;
        self.alias_budget.decode(1, false);
        self.check_alias_budget(start)?;
        let built = Built {
            content,
            nodes: 1,
            decodes: 1,
            from_alias: false,
            merge_key: is_merge_key,
            empty,
            start,
        };
        self.remember(anchor, &built);
        Ok(built)
    }

    fn alias(&mut self, anchor: usize, span: Span) -> Result<Built, ValueError> {
        let start = self.byte_offset(span.start.index());
        let end = self.byte_offset(span.end.index()).max(start);
        let Some(anchored) = self.anchors.get(&anchor) else {
            let name = self.alias_name(start);
            let message = if self.open_anchors.contains(&anchor) {
                format!("anchor '{name}' value contains itself (alias *{name} is inside it)")
            } else {
                format!("alias *{name} is not defined")
            };
            return Err(self.error(message, start..end));
        };
        let (nodes, decodes) = (anchored.nodes, anchored.decodes);
        // Check the budget before copying, so an alias bomb never allocates.
        self.produce(nodes, start)?;
        self.alias_budget.decode(1, false);
        self.alias_budget.decode(decodes, true);
        self.check_alias_budget(start)?;
        let content = self.anchors.get(&anchor).map(|a| a.content.clone());
        let content = content.ok_or_else(|| self.error("internal: anchor vanished", start..end))?;
        Ok(Built {
            content,
            nodes,
            decodes: decodes + 1,
            from_alias: true,
            merge_key: false,
            empty: false,
            start,
        })
    }

    fn open(
        &mut self,
        collection: Collection,
        anchor: usize,
        start: usize,
    ) -> Result<(), ValueError> {
        if self.stack.len() >= self.limits.max_depth {
            let message = format!(
                "document nests deeper than {} levels",
                self.limits.max_depth
            );
            return Err(self.error(message, start..start + 1));
        }
        self.produce(1, start)?;
        self.alias_budget.decode(1, false);
        self.check_alias_budget(start)?;
        if anchor != 0 {
            self.open_anchors.insert(anchor);
        }
        self.stack.push(Frame {
            collection,
            anchor,
            nodes: 1,
            decodes: 1,
            start,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), ValueError> {
        let Some(frame) = self.stack.pop() else {
            return Err(self.error("internal: collection end without start", 0..0));
        };
        let value = match frame.collection {
            Collection::Sequence(items) => Value::Array(items),
            Collection::Mapping { entries, pending } => {
                if pending.is_some() {
                    return Err(self.error("mapping key without value", frame.start..frame.start));
                }
                Value::Object(entries)
            }
        };
        let built = Built {
            content: Content::Json(value),
            nodes: frame.nodes,
            decodes: frame.decodes,
            from_alias: false,
            merge_key: false,
            empty: false,
            start: frame.start,
        };
        if frame.anchor != 0 {
            self.open_anchors.remove(&frame.anchor);
        }
        self.remember(frame.anchor, &built);
        self.attach(built)
    }

    fn remember(&mut self, anchor: usize, built: &Built) {
        if anchor == 0 {
            return;
        }
        let anchored = Anchored {
            content: built.content.clone(),
            nodes: built.nodes,
            decodes: built.decodes,
        };
        self.anchors.insert(anchor, anchored);
    }

    /// Places a completed node into the collection being built (or as the root).
    fn attach(&mut self, built: Built) -> Result<(), ValueError> {
        let Some(depth) = self.stack.len().checked_sub(1) else {
            self.root = Some(built);
            return Ok(());
        };
        let (nodes, decodes, start) = (built.nodes, built.decodes, built.start);
        let placement = match &mut self.stack[depth].collection {
            Collection::Sequence(_) => Placement::Item,
            Collection::Mapping { pending, .. } => match pending.take() {
                None => Placement::Key,
                Some(PendingKey::Key(key)) => Placement::Value(key),
                Some(PendingKey::Merge { start }) => Placement::Merge(start),
            },
        };
        match placement {
            Placement::Item => {
                let value = self.to_json(built.content, start)?;
                if let Collection::Sequence(items) = &mut self.stack[depth].collection {
                    items.push(value);
                }
            }
            Placement::Key => {
                let pending = self.key(built)?;
                if let Collection::Mapping { pending: slot, .. } = &mut self.stack[depth].collection
                {
                    *slot = Some(pending);
                }
            }
            Placement::Value(key) => {
                let value = self.to_json(built.content, start)?;
                // go-yaml v2 (non-strict) keeps the last duplicate.
                if let Collection::Mapping { entries, .. } = &mut self.stack[depth].collection {
                    entries.insert(key, value);
                }
            }
            Placement::Merge(key_start) => {
                let merged = self.merge_sources(built, key_start)?;
                if let Collection::Mapping { entries, .. } = &mut self.stack[depth].collection {
                    // Applied in order: later sources and later keys overwrite.
                    for source in merged.into_iter().rev() {
                        entries.extend(source);
                    }
                }
            }
        }
        let frame = &mut self.stack[depth];
        frame.nodes += nodes;
        frame.decodes += decodes;
        Ok(())
    }

    /// A mapping key, converted as sigs.k8s.io/yaml's `convertToJSONableObject` does.
    fn key(&self, built: Built) -> Result<PendingKey, ValueError> {
        let range = built.start..built.start + 1;
        if built.merge_key {
            return Ok(PendingKey::Merge { start: built.start });
        }
        let (resolved, text) = match built.content {
            Content::Scalar { resolved, text } => (resolved, text),
            Content::Json(_) => {
                return Err(self.error(
                    "mapping key is a mapping or sequence, which JSON cannot represent",
                    range,
                ));
            }
        };
        let key = match resolved {
            Resolved::String(string) => string,
            Resolved::Int(int) => int.to_string(),
            Resolved::Float(float) => scalar::format_float_key(float),
            Resolved::Bool(boolean) => boolean.to_string(),
            Resolved::Null => {
                let message = "mapping key is null, which kubectl cannot convert to JSON";
                return Err(self.error(message, range));
            }
            Resolved::UInt(_) => {
                let message = format!(
                    "mapping key {text} is an integer above 2^63-1, which kubectl cannot convert to JSON"
                );
                return Err(self.error(message, range));
            }
        };
        Ok(PendingKey::Key(key))
    }

    /// The mappings a `<<` value merges, earliest (strongest) first.
    fn merge_sources(
        &self,
        built: Built,
        key_start: usize,
    ) -> Result<Vec<Map<String, Value>>, ValueError> {
        let wrong = || {
            self.error(
                "map merge requires map or sequence of maps as the value",
                key_start..built.start + 1,
            )
        };
        match built.content {
            Content::Json(Value::Object(entries)) => Ok(vec![entries]),
            Content::Json(Value::Array(items)) if !built.from_alias => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(entries) => Ok(entries),
                    _ => Err(wrong()),
                })
                .collect(),
            _ => Err(wrong()),
        }
    }

    /// A value's JSON: what `encoding/json` would print for go-yaml's value.
    fn to_json(&self, content: Content, start: usize) -> Result<Value, ValueError> {
        match content {
            Content::Json(value) => Ok(value),
            Content::Scalar { resolved, text } => {
                let value = match resolved {
                    Resolved::Null => Value::Null,
                    Resolved::Bool(boolean) => Value::Bool(boolean),
                    Resolved::Int(int) => Value::Number(int.into()),
                    Resolved::UInt(uint) => Value::Number(uint.into()),
                    Resolved::Float(float) => match json_number_from_float(float) {
                        Some(number) => Value::Number(number),
                        None => {
                            let message = format!(
                                "value {text} is {}, which JSON cannot represent (kubectl fails with \"json: unsupported value\")",
                                if float.is_nan() { "NaN" } else { "infinite" }
                            );
                            return Err(self.error(message, start..start + text.len().max(1)));
                        }
                    },
                    Resolved::String(string) => Value::String(string),
                };
                Ok(value)
            }
        }
    }

    fn produce(&mut self, nodes: usize, start: usize) -> Result<(), ValueError> {
        self.nodes_produced = self.nodes_produced.saturating_add(nodes);
        if self.nodes_produced > self.limits.max_nodes {
            let message = format!(
                "alias expansion exceeds {} nodes (possible alias bomb)",
                self.limits.max_nodes
            );
            return Err(self.error(message, start..start + 1));
        }
        Ok(())
    }

    fn check_alias_budget(&self, start: usize) -> Result<(), ValueError> {
        if self.alias_budget.is_excessive() {
            let message = "document contains excessive aliasing (go-yaml refuses it)";
            return Err(self.error(message, start..start + 1));
        }
        Ok(())
    }

    fn syntax_failure(&self, error: &ScanError) -> Failure {
        let failure = self.syntax_error(error);
        if error.info() == "while parsing a quoted scalar, found unknown escape character" {
            Failure::QuotedSingleQuoteEscape(failure)
        } else {
            Failure::Invalid(failure)
        }
    }

    fn syntax_error(&self, error: &ScanError) -> ValueError {
        let marker = error.marker();
        let start = self.byte_offset(marker.index());
        let info = error.info();
        if info == super::anchors::UNKNOWN_ANCHOR {
            let name = self.alias_name(start);
            let message = format!("alias *{name} is not defined");
            return self.error(message, start..start + 1 + name.len());
        }
        let (line, column) = (marker.line(), marker.col() + 1);
        let message = format!("{info} at line {line} column {column}");
        self.error(message, start..self.next_char_end(start))
    }

    fn error(&self, message: impl Into<String>, range: Range<usize>) -> ValueError {
        let end = range.end.min(self.text.len());
        let start = range.start.min(end);
        ValueError {
            message: message.into(),
            range: start..end,
        }
    }

    /// saphyr's markers count characters; errors report bytes.
    fn byte_offset(&self, char_index: usize) -> usize {
        if self.text_is_ascii {
            return char_index.min(self.text.len());
        }
        self.char_offsets
            .get(char_index)
            .copied()
            .unwrap_or(self.text.len())
    }

    fn next_char_end(&self, start: usize) -> usize {
        self.text
            .get(start..)
            .and_then(|rest| rest.chars().next())
            .map_or(start, |c| start + c.len_utf8())
    }

    /// The anchor name of the alias at `start` (`*name`).
    fn alias_name(&self, start: usize) -> &str {
        super::anchors::alias_name_at(self.text, start)
    }
}

enum Placement {
    Item,
    Key,
    Value(String),
    Merge(usize),
}

/// go-yaml v2's guard against alias bombs (decode.go `allowedAliasRatio`),
/// so documents kubectl rejects are rejected here too.
#[derive(Default)]
struct AliasBudget {
    decodes: usize,
    alias_decodes: usize,
}

impl AliasBudget {
    fn decode(&mut self, count: usize, through_alias: bool) {
        self.decodes = self.decodes.saturating_add(count);
        if through_alias {
            self.alias_decodes = self.alias_decodes.saturating_add(count);
        }
    }

    fn is_excessive(&self) -> bool {
        self.alias_decodes > 100
            && self.decodes > 1000
            && self.alias_decodes as f64 / self.decodes as f64 > allowed_alias_ratio(self.decodes)
    }
}

fn allowed_alias_ratio(decodes: usize) -> f64 {
    const LOW: f64 = 400_000.0;
    const HIGH: f64 = 4_000_000.0;
    let decodes = decodes as f64;
    if decodes <= LOW {
        0.99
    } else if decodes >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decodes - LOW) / (HIGH - LOW))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn convert(text: &str) -> Value {
        match document_to_json(text, &Limits::default()) {
            Ok(Some(value)) => value,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    fn error(text: &str) -> ValueError {
        match document_to_json(text, &Limits::default()) {
            Err(error) => error,
            other => panic!("{text:?} should fail, gave {other:?}"),
        }
    }

    #[test]
    fn empty_documents_have_no_value() {
        for text in [
            "",
            "\n",
            "# only a comment\n",
            "---\n",
            "--- # c\n...\n",
            "%YAML 1.1\n---\n",
        ] {
            assert_eq!(
                document_to_json(text, &Limits::default()),
                Ok(None),
                "{text:?}"
            );
        }
        assert_eq!(convert("~"), Value::Null);
    }

    #[test]
    fn directives_markers_and_later_documents() {
        assert_eq!(convert("%YAML 1.1\n---\na: 1\n...\n"), json!({"a": 1}));
        // Like go-yaml's Unmarshal, only the first document is read.
        assert_eq!(convert("a: 1\n---\nb: 2\n"), json!({"a": 1}));
    }

    #[test]
    fn scalars_use_go_yaml_rules() {
        let value = convert("a: yes\nb: 'yes'\nc: 0755\nd: 1e3\ne: 2001-12-14\nf:\ng: |\n  x\n");
        assert_eq!(
            value,
            json!({"a": true, "b": "yes", "c": 493, "d": 1000, "e": "2001-12-14", "f": null, "g": "x\n"})
        );
        assert!(convert("x: 1e3")["x"].is_i64());
        assert!(convert("x: 1.5")["x"].is_f64());
    }

    #[test]
    fn tags() {
        let value = convert(
            "a: !!str 123\nb: !!int '12'\nc: !!binary aGVsbG8=\nd: !custom 7\ne: !!float 1\n",
        );
        assert_eq!(
            value,
            json!({"a": "123", "b": 12, "c": "hello", "d": "7", "e": 1})
        );
        let failure = error("a: !!int abc\n");
        assert_eq!(failure.message, "cannot decode !!str `abc` as a !!int");
        assert_eq!(failure.range, 3..12);
    }

    #[test]
    fn keys_become_strings_like_sigs_k8s_yaml() {
        let value = convert("true: a\n1: b\n1.5: c\n0x10: d\nyes: e\n1e6: f\n");
        assert_eq!(
            value,
            json!({"true": "e", "1": "b", "1.5": "c", "16": "d", "1e+06": "f"})
        );
        assert!(error("~: a").message.contains("null"));
        assert!(error("18446744073709551615: a").message.contains("2^63"));
        assert!(error("[a]: b").message.contains("mapping key"));
        assert!(error("? {a: 1}\n: b\n").message.contains("mapping key"));
    }

    #[test]
    fn yaml_1_2_booleans_leave_yes_and_on_strings() {
        let limits = Limits {
            yaml_1_2_booleans: true,
            ..Limits::default()
        };
        let text = "on: [push]\nmerge: yes\nquoted: !!bool yes\nreal: true\nFALSE: n\n";
        assert_eq!(
            document_to_json(text, &limits).unwrap().unwrap(),
            json!({"on": ["push"], "merge": "yes", "quoted": true, "real": true, "false": "n"})
        );
    }

    #[test]
    fn duplicate_keys_keep_the_last() {
        assert_eq!(convert("a: 1\na: 2\n"), json!({"a": 2}));
    }

    #[test]
    fn anchors_and_aliases_copy_values() {
        let value = convert("a: &x [1, {b: 2}]\nc: *x\nd: &s hi\ne: *s\n");
        assert_eq!(
            value,
            json!({"a": [1, {"b": 2}], "c": [1, {"b": 2}], "d": "hi", "e": "hi"})
        );
        // A redefined anchor refers to its latest node.
        assert_eq!(convert("a: &x 1\nb: &x 2\nc: *x\n")["c"], json!(2));
        // An aliased float key keeps its key formatting.
        assert_eq!(convert("a: &f 1e6\n*f : b\n")["1e+06"], json!("b"));
    }

    #[test]
    fn alias_errors() {
        let undefined = error("a: *nope\n");
        assert_eq!(undefined.message, "alias *nope is not defined");
        assert_eq!(undefined.range.start, 3);
        assert!(error("a: &x [1, *x]\n").message.contains("contains itself"));
    }

    #[test]
    fn merge_keys_follow_go_yaml_order() {
        let base = "base: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\n";
        // Explicit keys after the merge win...
        let after = convert(&format!("{base}m:\n  <<: *b\n  b: 9\n"));
        assert_eq!(after["m"], json!({"a": 1, "b": 9}));
        // ...but go-yaml v2 lets a later merge overwrite earlier explicit keys.
        let before = convert(&format!("{base}m:\n  b: 9\n  <<: *b\n"));
        assert_eq!(before["m"], json!({"a": 1, "b": 2}));
        // In a list, earlier mappings take precedence.
        let list = convert(&format!("{base}m:\n  <<: [*b, *o]\n"));
        assert_eq!(list["m"], json!({"a": 1, "b": 2, "c": 4}));
        let inline = convert("m:\n  <<: {x: 1}\n  z: 2\n");
        assert_eq!(inline["m"], json!({"x": 1, "z": 2}));
        // Quoted or aliased `<<` is an ordinary key.
        assert_eq!(convert("'<<': {x: 1}\n"), json!({"<<": {"x": 1}}));
    }

    #[test]
    fn merge_errors() {
        let wrong = "map merge requires map or sequence of maps as the value";
        assert_eq!(error("m:\n  <<: 1\n").message, wrong);
        assert_eq!(error("m:\n  <<: [1]\n").message, wrong);
        assert_eq!(error("s: &s [{a: 1}]\nm:\n  <<: *s\n").message, wrong);
    }

    #[test]
    fn nan_and_infinity_are_not_json() {
        assert!(error("a: .nan").message.contains("NaN"));
        assert!(error("a: -.inf").message.contains("infinite"));
        // As a key it is fine: ".nan".
        assert_eq!(convert(".nan: a"), json!({".nan": "a"}));
    }

    #[test]
    fn syntax_errors_carry_position() {
        let failure = error("a: [1, 2\n");
        assert!(failure.message.contains("line"), "{}", failure.message);
        let failure = error("a: b\n c: d\n");
        assert!(failure.message.contains("line 2"), "{}", failure.message);
    }

    fn billion_laughs() -> String {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let alias = format!("*{}", pair[0]);
            let items = vec![alias; 9].join(",");
            text.push_str(&format!("{}: &{} [{}]\n", pair[1], pair[1], items));
        }
        text
    }

    /// Runs `check` on a thread with the default 2 MiB stack.
    fn on_small_stack(check: impl FnOnce() + Send + 'static) {
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(check)
            .and_then(|handle| handle.join().map_err(|_| std::io::Error::other("panicked")))
            .expect("check thread");
    }

    #[test]
    fn alias_bomb_fails_fast() {
        on_small_stack(|| {
            let started = std::time::Instant::now();
            let failure = document_to_json(&billion_laughs(), &Limits::default()).unwrap_err();
            assert!(failure.message.contains("alias"), "{}", failure.message);
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
            // Without go-yaml's ratio check tripping first, max_nodes still stops it.
            let limits = Limits {
                max_nodes: 50,
                ..Limits::default()
            };
            let failure = document_to_json(
                "a: &a [1,2,3,4,5,6,7,8,9,10]\nb: [*a,*a,*a,*a,*a]\n",
                &limits,
            )
            .unwrap_err();
            assert!(
                failure.message.contains("alias bomb"),
                "{}",
                failure.message
            );
        });
    }

    #[test]
    fn deep_nesting_fails_without_overflowing_the_stack() {
        on_small_stack(|| {
            let flow = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            assert!(document_to_json(&flow, &Limits::default()).is_err());
            let mut block = String::new();
            for depth in 0..10_000 {
                block.push_str(&" ".repeat(depth));
                block.push_str("k:\n");
            }
            let failure = document_to_json(&block, &Limits::default()).unwrap_err();
            assert!(failure.message.contains("512"), "{}", failure.message);
            let sequences = "- ".repeat(10_000);
            assert!(document_to_json(&sequences, &Limits::default()).is_err());
        });
    }

    #[test]
    fn byte_offsets_account_for_multibyte_text() {
        let failure = error("é: ü\nb: *nope\n");
        assert_eq!(&"é: ü\nb: *nope\n"[failure.range.clone()], "*nope");
    }
}
