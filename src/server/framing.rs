//! A guard in front of tower-lsp-server's reader.
//!
//! tower-lsp-server reads stdin through tokio-util's `FramedRead`, which ends the stream at the
//! first frame it cannot decode (garbage headers, a body that is not JSON, JSON that is not a
//! JSON-RPC message) — and with it the server. This task reads the frames first, forwards the
//! good ones unchanged, drops bodies that are not JSON (with a log line; a notification-less
//! client waits for nothing), and turns a JSON object that is not a valid message but carries an
//! `id` into a request for an unknown method, so the client still gets an error response.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Largest body accepted (editors send whole files in didOpen; 1 GiB is far beyond any manifest).
const MAX_BODY: usize = 1 << 30;

/// Copies frames from `input` to `output` until `input` ends, repairing or dropping bad ones.
pub async fn sanitize(input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut reader = BufReader::new(input);
    loop {
        let length = match read_headers(&mut reader).await {
            Ok(Some(length)) => length,
            Ok(None) => break,
            Err(error) => {
                tracing::error!("unreadable LSP input: {error}");
                break;
            }
        };
        let mut body = vec![0; length];
        if read_body(&mut reader, &mut body).await.is_err() {
            break;
        }
        let Some(body) = repair(body) else { continue };
        let header = format!("Content-Length: {}\r\n\r\n", body.len());
        if output.write_all(header.as_bytes()).await.is_err()
            || output.write_all(&body).await.is_err()
        {
            break;
        }
        let _ = output.flush().await;
    }
}

/// Largest read asked of stdin at once. tokio's stdin reads on a blocking thread into a buffer
/// as big as the read asked for (up to 2 MiB), and keeps that buffer: reading a 2 MB didOpen
/// in one `read_exact` left 2 MiB behind for the rest of the session.
const READ_CHUNK: usize = 64 * 1024;

/// Fills `body`, asking for at most [`READ_CHUNK`] bytes per read (a pipe gives no more anyway).
async fn read_body(reader: &mut (impl AsyncRead + Unpin), body: &mut [u8]) -> std::io::Result<()> {
    for chunk in body.chunks_mut(READ_CHUNK) {
        reader.read_exact(chunk).await?;
    }
    Ok(())
}

/// Reads header lines up to the blank line; returns the Content-Length, or None at end of input.
/// Lines that are not headers (garbage between frames) are skipped.
async fn read_headers(
    reader: &mut (impl AsyncBufReadExt + Unpin),
) -> std::io::Result<Option<usize>> {
    let mut length = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
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

/// The parts of a JSON-RPC message that decide whether tower-lsp-server can decode it. Params
/// and results stay raw: validating a 2 MB didOpen must not copy its text.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    jsonrpc: Option<Cow<'a, str>>,
    #[serde(borrow)]
    method: Option<&'a RawValue>,
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    #[serde(borrow)]
    params: Option<&'a RawValue>,
    #[serde(borrow)]
    result: Option<&'a RawValue>,
    #[serde(borrow)]
    error: Option<&'a RawValue>,
}

/// The body to forward, or None to drop it.
fn repair(body: Vec<u8>) -> Option<Vec<u8>> {
    let Ok(envelope) = serde_json::from_slice::<Envelope<'_>>(&body) else {
        tracing::error!(
            "dropping an LSP message that is not a JSON object ({} bytes)",
            body.len()
        );
        return None;
    };
    if is_message(&envelope) {
        return Some(body);
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
    let params_ok = starts(envelope.params, b"{[n");
    match envelope.method {
        Some(method) => method.get().starts_with('"') && id_ok && params_ok,
        None => envelope.id.is_some() && (envelope.result.is_some() || envelope.error.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run(input: &[u8]) -> String {
        let mut output = Vec::new();
        sanitize(input, &mut output).await;
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
}
