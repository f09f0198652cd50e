//! A guard in front of tower-lsp-server's reader: no input ends, stalls or bloats the server.
//!
//! tower-lsp-server reads its input through tokio-util's `FramedRead`, which ends the stream at
//! the first frame it cannot decode (garbage headers, a body that is not JSON, JSON that is not a
//! JSON-RPC message, a lone UTF-16 surrogate, nesting past serde_json's limit, `1e400`, an `id` of
//! `1.5`) — and with it the server. A thread reads stdin first ([`spawn_stdin_reader`]) and
//! forwards only what tower-lsp-server decodes; everything else is answered here, through
//! [`super::output`], with a JSON-RPC error carrying the message's id when one can be read:
//!
//! - header lines are bounded ([`FrameLimits::header_line`]): a longer line is skipped, keeping
//!   its end, where a `Content-Length` glued to garbage is still found;
//! - bodies are bounded ([`FrameLimits::body`]): a bigger one is skipped in chunks, unread;
//! - a body whose Content-Length was too long holds a whole message and the start of the next
//!   frame: the message is kept and the rest read again as input (re-synchronisation), and so is
//!   the next frame's header when only blank bytes came before it (a header that belonged to no
//!   message); a body that was too short is answered as a parse error and the reader finds the
//!   next header in the line;
//! - lone surrogates (`\ud800`, a half-deleted emoji) become U+FFFD, reported once;
//! - a request whose method starts with `$/` (which tower-lsp-server would ignore) gets
//!   MethodNotFound, a message with an id but neither method nor result InvalidRequest.
//!
//! The thread reads with plain blocking reads and hands over whole frames: a big didOpen reaches
//! the server in one piece, instead of 64 KiB at a time through tokio's blocking pool and a pipe,
//! with a hop between threads for each piece.

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use serde_json::value::RawValue;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::handoff::{Checked, ParamsProbe, TextHandoff, hex4};
use super::output::Replies;

/// JSON-RPC error codes the guard answers with.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;

/// Size limits of the input (`--max-header-bytes`, `--max-message-bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLimits {
    /// A header line longer than this is skipped (its end is kept to find a header glued there).
    pub header_line: usize,
    /// A body longer than this is skipped unread and answered with an error.
    pub body: usize,
}

impl Default for FrameLimits {
    /// Headers are a few dozen bytes; a 64 MB document JSON-escaped fits four times over.
    fn default() -> Self {
        FrameLimits {
            header_line: 64 << 10,
            body: 256 << 20,
        }
    }
}

/// Reads frames from stdin on a thread of its own; the returned reader yields the frames
/// tower-lsp-server can decode (see the module docs) and ends when stdin does. Answers to the
/// others go to `replies`. Big didOpen texts go around tower-lsp-server through `handoff`.
pub fn spawn_stdin_reader(
    handoff: Arc<TextHandoff>,
    replies: Replies,
    limits: FrameLimits,
) -> FrameReader {
    let (frames, reader) = FrameReader::channel();
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            widen_stdin_pipe();
            let guard = Guard {
                handoff: &handoff,
                replies: &replies,
                limits,
                surrogates_reported: AtomicBool::new(false),
            };
            guard.run(std::io::stdin().lock(), &frames)
        });
    if let Err(error) = spawned {
        tracing::error!("cannot start the stdin reader: {error}");
    }
    reader
}

/// Asks for a 1 MiB pipe buffer on stdin (Linux; the default is 64 KiB): a big didOpen then
/// crosses in a few reads instead of one turn between the editor's writes and our reads per
/// 64 KiB. Not a pipe, or over the system's limit: nothing changes.
fn widen_stdin_pipe() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: F_SETPIPE_SZ only resizes the pipe's buffer; it fails harmlessly on other files.
    unsafe {
        libc::fcntl(libc::STDIN_FILENO, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// The input, with bytes that were read too far (a body whose Content-Length was too long)
/// put back in front.
struct Input<R> {
    inner: R,
    pushed: Vec<u8>,
    at: usize,
}

impl<R: BufRead> Input<R> {
    fn new(inner: R) -> Self {
        Input {
            inner,
            pushed: Vec::new(),
            at: 0,
        }
    }

    fn unread(&mut self, mut bytes: Vec<u8>) {
        bytes.extend_from_slice(&self.pushed[self.at..]);
        (self.pushed, self.at) = (bytes, 0);
    }
}

impl<R: BufRead> Read for Input<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(buf.len());
        buf[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for Input<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.at < self.pushed.len() {
            return Ok(&self.pushed[self.at..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.at < self.pushed.len() {
            self.at += amount;
            if self.at == self.pushed.len() {
                (self.pushed, self.at) = (Vec::new(), 0);
            }
        } else {
            self.inner.consume(amount);
        }
    }
}

/// What becomes of one body.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// tower-lsp-server decodes it.
    Forward(Vec<u8>),
    /// Answered here: the request's id as JSON (`null` when none can be read), code, message.
    Reply(String, i64, String),
    /// A notification or response that is not valid: logged only.
    Drop(&'static str),
}

struct Guard<'a> {
    handoff: &'a TextHandoff,
    replies: &'a Replies,
    limits: FrameLimits,
    surrogates_reported: AtomicBool,
}

impl Guard<'_> {
    /// Sends the frames tower-lsp-server can decode until the input ends or nobody listens.
    fn run(&self, input: impl BufRead, frames: &UnboundedSender<Vec<u8>>) {
        let mut input = Input::new(input);
        loop {
            let length = match read_headers(&mut input, self.limits.header_line) {
                Ok(Some(length)) => length,
                Ok(None) => break,
                Err(error) => {
                    tracing::error!("unreadable LSP input: {error}");
                    break;
                }
            };
            let verdict = if length > self.limits.body {
                let Some(head) = skip_body(&mut input, length) else {
                    break;
                };
                let limit = self.limits.body;
                tracing::error!("skipping an LSP message of {length} bytes (limit {limit})");
                let message = format!("message of {length} bytes over the limit of {limit}");
                Verdict::Reply(salvage_id(&head), INVALID_REQUEST, message)
            } else {
                let Some(body) = read_body(&mut input, length) else {
                    break;
                };
                let (verdict, rest) = self.inspect(body);
                if let Some(rest) = rest {
                    input.unread(rest);
                }
                verdict
            };
            match verdict {
                Verdict::Forward(body) => {
                    // Header and body apart: a 2 MB body is not copied once more.
                    let header = format!("Content-Length: {}\r\n\r\n", body.len());
                    if frames.send(header.into_bytes()).is_err() || frames.send(body).is_err() {
                        break;
                    }
                }
                Verdict::Reply(id, code, message) => {
                    tracing::error!("answering an invalid LSP message with an error: {message}");
                    self.replies.error(&id, code, &message);
                }
                Verdict::Drop(why) => tracing::error!("dropping an LSP message: {why}"),
            }
        }
    }

    /// What to do with `body`; and, when its Content-Length was too long (a whole message, then
    /// the start of the next frame), the bytes to read again as input.
    fn inspect(&self, mut body: Vec<u8>) -> (Verdict, Option<Vec<u8>>) {
        if repair_surrogates(&mut body) > 0
            && !self.surrogates_reported.swap(true, Ordering::Relaxed)
        {
            let message = "kube-lsp: the client sent a lone UTF-16 surrogate (half of an emoji?) \
                           in a string; it was read as U+FFFD";
            tracing::warn!("{message}");
            self.replies.log_message(2, message);
        }
        match self.classify(body) {
            Ok(verdict) => (verdict, None),
            Err(body) => self.read_past(body),
        }
    }

    /// A body that is not one JSON object, its Content-Length perhaps wrong: the verdict on the
    /// message in it, and the start of the next frame it ran into, to read again.
    fn read_past(&self, body: Vec<u8>) -> (Verdict, Option<Vec<u8>>) {
        let (verdict, at, why) = if let Some(end) = split_after_first_value(&body) {
            let message = self.classify(body[..end].to_vec());
            let verdict = message.unwrap_or_else(|body| parse_error(&body));
            (verdict, end, "an LSP message longer than its content")
        } else if let Some(at) = header_after_blanks(&body) {
            let why = "an LSP header promised more bytes than came before the next frame";
            (Verdict::Drop("no message before the next frame"), at, why)
        } else if let Some(at) = header_cut_at_end(&body) {
            let why = "an LSP message that is not JSON ran into the next frame's header";
            (parse_error(&body[..at]), at, why)
        } else {
            return (parse_error(&body), None);
        };
        let rest = body[at..].to_vec();
        tracing::error!("{why}: {} bytes read again", rest.len());
        (verdict, Some(rest))
    }

    /// The verdict on a body, or the body back when it is not one JSON object.
    fn classify(&self, body: Vec<u8>) -> Result<Verdict, Vec<u8>> {
        let Ok(json) = std::str::from_utf8(&body) else {
            return Err(body);
        };
        let envelope = match serde_json::from_str::<Envelope<'_>>(json) {
            Ok(envelope) => envelope,
            Err(error) if error.classify() == serde_json::error::Category::Data => {
                let message = format!("invalid JSON-RPC message: {error}");
                return Ok(Verdict::Reply(salvage_id(&body), INVALID_REQUEST, message));
            }
            Err(_) => return Err(body),
        };
        let method = match envelope
            .method
            .map(|m| serde_json::from_str::<Cow<'_, str>>(m.get()))
        {
            None => None,
            Some(Ok(method)) => Some(method),
            Some(Err(_)) => return Ok(invalid(&envelope, "the method is not a string")),
        };
        let id_ok = envelope.id.is_none_or(|id| {
            serde_json::from_str::<tower_lsp_server::jsonrpc::Id>(id.get()).is_ok()
        });
        if envelope.jsonrpc.as_deref() != Some("2.0") {
            return Ok(invalid(&envelope, "not JSON-RPC 2.0"));
        }
        let Some(method) = method else {
            // A response to one of our requests.
            let error_ok = envelope.error.is_none_or(|error| {
                serde_json::from_str::<tower_lsp_server::jsonrpc::Error>(error.get()).is_ok()
            });
            let is_response = envelope.result.is_some() || envelope.error.is_some();
            return Ok(match (envelope.id, is_response) {
                (Some(_), true) if id_ok && error_ok => Verdict::Forward(body),
                (_, true) => Verdict::Drop("a response with an invalid id or error"),
                (Some(_), false) => invalid(&envelope, "a message with neither method nor result"),
                (None, false) => Verdict::Drop("neither a request nor a response"),
            });
        };
        if !id_ok {
            return Ok(invalid(
                &envelope,
                "the id is neither an integer nor a string",
            ));
        }
        if let Some(id) = envelope.id
            && method.starts_with("$/")
        {
            let message = format!("unhandled method {method}");
            return Ok(Verdict::Reply(
                id.get().to_string(),
                METHOD_NOT_FOUND,
                message,
            ));
        }
        self.handoff.saw(&method);
        let literal = (method == "textDocument/didOpen" && self.handoff.takes(&body))
            .then(|| envelope.params.as_ref()?.text_literal(json))
            .flatten();
        drop(envelope);
        Ok(Verdict::Forward(match literal {
            Some(literal) => self.handoff.take_text(body, literal),
            None => body,
        }))
    }
}

/// The parts of a JSON-RPC message that decide whether tower-lsp-server can decode it. Params are
/// only probed and results only checked: validating a 2 MB didOpen must not copy its text.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<ParamsProbe<'a>>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Checked>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
    /// Other keys: tower-lsp-server buffers them, so their values must read as JSON values too.
    #[serde(flatten)]
    #[allow(dead_code)]
    other: Checked,
}

/// A field that is there, even as `null` (tower-lsp-server reads `"id": null` as an id and
/// `"result": null` as a result).
fn present<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// An InvalidRequest answer when the message has an id, else a dropped notification.
fn invalid(envelope: &Envelope<'_>, why: &'static str) -> Verdict {
    match envelope.id {
        Some(id) => Verdict::Reply(reply_id(id.get()), INVALID_REQUEST, why.to_string()),
        None => Verdict::Drop(why),
    }
}

/// A parse error, answered to the id that can be read from the broken message, if any.
fn parse_error(body: &[u8]) -> Verdict {
    let message = "the message is not valid JSON".to_string();
    Verdict::Reply(salvage_id(body), PARSE_ERROR, message)
}

/// An id as the answer repeats it: a number or a string as written, anything else `null`.
fn reply_id(raw: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Number(_) | serde_json::Value::String(_)) => raw.to_string(),
        _ => "null".to_string(),
    }
}

/// The top-level `"id"` of a message that does not parse (cut short, too big), read as far as
/// the message goes; `null` when there is none.
fn salvage_id(body: &[u8]) -> String {
    let mut scanner = Scanner { body, at: 0 };
    scanner
        .top_level_id()
        .and_then(|raw| std::str::from_utf8(raw).ok())
        .map_or_else(|| "null".to_string(), reply_id)
}

/// A forgiving reader of a JSON object's top-level keys.
struct Scanner<'a> {
    body: &'a [u8],
    at: usize,
}

impl<'a> Scanner<'a> {
    fn skip_space(&mut self) {
        while self.body.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_space();
        (self.body.get(self.at) == Some(&byte)).then(|| self.at += 1)
    }

    /// A string literal, quotes included.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.skip_space();
        let start = self.at;
        (self.body.get(self.at) == Some(&b'"')).then_some(())?;
        self.at += 1;
        loop {
            match self.body.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(&self.body[start..self.at]);
                }
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
    }

    /// Any value, as its bytes (nested ones balanced, strings respected).
    fn value(&mut self) -> Option<&'a [u8]> {
        self.skip_space();
        let start = self.at;
        match *self.body.get(self.at)? {
            b'"' => return self.string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *self.body.get(self.at)? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                    self.at += 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
            _ => {
                while self
                    .body
                    .get(self.at)
                    .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
                {
                    self.at += 1;
                }
                // A number cut by the end of the body is not the whole number.
                self.body.get(self.at)?;
            }
        }
        Some(&self.body[start..self.at])
    }

    fn top_level_id(&mut self) -> Option<&'a [u8]> {
        self.eat(b'{')?;
        loop {
            let key = self.string()?;
            self.eat(b':')?;
            let value = self.value()?;
            if key == b"\"id\"" {
                return Some(value);
            }
            self.eat(b',')?;
        }
    }
}

/// Where the first JSON value of `body` ends, when something other than whitespace follows it.
fn split_after_first_value(body: &[u8]) -> Option<usize> {
    let mut values =
        serde_json::Deserializer::from_slice(body).into_iter::<serde::de::IgnoredAny>();
    values.next()?.ok()?;
    let end = values.byte_offset();
    body[end..]
        .iter()
        .any(|b| !b.is_ascii_whitespace())
        .then_some(end)
}

/// The one header an LSP frame needs, as it is compared: lowercase (any case is accepted).
const CONTENT_LENGTH: &[u8] = b"content-length:";

/// Where the next frame's header starts in a body that holds only blank bytes before it: the
/// Content-Length read last promised bytes that never came, and the next frame was read as them.
fn header_after_blanks(body: &[u8]) -> Option<usize> {
    let at = body.iter().position(|b| !b.is_ascii_whitespace())?;
    let name = body.get(at..at + CONTENT_LENGTH.len())?;
    name.eq_ignore_ascii_case(CONTENT_LENGTH).then_some(at)
}

/// Where the start of a header that the body's end cuts short begins: a Content-Length a few
/// bytes too long read the start of the next frame's header (`Content`, or up to its blank
/// line) into a body that is not JSON, so no value's end tells where the message stops. Only
/// after a `}`, `]` or a blank, where a message ends: a header-like text inside a body stays in it.
fn header_cut_at_end(body: &[u8]) -> Option<usize> {
    /// `Content-Length: ` with twenty digits and both line breaks.
    const HEADER_MAX: usize = 40;
    let from = body.len().saturating_sub(HEADER_MAX).max(1);
    (from..body.len()).find(|&at| {
        matches!(body[at - 1], b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            && is_header_start(&body[at..])
    })
}

/// Whether `tail` is how a `Content-Length: N` header and its blank line start (any case).
fn is_header_start(tail: &[u8]) -> bool {
    let name = tail.len().min(CONTENT_LENGTH.len());
    if !tail[..name].eq_ignore_ascii_case(&CONTENT_LENGTH[..name]) {
        return false;
    }
    let value = &tail[name..];
    let spaces = value.iter().take_while(|b| **b == b' ').count();
    let digits = (value[spaces..].iter())
        .take_while(|b| b.is_ascii_digit())
        .count();
    b"\r\n\r\n".starts_with(&value[spaces + digits..])
}

/// Replaces each `\uXXXX` escape of a lone UTF-16 surrogate by `\uFFFD` (same length, in place);
/// returns how many. serde_json rejects them, and editors do send them (a half-deleted emoji).
/// Only the `\u`s are visited (one SIMD search; a didOpen's text has a `\n` every few bytes and
/// seldom a `\u`), and one is an escape when an even number of backslashes comes before it.
fn repair_surrogates(body: &mut [u8]) -> usize {
    let escapes: Vec<usize> = memchr::memmem::find_iter(body, b"\\u")
        .filter(|&at| starts_escape(body, at))
        .collect();
    let (mut count, mut after_pair) = (0, 0);
    for escape in escapes {
        count_work!(UNICODE_ESCAPES_READ);
        let Some(code) = body.get(escape + 2..).and_then(hex4) else {
            continue;
        };
        let low_follows = || {
            body.get(escape + 6..escape + 8) == Some(b"\\u")
                && body
                    .get(escape + 8..)
                    .and_then(hex4)
                    .is_some_and(|low| (0xDC00..=0xDFFF).contains(&low))
        };
        match code {
            _ if escape < after_pair => {}
            0xD800..=0xDBFF if low_follows() => after_pair = escape + 12,
            0xD800..=0xDFFF => {
                body[escape + 2..escape + 6].copy_from_slice(b"FFFD");
                count += 1;
            }
            _ => {}
        }
    }
    count
}

work_counter!(
    /// How many `\u` escapes this thread's surrogate repairs looked at so far.
    pub(crate) fn unicode_escapes_read() => UNICODE_ESCAPES_READ
);

/// Whether the backslash at `at` starts an escape: the backslashes right before it pair up.
fn starts_escape(body: &[u8], at: usize) -> bool {
    let before = body[..at].iter().rev().take_while(|b| **b == b'\\');
    before.count() % 2 == 0
}

/// Reads a body of `length` bytes; None when the input ends first.
fn read_body(input: &mut impl Read, length: usize) -> Option<Vec<u8>> {
    let mut body = Vec::with_capacity(length.min(16 << 20));
    match input.take(length as u64).read_to_end(&mut body) {
        Ok(read) if read == length => Some(body),
        Ok(_) => None,
        Err(error) => {
            tracing::error!("unreadable LSP input: {error}");
            None
        }
    }
}

/// Skips a body of `length` bytes without keeping it; returns its first 4 KiB (to read an id
/// from), None when the input ends first.
fn skip_body(input: &mut impl BufRead, length: usize) -> Option<Vec<u8>> {
    let head = read_body(input, length.min(4096))?;
    let mut left = length - head.len();
    while left > 0 {
        let available = input.fill_buf().ok()?;
        if available.is_empty() {
            return None;
        }
        let used = available.len().min(left);
        input.consume(used);
        left -= used;
    }
    Some(head)
}

/// Reads one line of at most `limit` bytes (the end of a longer one: a header glued to garbage
/// is at the end); None at end of input.
fn read_line(input: &mut impl BufRead, limit: usize, line: &mut Vec<u8>) -> std::io::Result<bool> {
    line.clear();
    let mut any = false;
    loop {
        let available = input.fill_buf()?;
        if available.is_empty() {
            return Ok(any);
        }
        any = true;
        let (used, done) = match memchr::memchr(b'\n', available) {
            Some(at) => (at + 1, true),
            None => (available.len(), false),
        };
        line.extend_from_slice(&available[..used]);
        input.consume(used);
        if line.len() > limit {
            let keep = line.len() - limit.min(256);
            line.drain(..keep);
        }
        if done {
            return Ok(true);
        }
    }
}

/// Reads header lines up to the blank line; returns the Content-Length, or None at end of input.
/// Lines that are not headers (garbage between frames) are skipped; a `Content-Length` header
/// glued to garbage in front of it is found.
fn read_headers(input: &mut impl BufRead, limit: usize) -> std::io::Result<Option<usize>> {
    let mut length = None;
    let mut line = Vec::new();
    loop {
        if !read_line(input, limit, &mut line)? {
            return Ok(None);
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            match length {
                Some(length) => return Ok(Some(length)),
                None => continue,
            }
        }
        let lower = text.to_ascii_lowercase();
        let found = (0..lower.len().saturating_sub(CONTENT_LENGTH.len() - 1))
            .rev()
            .find(|&at| lower[at..].starts_with(CONTENT_LENGTH));
        match found {
            Some(at) => {
                let value = String::from_utf8_lossy(&text[at + CONTENT_LENGTH.len()..]);
                match value.trim().parse::<usize>() {
                    Ok(n) => length = Some(n),
                    Err(_) => tracing::error!("bad Content-Length header: {value}"),
                }
            }
            None if text.contains(&b':') => {}
            None => tracing::error!(
                "skipping a line that is not an LSP header ({} bytes)",
                text.len()
            ),
        }
    }
}

/// The frames the stdin thread sends, read as one byte stream by tower-lsp-server.
pub struct FrameReader {
    frames: UnboundedReceiver<Vec<u8>>,
    /// The frame being read and how much of it was read.
    current: Vec<u8>,
    read: usize,
}

impl FrameReader {
    fn channel() -> (UnboundedSender<Vec<u8>>, Self) {
        let (sender, frames) = unbounded_channel();
        let reader = Self {
            frames,
            current: Vec::new(),
            read: 0,
        };
        (sender, reader)
    }
}

impl AsyncRead for FrameReader {
    fn poll_read(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if this.read == this.current.len() {
            match this.frames.poll_recv(context) {
                Poll::Ready(Some(frame)) => (this.current, this.read) = (frame, 0),
                // The thread is done: end of input.
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let rest = &this.current[this.read..];
        let count = rest.len().min(buf.remaining());
        buf.put_slice(&rest[..count]);
        this.read += count;
        if this.read == this.current.len() {
            // A 2 MB didOpen is not kept for the rest of the session.
            (this.current, this.read) = (Vec::new(), 0);
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;
