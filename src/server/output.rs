//! The server's output: tower-lsp-server's frames and the frame guard's own answers (errors for
//! messages tower-lsp-server could not decode, see `framing`) merged onto stdout frame by frame.
//!
//! tower-lsp-server writes into one end of an in-memory pipe; a task cuts what it writes into
//! frames (it always writes `Content-Length: N\r\n\r\n` and the body) and queues them with the
//! guard's; one writer task writes the queue to stdout. The queue is bounded: a client that stops
//! reading stops the server's writing and, through the guard, its reading.

use std::sync::Arc;

use tokio::io::{
    AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, DuplexStream,
};
use tokio::sync::mpsc::{Receiver, Sender, channel};
use tokio::task::JoinHandle;

use super::results::ResultHandoff;

/// Frames queued for stdout; `None` marks the end of tower-lsp-server's output.
type Queue = Sender<Option<Vec<u8>>>;

/// The frame guard's way to answer the client (from its own thread: the calls block while the
/// queue is full).
#[derive(Clone)]
pub struct Replies {
    queue: Queue,
}

impl Replies {
    /// A reply queue and its receiving end (tests read it).
    pub fn channel() -> (Replies, Receiver<Option<Vec<u8>>>) {
        let (queue, frames) = channel(64);
        (Replies { queue }, frames)
    }

    /// A JSON-RPC error response to the request `id` (JSON text: a number, a string or `null`).
    pub fn error(&self, id: &str, code: i64, message: &str) {
        let message = serde_json::to_string(message).unwrap_or_else(|_| "\"\"".into());
        self.send(format!(
            r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":{code},"message":{message}}}}}"#
        ));
    }

    /// A `window/logMessage` notification (`kind`: 1 error, 2 warning, 3 info, 4 log).
    pub fn log_message(&self, kind: u8, message: &str) {
        let params = serde_json::json!({"type": kind, "message": message});
        self.send(format!(
            r#"{{"jsonrpc":"2.0","method":"window/logMessage","params":{params}}}"#
        ));
    }

    fn send(&self, body: String) {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body.as_bytes());
        // Gone: the server is exiting.
        let _ = self.queue.blocking_send(Some(frame));
    }
}

/// Starts the output: returns the guard's reply handle, the stream tower-lsp-server writes to,
/// and the task writing to `out`, which ends once tower-lsp-server's stream has ended and every
/// frame queued by then is written.
/// Results handed off by handlers (`results`) are swapped into tower-lsp-server's frames here.
pub fn start<W>(out: W, results: Arc<ResultHandoff>) -> (Replies, DuplexStream, JoinHandle<()>)
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (replies, frames) = Replies::channel();
    let (server_side, from_server) = tokio::io::duplex(1 << 20);
    let queue = replies.queue.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(from_server);
        while let Some(frame) = read_frame(&mut reader).await {
            if queue.send(Some(results.swap_in(frame))).await.is_err() {
                return;
            }
        }
        let _ = queue.send(None).await;
    });
    let writer = tokio::spawn(write_frames(frames, out));
    (replies, server_side, writer)
}

async fn write_frames<W: AsyncWrite + Unpin>(mut frames: Receiver<Option<Vec<u8>>>, mut out: W) {
    while let Some(Some(frame)) = frames.recv().await {
        if out.write_all(&frame).await.is_err() {
            return;
        }
        if frames.is_empty() && out.flush().await.is_err() {
            return;
        }
    }
    // The guard's last answers, queued before the end.
    while let Ok(Some(frame)) = frames.try_recv() {
        if out.write_all(&frame).await.is_err() {
            return;
        }
    }
    let _ = out.flush().await;
}

/// One frame as tower-lsp-server writes it; None at the end of its output.
async fn read_frame(reader: &mut BufReader<DuplexStream>) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut length = None;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await.ok()? == 0 {
            return None;
        }
        let text = std::str::from_utf8(&line).ok()?.trim();
        if text.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some(value) = text.strip_prefix("Content-Length:") {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length?;
    let mut frame = format!("Content-Length: {length}\r\n\r\n").into_bytes();
    let start = frame.len();
    frame.resize(start + length, 0);
    reader.read_exact(&mut frame[start..]).await.ok()?;
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_of_both_sources_come_out_whole() {
        let (mut reader, writer) = tokio::io::duplex(1 << 16);
        let (replies, mut server, task) = start(writer, Arc::default());
        let body = "{\"x\":\"".to_string() + &"y".repeat(100_000) + "\"}";
        server
            .write_all(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
            .await
            .unwrap();
        std::thread::spawn(move || replies.error("7", -32600, "bad"))
            .join()
            .unwrap();
        drop(server);
        let mut output = Vec::new();
        reader.read_to_end(&mut output).await.unwrap();
        task.await.unwrap();
        let output = String::from_utf8(output).unwrap();
        assert!(output.contains(&body), "the big frame is whole");
        let error = r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32600,"message":"bad"}}"#;
        assert!(
            output.contains(&format!("Content-Length: {}\r\n\r\n{error}", error.len())),
            "{}",
            &output[output.len().saturating_sub(200)..]
        );
    }
}
