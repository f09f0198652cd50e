//! Modeline schemas, wired: on open and on each edit, the documents whose
//! `# yaml-language-server: $schema=<file>` modeline names a JSON schema file are checked
//! against it (`features::modeline`), into the document's modeline layer.

use tower_lsp_server::ls_types::Uri;

use super::store::Store;
use super::workspace::document_path;
use crate::features::document::Layer;
use crate::features::modeline;
use crate::files::read_schema_file;

/// Checks the open document `uri` against the schemas its modelines name; `true` when its
/// modeline layer changed (it had findings or has some now).
pub fn check(store: &Store, uri: &Uri) -> bool {
    let Some(snapshot) = store.text_snapshot(uri) else {
        return false;
    };
    let has_modeline = crate::text::contains(snapshot.rope.slice(..), "yaml-language-server")
        || crate::text::contains(snapshot.rope.slice(..), "$schema:");
    let found = if has_modeline {
        let path = document_path(uri);
        let text = snapshot.rope.to_string();
        modeline::named_schema_findings(
            &text,
            &snapshot.documents,
            path.parent(),
            &read_schema_file,
        )
    } else {
        Vec::new()
    };
    store
        .with_document(uri, |document| {
            (document.version() == snapshot.version)
                .then(|| document.set_layer(Layer::Modeline, found))
        })
        .flatten()
        .unwrap_or(false)
}
