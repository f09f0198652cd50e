//! Rendering with the real tools users render with (Helm, Kustomize): running them as local
//! processes, bounded in time and output, and reading what they print. No network, no shell.

pub mod helm;
pub mod kustomize;
pub mod process;
