//! The edit mix of benches/lsp.rs: rounds of edits at lines spread over the file, each round
//! the kinds an editor sends (a character typed in a value and deleted, a new line and its
//! deletion, a paste of 50 lines and its cut, an edit that breaks the YAML and the one that
//! mends it). Every round leaves the text as it found it, so each round's edits are written
//! against the original text and the file stays comparable from round to round.

use super::edit_line::{inside_block_scalar, is_plain_scalar_entry};

/// The kinds of edit, in the order a round makes them.
pub const KINDS: [&str; 8] = [
    "character typed",
    "character deleted",
    "new line",
    "deleted line",
    "paste of 50 lines",
    "cut of 50 lines",
    "break the YAML",
    "mend the YAML",
];

/// One change: the range (line, UTF-16 character) replaced by `text`.
pub struct MixEdit {
    pub kind: &'static str,
    pub start: (usize, usize),
    pub end: (usize, usize),
    pub text: String,
}

/// How many lines a paste adds.
pub const PASTE_LINES: usize = 50;

/// Rounds of [`KINDS`].len() edits, at most `rounds` of them, at lines spread over `text`.
pub fn rounds(text: &str, rounds: usize) -> Vec<Vec<MixEdit>> {
    let lines: Vec<&str> = text.lines().collect();
    spread_edit_lines(&lines, rounds)
        .into_iter()
        .enumerate()
        .filter_map(|(round, line)| round_at(&lines, line, round))
        .collect()
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The round at `line` (a `key: plain scalar` line); `None` when the file has no `---` after
/// its first line (nowhere to paste a document).
fn round_at(lines: &[&str], line: usize, round: usize) -> Option<Vec<MixEdit>> {
    let text = lines[line];
    let end = utf16_len(text);
    let indent = text.len() - text.trim_start().len();
    let value = utf16_len(&text[..text.find(": ")? + 2]);
    // A whole document, pasted before the next `---` (valid where it lands).
    let starts_document = |i: &usize| lines[*i].starts_with("---");
    let document_start = (line + 1..lines.len())
        .find(starts_document)
        .or_else(|| (1..line).rev().find(starts_document))?;
    let paste = pasted_document(round);
    let edit = |kind, start, end, text: &str| MixEdit {
        kind,
        start,
        end,
        text: text.to_string(),
    };
    let comment = format!("\n{}# a note", " ".repeat(indent));
    Some(vec![
        edit(KINDS[0], (line, end), (line, end), "x"),
        edit(KINDS[1], (line, end), (line, end + 1), ""),
        edit(KINDS[2], (line, end), (line, end), &comment),
        edit(
            KINDS[3],
            (line, end),
            (line + 1, utf16_len(&comment) - 1),
            "",
        ),
        edit(KINDS[4], (document_start, 0), (document_start, 0), &paste),
        edit(
            KINDS[5],
            (document_start, 0),
            (document_start + PASTE_LINES, 0),
            "",
        ),
        // An opening quote with no closing one: the rest of the document reads differently.
        edit(KINDS[6], (line, value), (line, value), "\""),
        edit(KINDS[7], (line, value), (line, value + 1), ""),
    ])
}

/// [`PASTE_LINES`] lines: a ConfigMap document ending in a newline.
fn pasted_document(round: usize) -> String {
    let mut document =
        format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pasted-{round}\ndata:\n");
    for entry in 0..PASTE_LINES - 6 {
        document.push_str(&format!("  key-{entry}: value {entry}\n"));
    }
    document
}

/// Up to `count` lines spread evenly over the file: for each of `count` equal slices of it, the
/// first `key: plain scalar` line from the slice's middle on (then from its start) that is not
/// inside a block scalar; a slice without one gives none.
fn spread_edit_lines(lines: &[&str], count: usize) -> Vec<usize> {
    let slice = lines.len().div_ceil(count.max(1)).max(1);
    (0..lines.len())
        .step_by(slice)
        .filter_map(|start| {
            let from = (start + slice / 2).min(lines.len());
            (from..lines.len().min(start + slice))
                .chain(start..from)
                .find(|&index| {
                    is_plain_scalar_entry(lines[index]) && !inside_block_scalar(lines, index)
                })
        })
        .collect()
}
