//! Completion and hover: the features' byte-range results as LSP items.
//!
//! Both read the latest text snapshot of the document (`Store::text_snapshot`), never the
//! document's lock: schema validation of a big file holds that lock for a while, and a
//! completion must not wait behind it. Neither needs a syntax tree, so a document that was never
//! parsed costs nothing extra.

use std::sync::atomic::{AtomicBool, Ordering};

use tower_lsp_server::ls_types as lsp;

use super::store::{Store, TextSnapshot};
use crate::features::completion::{self, Item, ItemKind};
use crate::features::hover;
use crate::text::{self, PositionEncoding};

/// What the client said it supports, for shaping completion items.
#[derive(Default)]
pub struct Language {
    snippets: AtomicBool,
    label_details: AtomicBool,
}

/// The completion capability: `:` and space open the list after `key:`, `key: ` and `- `.
pub fn completion_options() -> lsp::CompletionOptions {
    lsp::CompletionOptions {
        trigger_characters: Some(vec![":".to_string(), " ".to_string()]),
        ..Default::default()
    }
}

impl Language {
    pub fn configure(&self, params: &lsp::InitializeParams) {
        let item = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.completion.as_ref())
            .and_then(|c| c.completion_item.as_ref());
        let snippets = item.and_then(|i| i.snippet_support).unwrap_or(false);
        let label_details = item.and_then(|i| i.label_details_support).unwrap_or(false);
        self.snippets.store(snippets, Ordering::Relaxed);
        self.label_details.store(label_details, Ordering::Relaxed);
    }

    pub fn completion(
        &self,
        store: &Store,
        params: &lsp::CompletionParams,
    ) -> Option<lsp::CompletionResponse> {
        let position = &params.text_document_position;
        let snapshot = store.text_snapshot(&position.text_document.uri)?;
        let encoding = store.encoding();
        let offset = offset(&snapshot, position.position, encoding);
        let trigger = params
            .context
            .as_ref()
            .and_then(|c| c.trigger_character.as_deref())
            .and_then(|c| c.chars().next());
        let catalog = store.catalog();
        let items = completion::completions(
            &snapshot.rope,
            &snapshot.documents,
            offset,
            trigger,
            &catalog,
            self.snippets.load(Ordering::Relaxed),
        );
        let label_details = self.label_details.load(Ordering::Relaxed);
        let items = items
            .iter()
            .map(|item| completion_item(&snapshot, item, encoding, label_details))
            .collect();
        Some(lsp::CompletionResponse::List(lsp::CompletionList {
            is_incomplete: false,
            items,
        }))
    }

    pub fn hover(&self, store: &Store, params: &lsp::HoverParams) -> Option<lsp::Hover> {
        let position = &params.text_document_position_params;
        let snapshot = store.text_snapshot(&position.text_document.uri)?;
        let encoding = store.encoding();
        let offset = offset(&snapshot, position.position, encoding);
        let catalog = store.catalog();
        let found = hover::hover_at(&snapshot.rope, &snapshot.documents, offset, &catalog)?;
        Some(lsp::Hover {
            contents: lsp::HoverContents::Markup(markdown(found.markdown)),
            range: Some(range(&snapshot, found.range, encoding)),
        })
    }
}

fn offset(snapshot: &TextSnapshot, position: lsp::Position, encoding: PositionEncoding) -> usize {
    let position = text::Position::new(position.line, position.character);
    text::offset_at(&snapshot.rope, position, encoding)
}

fn range(
    snapshot: &TextSnapshot,
    range: std::ops::Range<usize>,
    encoding: PositionEncoding,
) -> lsp::Range {
    let at = |offset| {
        let p = text::position_at(&snapshot.rope, offset, encoding);
        lsp::Position::new(p.line, p.character)
    };
    lsp::Range::new(at(range.start), at(range.end))
}

fn markdown(value: String) -> lsp::MarkupContent {
    lsp::MarkupContent {
        kind: lsp::MarkupKind::Markdown,
        value,
    }
}

fn completion_item(
    snapshot: &TextSnapshot,
    item: &Item,
    encoding: PositionEncoding,
    label_details: bool,
) -> lsp::CompletionItem {
    let edit = |range, new_text: &str| lsp::TextEdit {
        range: self::range(snapshot, range, encoding),
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
