//! Big didOpen texts handed from the stdin thread straight to the didOpen handler.
//!
//! tower-lsp-server decodes each message into an untagged enum: serde buffers the whole message,
//! text included, and copies it again for the variant that fits. For argocd's 1.9 MB install.yaml
//! that cost ~7 ms before our handler ran. The frame guard already reads each message, so for a
//! big didOpen it takes the text out ([`TextHandoff::take_text`]) and forwards the message with a
//! placeholder; the handler swaps the text back in ([`TextHandoff::text`]).
//!
//! Only after `initialized` and before `shutdown`: in between tower-lsp-server hands every
//! didOpen to our handler, so no text is left behind.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde_json::Value;

/// Smaller didOpen messages go through tower-lsp-server's decoding as they are.
pub const HANDOFF_MIN: usize = 64 * 1024;

#[derive(Debug)]
pub struct TextHandoff {
    /// Starts every placeholder; random per process, so no client text can look like one.
    prefix: String,
    next: AtomicU64,
    texts: Mutex<HashMap<u64, String>>,
    /// Between `initialized` and `shutdown`.
    active: AtomicBool,
}

impl Default for TextHandoff {
    fn default() -> Self {
        let nonce = RandomState::new().hash_one(std::process::id());
        Self {
            prefix: format!("\u{0}kube-lsp-handoff:{nonce:016x}:"),
            next: AtomicU64::new(0),
            texts: Mutex::default(),
            active: AtomicBool::new(false),
        }
    }
}

impl TextHandoff {
    /// Notes a message the frame guard forwards (by its method, JSON-quoted).
    pub fn saw(&self, method: &str) {
        match method {
            "\"initialized\"" => self.active.store(true, Ordering::SeqCst),
            "\"shutdown\"" | "\"exit\"" => self.active.store(false, Ordering::SeqCst),
            _ => {}
        }
    }

    /// Whether [`take_text`](Self::take_text) would take the text out of this didOpen body.
    pub fn takes(&self, body: &[u8]) -> bool {
        body.len() >= HANDOFF_MIN && self.active.load(Ordering::SeqCst)
    }

    /// A didOpen body with its text replaced by a placeholder, the text kept for the handler.
    /// A body of another shape is returned as it is (tower-lsp-server answers it).
    pub fn take_text(&self, body: Vec<u8>) -> Vec<u8> {
        let Ok(mut message) = serde_json::from_slice::<Value>(&body) else {
            return body;
        };
        let Some(Value::String(text)) = message
            .pointer_mut("/params/textDocument/text")
            .map(Value::take)
        else {
            return body;
        };
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let placeholder = format!("{}{id}", self.prefix);
        self.texts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, text);
        if let Some(slot) = message.pointer_mut("/params/textDocument/text") {
            *slot = Value::String(placeholder);
        }
        serde_json::to_vec(&message).unwrap_or(body)
    }

    /// The text a didOpen handler got, with a placeholder swapped for the text it stands for.
    pub fn text(&self, text: String) -> String {
        let Some(id) = text
            .strip_prefix(&self.prefix)
            .and_then(|id| id.parse::<u64>().ok())
        else {
            return text;
        };
        let taken = self
            .texts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        taken.unwrap_or_else(|| {
            tracing::error!("didOpen: the text handed over from stdin is missing");
            String::new()
        })
    }

    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.texts.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn did_open(text: &str) -> Vec<u8> {
        let message = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file:///a.yaml", "languageId": "yaml", "version": 3, "text": text}}});
        serde_json::to_vec(&message).unwrap()
    }

    #[test]
    fn a_big_text_goes_around_the_message_and_comes_back_whole() {
        let handoff = TextHandoff::default();
        handoff.saw("\"initialized\"");
        let text = "kind: ConfigMap\n# 日本語 \u{1F600} \"quoted\" \\ \r\n".repeat(4000);
        let body = did_open(&text);
        assert!(handoff.takes(&body));
        let forwarded = handoff.take_text(body);
        assert!(
            forwarded.len() < 200,
            "{}",
            String::from_utf8_lossy(&forwarded)
        );
        let message: Value = serde_json::from_slice(&forwarded).unwrap();
        assert_eq!(message["params"]["textDocument"]["version"], 3);
        let placeholder = message["params"]["textDocument"]["text"].as_str().unwrap();
        assert_eq!(handoff.text(placeholder.to_string()), text);
        assert_eq!(handoff.waiting(), 0);
    }

    #[test]
    fn small_texts_and_texts_before_initialized_or_after_shutdown_stay_in_the_message() {
        let handoff = TextHandoff::default();
        let big = did_open(&"a: b\n".repeat(HANDOFF_MIN));
        assert!(!handoff.takes(&big), "before initialized");
        handoff.saw("\"initialized\"");
        assert!(!handoff.takes(&did_open("a: b\n")));
        assert!(handoff.takes(&big));
        handoff.saw("\"shutdown\"");
        assert!(!handoff.takes(&big));
    }

    #[test]
    fn client_texts_are_never_taken_for_placeholders() {
        let handoff = TextHandoff::default();
        for text in ["", "\u{0}kube-lsp-handoff:0000000000000000:0", "a: b"] {
            assert_eq!(handoff.text(text.to_string()), text);
        }
    }

    #[test]
    fn bodies_of_another_shape_pass_unchanged() {
        let handoff = TextHandoff::default();
        let body = br#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"text":7}}}"#;
        assert_eq!(handoff.take_text(body.to_vec()), body.to_vec());
        assert_eq!(handoff.waiting(), 0);
    }
}
