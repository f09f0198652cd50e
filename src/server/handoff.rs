//! didOpen texts handed from the stdin thread straight to the didOpen handler.
//!
//! tower-lsp-server decodes each message into an untagged enum: serde buffers the whole message,
//! text included, and copies it again for the variant that fits: copies of the file's whole text
//! before our handler runs. The frame guard already reads each message, finding a didOpen's text
//! in the same pass ([`ParamsProbe`]), so for any didOpen but a tiny one it takes the text out
//! ([`TextHandoff::take_text`], decoded in the message's own buffer) and forwards the message with
//! a placeholder; the handler swaps the text back in ([`TextHandoff::text`]).
//!
//! Only after `initialized` and before `shutdown`: in between tower-lsp-server hands every
//! didOpen to our handler, so no text is left behind.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Smaller didOpen messages go through tower-lsp-server's decoding as they are: below this,
/// decoding and copying the text costs about what the placeholder's own work does.
pub const HANDOFF_MIN: usize = 4 * 1024;

#[derive(Debug)]
pub struct TextHandoff {
    markers: Markers,
    texts: Mutex<HashMap<u64, String>>,
    /// Between `initialized` and `shutdown`.
    active: AtomicBool,
}

/// Placeholder strings no client text can look like: a prefix random per process, then a
/// number counted up.
#[derive(Debug)]
pub struct Markers {
    prefix: String,
    next: AtomicU64,
}

impl Markers {
    /// Markers whose prefix names `kind` (what they stand for).
    pub fn new(kind: &str) -> Self {
        let nonce = RandomState::new().hash_one(std::process::id());
        Markers {
            prefix: format!("\u{0}kube-lsp-{kind}:{nonce:016x}:"),
            next: AtomicU64::new(0),
        }
    }

    /// A new marker and its number.
    pub fn next(&self) -> (u64, String) {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        (id, format!("{}{id}", self.prefix))
    }

    /// The number of `text` when it is one of these markers.
    pub fn id_of(&self, text: &str) -> Option<u64> {
        text.strip_prefix(&self.prefix)?.parse().ok()
    }
}

impl Default for TextHandoff {
    fn default() -> Self {
        Self {
            markers: Markers::new("handoff"),
            texts: Mutex::default(),
            active: AtomicBool::new(false),
        }
    }
}

impl TextHandoff {
    /// Notes a message the frame guard forwards (by its method name, decoded).
    pub fn saw(&self, method: &str) {
        match method {
            "initialized" => self.active.store(true, Ordering::SeqCst),
            "shutdown" | "exit" => self.active.store(false, Ordering::SeqCst),
            _ => {}
        }
    }

    /// Whether [`take_text`](Self::take_text) would take the text out of this didOpen body.
    pub fn takes(&self, body: &[u8]) -> bool {
        body.len() >= HANDOFF_MIN && self.active.load(Ordering::SeqCst)
    }

    /// A didOpen body with its text (the JSON string literal at `literal`, see
    /// [`ParamsProbe`]) replaced by a placeholder, the text kept for the handler. The text is
    /// decoded in the body's own buffer: a fresh string would touch new pages for the whole
    /// text, and first-touched memory is slow on this kind of machine. A literal that does not decode (a lone surrogate) is forwarded as
    /// `null`, which tower-lsp-server rejects as serde_json would have rejected the literal.
    pub fn take_text(&self, mut body: Vec<u8>, literal: Range<usize>) -> Vec<u8> {
        let rest = body[literal.end..].to_vec();
        let mut forwarded = Vec::with_capacity(literal.start + 64 + rest.len());
        forwarded.extend_from_slice(&body[..literal.start]);
        let text = decode_in_place(&mut body, literal).and_then(|length| {
            body.truncate(length);
            String::from_utf8(body).ok()
        });
        let mut taken = None;
        match text {
            Some(text) => {
                let (id, marker) = self.markers.next();
                let placeholder = serde_json::to_string(&marker).expect("a string encodes as JSON");
                self.texts
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, text);
                forwarded.extend_from_slice(placeholder.as_bytes());
                taken = Some(id);
            }
            None => forwarded.extend_from_slice(b"null"),
        }
        forwarded.extend_from_slice(&rest);
        // A didOpen the handler will never get (a URI that does not parse, a version that is not
        // an integer: tower-lsp-server rejects its params) must not leave its text behind.
        if let Some(id) = taken
            && serde_json::from_slice::<DidOpenMessage>(&forwarded).is_err()
        {
            tracing::error!("didOpen with invalid params: its text is dropped");
            self.texts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&id);
        }
        forwarded
    }

    /// The text a didOpen handler got, with a placeholder swapped for the text it stands for.
    pub fn text(&self, text: String) -> String {
        let Some(id) = self.markers.id_of(&text) else {
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

/// The part of a didOpen message its handler needs, as tower-lsp-server decodes it.
#[derive(serde::Deserialize)]
struct DidOpenMessage {
    #[allow(dead_code)]
    params: tower_lsp_server::ls_types::DidOpenTextDocumentParams,
}

/// What the frame guard needs of a message's `params`, read in the pass that checks the
/// message (as tower-lsp-server will read them, see [`Checked`]): a didOpen's text as its JSON
/// literal (no copy yet).
pub struct ParamsProbe<'a> {
    /// `textDocument.text`, when each of the two keys is there once.
    text: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for ParamsProbe<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ProbeVisitor {
            field: "textDocument",
        })
    }
}

impl ParamsProbe<'_> {
    /// Where the text's string literal is in `json`, the message the probe read.
    pub fn text_literal(&self, json: &str) -> Option<Range<usize>> {
        let raw = self.text?.get();
        let start = (raw.as_ptr() as usize).checked_sub(json.as_ptr() as usize)?;
        (raw.starts_with('"') && start + raw.len() <= json.len()).then(|| start..start + raw.len())
    }
}

/// Reads any JSON value; in an object, the value of `field` when it is there once:
/// `textDocument` at the top, then `text` inside it.
struct ProbeVisitor {
    field: &'static str,
}

impl<'de> Visitor<'de> for ProbeVisitor {
    type Value = ParamsProbe<'de>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut text, mut seen) = (None, 0);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key != self.field {
                map.next_value::<Checked>()?;
                continue;
            }
            seen += 1;
            text = if self.field == "text" {
                Some(map.next_value::<&'de RawValue>()?)
            } else {
                map.next_value_seed(ProbeVisitor { field: "text" })?.text
            };
        }
        Ok(probe(text.filter(|_| seen == 1)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(probe(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(probe(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(probe(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(probe(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(probe(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(probe(None))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(probe(None))
    }
}

impl<'de> de::DeserializeSeed<'de> for ProbeVisitor {
    type Value = ParamsProbe<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn probe(text: Option<&RawValue>) -> ParamsProbe<'_> {
    ParamsProbe { text }
}

/// Any JSON value, read the way tower-lsp-server's decoding into `serde_json::Value` reads it
/// (`deserialize_any` all the way down), so that what it rejects is rejected here too: nesting
/// past serde_json's recursion limit, numbers out of `f64`'s range, invalid escapes. Nothing is
/// kept.
pub struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Checked>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
}

/// Decodes the JSON string literal at `literal` (quotes included) of `buffer` into the
/// buffer's start and returns the value's length; None for anything but a string literal,
/// and for lone surrogates, which serde_json rejects too. Every escape is longer than what it
/// stands for, so writing never overtakes reading, and the bytes after the literal stay.
fn decode_in_place(buffer: &mut [u8], literal: Range<usize>) -> Option<usize> {
    let quoted = literal.len() >= 2
        && buffer.get(literal.start) == Some(&b'"')
        && buffer.get(literal.end - 1) == Some(&b'"');
    if !quoted {
        return None;
    }
    let (mut read, end, mut write) = (literal.start + 1, literal.end - 1, 0);
    while let Some(at) = memchr::memchr(b'\\', &buffer[read..end]) {
        buffer.copy_within(read..read + at, write);
        write += at;
        read += at + 2;
        let escape = *buffer[..end].get(read - 1)?;
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
                let (character, used) = unicode_escape(&buffer[read..end])?;
                read += used;
                character
            }
            _ => return None,
        };
        write += unescaped.encode_utf8(&mut buffer[write..]).len();
    }
    buffer.copy_within(read..end, write);
    Some(write + (end - read))
}

/// The character of a `\uXXXX` escape (`rest` starts after the `u`), a surrogate pair taking
/// two; and how many bytes of `rest` it used.
fn unicode_escape(rest: &[u8]) -> Option<(char, usize)> {
    let first = hex4(rest)?;
    match first {
        0xD800..=0xDBFF => {
            let second = hex4(rest.get(4..)?.strip_prefix(b"\\u")?)?;
            if !(0xDC00..=0xDFFF).contains(&second) {
                return None;
            }
            let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            Some((char::from_u32(code)?, 10))
        }
        _ => Some((char::from_u32(first)?, 4)),
    }
}

/// The value of the four hex digits `text` starts with.
pub(super) fn hex4(text: &[u8]) -> Option<u32> {
    let digits = std::str::from_utf8(text.get(..4)?).ok()?;
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The text's literal in a didOpen body, as the frame guard finds it.
    fn literal(body: &[u8]) -> Option<Range<usize>> {
        #[derive(serde::Deserialize)]
        struct Message<'a> {
            #[serde(borrow)]
            params: ParamsProbe<'a>,
        }
        let json = std::str::from_utf8(body).unwrap();
        let message: Message<'_> = serde_json::from_str(json).unwrap();
        message.params.text_literal(json)
    }

    fn take(handoff: &TextHandoff, body: Vec<u8>) -> Vec<u8> {
        let literal = literal(&body).expect("a didOpen with a text");
        handoff.take_text(body, literal)
    }

    fn json_string(literal: &str) -> Option<String> {
        let mut buffer = literal.as_bytes().to_vec();
        let length = decode_in_place(&mut buffer, 0..literal.len())?;
        buffer.truncate(length);
        String::from_utf8(buffer).ok()
    }

    fn did_open(text: &str) -> Vec<u8> {
        let message = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file:///a.yaml", "languageId": "yaml", "version": 3, "text": text}}});
        serde_json::to_vec(&message).unwrap()
    }

    #[test]
    fn a_big_text_goes_around_the_message_and_comes_back_whole() {
        let handoff = TextHandoff::default();
        handoff.saw("initialized");
        let text = "kind: ConfigMap\n# 日本語 \u{1F600} \"quoted\" \\ \r\n".repeat(4000);
        let body = did_open(&text);
        assert!(handoff.takes(&body));
        let forwarded = take(&handoff, body);
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
        handoff.saw("initialized");
        assert!(!handoff.takes(&did_open("a: b\n")));
        assert!(handoff.takes(&big));
        handoff.saw("shutdown");
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
    fn only_a_string_text_given_once_is_taken() {
        for params in [
            r#"{"textDocument":{"text":7}}"#,
            r#"{"textDocument":{"text":"a","text":"b"}}"#,
            r#"{"textDocument":{"text":"a"},"textDocument":{"text":"b"}}"#,
            r#"{"textDocument":["text"]}"#,
            r#"["textDocument"]"#,
        ] {
            let body = format!(r#"{{"method":"textDocument/didOpen","params":{params}}}"#);
            assert_eq!(literal(body.as_bytes()), None, "{params}");
        }
        let escaped = r#"{"params":{"text\u0044ocument":{"te\u0078t":"a b"}}}"#;
        let found = literal(escaped.as_bytes()).unwrap();
        assert_eq!(&escaped[found], r#""a b""#);
    }

    #[test]
    fn a_text_that_does_not_decode_is_forwarded_as_null() {
        let handoff = TextHandoff::default();
        let body = br#"{"params":{"textDocument":{"text":"ok \ud83d","version":1}}}"#.to_vec();
        let forwarded = take(&handoff, body);
        assert_eq!(
            String::from_utf8(forwarded).unwrap(),
            r#"{"params":{"textDocument":{"text":null,"version":1}}}"#
        );
        assert_eq!(handoff.waiting(), 0);
    }

    #[test]
    fn a_did_open_its_handler_never_gets_leaves_no_text_behind() {
        let handoff = TextHandoff::default();
        let text = "a: b\n".repeat(20_000);
        for (uri, version) in [
            ("file:///a b.yaml", Value::from(1)),
            ("file:///a.yaml", "x".into()),
        ] {
            let message = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}});
            take(&handoff, serde_json::to_vec(&message).unwrap());
            assert_eq!(handoff.waiting(), 0, "{uri} {version}");
        }
        take(&handoff, did_open(&text));
        assert_eq!(handoff.waiting(), 1);
    }
}
