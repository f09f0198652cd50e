//! kube-lsp: a language server for Kubernetes YAML.
//!
//! Layers, each using only those below it (docs/architecture.md; `tests/layering.rs` checks):
//! `text` | `files` → `diagnostic` → `yaml` → `schema` → `cluster` | `render` → `workspace` → `features`
//! → `server` | `cli`.

pub mod cli;
pub mod cluster;
pub mod diagnostic;
pub mod features;
pub mod files;
pub mod net;
pub mod render;
pub mod schema;
pub mod server;
pub mod text;
pub mod workspace;
pub mod yaml;
