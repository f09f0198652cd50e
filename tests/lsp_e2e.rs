//! End-to-end tests: the built `kube-lsp` binary driven over stdio as an editor drives it.

mod common;

use std::time::Duration;

use common::corpus::{self, ARGOCD, MICROSERVICES};
use common::fixture::range_change as edit;
use common::server::{TestServer, uri};
use serde_json::{Value, json};

/// The essentials of each diagnostic of the YAML and schema layers, for compact assertions (the
/// rules' findings are tested in rules_lsp.rs).
fn summary(diagnostics: &Value) -> Vec<String> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            let code = d["code"].as_str().unwrap_or("");
            code.starts_with("yaml-") || code.starts_with("schema-")
        })
        .map(|d| {
            let r = &d["range"];
            format!(
                "{}:{}-{}:{} {} {}",
                r["start"]["line"],
                r["start"]["character"],
                r["end"]["line"],
                r["end"]["character"],
                d["code"].as_str().unwrap_or(""),
                d["severity"]
            )
        })
        .collect()
}

#[test]
fn initialize_advertises_incremental_sync_and_negotiates_utf8() {
    let server = TestServer::builder()
        .args(&[])
        .position_encodings(&["utf-8", "utf-16"])
        .start();
    let result = server.initialize_result();
    let capabilities = &result["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-8");
    assert_eq!(capabilities["textDocumentSync"]["change"], 2);
    assert_eq!(result["serverInfo"]["name"], "kube-lsp");
    server.shutdown();

    let server = TestServer::builder().args(&["serve"]).start();
    assert_eq!(server.capabilities()["positionEncoding"], "utf-16");
    server.shutdown();
}

#[test]
fn diagnostics_for_syntax_errors_duplicate_keys_and_tabs_per_document() {
    let mut s = TestServer::start();
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  name: web2\n---\napiVersion: v1\nkind: Service\nspec:\n\tports: []\n---\nkind: ConfigMap\ndata: [a, b\n";
    let diagnostics = s.open_and_wait(&uri("three.yaml"), text);
    insta::assert_json_snapshot!("three_documents", diagnostics);
    s.shutdown();
}

#[test]
fn incremental_edits_update_diagnostics_for_each_version() {
    let mut s = TestServer::start();
    let uri = uri("pod.yaml");
    let diagnostics = s.open_and_wait(
        &uri,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\n",
    );
    assert_eq!(summary(&diagnostics), Vec::<String>::new());
    // Rename `app` to `name`... inside labels, no duplicate; then make `labels` a second `name`.
    let diagnostics = s.change_and_wait(&uri, 2, json!([edit((4, 2), (4, 8), "name")]));
    assert_eq!(summary(&diagnostics), ["4:2-4:6 yaml-duplicate-key 1"]);
    let diagnostics = s.change_and_wait(&uri, 3, json!([edit((4, 2), (4, 6), "labels")]));
    assert!(summary(&diagnostics).is_empty());
    // Several changes in one notification apply in order.
    let diagnostics = s.change_and_wait(
        &uri,
        4,
        json!([edit((5, 4), (5, 7), "x"), edit((5, 4), (5, 5), "tier")]),
    );
    assert!(summary(&diagnostics).is_empty());
    let symbols = s.document_symbols(&uri);
    assert_eq!(symbols[0]["name"], "Pod web");
    s.shutdown();
}

#[test]
fn utf16_positions_count_cjk_and_emoji_correctly() {
    let mut s = TestServer::builder()
        .position_encodings(&["utf-16"])
        .start();
    // The duplicate key sits after CJK text and an emoji (a surrogate pair in UTF-16).
    let text = "# 部署说明：生产环境 🚀\nmetadata: {名称: a, 🚀: b, 🚀: c}\n";
    let cjk = uri("cjk.yaml");
    let diagnostics = s.open_and_wait(&cjk, text);
    assert_eq!(summary(&diagnostics), ["1:25-1:27 yaml-duplicate-key 1"]);
    // Replace the second rocket (UTF-16 columns 25..27) with a plain key: clean again.
    let diagnostics = s.change_and_wait(&cjk, 2, json!([edit((1, 25), (1, 27), "x")]));
    assert!(summary(&diagnostics).is_empty());
    s.shutdown();

    let mut s = TestServer::builder().position_encodings(&["utf-8"]).start();
    let diagnostics = s.open_and_wait(&cjk, text);
    assert_eq!(summary(&diagnostics), ["1:31-1:35 yaml-duplicate-key 1"]);
    s.shutdown();
}

#[test]
fn big_documents_with_escapes_and_cjk_arrive_whole() {
    // Over 64 KiB, so the text goes around tower-lsp-server's decoding (`server/handoff.rs`);
    // quotes, backslashes, tabs and CRLF are JSON escapes that must come back as they were.
    let padding = "# \"引用\" \\ back\tslash 🚀\r\n".repeat(3000);
    // The duplicate key's column counts each escaped character of the key before it.
    let text = format!("{padding}metadata: {{\"\\\"引\\\\\t\": a, 🚀: b, 🚀: c}}\r\n");
    assert!(text.len() > 64 * 1024);
    let mut s = TestServer::start();
    let uri = uri("cjk-big.yaml");
    let diagnostics = s.open_and_wait(&uri, &text);
    assert_eq!(
        summary(&diagnostics),
        ["3000:31-3000:33 yaml-duplicate-key 1"]
    );
    let diagnostics = s.change_and_wait(&uri, 2, json!([edit((3000, 31), (3000, 33), "x")]));
    assert!(summary(&diagnostics).is_empty());
    s.shutdown();
}

#[test]
fn crlf_documents_keep_positions_right() {
    let mut s = TestServer::start();
    let uri = uri("crlf.yaml");
    let diagnostics = s.open_and_wait(&uri, "a: 1\r\nb: 2\r\n---\r\nc: 3\r\nc: 4\r\n");
    assert_eq!(summary(&diagnostics), ["4:0-4:1 yaml-duplicate-key 1"]);
    let diagnostics = s.change_and_wait(&uri, 2, json!([edit((4, 0), (4, 1), "d")]));
    assert!(summary(&diagnostics).is_empty());
    s.shutdown();
}

#[test]
fn symbols_and_folding_ranges_of_a_multi_document_file() {
    let mut s = TestServer::start();
    let text = corpus::read(MICROSERVICES);
    let uri = uri("microservices-demo.yaml");
    let diagnostics = s.open_and_wait(&uri, &text);
    assert!(summary(&diagnostics).is_empty());
    let symbols = s.document_symbols(&uri);
    let names: Vec<String> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} ({})",
                s["name"].as_str().unwrap(),
                s["detail"].as_str().unwrap_or("-")
            )
        })
        .collect();
    insta::assert_json_snapshot!("microservices_symbols", names);
    assert_eq!(symbols[0]["children"][0]["name"], "apiVersion");
    let folds = s.folding_ranges(&uri);
    assert!(folds.as_array().unwrap().len() > 100);
    s.shutdown();
}

#[test]
fn folding_ranges_keep_to_the_clients_limit_outermost_first() {
    let text = corpus::read(MICROSERVICES);
    let folds_of = |mut s: TestServer| {
        let uri = uri("microservices-demo.yaml");
        s.open_and_wait(&uri, &text);
        let folds = s.folding_ranges(&uri);
        s.shutdown();
        let lines = |f: &Value| {
            (
                f["startLine"].as_u64().unwrap(),
                f["endLine"].as_u64().unwrap(),
            )
        };
        folds
            .as_array()
            .unwrap()
            .iter()
            .map(lines)
            .collect::<Vec<_>>()
    };
    let all = folds_of(TestServer::start());
    let limited = folds_of(TestServer::builder().folding_range_limit(40).start());
    assert_eq!(limited.len(), 40);
    assert!(limited.iter().all(|fold| all.contains(fold)));
    // Every document (the outermost folds) is kept, then the first keys below them.
    let outermost: Vec<_> = all
        .iter()
        .filter(|(start, end)| {
            !all.iter()
                .any(|(s, e)| (s, e) != (start, end) && s <= start && end <= e)
        })
        .collect();
    assert!(
        outermost.len() > 5 && outermost.len() < 40,
        "{}",
        outermost.len()
    );
    assert!(outermost.iter().all(|fold| limited.contains(fold)));
    assert!(limited.is_sorted());
}

#[test]
fn a_file_answers_at_most_5000_symbols_and_folds() {
    let mut s = TestServer::start();
    let manifests: Vec<String> = (0..2_000)
        .map(|i| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v\n")
        })
        .collect();
    let uri = uri("many.yaml");
    s.open_and_wait(&uri, &manifests.join("---\n"));
    let symbols = s.document_symbols(&uri);
    let symbols = symbols.as_array().unwrap();
    let children = |s: &Value| s["children"].as_array().map_or(0, Vec::len);
    // Every manifest, then the keys of the first ones (4 each) that fit.
    assert_eq!(symbols.len(), 2_000);
    assert_eq!(symbols.iter().map(children).sum::<usize>(), 3_000);
    assert_eq!(children(&symbols[749]), 4);
    assert_eq!(children(&symbols[750]), 0);
    // 6,000 folds (each document, its metadata and its data) without a client limit.
    let folds = s.folding_ranges(&uri);
    assert_eq!(folds.as_array().unwrap().len(), 5_000);
    s.shutdown();
}

#[test]
fn non_kubernetes_yaml_gets_no_diagnostics() {
    let mut s = TestServer::start();
    let workflow = "name: CI\non:\n  push:\n    branches: [main]\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: cargo test\n";
    let diagnostics = s.open_and_wait(&uri("ci.yml"), workflow);
    assert!(summary(&diagnostics).is_empty());
    let compose = "services:\n  web:\n    image: nginx\n    ports:\n      - \"8080:80\"\n";
    let diagnostics = s.open_and_wait(&uri("compose.yaml"), compose);
    assert!(summary(&diagnostics).is_empty());
    s.shutdown();
}

/// The summary of a duplicate `type` key at `line`, `column`.
fn duplicate_type_key(line: u32, column: u32) -> String {
    format!("{line}:{column}-{line}:{} yaml-duplicate-key 1", column + 4)
}

/// The line and indentation of a `type: string` inside argocd's 23,482-line CRD document.
fn type_string_line(argocd: &str) -> (u32, u32) {
    argocd
        .lines()
        .enumerate()
        .skip(17_000)
        .find_map(|(i, l)| {
            l.trim_start()
                .strip_prefix("type: string")
                .map(|_| (i as u32, (l.len() - l.trim_start().len()) as u32))
        })
        .expect("argocd's CRD has `type: string` lines")
}

#[test]
fn big_files_open_clean_and_edits_stay_correct() {
    let mut s = TestServer::start();
    let text = corpus::read(ARGOCD);
    let argocd = uri("argocd-install.yaml");
    let diagnostics = s.open_and_wait(&argocd, &text);
    assert!(summary(&diagnostics).is_empty());
    // Duplicate a key inside the 23,482-line CRD document, then undo it.
    let (line, column) = type_string_line(&text);
    let diagnostics = s.change_and_wait(
        &argocd,
        2,
        json!([edit(
            (line + 1, 0),
            (line + 1, 0),
            &format!("{}type: object\n", " ".repeat(column as usize))
        )]),
    );
    assert_eq!(
        summary(&diagnostics),
        [duplicate_type_key(line + 1, column)]
    );
    let diagnostics =
        s.change_and_wait(&argocd, 3, json!([edit((line + 1, 0), (line + 2, 0), "")]));
    assert!(summary(&diagnostics).is_empty());

    // One document longer than 32,768 lines (tree-sitter-yaml's upstream limit).
    let mut configmap =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    for i in 0..40_000 {
        configmap.push_str(&format!(
            "  key-{i}: \"value number {i} of a large config map\"\n"
        ));
    }
    let big = uri("big-configmap.yaml");
    let diagnostics = s.open_and_wait(&big, &configmap);
    assert!(summary(&diagnostics).is_empty());
    let diagnostics = s.change_and_wait(&big, 2, json!([edit((39_000, 2), (39_000, 11), "key-5")]));
    assert_eq!(
        summary(&diagnostics),
        ["39000:2-39000:7 yaml-duplicate-key 1"]
    );
    s.shutdown();
}

/// didOpen checks a big file off the message loop: a completion sent right after it answers from
/// the text at once, and an edit sent right after it waits for the open and applies to it, in
/// order.
#[test]
fn requests_right_after_opening_a_big_file_see_it_in_order() {
    let mut s = TestServer::start();
    let text = corpus::read(ARGOCD);
    let (line, column) = type_string_line(&text);
    let uri = uri("argocd-now.yaml");
    s.open(&uri, &text);
    let duplicate = format!("{}type: object\n", " ".repeat(column as usize));
    s.change(
        &uri,
        2,
        json!([edit((line + 1, 0), (line + 1, 0), &duplicate)]),
    );
    let completion = s.completion(&uri, json!({"line": line, "character": column}));
    assert!(
        completion["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty()),
        "{completion}"
    );
    let diagnostics = s.diagnostics(&uri, 2);
    assert_eq!(
        summary(&diagnostics),
        [duplicate_type_key(line + 1, column)]
    );
    s.shutdown();
}

#[test]
fn bad_input_never_crashes_or_loses_the_document() {
    let mut s = TestServer::start();
    // Positions past the end of a line and of the file are clamped.
    let clamp = uri("clamp.yaml");
    s.open_and_wait(&clamp, "a: 1\n");
    let diagnostics = s.change_and_wait(
        &clamp,
        2,
        json!([
            edit((0, 99), (0, 120), "\nb: 2"),
            edit((50, 3), (60, 0), "\nb: 3")
        ]),
    );
    assert_eq!(summary(&diagnostics), ["3:0-3:1 yaml-duplicate-key 1"]);
    // A skipped version is logged and the change still applied.
    let diagnostics = s.change_and_wait(&clamp, 7, json!([edit((3, 0), (3, 1), "c")]));
    assert!(summary(&diagnostics).is_empty());
    // An edit for a document never opened is ignored; a full-text one opens it.
    s.change(
        &uri("never-opened.yaml"),
        3,
        json!([edit((0, 0), (0, 1), "x")]),
    );
    let diagnostics = s.change_and_wait(&uri("full.yaml"), 4, json!([{"text": "a: 1\na: 2\n"}]));
    assert_eq!(summary(&diagnostics), ["1:0-1:1 yaml-duplicate-key 1"]);

    // Unknown methods get "method not found"; the server keeps going.
    let error = s
        .try_request("kube-lsp/noSuchMethod", json!({}))
        .unwrap_err();
    assert!(error.to_string().contains("-32601"), "{error}");
    // A malformed frame (not JSON) is skipped.
    s.client()
        .send_raw(b"Content-Length: 9\r\n\r\n{not json")
        .unwrap();

    let hostile = [
        (
            "binary.yaml",
            (0..4096u32)
                .map(|i| char::from_u32(i * 7919 % 0xD7FF).unwrap_or('?'))
                .collect::<String>(),
        ),
        (
            "bom.yaml",
            "\u{feff}apiVersion: v1\nkind: Pod\n".to_string(),
        ),
        ("tabs.yaml", "a:\n\tb: 1\n".to_string()),
        (
            "deep-flow.yaml",
            format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        ),
        (
            "deep-block.yaml",
            (0..10_000)
                .map(|d| format!("{}k:\n", " ".repeat(d)))
                .collect(),
        ),
        ("bomb.yaml", billion_laughs()),
    ];
    for (name, text) in hostile {
        let uri = uri(name);
        s.open_and_wait(&uri, &text);
        // Still answering for this document.
        s.document_symbols(&uri);
    }
    let tabs = s.open_and_wait(&uri("tabs.yaml"), "a:\n\tb: 1\n");
    assert_eq!(summary(&tabs), ["1:0-1:1 yaml-tab-indentation 1"]);
    s.shutdown();
}

#[test]
fn a_fifty_megabyte_file_is_handled() {
    let mut s = TestServer::start();
    let text = corpus::repeated(MICROSERVICES, 50 << 20);
    let uri = uri("fifty.yaml");
    let diagnostics = s.open_and_wait(&uri, &text);
    assert!(summary(&diagnostics).is_empty());
    let diagnostics = s.change_and_wait(&uri, 2, json!([edit((3, 0), (3, 0), "# edited\n")]));
    assert!(summary(&diagnostics).is_empty());
    s.shutdown();
}

#[cfg(debug_assertions)]
#[test]
fn a_panic_in_a_handler_does_not_take_the_server_down() {
    let mut s = TestServer::start();
    let uri = uri("ok.yaml");
    s.open_and_wait(&uri, "a: 1\n");
    let error = s
        .try_request("kube-lsp/debugPanic", Value::Null)
        .unwrap_err();
    assert!(error.to_string().contains("-32603"), "{error}");
    let symbols = s.document_symbols(&uri);
    assert_eq!(symbols[0]["name"], "a");
    s.shutdown();
}

fn billion_laughs() -> String {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        text.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
    }
    text
}

#[test]
fn exit_ends_the_process_even_while_stdin_stays_open() {
    let server = TestServer::builder()
        .args(&["--log-level", "error"])
        .start();
    let mut client = server.into_client();
    client
        .request("shutdown", Value::Null)
        .expect("shutdown is answered");
    client.notify("exit", Value::Null).unwrap();
    // The client keeps the server's stdin open.
    let status = client
        .wait_for_exit(Duration::from_secs(20))
        .expect("the server ends after exit with stdin open");
    assert!(status.success());
}
