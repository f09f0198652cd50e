//! Block-YAML lines read one at a time, by indentation: each line's `- ` entries, its
//! `key: value` and its comment, and walks over the lines above or below a line. What the cursor
//! path and the `apiVersion`/`kind` of List items are read from, with no syntax tree.

/// A block-YAML line, read as far as paths need.
pub(super) struct Line<'a> {
    /// Document-relative offset of its first byte.
    pub(super) start: usize,
    pub(super) text: &'a str,
    pub(super) indent: usize,
    /// Columns of `- ` sequence entries before the content (`- - a` has two).
    pub(super) dashes: Vec<usize>,
    /// Column of what follows the dashes.
    pub(super) content: usize,
    pub(super) key: Option<LineKey<'a>>,
    pub(super) comment_start: Option<usize>,
    /// `---`, `...` or a `%` directive.
    pub(super) marker: bool,
}

pub(super) struct LineKey<'a> {
    pub(super) name: String,
    pub(super) column: usize,
    /// Column just after the key's text (before the colon and any spaces).
    pub(super) end: usize,
    pub(super) colon: usize,
    /// The value's text after the colon, without a trailing comment.
    pub(super) value: &'a str,
    pub(super) value_column: usize,
}

impl<'a> Line<'a> {
    pub(super) fn parse(start: usize, text: &'a str) -> Line<'a> {
        let bytes = text.as_bytes();
        let indent = bytes.iter().take_while(|&&b| b == b' ').count();
        let marker = indent == 0
            && (crate::yaml::split::marker_kind(bytes).is_some()
                || bytes.starts_with(b"---") && bytes.len() == 3);
        let mut dashes = Vec::new();
        let mut column = indent;
        if !marker {
            while bytes.get(column) == Some(&b'-')
                && matches!(bytes.get(column + 1), None | Some(b' '))
            {
                dashes.push(column);
                column += 1;
                column += bytes[column..].iter().take_while(|&&b| b == b' ').count();
            }
        }
        let comment_start = comment_start(text, column);
        let mut line = Line {
            start,
            text,
            indent,
            dashes,
            content: column,
            key: None,
            comment_start,
            marker,
        };
        if !marker && comment_start != Some(column) {
            line.key = line.parse_key(column);
        }
        line
    }

    /// Nothing on it but spaces or a comment (a `-` alone is an item: not blank).
    pub(super) fn is_blank(&self) -> bool {
        self.marker
            || self.dashes.is_empty()
                && (self.comment_start == Some(self.content)
                    || self.text[self.content..].trim().is_empty())
    }

    /// `key: value` starting at `column`, if the line has one there.
    fn parse_key(&self, column: usize) -> Option<LineKey<'a>> {
        let text = self.text;
        let rest = &text[column..];
        let (name, end) = match rest.as_bytes().first()? {
            quote @ (b'"' | b'\'') => {
                let close = closing_quote(rest, *quote)?;
                let inner = &rest[1..close];
                let name = if *quote == b'\'' {
                    inner.replace("''", "'")
                } else {
                    inner.replace("\\\"", "\"")
                };
                (name, column + close + 1)
            }
            b'{' | b'[' | b'?' | b'|' | b'>' | b'#' => return None,
            _ => {
                let limit = self.comment_start.unwrap_or(text.len());
                let colon = mapping_colon(&text[column..limit])?;
                let name = text[column..column + colon].trim_end();
                (name.to_string(), column + name.len())
            }
        };
        let after = &text[end..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        let colon = end + spaces;
        if text.as_bytes().get(colon) != Some(&b':')
            || !matches!(text.as_bytes().get(colon + 1), None | Some(b' ' | b'\t'))
        {
            return None;
        }
        let value_end = self.comment_start.unwrap_or(text.len()).max(colon + 1);
        let raw = &text[colon + 1..value_end];
        let value_column = colon + 1 + (raw.len() - raw.trim_start().len());
        Some(LineKey {
            name,
            column,
            end,
            colon,
            value: raw.trim(),
            value_column,
        })
    }

    /// Where the plain scalar starting at `column` ends (before a comment and trailing blanks).
    pub(super) fn plain_end(&self, column: usize) -> usize {
        let limit = self.comment_start.unwrap_or(self.text.len()).max(column);
        column + self.text[column..limit].trim_end().len()
    }

    /// Whether the content at `column` opens a flow collection.
    pub(super) fn flow_at(&self, column: usize) -> bool {
        self.text[column..].starts_with(['{', '['])
    }

    /// The last entry of this line that starts before `column`: the collection a node at
    /// `column` (on this line or below) belongs to.
    pub(super) fn entry_before(&self, column: usize) -> Option<Container> {
        if let Some(key) = self.key.as_ref().filter(|k| k.column < column) {
            return Some(Container::Key {
                name: key.name.clone(),
                column: key.column,
                block_scalar: key.value.starts_with(['|', '>']),
            });
        }
        self.dashes
            .iter()
            .rev()
            .find(|&&d| d < column)
            .map(|&column| Container::Item { column })
    }

    pub(super) fn key_at(&self, column: usize) -> Option<&LineKey<'a>> {
        self.key.as_ref().filter(|k| k.column == column)
    }
}

/// Column of a ` #` comment (or `#` at `from`), outside quotes.
fn comment_start(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut quote = None;
    for i in from..bytes.len() {
        match (quote, bytes[i]) {
            (None, b'#') if i == from || matches!(bytes[i - 1], b' ' | b'\t') => return Some(i),
            (None, q @ (b'"' | b'\'')) if i == from || matches!(bytes[i - 1], b' ' | b':') => {
                quote = Some(q)
            }
            (Some(b'"'), b'\\') => {}
            (Some(q), b) if b == q && !(q == b'"' && i > 0 && bytes[i - 1] == b'\\') => {
                quote = None
            }
            _ => {}
        }
    }
    None
}

fn closing_quote(text: &str, quote: u8) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b if b == quote => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The offset of the `:` that makes a plain `key: value`, if any.
fn mapping_colon(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')))
}

/// What a node is an entry of.
pub(super) enum Container {
    Key {
        name: String,
        column: usize,
        block_scalar: bool,
    },
    Item {
        column: usize,
    },
}

/// Calls `f` with each line below `line` that holds a key at `column` (and that key), up to the
/// end of their mapping or until `f` returns `true`.
pub(super) fn keys_below<'a>(
    text: &'a str,
    line: &Line<'_>,
    column: usize,
    mut f: impl FnMut(&Line<'a>, &LineKey<'a>) -> bool,
) {
    let mut start = line.start + line.text.len();
    while start < text.len() {
        start += if text[start..].starts_with("\r\n") {
            2
        } else {
            1
        };
        let end = text[start..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| start + i);
        let raw = &text[start..end];
        let indent = raw.bytes().take_while(|&b| b == b' ').count();
        if indent > column || indent == raw.len() {
            start = end;
            continue;
        }
        let below = Line::parse(start, raw);
        start = end;
        if below.is_blank() || below.indent == column && below.dashes.first() == Some(&column) {
            continue;
        }
        if below.indent < column {
            break;
        }
        if let Some(key) = below.key_at(column)
            && f(&below, key)
        {
            break;
        }
    }
}

/// The lines above a point, last first; lines deeper than asked are skipped unparsed.
pub(super) struct LinesAbove<'a> {
    text: &'a str,
    /// Start of the last line returned.
    pub(super) start: usize,
    last: Option<Line<'a>>,
}

impl<'a> LinesAbove<'a> {
    pub(super) fn new(text: &'a str, start: usize) -> Self {
        Self {
            text,
            start,
            last: None,
        }
    }

    /// The next line up that is indented `column` or less, parsed. Lines deeper than that and
    /// blank ones, which a walk up at `column` passes by, are skipped after a look at their
    /// first `column + 1` bytes, so a walk to the top of a long List or CRD stays one quick pass.
    pub(super) fn next_line(&mut self, column: usize) -> Option<&Line<'a>> {
        if self.start == 0 {
            return None;
        }
        let bytes = self.text.as_bytes();
        // The end of the line above the last one: before its `\n` or `\r\n`.
        let line_end = |start: usize| {
            let end = start - 1;
            if end > 0 && bytes[end] == b'\n' && bytes[end - 1] == b'\r' {
                end - 1
            } else {
                end
            }
        };
        let mut end = line_end(self.start);
        let mut breaks = memchr::memrchr2_iter(b'\n', b'\r', &bytes[..end]);
        let start = loop {
            let start = breaks.next().map_or(0, |i| i + 1);
            let deeper_or_blank = spaces_only(&bytes[start..end], column + 1);
            if !deeper_or_blank {
                break start;
            }
            if start == 0 {
                self.start = 0;
                return None;
            }
            end = line_end(start);
            if end + 1 < start {
                // The `\r` of a `\r\n`.
                breaks.next();
            }
        };
        self.start = start;
        self.last = Some(Line::parse(start, &self.text[start..end]));
        self.last.as_ref()
    }

    /// On the last line returned: the entry before `column` (the next container up, if any).
    pub(super) fn entry_before(&self, column: usize) -> Option<Container> {
        self.last.as_ref()?.entry_before(column)
    }
}

/// Whether the first `count` bytes of `line` (all of it when shorter) are spaces. Compared a
/// block at a time: a walk up a long CRD document looks at thousands of deeper lines.
fn spaces_only(line: &[u8], count: usize) -> bool {
    const SPACES: [u8; 64] = [b' '; 64];
    let head = &line[..line.len().min(count)];
    head.chunks(SPACES.len())
        .all(|chunk| chunk == &SPACES[..chunk.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_only_reads_the_first_bytes() {
        assert!(spaces_only(b"    key: x", 4));
        assert!(!spaces_only(b"    key: x", 5));
        assert!(
            spaces_only(b"  ", 10),
            "a blank line shorter than the count"
        );
        assert!(spaces_only(b"", 3));
        let deep = format!("{}x", " ".repeat(130));
        assert!(spaces_only(deep.as_bytes(), 130));
        assert!(!spaces_only(deep.as_bytes(), 131));
    }
}
