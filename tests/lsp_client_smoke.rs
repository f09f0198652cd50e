//! Tests of the shared LSP test client against scripted fake servers: a shell
//! that prints prepared frames, then records what the client sends it.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::lsp_client::{LspClient, LspError, default_server_request_answer, file_uri};
use serde_json::{Value, json};

/// A fake server: prints `frames` (already framed), then copies its stdin to a file.
struct FakeServer {
    dir: PathBuf,
}

impl FakeServer {
    fn new(test_name: &str, messages: &[Value]) -> FakeServer {
        let dir = std::env::temp_dir().join(format!(
            "lsp-client-smoke-{}-{test_name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let script: String = messages.iter().map(frame).collect();
        std::fs::write(dir.join("server-output"), script).unwrap();
        FakeServer { dir }
    }

    fn spawn(&self) -> LspClient {
        let output = self.dir.join("server-output");
        let received = self.dir.join("received");
        let args = [
            "-c",
            r#"cat "$0"; cat > "$1""#,
            output.to_str().unwrap(),
            received.to_str().unwrap(),
        ];
        let mut client = LspClient::spawn(Path::new("/bin/sh"), &args).unwrap();
        client.set_request_timeout(Duration::from_secs(5));
        client
    }

    /// What the client has written so far, polled until it contains `expected`.
    fn received_containing(&self, expected: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let received = std::fs::read_to_string(self.dir.join("received")).unwrap_or_default();
            if received.contains(expected) || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn frame(message: &Value) -> String {
    let body = message.to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// The JSON bodies of the frames in `stream` (all ASCII here, so lengths are char counts).
fn parse_frames(stream: &str) -> Vec<Value> {
    let mut messages = Vec::new();
    let mut rest = stream;
    while let Some(start) = rest.find("Content-Length: ") {
        let header = &rest[start + "Content-Length: ".len()..];
        let (length, after) = header.split_once("\r\n\r\n").unwrap();
        let length: usize = length.trim().parse().unwrap();
        messages.push(serde_json::from_str(&after[..length]).unwrap());
        rest = &after[length..];
    }
    messages
}

fn publish(uri: &str, version: Option<i64>, message: &str) -> Value {
    let mut params = json!({"uri": uri, "diagnostics": [{"message": message}]});
    if let Some(version) = version {
        params["version"] = json!(version);
    }
    json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": params})
}

#[test]
fn request_gets_its_response_and_keeps_notifications_for_later() {
    let server = FakeServer::new(
        "request",
        &[
            json!({"jsonrpc": "2.0", "method": "window/logMessage", "params": {"type": 3, "message": "hello"}}),
            json!({"jsonrpc": "2.0", "id": 1, "result": {"capabilities": {"hoverProvider": true}}}),
        ],
    );
    let mut client = server.spawn();

    let result = client.initialize(json!({"capabilities": {}})).unwrap();
    assert_eq!(result["capabilities"]["hoverProvider"], json!(true));

    let log = client
        .wait_for_notification("window/logMessage", |_| true, Duration::from_secs(1))
        .unwrap();
    assert_eq!(log["message"], "hello");
    let sent = server.received_containing("\"initialized\"");
    assert!(sent.contains("\"method\":\"initialize\""), "{sent}");
    assert!(sent.contains("\"method\":\"initialized\""), "{sent}");
}

#[test]
fn server_requests_are_answered_by_the_handler() {
    let server = FakeServer::new(
        "server-request",
        &[
            json!({"jsonrpc": "2.0", "id": "c1", "method": "workspace/configuration",
               "params": {"items": [{"section": "yaml"}, {"section": "editor"}]}}),
            json!({"jsonrpc": "2.0", "id": 7, "method": "vscode/content", "params": "https://example.invalid/s.json"}),
            json!({"jsonrpc": "2.0", "method": "done", "params": {}}),
        ],
    );
    let mut client = server.spawn();
    let settings = json!({"yaml": {"validate": true}});
    client.set_server_request_handler(move |method, params| match method {
        "vscode/content" => json!("{}"),
        _ => default_server_request_answer(method, params, &settings),
    });

    client
        .wait_for_notification("done", |_| true, Duration::from_secs(2))
        .unwrap();

    let sent = parse_frames(&server.received_containing("\"id\":7"));
    let answer_to = |id: Value| {
        sent.iter()
            .find(|message| message["id"] == id)
            .map(|message| message["result"].clone())
    };
    assert_eq!(
        answer_to(json!("c1")),
        Some(json!([{"validate": true}, null])),
        "{sent:?}"
    );
    assert_eq!(answer_to(json!(7)), Some(json!("{}")), "{sent:?}");
}

#[test]
fn diagnostics_are_matched_by_uri_and_version() {
    let server = FakeServer::new(
        "diagnostics",
        &[
            publish("file:///a.yaml", Some(1), "a1"),
            publish("file:///b.yaml", None, "b-unversioned"),
            publish("file:///a.yaml", Some(2), "a2"),
        ],
    );
    let mut client = server.spawn();
    let timeout = Duration::from_secs(2);
    let message = |params: Value| {
        params["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .to_string()
    };

    assert_eq!(
        message(
            client
                .wait_for_diagnostics("file:///a.yaml", Some(2), timeout)
                .unwrap()
        ),
        "a2"
    );
    assert_eq!(
        message(
            client
                .wait_for_diagnostics("file:///b.yaml", Some(9), timeout)
                .unwrap()
        ),
        "b-unversioned"
    );
    assert_eq!(
        message(
            client
                .wait_for_diagnostics("file:///a.yaml", None, timeout)
                .unwrap()
        ),
        "a1"
    );
    let missing =
        client.wait_for_diagnostics("file:///a.yaml", Some(3), Duration::from_millis(100));
    assert!(matches!(missing, Err(LspError::Timeout(_))), "{missing:?}");
}

#[test]
fn error_responses_and_garbage_do_not_panic() {
    let server = FakeServer::new(
        "errors",
        &[
            json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}),
        ],
    );
    // Garbage between frames, then a body that is not JSON, then the real frames.
    let output = server.dir.join("server-output");
    let frames = std::fs::read_to_string(&output).unwrap();
    std::fs::write(
        &output,
        format!("X-Junk: 1\r\n\r\nContent-Length: 3\r\n\r\n{{{{{{{frames}"),
    )
    .unwrap();
    let mut client = server.spawn();

    let answer = client.request("nope", json!({}));
    assert!(
        matches!(&answer, Err(LspError::Response(error)) if error["code"] == -32601),
        "{answer:?}"
    );
}

#[test]
fn a_server_that_exits_is_reported_as_disconnected() {
    let mut client = LspClient::spawn(Path::new("/bin/sh"), &["-c", "exit 0"]).unwrap();
    let outcome = client.wait_for_notification("never", |_| true, Duration::from_secs(5));
    assert!(
        matches!(outcome, Err(LspError::Disconnected)),
        "{outcome:?}"
    );
}

#[test]
fn shutdown_times_out_on_a_silent_server_and_kills_it() {
    let mut client = LspClient::spawn(Path::new("/bin/sh"), &["-c", "cat > /dev/null"]).unwrap();
    client.set_request_timeout(Duration::from_millis(200));
    let pid = client.pid();
    let started = Instant::now();
    let outcome = client.shutdown_and_exit();
    assert!(matches!(outcome, Err(LspError::Timeout(_))), "{outcome:?}");
    // Closing stdin ended `cat` well before the 10 s kill deadline, and it was reaped.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn file_uris_are_absolute_and_percent_encoded() {
    assert_eq!(
        file_uri(Path::new("/tmp/a b/ü.yaml")),
        "file:///tmp/a%20b/%C3%BC.yaml"
    );
    assert!(file_uri(Path::new("relative.yaml")).starts_with("file:///"));
}
