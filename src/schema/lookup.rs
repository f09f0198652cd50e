//! How completion and hover find schemas: the [`SchemaLookup`] of a source (a
//! [`Store`] or the layered [`Catalog`]), a path followed through a kind's schema
//! ([`resolve`]), and which kinds are Lists of objects ([`is_list`]).

use std::sync::Arc;

use super::catalog::Catalog;
use super::openapi::{GroupVersionSchemas, SchemaNode};
use super::store::{ResourceInfo, Store};
use crate::yaml::key_path::{KeyPath, Segment};

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

/// Follows `path` from `root`: properties, typed maps and array items. Also says whether the
/// last key is required by its parent.
pub fn resolve<'g>(root: SchemaNode<'g>, path: &KeyPath) -> Option<(SchemaNode<'g>, bool)> {
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
