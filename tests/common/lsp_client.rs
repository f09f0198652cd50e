//! A small synchronous LSP client over stdio, shared by the end-to-end tests
//! and the `lsp` benchmark (which includes this file by `#[path]`, so it may
//! depend on std and serde_json only).
//!
//! A reader thread parses `Content-Length` frames from the server's stdout and
//! forwards each JSON message over a channel. Calls that wait (`request`,
//! `wait_for_*`) answer server→client requests on the way through a settable
//! handler, and keep any notification they are not looking for in a queue so
//! that a later wait can still find it.
//!
//! ```ignore
//! let mut client = LspClient::spawn(Path::new("target/release/kube-lsp"), &["serve"])?;
//! client.initialize(json!({"capabilities": {}}))?;
//! client.did_open(&uri, "yaml", &text, 1)?;
//! let diagnostics = client.wait_for_diagnostics(&uri, Some(1), Duration::from_secs(5))?;
//! client.shutdown_and_exit()?;
//! ```
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long `request` waits for its response unless changed with `set_request_timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers a server→client request: gets the method and params, returns the result.
pub type ServerRequestHandler = Box<dyn FnMut(&str, &Value) -> Value + Send>;

/// Why a client call failed. Server misbehaviour surfaces here, never as a panic.
#[derive(Debug)]
pub enum LspError {
    /// Writing to the server or spawning it failed.
    Io(io::Error),
    /// Nothing matching arrived in time; the string says what was awaited.
    Timeout(String),
    /// The server closed its stdout (exited or crashed).
    Disconnected,
    /// The server answered a request with a JSON-RPC error object.
    Response(Value),
}

impl fmt::Display for LspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LspError::Io(err) => write!(f, "i/o error talking to the server: {err}"),
            LspError::Timeout(what) => write!(f, "timed out waiting for {what}"),
            LspError::Disconnected => write!(f, "the server closed its output"),
            LspError::Response(error) => write!(f, "the server answered with an error: {error}"),
        }
    }
}

impl std::error::Error for LspError {}

impl From<io::Error> for LspError {
    fn from(err: io::Error) -> Self {
        LspError::Io(err)
    }
}

/// Where the server's stderr goes.
#[derive(Debug, Default)]
pub enum ServerStderr {
    /// Shown with the test's or bench's own stderr.
    #[default]
    Inherit,
    /// Discarded (the bench uses this to keep its table readable).
    Null,
    /// Appended to this file.
    File(std::path::PathBuf),
}

/// A running language server and the client side of its stdio connection.
pub struct LspClient {
    child: Child,
    /// None once `shutdown_and_exit` has closed it.
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Notifications that arrived while waiting for something else.
    queued: VecDeque<Value>,
    next_request_id: i64,
    request_timeout: Duration,
    server_request_handler: ServerRequestHandler,
}

impl LspClient {
    /// Starts `program args…` with stdin/stdout piped and stderr inherited.
    pub fn spawn(program: &Path, args: &[&str]) -> io::Result<LspClient> {
        Self::spawn_with_stderr(program, args, ServerStderr::Inherit)
    }

    /// Like `spawn`, choosing where the server's stderr goes.
    pub fn spawn_with_stderr(
        program: &Path,
        args: &[&str],
        stderr: ServerStderr,
    ) -> io::Result<LspClient> {
        Self::spawn_with_env(program, args, stderr, &[])
    }

    /// Like `spawn_with_stderr`, with extra environment variables for the server
    /// (e.g. `XDG_CACHE_HOME`).
    pub fn spawn_with_env(
        program: &Path,
        args: &[&str],
        stderr: ServerStderr,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> io::Result<LspClient> {
        let stderr = match stderr {
            ServerStderr::Inherit => Stdio::inherit(),
            ServerStderr::Null => Stdio::null(),
            ServerStderr::File(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            ),
        };
        let mut child = Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()?;
        let stdin = child.stdin.take().expect("stdin was piped");
        let stdout = child.stdout.take().expect("stdout was piped");
        let (sender, incoming) = mpsc::channel();
        thread::Builder::new()
            .name("lsp-client-reader".into())
            .spawn(move || read_messages(stdout, sender))?;
        Ok(LspClient {
            child,
            stdin: Some(stdin),
            incoming,
            queued: VecDeque::new(),
            next_request_id: 1,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            server_request_handler: Box::new(|method, params| {
                default_server_request_answer(method, params, &Value::Null)
            }),
        })
    }

    /// The server process id (e.g. to read its peak RSS with `peak_rss_kib`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sets how long `request` waits for a response.
    pub fn set_request_timeout(&mut self, timeout: Duration) {
        self.request_timeout = timeout;
    }

    /// Replaces the answerer of server→client requests (`workspace/configuration`, …).
    pub fn set_server_request_handler(
        &mut self,
        handler: impl FnMut(&str, &Value) -> Value + Send + 'static,
    ) {
        self.server_request_handler = Box::new(handler);
    }

    /// Sends `initialize` with `params`, then the `initialized` notification.
    /// Returns the initialize result (holding the server's `capabilities`).
    pub fn initialize(&mut self, params: Value) -> Result<Value, LspError> {
        let result = self.request("initialize", params)?;
        self.notify("initialized", json!({}))?;
        Ok(result)
    }

    /// Sends a request and waits for the response with its id.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, LspError> {
        let id = self.next_request_id;
        self.next_request_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        let deadline = Instant::now() + self.request_timeout;
        loop {
            let mut message =
                self.next_message(deadline, || format!("the response to {method} (id {id})"))?;
            if message.get("method").is_none() && message.get("id") == Some(&json!(id)) {
                // Moved out, not copied: a big answer (an outline) is parsed once, as an editor does.
                return match message.get_mut("error") {
                    Some(error) => Err(LspError::Response(error.take())),
                    None => Ok(taken(&mut message, "result")),
                };
            }
            if message.get("method").is_some() {
                self.queued.push_back(message);
            }
            // A response to some other id (e.g. an abandoned request) is dropped.
        }
    }

    /// Waits for the response (result or error) whose id is `id` to a request sent with
    /// [`send_raw`](Self::send_raw); returns the whole message.
    pub fn wait_for_response(&mut self, id: &Value, timeout: Duration) -> Result<Value, LspError> {
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.next_message(deadline, || format!("the response to id {id}"))?;
            if message.get("method").is_none() && message.get("id") == Some(id) {
                return Ok(message);
            }
            if message.get("method").is_some() {
                self.queued.push_back(message);
            }
        }
    }

    /// Waits for the next response to any request, keeping notifications queued.
    pub fn next_response(&mut self, timeout: Duration) -> Result<Value, LspError> {
        let deadline = Instant::now() + timeout;
        loop {
            let message = self.next_message(deadline, || "a response".to_string())?;
            if message.get("method").is_none() {
                return Ok(message);
            }
            self.queued.push_back(message);
        }
    }

    /// Drops the notifications queued so far, leaving what has not been read yet.
    pub fn clear_queued(&mut self) {
        self.queued.clear();
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) -> Result<(), LspError> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    /// Writes `bytes` as they are, without framing (to test malformed input).
    pub fn send_raw(&mut self, bytes: &[u8]) -> Result<(), LspError> {
        let stdin = self.stdin()?;
        stdin.write_all(bytes)?;
        stdin.flush()?;
        Ok(())
    }

    /// `textDocument/didOpen`.
    pub fn did_open(
        &mut self,
        uri: &str,
        language_id: &str,
        text: &str,
        version: i64,
    ) -> Result<(), LspError> {
        self.send_raw(&did_open_frame(uri, language_id, text, version)?)
    }

    /// `textDocument/didChange`; `changes` is the `contentChanges` array.
    pub fn did_change(&mut self, uri: &str, version: i64, changes: Value) -> Result<(), LspError> {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        )
    }

    /// `textDocument/didClose`.
    pub fn did_close(&mut self, uri: &str) -> Result<(), LspError> {
        self.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        )
    }

    /// Waits for the params of a `textDocument/publishDiagnostics` for `uri`
    /// whose version is `version`. Matches any version when `version` is None,
    /// and any publication that carries no version (not every server sends one).
    pub fn wait_for_diagnostics(
        &mut self,
        uri: &str,
        version: Option<i64>,
        timeout: Duration,
    ) -> Result<Value, LspError> {
        self.wait_for_notification(
            "textDocument/publishDiagnostics",
            |params| {
                params.get("uri").and_then(Value::as_str) == Some(uri)
                    && match (version, params.get("version").and_then(Value::as_i64)) {
                        (Some(wanted), Some(published)) => wanted == published,
                        _ => true,
                    }
            },
            timeout,
        )
    }

    /// Waits for a notification `method` whose params satisfy `matches`,
    /// looking first at the ones queued earlier. Returns its params.
    pub fn wait_for_notification(
        &mut self,
        method: &str,
        mut matches: impl FnMut(&Value) -> bool,
        timeout: Duration,
    ) -> Result<Value, LspError> {
        let is_wanted = |message: &Value, matches: &mut dyn FnMut(&Value) -> bool| {
            message.get("method").and_then(Value::as_str) == Some(method)
                && matches(message.get("params").unwrap_or(&Value::Null))
        };
        if let Some(index) = self
            .queued
            .iter()
            .position(|message| is_wanted(message, &mut matches))
        {
            let mut message = self.queued.remove(index).expect("index is in range");
            return Ok(taken(&mut message, "params"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let mut message = self.next_message(deadline, || format!("notification {method}"))?;
            if is_wanted(&message, &mut matches) {
                return Ok(taken(&mut message, "params"));
            }
            if message.get("method").is_some() {
                self.queued.push_back(message);
            }
        }
    }

    /// Forgets queued notifications and any already received but not yet read,
    /// answering server requests among them. Returns how many were dropped.
    pub fn discard_notifications(&mut self) -> Result<usize, LspError> {
        let mut dropped = self.queued.len();
        self.queued.clear();
        loop {
            match self.incoming.try_recv() {
                Ok(message) if self.answer_if_server_request(&message)? => {}
                Ok(_) => dropped += 1,
                Err(mpsc::TryRecvError::Empty) => return Ok(dropped),
                Err(mpsc::TryRecvError::Disconnected) => return Err(LspError::Disconnected),
            }
        }
    }

    /// Notifications queued so far (received while waiting for something else).
    pub fn queued_notifications(&self) -> impl Iterator<Item = &Value> {
        self.queued.iter()
    }

    /// Sends `shutdown` and `exit`, closes the server's stdin, then waits (up
    /// to 10 s) for the process to end; kills it if it does not. An error from
    /// the handshake is returned after the process has ended.
    pub fn shutdown_and_exit(mut self) -> Result<ExitStatus, LspError> {
        let shutdown = self.request("shutdown", Value::Null);
        let exit = self.notify("exit", Value::Null);
        self.stdin = None;
        let status = self.wait_for_exit(Duration::from_secs(10))?;
        shutdown?;
        exit?;
        Ok(status)
    }

    /// Waits up to `timeout` for the server process to end, its stdin left as it is; kills it
    /// if it does not.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Result<ExitStatus, LspError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(LspError::Timeout("the server to exit".into()));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the server without the shutdown handshake.
    pub fn kill(mut self) -> io::Result<ExitStatus> {
        let _ = self.child.kill();
        self.child.wait()
    }

    fn send(&mut self, message: &Value) -> Result<(), LspError> {
        self.send_raw(&frame(message)?)
    }

    fn stdin(&mut self) -> io::Result<&mut ChildStdin> {
        let closed = || io::Error::new(io::ErrorKind::BrokenPipe, "the server's stdin is closed");
        self.stdin.as_mut().ok_or_else(closed)
    }

    /// The next message that is not a server→client request (those are answered here).
    fn next_message(
        &mut self,
        deadline: Instant,
        awaited: impl Fn() -> String,
    ) -> Result<Value, LspError> {
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let message = match self.incoming.recv_timeout(remaining) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => return Err(LspError::Timeout(awaited())),
                Err(RecvTimeoutError::Disconnected) => return Err(LspError::Disconnected),
            };
            if !self.answer_if_server_request(&message)? {
                return Ok(message);
            }
        }
    }

    /// Answers `message` if it is a request from the server; says whether it was.
    fn answer_if_server_request(&mut self, message: &Value) -> Result<bool, LspError> {
        let (Some(id), Some(method)) = (
            message.get("id"),
            message.get("method").and_then(Value::as_str),
        ) else {
            return Ok(false);
        };
        let result =
            (self.server_request_handler)(method, message.get("params").unwrap_or(&Value::Null));
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}))?;
        Ok(true)
    }
}

impl Drop for LspClient {
    /// Never leave a server running behind a failed test.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The answer a plain editor would give: for `workspace/configuration`, the
/// `settings` section named by each item (`settings` itself when the item has
/// no section, null when missing); null for anything else (registrations,
/// progress tokens, content requests it cannot serve).
pub fn default_server_request_answer(method: &str, params: &Value, settings: &Value) -> Value {
    if method != "workspace/configuration" {
        return Value::Null;
    }
    let items = params
        .get("items")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let answers = items
        .iter()
        .map(|item| match item.get("section").and_then(Value::as_str) {
            None => settings.clone(),
            Some(section) => section
                .split('.')
                .try_fold(settings, |node, key| node.get(key))
                .cloned()
                .unwrap_or(Value::Null),
        });
    Value::Array(answers.collect())
}

/// `file://` URI for an absolute or relative path (made absolute against the
/// current directory). Percent-encodes what RFC 3986 does not allow in a path.
pub fn file_uri(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file://");
    for byte in absolute.to_string_lossy().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            _ => uri.push_str(&format!("%{byte:02X}")),
        }
    }
    uri
}

/// Peak resident set size (VmHWM) of process `pid` in KiB, on Linux; read it
/// before shutting the server down.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A `textDocument/didOpen` notification framed for [`LspClient::send_raw`] (benchmarks encode
/// it before they start the clock: encoding is the client's work).
pub fn did_open_frame(
    uri: &str,
    language_id: &str,
    text: &str,
    version: i64,
) -> Result<Vec<u8>, LspError> {
    let params = json!({"textDocument": {"uri": uri, "languageId": language_id, "version": version, "text": text}});
    frame(&json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": params}))
}

/// `message` as JSON behind its Content-Length header.
fn frame(message: &Value) -> Result<Vec<u8>, LspError> {
    let body = serde_json::to_vec(message).map_err(|err| LspError::Io(err.into()))?;
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// Reader thread: forwards each framed message; ends on EOF or a broken frame.
/// The member `key` of `message`, moved out (Null when there is none).
fn taken(message: &mut Value, key: &str) -> Value {
    message.get_mut(key).map(Value::take).unwrap_or(Value::Null)
}

fn read_messages(stdout: ChildStdout, sender: mpsc::Sender<Value>) {
    let mut reader = BufReader::new(stdout);
    while let Ok(Some(body)) = read_frame(&mut reader) {
        // A body that is not JSON is skipped: the next frame may still be fine.
        if let Ok(message) = serde_json::from_slice::<Value>(&body)
            && sender.send(message).is_err()
        {
            return; // the client is gone
        }
    }
}

/// Reads one `Content-Length`-framed body; Ok(None) at a clean EOF.
fn read_frame(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut content_length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            if content_length.is_some() {
                break;
            }
            continue; // stray blank line between frames
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            content_length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; content_length.unwrap_or(0)];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}
