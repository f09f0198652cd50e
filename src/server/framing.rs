//! A guard in front of tower-lsp-server's reader.
//!
//! tower-lsp-server reads its input through tokio-util's `FramedRead`, which ends the stream at
//! the first frame it cannot decode (garbage headers, a body that is not JSON, JSON that is not a
//! JSON-RPC message) — and with it the server. A thread reads stdin first ([`spawn_stdin_reader`]),
//! forwards the good frames unchanged, drops bodies that are not JSON (with a log line; a
//! notification-less client waits for nothing), and turns a JSON object that is not a valid
//! message but carries an `id` into a request for an unknown method, so the client still gets an
//! error response.
//!
//! The thread reads with plain blocking reads and hands over whole frames: a big didOpen reaches
//! the server in one piece, instead of 64 KiB at a time through tokio's blocking pool and a pipe,
//! with a hop between threads for each piece.

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::handoff::{JsonKind, ParamsProbe, TextHandoff};

/// Largest body accepted (editors send whole files in didOpen; 1 GiB is far beyond any manifest).
const MAX_BODY: usize = 1 << 30;

/// Reads frames from stdin on a thread of its own; the returned reader yields the repaired frames
/// (see the module docs) and ends when stdin does. Big didOpen texts go around tower-lsp-server
/// through `handoff`.
pub fn spawn_stdin_reader(handoff: Arc<TextHandoff>) -> FrameReader {
    let (frames, reader) = FrameReader::channel();
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            widen_stdin_pipe();
            sanitize(std::io::stdin().lock(), &frames, &handoff)
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

/// Sends repaired frames (headers and body) read from `input` until it ends or nobody listens.
fn sanitize(mut input: impl BufRead, frames: &UnboundedSender<Vec<u8>>, handoff: &TextHandoff) {
    loop {
        let length = match read_headers(&mut input) {
            Ok(Some(length)) => length,
            Ok(None) => break,
            Err(error) => {
                tracing::error!("unreadable LSP input: {error}");
                break;
            }
        };
        let Some(body) = read_body(&mut input, length) else {
            break;
        };
        let Some(body) = repair(body, handoff) else {
            continue;
        };
        // Header and body apart: a 2 MB body is not copied once more.
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        if frames.send(header.into_bytes()).is_err() || frames.send(body).is_err() {
            break;
        }
    }
}

/// Reads a body of `length` bytes; None when the input ends first.
fn read_body(input: &mut impl Read, length: usize) -> Option<Vec<u8>> {
    let mut body = Vec::with_capacity(length);
    match input.take(length as u64).read_to_end(&mut body) {
        Ok(read) if read == length => Some(body),
        Ok(_) => None,
        Err(error) => {
            tracing::error!("unreadable LSP input: {error}");
            None
        }
    }
}

/// Reads header lines up to the blank line; returns the Content-Length, or None at end of input.
/// Lines that are not headers (garbage between frames) are skipped.
fn read_headers(input: &mut impl BufRead) -> std::io::Result<Option<usize>> {
    let mut length = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            match length {
                Some(length) => return Ok(Some(length)),
                None => continue,
            }
        }
        if let Some((name, value)) = text.split_once(':') {
            let name = name.trim();
            // Garbage glued in front of a header: keep the header.
            if name.to_ascii_lowercase().ends_with("content-length") {
                match value.trim().parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => length = Some(n),
                    _ => tracing::error!("bad Content-Length header: {text}"),
                }
            }
        } else {
            tracing::error!(
                "skipping a line that is not an LSP header ({} bytes)",
                text.len()
            );
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

/// The parts of a JSON-RPC message that decide whether tower-lsp-server can decode it. Results
/// stay raw and params are only probed: validating a 2 MB didOpen must not copy its text.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<ParamsProbe<'a>>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

/// The body to forward, or None to drop it.
fn repair(body: Vec<u8>, handoff: &TextHandoff) -> Option<Vec<u8>> {
    let envelope = std::str::from_utf8(&body)
        .ok()
        .and_then(|json| Some((json, serde_json::from_str::<Envelope<'_>>(json).ok()?)));
    let Some((json, envelope)) = envelope else {
        tracing::error!(
            "dropping an LSP message that is not a JSON object ({} bytes)",
            body.len()
        );
        return None;
    };
    if is_message(&envelope) {
        let method = envelope.method.map(RawValue::get);
        method.inspect(|method| handoff.saw(method));
        let literal = (method == Some("\"textDocument/didOpen\"") && handoff.takes(&body))
            .then(|| envelope.params.as_ref()?.text_literal(json))
            .flatten();
        drop(envelope);
        return Some(match literal {
            Some(literal) => handoff.take_text(body, literal),
            None => body,
        });
    }
    let id: Value = envelope
        .id
        .and_then(|id| serde_json::from_str(id.get()).ok())?;
    if !(id.is_number() || id.is_string()) {
        return None;
    }
    tracing::error!("answering an invalid JSON-RPC message with an error");
    let request = json!({"jsonrpc": "2.0", "id": id, "method": "$/kube-lsp/invalidMessage"});
    serde_json::to_vec(&request).ok()
}

/// Whether the message has the shape tower-lsp-server decodes: a request/notification or a response.
fn is_message(envelope: &Envelope<'_>) -> bool {
    let starts = |raw: Option<&RawValue>, allowed: &[u8]| {
        raw.is_none_or(|raw| {
            raw.get()
                .bytes()
                .next()
                .is_some_and(|b| allowed.contains(&b))
        })
    };
    if envelope.jsonrpc.as_deref() != Some("2.0") {
        return false;
    }
    // A number, a string or null.
    let id_ok = starts(envelope.id, b"-0123456789\"n");
    let params_ok = envelope
        .params
        .as_ref()
        .is_none_or(|params| params.kind != JsonKind::Other);
    match envelope.method {
        Some(method) => method.get().starts_with('"') && id_ok && params_ok,
        None => envelope.id.is_some() && (envelope.result.is_some() || envelope.error.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    /// Runs the guard over `input` and reads what tower-lsp-server would get.
    async fn run(input: &[u8]) -> String {
        let (frames, mut reader) = FrameReader::channel();
        sanitize(input, &frames, &TextHandoff::default());
        drop(frames);
        let mut output = Vec::new();
        reader.read_to_end(&mut output).await.unwrap();
        String::from_utf8(output).unwrap()
    }

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn good_frames_pass_unchanged() {
        let a = frame(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
        let b = frame(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
        assert_eq!(run(format!("{a}{b}").as_bytes()).await, format!("{a}{b}"));
    }

    #[tokio::test]
    async fn bodies_that_are_not_json_are_dropped_and_reading_goes_on() {
        let good = frame(r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#);
        let input = format!("{}garbage line\r\n{good}", frame("{not json"));
        assert_eq!(run(input.as_bytes()).await, good);
    }

    #[tokio::test]
    async fn invalid_messages_with_an_id_become_unknown_method_requests() {
        let output = run(frame(r#"{"id":7,"what":true}"#).as_bytes()).await;
        assert!(
            output.contains(r#""id":7"#) && output.contains("invalidMessage"),
            "{output}"
        );
    }

    #[tokio::test]
    async fn a_frame_cut_short_by_the_end_of_input_is_dropped() {
        let good = frame(r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#);
        let input = format!("{good}Content-Length: 100\r\n\r\n{{\"jsonrpc\"");
        assert_eq!(run(input.as_bytes()).await, good);
    }

    #[tokio::test]
    async fn big_frames_reach_the_reader_whole_in_small_reads() {
        let text = "x".repeat(3 << 20);
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"text":"{text}"}}}}"#
        );
        assert_eq!(run(frame(&body).as_bytes()).await, frame(&body));
    }
}
