//! Web links of a document: its http(s) URLs (`features::links`) as LSP document links.

use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::convert;
use super::store::Store;
use crate::features::links;

/// The URLs of the open document `uri`, as links to them.
pub fn url_links(store: &Store, uri: &Uri) -> Vec<lsp::DocumentLink> {
    let Some(snapshot) = store.text_snapshot(uri) else {
        return Vec::new();
    };
    let text = snapshot.rope.to_string();
    let encoding = store.encoding();
    links::url_links(&text)
        .into_iter()
        .filter_map(|link| {
            let target = link.url.parse::<Uri>().ok()?;
            Some(lsp::DocumentLink {
                range: convert::range(&snapshot.rope, link.range, encoding),
                target: Some(target),
                tooltip: None,
                data: None,
            })
        })
        .collect()
}
