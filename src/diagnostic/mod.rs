//! What every layer reports: a [`Diagnostic`] at a byte range, with a [`Severity`], a registered
//! [`Code`](codes::Code) and, when the producer knows one, a [`Fix`]. The bottom of the stack
//! beside `text`, so the YAML linter, the schema, the cluster checks and the features all speak
//! the same type; only the server turns it into LSP's.

pub mod codes;

use std::ops::Range;

pub use codes::Code;

use crate::text::{TextEdit, shift_range};

/// How bad a diagnostic is (LSP's four levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

impl Severity {
    /// The word `kube-lsp check` prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        }
    }
}

/// The name editors show as the diagnostics' source.
pub const SOURCE: &str = "kube-lsp";

/// A problem at a byte range (relative to whatever text the producer was given).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub range: Range<usize>,
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// A quick fix, when the producer knows one (offsets like `range`).
    pub fix: Option<Box<Fix>>,
}

/// Text edits that resolve a diagnostic, with a title in the user's words.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<(Range<usize>, String)>,
}

impl Diagnostic {
    pub fn error(range: Range<usize>, code: Code, message: impl Into<String>) -> Self {
        Self {
            range,
            severity: Severity::Error,
            code,
            message: message.into(),
            fix: None,
        }
    }

    pub fn with_fix(
        mut self,
        title: impl Into<String>,
        edits: Vec<(Range<usize>, String)>,
    ) -> Self {
        self.fix = Some(Box::new(Fix {
            title: title.into(),
            edits,
        }));
        self
    }

    /// Moves the diagnostic (and its fix) along with an edit of the file; its offsets are
    /// relative to `base`, the start of its document (see [`TextEdit::map_range`]).
    pub fn follow_edit(&mut self, edit: &TextEdit, base: usize) {
        self.map_ranges(|range| edit.map_range(range, base));
    }

    /// The diagnostic (and its fix) `by` bytes further.
    pub fn shifted(mut self, by: isize) -> Self {
        self.map_ranges(|range| shift_range(range, by));
        self
    }

    fn map_ranges(&mut self, map: impl Fn(&Range<usize>) -> Range<usize>) {
        self.range = map(&self.range);
        if let Some(fix) = &mut self.fix {
            for (range, _) in &mut fix.edits {
                *range = map(range);
            }
        }
    }
}
