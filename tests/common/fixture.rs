//! Text fixtures: a `$0` cursor marked in the text, LSP positions and offsets in either encoding,
//! and edits applied as an editor applies them.
//!
//! ```ignore
//! let (text, offset) = fixture::cursor("kind: $0\n");
//! let position = fixture::position(&text, offset, Encoding::Utf16); // {"line": 0, "character": 6}
//! ```
#![allow(dead_code)] // each test binary uses a different subset

use serde_json::{Value, json};

/// The cursor marker.
pub const CURSOR: &str = "$0";

/// How LSP positions count characters in a line (the negotiated `positionEncoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// The encoding an `initialize` result negotiated (UTF-16 when it names none).
    pub fn of_capabilities(capabilities: &Value) -> Encoding {
        match capabilities["positionEncoding"].as_str() {
            Some("utf-8") => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        }
    }
}

/// `text` without its one `$0` marker, and the byte offset where it was.
pub fn cursor(text: &str) -> (String, usize) {
    let offset = text.find(CURSOR).expect("a $0 cursor");
    let rest = &text[offset + CURSOR.len()..];
    assert!(!rest.contains(CURSOR), "more than one $0 cursor: {text:?}");
    (format!("{}{rest}", &text[..offset]), offset)
}

/// The LSP position (`{"line", "character"}`) of byte `offset` of `text`.
pub fn position(text: &str, offset: usize, encoding: Encoding) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..]
        .chars()
        .map(|c| encoding.width(c))
        .sum();
    json!({"line": line, "character": character})
}

/// The byte offset of an LSP position in `text`; a column past the end of its line is the end of
/// the line's text (its line break included), a line past the end is the end of the text.
pub fn offset(text: &str, position: &Value, encoding: Encoding) -> usize {
    let (line, character) = (
        position["line"].as_u64().unwrap() as usize,
        position["character"].as_u64().unwrap() as usize,
    );
    let line_start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    let column = text[line_start..]
        .char_indices()
        .find(|(_, c)| {
            let before = units;
            units += encoding.width(*c);
            before >= character
        })
        .map_or(text.len() - line_start, |(i, _)| i);
    line_start + column
}

/// `text` after the LSP `TextEdit`s `edits` (non-overlapping, positions in `text` before any of
/// them), applied from the last to the first so that earlier offsets stay valid.
pub fn apply_edits(text: &str, edits: &[Value], encoding: Encoding) -> String {
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            let (start, end) = (&e["range"]["start"], &e["range"]["end"]);
            let new_text = e["newText"].as_str().unwrap();
            (
                offset(text, start, encoding),
                offset(text, end, encoding),
                new_text,
            )
        })
        .collect();
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut edited = text.to_string();
    for (start, end, new_text) in edits {
        edited.replace_range(start..end, new_text);
    }
    edited
}

/// A `contentChanges` entry of `textDocument/didChange` replacing the range from `start` to `end`
/// (each `(line, character)`) with `text`.
pub fn range_change(start: (u32, u32), end: (u32, u32), text: &str) -> Value {
    json!({
        "range": {
            "start": {"line": start.0, "character": start.1},
            "end": {"line": end.0, "character": end.1},
        },
        "text": text,
    })
}

/// A copy of `tests/fixtures/<name>` in a temporary folder (for tests that edit files), and its
/// canonical path.
pub fn tree_copy(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    for entry in walkdir::WalkDir::new(&source) {
        let entry = entry.unwrap();
        let to = root.join(entry.path().strip_prefix(&source).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
        } else {
            std::fs::copy(entry.path(), &to).unwrap();
        }
    }
    (dir, root)
}
