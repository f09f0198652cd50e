//! Anchors and aliases, wired: definition, references, rename and hover on an `&anchor` or
//! `*alias` of an open document, answered by `features::anchors` from the document's latest text
//! snapshot. They answer before the other navigation (object references, Helm, kustomize): a
//! cursor on an anchor or alias means it.

use std::ops::Range;

use ropey::Rope;
use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::convert;
use super::store::Store;
use crate::features::anchors;
use crate::features::document::TextSnapshot;

/// The document's snapshot, text and the offset of `position`, when the cursor is on a token
/// starting with `&` or `*` (other positions cost no copy of the text).
fn at_anchor(
    store: &Store,
    uri: &Uri,
    position: lsp::Position,
) -> Option<(TextSnapshot, String, usize)> {
    let snapshot = store.text_snapshot(uri)?;
    let offset = convert::offset(&snapshot.rope, position, store.encoding());
    let line_start = snapshot
        .rope
        .line_to_byte(snapshot.rope.byte_to_line(offset));
    let line = snapshot.rope.byte_slice(line_start..offset).to_string();
    if !anchors::on_anchor_or_alias(&line, offset - line_start) {
        let next = snapshot.rope.get_byte_slice(offset..(offset + 1));
        if next.is_none_or(|c| c != "&" && c != "*") {
            return None;
        }
    }
    let text = snapshot.rope.to_string();
    Some((snapshot, text, offset))
}

fn location(uri: &Uri, rope: &Rope, at: Range<usize>, store: &Store) -> lsp::Location {
    convert::location(uri.clone(), rope, at, store.encoding())
}

pub fn definition(
    store: &Store,
    params: &lsp::GotoDefinitionParams,
) -> Option<lsp::GotoDefinitionResponse> {
    let at = &params.text_document_position_params;
    let uri = &at.text_document.uri;
    let (snapshot, text, offset) = at_anchor(store, uri, at.position)?;
    let found = anchors::definition(&text, &snapshot.documents, offset)?;
    let found = location(uri, &snapshot.rope, found, store);
    Some(lsp::GotoDefinitionResponse::Scalar(found))
}

pub fn references(store: &Store, params: &lsp::ReferenceParams) -> Option<Vec<lsp::Location>> {
    let at = &params.text_document_position;
    let uri = &at.text_document.uri;
    let (snapshot, text, offset) = at_anchor(store, uri, at.position)?;
    let declaration = params.context.include_declaration;
    let found = anchors::references(&text, &snapshot.documents, offset, declaration)?;
    Some(
        found
            .into_iter()
            .map(|at| location(uri, &snapshot.rope, at, store))
            .collect(),
    )
}

pub fn prepare_rename(
    store: &Store,
    params: &lsp::TextDocumentPositionParams,
) -> Option<lsp::PrepareRenameResponse> {
    let uri = &params.text_document.uri;
    let (snapshot, text, offset) = at_anchor(store, uri, params.position)?;
    let (range, placeholder) = anchors::prepare_rename(&text, &snapshot.documents, offset)?;
    Some(convert::prepare_rename(
        &snapshot.rope,
        range,
        placeholder,
        store.encoding(),
    ))
}

/// The rename of the anchor at the cursor (or of the alias there) with its aliases; an error
/// for a name that cannot be an anchor's.
pub fn rename(
    store: &Store,
    params: &lsp::RenameParams,
) -> Option<Result<Option<lsp::WorkspaceEdit>, String>> {
    let at = &params.text_document_position;
    let uri = &at.text_document.uri;
    let (snapshot, text, offset) = at_anchor(store, uri, at.position)?;
    let names = anchors::rename(&text, &snapshot.documents, offset, &params.new_name)?;
    Some(names.map(|names| {
        let edits = names
            .into_iter()
            .map(|at| {
                let new = params.new_name.clone();
                convert::text_edit(&snapshot.rope, at, new, store.encoding())
            })
            .collect();
        Some(convert::workspace_edit(vec![(uri.clone(), edits)]))
    }))
}

pub fn hover(store: &Store, params: &lsp::HoverParams) -> Option<lsp::Hover> {
    let at = &params.text_document_position_params;
    let (snapshot, text, offset) = at_anchor(store, &at.text_document.uri, at.position)?;
    let found = anchors::hover(&text, &snapshot.documents, offset)?;
    Some(convert::hover(&snapshot.rope, found, store.encoding()))
}
