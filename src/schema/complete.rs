//! Completion items for a cursor in a manifest, from discovery and the OpenAPI schema (pure: the
//! cursor and the document's `apiVersion`/`kind` are handed in).
//!
//! - `apiVersion:` / `kind:` values from discovery, consistent with each other; a kind chosen
//!   without an apiVersion adds it.
//! - At the start of a document, a skeleton per kind (apiVersion, kind, metadata.name and the
//!   required fields, recursively).
//! - Keys at any depth (required first, snippets for objects and arrays, keys already present
//!   left out), enum, boolean and default values.
//! - In an item of a List (`v1 List`, `<Kind>List`), all of the above as in a document holding
//!   that item: against the item's own apiVersion and kind ([`object_at`]).

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use serde_json::Value;

use super::hover::{field_markdown, resource_markdown};
use super::store::{GroupVersionSchemas, ResourceInfo, Scope, Store, ValueKind};
use super::{Catalog, SchemaNode};
use crate::yaml::key_path::{KeyPath, Segment};
use crate::yaml::path::{Cursor, CursorTarget, cursor_at, item_type_meta, top_level_scalar};

/// The lookups completion and hover need from a schema source: a [`Store`] or the layered
/// [`Catalog`] (cluster > CRDs > schemaPaths > built-in), whose labels name the answering layer.
pub trait SchemaLookup {
    /// Every resource, with the label of the source that serves it ("built-in Kubernetes 1.37").
    fn resources(&self) -> Vec<(&ResourceInfo, &str)>;
    /// The schemas of `apiVersion` + `kind`, with the resource and the label of its source.
    fn schemas(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<(&ResourceInfo, Arc<GroupVersionSchemas>, &str)>;
}

impl SchemaLookup for Store {
    fn resources(&self) -> Vec<(&ResourceInfo, &str)> {
        Store::resources(self)
            .iter()
            .map(|r| (r, self.source()))
            .collect()
    }

    fn schemas(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<(&ResourceInfo, Arc<GroupVersionSchemas>, &str)> {
        let (resource, gv) = self.schemas_for(api_version, kind)?;
        Some((resource, gv, self.source()))
    }
}

impl SchemaLookup for Catalog {
    fn resources(&self) -> Vec<(&ResourceInfo, &str)> {
        Catalog::resources(self)
    }

    fn schemas(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<(&ResourceInfo, Arc<GroupVersionSchemas>, &str)> {
        let found = self.schemas_for(api_version, kind)?;
        Some((found.resource, found.schemas, found.source))
    }
}

/// What a completion item is, for the editor's icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Field,
    Value,
    EnumMember,
    /// A resource kind (`kind:` values).
    Kind,
    /// A group/version (`apiVersion:` values).
    ApiVersion,
    /// A whole manifest.
    Skeleton,
}

/// One completion item, with document-relative ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    /// Shown right after the label (` apps/v1`).
    pub label_detail: Option<String>,
    /// Shown aligned right (`namespaced · deploy`).
    pub label_description: Option<String>,
    pub detail: Option<String>,
    /// Markdown.
    pub documentation: Option<String>,
    pub filter_text: Option<String>,
    pub sort_text: String,
    /// Snippet syntax when `snippet`, else plain text.
    pub insert_text: String,
    pub snippet: bool,
    /// The text the item replaces.
    pub range: Range<usize>,
    /// Further edits (e.g. the `apiVersion:` line a kind needs).
    pub additional_edits: Vec<(Range<usize>, String)>,
}

impl Item {
    fn new(label: impl Into<String>, kind: ItemKind, range: Range<usize>) -> Self {
        let label = label.into();
        Item {
            insert_text: label.clone(),
            sort_text: label.clone(),
            label,
            kind,
            label_detail: None,
            label_description: None,
            detail: None,
            documentation: None,
            filter_text: None,
            snippet: false,
            range,
            additional_edits: Vec::new(),
        }
    }

    /// Sets the text to insert: snippet syntax, turned into plain text for clients without
    /// snippet support.
    fn insert(mut self, snippet: &str, snippets: bool) -> Self {
        if snippets && snippet.contains('$') {
            self.insert_text = snippet.to_string();
            self.snippet = true;
        } else {
            self.insert_text = snippet_to_plain(snippet);
            self.snippet = false;
        }
        self
    }
}

/// The document around the cursor, as completion needs it.
pub struct Context<'a> {
    pub cursor: &'a Cursor,
    pub api_version: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// Where a missing `apiVersion: …` line goes when a kind is chosen: where the `kind` key
    /// starts, whose column the line after it keeps.
    pub api_version_insert_at: usize,
    /// That column.
    pub api_version_column: usize,
    /// Whether the client expands snippets (tab stops); plain text otherwise.
    pub snippets: bool,
}

/// The completion items at `offset` of one document's `text`: reads the cursor's path and the
/// `apiVersion`/`kind` of the object it is in (the document, or an item of a List) from the
/// text, then completes.
pub fn complete_in_text(
    lookup: &impl SchemaLookup,
    text: &str,
    offset: usize,
    snippets: bool,
) -> Vec<Item> {
    let (cursor, object) = cursor_in_object(lookup, text, offset);
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    // The column of the line's first key, after its indentation and `- ` markers.
    let line = &text[line_start..offset];
    let key_column = line.len() - line.trim_start_matches([' ', '-']).len();
    let context = Context {
        cursor: &cursor,
        api_version: object.api_version.as_deref(),
        kind: object.kind.as_deref(),
        api_version_insert_at: line_start + key_column,
        api_version_column: key_column,
        snippets,
    };
    complete(lookup, &context)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The object the cursor is in, as completion and hover read it: the document, or the item of a
/// List the cursor is in, which is a Kubernetes object of its own (as validation reads it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Object {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    /// How many segments of the cursor's path lead to it: 0 for the document, 2 for `items[i]`,
    /// 4 for `items[i].items[j]` (a List in a List).
    pub depth: usize,
}

/// The object the cursor is in: while the object is a List and the cursor's path goes on into
/// `items[i]`, that item, with the apiVersion and kind it names itself (read from its lines
/// around the cursor, [`item_type_meta`]).
pub fn object_at(lookup: &impl SchemaLookup, text: &str, cursor: &Cursor) -> Object {
    let mut object = Object {
        api_version: top_level_scalar(text, "apiVersion").map(|(v, _)| v),
        kind: top_level_scalar(text, "kind").map(|(v, _)| v),
        depth: 0,
    };
    while is_list(
        lookup,
        object.api_version.as_deref(),
        object.kind.as_deref(),
    ) {
        let into_item = matches!(
            &cursor.path.0[object.depth..],
            [Segment::Key(items), Segment::Index(_), ..] if items == "items"
        );
        let depth = object.depth + 2;
        let item = cursor.items.iter().find(|i| i.depth == depth);
        let Some(item) = item.filter(|_| into_item) else {
            break;
        };
        let meta = item_type_meta(text, item);
        object = Object {
            api_version: meta.api_version.map(|(v, _)| v),
            kind: meta.kind.map(|(v, _)| v),
            depth,
        };
    }
    object
}

/// The cursor at `offset` of a document's `text` and the object it is in, with the cursor's
/// path made relative to that object.
pub(crate) fn cursor_in_object(
    lookup: &impl SchemaLookup,
    text: &str,
    offset: usize,
) -> (Cursor, Object) {
    let mut cursor = cursor_at(text, offset);
    let object = object_at(lookup, text, &cursor);
    cursor.path.0.drain(..object.depth);
    cursor.items.retain(|i| i.depth > object.depth);
    for item in &mut cursor.items {
        item.depth -= object.depth;
    }
    (cursor, object)
}

/// Whether objects of `apiVersion` and `kind` hold whole objects in `items`: a `v1 List`, or a
/// `<Kind>List` of a kind the schema knows (as validation reads them).
pub fn is_list(lookup: &impl SchemaLookup, api_version: Option<&str>, kind: Option<&str>) -> bool {
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        return false;
    };
    (api_version == "v1" && kind == "List")
        || kind
            .strip_suffix("List")
            .is_some_and(|k| !k.is_empty() && lookup.schemas(api_version, k).is_some())
}

/// How deep skeletons follow required fields.
const SKELETON_DEPTH: usize = 8;

/// The completion items at the cursor.
pub fn complete(lookup: &impl SchemaLookup, context: &Context<'_>) -> Vec<Item> {
    let cursor = context.cursor;
    let range = cursor.range.clone();
    match &cursor.target {
        CursorTarget::Nothing => Vec::new(),
        CursorTarget::Value { needs_space, .. } => {
            let space = if *needs_space { " " } else { "" };
            match root_key(&cursor.path) {
                Some("kind") => kind_items(lookup, context, space),
                Some("apiVersion") => api_version_items(lookup, context, space),
                _ => with_node(lookup, context, &cursor.path, |node, _| {
                    value_items(node, range, space)
                })
                .unwrap_or_default(),
            }
        }
        CursorTarget::Key { has_colon, .. } => {
            if cursor.path.is_empty() {
                let mut items = root_key_items(lookup, context);
                if cursor.siblings.is_empty() && !has_colon {
                    items.extend(skeleton_items(lookup, context));
                }
                return items;
            }
            with_node(lookup, context, &cursor.path, |node, _| {
                if node.has_properties() {
                    key_items(node, context)
                } else if node.kind() == ValueKind::Object {
                    Vec::new()
                } else {
                    // `- |` in a sequence of scalars: the item's values.
                    value_items(node, range, "")
                }
            })
            .unwrap_or_default()
        }
    }
}

/// The top-level key a one-segment path names.
fn root_key(path: &KeyPath) -> Option<&str> {
    match path.0.as_slice() {
        [Segment::Key(key)] => Some(key),
        _ => None,
    }
}

/// Runs `f` on the schema at `path` of the document's kind (and whether its last key is required).
pub(crate) fn with_node<T>(
    lookup: &impl SchemaLookup,
    context: &Context<'_>,
    path: &KeyPath,
    f: impl FnOnce(SchemaNode<'_>, bool) -> T,
) -> Option<T> {
    let (api_version, kind) = (context.api_version?, context.kind?);
    let (_, gv, _) = lookup.schemas(api_version, kind)?;
    let (node, required) = resolve(gv.kind(kind)?, path)?;
    Some(f(node, required))
}

/// Follows `path` from `root`: properties, typed maps and array items. Also says whether the
/// last key is required by its parent.
pub(crate) fn resolve<'g>(root: SchemaNode<'g>, path: &KeyPath) -> Option<(SchemaNode<'g>, bool)> {
    let mut node = root;
    let mut required = false;
    for segment in &path.0 {
        match segment {
            Segment::Key(key) => {
                required = node.required().iter().any(|r| **r == **key);
                node = match node.property(key) {
                    Some(property) => property,
                    None => node.additional()??,
                };
            }
            Segment::Index(_) => {
                required = false;
                node = node.items()?;
            }
        }
        node = json_schema_props(node);
    }
    Some((node, required))
}

/// CRD schemas: `JSONSchemaPropsOrArray`/`OrBool` carry no properties in the OpenAPI (they are
/// "a schema or an array/bool" on the wire); read them as the `JSONSchemaProps` they mostly are,
/// as `kubectl explain` does.
fn json_schema_props(node: SchemaNode<'_>) -> SchemaNode<'_> {
    const OR_TYPES: [&str; 2] = ["JSONSchemaPropsOrArray", "JSONSchemaPropsOrBool"];
    let Some(name) = node.name else { return node };
    let Some(base) = OR_TYPES.iter().find_map(|t| name.strip_suffix(t)) else {
        return node;
    };
    match node.gv.by_name(&format!("{base}JSONSchemaProps")) {
        Some(props) => node.gv.node(props),
        None => node,
    }
}

/// Keys of an object schema, required first, without those already present.
fn key_items(node: SchemaNode<'_>, context: &Context<'_>) -> Vec<Item> {
    let cursor = context.cursor;
    let has_colon = matches!(
        cursor.target,
        CursorTarget::Key {
            has_colon: true,
            ..
        }
    );
    let present: HashSet<&str> = cursor.siblings.iter().map(String::as_str).collect();
    node.properties()
        .filter(|(name, _)| !present.contains(name))
        .map(|(name, property)| {
            let required = node.required().iter().any(|r| &**r == name);
            key_item(name, property, required, context, has_colon)
        })
        .collect()
}

fn key_item(
    name: &str,
    property: SchemaNode<'_>,
    required: bool,
    context: &Context<'_>,
    has_colon: bool,
) -> Item {
    let cursor = context.cursor;
    let snippet = if has_colon {
        escape_snippet(name)
    } else {
        key_snippet(name, property, cursor.column)
    };
    let mut item =
        Item::new(name, ItemKind::Field, cursor.range.clone()).insert(&snippet, context.snippets);
    item.sort_text = format!("{}{name}", if required { 0 } else { 1 });
    item.detail = Some(if required {
        format!("{} (required)", property.type_label())
    } else {
        property.type_label()
    });
    item.label_description = Some(property.type_label());
    item.documentation = Some(field_markdown(name, property, required));
    item
}

/// `key: $0`, `key:\n  $0`, `key:\n  - $0`, or a choice of enum/boolean values, indented for a
/// key at `column`.
fn key_snippet(name: &str, property: SchemaNode<'_>, column: usize) -> String {
    let name = escape_snippet(name);
    let below = " ".repeat(column + 2);
    match property.kind() {
        ValueKind::Object => format!("{name}:\n{below}$0"),
        ValueKind::Array => format!("{name}:\n{below}- $0"),
        ValueKind::Boolean => format!("{name}: ${{1|true,false|}}"),
        _ => match scalar_choices(property) {
            Some(choices) => format!("{name}: ${{1|{}|}}", choices.join(",")),
            None => format!("{name}: $0"),
        },
    }
}

/// Enum values as snippet choices (escaped), when there are a few.
fn scalar_choices(property: SchemaNode<'_>) -> Option<Vec<String>> {
    let values = property.enum_values()?;
    let choices: Vec<String> = values
        .iter()
        .map(|v| {
            yaml_scalar(v)
                .replace('\\', "\\\\")
                .replace(',', "\\,")
                .replace('|', "\\|")
        })
        .collect();
    (!choices.is_empty() && choices.len() <= 20).then_some(choices)
}

/// Enum values, booleans and the default of a scalar schema.
fn value_items(node: SchemaNode<'_>, range: Range<usize>, space: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let default = node.default().map(yaml_scalar);
    let mut push = |text: String, kind: ItemKind, order: usize| {
        if items.iter().any(|i: &Item| i.label == text) {
            return;
        }
        let mut item = Item::new(text.clone(), kind, range.clone());
        item.insert_text = format!("{space}{text}");
        item.filter_text = Some(text.clone());
        item.sort_text = format!("{order:04}");
        if default.as_deref() == Some(text.as_str()) {
            item.detail = Some("default".to_string());
        }
        item.documentation = node.description().map(str::to_string);
        items.push(item);
    };
    if let Some(default) = &default {
        push(default.clone(), ItemKind::Value, 0);
    }
    if let Some(values) = node.enum_values() {
        for (i, value) in values.iter().enumerate() {
            push(yaml_scalar(value), ItemKind::EnumMember, i + 1);
        }
    } else if node.kind() == ValueKind::Boolean {
        push("true".to_string(), ItemKind::Value, 1);
        push("false".to_string(), ItemKind::Value, 2);
    }
    items
}

/// A JSON value written as a YAML scalar, quoted where YAML would read it as something else.
pub(super) fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(s) => {
            let plain = !s.is_empty()
                && !matches!(
                    s.to_ascii_lowercase().as_str(),
                    "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
                )
                && s.parse::<f64>().is_err()
                && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
                && !s.contains(": ")
                && !s.contains(" #")
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

/// Top-level keys: the kind's properties when it is known, else apiVersion, kind and metadata
/// (and a List's items).
fn root_key_items(lookup: &impl SchemaLookup, context: &Context<'_>) -> Vec<Item> {
    let known = with_node(lookup, context, &KeyPath::default(), |node, _| {
        key_items(node, context)
    });
    if let Some(items) = known {
        return items;
    }
    let cursor = context.cursor;
    let has_colon = matches!(
        cursor.target,
        CursorTarget::Key {
            has_colon: true,
            ..
        }
    );
    let generic = [
        (
            "apiVersion",
            "The group/version of the object's schema (`apps/v1`, `v1`).",
        ),
        ("kind", "The kind of object (`Deployment`, `Service`)."),
        (
            "metadata",
            "Standard object metadata: name, namespace, labels, annotations.",
        ),
        (
            "items",
            "The list's objects, each with its own apiVersion and kind.",
        ),
    ];
    let list = is_list(lookup, context.api_version, context.kind);
    generic
        .into_iter()
        .filter(|(name, _)| list || *name != "items")
        .filter(|(name, _)| !cursor.siblings.iter().any(|s| s == name))
        .enumerate()
        .map(|(i, (name, doc))| {
            let snippet = match (has_colon, name) {
                (true, _) => name.to_string(),
                // A list's metadata (`ListMeta`) has no name.
                (false, "metadata") if list => {
                    format!("metadata:\n{}$0", " ".repeat(cursor.column + 2))
                }
                (false, "metadata") => {
                    format!("metadata:\n{}name: $0", " ".repeat(cursor.column + 2))
                }
                (false, "items") => format!("items:\n{}- $0", " ".repeat(cursor.column + 2)),
                (false, _) => format!("{name}: $0"),
            };
            let mut item = Item::new(name, ItemKind::Field, cursor.range.clone())
                .insert(&snippet, context.snippets);
            item.sort_text = format!("0{i}");
            item.documentation = Some(doc.to_string());
            item
        })
        .collect()
}

/// `kind:` values: the kinds of the document's apiVersion (all kinds when it has none or an
/// unknown one). Choosing one where apiVersion is missing adds it.
fn kind_items(lookup: &impl SchemaLookup, context: &Context<'_>, space: &str) -> Vec<Item> {
    let resources = lookup.resources();
    let api_version = context.api_version;
    let consistent = |r: &ResourceInfo| api_version.is_none_or(|v| r.api_version() == v);
    let any_consistent = resources.iter().any(|(r, _)| consistent(r));
    let mut seen = HashSet::new();
    resources
        .iter()
        .enumerate()
        .filter(|(_, (r, _))| !any_consistent || consistent(r))
        .filter(|(_, (r, _))| seen.insert((r.api_version(), r.kind.clone())))
        .map(|(order, (resource, source))| {
            let mut item = resource_item(
                resource,
                source,
                ItemKind::Kind,
                context.cursor.range.clone(),
            );
            item.insert_text = format!("{space}{}", resource.kind);
            item.sort_text = format!("{order:04}");
            if api_version.is_none() {
                let at = context.api_version_insert_at;
                let indent = " ".repeat(context.api_version_column);
                item.additional_edits = vec![(
                    at..at,
                    format!("apiVersion: {}\n{indent}", resource.api_version()),
                )];
            }
            item
        })
        .collect()
}

/// `apiVersion:` values: those serving the document's kind (all when it has none or an unknown
/// one).
fn api_version_items(lookup: &impl SchemaLookup, context: &Context<'_>, space: &str) -> Vec<Item> {
    let resources = lookup.resources();
    let kind = context.kind;
    let serves_kind = resources.iter().any(|(r, _)| Some(r.kind.as_str()) == kind);
    let mut versions: Vec<(String, Vec<&str>, &str)> = Vec::new();
    for (resource, source) in &resources {
        if serves_kind && Some(resource.kind.as_str()) != kind {
            continue;
        }
        let api_version = resource.api_version();
        match versions.iter_mut().find(|(v, _, _)| *v == api_version) {
            Some((_, kinds, _)) => kinds.push(&resource.kind),
            None => versions.push((api_version, vec![&resource.kind], source)),
        }
    }
    versions
        .into_iter()
        .enumerate()
        .map(|(order, (api_version, kinds, source))| {
            let mut item = Item::new(
                api_version.clone(),
                ItemKind::ApiVersion,
                context.cursor.range.clone(),
            );
            item.insert_text = format!("{space}{api_version}");
            item.filter_text = Some(api_version.clone());
            item.sort_text = format!("{order:04}");
            let listed: Vec<&str> = kinds.iter().take(6).copied().collect();
            let more = if kinds.len() > listed.len() {
                ", …"
            } else {
                ""
            };
            item.detail = Some(format!("{}{more}", listed.join(", ")));
            item.documentation = Some(format!(
                "`{api_version}` serves {}.\n\n*Schema: {source}*",
                kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            item
        })
        .collect()
}

/// An item naming a resource as `kubectl api-resources` shows it: kind, group/version,
/// namespaced or not, short names.
fn resource_item(
    resource: &ResourceInfo,
    source: &str,
    kind: ItemKind,
    range: Range<usize>,
) -> Item {
    let mut item = Item::new(resource.kind.clone(), kind, range);
    let scope = match resource.scope {
        Scope::Namespaced => "namespaced",
        Scope::Cluster => "cluster-scoped",
    };
    let mut description = scope.to_string();
    if !resource.short_names.is_empty() {
        description = format!("{} · {scope}", resource.short_names.join(","));
    }
    item.label_detail = Some(format!(" {}", resource.api_version()));
    item.label_description = Some(description);
    item.detail = Some(format!(
        "{} {} ({}, {scope})",
        resource.api_version(),
        resource.kind,
        resource.plural
    ));
    // Clients match what is typed against this: the kind, its short names and its plural.
    let mut filter = vec![resource.kind.clone()];
    filter.extend(resource.short_names.iter().cloned());
    filter.push(resource.plural.clone());
    item.filter_text = Some(filter.join(" "));
    item.documentation = Some(resource_markdown(resource, None, source));
    item
}

/// A skeleton manifest per creatable kind, for the start of a document.
fn skeleton_items(lookup: &impl SchemaLookup, context: &Context<'_>) -> Vec<Item> {
    let mut seen = HashSet::new();
    lookup
        .resources()
        .into_iter()
        .filter(|(r, _)| r.verbs.iter().any(|v| v == "create"))
        .filter(|(r, _)| seen.insert((r.api_version(), r.kind.clone())))
        .enumerate()
        .filter_map(|(order, (resource, source))| {
            let (_, gv, _) = lookup.schemas(&resource.api_version(), &resource.kind)?;
            let root = gv.kind(&resource.kind)?;
            let snippet = indent_lines(&skeleton(resource, root), context.cursor.column);
            let mut item = resource_item(
                resource,
                source,
                ItemKind::Skeleton,
                context.cursor.range.clone(),
            )
            .insert(&snippet, context.snippets);
            item.sort_text = format!("1{order:04}");
            item.detail = Some(format!(
                "{} {} manifest",
                resource.api_version(),
                resource.kind
            ));
            item.documentation = Some(format!("```yaml\n{}```", snippet_to_plain(&snippet)));
            Some(item)
        })
        .collect()
}

/// `text` with the lines after its first indented by `column` (a skeleton in a List's item).
fn indent_lines(text: &str, column: usize) -> String {
    if column == 0 {
        return text.to_string();
    }
    text.replace('\n', &format!("\n{}", " ".repeat(column)))
}

/// `apiVersion`, `kind`, `metadata.name` and the required fields (following required objects and
/// the first item of required arrays), with tab stops on the values to fill in.
fn skeleton(resource: &ResourceInfo, root: SchemaNode<'_>) -> String {
    let mut text = format!(
        "apiVersion: {}\nkind: {}\nmetadata:\n  name: ${{1:name}}\n",
        escape_snippet(&resource.api_version()),
        escape_snippet(&resource.kind)
    );
    let mut stops = 1;
    for (name, property) in root.properties() {
        if matches!(name, "apiVersion" | "kind" | "metadata" | "status") {
            continue;
        }
        let required = root.required().iter().any(|r| &**r == name);
        if required || name == "spec" {
            write_required(&mut text, name, property, 0, &mut stops, 0);
        }
    }
    text.push_str("$0");
    text
}

fn write_required(
    text: &mut String,
    name: &str,
    node: SchemaNode<'_>,
    indent: usize,
    stops: &mut usize,
    depth: usize,
) {
    let pad = " ".repeat(indent);
    let name = escape_snippet(name);
    let required: Vec<(&str, SchemaNode<'_>)> = node
        .properties()
        .filter(|(n, _)| node.required().iter().any(|r| &**r == *n))
        .collect();
    match node.kind() {
        ValueKind::Object if !required.is_empty() && depth < SKELETON_DEPTH => {
            text.push_str(&format!("{pad}{name}:\n"));
            for (child, property) in required {
                write_required(text, child, property, indent + 2, stops, depth + 1);
            }
        }
        ValueKind::Array if depth < SKELETON_DEPTH => {
            text.push_str(&format!("{pad}{name}:\n"));
            let item = node.items();
            let item_required: Vec<(&str, SchemaNode<'_>)> = item
                .map(|i| {
                    i.properties()
                        .filter(|(n, _)| i.required().iter().any(|r| &**r == *n))
                        .collect()
                })
                .unwrap_or_default();
            if item_required.is_empty() {
                *stops += 1;
                text.push_str(&format!("{pad}  - ${stops}\n"));
                return;
            }
            for (i, (child, property)) in item_required.into_iter().enumerate() {
                let mut nested = String::new();
                write_required(&mut nested, child, property, indent + 4, stops, depth + 1);
                if i == 0 {
                    // `- ` takes the place of the first key's indentation.
                    nested.replace_range(indent + 2..indent + 4, "- ");
                }
                text.push_str(&nested);
            }
        }
        ValueKind::Object => {
            *stops += 1;
            text.push_str(&format!("{pad}{name}:\n{pad}  ${stops}\n"));
        }
        _ => {
            *stops += 1;
            let placeholder = node
                .enum_values()
                .and_then(|values| values.first())
                .map(|v| format!("${{{stops}:{}}}", escape_snippet(&yaml_scalar(v))))
                .unwrap_or_else(|| format!("${stops}"));
            text.push_str(&format!("{pad}{name}: {placeholder}\n"));
        }
    }
}

/// Escapes text for snippet syntax (`$`, `}` and `\` are special).
fn escape_snippet(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('$', "\\$")
        .replace('}', "\\}")
}

/// Snippet syntax as plain text: tab stops dropped, placeholders and first choices kept.
pub fn snippet_to_plain(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len());
    let mut chars = snippet.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '$' if chars.peek().is_some_and(|c| c.is_ascii_digit()) => {
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
            }
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
                match chars.next() {
                    // `${1:placeholder}`: keep the placeholder.
                    Some(':') => {}
                    // `${1|a,b|}`: keep nothing (the value is the user's choice).
                    Some('|') => {
                        for c in chars.by_ref() {
                            if c == '}' {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
            '}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completion items at `$0` in `text`.
    fn complete_at(text: &str, snippets: bool) -> (String, Vec<Item>) {
        let offset = text.find("$0").expect("fixture has a $0 cursor");
        let text = text.replacen("$0", "", 1);
        let items = complete_in_text(Store::builtin(), &text, offset, snippets);
        (text, items)
    }

    fn labels(text: &str) -> Vec<String> {
        let (_, items) = complete_at(text, true);
        let mut items = items;
        items.sort_by(|a, b| a.sort_text.cmp(&b.sort_text));
        items.into_iter().map(|i| i.label).collect()
    }

    fn item<'a>(items: &'a [Item], label: &str) -> &'a Item {
        items
            .iter()
            .find(|i| i.label == label)
            .unwrap_or_else(|| panic!("no item {label}"))
    }

    /// Applies an item (main and additional edits) to the text, as an editor would.
    fn apply(text: &str, item: &Item) -> String {
        let mut edits = item.additional_edits.clone();
        edits.push((item.range.clone(), snippet_to_plain(&item.insert_text)));
        edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        let mut out = text.to_string();
        for (range, new) in edits {
            out.replace_range(range, &new);
        }
        out
    }

    #[test]
    fn kinds_of_the_documents_api_version() {
        let kinds = labels("apiVersion: apps/v1\nkind: $0\n");
        assert!(kinds.contains(&"Deployment".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"StatefulSet".to_string()));
        assert!(!kinds.contains(&"Service".to_string()));
    }

    #[test]
    fn a_kind_without_api_version_adds_it() {
        let (text, items) = complete_at("metadata:\n  name: x\nkind: Dep$0\n", true);
        let deployment = item(&items, "Deployment");
        assert_eq!(deployment.label_detail.as_deref(), Some(" apps/v1"));
        assert_eq!(
            deployment.label_description.as_deref(),
            Some("deploy · namespaced")
        );
        assert!(
            deployment
                .filter_text
                .as_deref()
                .unwrap()
                .contains("deploy")
        );
        assert_eq!(
            apply(&text, deployment),
            "metadata:\n  name: x\napiVersion: apps/v1\nkind: Deployment\n"
        );
        let service = item(&items, "Service");
        assert!(service.filter_text.as_deref().unwrap().contains("svc"));
        let namespace = item(&items, "Namespace");
        assert_eq!(
            namespace.label_description.as_deref(),
            Some("ns · cluster-scoped")
        );
        // Right after the colon, a space goes first.
        let (text, items) = complete_at("apiVersion: v1\nkind:$0", true);
        assert_eq!(
            apply(&text, item(&items, "Pod")),
            "apiVersion: v1\nkind: Pod"
        );
    }

    #[test]
    fn api_versions_of_the_documents_kind() {
        let versions = labels("apiVersion: $0\nkind: HorizontalPodAutoscaler\n");
        assert_eq!(versions, ["autoscaling/v2", "autoscaling/v1"]);
        let all = labels("apiVersion: $0\n");
        assert!(all.len() > 20, "{all:?}");
        assert!(all.contains(&"networking.k8s.io/v1".to_string()));
    }

    #[test]
    fn keys_required_first_without_present_ones() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        $0\n        image: nginx\n";
        let keys = labels(text);
        assert!(!keys.contains(&"name".to_string()));
        assert!(!keys.contains(&"image".to_string()));
        assert!(keys.contains(&"imagePullPolicy".to_string()));
        let (_, items) = complete_at(text, true);
        let ports = item(&items, "ports");
        assert_eq!(ports.insert_text, "ports:\n          - $0");
        assert!(ports.snippet);
        let policy = item(&items, "imagePullPolicy");
        assert_eq!(
            policy.insert_text,
            "imagePullPolicy: ${1|Always,IfNotPresent,Never|}"
        );
        assert!(policy.documentation.as_deref().unwrap().contains("Always"));
        let (_, plain) = complete_at(text, false);
        assert_eq!(item(&plain, "ports").insert_text, "ports:\n          - ");
        assert_eq!(
            item(&plain, "imagePullPolicy").insert_text,
            "imagePullPolicy: "
        );
        // Required keys sort first: `containers` in a PodSpec.
        let pod = labels("apiVersion: v1\nkind: Pod\nspec:\n  $0\n");
        assert_eq!(pod[0], "containers");
        let (_, items) = complete_at("apiVersion: v1\nkind: Pod\nspec:\n  $0\n", true);
        assert_eq!(
            item(&items, "securityContext").insert_text,
            "securityContext:\n    $0"
        );
    }

    #[test]
    fn crd_schemas_complete_through_items_and_additional_properties() {
        let text = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n      openAPIV3Schema:\n        properties:\n          spec:\n            items:\n              $0\n            type: array\n";
        let keys = labels(text);
        assert!(keys.contains(&"properties".to_string()), "{keys:?}");
        assert!(keys.contains(&"x-kubernetes-preserve-unknown-fields".to_string()));
    }

    #[test]
    fn half_typed_keys() {
        let keys = labels("apiVersion: v1\nkind: Pod\nspec:\n  contai$0");
        assert!(keys.contains(&"containers".to_string()));
        let keys =
            labels("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: x\n    ima$0");
        assert!(keys.contains(&"image".to_string()));
        // Renaming a key that has a value: only the name is replaced.
        let (text, items) = complete_at("apiVersion: v1\nkind: Pod\nspec:\n  host$0: x\n", true);
        assert_eq!(
            apply(&text, item(&items, "hostname")),
            "apiVersion: v1\nkind: Pod\nspec:\n  hostname: x\n"
        );
    }

    #[test]
    fn enum_boolean_and_default_values() {
        let values = labels(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    imagePullPolicy: $0\n",
        );
        assert_eq!(values, ["Always", "IfNotPresent", "Never"]);
        let values = labels("apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: $0\n");
        assert_eq!(values, ["true", "false"]);
        let values = labels(
            "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 80\n    protocol: $0\n",
        );
        assert!(values.contains(&"TCP".to_string()), "{values:?}");
    }

    #[test]
    fn root_keys_and_skeletons() {
        let keys = labels("apiVersion: apps/v1\nkind: Deployment\n$0\n");
        assert!(keys.contains(&"spec".to_string()));
        assert!(!keys.contains(&"kind".to_string()));
        let (text, items) = complete_at("$0", true);
        assert!(items.iter().any(|i| i.label == "apiVersion"));
        let deployment = items
            .iter()
            .find(|i| i.kind == ItemKind::Skeleton && i.label == "Deployment")
            .unwrap();
        assert!(deployment.snippet);
        assert!(deployment.insert_text.contains("name: ${1:name}"));
        assert_eq!(
            apply(&text, deployment),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: name\nspec:\n  selector:\n    \n  template:\n    \n"
        );
        let (text, items) = complete_at("$0", false);
        let pod = items
            .iter()
            .find(|i| i.kind == ItemKind::Skeleton && i.label == "Pod")
            .unwrap();
        assert!(!pod.snippet);
        assert_eq!(
            apply(&text, pod),
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: name\nspec:\n  containers:\n    - name: \n"
        );
        // A document that already has keys gets no skeletons.
        let (_, items) = complete_at("metadata: {}\n$0", true);
        assert!(items.iter().all(|i| i.kind != ItemKind::Skeleton));
    }

    const LIST: &str = "apiVersion: v1\nkind: List\nitems:\n";

    #[test]
    fn list_items_complete_by_their_own_kind() {
        // Keys below the item, against its own kind; the List's other items do not matter.
        let text = format!(
            "{LIST}- apiVersion: v1\n  kind: Service\n  spec:\n    type: ClusterIP\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    $0\n    replicas: 2\n"
        );
        let keys = labels(&text);
        assert_eq!(keys[..3], ["selector", "template", "minReadySeconds"]);
        assert!(!keys.contains(&"replicas".to_string()));
        assert!(!keys.contains(&"clusterIP".to_string()));
        let (_, items) = complete_at(&text, true);
        assert_eq!(item(&items, "strategy").insert_text, "strategy:\n      $0");
        // Half-typed, the kind below the cursor, lines that do not parse yet, values.
        let keys = labels(&format!(
            "{LIST}  - metadata:\n      labels: {{\n    spec:\n      contai$0\n    kind: Pod\n    apiVersion: v1\n"
        ));
        assert!(keys.contains(&"containers".to_string()), "{keys:?}");
        let values = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - name: a\n      imagePullPolicy: $0\n"
        ));
        assert_eq!(values, ["Always", "IfNotPresent", "Never"]);
        // A List in a List.
        let keys = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: batch/v1\n    kind: Job\n    spec:\n      backoff$0\n"
        ));
        assert!(keys.contains(&"backoffLimit".to_string()), "{keys:?}");
        // `<Kind>List` of a known kind: its items are objects too.
        let keys = labels(
            "apiVersion: apps/v1\nkind: DeploymentList\nitems:\n- apiVersion: apps/v1\n  kind: Deployment\n  spec:\n    rep$0\n",
        );
        assert!(keys.contains(&"replicas".to_string()), "{keys:?}");
    }

    #[test]
    fn list_item_root_keys_kinds_and_skeletons() {
        // Root keys of the item's kind, without those it has.
        let keys = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: ConfigMap\n  $0\n  data: {{}}\n"
        ));
        assert!(keys.contains(&"binaryData".to_string()), "{keys:?}");
        assert!(keys.contains(&"metadata".to_string()));
        for present in ["apiVersion", "kind", "data", "items"] {
            assert!(!keys.contains(&present.to_string()), "{keys:?}");
        }
        // The item's kind follows its apiVersion, and the other way round.
        let kinds = labels(&format!(
            "{LIST}- apiVersion: v1\n  kind: ConfigMap\n- apiVersion: apps/v1\n  kind: $0\n"
        ));
        assert!(kinds.contains(&"Deployment".to_string()), "{kinds:?}");
        assert!(!kinds.contains(&"ConfigMap".to_string()), "{kinds:?}");
        let versions = labels(&format!(
            "{LIST}- apiVersion: $0\n  kind: HorizontalPodAutoscaler\n"
        ));
        assert_eq!(versions, ["autoscaling/v2", "autoscaling/v1"]);
        // A kind chosen in an item without apiVersion brings it, at the item's column.
        let (text, items) = complete_at(&format!("{LIST}- kind: Deplo$0\n  spec: {{}}\n"), true);
        assert_eq!(
            apply(&text, item(&items, "Deployment")),
            format!("{LIST}- apiVersion: apps/v1\n  kind: Deployment\n  spec: {{}}\n")
        );
        let (text, items) = complete_at(&format!("{LIST}  - metadata: {{}}\n    kind:$0\n"), true);
        assert_eq!(
            apply(&text, item(&items, "Service")),
            format!("{LIST}  - metadata: {{}}\n    apiVersion: v1\n    kind: Service\n")
        );
        // An empty item: generic root keys and a skeleton per kind, indented as the item.
        let (text, items) =
            complete_at(&format!("{LIST}- apiVersion: v1\n  kind: Pod\n- $0"), false);
        assert!(items.iter().any(|i| i.label == "kind"));
        let configmap = items
            .iter()
            .find(|i| i.kind == ItemKind::Skeleton && i.label == "ConfigMap")
            .unwrap();
        assert_eq!(
            apply(&text, configmap),
            format!(
                "{LIST}- apiVersion: v1\n  kind: Pod\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: name\n  "
            )
        );
        // An item with keys already gets no skeletons.
        let (_, items) = complete_at(&format!("{LIST}- metadata: {{}}\n  $0\n"), true);
        assert!(items.iter().all(|i| i.kind != ItemKind::Skeleton));
    }

    #[test]
    fn a_lists_own_keys() {
        let keys = labels(&format!("{LIST}- apiVersion: v1\n  kind: Pod\n$0\n"));
        assert_eq!(keys, ["metadata"]);
        let (text, items) = complete_at("apiVersion: v1\nkind: List\n$0", true);
        assert_eq!(
            items.iter().map(|i| i.label.as_str()).collect::<Vec<_>>(),
            ["metadata", "items"]
        );
        assert_eq!(
            apply(&text, item(&items, "items")),
            "apiVersion: v1\nkind: List\nitems:\n  - "
        );
        // `items` is no key of other unknown kinds.
        let keys = labels("apiVersion: example.com/v1\nkind: Widget\n$0");
        assert!(!keys.contains(&"items".to_string()), "{keys:?}");
        // Outside a List, `items[0]` is an ordinary path.
        let keys = labels(
            "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: a\n    configMap:\n      items:\n      - $0\n",
        );
        assert!(keys.contains(&"key".to_string()), "{keys:?}");
    }

    #[test]
    fn the_object_at_the_cursor() {
        let at = |text: &str| {
            let offset = text.find("$0").unwrap();
            let text = text.replacen("$0", "", 1);
            let cursor = cursor_at(&text, offset);
            let object = object_at(Store::builtin(), &text, &cursor);
            (object.api_version, object.kind, object.depth)
        };
        let some = |a: &str, k: &str, d| (Some(a.to_string()), Some(k.to_string()), d);
        assert_eq!(at("apiVersion: v1\nkind: Pod\n$0"), some("v1", "Pod", 0));
        assert_eq!(at(&format!("{LIST}$0")), some("v1", "List", 0));
        assert_eq!(at(&format!("{LIST}- $0")), (None, None, 2));
        assert_eq!(
            at(&format!(
                "{LIST}- kind: Pod\n  apiVersion: v1\n- kind: Service\n  $0\n"
            )),
            (None, Some("Service".to_string()), 2)
        );
        // Not a List: `v2 List`, an unknown `<Kind>List`.
        assert_eq!(at("apiVersion: v2\nkind: List\nitems:\n- $0").2, 0);
        assert_eq!(at("apiVersion: v1\nkind: WidgetList\nitems:\n- $0").2, 0);
    }

    /// Bad input never panics: every offset of odd texts gets a cursor, items and a hover.
    #[test]
    fn every_offset_of_odd_text_is_answered() {
        let texts = [
            "apiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - name: é\r\n    ima",
            "kind: Pod\rspec:\r  hostNetwork: \r",
            "\tkind: Pod\nspec:\n\t- name: x\n",
            "- - - a: 'unclosed\n  - \"b\\\": c\n-\n-- x\n- ? y\n  : z\n",
            "apiVersion: apps/v1\nkind: Deployment\nspec: {template: {spec: [a, {b: c}]}}\n# 🎉 ünïcode: x\n",
            "\"apiVersion\": v1\n'kind': Pod\nmetadata:\n  name: |\n    text: x\n  labels:\n    a: b # c\n",
            "---\n...\n%YAML 1.2\n---\nkind: : :\n: x\n  :\n",
            "apiVersion: v1\nkind: List\nitems:\n-\n  - kind: \n-  kind: Pod\n   apiVersion: v1\n - items:\n  -\n",
            "",
        ];
        for text in texts {
            let mut offset = 0;
            while offset <= text.len() {
                let marked = format!("{}$0{}", &text[..offset], &text[offset..]);
                let (_, items) = complete_at(&marked, offset % 2 == 0);
                for item in &items {
                    assert!(item.range.end <= text.len(), "{text:?} at {offset}");
                }
                let cursor = cursor_at(text, offset);
                let _ =
                    super::super::hover::hover(Store::builtin(), &cursor, Some("v1"), Some("Pod"));
                let _ = super::super::hover::hover_in_text(Store::builtin(), text, offset);
                offset += text[offset..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }

    #[test]
    fn snippets_become_plain_text() {
        assert_eq!(snippet_to_plain("a: ${1|x,y|}"), "a: ");
        assert_eq!(snippet_to_plain("name: ${1:name}\n$0"), "name: name\n");
        assert_eq!(snippet_to_plain("cost: \\$5"), "cost: $5");
    }
}
