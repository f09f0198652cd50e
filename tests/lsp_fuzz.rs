//! A seeded random LSP session against the built binary (docs/robustness.md): opens, edits
//! (multi-byte and CRLF text, `---` lines, comments, pastes; now and then positions past the end,
//! reversed ranges, stale versions, documents never opened), closes, requests at random positions,
//! cancellations and corrupted notifications, within a time budget (`KUBE_LSP_FUZZ_SECS`,
//! default 3; `KUBE_LSP_FUZZ_SEED`; `scripts/fuzz` runs it longer). Checks: the server never
//! ends, every request gets exactly one response, and afterwards every document edited only
//! within its text has the diagnostics, symbols and folds of a fresh open of the same text.

mod common;
#[path = "../src/text/random_text.rs"]
mod random_text;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::fixture::{Encoding, position};
use common::server::{TestServer, uri};
use random_text::{PIECES, Rng, boundary};
use serde_json::{Value, json};

const METHODS: &[&str] = &[
    "textDocument/hover",
    "textDocument/completion",
    "textDocument/documentSymbol",
    "textDocument/foldingRange",
    "textDocument/codeAction",
    "textDocument/definition",
    "textDocument/references",
    "textDocument/documentLink",
    "textDocument/codeLens",
    "textDocument/formatting",
];

/// An open document as the client sees it; `exact` while every edit stayed within its text.
struct Document {
    text: String,
    version: i64,
    exact: bool,
}

fn frame(body: &str) -> Vec<u8> {
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(body.as_bytes());
    frame
}

fn budget() -> f64 {
    std::env::var("KUBE_LSP_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0)
}

/// A position in `document`, or (now and then) one past its end.
fn somewhere(rng: &mut Rng, document: Option<&Document>, encoding: Encoding) -> Value {
    match document {
        Some(d) if rng.below(8) != 0 => {
            let at = boundary(&d.text, rng.below(d.text.len() + 1));
            position(&d.text, at, encoding)
        }
        _ => json!({"line": rng.below(5_000), "character": rng.below(300)}),
    }
}

fn params(method: &str, uri: &str, at: Value, to: Value) -> Value {
    let document = json!({"uri": uri});
    match method {
        "textDocument/documentSymbol"
        | "textDocument/foldingRange"
        | "textDocument/documentLink"
        | "textDocument/codeLens" => json!({"textDocument": document}),
        "textDocument/formatting" => {
            json!({"textDocument": document, "options": {"tabSize": 2, "insertSpaces": true}})
        }
        "textDocument/codeAction" => json!({"textDocument": document,
            "range": {"start": at, "end": to}, "context": {"diagnostics": []}}),
        "textDocument/references" => json!({"textDocument": document, "position": at,
            "context": {"includeDeclaration": true}}),
        _ => json!({"textDocument": document, "position": at}),
    }
}

/// The edited document `name` (its text `d`) has the diagnostics, symbols and folds of a fresh
/// open of its text. Every request must be answered before (the waits here drop other answers).
/// `n` numbers the comparison: each fresh open has a URI never used before.
/// The diagnostics the document's own layers give (YAML, schema), without the references', which
/// are computed from the workspace after a publication and so arrive for a fresh open later.
fn own_layers(diagnostics: &Value) -> Value {
    let all = diagnostics.as_array().cloned().unwrap_or_default();
    let own = all.into_iter().filter(|d| {
        !d["code"]
            .as_str()
            .is_some_and(|code| code.starts_with("reference-"))
    });
    Value::Array(own.collect())
}

fn same_as_a_fresh_open(s: &mut TestServer, name: &str, d: &Document, seed: u64, n: usize) {
    let none = json!({"line": 0, "character": 0});
    let change = json!([{"range": {"start": none, "end": none}, "text": ""}]);
    // This very version's publication (a close's, without a version, may still be on its way).
    let version = json!(d.version + 1);
    s.change(name, d.version + 1, change);
    let fresh_uri = format!("{name}.fresh-{n}.yaml");
    let fresh = s.open_and_wait(&fresh_uri, &d.text);
    // The fresh document's answers, as if about the edited one.
    let same = |v: Value| v.to_string().replace(&fresh_uri, name);
    let context = format!("seed {seed}, {name}, text {:?}", d.text);
    // Every publication of this version equals the fresh open's, the first one included.
    let expected = same(own_layers(&fresh));
    let of_this_version = |p: &Value| p["uri"] == name && p["version"] == version;
    let first = s
        .client()
        .wait_for_notification(
            "textDocument/publishDiagnostics",
            of_this_version,
            Duration::from_secs(60),
        )
        .unwrap_or_else(|e| panic!("diagnostics: {context}\nnone published: {e}"));
    let mut seen = vec![own_layers(&first["diagnostics"]).to_string()];
    if seen[0] != expected {
        // What came after it, for the failure message.
        let _ = s.client().wait_for_notification(
            "textDocument/publishDiagnostics",
            |p| {
                if of_this_version(p) {
                    seen.push(own_layers(&p["diagnostics"]).to_string());
                }
                false
            },
            Duration::from_secs(5),
        );
    }
    let symbols = s.document_symbols(&fresh_uri);
    assert_eq!(
        s.document_symbols(name).to_string(),
        same(symbols),
        "symbols: {context}"
    );
    let folds = s.folding_ranges(&fresh_uri);
    assert_eq!(
        s.folding_ranges(name).to_string(),
        same(folds),
        "folds: {context}"
    );
    // Publications of this version that came meanwhile.
    seen.extend(
        s.queued_notifications()
            .filter(|m| m["method"] == "textDocument/publishDiagnostics")
            .map(|m| &m["params"])
            .filter(|p| of_this_version(p))
            .map(|p| own_layers(&p["diagnostics"]).to_string()),
    );
    assert!(
        seen.iter().all(|own| *own == expected),
        "diagnostics: {context}\nfresh: {expected}\nedited, as published in order: {seen:#?}"
    );
    s.close(&fresh_uri);
}

/// Counts a response to one of the session's requests (ids from 1,000,000).
fn count(answers: &mut HashMap<i64, usize>, reply: &Value) {
    if let Some(id) = reply["id"].as_i64().filter(|id| *id >= 1_000_000) {
        *answers.entry(id).or_default() += 1;
    }
}

#[test]
fn a_random_session_never_ends_the_server_and_answers_every_request_once() {
    let seed: u64 = std::env::var("KUBE_LSP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mut rng = Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let corpus = common::corpus::read(common::corpus::MICROSERVICES);
    // Without the best-practice rules: their cross-object answers (a Service's Pods, a
    // ServiceAccount) legitimately differ between a document and its fresh copy, which see each
    // other in the workspace; the rules' own edit-equals-fresh test is in features::rules.
    let mut s = TestServer::builder()
        .initialization_options(json!({"rules": false}))
        .start();
    let encoding = s.encoding();
    let names: Vec<String> = (0..4).map(|i| uri(&format!("fuzz-{i}.yaml"))).collect();
    let mut open: HashMap<String, Document> = HashMap::new();
    let mut sent: Vec<i64> = Vec::new();
    let mut answers: HashMap<i64, usize> = HashMap::new();
    let (mut next_id, mut steps, mut compared) = (1_000_000i64, 0usize, 0usize);
    let started = Instant::now();
    while started.elapsed().as_secs_f64() < budget() {
        steps += 1;
        let name = names[rng.below(names.len())].clone();
        match rng.below(20) {
            0 | 1 if !open.contains_key(&name) => {
                let from = boundary(&corpus, rng.below(corpus.len()));
                let text = corpus[from..boundary(&corpus, from + rng.below(6_000))].to_string();
                s.open(&name, &text);
                open.insert(
                    name,
                    Document {
                        text,
                        version: 1,
                        exact: true,
                    },
                );
            }
            2 if open.contains_key(&name) => {
                let d = open.remove(&name).unwrap();
                if d.exact && rng.below(3) == 0 {
                    // Compared before it closes, once every request so far is answered.
                    while answers.len() < sent.len() {
                        let reply = s.client().next_response(Duration::from_secs(120));
                        count(&mut answers, &reply.expect("an answer"));
                    }
                    s.client().clear_queued();
                    same_as_a_fresh_open(&mut s, &name, &d, seed, compared);
                    compared += 1;
                }
                s.close(&name);
            }
            3..=9 => {
                let Some(d) = open.get_mut(&name) else {
                    // An edit of a document that is not open.
                    let change = json!([{"range": {"start": {"line": 0, "character": 0},
                        "end": {"line": 0, "character": 0}}, "text": "x"}]);
                    s.change(&name, 2, change);
                    continue;
                };
                let start = boundary(&d.text, rng.below(d.text.len() + 1));
                let end = boundary(&d.text, start + [0, 3, 60][rng.below(3)]);
                let inserted = match rng.below(5) {
                    0 => String::new(),
                    1 => {
                        let from = boundary(&d.text, rng.below(d.text.len() + 1));
                        d.text[from..boundary(&d.text, from + rng.below(120))].to_string()
                    }
                    _ => PIECES[rng.below(PIECES.len())].to_string(),
                };
                let (mut from, mut to) = (
                    position(&d.text, start, encoding),
                    position(&d.text, end, encoding),
                );
                // The first document gets positions past the end and reversed ranges (the server
                // clamps them; its text is then no longer modelled), the others exact edits.
                match if name == names[0] { rng.below(4) } else { 2 } {
                    0 => (from, to) = (somewhere(&mut rng, None, encoding), to),
                    1 => (from, to) = (to, from),
                    _ => {}
                }
                if from != position(&d.text, start, encoding)
                    || to != position(&d.text, end, encoding)
                {
                    d.exact = false;
                }
                d.text.replace_range(start..end, &inserted);
                // A repeated version now and then (the server logs it and applies the change).
                d.version += (rng.below(10) != 0) as i64;
                let change = json!([{"range": {"start": from, "end": to}, "text": inserted}]);
                s.change(&name, d.version, change);
            }
            10..=16 => {
                let method = METHODS[rng.below(METHODS.len())];
                let document = open.get(&name);
                let (at, to) = (
                    somewhere(&mut rng, document, encoding),
                    somewhere(&mut rng, document, encoding),
                );
                let body = json!({"jsonrpc": "2.0", "id": next_id, "method": method,
                    "params": params(method, &name, at, to)});
                s.client().send_raw(&frame(&body.to_string())).unwrap();
                sent.push(next_id);
                next_id += 1;
            }
            17 if !sent.is_empty() => {
                let id = sent[rng.below(sent.len())];
                s.notify("$/cancelRequest", json!({"id": id}));
            }
            18 => {
                // A notification with bytes overwritten: whatever it decodes to, no id of ours
                // and none of the session's documents.
                let body = json!({"jsonrpc": "2.0", "method": "textDocument/didChange",
                    "params": {"textDocument": {"uri": uri("garbage.yaml"), "version": 99},
                    "contentChanges": [{"text": "a: [\u{1F680}\n"}]}})
                .to_string();
                let mut bytes = body.into_bytes();
                for _ in 0..1 + rng.below(3) {
                    let at = rng.below(bytes.len());
                    let with = b"{}[]\",:\\e-";
                    bytes[at] = with[rng.below(with.len())];
                }
                let mut framed = format!("Content-Length: {}\r\n\r\n", bytes.len()).into_bytes();
                framed.extend_from_slice(&bytes);
                s.client().send_raw(&framed).unwrap();
            }
            _ => {}
        }
        if steps % 200 == 0 {
            // Count the answers so far; drop the notifications read meanwhile.
            while let Ok(reply) = s.client().next_response(Duration::ZERO) {
                count(&mut answers, &reply);
            }
            // An editor waits for its answers: at most 64 requests in flight.
            while sent.len() - answers.len() > 64 {
                let reply = s.client().next_response(Duration::from_secs(120));
                count(&mut answers, &reply.expect("an answer"));
            }
            s.client().clear_queued();
        }
    }
    // Every request answered exactly once.
    let wanted = sent.len();
    while answers.len() < wanted {
        let reply = s
            .client()
            .next_response(Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("seed {seed}: {} of {wanted} answered: {e}", answers.len()));
        count(&mut answers, &reply);
    }
    // Anything answered twice would have arrived by the time a last request is answered.
    s.document_symbols(&uri("last.yaml"));
    while let Ok(reply) = s.client().next_response(Duration::from_millis(200)) {
        count(&mut answers, &reply);
    }
    let twice: Vec<_> = answers.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "seed {seed}: answered more than once: {twice:?}"
    );
    assert!(
        sent.iter().all(|id| answers.contains_key(id)),
        "seed {seed}"
    );

    // The documents edited within their text equal a fresh open of it.
    s.discard_notifications();
    for (name, d) in open.iter().filter(|(_, d)| d.exact) {
        same_as_a_fresh_open(&mut s, name, d, seed, compared);
        compared += 1;
    }
    eprintln!(
        "random session, seed {seed}: {steps} steps, {wanted} requests answered once, \
         {compared} documents equal to a fresh open"
    );
    s.shutdown();
}
