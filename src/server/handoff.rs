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

use serde::Deserialize;
use serde_json::value::RawValue;

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
        let Some((literal, text)) = text_of(&body) else {
            return body;
        };
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        let placeholder = serde_json::to_string(&format!("{}{id}", self.prefix))
            .expect("a string encodes as JSON");
        self.texts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, text);
        // The text's literal is a slice of `body`: splice the placeholder in its place.
        let start = literal.as_ptr() as usize - body.as_ptr() as usize;
        let end = start + literal.len();
        let mut forwarded = Vec::with_capacity(body.len() - literal.len() + placeholder.len());
        forwarded.extend_from_slice(&body[..start]);
        forwarded.extend_from_slice(placeholder.as_bytes());
        forwarded.extend_from_slice(&body[end..]);
        forwarded
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

/// The didOpen shape, reading only the text (as its JSON literal: no copy yet).
#[derive(Deserialize)]
struct DidOpen<'a> {
    #[serde(borrow)]
    params: DidOpenParams<'a>,
}

#[derive(Deserialize)]
struct DidOpenParams<'a> {
    #[serde(borrow, rename = "textDocument")]
    text_document: TextItem<'a>,
}

#[derive(Deserialize)]
struct TextItem<'a> {
    #[serde(borrow)]
    text: &'a RawValue,
}

/// The didOpen text's JSON literal in `body` and its value. serde_json would decode the value
/// through a scratch buffer that grows by doubling and copy it from there: on a fresh 2 MB that
/// is ~4 MB of memory first touched, ~3 ms here. This decodes once into a string of the right size.
fn text_of(body: &[u8]) -> Option<(&str, String)> {
    let message: DidOpen<'_> = serde_json::from_slice(body).ok()?;
    let literal = message.params.text_document.text.get();
    Some((literal, json_string(literal)?))
}

/// The value of a JSON string literal (quotes included); None for anything else, and for lone
/// surrogates, which serde_json rejects too.
fn json_string(literal: &str) -> Option<String> {
    let mut rest = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut value = String::with_capacity(rest.len());
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        value.push_str(&rest[..at]);
        let escape = *rest.as_bytes().get(at + 1)?;
        rest = rest.get(at + 2..)?;
        let unescaped = match escape {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let (character, after) = unicode_escape(rest)?;
                rest = after;
                character
            }
            _ => return None,
        };
        value.push(unescaped);
    }
    value.push_str(rest);
    Some(value)
}

/// The character of a `\uXXXX` escape (`rest` starts after the `u`), a surrogate pair taking
/// two; and the text after it.
fn unicode_escape(rest: &str) -> Option<(char, &str)> {
    let (first, rest) = hex4(rest)?;
    match first {
        0xD800..=0xDBFF => {
            let (second, rest) = hex4(rest.strip_prefix("\\u")?)?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return None;
            }
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            Some((char::from_u32(code)?, rest))
        }
        _ => Some((char::from_u32(first)?, rest)),
    }
}

/// Four hex digits and the text after them.
fn hex4(text: &str) -> Option<(u32, &str)> {
    let digits = text.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((u32::from_str_radix(digits, 16).ok()?, &text[4..]))
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

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
        // Nothing but the text changed.
        let mut expected: Value = serde_json::from_slice(&did_open(&text)).unwrap();
        expected["params"]["textDocument"]["text"] = placeholder.into();
        assert_eq!(message, expected);
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
    fn json_strings_decode_as_serde_json_decodes_them() {
        let samples = [
            "plain",
            "",
            "quote \" backslash \\ slash / tab \t cr \r nl \n",
            "\u{0}\u{1}\u{1f}\u{7f} 部署 🚀 \u{10FFFF}",
            "\\u0041 is not an escape once its backslash is escaped",
        ];
        for sample in samples {
            let literal = serde_json::to_string(sample).unwrap();
            assert_eq!(json_string(&literal).as_deref(), Some(sample), "{literal}");
        }
        for literal in [
            r#""\u00e9\u0041\/\b\f""#,
            r#""\ud83d\ude80""#,
            r#""\uD83D\uDE80x""#,
        ] {
            let expected: String = serde_json::from_str(literal).unwrap();
            assert_eq!(json_string(literal), Some(expected), "{literal}");
        }
        for bad in [
            r#""\ud83d""#,
            r#""\ude80""#,
            r#""\ud83dx""#,
            r#""\x""#,
            r#""\é""#,
            r#""\u12""#,
            "plain",
            r#""a\""#,
        ] {
            assert_eq!(json_string(bad), None, "{bad}");
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
