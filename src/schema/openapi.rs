//! The OpenAPI v3 model of one group-version: its schemas (`components.schemas`, parsed straight
//! into the compact [`Schema`]; unknown keys and the large `paths` section are skipped), and
//! [`SchemaNode`], a schema as validation, completion and hover read it (`$ref` and single-`allOf`
//! wrappers resolved).

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

/// One node of an OpenAPI v3 schema, with the keys Kubernetes uses.
#[derive(Debug, Default, Deserialize, Clone)]
#[serde(default)]
pub struct Schema {
    #[serde(rename = "type")]
    pub ty: Option<Box<str>>,
    pub format: Option<Box<str>>,
    pub description: Option<Box<str>>,
    pub default: Option<Value>,
    #[serde(rename = "enum")]
    pub enum_values: Option<Vec<Value>>,
    pub nullable: bool,
    pub properties: Properties,
    pub required: Vec<Box<str>>,
    pub items: Option<Box<Schema>>,
    #[serde(rename = "additionalProperties")]
    pub additional_properties: Option<Box<Additional>>,
    #[serde(rename = "allOf")]
    pub all_of: Vec<Schema>,
    #[serde(rename = "oneOf")]
    pub one_of: Vec<Schema>,
    #[serde(rename = "anyOf")]
    pub any_of: Vec<Schema>,
    #[serde(rename = "$ref")]
    pub reference: Option<Box<str>>,
    #[serde(rename = "x-kubernetes-int-or-string")]
    pub int_or_string: bool,
    #[serde(rename = "x-kubernetes-preserve-unknown-fields")]
    pub preserve_unknown_fields: bool,
    #[serde(rename = "x-kubernetes-embedded-resource")]
    pub embedded_resource: bool,
    #[serde(rename = "x-kubernetes-list-type")]
    pub list_type: Option<Box<str>>,
    #[serde(rename = "x-kubernetes-list-map-keys")]
    pub list_map_keys: Vec<Box<str>>,
    #[serde(rename = "x-kubernetes-group-version-kind")]
    pub gvk: Vec<GvkRef>,
    /// CEL rules of CRD schemas (`x-kubernetes-validations`).
    #[serde(rename = "x-kubernetes-validations")]
    pub validations: Vec<ValidationRule>,
    /// Why a field is deprecated (the kustomize schema's `x-kube-lsp-deprecated`).
    #[serde(rename = "x-kube-lsp-deprecated")]
    pub deprecated: Option<Box<str>>,
}

/// A schema's `properties`, sorted by name: one vector of exactly the entries (a `BTreeMap`
/// allocates nodes of eleven slots even for maps of two or three fields).
#[derive(Debug, Default, Clone)]
pub struct Properties(Vec<(Box<str>, Schema)>);

impl Properties {
    pub fn get(&self, name: &str) -> Option<&Schema> {
        self.0
            .binary_search_by(|(key, _)| (**key).cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Adds or replaces the schema of `name`.
    pub fn insert(&mut self, name: Box<str>, schema: Schema) {
        match self.0.binary_search_by(|(key, _)| key.cmp(&name)) {
            Ok(i) => self.0[i].1 = schema,
            Err(i) => self.0.insert(i, (name, schema)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// In name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Schema)> {
        self.0.iter().map(|(key, schema)| (&**key, schema))
    }

    pub fn values(&self) -> impl Iterator<Item = &Schema> {
        self.0.iter().map(|(_, schema)| schema)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut Schema> {
        self.0.iter_mut().map(|(_, schema)| schema)
    }
}

impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Properties;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of schemas")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Properties, A::Error> {
                let mut entries: Vec<(Box<str>, Schema)> =
                    Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                // A repeated name keeps its last schema, as a map would.
                entries.reverse();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.dedup_by(|later, kept| later.0 == kept.0);
                entries.shrink_to_fit();
                Ok(Properties(entries))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// One `x-kubernetes-validations` entry.
#[derive(Debug, Default, Deserialize, Clone, PartialEq, Eq)]
#[serde(default, rename_all = "camelCase")]
pub struct ValidationRule {
    pub rule: String,
    pub message: Option<String>,
    pub message_expression: Option<String>,
    pub field_path: Option<String>,
}

/// `additionalProperties`: a boolean or a schema.
// Always behind the `Box` of `Schema::additional_properties`: boxing the variant too would
// only add an indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Deserialize, Clone)]
#[serde(untagged)]
pub enum Additional {
    Allowed(bool),
    Schema(Schema),
}

#[derive(Debug, Default, Deserialize, Clone, PartialEq, Eq)]
#[serde(default)]
pub struct GvkRef {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// The schemas of one group-version (`components.schemas` of its OpenAPI v3 document).
#[derive(Debug, Default)]
pub struct GroupVersionSchemas {
    pub schemas: HashMap<Box<str>, Schema>,
    /// Kind → name of its top-level schema.
    pub kinds: HashMap<String, Box<str>>,
}

const REF_PREFIX: &str = "#/components/schemas/";
/// Chains of `$ref`/`allOf` wrappers longer than this are treated as cycles.
const MAX_REF_HOPS: usize = 32;

impl GroupVersionSchemas {
    /// The schemas of an OpenAPI v3 document, with the kinds of `group`/`version` they define.
    pub fn parse(json: &[u8], group: &str, version: &str) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Document {
            #[serde(default)]
            components: Components,
            #[serde(default, rename = "paths")]
            _paths: IgnoredAny,
        }
        #[derive(Deserialize, Default)]
        struct Components {
            #[serde(default)]
            schemas: HashMap<Box<str>, Schema>,
        }
        let document: Document = serde_json::from_slice(json)?;
        let schemas = document.components.schemas;
        let mut kinds = HashMap::new();
        for (name, schema) in &schemas {
            for gvk in &schema.gvk {
                if gvk.group == group && gvk.version == version {
                    kinds.insert(gvk.kind.clone(), name.clone());
                }
            }
        }
        Ok(Self { schemas, kinds })
    }

    pub fn by_name(&self, name: &str) -> Option<&Schema> {
        self.schemas.get(name)
    }

    /// The top-level schema of `kind`.
    pub fn kind(&self, kind: &str) -> Option<SchemaNode<'_>> {
        let name = self.kinds.get(kind)?;
        let schema = self.schemas.get(name)?;
        Some(self.node(schema))
    }

    /// A view of `schema` with its `$ref` and single-`allOf` wrappers resolved.
    pub fn node<'a>(&'a self, schema: &'a Schema) -> SchemaNode<'a> {
        let mut target = schema;
        let mut name = None;
        for _ in 0..MAX_REF_HOPS {
            let next = if let Some(reference) = &target.reference {
                let short = reference.strip_prefix(REF_PREFIX).unwrap_or(reference);
                match self.schemas.get_key_value(short) {
                    Some((key, next)) => {
                        name = Some(&**key);
                        next
                    }
                    None => break,
                }
            } else if target.all_of.len() == 1
                && target.ty.is_none()
                && target.properties.is_empty()
            {
                &target.all_of[0]
            } else {
                break;
            };
            target = next;
        }
        SchemaNode {
            gv: self,
            outer: schema,
            schema: target,
            name,
        }
    }
}

/// A schema as validation, completion and hover read it: the wrapper (which may carry the
/// description and default of a field) and the schema it refers to.
#[derive(Clone, Copy)]
pub struct SchemaNode<'a> {
    pub gv: &'a GroupVersionSchemas,
    outer: &'a Schema,
    /// The resolved schema (after `$ref` / `allOf`).
    pub schema: &'a Schema,
    /// The component name the wrappers pointed at, if any.
    pub name: Option<&'a str>,
}

/// What values a schema accepts, in the terms validation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    IntOrString,
    Quantity,
    /// Anything goes (no type, `x-kubernetes-preserve-unknown-fields` without properties, JSON).
    Any,
}

impl<'a> SchemaNode<'a> {
    pub fn description(&self) -> Option<&'a str> {
        self.outer
            .description
            .as_deref()
            .or(self.schema.description.as_deref())
    }

    pub fn default(&self) -> Option<&'a Value> {
        self.outer.default.as_ref().or(self.schema.default.as_ref())
    }

    pub fn format(&self) -> Option<&'a str> {
        self.schema.format.as_deref()
    }

    pub fn enum_values(&self) -> Option<&'a [Value]> {
        self.outer
            .enum_values
            .as_deref()
            .or(self.schema.enum_values.as_deref())
    }

    /// Why the field is deprecated, when it is.
    pub fn deprecated(&self) -> Option<&'a str> {
        self.outer
            .deprecated
            .as_deref()
            .or(self.schema.deprecated.as_deref())
    }

    pub fn nullable(&self) -> bool {
        self.outer.nullable || self.schema.nullable
    }

    pub fn required(&self) -> &'a [Box<str>] {
        &self.schema.required
    }

    pub fn list_type(&self) -> Option<&'a str> {
        self.outer
            .list_type
            .as_deref()
            .or(self.schema.list_type.as_deref())
    }

    pub fn list_map_keys(&self) -> &'a [Box<str>] {
        if self.outer.list_map_keys.is_empty() {
            &self.schema.list_map_keys
        } else {
            &self.outer.list_map_keys
        }
    }

    pub fn preserve_unknown_fields(&self) -> bool {
        self.outer.preserve_unknown_fields || self.schema.preserve_unknown_fields
    }

    pub fn embedded_resource(&self) -> bool {
        self.outer.embedded_resource || self.schema.embedded_resource
    }

    pub fn kind(&self) -> ValueKind {
        let s = self.schema;
        if self.name == Some("io.k8s.apimachinery.pkg.api.resource.Quantity") {
            return ValueKind::Quantity;
        }
        if s.int_or_string
            || self.outer.int_or_string
            || s.format.as_deref() == Some("int-or-string")
        {
            return ValueKind::IntOrString;
        }
        match s.ty.as_deref() {
            Some("object") => ValueKind::Object,
            Some("array") => ValueKind::Array,
            Some("string") => ValueKind::String,
            Some("integer") => ValueKind::Integer,
            Some("number") => ValueKind::Number,
            Some("boolean") => ValueKind::Boolean,
            _ if !s.properties.is_empty() => ValueKind::Object,
            _ => ValueKind::Any,
        }
    }

    /// The declared properties, in name order.
    pub fn properties(&self) -> impl Iterator<Item = (&'a str, SchemaNode<'a>)> + 'a {
        let gv = self.gv;
        self.schema
            .properties
            .iter()
            .map(move |(name, schema)| (name, gv.node(schema)))
    }

    pub fn property(&self, name: &str) -> Option<SchemaNode<'a>> {
        self.schema.properties.get(name).map(|s| self.gv.node(s))
    }

    pub fn has_properties(&self) -> bool {
        !self.schema.properties.is_empty()
    }

    /// The schema of keys not in `properties`: `Some(Some(schema))` for a typed map,
    /// `Some(None)` when anything is allowed, `None` when unknown keys are errors.
    pub fn additional(&self) -> Option<Option<SchemaNode<'a>>> {
        match self.schema.additional_properties.as_deref() {
            Some(Additional::Schema(schema)) => Some(Some(self.gv.node(schema))),
            Some(Additional::Allowed(true)) => Some(None),
            Some(Additional::Allowed(false)) => None,
            None if self.has_properties() && !self.preserve_unknown_fields() => None,
            None => Some(None),
        }
    }

    pub fn items(&self) -> Option<SchemaNode<'a>> {
        self.schema.items.as_deref().map(|s| self.gv.node(s))
    }

    /// A short type name for messages and hover: `string`, `integer (int32)`, `[]Container`, ...
    pub fn type_label(&self) -> String {
        let short = |name: &str| name.rsplit('.').next().unwrap_or(name).to_string();
        match self.kind() {
            ValueKind::Quantity => "Quantity (string or number)".to_string(),
            ValueKind::IntOrString => "integer or string".to_string(),
            ValueKind::Object => match (self.name, self.additional()) {
                (Some(name), _) => short(name),
                (None, Some(Some(values))) => format!("map[string]{}", values.type_label()),
                _ => "object".to_string(),
            },
            ValueKind::Array => match self.items() {
                Some(items) => format!("[]{}", items.type_label()),
                None => "array".to_string(),
            },
            ValueKind::Any => "any".to_string(),
            kind => {
                let base = match kind {
                    ValueKind::String => "string",
                    ValueKind::Integer => "integer",
                    ValueKind::Number => "number",
                    _ => "boolean",
                };
                match self.format() {
                    Some(format) if !format.is_empty() => format!("{base} ({format})"),
                    _ => base.to_string(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_referencing_ref_stops() {
        let json = br##"{"components":{"schemas":{"a":{"$ref":"#/components/schemas/b"},"b":{"$ref":"#/components/schemas/a"}}}}"##;
        let gv = GroupVersionSchemas::parse(json, "", "v1").unwrap();
        let node = gv.node(gv.by_name("a").unwrap());
        assert_eq!(node.kind(), ValueKind::Any);
    }
}
