//! Schema layer: the OpenAPI v3 model of Kubernetes group-versions, the GVK index from discovery,
//! and validation of documents against it. Pure: sources are handed in (the built-in one is
//! embedded in the binary).

mod builtin;
pub mod catalog;
pub mod cel_rules;
pub mod complete;
pub mod core_rules;
pub mod crd;
mod crd_structure;
pub mod hover;
pub mod metadata;
pub mod openapi;
mod required_fix;
pub mod store;
pub mod validate;

pub use catalog::Catalog;
pub use openapi::{GroupVersionSchemas, Schema, SchemaNode, ValueKind};
pub use store::{OpenApiSource, ResourceInfo, Scope, SourceKind, Store};
