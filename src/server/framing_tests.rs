//! The frame guard on hand-written frames (the cases of docs/robustness.md) and on generated
//! ones (a seeded fuzzer with a time budget): whatever it forwards, tower-lsp-server decodes;
//! whatever it does not, it answers when it was a request.

use serde_json::{Value, json};

use super::*;
use crate::text::fixture::Rng;

/// Decodes a body as tower-lsp-server does (its `Message` is private: the same untagged enum).
fn tower_decodes(body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Message {
        Response(tower_lsp_server::jsonrpc::Response),
        Request(tower_lsp_server::jsonrpc::Request),
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    serde_json::from_str::<Message>(text).is_ok()
}

/// What the guard made of `input`: the bodies it forwarded and the messages it answered with.
fn run_with(input: &[u8], limits: FrameLimits) -> (Vec<Vec<u8>>, Vec<Value>) {
    run_handing_off(input, limits, &TextHandoff::default())
}

/// [`run_with`] with big didOpen texts handed to `handoff`.
fn run_handing_off(
    input: &[u8],
    limits: FrameLimits,
    handoff: &TextHandoff,
) -> (Vec<Vec<u8>>, Vec<Value>) {
    let (frames, mut reader) = FrameReader::channel();
    let (replies, mut answers) = Replies::channel();
    let guard = Guard {
        handoff,
        replies: &replies,
        limits,
        surrogates_reported: AtomicBool::new(false),
    };
    std::thread::scope(|scope| {
        scope.spawn(|| guard.run(input, &frames));
    });
    drop(frames);
    let mut forwarded = Vec::new();
    while let Ok(header) = reader.frames.try_recv() {
        let header = String::from_utf8(header).unwrap();
        let body = reader.frames.try_recv().unwrap();
        assert_eq!(header, format!("Content-Length: {}\r\n\r\n", body.len()));
        assert!(
            tower_decodes(&body),
            "forwarded but tower-lsp-server cannot decode it: {}",
            String::from_utf8_lossy(&body)
        );
        forwarded.push(body);
    }
    let mut replies = Vec::new();
    while let Ok(Some(frame)) = answers.try_recv() {
        let at = frame.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        replies.push(serde_json::from_slice(&frame[at..]).unwrap());
    }
    (forwarded, replies)
}

fn run(input: &[u8]) -> (Vec<Vec<u8>>, Vec<Value>) {
    run_with(input, FrameLimits::default())
}

fn frame(body: &str) -> String {
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

const SHUTDOWN: &str = r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#;

fn bodies(forwarded: &[Vec<u8>]) -> Vec<&str> {
    forwarded
        .iter()
        .map(|b| std::str::from_utf8(b).unwrap())
        .collect()
}

fn error_of(reply: &Value) -> (Value, i64) {
    (
        reply["id"].clone(),
        reply["error"]["code"].as_i64().unwrap(),
    )
}

#[test]
fn good_frames_pass_unchanged() {
    let a = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#;
    let b = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let c = r#"{"jsonrpc":"2.0","id":1,"result":null}"#;
    let (forwarded, replies) = run(format!("{}{}{}", frame(a), frame(b), frame(c)).as_bytes());
    assert_eq!(bodies(&forwarded), [a, b, c]);
    assert!(replies.is_empty());
}

#[test]
fn a_big_did_open_after_initialized_hands_its_text_around_tower_lsp_server() {
    let text = "a: b\n".repeat(super::super::handoff::HANDOFF_MIN);
    let open = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": {"textDocument": {"uri": "file:///a.yaml", "languageId": "yaml", "version": 1, "text": text}}});
    let open = open.to_string();
    let initialized = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let handoff = TextHandoff::default();
    let input = format!("{}{}{}", frame(&open), frame(initialized), frame(&open));
    let (forwarded, replies) = run_handing_off(input.as_bytes(), FrameLimits::default(), &handoff);
    assert!(replies.is_empty());
    // Before `initialized` the text stays in the message; after, only a placeholder does.
    assert_eq!(forwarded[0].len(), open.len());
    assert!(forwarded[2].len() < 200);
    assert_eq!(handoff.waiting(), 1);
}

/// A small file's didOpen (a few hundred lines) reaches tower-lsp-server's decoding with a
/// placeholder for its text too: what it decodes and copies is the message's envelope.
#[test]
fn a_small_file_s_did_open_hands_its_text_around_tower_lsp_server() {
    let initialized = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let handoff = TextHandoff::default();
    let mut input = frame(initialized);
    let mut sizes = Vec::new();
    for lines in [1, 1_000, 4_000] {
        let text = "a: b\n".repeat(lines);
        let open = serde_json::json!({"jsonrpc": "2.0", "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": "file:///a.yaml", "languageId": "yaml", "version": 1, "text": text}}});
        let open = open.to_string();
        sizes.push(open.len());
        input.push_str(&frame(&open));
    }
    let (forwarded, replies) = run_handing_off(input.as_bytes(), FrameLimits::default(), &handoff);
    assert!(replies.is_empty());
    // A one-line text stays in its message; 5,000 bytes and more are taken out.
    assert_eq!(forwarded[1].len(), sizes[0]);
    assert!(sizes[1] > 5_000 && forwarded[2].len() < 200);
    assert!(forwarded[3].len() < 200);
    assert_eq!(handoff.waiting(), 2);
}

#[test]
fn a_body_that_is_not_json_is_answered_and_reading_goes_on() {
    let input = format!("{}garbage line\r\n{}", frame("{not json"), frame(SHUTDOWN));
    let (forwarded, replies) = run(input.as_bytes());
    assert_eq!(bodies(&forwarded), [SHUTDOWN]);
    assert_eq!(error_of(&replies[0]), (Value::Null, PARSE_ERROR));
}

#[test]
fn messages_tower_lsp_server_cannot_decode_are_answered_with_their_id() {
    let deep = |depth: usize| {
        format!(
            r#"{{"jsonrpc":"2.0","id":5,"method":"x","params":{{"a":{}{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    let cases = [
        (
            r#"{"id":79,"what":true}"#.to_string(),
            json!(79),
            INVALID_REQUEST,
        ),
        (deep(200), json!(5), PARSE_ERROR),
        (
            r#"{"jsonrpc":"2.0","id":"n","method":"x","params":{"a":1e400}}"#.into(),
            json!("n"),
            PARSE_ERROR,
        ),
        (
            r#"{"jsonrpc":"2.0","id":1.5,"method":"textDocument/hover","params":{}}"#.into(),
            json!(1.5),
            INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"x"}"#.into(),
            serde_json::from_str("123456789012345678901234567890").unwrap(),
            INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"2.0","id":4,"method":"$/kube-lsp/anything"}"#.into(),
            json!(4),
            METHOD_NOT_FOUND,
        ),
        (
            r#"{"jsonrpc":"1.0","id":6,"method":"x"}"#.into(),
            json!(6),
            INVALID_REQUEST,
        ),
        (
            r#"{"jsonrpc":"2.0","id":7,"method":7}"#.into(),
            json!(7),
            INVALID_REQUEST,
        ),
    ];
    for (body, id, code) in cases {
        let (forwarded, replies) = run(format!("{}{}", frame(&body), frame(SHUTDOWN)).as_bytes());
        assert_eq!(bodies(&forwarded), [SHUTDOWN], "{body}");
        assert_eq!(replies.len(), 1, "{body}");
        assert_eq!(error_of(&replies[0]), (id, code), "{body}");
    }
    // Nesting up to what serde_json reads passes.
    let (forwarded, _) = run(frame(&deep(100)).as_bytes());
    assert_eq!(forwarded.len(), 1);
}

#[test]
fn lone_surrogates_become_replacement_characters_reported_once() {
    let open = |text: &str| {
        format!(
            r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"textDocument":{{"uri":"file:///a.yaml","languageId":"yaml","version":1,"text":"{text}"}}}}}}"#
        )
    };
    let input = [
        open(r"a: \ud800\n"),
        open(r"b: \uDFFF x \ud83d\ude80 \\ud800"),
        open(r"c: \ud83d\ud83d\ude80"),
        open(r"d: \\\udc00 \\\\ud800 \ud800\u0041"),
    ]
    .map(|body| frame(&body))
    .concat();
    let (forwarded, replies) = run(input.as_bytes());
    let texts: Vec<String> = forwarded
        .iter()
        .map(|body| {
            let message: Value = serde_json::from_slice(body).unwrap();
            message["params"]["textDocument"]["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        texts,
        [
            "a: \u{FFFD}\n",
            "b: \u{FFFD} x 🚀 \\ud800",
            "c: \u{FFFD}🚀",
            "d: \\\u{FFFD} \\\\ud800 \u{FFFD}A"
        ]
    );
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0]["method"], "window/logMessage");
    // Only the `\u` escapes are looked at, not every escape of the text.
    let before = super::unicode_escapes_read();
    let lines = r"key: value\n".repeat(1000);
    let mut body = open(&format!(r"{lines}\ud800")).into_bytes();
    assert_eq!(super::repair_surrogates(&mut body), 1);
    assert_eq!(super::unicode_escapes_read() - before, 1);
}

#[test]
fn a_content_length_too_short_or_too_long_loses_one_message_at_most() {
    let first = r#"{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.yaml"},"position":{"line":0,"character":0}}}"#;
    let short = format!(
        "Content-Length: {}\r\n\r\n{first}{}",
        first.len() - 10,
        frame(SHUTDOWN)
    );
    let (forwarded, replies) = run(short.as_bytes());
    assert_eq!(bodies(&forwarded), [SHUTDOWN]);
    assert_eq!(error_of(&replies[0]), (json!(1), PARSE_ERROR));

    let third = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
    let long = format!(
        "Content-Length: {}\r\n\r\n{first}{}{}",
        first.len() + 40,
        frame(SHUTDOWN),
        frame(third)
    );
    let (forwarded, replies) = run(long.as_bytes());
    assert_eq!(bodies(&forwarded), [first, SHUTDOWN, third]);
    assert!(replies.is_empty(), "{replies:?}");
}

/// The case `fuzz_the_frame_guard` found (seed 1205): a header spliced into a body, its length
/// then longer than the blank lines after it, swallowed the next frame.
#[test]
fn a_header_that_belongs_to_no_message_does_not_swallow_the_next_frame() {
    let result = r#"{"jsonrpc":"2.0","id":"x","result":null}"#;
    let input = format!(
        "Content-Length: {}\r\n\r\n{result}Content-Length:95\r\n\r\n{}{}",
        result.len(),
        "\n".repeat(64),
        frame(SHUTDOWN)
    );
    let (forwarded, replies) = run(input.as_bytes());
    assert_eq!(bodies(&forwarded), [result, SHUTDOWN]);
    assert!(replies.is_empty(), "{replies:?}");
    // A body of blank bytes and no header after them is still one parse error.
    let (forwarded, replies) =
        run(format!("Content-Length: 3\r\n\r\n\n\n\n{}", frame(SHUTDOWN)).as_bytes());
    assert_eq!(bodies(&forwarded), [SHUTDOWN]);
    assert_eq!(error_of(&replies[0]), (json!(null), PARSE_ERROR));
}

/// The case `fuzz_the_frame_guard` found (seed 20261207): a body that is not JSON with a
/// Content-Length a few bytes too long took the start of the next frame's header, and the next
/// length read was one spliced into a later body, which then swallowed the frames after it.
#[test]
fn a_body_that_is_not_json_gives_back_the_header_it_ran_into() {
    let broken = r#"{"jsonrpc":"2.0","id":7,"method":x}"#;
    let spliced = r#"{"jsContent-Length: 155"#;
    for cut in [
        "C",
        "Content",
        "Content-Length: 4",
        "Content-Length: 44\r\n\r\n",
    ] {
        let input = format!(
            "Content-Length: {}\r\n\r\n{broken}{}{}{}",
            broken.len() + cut.len(),
            frame(spliced),
            "\n".repeat(64),
            frame(SHUTDOWN)
        );
        let (forwarded, replies) = run(input.as_bytes());
        assert_eq!(bodies(&forwarded), [SHUTDOWN], "{cut:?}");
        let errors: Vec<_> = replies.iter().map(error_of).collect();
        assert_eq!(
            errors,
            [(json!(7), PARSE_ERROR), (json!(null), PARSE_ERROR)],
            "{cut:?}"
        );
    }
}

#[test]
fn over_long_header_lines_and_bodies_are_skipped_in_bounded_memory() {
    let limits = FrameLimits {
        header_line: 1024,
        body: 4096,
    };
    let garbage = "x".repeat(1 << 20);
    let input = format!("{garbage}{}", frame(SHUTDOWN));
    let (forwarded, _) = run_with(input.as_bytes(), limits);
    assert_eq!(bodies(&forwarded), [SHUTDOWN]);

    let big = format!(
        r#"{{"jsonrpc":"2.0","id":9,"method":"textDocument/didOpen","params":{{"text":"{}"}}}}"#,
        "y".repeat(10_000)
    );
    let (forwarded, replies) = run_with(
        format!("{}{}", frame(&big), frame(SHUTDOWN)).as_bytes(),
        limits,
    );
    assert_eq!(bodies(&forwarded), [SHUTDOWN]);
    assert_eq!(error_of(&replies[0]), (json!(9), INVALID_REQUEST));
}

#[test]
fn a_frame_cut_short_by_the_end_of_input_is_dropped() {
    let input = format!(
        "{}Content-Length: 100\r\n\r\n{{\"jsonrpc\"",
        frame(SHUTDOWN)
    );
    let (forwarded, _) = run(input.as_bytes());
    assert_eq!(bodies(&forwarded), [SHUTDOWN]);
}

#[test]
fn big_frames_reach_the_reader_whole() {
    let text = "x".repeat(3 << 20);
    let body = format!(
        r#"{{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{{"text":"{text}"}}}}"#
    );
    let (forwarded, _) = run(frame(&body).as_bytes());
    assert_eq!(bodies(&forwarded), [body.as_str()]);
}

#[test]
fn ids_are_salvaged_from_broken_messages() {
    for (body, id) in [
        (
            r#"{"jsonrpc":"2.0","id":12,"method":"x","params":{"a":"#,
            "12",
        ),
        (
            r#"{"params":{"id":3,"s":"}\"{"},"id":"s1","method""#,
            r#""s1""#,
        ),
        (r#"{"jsonrpc":"2.0","id":1"#, "null"),
        (r#"not json "id": 4"#, "null"),
    ] {
        assert_eq!(salvage_id(body.as_bytes()), id, "{body}");
    }
}

/// Mutates a frame: bytes flipped, inserted or removed, pieces of JSON spliced in, the length
/// header changed.
fn mutate(rng: &mut Rng, body: &str) -> Vec<u8> {
    const PIECES: &[&str] = &[
        r"\ud800",
        r"\udc00",
        "1e400",
        "-0",
        "1.5",
        "[[[[[[[[",
        "]]]]",
        "{",
        "}",
        "\"",
        ",",
        ":",
        "null",
        "\"id\":",
        "\"method\":\"$/x\"",
        "\u{1F600}",
        "\\",
        "\r\n",
        "Content-Length: 5\r\n\r\n",
        "123456789012345678901234567890",
    ];
    let mut bytes = body.as_bytes().to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if at < bytes.len() => bytes[at] = rng.next() as u8,
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => {
                let piece = PIECES[rng.below(PIECES.len())];
                bytes.splice(at..at, piece.bytes());
            }
        }
    }
    let length = match rng.below(10) {
        0 => bytes.len().saturating_sub(rng.below(20)),
        1 => bytes.len() + rng.below(20),
        _ => bytes.len(),
    };
    let mut frame = format!("Content-Length: {length}\r\n\r\n").into_bytes();
    frame.extend_from_slice(&bytes);
    frame
}

/// Generated input for a time budget (`KUBE_LSP_FUZZ_SECS`, default 2 s): the guard never
/// panics, forwards only what tower-lsp-server decodes (checked in `run_with`), answers every
/// request it drops, and still forwards a good message sent after the garbage.
#[test]
fn fuzz_the_frame_guard() {
    let seeds = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#,
        r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///a.yaml","languageId":"yaml","version":1,"text":"a: 1\n\u00e9 \ud83d\ude80"}}}"#,
        r#"{"jsonrpc":"2.0","id":"x","result":{"a":[1,2,{"b":null}]}}"#,
        r#"{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"no"}}"#,
        r#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":1}}"#,
    ];
    let budget = std::env::var("KUBE_LSP_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let seed = std::env::var("KUBE_LSP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_u64);
    let started = std::time::Instant::now();
    let mut rng = Rng::new(seed);
    let mut runs = 0;
    while started.elapsed().as_secs_f64() < budget {
        let mut input = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let seed = seeds[rng.below(seeds.len())];
            input.extend(mutate(&mut rng, seed));
        }
        // Enough blank bytes that a Content-Length too long cannot swallow the final message.
        input.extend_from_slice(&[b'\n'; 64]);
        input.extend_from_slice(frame(SHUTDOWN).as_bytes());
        let (forwarded, _) = run(&input);
        assert!(
            forwarded.last().map(Vec::as_slice) == Some(SHUTDOWN.as_bytes()),
            "seed {seed}, run {runs}: the message after the garbage was lost: {}",
            String::from_utf8_lossy(&input)
        );
        runs += 1;
    }
    eprintln!("frame guard fuzz: {runs} inputs in {budget} s (seed {seed})");
}
