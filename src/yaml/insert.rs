//! Inserting lines at the end of a block mapping: after the last line of its last value,
//! indented like its keys, with the document's line breaks. A mapping in flow style (`{a: 1}`),
//! or one whose layout is unusual (a complex `? ` key, text after its last value, a last value
//! that is a block scalar keeping its trailing blank lines), gets no place: guessing there could
//! break the document.
//!
//! Text is read through [`YamlNode::source_text`], a few bytes at a time, so that the
//! tree-sitter tree and the span tree give the same place.

use std::borrow::Cow;

use super::node::YamlNode;
use super::scalar::ScalarStyle;
use super::syntax::NodeShape;

/// Where lines go at the end of a block mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insertion {
    /// The offset to insert at.
    pub at: usize,
    /// The column of the mapping's keys, in characters.
    pub column: usize,
    /// The line break the document uses there.
    pub line_break: &'static str,
    /// Whether `at` starts a line; else it is the end of the text, on the mapping's last line.
    pub at_line_start: bool,
}

impl Insertion {
    /// The text that inserts `lines` (each indented already, without its line break) here.
    pub fn text(&self, lines: &[String]) -> String {
        if self.at_line_start {
            lines
                .iter()
                .map(|line| format!("{line}{}", self.line_break))
                .collect()
        } else {
            format!("{}{}", self.line_break, lines.join(self.line_break))
        }
    }
}

/// Where lines go at the end of `mapping`, if it is a block mapping whose layout is plain
/// enough to insert lines into.
pub fn end_of_block_mapping<N: YamlNode>(mapping: N) -> Option<Insertion> {
    if mapping.shape() != NodeShape::Mapping {
        return None;
    }
    let start = mapping.range().start;
    if mapping.source_text(start..start + 1) == "{" {
        return None;
    }
    let pairs = mapping.pairs();
    let first_key = pairs.first()?.key?;
    let column = key_column(&mapping, first_key.range().start)?;
    let (at, line_break, at_line_start) = insertion_point(&mapping)?;
    Some(Insertion {
        at,
        column,
        line_break,
        at_line_start,
    })
}

/// The column of the key at `offset` (where a mapping's keys are), counted in characters, if the
/// line holds nothing before it but indentation, `- ` indicators and the key's properties.
fn key_column<N: YamlNode>(node: &N, offset: usize) -> Option<usize> {
    let (_, prefix) = line_before(node, offset);
    let mut chars = prefix.chars().peekable();
    let mut column = 0;
    while let Some(c) = chars.next() {
        match c {
            ' ' => column += 1,
            '-' if chars.peek() == Some(&' ') => column += 1,
            // An anchor or tag of the key: the mapping's keys start where it does.
            '&' | '!' => return Some(column),
            _ => return None,
        }
    }
    Some(column)
}

/// Where the mapping's last line ends: (offset to insert at, the line break to use, whether the
/// offset starts a line, or else is the end of the text).
fn insertion_point<N: YamlNode>(mapping: &N) -> Option<(usize, &'static str, bool)> {
    let (end, after_key) = last_end(*mapping)?;
    if end > 0 && mapping.source_text(end - 1..end) == "\n" {
        // A block scalar's range can end past its line break.
        let crlf = end > 1 && mapping.source_text(end - 2..end - 1) == "\r";
        return Some((end, if crlf { "\r\n" } else { "\n" }, true));
    }
    let rest = rest_of_line(mapping, end);
    let (content, line_break) = match rest.strip_suffix('\n') {
        Some(content) => match content.strip_suffix('\r') {
            Some(content) => (content, Some("\r\n")),
            None => (content, Some("\n")),
        },
        None => (rest.as_str(), None),
    };
    let mut content = content;
    if after_key {
        // `key:`, maybe with properties of a value that is empty (`key: !!null`, `key: &a`).
        content = content.strip_prefix(':')?;
        loop {
            content = content.trim_start_matches([' ', '\t']);
            if !content.starts_with(['!', '&']) {
                break;
            }
            content = content.trim_start_matches(|c: char| !matches!(c, ' ' | '\t'));
        }
    }
    let content = content.trim_start_matches([' ', '\t']);
    if !content.is_empty() && !content.starts_with('#') {
        return None;
    }
    match line_break {
        Some(eol) => Some((end + rest.len(), eol, true)),
        None => {
            // The text ends on this line: the break of the line before, if there is one.
            let (line_start, _) = line_before(mapping, end);
            let crlf = line_start > 1 && mapping.source_text(line_start - 2..line_start) == "\r\n";
            let eol = if crlf { "\r\n" } else { "\n" };
            Some((end + rest.len(), eol, false))
        }
    }
}

/// Where the last node under `node` ends, and whether that is a key without a value (whose `:`
/// follows). `None` when the last item of a list is missing (`- ` alone), or when it is a block
/// scalar that keeps its trailing blank lines (`|+`): lines inserted after them would be part of
/// it, before them would take them from it.
fn last_end<N: YamlNode>(mut node: N) -> Option<(usize, bool)> {
    loop {
        let start = node.range().start;
        node = match node.shape() {
            NodeShape::Mapping | NodeShape::Sequence
                if matches!(&*node.source_text(start..start + 1), "[" | "{") =>
            {
                // The trees disagree on where a flow collection ends (at its closing bracket, or
                // at its last child): read the text.
                return Some((flow_end(&node, start)?, false));
            }
            NodeShape::Mapping => {
                let pair = node.pairs().pop()?;
                match pair.value {
                    Some(value) if value.shape() != NodeShape::Empty => value,
                    _ => return Some((pair.key?.range().end, true)),
                }
            }
            NodeShape::Sequence => node.items().pop()??,
            _ if matches!(
                node.style(),
                Some(ScalarStyle::Literal | ScalarStyle::Folded)
            ) =>
            {
                let header = rest_of_line(&node, start);
                let indicators = header.split([' ', '\t', '#', '\r', '\n']).next()?;
                if indicators.contains('+') {
                    return None;
                }
                // Its last line with content: the trees disagree on whether the blank lines
                // after it are part of the scalar (they are dropped from its value).
                let text = node.source_text(start..node.range().end);
                let content = text.trim_end_matches([' ', '\t', '\r', '\n']);
                return Some((start + content.len(), false));
            }
            _ => return Some((node.range().end, false)),
        };
    }
}

/// Where the flow collection whose opening bracket is at `start` ends (past its closing one).
fn flow_end<N: YamlNode>(node: &N, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut offset = start;
    loop {
        let line = rest_of_line(node, offset);
        if line.is_empty() {
            return None;
        }
        let mut chars = line.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match (quote, c) {
                (Some('\''), '\'') if chars.peek().is_some_and(|(_, n)| *n == '\'') => {
                    chars.next();
                }
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                // A quote opens a scalar only where one starts (`it's` is plain).
                (None, '\'' | '"') if previous.is_whitespace() || "[{,:".contains(previous) => {
                    quote = Some(c);
                }
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(offset + i + 1);
                    }
                }
                (None, '#') if previous.is_whitespace() => break,
                (None, _) => {}
            }
            previous = c;
        }
        previous = '\n';
        offset += line.len();
    }
}

/// How many bytes to read at once; near the end of the text and at multi-byte characters, one
/// character is read at a time.
const CHUNK: usize = 64;

/// The character at `offset` (empty at the end of the text).
fn char_at<'n, N: YamlNode>(node: &'n N, offset: usize) -> Cow<'n, str> {
    (1..=4)
        .map(|len| node.source_text(offset..offset + len))
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

/// The character before `offset` (empty at the start of the text).
fn char_before<'n, N: YamlNode>(node: &'n N, offset: usize) -> Cow<'n, str> {
    (1..=4.min(offset))
        .map(|len| node.source_text(offset - len..offset))
        .find(|text| !text.is_empty())
        .unwrap_or_default()
}

/// The text from `offset` through the next line break, or to the end of the text.
fn rest_of_line<N: YamlNode>(node: &N, mut offset: usize) -> String {
    let mut out = String::new();
    loop {
        let chunk = node.source_text(offset..offset + CHUNK);
        let piece = if chunk.len() == CHUNK {
            chunk
        } else {
            char_at(node, offset)
        };
        if piece.is_empty() {
            return out;
        }
        if let Some(i) = piece.find('\n') {
            out.push_str(&piece[..=i]);
            return out;
        }
        offset += piece.len();
        out.push_str(&piece);
    }
}

/// Where the line holding `offset` starts, and its text up to `offset`.
fn line_before<N: YamlNode>(node: &N, mut offset: usize) -> (usize, String) {
    let mut pieces = Vec::new();
    while offset > 0 {
        let chunk = match offset.checked_sub(CHUNK) {
            Some(from) => node.source_text(from..offset),
            None => Cow::Borrowed(""),
        };
        let piece = if chunk.len() == CHUNK {
            chunk
        } else {
            char_before(node, offset)
        };
        if piece.is_empty() {
            break;
        }
        if let Some(i) = piece.rfind('\n') {
            let tail = piece[i + 1..].to_string();
            offset -= tail.len();
            pieces.push(tail);
            break;
        }
        offset -= piece.len();
        pieces.push(piece.into_owned());
    }
    pieces.reverse();
    (offset, pieces.concat())
}
