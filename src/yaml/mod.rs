//! YAML layer: documents of a file, their syntax trees, paths, and values, and cheap looks at raw
//! text (is it a manifest, a Helm template). Pure: no I/O.

pub mod anchors;
#[cfg(test)]
pub(crate) mod corpus;
pub mod detect;
pub mod file;
pub mod insert;
pub mod key_path;
mod lines;
pub mod lint;
pub mod manifest;
pub mod modeline;
pub mod node;
pub mod path;
pub mod path_range;
pub mod scalar;
pub mod spans;
pub mod split;
pub mod syntax;
pub mod template;
pub mod value;
