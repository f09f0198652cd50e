//! The schema sources a document is validated against, in priority order: the live cluster >
//! CRDs found in open files and the workspace > files of the `schemaPaths` setting > the
//! built-in schema. Each layer is a [`Store`]; for every GVK the first layer that knows it
//! answers, and says which source it is.
//!
//! Building a catalog is a `Vec` of `Arc`s (the built-in layer is one process-wide instance), so
//! the server builds a new one whenever a source changes and hands it to validation.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::openapi::GroupVersionSchemas;
use super::store::{ResourceInfo, SourceKind, Store};

/// Ordered schema layers, highest priority first.
#[derive(Clone, Debug)]
pub struct Catalog {
    layers: Vec<Arc<Store>>,
    /// Unique per built catalog: cached validation results name the catalog they came from.
    id: u64,
}

/// A kind's schemas and the layer that answered.
pub struct Found<'c> {
    pub resource: &'c ResourceInfo,
    pub schemas: Arc<GroupVersionSchemas>,
    /// The answering layer's label: "built-in Kubernetes 1.37", "CRD in file:///…/crds.yaml".
    pub source: &'c str,
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl Default for Catalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalog {
    /// Only the built-in schema.
    pub fn builtin() -> Catalog {
        Self::with_builtin(std::iter::empty())
    }

    /// A catalog of `layers`, sorted by their kind's priority (cluster, CRD, schema path,
    /// built-in); layers of one kind keep the order given.
    pub fn from_layers(layers: impl IntoIterator<Item = Arc<Store>>) -> Catalog {
        let mut layers: Vec<Arc<Store>> = layers.into_iter().collect();
        layers.sort_by_key(|layer| layer.kind());
        Catalog {
            layers,
            id: next_id(),
        }
    }

    /// The built-in schema (and kustomize's, `schema::kustomize`) below `layers` (the usual
    /// way to build one).
    pub fn with_builtin(layers: impl IntoIterator<Item = Arc<Store>>) -> Catalog {
        Self::from_layers(layers.into_iter().chain([
            Store::builtin_shared().clone(),
            super::kustomize::store().clone(),
        ]))
    }

    /// This catalog plus one more layer (placed by its kind).
    pub fn with_layer(&self, layer: Arc<Store>) -> Catalog {
        Self::from_layers(self.layers.iter().cloned().chain([layer]))
    }

    /// A number no other catalog of this process has.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn layers(&self) -> &[Arc<Store>] {
        &self.layers
    }

    /// The layers that may answer for `apiVersion`. The apiserver serves a built-in
    /// group-version itself, whatever a CRD claims: CRD and schema-file layers never shadow one.
    fn layers_for<'c>(
        &'c self,
        api_version: &str,
    ) -> impl Iterator<Item = &'c Arc<Store>> + use<'c> {
        let builtin_serves = self
            .layers
            .iter()
            .any(|l| l.kind() == SourceKind::Builtin && l.serves(api_version));
        self.layers.iter().filter(move |layer| {
            !(builtin_serves && matches!(layer.kind(), SourceKind::Crd | SourceKind::SchemaPath))
        })
    }

    /// The resource `apiVersion` + `kind` from the first layer that knows it, with that layer's
    /// label.
    pub fn resource(&self, api_version: &str, kind: &str) -> Option<(&ResourceInfo, &str)> {
        self.layers_for(api_version).find_map(|layer| {
            layer
                .resource(api_version, kind)
                .map(|resource| (resource, layer.source()))
        })
    }

    /// The id of the layer that answers for `apiVersion` + `kind` (None: no layer knows it).
    /// Cached validation results stay valid under a new catalog when this does not change.
    pub fn answering_layer(&self, api_version: &str, kind: &str) -> Option<u64> {
        self.layers_for(api_version)
            .find(|layer| layer.resource(api_version, kind).is_some())
            .map(|layer| layer.id())
    }

    /// The schemas of `apiVersion` + `kind` from the first layer that has them.
    pub fn schemas_for(&self, api_version: &str, kind: &str) -> Option<Found<'_>> {
        self.layers_for(api_version).find_map(|layer| {
            let (resource, schemas) = layer.schemas_for(api_version, kind)?;
            Some(Found {
                resource,
                schemas,
                source: layer.source(),
            })
        })
    }

    /// Every resource, the first layer winning per GVK, with the label of its layer.
    pub fn resources(&self) -> Vec<(&ResourceInfo, &str)> {
        let mut seen: HashSet<(String, &str)> = HashSet::new();
        let mut all = Vec::new();
        for layer in &self.layers {
            for resource in layer.resources() {
                let api_version = resource.api_version();
                if self.shadowed(layer, &api_version) {
                    continue;
                }
                if seen.insert((api_version, resource.kind.as_str())) {
                    all.push((resource, layer.source()));
                }
            }
        }
        all
    }

    /// apiVersions that serve `kind` in any layer (for "served as apps/v1").
    pub fn api_versions_of_kind(&self, kind: &str) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for layer in &self.layers {
            for version in layer.api_versions_of_kind(kind) {
                if !versions.contains(&version) && !self.shadowed(layer, &version) {
                    versions.push(version);
                }
            }
        }
        versions
    }

    /// Whether `layer` is kept from answering for `api_version` (see `layers_for`).
    fn shadowed(&self, layer: &Store, api_version: &str) -> bool {
        matches!(layer.kind(), SourceKind::Crd | SourceKind::SchemaPath)
            && self
                .layers
                .iter()
                .any(|l| l.kind() == SourceKind::Builtin && l.serves(api_version))
    }

    /// The sources consulted, as a message names them: "context kind-dev, 2 CRD files or
    /// built-in Kubernetes 1.37". Many layers of one kind are counted, not listed.
    pub fn sources_consulted(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut index = 0;
        while index < self.layers.len() {
            let kind = self.layers[index].kind();
            if kind == SourceKind::Tool {
                index += 1;
                continue;
            }
            let same = self.layers[index..]
                .iter()
                .take_while(|l| l.kind() == kind)
                .count();
            if same > 2 {
                parts.push(match kind {
                    SourceKind::Cluster => format!("{same} clusters"),
                    SourceKind::Crd => format!("{same} CRD sources"),
                    SourceKind::SchemaPath => format!("{same} schema files"),
                    SourceKind::Builtin => format!("{same} built-in schemas"),
                    SourceKind::Tool => format!("{same} tool schemas"),
                });
            } else {
                parts.extend(
                    self.layers[index..index + same]
                        .iter()
                        .map(|l| l.source().to_string()),
                );
            }
            index += same;
        }
        match parts.split_last() {
            None => "no schema".to_string(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// The message for a kind no layer knows: which sources were consulted, and a hint when
    /// the kind is served under another apiVersion or in another case.
    pub fn unknown_kind_message(&self, api_version: &str, kind: &str) -> String {
        let mut message = format!(
            "{kind} ({api_version}) is not in {}",
            self.sources_consulted()
        );
        let served = self.api_versions_of_kind(kind);
        if !served.is_empty() {
            message.push_str(&format!("; {kind} is served as {}", served.join(", ")));
        } else if let Some((resource, _)) = self
            .resources()
            .into_iter()
            .find(|(r, _)| r.api_version() == api_version && r.kind.eq_ignore_ascii_case(kind))
        {
            message.push_str(&format!("; did you mean {}?", resource.kind));
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::store::{Scope, openapi_path};

    fn custom(source: &str, group: &str, kind: &str) -> Arc<Store> {
        let resource = ResourceInfo {
            group: group.to_string(),
            version: "v1".to_string(),
            kind: kind.to_string(),
            plural: format!("{}s", kind.to_lowercase()),
            singular: kind.to_lowercase(),
            scope: Scope::Namespaced,
            short_names: Vec::new(),
            verbs: Vec::new(),
            categories: Vec::new(),
            openapi_path: openapi_path(group, "v1"),
        };
        let json = format!(
            r#"{{"components":{{"schemas":{{"{kind}":{{"type":"object","x-kubernetes-group-version-kind":[{{"group":"{group}","version":"v1","kind":"{kind}"}}]}}}}}}}}"#
        );
        let schemas = GroupVersionSchemas::parse(json.as_bytes(), group, "v1").unwrap();
        Arc::new(Store::from_schemas(source, [(resource, schemas)]))
    }

    #[test]
    fn the_first_layer_that_knows_a_kind_answers() {
        let first = custom("CRD in file:///a.yaml", "example.com", "Foo");
        let second = custom("CRD in file:///b.yaml", "example.com", "Foo");
        let catalog = Catalog::with_builtin([first, second]);
        let found = catalog.schemas_for("example.com/v1", "Foo").unwrap();
        assert_eq!(found.source, "CRD in file:///a.yaml");
        let found = catalog.schemas_for("apps/v1", "StatefulSet").unwrap();
        assert_eq!(found.source, "built-in Kubernetes 1.37");
        let merged = catalog.resources();
        let foos: Vec<_> = merged.iter().filter(|(r, _)| r.kind == "Foo").collect();
        assert_eq!(foos.len(), 1);
        assert_eq!(foos[0].1, "CRD in file:///a.yaml");
    }

    #[test]
    fn crds_never_shadow_a_built_in_group_version() {
        let shadow = custom("CRD in file:///a.yaml", "apps", "Deployment");
        let new_kind = custom("CRD in file:///b.yaml", "apps", "Rollout");
        let catalog = Catalog::with_builtin([shadow, new_kind]);
        let found = catalog.schemas_for("apps/v1", "Deployment").unwrap();
        assert_eq!(found.source, "built-in Kubernetes 1.37");
        assert!(catalog.schemas_for("apps/v1", "Rollout").is_none());
        let deployments = catalog
            .resources()
            .into_iter()
            .filter(|(r, _)| r.kind == "Deployment" && r.group == "apps")
            .count();
        assert_eq!(deployments, 1);
        // A live cluster is the truth, built-in or not.
        let live = Arc::new(
            Store::from_schemas("context kind-dev", std::iter::empty())
                .with_kind(SourceKind::Cluster),
        );
        // Plus the built-in and the kustomize layers.
        assert_eq!(Catalog::with_builtin([live]).layers().len(), 3);
    }

    #[test]
    fn layers_are_ordered_by_kind() {
        let crd = custom("CRD in file:///a.yaml", "example.com", "Foo");
        let live = Arc::new(
            Store::from_parts("context kind-dev", std::iter::empty(), std::iter::empty()).unwrap(),
        );
        let catalog = Catalog::with_builtin([crd, live]);
        let kinds: Vec<SourceKind> = catalog.layers().iter().map(|l| l.kind()).collect();
        assert_eq!(
            kinds,
            [
                SourceKind::Cluster,
                SourceKind::Crd,
                SourceKind::Builtin,
                SourceKind::Tool
            ]
        );
        assert_eq!(
            catalog.unknown_kind_message("example.com/v1", "Bar"),
            "Bar (example.com/v1) is not in context kind-dev, CRD in file:///a.yaml or built-in Kubernetes 1.37"
        );
        assert_eq!(
            catalog.unknown_kind_message("example.com/v1", "foo"),
            "foo (example.com/v1) is not in context kind-dev, CRD in file:///a.yaml or built-in Kubernetes 1.37; did you mean Foo?"
        );
        assert_eq!(catalog.api_versions_of_kind("Foo"), ["example.com/v1"]);
    }

    #[test]
    fn many_layers_of_a_kind_are_counted_in_messages() {
        let layers = (0..4).map(|i| custom(&format!("CRD in file:///{i}.yaml"), "x.io", "A"));
        let catalog = Catalog::with_builtin(layers);
        assert_eq!(
            catalog.sources_consulted(),
            "4 CRD sources or built-in Kubernetes 1.37"
        );
        assert_ne!(catalog.id(), Catalog::builtin().id());
    }

    #[test]
    fn owned_openapi_json_loads_on_first_use() {
        let discovery = br#"{"items":[{"metadata":{"name":"example.com"},"versions":[{"version":"v1","resources":[{"resource":"foos","responseKind":{"group":"example.com","version":"v1","kind":"Foo"},"scope":"Namespaced"}]}]}]}"#;
        let openapi = br#"{"components":{"schemas":{"com.example.v1.Foo":{"type":"object","properties":{"spec":{"type":"string"}},"x-kubernetes-group-version-kind":[{"group":"example.com","version":"v1","kind":"Foo"}]}}}}"#;
        let store = Store::from_parts(
            "context kind-dev",
            [discovery.as_slice()],
            [(
                "apis/example.com/v1".to_string(),
                crate::schema::store::OpenApiSource::Json(openapi.to_vec()),
            )],
        )
        .unwrap();
        let catalog = Catalog::with_builtin([Arc::new(store)]);
        let found = catalog.schemas_for("example.com/v1", "Foo").unwrap();
        assert_eq!(found.source, "context kind-dev");
        let spec = found.schemas.kind("Foo").unwrap().property("spec").unwrap();
        assert_eq!(spec.type_label(), "string");
    }
}
