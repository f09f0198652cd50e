//! Features: what an editor shows, computed from the parsed state, independent of the LSP wire
//! types (ranges are byte offsets into the file; the server converts them).

pub mod cluster_diagnostics;
pub mod completion;
pub mod diagnostics;
pub mod folding;
pub mod hover;
pub mod schema_diagnostics;
pub mod symbols;
