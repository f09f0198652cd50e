//! Command-line front ends: `kube-lsp check`.

pub mod check;
mod sarif;
