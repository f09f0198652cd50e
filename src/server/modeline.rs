//! Modeline schemas, wired: on open and on each edit, the documents whose
//! `# yaml-language-server: $schema=...` modeline names a JSON schema are checked against it
//! (`features::modeline`), into the document's modeline layer. A schema named by URL is
//! downloaded only with `schemaDownload` on: once per URL per session, in the background, after
//! which the documents that wait for it are checked again and published.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::Uri;

use super::publish::{Gather, publish};
use super::store::Store;
use super::workspace::{SchemaSources, document_path};
use crate::features::document::Layer;
use crate::features::modeline::{self, SchemaSource, UrlSchema};
use crate::files::read_schema_file;

pub struct ModelineSchemas {
    client: Client,
    store: Arc<Store>,
    schemas: Arc<SchemaSources>,
    /// `schemaDownload`.
    download: AtomicBool,
    /// The schemas named by URL, as far as they are known, and the documents that wait for
    /// each one being downloaded.
    urls: Mutex<HashMap<String, (UrlSchema, Vec<Uri>)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl ModelineSchemas {
    pub fn new(
        client: Client,
        store: Arc<Store>,
        schemas: Arc<SchemaSources>,
    ) -> Arc<ModelineSchemas> {
        Arc::new(ModelineSchemas {
            client,
            store,
            schemas,
            download: AtomicBool::new(false),
            urls: Mutex::default(),
        })
    }

    /// `schemaDownload` changed: schemas known by URL are fetched again when next needed.
    pub fn configure(&self, download: bool) {
        if self.download.swap(download, Ordering::Relaxed) != download {
            lock(&self.urls).clear();
        }
    }

    /// Checks the open document `uri` against the schemas its modelines name, and starts the
    /// downloads it waits for.
    pub fn check(self: &Arc<Self>, uri: &Uri) {
        let Some((snapshot, stamp)) = self.store.stamped_snapshot(uri) else {
            return;
        };
        let all = snapshot.rope.slice(..);
        let has_modeline = crate::text::contains(all, "yaml-language-server")
            || crate::text::contains(all, "$schema:");
        let mut wanted = Vec::new();
        let found = if has_modeline {
            let path = document_path(uri);
            let text = snapshot.rope.to_string();
            let url = |url: &str| self.url_schema(url, uri, &mut wanted);
            let url = std::cell::RefCell::new(url);
            let allowed = self.allowed_folders(&path);
            let read = |file: &std::path::Path| read_schema_file(file, &allowed);
            let source = SchemaSource {
                folder: path.parent(),
                read: &read,
                url: &|u| (url.borrow_mut())(u),
            };
            modeline::named_schema_findings(&text, &snapshot.documents, &source)
        } else {
            Vec::new()
        };
        self.store.set_layer(uri, stamp, Layer::Modeline, found);
        for url in wanted {
            let this = self.clone();
            tokio::spawn(async move { this.download(url).await });
        }
    }

    /// The folders a modeline's schema file may be in: the workspace folders, else (none open)
    /// the document's own folder.
    fn allowed_folders(&self, document: &std::path::Path) -> Vec<std::path::PathBuf> {
        let roots = self.schemas.workspace().roots();
        if !roots.is_empty() {
            return roots;
        }
        document
            .parent()
            .map(|p| p.to_path_buf())
            .into_iter()
            .collect()
    }

    /// What is known of `url`; a download to start is added to `wanted`, and `uri` waits.
    fn url_schema(&self, url: &str, uri: &Uri, wanted: &mut Vec<String>) -> UrlSchema {
        if !self.download.load(Ordering::Relaxed) {
            return UrlSchema::NotDownloaded;
        }
        let mut urls = lock(&self.urls);
        let (known, waiting) = urls.entry(url.to_string()).or_insert_with(|| {
            wanted.push(url.to_string());
            (UrlSchema::Pending, Vec::new())
        });
        if *known == UrlSchema::Pending && !waiting.contains(uri) {
            waiting.push(uri.clone());
        }
        known.clone()
    }

    async fn download(self: Arc<Self>, url: String) {
        tracing::info!("downloading the modeline schema {url}");
        let known = match crate::net::get_text(&url).await {
            Ok(text) => UrlSchema::Fetched(text.into()),
            Err(why) => {
                tracing::warn!("modeline schema {url}: {why}");
                UrlSchema::Failed(why)
            }
        };
        let waiting = {
            let mut urls = lock(&self.urls);
            let Some(entry) = urls.get_mut(&url) else {
                return;
            };
            entry.0 = known;
            std::mem::take(&mut entry.1)
        };
        for uri in waiting {
            let this = self.clone();
            let checked = uri.clone();
            let done = tokio::task::spawn_blocking(move || {
                super::guarded("modeline", || this.check(&checked))
            })
            .await;
            if done.is_ok() {
                publish(
                    &self.client,
                    &self.store,
                    uri,
                    Gather::ValidatedInBackground,
                )
                .await;
            }
        }
    }
}
