//! kube-lsp: a language server for Kubernetes YAML.
//!
//! Layers, each depending only on those above it:
//! `text` (ropes, positions) → `yaml` (documents, syntax trees, paths, values) → `features`
//! (diagnostics, symbols, folding; LSP-agnostic results) → `server` (LSP glue) and `cli`.

pub mod cli;
pub mod diagnostic;
pub mod cluster;
pub mod features;
pub mod schema;
pub mod server;
pub mod text;
pub mod workspace;
pub mod yaml;
