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
use crate::features::markers::Markers;
use crate::features::modeline::{self, CompiledSchemas, SchemaSource, UrlSchema};
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
    /// The schemas compiled, kept while their text stays the same.
    compiled: CompiledSchemas,
    /// The schemas `schemaPaths` associates with files (`{"schema", "files"}` entries), and the
    /// setting they were made of.
    associations: Mutex<(Vec<SchemaAssociation>, Vec<AssociationSetting>)>,
}

/// A `schemaPaths` entry `{"schema", "files"}` as the setting has it: the schema file and globs.
type AssociationSetting = (std::path::PathBuf, Vec<String>);

/// The setting's associations (schema file, globs) that have a valid glob.
fn associations(entries: Vec<AssociationSetting>) -> Vec<SchemaAssociation> {
    entries
        .into_iter()
        .filter_map(|(schema, globs)| SchemaAssociation::new(schema, &globs))
        .collect()
}

/// A `schemaPaths` entry `{"schema": <file>, "files": [<glob>, ...]}`: the JSON schema file
/// checks the documents of the files the globs match (paths in a workspace folder; a glob
/// without `/` matches a file name in any folder), those without a modeline of their own.
#[derive(Clone, Debug)]
pub struct SchemaAssociation {
    pub schema: std::path::PathBuf,
    pub files: globset::GlobSet,
}

impl SchemaAssociation {
    /// From the setting's schema path and globs (`None` when no glob is valid).
    pub fn new(schema: std::path::PathBuf, globs: &[String]) -> Option<SchemaAssociation> {
        let mut set = globset::GlobSetBuilder::new();
        let mut any = false;
        for glob in globs {
            let glob = glob.trim().trim_start_matches("./");
            let pattern = if glob.contains('/') {
                glob.to_string()
            } else {
                format!("**/{glob}")
            };
            match globset::GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
            {
                Ok(glob) => {
                    set.add(glob);
                    any = true;
                }
                Err(why) => tracing::warn!("schemaPaths: the glob {glob} is not valid: {why}"),
            }
        }
        let files = set.build().ok().filter(|_| any)?;
        Some(SchemaAssociation { schema, files })
    }

    /// Whether the file at `path` is one of the association's: its path in one of `roots`
    /// matches a glob.
    fn matches(&self, path: &std::path::Path, roots: &[std::path::PathBuf]) -> bool {
        let mut relative = roots
            .iter()
            .filter_map(|root| path.strip_prefix(root).ok())
            .peekable();
        if relative.peek().is_none() {
            return self.files.is_match(path);
        }
        relative.any(|relative| self.files.is_match(relative))
    }
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
            compiled: CompiledSchemas::default(),
            associations: Mutex::default(),
        })
    }

    /// `schemaDownload` changed: schemas known by URL are fetched again when next needed.
    pub fn configure(&self, download: bool) {
        if self.download.swap(download, Ordering::Relaxed) != download {
            lock(&self.urls).clear();
        }
    }

    /// The `schemaPaths` entries (schema file, globs) that associate a schema with files
    /// (relative schema paths are in the first workspace folder); `true` when they changed.
    pub fn associate(&self, setting: Vec<AssociationSetting>) -> bool {
        let mut associations = lock(&self.associations);
        if associations.1 == setting {
            return false;
        }
        *associations = (self::associations(setting.clone()), setting);
        true
    }

    /// The schema file `schemaPaths` associates with the file at `path`: the first entry with a
    /// glob that matches its path in a workspace folder.
    fn associated_schema(&self, path: &std::path::Path) -> Option<std::path::PathBuf> {
        let associations = &lock(&self.associations).0;
        if associations.is_empty() {
            return None;
        }
        let roots = self.schemas.workspace().roots();
        let association = associations
            .iter()
            .find(|association| association.matches(path, &roots))?;
        Some(match roots.first() {
            Some(root) if association.schema.is_relative() => root.join(&association.schema),
            _ => association.schema.clone(),
        })
    }

    /// Checks the open document `uri` against the schemas its modelines name (or its file is
    /// associated with), and starts the downloads it waits for.
    pub fn check(self: &Arc<Self>, uri: &Uri) {
        let Some((snapshot, stamp, markers)) = self.store.stamped_snapshot_with_markers(uri) else {
            return;
        };
        let has_modeline = markers
            .unwrap_or_else(|| Markers::of(&snapshot.rope))
            .modeline;
        let path = document_path(uri);
        let associated = self.associated_schema(&path);
        let mut wanted = Vec::new();
        let found = if has_modeline || associated.is_some() {
            let text = snapshot.rope.to_string();
            let url = |url: &str| self.url_schema(url, uri, &mut wanted);
            let url = std::cell::RefCell::new(url);
            let mut allowed = self.allowed_folders(&path);
            // A schema the user associated in the settings is read wherever it is.
            allowed.extend(
                associated
                    .as_deref()
                    .and_then(|a| a.parent())
                    .map(|p| p.to_path_buf()),
            );
            let read = |file: &std::path::Path| read_schema_file(file, &allowed);
            let source = SchemaSource {
                folder: path.parent(),
                read: &read,
                url: &|u| (url.borrow_mut())(u),
                compiled: &self.compiled,
                associated: associated.as_deref(),
            };
            let before = self.compiled.compilations();
            let found = modeline::named_schema_findings(&text, &snapshot.documents, &source);
            let compiled = self.compiled.compilations() - before;
            if compiled > 0 {
                tracing::debug!(
                    "modeline: compiled {compiled} JSON schema(s) for {}; {} this session",
                    path.display(),
                    self.compiled.compilations()
                );
            }
            found
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
