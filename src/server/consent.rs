//! Whether open documents may be sent to a context (server-side dry-run and diff): only where
//! the user turned it on. Reading the cluster's discovery and OpenAPI (for completion and
//! validation) needs no consent; sending manifests does, since the API server logs them and the
//! current context is often a production cluster.
//!
//! A context is allowed by the `dryRunContexts` setting (`*` for any), or by the user's answer
//! to a `window/showMessageRequest` asked once per context (server URL and context name): "Allow"
//! and "Never" are kept in that cluster's cache folder (`$XDG_CACHE_HOME/kube-lsp/clusters/…`)
//! and in memory; no answer (dismissed, or a client that cannot ask) means not now, asked again
//! next session. Clients without the request still work: nothing is sent until the setting says so.

use std::collections::HashMap;
use std::time::Duration;

use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{MessageActionItem, MessageType};

use super::settings::ClusterOptions;
use crate::cluster::cache::{DiskCache, key};

const ALLOW: &str = "Allow dry-run";
const NEVER: &str = "Never for this context";
/// The answer kept in the cluster's cache folder.
const FILE: &str = "send-documents";
/// How long the question waits for the user.
const ASK_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Default)]
pub struct Consent {
    /// Answers by cluster key, for this session.
    answers: tokio::sync::Mutex<HashMap<String, bool>>,
}

/// A decision, and whether it was taken just now (the status says so once).
pub struct Decision {
    pub allowed: bool,
    pub new: bool,
    pub why: &'static str,
}

impl Consent {
    /// Whether documents may be sent to `context` on `server` (asks the user the first time).
    pub async fn may_send(
        &self,
        client: &Client,
        settings: &ClusterOptions,
        context: &str,
        server: &str,
    ) -> Decision {
        if settings
            .send_contexts
            .iter()
            .any(|allowed| allowed == "*" || allowed == context)
        {
            return Decision {
                allowed: true,
                new: false,
                why: "the dryRunContexts setting allows it",
            };
        }
        let key = key(server, context);
        let mut answers = self.answers.lock().await;
        if let Some(&allowed) = answers.get(&key) {
            return Decision {
                allowed,
                new: false,
                why: "",
            };
        }
        let file = DiskCache::for_cluster(server, context).map(|cache| cache.dir().join(FILE));
        let stored = file.as_deref().and_then(read_answer);
        let answer = match stored {
            Some(answer) => Some(answer),
            None => ask(client, context, server).await,
        };
        if let (None, Some(answer), Some(file)) = (stored, answer, &file) {
            let written = std::fs::create_dir_all(file.parent().unwrap_or(file))
                .and_then(|()| std::fs::write(file, if answer { "allow\n" } else { "never\n" }));
            if let Err(error) = written {
                tracing::warn!("cannot keep the dry-run answer for context {context}: {error}");
            }
        }
        let allowed = answer.unwrap_or(false);
        answers.insert(key, allowed);
        let why = match (stored, answer) {
            (Some(_), _) => "answered in an earlier session",
            (None, Some(_)) => "answered by the user",
            (None, None) => "not allowed: set kube-lsp.dryRunContexts to send documents to it",
        };
        Decision {
            allowed,
            new: true,
            why,
        }
    }

    /// Forgets the answers of this session (the settings changed).
    pub async fn clear(&self) {
        self.answers.lock().await.clear();
    }
}

fn read_answer(path: &std::path::Path) -> Option<bool> {
    match crate::workspace::disk::read(path, 64, crate::workspace::disk::Links::Refuse) {
        crate::workspace::disk::Contents::Text(text) => match text.trim() {
            "allow" => Some(true),
            "never" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

async fn ask(client: &Client, context: &str, server: &str) -> Option<bool> {
    let message = format!(
        "kube-lsp can check the open manifests against context \"{context}\" ({server}) with a \
         server-side dry-run and a diff against the live objects. Nothing is changed, but the \
         manifests are sent to that API server and appear in its audit log (Secrets only if \
         kube-lsp.dryRunSecrets is set). Allow it for this context?"
    );
    let item = |title: &str| MessageActionItem {
        title: title.to_string(),
        properties: HashMap::new(),
    };
    let asked = client.show_message_request(
        MessageType::INFO,
        message,
        Some(vec![item(ALLOW), item(NEVER)]),
    );
    match tokio::time::timeout(ASK_TIMEOUT, asked).await {
        Ok(Ok(Some(chosen))) if chosen.title == ALLOW => Some(true),
        Ok(Ok(Some(chosen))) if chosen.title == NEVER => Some(false),
        _ => None,
    }
}
