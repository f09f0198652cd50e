//! Splitting a YAML stream into documents, by lines alone.
//!
//! A document starts at a `---` line, or after a `...` line; `%` directive lines before a `---`
//! belong to the document they introduce. This is exact for YAML: a line starting with `---` or
//! `...` followed by a blank (or the end) is a document marker wherever it appears, even where a
//! block scalar would otherwise continue. Splitting by lines keeps it cheap and lets an edit that
//! touches no marker line leave the split untouched.

use std::ops::Range;

use crate::text::shift_range;

/// What a marker line does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkerKind {
    /// `---`: starts a document.
    Start,
    /// `...`: ends a document.
    End,
    /// `%YAML 1.2`, `%TAG …`: belongs to the next document.
    Directive,
}

/// A marker line, with its line break.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkerLine {
    pub range: Range<usize>,
    pub kind: MarkerKind,
}

/// The documents of a text (byte ranges, covering the text without gaps; at least one, possibly
/// empty) and the marker lines that determined them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub documents: Vec<Range<usize>>,
    pub markers: Vec<MarkerLine>,
}

/// The kind of marker a line is, if any. `line` is the line's text, starting at column 0.
pub fn marker_kind(line: &[u8]) -> Option<MarkerKind> {
    let blank_after = |prefix: &[u8]| {
        line.starts_with(prefix) && matches!(line.get(3), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
    };
    if blank_after(b"---") {
        Some(MarkerKind::Start)
    } else if blank_after(b"...") {
        Some(MarkerKind::End)
    } else if line.first() == Some(&b'%') {
        Some(MarkerKind::Directive)
    } else {
        None
    }
}

/// Byte ranges of the lines of `text` (each with its line break; `\n`, `\r\n` or a lone `\r`).
pub fn lines(text: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= text.len() {
            return None;
        }
        let end = match memchr::memchr2(b'\n', b'\r', &text[start..]) {
            Some(i) => {
                let at = start + i;
                if text[at] == b'\r' && text.get(at + 1) == Some(&b'\n') {
                    at + 2
                } else {
                    at + 1
                }
            }
            None => text.len(),
        };
        let line = start..end;
        start = end;
        Some(line)
    })
}

/// Marker lines of `text`; `offset` is added to every range.
pub fn find_markers(text: &[u8], offset: usize) -> Vec<MarkerLine> {
    lines(text)
        .filter(|line| matches!(text[line.start], b'-' | b'.' | b'%'))
        .filter_map(|line| {
            marker_kind(&text[line.clone()]).map(|kind| MarkerLine {
                range: shift_range(&line, offset as isize),
                kind,
            })
        })
        .collect()
}

/// Splits `text` into documents.
pub fn split(text: &str) -> Split {
    let markers = find_markers(text.as_bytes(), 0);
    let mut documents = Vec::new();
    let mut start = 0;
    // Where a run of directive lines began, if only directives/blank lines have followed it.
    let mut directives_from: Option<usize> = None;
    for marker in &markers {
        match marker.kind {
            // Directives may only open a document: a `%` line after content is content (an error
            // the parser reports), not the start of the next document.
            MarkerKind::Directive if only_trivia(&text.as_bytes()[start..marker.range.start]) => {
                directives_from.get_or_insert(marker.range.start);
            }
            MarkerKind::Directive => {}
            MarkerKind::Start => {
                let boundary = directives_from.take().unwrap_or(marker.range.start);
                push_document(&mut documents, &mut start, boundary);
            }
            MarkerKind::End => {
                directives_from = None;
                push_document(&mut documents, &mut start, marker.range.end);
            }
        }
    }
    if start < text.len() || documents.is_empty() {
        documents.push(start..text.len());
    }
    Split { documents, markers }
}

/// Whether `text` holds only blank lines, comments and directives.
fn only_trivia(text: &[u8]) -> bool {
    lines(text).all(|line| {
        let trimmed = text[line].trim_ascii_start();
        trimmed.is_empty() || matches!(trimmed[0], b'#' | b'%')
    })
}

fn push_document(documents: &mut Vec<Range<usize>>, start: &mut usize, boundary: usize) {
    if boundary > *start {
        documents.push(*start..boundary);
        *start = boundary;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        split(text)
            .documents
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn splits_on_start_markers() {
        assert_eq!(
            texts("a: 1\n---\nb: 2\n--- \nc: 3"),
            ["a: 1\n", "---\nb: 2\n", "--- \nc: 3"]
        );
    }

    #[test]
    fn a_leading_marker_does_not_make_an_empty_document() {
        assert_eq!(texts("---\na: 1\n"), ["---\na: 1\n"]);
    }

    #[test]
    fn comment_only_and_empty_documents_are_kept() {
        assert_eq!(
            texts("# licence\n---\n---\na: 1\n"),
            ["# licence\n", "---\n", "---\na: 1\n"]
        );
    }

    #[test]
    fn end_markers_end_documents_and_a_bare_document_may_follow() {
        assert_eq!(texts("a: 1\n...\nb: 2\n"), ["a: 1\n...\n", "b: 2\n"]);
        assert_eq!(
            texts("a: 1\n...\n---\nb: 2\n"),
            ["a: 1\n...\n", "---\nb: 2\n"]
        );
    }

    #[test]
    fn directives_belong_to_the_document_they_introduce() {
        assert_eq!(
            texts("a: 1\n...\n%YAML 1.2\n---\nb: 2\n"),
            ["a: 1\n...\n", "%YAML 1.2\n---\nb: 2\n"]
        );
        assert_eq!(texts("%YAML 1.2\n---\nb: 2\n"), ["%YAML 1.2\n---\nb: 2\n"]);
    }

    #[test]
    fn a_percent_line_inside_content_is_not_a_directive() {
        assert_eq!(
            texts("a: \"x\n%y\"\n---\nb: 2\n"),
            ["a: \"x\n%y\"\n", "---\nb: 2\n"]
        );
    }

    #[test]
    fn dashes_that_are_not_markers_do_not_split() {
        assert_eq!(
            texts("a: |\n  ---\n---x: 1\n- ---\n"),
            ["a: |\n  ---\n---x: 1\n- ---\n"]
        );
    }

    #[test]
    fn crlf_markers() {
        assert_eq!(
            texts("a: 1\r\n---\r\nb: 2\r\n"),
            ["a: 1\r\n", "---\r\nb: 2\r\n"]
        );
    }

    #[test]
    fn empty_text_is_one_empty_document() {
        assert_eq!(split("").documents, vec![0..0]);
    }
}
