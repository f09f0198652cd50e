//! Publishing a document's diagnostics: the one path every trigger takes (an open, an edit, a
//! cluster result, a new schema catalog).

use std::sync::{Arc, Weak};

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, Uri};

use super::convert;
use super::guarded;
use super::results::ResultHandoff;
use super::store::{Gathering, Store};
use crate::features::rules;

/// How the diagnostics are gathered before they are published.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gather {
    /// What is known now, without validating against the schema: right after an open, the YAML
    /// layer's, ready quickly even for big files. Not after an edit, whose schema findings are
    /// moved but not checked again until a validated gathering.
    Known,
    /// Validated against the current catalog first, on a blocking thread (after an edit only
    /// the edited document is validated again).
    Validated,
    /// The same, when every document may be validated again (a new catalog).
    ValidatedInBackground,
}

/// Publishes the document's diagnostics from every layer (`OpenDocument::diagnostics`), unless
/// its text changed meanwhile (that change publishes its own; the version alone cannot tell,
/// as a reopened document counts from 1 again), it was closed, exactly these were sent for this
/// version already (a re-validation after a schema change, a CRD opened or the cluster's schema,
/// mostly finds what the client has), or diagnostics gathered after these were sent already
/// (publications race: a layer set while these were validated). Decided and sent in the order
/// of publication (`Store::note_published`), so a set that waited for its turn is judged then.
pub async fn publish(client: &Client, store: &Arc<Store>, uri: Uri, gather: Gather) {
    let gathered = match gather {
        Gather::Known => gather_now(store, &uri, false),
        // Validation of a big document takes a while: on a blocking thread, so it never holds an
        // async worker (other documents' requests go on; `note_published` drops a result a newer
        // edit made stale).
        Gather::Validated | Gather::ValidatedInBackground => {
            let (store, uri) = (store.clone(), uri.clone());
            tokio::task::spawn_blocking(move || gather_now(&store, &uri, true))
                .await
                .ok()
                .flatten()
        }
    };
    let Some((diagnostics, version, gathering)) = gathered else {
        return;
    };
    let _in_order = store.publication_order().await;
    if store.note_published(&uri, version, gathering, &diagnostics) {
        let params = lsp::PublishDiagnosticsParams::new(uri, diagnostics, Some(version));
        send(client, store.publication_handoff(), params).await;
    }
}

/// Sends a publication: its JSON written here and handed to the output when there is one
/// (tower-lsp-server would build a value tree of every diagnostic first), else as it is.
async fn send(
    client: &Client,
    handoff: Option<&ResultHandoff>,
    params: lsp::PublishDiagnosticsParams,
) {
    let written = handoff.zip(serde_json::to_vec(&params).ok());
    let params = match written {
        Some((handoff, json)) => handoff.hand_off_publication(json, |marker| {
            let stand_in = lsp::Diagnostic::new_simple(lsp::Range::default(), marker);
            lsp::PublishDiagnosticsParams::new(params.uri, vec![stand_in], params.version)
        }),
        None => params,
    };
    client
        .send_notification::<lsp::notification::PublishDiagnostics>(params)
        .await;
}

/// Validates every open document against the current catalog and publishes each.
pub async fn publish_all(client: &Client, store: &Arc<Store>) {
    for uri in store.uris() {
        publish(client, store, uri, Gather::ValidatedInBackground).await;
    }
}

/// The document's diagnostics as the client should see them, with their version and the number
/// of this gathering; `None` when it is not open (or gathering them panicked: logged).
fn gather_now(
    store: &Store,
    uri: &Uri,
    validate: bool,
) -> Option<(Vec<lsp::Diagnostic>, i32, Gathering)> {
    let gathered = guarded("diagnostics", || {
        store.gather(uri, |document| {
            if validate {
                // The rules first: validation takes the span trees they read too.
                let setup = store.rules();
                let index = setup.workspace.as_ref().map(|w| w.read());
                let path = super::workspace::document_path(uri);
                let context = Partial {
                    config: &setup.config,
                    index: index.as_deref(),
                    path: &path,
                };
                match setup.cluster.as_ref().and_then(Weak::upgrade) {
                    Some(references) => references.with_cluster(|lookup| {
                        document.check_rules(&context.with(Some(lookup)));
                    }),
                    None => document.check_rules(&context.with(None)),
                }
                drop(index);
                document.validate(&store.catalog());
            }
            let diagnostics = document.diagnostics();
            let rope = document.text().rope();
            let converted = convert::diagnostics(rope, &diagnostics, store.encoding());
            (converted, document.version())
        })
    });
    let ((diagnostics, version), gathering) = gathered.ok().flatten()?;
    Some((diagnostics, version, gathering))
}

/// The rules' context but for the cluster, which is known only inside
/// `References::with_cluster`.
struct Partial<'a> {
    config: &'a Arc<rules::Config>,
    index: Option<&'a crate::workspace::index::Index>,
    path: &'a std::path::Path,
}

impl<'a> Partial<'a> {
    fn with<'c>(&self, cluster: Option<rules::ClusterLookup<'c>>) -> rules::Context<'c>
    where
        'a: 'c,
    {
        rules::Context {
            config: self.config.clone(),
            index: self.index,
            path: Some(self.path),
            cluster,
        }
    }
}

/// Publishes diagnostics for a file that is not open (a rendered kustomization's findings on
/// a base or patch as it is on disk): no version, nothing to gather.
pub async fn publish_file(client: &Client, uri: Uri, diagnostics: Vec<lsp::Diagnostic>) {
    client.publish_diagnostics(uri, diagnostics, None).await;
}
