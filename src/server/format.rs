//! Formatting requests: the features' byte-range edits on the document's latest text snapshot
//! (never the document's lock: formatting a big file must not hold up its edits), as LSP edits.

use std::sync::{Arc, RwLock};

use tower_lsp_server::ls_types as lsp;

use super::convert;
use super::settings::FormatSettings;
use super::store::Store;
use crate::features::format::{self, FormatOptions};

/// The `format` settings, swapped whole on each configuration, and what formatting gave each
/// document (a request after an edit formats only the documents that changed).
#[derive(Default)]
pub struct Formatting {
    settings: RwLock<FormatSettings>,
    cache: format::Cache,
}

/// What is formatted: the whole document, the lines of a range, or the new line after Enter.
pub enum Request {
    Document,
    Range(lsp::Range),
    NewLine(lsp::Position),
}

/// The on-type formatting capability: Enter re-indents the new line.
pub fn on_type_options() -> lsp::DocumentOnTypeFormattingOptions {
    lsp::DocumentOnTypeFormattingOptions {
        first_trigger_character: "\n".to_string(),
        more_trigger_character: None,
    }
}

impl Formatting {
    pub fn configure(&self, settings: FormatSettings) {
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
    }

    fn options(&self) -> Option<FormatOptions> {
        let settings = self.settings.read().unwrap_or_else(|p| p.into_inner());
        settings.enable.then(|| settings.options.clone())
    }

    /// The edits for `request` on the open document `uri`; none when formatting is off, the
    /// document is not open, or it is left alone (a syntax error, Helm template actions).
    pub fn edits(
        &self,
        store: &Arc<Store>,
        uri: &lsp::Uri,
        request: Request,
    ) -> Option<Vec<lsp::TextEdit>> {
        let options = self.options()?;
        let snapshot = store.text_snapshot(uri)?;
        let encoding = store.encoding();
        let rope = &snapshot.rope;
        let text = rope.to_string();
        let edits = match request {
            Request::Document => format::format_edits_with(&text, &options, Some(&self.cache)),
            Request::Range(range) => format::range_edits(
                &text,
                convert::byte_range(rope, range, encoding),
                &options,
                Some(&self.cache),
            ),
            Request::NewLine(position) => {
                format::newline_indent(&text, convert::offset(rope, position, encoding), &options)
            }
        };
        Some(
            edits
                .into_iter()
                .map(|(at, new_text)| convert::text_edit(rope, at, new_text, encoding))
                .collect(),
        )
    }
}
