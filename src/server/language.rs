//! Completion and hover: the features' byte-range results as LSP items.
//!
//! Both read the latest text snapshot of the document (`Store::text_snapshot`), never the
//! document's lock: schema validation of a big file holds that lock for a while, and a
//! completion must not wait behind it. Neither needs a syntax tree, so a document that was never
//! parsed costs nothing extra.

use std::sync::atomic::{AtomicBool, Ordering};

use tower_lsp_server::ls_types as lsp;

use super::convert;
use super::store::Store;
use crate::features::document::TextSnapshot;
use crate::features::{completion, hover, kustomize};

fn is_kustomization(uri: &lsp::Uri) -> bool {
    crate::workspace::kustomize::is_kustomization(&super::workspace::document_path(uri))
}

/// The text completion and hover read: a kustomization that names no apiVersion and kind gets
/// the ones kustomize assumes, after its last line (offsets unchanged).
fn kustomization_text(
    uri: &lsp::Uri,
    snapshot: &TextSnapshot,
) -> (ropey::Rope, std::sync::Arc<[std::ops::Range<usize>]>) {
    let text = is_kustomization(uri)
        .then(|| kustomize::navigation::with_default_type(&snapshot.rope.to_string()))
        .flatten();
    match text {
        Some(text) => {
            let whole = std::iter::once(0..text.len());
            let documents: std::sync::Arc<[std::ops::Range<usize>]> = whole.collect();
            (ropey::Rope::from_str(&text), documents)
        }
        None => (snapshot.rope.clone(), snapshot.documents.clone()),
    }
}

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

    /// The schema's items, then those `more` adds for the snapshot at that offset (with whether
    /// they are incomplete: the editor should ask again as the user types).
    pub fn completion(
        &self,
        store: &Store,
        params: &lsp::CompletionParams,
        more: impl FnOnce(&TextSnapshot, usize) -> (Vec<completion::Item>, bool),
    ) -> Option<lsp::CompletionResponse> {
        let position = &params.text_document_position;
        let snapshot = store.text_snapshot(&position.text_document.uri)?;
        let encoding = store.encoding();
        let offset = convert::offset(&snapshot.rope, position.position, encoding);
        let trigger = params
            .context
            .as_ref()
            .and_then(|c| c.trigger_character.as_deref())
            .and_then(|c| c.chars().next());
        let catalog = store.catalog();
        let uri = &position.text_document.uri;
        let (rope, documents) = kustomization_text(uri, &snapshot);
        let path = super::workspace::document_path(uri);
        let other_tool = crate::yaml::detect::other_tool_file(&path)
            && !completion::document_names_type(&rope, &documents, offset);
        let mut items = if other_tool {
            Vec::new()
        } else {
            completion::completions(
                &rope,
                &documents,
                offset,
                trigger,
                &catalog,
                self.snippets.load(Ordering::Relaxed),
            )
        };
        if is_kustomization(uri) {
            let text = snapshot.rope.to_string();
            let disk = crate::workspace::kustomize::Disk;
            items.extend(kustomize::navigation::complete_path(
                &path, &text, offset, &disk,
            ));
        }
        let (added, is_incomplete) = more(&snapshot, offset);
        let label_details = self.label_details.load(Ordering::Relaxed);
        let items = added
            .iter()
            .chain(&items)
            .map(|item| convert::completion_item(&snapshot.rope, item, encoding, label_details))
            .collect();
        Some(lsp::CompletionResponse::List(lsp::CompletionList {
            is_incomplete,
            items,
        }))
    }

    /// What `first` says of the snapshot at that offset, then the schema's hover.
    pub fn hover(
        &self,
        store: &Store,
        params: &lsp::HoverParams,
        first: impl FnOnce(&TextSnapshot, usize) -> Option<hover::Hover>,
    ) -> Option<lsp::Hover> {
        let position = &params.text_document_position_params;
        let snapshot = store.text_snapshot(&position.text_document.uri)?;
        let encoding = store.encoding();
        let offset = convert::offset(&snapshot.rope, position.position, encoding);
        let catalog = store.catalog();
        let (rope, documents) = kustomization_text(&position.text_document.uri, &snapshot);
        let schema = hover::hover_at(&rope, &documents, offset, &catalog);
        let found = match (first(&snapshot, offset), schema) {
            (Some(mut found), Some(schema)) => {
                found.markdown.push_str("\n---\n\n");
                found.markdown.push_str(&schema.markdown);
                found
            }
            (found, schema) => found.or(schema)?,
        };
        Some(convert::hover(&snapshot.rope, found, encoding))
    }
}
