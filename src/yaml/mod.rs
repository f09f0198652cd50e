//! YAML layer: documents of a file, their syntax trees, paths, and values. Pure: no I/O.

pub mod file;
pub mod insert;
pub mod lint;
pub mod manifest;
pub mod node;
pub mod path;
pub mod scalar;
pub mod spans;
pub mod split;
pub mod syntax;
pub mod value;
