//! Command-line front ends: `kube-lsp check`.

pub mod charts;
pub mod check;
pub mod kustomize;
mod sarif;
