//! Schema layer: the OpenAPI v3 model of Kubernetes group-versions, the GVK index from discovery,
//! the lookups of the layered catalog, validation of documents against it, and a schema's
//! required fields written as YAML. Pure: sources are handed in (the built-in one is embedded in
//! the binary).

mod builtin;
pub mod catalog;
pub mod crd;
pub mod kustomize;
pub mod lookup;
pub mod openapi;
pub mod placeholder;
pub mod store;
pub mod validate;

pub use catalog::Catalog;
pub use openapi::{GroupVersionSchemas, Schema, SchemaNode, ValueKind};
pub use store::{OpenApiSource, ResourceInfo, Scope, SourceKind, Store};
