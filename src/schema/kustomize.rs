//! kustomize's kustomization files as a schema layer: `Kustomization`
//! (`kustomize.config.k8s.io/v1beta1`) and `Component` (`v1alpha1`), generated from
//! sigs.k8s.io/kustomize/api's Go types by `tools/kustomize-schema` (`schemas/kustomize/`).
//! Embedded; a catalog has it below the built-in Kubernetes schema, so validation, completion
//! and hover read kustomization files as they read any kind.

use std::sync::{Arc, OnceLock};

use super::store::{OpenApiSource, ResourceInfo, Scope, SourceKind, Store, openapi_path};

/// The group of kustomization files.
pub const GROUP: &str = "kustomize.config.k8s.io";
/// What a kustomization file is when it names no apiVersion and kind (kustomize's default).
pub const KUSTOMIZATION: (&str, &str) = ("kustomize.config.k8s.io/v1beta1", "Kustomization");
/// A component's apiVersion and kind.
pub const COMPONENT: (&str, &str) = ("kustomize.config.k8s.io/v1alpha1", "Component");
/// How messages and hover name this source.
pub const SOURCE: &str = "kustomize v5.5 (sigs.k8s.io/kustomize/api v0.18.0)";

static OPENAPI: &[u8] = include_bytes!("../../schemas/kustomize/openapi.json");

/// The kustomize layer, built once per process.
pub fn store() -> &'static Arc<Store> {
    static STORE: OnceLock<Arc<Store>> = OnceLock::new();
    STORE.get_or_init(|| {
        let resource = |version: &str, kind: &str| ResourceInfo {
            group: GROUP.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
            plural: format!("{}s", kind.to_lowercase()),
            singular: kind.to_lowercase(),
            scope: Scope::Cluster,
            short_names: Vec::new(),
            // Read by kustomize from disk, never served: no verbs (and no name required).
            verbs: Vec::new(),
            categories: Vec::new(),
            openapi_path: openapi_path(GROUP, version),
        };
        let resources = vec![
            resource("v1beta1", KUSTOMIZATION.1),
            resource("v1alpha1", COMPONENT.1),
        ];
        let documents = ["v1beta1", "v1alpha1"].map(|version| {
            (
                openapi_path(GROUP, version),
                OpenApiSource::Json(OPENAPI.to_vec()),
            )
        });
        let store = Store::from_resources(SOURCE, resources, documents);
        Arc::new(store.with_kind(SourceKind::Tool))
    })
}

/// Whether `api_version` is kustomize's configuration group.
pub fn is_kustomize_group(api_version: &str) -> bool {
    super::store::split_api_version(api_version).0 == GROUP
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Catalog;
    use crate::schema::openapi::ValueKind;

    #[test]
    fn both_kinds_resolve_with_descriptions_and_deprecations() {
        let catalog = Catalog::builtin();
        for (api_version, kind) in [KUSTOMIZATION, COMPONENT] {
            let found = catalog.schemas_for(api_version, kind).unwrap();
            assert_eq!(found.source, SOURCE);
            let root = found.schemas.kind(kind).unwrap();
            let resources = root.property("resources").unwrap();
            assert_eq!(resources.kind(), ValueKind::Array);
            assert!(resources.description().unwrap().contains("relative paths"));
            let patches = root.property("patches").unwrap().items().unwrap();
            assert_eq!(patches.type_label(), "Patch");
            assert!(
                patches
                    .property("target")
                    .unwrap()
                    .property("kind")
                    .is_some()
            );
            assert!(root.property("bases").unwrap().deprecated().is_some());
            assert!(root.property("resources").unwrap().deprecated().is_none());
            let generator = root
                .property("configMapGenerator")
                .unwrap()
                .items()
                .unwrap();
            for field in ["name", "files", "envs", "literals", "behavior", "options"] {
                assert!(generator.property(field).is_some(), "{field}");
            }
        }
        // Not named in messages about other groups.
        assert_eq!(
            catalog.unknown_kind_message("example.com/v1", "Foo"),
            "Foo (example.com/v1) is not in built-in Kubernetes 1.37"
        );
    }
}
