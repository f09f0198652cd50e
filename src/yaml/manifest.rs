//! What makes a YAML document a Kubernetes manifest: the `apiVersion` and `kind` an object
//! names (its `TypeMeta`).

use std::ops::Range;

use super::node::YamlNode;
use super::syntax::NodeShape;

/// The `apiVersion` and `kind` an object names, with the ranges of their values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TypeMeta {
    pub api_version: Option<(String, Range<usize>)>,
    pub kind: Option<(String, Range<usize>)>,
    /// Ranges of the `apiVersion` / `kind` keys, present even when the value is empty (read
    /// from a tree by [`type_meta`]; text-only readers leave them out).
    pub api_version_key: Option<Range<usize>>,
    pub kind_key: Option<Range<usize>>,
    /// Whether the mapping has a `metadata` key (read from a tree by [`type_meta`]).
    pub has_metadata: bool,
}

impl TypeMeta {
    /// Whether a mapping reads as a Kubernetes object, complete or not: it has a `kind` key, or
    /// an `apiVersion` key naming an API group (`apps/v1`) or beside `metadata`. Other YAML
    /// may have an `apiVersion` of its own (Helm's Chart.yaml: `apiVersion: v2`, `name`,
    /// `version`) and is no object that forgot its kind.
    pub fn reads_as_object(&self) -> bool {
        let grouped = || {
            self.api_version
                .as_ref()
                .is_some_and(|(version, _)| version.contains('/'))
        };
        self.kind_key.is_some()
            || (self.api_version_key.is_some() && (self.has_metadata || grouped()))
    }
}

/// The `apiVersion` and `kind` of an object's mapping: scalar values only, empty ones left out.
pub fn type_meta<N: YamlNode>(mapping: N) -> TypeMeta {
    let mut meta = TypeMeta::default();
    for pair in mapping.pairs() {
        let Some(key) = pair.key else { continue };
        let name = key.text();
        let value = pair
            .value
            .filter(|v| v.shape() == NodeShape::Scalar)
            .and_then(|v| {
                let text = v.text()?.into_owned();
                let range = v.range();
                Some((text, range))
            })
            .filter(|(text, _)| !text.is_empty());
        let key_range = key.range();
        match name.as_deref() {
            Some("apiVersion") => {
                meta.api_version = value;
                meta.api_version_key = Some(key_range);
            }
            Some("kind") => {
                meta.kind = value;
                meta.kind_key = Some(key_range);
            }
            Some("metadata") => meta.has_metadata = true,
            _ => {}
        }
    }
    meta
}
