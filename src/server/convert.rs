//! Every conversion between the features' types (byte offsets, `diagnostic` types) and LSP's
//! (positions in the negotiated encoding, `ls_types` values). Offsets are converted with the rope
//! of the text they were computed on: a document's under its lock, or a text snapshot's.

use ropey::Rope;
use tower_lsp_server::ls_types as lsp;

use crate::diagnostic::{Diagnostic, SOURCE, Severity};
use crate::features::completion::{Item, ItemKind};
use crate::features::document::{Change, QuickFix};
use crate::features::hover::Hover;
use crate::text::{self, Position, PositionEncoding, Positions};

pub fn position(p: lsp::Position) -> Position {
    Position::new(p.line, p.character)
}

fn lsp_position(p: Position) -> lsp::Position {
    lsp::Position::new(p.line, p.character)
}

/// The encoding as `initialize` announces it.
pub fn encoding_kind(encoding: PositionEncoding) -> lsp::PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => lsp::PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => lsp::PositionEncodingKind::UTF16,
    }
}

/// The byte offset of a client position (clamped, see `text::offset_at`).
pub fn offset(rope: &Rope, p: lsp::Position, encoding: PositionEncoding) -> usize {
    text::offset_at(rope, position(p), encoding)
}

/// A client range as bytes.
pub fn byte_range(
    rope: &Rope,
    range: lsp::Range,
    encoding: PositionEncoding,
) -> std::ops::Range<usize> {
    offset(rope, range.start, encoding)..offset(rope, range.end, encoding)
}

pub fn range(rope: &Rope, range: std::ops::Range<usize>, encoding: PositionEncoding) -> lsp::Range {
    let at = |offset| lsp_position(text::position_at(rope, offset, encoding));
    lsp::Range::new(at(range.start), at(range.end))
}

/// One `didChange` content change (positions stay in the client's encoding).
pub fn change(event: &lsp::TextDocumentContentChangeEvent) -> Change<'_> {
    Change {
        range: event.range.map(|r| position(r.start)..position(r.end)),
        text: &event.text,
    }
}

/// A diagnostic, its range converted by `positions` (which follows offsets in order).
fn diagnostic_at(positions: &mut Positions<'_>, d: &Diagnostic) -> lsp::Diagnostic {
    let start = lsp_position(positions.at(d.range.start));
    let end = lsp_position(positions.at(d.range.end));
    lsp::Diagnostic {
        range: lsp::Range::new(start, end),
        severity: Some(match d.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
            Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
            Severity::Hint => lsp::DiagnosticSeverity::HINT,
        }),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        code_description: code_description(d.code),
        source: Some(SOURCE.to_string()),
        message: d.message.clone(),
        ..Default::default()
    }
}

/// The link to a rule's entry in docs/rules.md, made once per rule.
fn code_description(code: crate::diagnostic::Code) -> Option<lsp::CodeDescription> {
    type Links = std::collections::HashMap<crate::diagnostic::Code, lsp::Uri>;
    static LINKS: std::sync::LazyLock<Links> = std::sync::LazyLock::new(|| {
        crate::features::rules::catalog::RULES
            .iter()
            .filter_map(|rule| {
                let url = crate::features::rules::catalog::docs_url(rule.code)?;
                Some((rule.code, url.parse().ok()?))
            })
            .collect()
    });
    let href = LINKS.get(&code)?.clone();
    Some(lsp::CodeDescription { href })
}

/// Diagnostics in LSP terms; their positions found in one pass when they come in order.
pub fn diagnostics(
    rope: &Rope,
    diagnostics: &[Diagnostic],
    encoding: PositionEncoding,
) -> Vec<lsp::Diagnostic> {
    let mut positions = Positions::new(rope, encoding);
    diagnostics
        .iter()
        .map(|d| diagnostic_at(&mut positions, d))
        .collect()
}

/// A fix as a `quickfix` code action listing every diagnostic it resolves.
pub fn quick_fix(
    uri: &lsp::Uri,
    rope: &Rope,
    quick_fix: &QuickFix,
    encoding: PositionEncoding,
) -> lsp::CodeActionOrCommand {
    let edits = quick_fix
        .fix
        .edits
        .iter()
        .map(|(at, new_text)| {
            lsp::TextEdit::new(range(rope, at.clone(), encoding), new_text.clone())
        })
        .collect();
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: quick_fix.fix.title.clone(),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(diagnostics(rope, &quick_fix.resolves, encoding)),
        edit: Some(lsp::WorkspaceEdit {
            changes: Some([(uri.clone(), edits)].into_iter().collect()),
            ..Default::default()
        }),
        is_preferred: Some(quick_fix.preferred),
        ..Default::default()
    })
}

pub fn hover(rope: &Rope, found: Hover, encoding: PositionEncoding) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(markdown(found.markdown)),
        range: Some(range(rope, found.range, encoding)),
    }
}

fn markdown(value: String) -> lsp::MarkupContent {
    lsp::MarkupContent {
        kind: lsp::MarkupKind::Markdown,
        value,
    }
}

/// A completion item; `label_details`: whether the client shows `labelDetails`.
pub fn completion_item(
    rope: &Rope,
    item: &Item,
    encoding: PositionEncoding,
    label_details: bool,
) -> lsp::CompletionItem {
    let edit = |at, new_text: &str| lsp::TextEdit {
        range: range(rope, at, encoding),
        new_text: new_text.to_string(),
    };
    let additional: Vec<lsp::TextEdit> = item
        .additional_edits
        .iter()
        .map(|(range, text)| edit(range.clone(), text))
        .collect();
    // Without labelDetails support, the group/version goes into the detail the client shows.
    let detail = match (&item.label_detail, label_details) {
        (Some(version), false) if item.detail.is_none() => Some(version.trim().to_string()),
        _ => item.detail.clone(),
    };
    lsp::CompletionItem {
        label: item.label.clone(),
        label_details: (label_details
            && (item.label_detail.is_some() || item.label_description.is_some()))
        .then(|| lsp::CompletionItemLabelDetails {
            detail: item.label_detail.clone(),
            description: item.label_description.clone(),
        }),
        kind: Some(match item.kind {
            ItemKind::Field => lsp::CompletionItemKind::FIELD,
            ItemKind::Value => lsp::CompletionItemKind::VALUE,
            ItemKind::EnumMember => lsp::CompletionItemKind::ENUM_MEMBER,
            ItemKind::Kind => lsp::CompletionItemKind::CLASS,
            ItemKind::ApiVersion => lsp::CompletionItemKind::MODULE,
            ItemKind::Skeleton => lsp::CompletionItemKind::SNIPPET,
            ItemKind::File => lsp::CompletionItemKind::FILE,
            ItemKind::Folder => lsp::CompletionItemKind::FOLDER,
        }),
        detail,
        documentation: item
            .documentation
            .clone()
            .map(|d| lsp::Documentation::MarkupContent(markdown(d))),
        sort_text: Some(item.sort_text.clone()),
        filter_text: item.filter_text.clone(),
        insert_text_format: Some(if item.snippet {
            lsp::InsertTextFormat::SNIPPET
        } else {
            lsp::InsertTextFormat::PLAIN_TEXT
        }),
        // Continuation lines already carry their indentation.
        insert_text_mode: item
            .insert_text
            .contains('\n')
            .then_some(lsp::InsertTextMode::AS_IS),
        text_edit: Some(lsp::CompletionTextEdit::Edit(edit(
            item.range.clone(),
            &item.insert_text,
        ))),
        additional_text_edits: (!additional.is_empty()).then_some(additional),
        ..Default::default()
    }
}

/// Completion items inside a Helm template action.
pub fn helm_completions(
    rope: &Rope,
    items: &[crate::features::helm::values::Item],
    encoding: PositionEncoding,
) -> lsp::CompletionResponse {
    use crate::features::helm::values::ItemKind as Kind;
    let items = items
        .iter()
        .map(|item| lsp::CompletionItem {
            label: item.label.clone(),
            kind: Some(match item.kind {
                Kind::Object => lsp::CompletionItemKind::MODULE,
                Kind::Field => lsp::CompletionItemKind::FIELD,
                Kind::Template => lsp::CompletionItemKind::FUNCTION,
            }),
            detail: Some(item.detail.clone()),
            text_edit: Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit {
                range: range(rope, item.replace.clone(), encoding),
                new_text: item.label.clone(),
            })),
            ..Default::default()
        })
        .collect();
    lsp::CompletionResponse::List(lsp::CompletionList {
        is_incomplete: false,
        items,
    })
}

/// A hover of markdown about `at`.
pub fn markdown_hover(
    rope: &Rope,
    text: String,
    at: std::ops::Range<usize>,
    encoding: PositionEncoding,
) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(markdown(text)),
        range: Some(range(rope, at, encoding)),
    }
}

/// A location in another file (`rope` is its text).
pub fn location(
    uri: lsp::Uri,
    rope: &Rope,
    at: std::ops::Range<usize>,
    encoding: PositionEncoding,
) -> lsp::Location {
    lsp::Location {
        uri,
        range: range(rope, at, encoding),
    }
}

pub fn definitions(locations: Vec<lsp::Location>) -> lsp::GotoDefinitionResponse {
    lsp::GotoDefinitionResponse::Array(locations)
}

/// A code lens showing `lens.title` (no command to run: clients show it as text).
pub fn code_lens(
    rope: &Rope,
    lens: &crate::features::references::Lens,
    encoding: PositionEncoding,
) -> lsp::CodeLens {
    lsp::CodeLens {
        range: range(rope, lens.range.clone(), encoding),
        command: Some(lsp::Command {
            title: lens.title.clone(),
            command: String::new(),
            arguments: None,
        }),
        data: None,
    }
}

pub fn prepare_rename(
    rope: &Rope,
    at: std::ops::Range<usize>,
    placeholder: String,
    encoding: PositionEncoding,
) -> lsp::PrepareRenameResponse {
    lsp::PrepareRenameResponse::RangeWithPlaceholder {
        range: range(rope, at, encoding),
        placeholder,
    }
}

pub fn text_edit(
    rope: &Rope,
    at: std::ops::Range<usize>,
    new_text: String,
    encoding: PositionEncoding,
) -> lsp::TextEdit {
    lsp::TextEdit::new(range(rope, at, encoding), new_text)
}

/// Edits of several files as one workspace edit.
pub fn workspace_edit(changes: Vec<(lsp::Uri, Vec<lsp::TextEdit>)>) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit {
        changes: Some(changes.into_iter().collect()),
        ..Default::default()
    }
}
