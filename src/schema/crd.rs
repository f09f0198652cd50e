//! CustomResourceDefinitions as a schema source: each served version's `openAPIV3Schema` becomes
//! the [`GroupVersionSchemas`] of its custom resource, with a [`ResourceInfo`] from `spec.names`.
//!
//! The apiserver validates a custom resource's `metadata` as ObjectMeta and its `apiVersion`
//! and `kind` as strings whatever the CRD says, so the converted schema does too (ObjectMeta and
//! the schemas it refers to are copied from the built-in `api/v1`). apiextensions.k8s.io/v1beta1
//! CRDs (`spec.validation`, `spec.version`) are read as well.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock};

use ropey::Rope;
use serde::Deserialize;
use serde_json::Value;

use super::openapi::{GroupVersionSchemas, GvkRef, Schema};
use super::store::{
    KindLoader, ResourceInfo, Scope, Store, api_version, openapi_path, split_api_version,
};
use crate::yaml::split;
use crate::yaml::value::{Limits, ValueError, document_to_json};

pub const CRD_KIND: &str = "CustomResourceDefinition";
pub const CRD_GROUP: &str = "apiextensions.k8s.io";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// CRD documents larger than this are not read (the apiserver takes at most 3 MiB per request).
pub const MAX_CRD_BYTES: usize = 4 << 20;
/// Schemas nested deeper than this (in JSON levels) are not converted: deserializing them
/// recurses, and no real CRD comes close.
pub const MAX_SCHEMA_DEPTH: usize = 160;

/// Why a CRD could not be read as a schema source.
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    #[error("the CRD has no spec")]
    NoSpec,
    #[error("the CRD has no spec.names")]
    NoNames,
    #[error("spec.names: {0}")]
    Names(serde_json::Error),
    #[error("spec.names needs kind and plural")]
    IncompleteNames,
    #[error("the CRD has no spec.group")]
    NoGroup,
    #[error("openAPIV3Schema is nested deeper than {MAX_SCHEMA_DEPTH} levels")]
    SchemaTooDeep,
    #[error("openAPIV3Schema: {0}")]
    Schema(serde_json::Error),
    /// A version's schema could not be converted.
    #[error("{kind} ({api_version}): {source}")]
    Version {
        kind: String,
        api_version: String,
        source: Box<CrdError>,
    },
    /// The CRD document is not YAML that reads as JSON.
    #[error(transparent)]
    Yaml(#[from] ValueError),
    #[error("the CRD document is empty")]
    Empty,
    /// The CRD's text changed between reading its kinds and converting their schemas.
    #[error("the CRD no longer defines {kind} {version}")]
    VersionGone { kind: String, version: String },
}

/// Whether `apiVersion` + `kind` name a CustomResourceDefinition.
pub fn is_crd(api_version: &str, kind: &str) -> bool {
    let (group, version) = split_api_version(api_version);
    kind == CRD_KIND && group == CRD_GROUP && matches!(version, "v1" | "v1beta1")
}

/// The custom resources one CRD (as JSON) defines, one per served version with a schema.
pub fn schemas_from_crd(crd: &Value) -> Result<Vec<(ResourceInfo, GroupVersionSchemas)>, CrdError> {
    let names = names_of(crd)?;
    let mut out = Vec::new();
    for (resource, schema) in served_versions(crd, &names)? {
        let schemas = convert_schema(schema, &resource).map_err(|e| CrdError::Version {
            kind: names.kind.clone(),
            api_version: api_version(&resource.group, &resource.version),
            source: Box::new(e),
        })?;
        out.push((resource, schemas));
    }
    Ok(out)
}

/// The resources one CRD (as JSON) defines, one per served version, without reading schemas.
fn resources_of_crd(crd: &Value) -> Result<Vec<ResourceInfo>, CrdError> {
    let names = names_of(crd)?;
    Ok(served_versions(crd, &names)?
        .into_iter()
        .map(|(resource, _)| resource)
        .collect())
}

fn names_of(crd: &Value) -> Result<Names, CrdError> {
    let spec = crd.get("spec").ok_or(CrdError::NoSpec)?;
    let names: Names = spec
        .get("names")
        .map(|names| Names::deserialize(names).map_err(CrdError::Names))
        .transpose()?
        .ok_or(CrdError::NoNames)?;
    if names.kind.is_empty() || names.plural.is_empty() {
        return Err(CrdError::IncompleteNames);
    }
    Ok(names)
}

/// Each served version's resource, with the schema that version has (its own or the shared one).
fn served_versions<'v>(
    crd: &'v Value,
    names: &Names,
) -> Result<Vec<(ResourceInfo, Option<&'v Value>)>, CrdError> {
    let spec = crd.get("spec").ok_or(CrdError::NoSpec)?;
    let group = text_at(spec, "group").ok_or(CrdError::NoGroup)?;
    let scope = match text_at(spec, "scope") {
        Some("Cluster") => Scope::Cluster,
        _ => Scope::Namespaced,
    };
    let shared_schema = spec.pointer("/validation/openAPIV3Schema");
    let mut versions: Vec<(&str, Option<&Value>)> = Vec::new();
    for version in spec
        .get("versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = text_at(version, "name") else {
            continue;
        };
        if version.get("served").and_then(Value::as_bool) == Some(false) {
            continue;
        }
        let schema = version.pointer("/schema/openAPIV3Schema").or(shared_schema);
        versions.push((name, schema));
    }
    if versions.is_empty()
        && let Some(name) = text_at(spec, "version")
    {
        versions.push((name, shared_schema));
    }
    let mut out = Vec::new();
    for (version, schema) in versions {
        let resource = ResourceInfo {
            group: group.to_string(),
            version: version.to_string(),
            kind: names.kind.clone(),
            plural: names.plural.clone(),
            singular: names
                .singular
                .clone()
                .unwrap_or_else(|| names.kind.to_lowercase()),
            scope,
            short_names: names.short_names.clone(),
            verbs: Vec::new(),
            categories: names.categories.clone(),
            openapi_path: openapi_path(group, version),
        };
        out.push((resource, schema));
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Names {
    kind: String,
    plural: String,
    singular: Option<String>,
    short_names: Vec<String>,
    categories: Vec<String>,
}

fn text_at<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// One version's schema as a group-version document holding the kind and ObjectMeta.
fn convert_schema(
    schema: Option<&Value>,
    resource: &ResourceInfo,
) -> Result<GroupVersionSchemas, CrdError> {
    let mut root = match schema {
        // No schema (v1beta1 allowed it): anything goes, like x-kubernetes-preserve-unknown-fields.
        None => Schema {
            ty: Some("object".into()),
            preserve_unknown_fields: true,
            ..Schema::default()
        },
        Some(value) => {
            if json_depth(value) > MAX_SCHEMA_DEPTH {
                return Err(CrdError::SchemaTooDeep);
            }
            let mut schema = Schema::deserialize(value).map_err(CrdError::Schema)?;
            structural(&mut schema);
            schema
        }
    };
    add_type_meta(&mut root);
    root.gvk = vec![GvkRef {
        group: resource.group.clone(),
        version: resource.version.clone(),
        kind: resource.kind.clone(),
    }];
    let name: Box<str> =
        format!("{}.{}.{}", resource.group, resource.version, resource.kind).into();
    let mut schemas: HashMap<Box<str>, Schema> = object_meta_schemas().clone();
    schemas.insert(name.clone(), root);
    let kinds = HashMap::from([(resource.kind.clone(), name)]);
    Ok(GroupVersionSchemas { schemas, kinds })
}

/// Reads a CRD schema as the apiserver's structural schema does:
/// - `$ref` is not allowed (the CRD document gets that error): read as "anything" rather than
///   followed into other schemas;
/// - an object with no properties, no additionalProperties and no
///   x-kubernetes-preserve-unknown-fields keeps no field (pruning, an unknown-field error under
///   strict field validation);
/// - an x-kubernetes-embedded-resource always keeps `apiVersion`, `kind` and `metadata`.
fn structural(schema: &mut Schema) {
    schema.reference = None;
    let prunes_everything = schema.ty.as_deref() == Some("object")
        && schema.properties.is_empty()
        && schema.additional_properties.is_none()
        && !schema.preserve_unknown_fields
        && schema.all_of.is_empty()
        && schema.any_of.is_empty()
        && schema.one_of.is_empty();
    if prunes_everything {
        schema.additional_properties = Some(Box::new(super::openapi::Additional::Allowed(false)));
    }
    let nested = schema
        .properties
        .values_mut()
        .chain(schema.items.as_deref_mut())
        .chain(schema.all_of.iter_mut())
        .chain(schema.one_of.iter_mut())
        .chain(schema.any_of.iter_mut());
    for child in nested {
        structural(child);
    }
    if let Some(super::openapi::Additional::Schema(values)) =
        schema.additional_properties.as_deref_mut()
    {
        structural(values);
    }
    if schema.embedded_resource {
        add_type_meta(schema);
    }
}

/// `apiVersion` and `kind` as strings, `metadata` as ObjectMeta: what the apiserver validates in
/// every custom resource and embedded resource, whatever its schema says.
fn add_type_meta(schema: &mut Schema) {
    let string = || Schema {
        ty: Some("string".into()),
        ..Schema::default()
    };
    schema.properties.insert("apiVersion".into(), string());
    schema.properties.insert("kind".into(), string());
    schema.properties.insert(
        "metadata".into(),
        Schema {
            reference: Some(format!("#/components/schemas/{OBJECT_META}").into()),
            ..Schema::default()
        },
    );
}

/// ObjectMeta and every schema it refers to, from the built-in `api/v1`.
fn object_meta_schemas() -> &'static HashMap<Box<str>, Schema> {
    static META: OnceLock<HashMap<Box<str>, Schema>> = OnceLock::new();
    META.get_or_init(|| {
        let mut out = HashMap::new();
        let Some(core) = Store::builtin().group_version("api/v1") else {
            return out;
        };
        let mut pending = vec![OBJECT_META.to_string()];
        let mut seen = HashSet::new();
        while let Some(name) = pending.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let Some(schema) = core.by_name(&name) else {
                continue;
            };
            collect_refs(schema, &mut pending);
            out.insert(name.into(), schema.clone());
        }
        out
    })
}

fn collect_refs(schema: &Schema, out: &mut Vec<String>) {
    if let Some(reference) = &schema.reference {
        out.push(
            reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or(reference)
                .to_string(),
        );
    }
    let nested = schema
        .properties
        .values()
        .chain(schema.items.as_deref())
        .chain(schema.all_of.iter())
        .chain(schema.one_of.iter())
        .chain(schema.any_of.iter());
    for child in nested {
        collect_refs(child, out);
    }
    if let Some(super::openapi::Additional::Schema(values)) =
        schema.additional_properties.as_deref()
    {
        collect_refs(values, out);
    }
}

/// How deep a JSON value nests (without recursion).
fn json_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// The CRDs of a YAML text, and what could not be read (with the CRD's document index).
#[derive(Default)]
pub struct CrdScan {
    pub entries: Vec<(ResourceInfo, GroupVersionSchemas)>,
    pub problems: Vec<String>,
}

/// Reads every CRD document of `text`. Documents that do not mention the CRD kind are skipped
/// without parsing.
pub fn crds_in_text(text: &str) -> CrdScan {
    let mut scan = CrdScan::default();
    if !text.contains(CRD_KIND) {
        return scan;
    }
    let limits = Limits {
        max_depth: MAX_SCHEMA_DEPTH + 16,
        ..Limits::default()
    };
    for (index, range) in split::split(text).documents.into_iter().enumerate() {
        let document = &text[range];
        if !document.contains(CRD_KIND) {
            continue;
        }
        if document.len() > MAX_CRD_BYTES {
            scan.problems.push(format!(
                "document {index}: a CRD over {} MiB is not read",
                MAX_CRD_BYTES >> 20
            ));
            continue;
        }
        let value = match document_to_json(document, &limits) {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(error) => {
                scan.problems.push(format!("document {index}: {error}"));
                continue;
            }
        };
        let is_a_crd = matches!(
            (text_at(&value, "apiVersion"), text_at(&value, "kind")),
            (Some(a), Some(k)) if is_crd(a, k)
        );
        if !is_a_crd {
            continue;
        }
        match schemas_from_crd(&value) {
            Ok(entries) => scan.entries.extend(entries),
            Err(problem) => scan.problems.push(format!("document {index}: {problem}")),
        }
    }
    scan
}

work_counter!(
    /// Bytes of CRD text the layers built on this thread keep as copies.
    fn kept_copies() => KEPT_COPIES
);

/// A catalog layer of the CRDs in `text`, labelled `source`; `None` when it defines none.
///
/// Only the CRDs' names and versions are read up front (from the text without its
/// `openAPIV3Schema` blocks, see [`without_schemas`]): a kind's schema is converted when a
/// document of that kind first needs it, from the CRD document's text, which the layer keeps
/// until then. A big CRD file open in the editor (argocd's install.yaml) thus costs its text,
/// not its converted schemas (several times the text) and a JSON value of the whole CRD on
/// every change.
pub fn store_from_text(source: &str, text: &str) -> Option<Store> {
    store_from(source, text, |range| {
        count_work!(KEPT_COPIES, range.len());
        CrdText::Owned(text[range].to_string())
    })
}

/// [`store_from_text`] for the YAML document at `range` of an open file's `rope`: the layer
/// keeps a clone of the rope (which shares the editor's text) instead of a copy of the CRD's
/// text, and the text is copied once, while its names and versions are read.
pub fn store_from_rope(source: &str, rope: &Rope, range: Range<usize>) -> Option<Store> {
    let text = rope.get_byte_slice(range.clone())?.to_string();
    store_from(source, &text, |within| {
        CrdText::Rope(
            rope.clone(),
            range.start + within.start..range.start + within.end,
        )
    })
}

/// The layer of the CRDs in `text`; `keep` gives the text a CRD document's layer keeps, from
/// its range in `text`.
fn store_from(source: &str, text: &str, keep: impl Fn(Range<usize>) -> CrdText) -> Option<Store> {
    if !text.contains(CRD_KIND) {
        return None;
    }
    let mut entries: Vec<(ResourceInfo, KindLoader)> = Vec::new();
    for (index, range) in split::split(text).documents.into_iter().enumerate() {
        let document = &text[range.clone()];
        if !document.contains(CRD_KIND) {
            continue;
        }
        if document.len() > MAX_CRD_BYTES {
            tracing::warn!(
                "{source}: document {index}: a CRD over {} MiB is not read",
                MAX_CRD_BYTES >> 20
            );
            continue;
        }
        let resources = match crd_resources(document) {
            Ok(resources) => resources,
            Err(problem) => {
                tracing::warn!("{source}: document {index}: {problem}");
                continue;
            }
        };
        if resources.is_empty() {
            continue;
        }
        let crd = Arc::new(LazyCrd {
            state: Mutex::new(LazyState::Text(keep(range))),
        });
        for resource in resources {
            let (crd, version, kind) =
                (crd.clone(), resource.version.clone(), resource.kind.clone());
            let loader: KindLoader =
                Box::new(move || crd.schemas(&version, &kind).map_err(Into::into));
            entries.push((resource, loader));
        }
    }
    (!entries.is_empty()).then(|| Store::from_lazy_kinds(source, entries))
}

fn crd_limits() -> Limits {
    Limits {
        max_depth: MAX_SCHEMA_DEPTH + 16,
        ..Limits::default()
    }
}

/// The resources a CRD document defines (none when it is no CRD), read from its text without
/// the schemas; the whole text is read when that shortened text does not parse.
fn crd_resources(document: &str) -> Result<Vec<ResourceInfo>, CrdError> {
    let limits = crd_limits();
    let short = without_schemas(document);
    let value = match document_to_json(&short, &limits) {
        Ok(value) => value,
        Err(_) if short.len() < document.len() => document_to_json(document, &limits)?,
        Err(error) => return Err(error.into()),
    };
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let is_a_crd = matches!(
        (text_at(&value, "apiVersion"), text_at(&value, "kind")),
        (Some(a), Some(k)) if is_crd(a, k)
    );
    if !is_a_crd {
        return Ok(Vec::new());
    }
    resources_of_crd(&value)
}

/// A CRD document's text: a copy, or where it is in an open file's rope.
enum CrdText {
    Owned(String),
    Rope(Rope, Range<usize>),
}

impl CrdText {
    fn read(&self) -> Cow<'_, str> {
        match self {
            CrdText::Owned(text) => Cow::Borrowed(text),
            CrdText::Rope(rope, range) => Cow::Owned(
                rope.get_byte_slice(range.clone())
                    .map(|slice| slice.to_string())
                    .unwrap_or_default(),
            ),
        }
    }
}

/// A CRD document's text until one of its kinds is needed, then what its conversion gave
/// (each version's schemas, taken by that version's loader).
struct LazyCrd {
    state: Mutex<LazyState>,
}

enum LazyState {
    Text(CrdText),
    /// The conversion's error is shared by every version's loader.
    Converted(Result<HashMap<String, GroupVersionSchemas>, Arc<CrdError>>),
}

impl LazyCrd {
    fn schemas(&self, version: &str, kind: &str) -> Result<GroupVersionSchemas, Arc<CrdError>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let LazyState::Text(text) = &*state {
            let converted = convert_document(&text.read())
                .map(|entries| {
                    entries
                        .into_iter()
                        .map(|(resource, schemas)| (resource.version, schemas))
                        .collect()
                })
                .map_err(Arc::new);
            *state = LazyState::Converted(converted);
        }
        match &mut *state {
            LazyState::Converted(Ok(versions)) => versions.remove(version).ok_or_else(|| {
                Arc::new(CrdError::VersionGone {
                    kind: kind.to_string(),
                    version: version.to_string(),
                })
            }),
            LazyState::Converted(Err(problem)) => Err(problem.clone()),
            LazyState::Text(_) => unreachable!("converted above"),
        }
    }
}

/// Every served version's schemas of one CRD document (what [`crds_in_text`] reads per document).
fn convert_document(document: &str) -> Result<Vec<(ResourceInfo, GroupVersionSchemas)>, CrdError> {
    let value = document_to_json(document, &crd_limits())?.ok_or(CrdError::Empty)?;
    schemas_from_crd(&value)
}

/// The document without the lines of its `openAPIV3Schema:` blocks (a key alone on its line:
/// the lines after it that are blank, comments, or indented deeper go). What remains holds
/// the CRD's group, names, scope and versions, and parses in a fraction of the time; the
/// schemas are read from the whole text when needed. Borrowed when nothing is cut.
pub fn without_schemas(document: &str) -> Cow<'_, str> {
    const KEY: &str = "openAPIV3Schema:";
    let mut out = String::new();
    let mut kept_until = 0;
    let mut cutting: Option<usize> = None;
    let mut offset = 0;
    for line in lines_of(document) {
        let start = offset;
        offset += line.len();
        // Inside a block, a line deeper than its key goes without reading the rest of its
        // indentation (schemas are most of a CRD, and deeply indented).
        if let Some(key_indent) = cutting
            && line.as_bytes().get(..=key_indent).is_some_and(all_spaces)
        {
            continue;
        }
        let indent = line.bytes().take_while(|b| *b == b' ').count();
        let content = &line[indent..];
        let blank_or_comment = content.trim_start().is_empty() || content.starts_with('#');
        if let Some(key_indent) = cutting {
            if blank_or_comment || indent > key_indent {
                continue;
            }
            cutting = None;
            kept_until = start;
        }
        let key = content.strip_prefix("- ").unwrap_or(content);
        let key_indent = indent + (content.len() - key.len());
        let rest = key.strip_prefix(KEY).map(str::trim);
        if rest.is_some_and(|rest| rest.is_empty() || rest.starts_with('#')) {
            out.push_str(&document[kept_until..offset]);
            cutting = Some(key_indent);
        }
    }
    if out.is_empty() && cutting.is_none() {
        return Cow::Borrowed(document);
    }
    if cutting.is_none() {
        out.push_str(&document[kept_until..]);
    }
    Cow::Owned(out)
}

/// The lines of `text`, each with its `\n` (as `split_inclusive('\n')`), found with `memchr`.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b'\n', text.as_bytes())
        .map(|at| at + 1)
        .chain((!text.ends_with('\n') && !text.is_empty()).then_some(text.len()));
    let mut start = 0;
    ends.map(move |end| {
        let line = &text[start..end];
        start = end;
        line
    })
}

fn all_spaces(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Catalog, ValueKind};
    use std::sync::Arc;

    pub const CRD: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets, shortNames: [wd], categories: [all]}\n  scope: Cluster\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            required: [size]\n            properties:\n              size: {type: integer}\n  - name: v0\n    served: false\n    storage: false\n";

    #[test]
    fn served_versions_become_resources() {
        let scan = crds_in_text(CRD);
        assert!(scan.problems.is_empty(), "{:?}", scan.problems);
        assert_eq!(scan.entries.len(), 1);
        let (resource, schemas) = &scan.entries[0];
        assert_eq!(resource.api_version(), "example.com/v1");
        assert_eq!(resource.plural, "widgets");
        assert_eq!(resource.singular, "widget");
        assert_eq!(resource.short_names, ["wd"]);
        assert_eq!(resource.scope, Scope::Cluster);
        let widget = schemas.kind("Widget").unwrap();
        let size = widget
            .property("spec")
            .and_then(|s| s.property("size"))
            .unwrap();
        assert_eq!(size.kind(), ValueKind::Integer);
        let metadata = widget.property("metadata").unwrap();
        assert_eq!(metadata.name, Some(OBJECT_META));
        let labels = metadata.property("labels").unwrap();
        assert_eq!(labels.type_label(), "map[string]string");
        assert_eq!(widget.property("kind").unwrap().kind(), ValueKind::String);
    }

    #[test]
    fn v1beta1_shared_validation_is_read() {
        let text = "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata: {name: gizmos.example.com}\nspec:\n  group: example.com\n  version: v2\n  names: {kind: Gizmo, plural: gizmos}\n  validation:\n    openAPIV3Schema:\n      properties:\n        count: {type: integer}\n";
        let store = store_from_text("CRD in test", text).unwrap();
        let (_, schemas) = store.schemas_for("example.com/v2", "Gizmo").unwrap();
        assert_eq!(
            schemas
                .kind("Gizmo")
                .unwrap()
                .property("count")
                .unwrap()
                .kind(),
            ValueKind::Integer
        );
    }

    #[test]
    fn broken_crds_are_problems_not_panics() {
        let deep = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: a.b}}\nspec:\n  group: b\n  names: {{kind: A, plural: as}}\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema: {}{}\n",
            "{properties: {x: ".repeat(120),
            "}}".repeat(120)
        );
        let bad_type = CRD.replace("size: {type: integer}", "size: {type: [1, 2]}");
        let no_names = CRD.replace(
            "  names: {kind: Widget, plural: widgets, shortNames: [wd], categories: [all]}\n",
            "",
        );
        for text in [deep.as_str(), &bad_type, &no_names] {
            let scan = crds_in_text(text);
            assert!(scan.entries.is_empty());
            assert_eq!(scan.problems.len(), 1, "{:?}", scan.problems);
        }
        // A recursive `$ref` (CRDs may not use refs; the apiserver rejects them) reads as "any".
        let recursive = CRD.replace(
            "size: {type: integer}",
            "size: {$ref: '#/components/schemas/example.com.v1.Widget'}",
        );
        let store = store_from_text("CRD in test", &recursive).unwrap();
        let (_, schemas) = store.schemas_for("example.com/v1", "Widget").unwrap();
        let size = schemas
            .kind("Widget")
            .and_then(|w| w.property("spec"))
            .and_then(|s| s.property("size"))
            .unwrap();
        assert_eq!(size.kind(), ValueKind::Any);
    }

    #[test]
    fn a_crd_layer_answers_for_its_kinds() {
        let store = store_from_text("CRD in file:///crds.yaml", CRD).unwrap();
        let catalog = Catalog::with_builtin([Arc::new(store)]);
        let found = catalog.schemas_for("example.com/v1", "Widget").unwrap();
        assert_eq!(found.source, "CRD in file:///crds.yaml");
        assert!(catalog.schemas_for("example.com/v0", "Widget").is_none());
        assert!(store_from_text("x", "apiVersion: v1\nkind: ConfigMap\n").is_none());
    }

    #[test]
    fn the_short_text_drops_only_schema_blocks() {
        let short = without_schemas(CRD);
        assert!(
            short.contains("openAPIV3Schema:\n  - name: v0\n"),
            "{short}"
        );
        assert!(!short.contains("size"));
        let text = "spec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:  # c\n\n        # x\n        type: object\n      other: 1\n  - name: v2\n    schema:\n      openAPIV3Schema: {type: object}\n";
        assert_eq!(
            without_schemas(text),
            "spec:\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:  # c\n      other: 1\n  - name: v2\n    schema:\n      openAPIV3Schema: {type: object}\n"
        );
        let item = "versions:\n- openAPIV3Schema:\n    type: object\n  name: v1\n";
        assert_eq!(
            without_schemas(item),
            "versions:\n- openAPIV3Schema:\n  name: v1\n"
        );
        assert!(matches!(without_schemas("a: 1\n"), Cow::Borrowed(_)));
    }

    /// The short text as it was first read: every line's indentation counted.
    fn without_schemas_line_by_line(document: &str) -> String {
        const KEY: &str = "openAPIV3Schema:";
        let (mut out, mut kept_until, mut cutting, mut offset) = (String::new(), 0, None, 0);
        for line in document.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let content = line.trim_start_matches(' ');
            let indent = line.len() - content.len();
            let blank_or_comment = content.trim_start().is_empty() || content.starts_with('#');
            if let Some(key_indent) = cutting {
                if blank_or_comment || indent > key_indent {
                    continue;
                }
                cutting = None;
                kept_until = start;
            }
            let key = content.strip_prefix("- ").unwrap_or(content);
            let key_indent = indent + (content.len() - key.len());
            let rest = key.strip_prefix(KEY).map(str::trim);
            if rest.is_some_and(|rest| rest.is_empty() || rest.starts_with('#')) {
                out.push_str(&document[kept_until..offset]);
                cutting = Some(key_indent);
            }
        }
        if cutting.is_none() {
            out.push_str(&document[kept_until..]);
        }
        out
    }

    /// Every corpus document that mentions the CRD kind, and edge cases: the short text skips
    /// deeper lines without counting their indentation, and cuts the same lines.
    #[test]
    fn the_short_text_is_the_same_whatever_the_indentation_read() {
        let mut compared = 0;
        let edge_cases = [
            "a:\n  openAPIV3Schema:\n\n    x: 1\n  \n   \n  b: 2\n",
            "openAPIV3Schema:\n x\n#c\ny: 1",
            "- openAPIV3Schema:\n    t: o\n  n: v1\n   \n- openAPIV3Schema: # c\n      deep\n",
            "  openAPIV3Schema:\n \u{e9}\n  \u{e9}: 1\n",
        ];
        let corpus = crate::yaml::corpus::documents();
        let documents = edge_cases
            .iter()
            .map(|text| text.to_string())
            .chain(corpus.into_iter().map(|(_, text)| text))
            .filter(|text| text.contains(KEY_OF_SCHEMAS));
        for document in documents {
            assert_eq!(
                without_schemas(&document),
                without_schemas_line_by_line(&document)
            );
            compared += 1;
        }
        assert!(compared > 10, "{compared}");
    }

    const KEY_OF_SCHEMAS: &str = "openAPIV3Schema:";

    /// argocd's install.yaml, whose three CRDs are most of its 1.9 MB, and the corpus' files
    /// with CRDs: a layer read from an open file's rope answers as one read from the text, and
    /// keeps no copy of the CRDs' text (one read from the text keeps them all).
    #[test]
    fn a_layer_of_a_rope_answers_as_one_of_its_text_and_keeps_no_copy() {
        let mut compared = 0;
        let argocd = crate::yaml::corpus::read("real/argocd-install.yaml");
        let files = crate::yaml::corpus::yaml_files(&crate::yaml::corpus::root());
        let texts = files
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .filter(|text| text.contains(CRD_KIND))
            .chain([argocd.clone()]);
        for text in texts {
            let rope = Rope::from_str(&text);
            for range in split::split(&text).documents {
                let kept_before = kept_copies();
                let from_text = store_from_text("CRD in test", &text[range.clone()]);
                let copied = kept_copies() - kept_before;
                let from_rope = store_from_rope("CRD in test", &rope, range.clone());
                assert_eq!(kept_copies() - kept_before, copied);
                match (from_text, from_rope) {
                    (Some(from_text), Some(from_rope)) => {
                        assert!(copied > 0);
                        assert_eq!(answers(&from_rope), answers(&from_text));
                        compared += 1;
                    }
                    (None, None) => {}
                    _ => panic!("one layer of {range:?} but not the other"),
                }
            }
        }
        assert!(compared > 10, "only {compared} CRDs");
        let kept_before = kept_copies();
        let ranges = split::split(&argocd).documents;
        let rope = Rope::from_str(&argocd);
        let layers = ranges
            .iter()
            .filter_map(|range| store_from_rope("CRD in test", &rope, range.clone()))
            .count();
        assert_eq!((layers, kept_copies() - kept_before), (3, 0));
    }

    /// What the lazy layer answers, kind by kind, as text (resource and the schema's shape).
    fn answers(store: &Store) -> Vec<String> {
        let mut out: Vec<String> = store
            .resources()
            .iter()
            .map(|r| {
                let schema = store
                    .schemas_for(&r.api_version(), &r.kind)
                    .and_then(|(_, gv)| {
                        let root = gv.kind(&r.kind)?;
                        let mut paths = Vec::new();
                        shape(root, "", 0, &mut paths);
                        Some(paths.join(" "))
                    });
                format!("{r:?} {schema:?}")
            })
            .collect();
        out.sort();
        out
    }

    fn shape(node: crate::schema::SchemaNode<'_>, at: &str, depth: usize, out: &mut Vec<String>) {
        out.push(format!("{at}:{}", node.type_label()));
        if depth < 8 {
            for (name, child) in node.properties() {
                shape(child, &format!("{at}.{name}"), depth + 1, out);
            }
            if let Some(items) = node.items() {
                shape(items, &format!("{at}[]"), depth + 1, out);
            }
        }
    }

    #[test]
    fn the_lazy_layer_answers_like_an_eager_one_on_the_corpus() {
        let mut compared = 0;
        for (at, text) in crate::yaml::corpus::documents() {
            if !text.contains(CRD_KIND) {
                continue;
            }
            let scan = crds_in_text(&text);
            let eager = Store::from_schemas("CRD in test", scan.entries);
            match store_from_text("CRD in test", &text) {
                Some(lazy) => {
                    assert_eq!(answers(&lazy), answers(&eager), "{at}");
                    compared += 1;
                }
                None => assert!(eager.resources().is_empty(), "{at}"),
            }
        }
        assert!(compared > 10, "only {compared} CRDs in the corpus");
    }

    #[test]
    fn a_crd_whose_schema_cannot_be_read_is_unknown_once_needed() {
        let bad_type = CRD.replace("size: {type: integer}", "size: {type: [1, 2]}");
        let store = store_from_text("CRD in test", &bad_type).unwrap();
        assert!(store.resource("example.com/v1", "Widget").is_some());
        assert!(store.schemas_for("example.com/v1", "Widget").is_none());
        assert!(store.resource("example.com/v1", "Widget").is_none());
    }

    #[test]
    fn versions_of_one_crd_share_one_conversion() {
        let two = CRD.replace(
            "  - name: v0\n    served: false\n",
            "  - name: v0\n    served: true\n",
        );
        let store = store_from_text("CRD in test", &two).unwrap();
        assert!(store.schemas_for("example.com/v1", "Widget").is_some());
        // v0 has no schema of its own and none shared: anything goes.
        let (_, v0) = store.schemas_for("example.com/v0", "Widget").unwrap();
        assert!(v0.kind("Widget").unwrap().preserve_unknown_fields());
    }
}
