//! What an adversarial client sends, over stdio to the built binary (docs/robustness.md): frames
//! written by hand that used to end the server, lose every later message or bloat it. After each,
//! the server still answers.

mod common;

use std::time::Duration;

use common::lsp_client::peak_rss_kib;
use common::server::{TestServer, uri};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

fn frame(body: &str) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body.as_bytes());
    frame
}

/// The server still opens, checks and answers for a document.
fn still_answers(s: &mut TestServer, name: &str) {
    let uri = uri(name);
    let diagnostics = s.open_and_wait(&uri, "a: 1\na: 2\n");
    assert_eq!(diagnostics[0]["code"], "yaml-duplicate-key");
    let symbols = s.document_symbols(&uri);
    assert_eq!(symbols[0]["name"], "a");
}

fn error_code(reply: &Value) -> i64 {
    reply["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("an error: {reply}"))
}

#[test]
fn a_lone_surrogate_in_a_did_open_is_read_as_a_replacement_character() {
    let mut s = TestServer::start();
    let body = r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///work/half-emoji.yaml","languageId":"yaml","version":1,"text":"a: \ud800\na: 2\n"}}}"#;
    s.client().send_raw(&frame(body)).unwrap();
    let diagnostics = s.diagnostics(&uri("half-emoji.yaml"), 1);
    assert_eq!(diagnostics[0]["code"], "yaml-duplicate-key");
    let logged = s.wait_for_notification("window/logMessage", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("surrogate"))
    });
    assert_eq!(logged["type"], 2);
    still_answers(&mut s, "after.yaml");
    s.shutdown();
}

#[test]
fn messages_that_used_to_end_the_server_are_answered_with_their_id() {
    let mut s = TestServer::start();
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":101,"method":"textDocument/hover","params":{{"a":{}{}}}}}"#,
        "[".repeat(128),
        "]".repeat(128)
    );
    let cases = [
        (deep, json!(101), -32700),
        (
            r#"{"jsonrpc":"2.0","id":102,"method":"textDocument/hover","params":{"a":1e400}}"#
                .to_string(),
            json!(102),
            -32700,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover","params":{}}"#.into(),
            json!(1.5),
            -32600,
        ),
        (
            r#"{"jsonrpc":"2.0","id":103,"method":"$/kube-lsp/whatever","params":{}}"#.into(),
            json!(103),
            -32601,
        ),
        (r#"{"id":79,"what":true}"#.into(), json!(79), -32600),
    ];
    for (body, id, code) in cases {
        s.client().send_raw(&frame(&body)).unwrap();
        let reply = s.client().wait_for_response(&id, WAIT).unwrap();
        assert_eq!(error_code(&reply), code, "{body}");
    }
    // A 30-digit id is answered with that id.
    let huge = "123456789012345678901234567890";
    let body = format!(r#"{{"jsonrpc":"2.0","id":{huge},"method":"shutdown"}}"#);
    s.client().send_raw(&frame(&body)).unwrap();
    let reply = s
        .client()
        .wait_for_response(&serde_json::from_str(huge).unwrap(), WAIT)
        .unwrap();
    assert_eq!(error_code(&reply), -32600);
    still_answers(&mut s, "after.yaml");
    s.shutdown();
}

#[test]
fn a_content_length_off_by_some_bytes_loses_nothing_after_it() {
    let mut s = TestServer::start();
    let hover = r#"{"jsonrpc":"2.0","id":201,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///work/none.yaml"},"position":{"line":0,"character":0}}}"#;
    // Ten bytes short: the message is answered as unreadable, the next one goes through.
    let mut short = format!("Content-Length: {}\r\n\r\n{hover}", hover.len() - 10).into_bytes();
    short.extend(frame(&hover.replace("201", "202")));
    s.client().send_raw(&short).unwrap();
    let reply = s.client().wait_for_response(&json!(201), WAIT).unwrap();
    assert_eq!(error_code(&reply), -32700);
    let reply = s.client().wait_for_response(&json!(202), WAIT).unwrap();
    assert_eq!(reply["result"], Value::Null, "{reply}");
    // Forty bytes long: both messages are read.
    let mut long = format!("Content-Length: {}\r\n\r\n", hover.len() + 40).into_bytes();
    long.extend(hover.replace("201", "203").bytes());
    long.extend(frame(&hover.replace("201", "204")));
    s.client().send_raw(&long).unwrap();
    for id in [203, 204] {
        let reply = s.client().wait_for_response(&json!(id), WAIT).unwrap();
        assert_eq!(reply["result"], Value::Null, "{reply}");
    }
    still_answers(&mut s, "after.yaml");
    s.shutdown();
}

#[test]
fn a_huge_header_line_and_big_rejected_opens_leave_memory_bounded() {
    let mut s = TestServer::start();
    let pid = s.client().pid();
    // 64 MiB of header without a line break.
    let line = vec![b'x'; 64 << 20];
    s.client().send_raw(&line).unwrap();
    s.client().send_raw(b"\r\n").unwrap();
    // Ten didOpens of 10 MB whose params tower-lsp-server rejects (a raw space in the URI, a
    // version that is not a number): their texts are not kept.
    let text = "a: b\n".repeat(2 << 20);
    for i in 0..10 {
        let (uri, version) = match i % 2 {
            0 => (format!("file:///work/bad {i}.yaml"), json!(1)),
            _ => (uri(&format!("bad{i}.yaml")), json!("x")),
        };
        let message = json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri, "languageId": "yaml", "version": version, "text": text}}});
        s.client()
            .send_raw(&frame(&serde_json::to_string(&message).unwrap()))
            .unwrap();
    }
    still_answers(&mut s, "after.yaml");
    std::thread::sleep(Duration::from_millis(500));
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:").map(|v| v.trim().to_string()))
        .unwrap();
    let kib: u64 = rss.split_whitespace().next().unwrap().parse().unwrap();
    // 100 MB of rejected texts went through; what stays is the server's own footprint.
    assert!(kib < 150 << 10, "RSS {rss} after rejected opens");
    let peak = peak_rss_kib(pid).unwrap();
    assert!(peak < 400 << 10, "peak RSS {peak} KiB");
    s.shutdown();
}

#[test]
fn exit_without_shutdown_exits_with_1() {
    let server = TestServer::builder()
        .args(&["--log-level", "error"])
        .start();
    let mut client = server.into_client();
    client.notify("exit", Value::Null).unwrap();
    let status = client.wait_for_exit(Duration::from_secs(20)).unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_file_with_thousands_of_errors_shows_a_thousand_and_says_how_many_more() {
    let mut s = TestServer::start();
    let text: String = (0..3_000).map(|_| "a: 1\n").collect();
    let diagnostics = s.open_and_wait(&uri("many.yaml"), &text);
    let shown = diagnostics.as_array().unwrap();
    assert_eq!(shown.len(), 1_001);
    let last = shown.last().unwrap();
    assert_eq!(last["code"], "limit-diagnostics");
    assert!(
        last["message"].as_str().unwrap().starts_with("1999 more"),
        "{last}"
    );
    // Code actions over the whole file answer (grouping is linear).
    let actions = s.code_actions(
        &uri("many.yaml"),
        json!({"start": {"line": 0, "character": 0}, "end": {"line": 3000, "character": 0}}),
        json!([]),
    );
    assert!(actions.is_array() || actions.is_null(), "{actions}");
    s.shutdown();
}

#[test]
fn deep_nesting_gets_an_outline_and_the_server_goes_on() {
    let mut s = TestServer::start();
    for (name, text) in [
        ("deep-seq.yaml", format!("{}a\n", "- ".repeat(100_000))),
        (
            "deep-flow.yaml",
            format!("a: {}1{}\n", "{b: ".repeat(50_000), "}".repeat(50_000)),
        ),
    ] {
        let uri = uri(name);
        s.open_and_wait(&uri, &text);
        s.document_symbols(&uri);
        s.folding_ranges(&uri);
    }
    still_answers(&mut s, "after.yaml");
    s.shutdown();
}

/// A long request on a big document is cancelled at once by `$/cancelRequest`, its work stops
/// before the end (the server's log says so), and meanwhile requests on another document are
/// answered.
#[test]
fn a_cancelled_request_on_a_big_document_answers_at_once_and_holds_up_nothing() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut s = TestServer::builder()
        .env("KUBE_LSP_LOG", "kube_lsp=debug")
        .stderr_to(log.path())
        .start();
    let big = uri("big.yaml");
    let text = common::corpus::repeated(common::corpus::MICROSERVICES, 30 << 20);
    s.open_and_wait(&big, &text);
    let small = uri("small.yaml");
    s.open_and_wait(&small, "a: 1\n");
    // The big document's first outline takes a while: ask, cancel, and ask about the small one.
    let symbols = json!({"jsonrpc": "2.0", "id": 301, "method": "textDocument/foldingRange",
        "params": {"textDocument": {"uri": big}}});
    s.client().send_raw(&frame(&symbols.to_string())).unwrap();
    let cancel = json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 301}});
    s.client().send_raw(&frame(&cancel.to_string())).unwrap();
    let reply = s.client().wait_for_response(&json!(301), WAIT).unwrap();
    assert_eq!(error_code(&reply), -32800, "cancelled: {reply}");
    let answer = s.document_symbols(&small);
    assert_eq!(answer[0]["name"], "a");
    // The big document's next request waits for the cancelled work to let go of it.
    assert!(!s.folding_ranges(&big).as_array().unwrap().is_empty());
    s.shutdown();
    let log = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        log.contains("foldingRange: cancelled by the client, stopped before the end"),
        "the work went on to the end:\n{}",
        log.lines()
            .filter(|l| l.contains("foldingRange"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
