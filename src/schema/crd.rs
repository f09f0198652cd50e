//! CustomResourceDefinitions as a schema source: each served version's `openAPIV3Schema` becomes
//! the [`GroupVersionSchemas`] of its custom resource, with a [`ResourceInfo`] from `spec.names`.
//!
//! The apiserver validates a custom resource's `metadata` as ObjectMeta and its `apiVersion`
//! and `kind` as strings whatever the CRD says, so the converted schema does too (ObjectMeta and
//! the schemas it refers to are copied from the built-in `api/v1`). apiextensions.k8s.io/v1beta1
//! CRDs (`spec.validation`, `spec.version`) are read as well.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

use super::store::{
    GroupVersionSchemas, GvkRef, ResourceInfo, Schema, Scope, Store, api_version, openapi_path,
    split_api_version,
};
use crate::yaml::split;
use crate::yaml::value::{Limits, document_to_json};

pub const CRD_KIND: &str = "CustomResourceDefinition";
pub const CRD_GROUP: &str = "apiextensions.k8s.io";
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// CRD documents larger than this are not read (the apiserver takes at most 3 MiB per request).
pub const MAX_CRD_BYTES: usize = 4 << 20;
/// Schemas nested deeper than this (in JSON levels) are not converted: deserializing them
/// recurses, and no real CRD comes close.
pub const MAX_SCHEMA_DEPTH: usize = 160;

/// Whether `apiVersion` + `kind` name a CustomResourceDefinition.
pub fn is_crd(api_version: &str, kind: &str) -> bool {
    let (group, version) = split_api_version(api_version);
    kind == CRD_KIND && group == CRD_GROUP && matches!(version, "v1" | "v1beta1")
}

/// The custom resources one CRD (as JSON) defines, one per served version with a schema.
pub fn schemas_from_crd(crd: &Value) -> Result<Vec<(ResourceInfo, GroupVersionSchemas)>, String> {
    let spec = crd.get("spec").ok_or("the CRD has no spec")?;
    let group = text_at(spec, "group").ok_or("the CRD has no spec.group")?;
    let names: Names = spec
        .get("names")
        .map(|names| Names::deserialize(names).map_err(|e| format!("spec.names: {e}")))
        .transpose()?
        .ok_or("the CRD has no spec.names")?;
    if names.kind.is_empty() || names.plural.is_empty() {
        return Err("spec.names needs kind and plural".to_string());
    }
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
    if versions.is_empty() {
        if let Some(name) = text_at(spec, "version") {
            versions.push((name, shared_schema));
        }
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
        let schemas = convert_schema(schema, &resource)
            .map_err(|e| format!("{} ({}): {e}", names.kind, api_version(group, version)))?;
        out.push((resource, schemas));
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
) -> Result<GroupVersionSchemas, String> {
    let mut root = match schema {
        // No schema (v1beta1 allowed it): anything goes, like x-kubernetes-preserve-unknown-fields.
        None => Schema {
            ty: Some("object".into()),
            preserve_unknown_fields: true,
            ..Schema::default()
        },
        Some(value) => {
            if json_depth(value) > MAX_SCHEMA_DEPTH {
                return Err(format!(
                    "openAPIV3Schema is nested deeper than {MAX_SCHEMA_DEPTH} levels"
                ));
            }
            let mut schema =
                Schema::deserialize(value).map_err(|e| format!("openAPIV3Schema: {e}"))?;
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
        schema.additional_properties = Some(Box::new(super::store::Additional::Allowed(false)));
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
    if let Some(super::store::Additional::Schema(values)) =
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
    if let Some(super::store::Additional::Schema(values)) = schema.additional_properties.as_deref()
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

/// A catalog layer of the CRDs in `text`, labelled `source`; `None` when it defines none.
pub fn store_from_text(source: &str, text: &str) -> Option<Store> {
    let scan = crds_in_text(text);
    for problem in &scan.problems {
        tracing::warn!("{source}: {problem}");
    }
    (!scan.entries.is_empty()).then(|| Store::from_schemas(source, scan.entries))
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
}
