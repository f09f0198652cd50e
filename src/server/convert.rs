//! Conversion between the features' types (byte offsets) and LSP's (positions).

use tower_lsp_server::ls_types as lsp;

use crate::features::folding::Fold;
use crate::features::symbols::{Symbol, SymbolKind};
use crate::text::{Position, PositionEncoding, TextDocument};
use crate::diagnostic::{Diagnostic, Fix, SOURCE, Severity};

pub fn position(p: lsp::Position) -> Position {
    Position::new(p.line, p.character)
}

fn lsp_position(p: Position) -> lsp::Position {
    lsp::Position::new(p.line, p.character)
}

pub fn range(
    text: &TextDocument,
    range: std::ops::Range<usize>,
    encoding: PositionEncoding,
) -> lsp::Range {
    let converted = text.range(range, encoding);
    lsp::Range::new(lsp_position(converted.start), lsp_position(converted.end))
}

pub fn diagnostic(
    text: &TextDocument,
    d: &Diagnostic,
    encoding: PositionEncoding,
) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: range(text, d.range.clone(), encoding),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
            Severity::Hint => lsp::DiagnosticSeverity::HINT,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        source: Some(SOURCE.to_string()),
        message: d.message.clone(),
        ..Default::default()
    }
}

/// A diagnostic's fix as a `quickfix` code action for that diagnostic.
pub fn quick_fix(
    uri: &lsp::Uri,
    text: &TextDocument,
    d: &Diagnostic,
    fix: &Fix,
    encoding: PositionEncoding,
) -> lsp::CodeAction {
    let edits = fix
        .edits
        .iter()
        .map(|(at, new_text)| {
            lsp::TextEdit::new(range(text, at.clone(), encoding), new_text.clone())
        })
        .collect();
    lsp::CodeAction {
        title: fix.title.clone(),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic(text, d, encoding)]),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some([(uri.clone(), edits)].into_iter().collect()),
            ..Default::default()
        }),
        is_preferred: Some(true),
        ..Default::default()
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be set.
pub fn symbol(text: &TextDocument, s: &Symbol, encoding: PositionEncoding) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: s.name.clone(),
        detail: s.detail.clone(),
        kind: match s.kind {
            SymbolKind::Object => lsp::SymbolKind::OBJECT,
            SymbolKind::Module => lsp::SymbolKind::MODULE,
            SymbolKind::Array => lsp::SymbolKind::ARRAY,
            SymbolKind::Field => lsp::SymbolKind::FIELD,
        },
        tags: None,
        deprecated: None,
        range: range(text, s.range.clone(), encoding),
        selection_range: range(text, s.selection_range.clone(), encoding),
        children: Some(
            s.children
                .iter()
                .map(|c| symbol(text, c, encoding))
                .collect(),
        ),
    }
}

pub fn fold(f: Fold) -> lsp::FoldingRange {
    lsp::FoldingRange {
        start_line: f.start_line as u32,
        end_line: f.end_line as u32,
        kind: Some(lsp::FoldingRangeKind::Region),
        ..Default::default()
    }
}
