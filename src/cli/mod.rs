//! Command-line front ends: `kube-lsp check`.

pub mod charts;
pub mod check;
mod cluster_objects;
pub mod kustomize;
mod ordered;
mod phases;
mod report;
mod sarif;
mod walk;
