//! The span tree's fast path: one pass over the lines of the block YAML that manifests are
//! written in, several times quicker than saphyr's scanner and parser (which build tokens and
//! events for the general case).
//!
//! It takes block mappings with plain keys, block sequences, plain and quoted scalars (over
//! several lines too; double-quoted ones without escapes), `|`/`>` block scalars, `[]`/`{}` and
//! comments, and feeds the builder the nodes saphyr's events give (the same tree: tested over
//! the corpus and on random text). On anything else it gives up and saphyr parses the text:
//! anchors, aliases, tags, flow collections with items, escapes, tabs, carriage returns,
//! directives, a second document, and every syntax error (saphyr reports it).

use std::borrow::Cow;

use super::{Builder, SpanKind, SpanTree};
use crate::yaml::scalar::ScalarStyle;

/// saphyr's simple keys end at 1,024 characters: longer ones are saphyr's to report.
const LONGEST_KEY: usize = 1000;
/// Nesting the fast path follows (it recurses); deeper text is saphyr's.
const DEEPEST: usize = 100;

/// The tree of `text`, or None when the fast path does not take it.
pub(super) fn parse(text: &str) -> Option<SpanTree> {
    if !has_only_fast_bytes(text.as_bytes()) {
        return None;
    }
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        builder: Builder::with_byte_offsets(text),
        depth: 0,
    };
    scanner.document()?;
    Some(scanner.builder.finish())
}

/// No control character but the line feed (saphyr reads `\0` as the end and `\r` and `\t` have
/// rules of their own), and no byte order mark.
fn has_only_fast_bytes(bytes: &[u8]) -> bool {
    let controls = bytes.chunks(64).any(|chunk| {
        chunk
            .iter()
            .fold(false, |found, &b| found | (b < 0x20 && b != b'\n'))
    });
    !controls && memchr::memmem::find(bytes, "\u{FEFF}".as_bytes()).is_none()
}

/// A line: where it starts, its indentation (spaces), and where its line feed (or the end) is.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    indent: usize,
    end: usize,
}

impl Line {
    /// Where the line's content starts.
    fn content(&self) -> usize {
        self.start + self.indent
    }
}

/// What a block node leaves: the next line with content after it (None at the end of the text),
/// or None itself when the fast path gives up.
type After = Option<Option<Line>>;

struct Scanner<'t> {
    bytes: &'t [u8],
    builder: Builder<'t>,
    depth: usize,
}

impl<'t> Scanner<'t> {
    fn at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(offset).copied()
    }

    fn text(&self, range: std::ops::Range<usize>) -> &'t str {
        &self.builder.offsets.text[range]
    }

    /// Whether `offset` ends a token: a space, a line feed or the end.
    fn ends_token(&self, offset: usize) -> bool {
        matches!(self.at(offset), None | Some(b' ' | b'\n'))
    }

    fn line_at(&self, start: usize) -> Line {
        let end =
            memchr::memchr(b'\n', &self.bytes[start..]).map_or(self.bytes.len(), |i| start + i);
        let indent = self.bytes[start..end]
            .iter()
            .take_while(|&&b| b == b' ')
            .count();
        Line { start, indent, end }
    }

    /// The first line from `start` with content (not blank, not only a comment).
    fn next_content(&self, mut start: usize) -> Option<Line> {
        while start < self.bytes.len() {
            let line = self.line_at(start);
            if !matches!(self.at(line.content()), None | Some(b'\n' | b'#')) {
                return Some(line);
            }
            start = line.end + 1;
        }
        None
    }

    /// The line after `line`'s end, with content.
    fn next_content_after(&self, line_end: usize) -> Option<Line> {
        self.next_content(line_end + 1)
    }

    fn skip_spaces(&self, mut offset: usize) -> usize {
        while self.at(offset) == Some(b' ') {
            offset += 1;
        }
        offset
    }

    /// The end of the line `offset` is on when only spaces and a comment follow it.
    fn rest_is_empty(&self, offset: usize) -> Option<usize> {
        let at = self.skip_spaces(offset);
        match self.at(at) {
            None => Some(at),
            Some(b'\n') => Some(at),
            Some(b'#') if at > offset => Some(self.line_at(at).end),
            _ => None,
        }
    }

    /// Whether `offset` holds a block sequence's `-` (followed by a space or the line's end).
    fn is_dash(&self, offset: usize) -> bool {
        self.at(offset) == Some(b'-') && self.ends_token(offset + 1)
    }

    fn document(&mut self) -> Option<()> {
        let mut first = self.next_content(0);
        if let Some(line) = first
            && line.indent == 0
            && self.bytes[line.start..].starts_with(b"---")
            && self.ends_token(line.start + 3)
        {
            // `---` alone on its line, then content (an empty explicit document is saphyr's).
            self.rest_is_empty(line.start + 3)?;
            first = Some(self.next_content_after(line.end)?);
        }
        let Some(line) = first else {
            return Some(());
        };
        // A line left after the root node (a second document, a dedent) is saphyr's.
        self.block_node(line)?.is_none().then_some(())
    }

    /// The block mapping or sequence whose first line is `line`.
    fn block_node(&mut self, line: Line) -> After {
        self.nested(|scanner| {
            if scanner.is_dash(line.content()) {
                scanner.sequence(line, false)
            } else {
                scanner.mapping(line.content(), line.indent)
            }
        })
    }

    /// `read` one level deeper (None past [`DEEPEST`]).
    fn nested(&mut self, read: impl FnOnce(&mut Self) -> After) -> After {
        self.depth += 1;
        if self.depth > DEEPEST {
            return None;
        }
        let after = read(self);
        self.depth -= 1;
        after
    }

    /// A block mapping whose first key is at `key`, its keys `indent` columns in.
    fn mapping(&mut self, mut key: usize, indent: usize) -> After {
        self.builder.open(SpanKind::Mapping, key, None);
        loop {
            if self.bytes[key..].starts_with(b"..") {
                return None;
            }
            let colon = self.key_end(key)?;
            self.builder
                .scalar(ScalarStyle::Plain, key..colon, self.text(key..colon), None);
            let next = self.value(colon + 1, Some(colon), indent)?;
            match next {
                Some(line) if line.indent == indent && !self.is_dash(line.content()) => {
                    key = line.content();
                }
                Some(line) if line.indent >= indent => return None,
                _ => {
                    self.builder.close(None);
                    return Some(next);
                }
            }
        }
    }

    /// The end of a plain key starting at `key` (where its `:` is), when the line is `key: …`.
    fn key_end(&self, key: usize) -> Option<usize> {
        let first = self.at(key)?;
        if !(first.is_ascii_alphanumeric() || matches!(first, b'_' | b'.' | b'/') || first >= 0x80)
        {
            return None;
        }
        let mut at = key + 1;
        loop {
            match self.at(at)? {
                b':' if self.ends_token(at + 1) => break,
                b if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-') => {}
                b if b >= 0x80 => {}
                _ => return None,
            }
            at += 1;
        }
        (at - key <= LONGEST_KEY).then_some(at)
    }

    /// A block sequence whose first `-` starts `first`; `indentless` when it is a mapping's
    /// value at the mapping's own indentation (saphyr starts those at their first item).
    fn sequence(&mut self, first: Line, indentless: bool) -> After {
        let indent = first.indent;
        let start = if indentless {
            // Where the first item's content starts, when it is on the dash's line.
            let item = self.skip_spaces(first.content() + 1);
            if matches!(self.at(item), None | Some(b'\n' | b'#' | b'|' | b'>')) {
                return None;
            }
            item
        } else {
            first.content()
        };
        self.builder.open(SpanKind::Sequence, start, None);
        let mut line = first;
        loop {
            let dash = line.content();
            let item = self.skip_spaces(dash + 1);
            let next = if self.is_dash(item) {
                return None;
            } else if !matches!(self.at(item), None | Some(b'\n' | b'#'))
                && self.key_end(item).is_some()
            {
                let column = item - line.start;
                self.nested(|scanner| scanner.mapping(item, column))?
            } else {
                self.value(dash + 1, None, indent)?
            };
            match next {
                Some(next) if next.indent == indent && self.is_dash(next.content()) => line = next,
                Some(next) if next.indent == indent && indentless => {
                    self.builder.close(None);
                    return Some(Some(next));
                }
                Some(next) if next.indent >= indent => return None,
                _ => {
                    self.builder.close(None);
                    return Some(next);
                }
            }
        }
    }

    /// The value after a `:` or `-` ending at `from`, in a collection `indent` columns in: on
    /// this line, on the lines below, or empty. In a mapping (`colon` is the key's `:`) a `-` at
    /// `indent` below starts the value (an indentless sequence), and saphyr puts an empty
    /// value at the colon; in a sequence at the end of the dash's line.
    fn value(&mut self, from: usize, colon: Option<usize>, indent: usize) -> After {
        let at = self.skip_spaces(from);
        match self.at(at) {
            None | Some(b'\n' | b'#') => {
                let line_end = self.rest_is_empty(from)?;
                let next = self.next_content_after(line_end);
                match next {
                    Some(line) if line.indent > indent => self.block_node(line),
                    Some(line)
                        if line.indent == indent
                            && colon.is_some()
                            && self.is_dash(line.content()) =>
                    {
                        self.sequence(line, true)
                    }
                    _ => {
                        let empty_at = colon.unwrap_or(line_end);
                        self.builder
                            .scalar(ScalarStyle::Plain, empty_at..empty_at, "", None);
                        Some(next)
                    }
                }
            }
            Some(b'|' | b'>') => self.block_scalar(at, indent),
            Some(open @ (b'[' | b'{')) => {
                let (close, kind) = match open {
                    b'[' => (b']', SpanKind::Sequence),
                    _ => (b'}', SpanKind::Mapping),
                };
                if self.at(at + 1) != Some(close) {
                    return None;
                }
                // saphyr ends an empty flow collection with its line (spaces and comment too).
                let line_end = self.rest_is_empty(at + 2)?;
                self.builder.open(kind, at, None);
                self.builder.close(Some(line_end));
                self.line_done(at + 2, indent)
            }
            Some(b'"' | b'\'') => self.quoted(at, indent),
            Some(b'-') if self.ends_token(at + 1) => None,
            Some(b'-') => self.plain(at, indent),
            Some(first) if is_indicator(first) => None,
            Some(_) => self.plain(at, indent),
        }
    }

    /// A plain scalar from `start`, on its line and the deeper lines that continue it.
    fn plain(&mut self, start: usize, indent: usize) -> After {
        let (mut end, mut commented) = self.plain_line(start)?;
        let mut folded: Option<String> = None;
        while !commented {
            let Some((line, blank_lines)) = self.continuation(end, indent) else {
                break;
            };
            let (line_end, line_commented) = self.plain_line(line.content())?;
            let value = folded.get_or_insert_with(|| self.text(start..end).to_string());
            match blank_lines {
                0 => value.push(' '),
                blank => value.extend(std::iter::repeat_n('\n', blank)),
            }
            value.push_str(self.text(line.content()..line_end));
            (end, commented) = (line_end, line_commented);
        }
        let value = folded.as_deref().unwrap_or(self.text(start..end));
        self.builder
            .scalar(ScalarStyle::Plain, start..end, value, None);
        self.line_done(end, indent)
    }

    /// Where a plain scalar's content on its line from `start` ends (its last non-space), and
    /// whether a comment follows; None at a `: ` (a key where a value was expected: saphyr's).
    fn plain_line(&self, start: usize) -> Option<(usize, bool)> {
        let mut at = start;
        let mut end = start;
        while let Some(b) = self.at(at) {
            match b {
                b'\n' => break,
                b':' if self.ends_token(at + 1) => return None,
                b'#' if at > start && self.at(at - 1) == Some(b' ') => return Some((end, true)),
                b' ' => {}
                _ => end = at + 1,
            }
            at += 1;
        }
        Some((end, false))
    }

    /// The line that continues a plain scalar ending at `end` (deeper than the collection,
    /// not a comment), after how many blank lines.
    fn continuation(&self, end: usize, indent: usize) -> Option<(Line, usize)> {
        let mut at = memchr::memchr(b'\n', &self.bytes[end..])? + end + 1;
        let mut blank_lines = 0;
        while at < self.bytes.len() {
            let line = self.line_at(at);
            if line.content() != line.end {
                let continues = line.indent > indent && self.at(line.content()) != Some(b'#');
                return continues.then_some((line, blank_lines));
            }
            blank_lines += 1;
            at = line.end + 1;
        }
        None
    }

    /// A single- or double-quoted scalar opening at `open`, on one line or folded over several
    /// (deeper than the collection). Double-quoted ones with escapes are saphyr's.
    fn quoted(&mut self, open: usize, indent: usize) -> After {
        let quote = self.bytes[open];
        let mut at = open + 1;
        let (mut doubled, mut lines) = (false, false);
        let close = loop {
            match self.at(at)? {
                b'\\' if quote == b'"' => return None,
                b'\'' if quote == b'\'' && self.at(at + 1) == Some(b'\'') => {
                    doubled = true;
                    at += 1;
                }
                b if b == quote => break at,
                b'\n' => lines = true,
                _ => {}
            }
            at += 1;
        };
        let inner = self.text(open + 1..close);
        let mut value = if lines {
            Cow::Owned(fold_quoted_lines(inner, indent)?)
        } else {
            Cow::Borrowed(inner)
        };
        if doubled {
            value = Cow::Owned(value.replace("''", "'"));
        }
        let style = if quote == b'"' {
            ScalarStyle::DoubleQuoted
        } else {
            ScalarStyle::SingleQuoted
        };
        self.builder.scalar(style, open..close + 1, &value, None);
        self.line_done(close + 1, indent)
    }

    /// After a value that ends its line at `end`: only spaces and a comment may follow, and the
    /// next line with content may not be deeper than the collection (it would continue the
    /// scalar, or be an error).
    fn line_done(&self, end: usize, indent: usize) -> After {
        let line_end = self.rest_is_empty(end)?;
        let next = self.next_content_after(line_end);
        match next {
            Some(line) if line.indent > indent => None,
            _ => Some(next),
        }
    }

    /// A `|` or `>` block scalar whose header is at `header`, in a collection `indent` columns
    /// in. Clip (`|`) and strip (`|-`) chomping; no indentation indicator, no keep (`|+`).
    fn block_scalar(&mut self, header: usize, indent: usize) -> After {
        let folded = self.at(header) == Some(b'>');
        let mut after_header = header + 1;
        let strip = self.at(after_header) == Some(b'-');
        if strip {
            after_header += 1;
        }
        if !self.ends_token(after_header) {
            return None;
        }
        let header_end = self.rest_is_empty(after_header)?;
        let body = self.block_lines(header_end + 1, indent, folded)?;
        let mut value = String::new();
        let mut blank_run = 0;
        for (index, line) in body.lines.iter().enumerate() {
            let Some(line) = line else {
                blank_run += 1;
                continue;
            };
            if index > 0 {
                match (folded, blank_run) {
                    (true, 0) => value.push(' '),
                    (true, blank) => value.extend(std::iter::repeat_n('\n', blank)),
                    (false, blank) => value.extend(std::iter::repeat_n('\n', blank + 1)),
                }
            }
            blank_run = 0;
            value.push_str(self.text(line.start + body.indent..line.end));
        }
        if !strip {
            value.push('\n');
        }
        let style = if folded {
            ScalarStyle::Folded
        } else {
            ScalarStyle::Literal
        };
        self.builder
            .scalar(style, body.start..body.end, &value, None);
        Some(body.next)
    }

    /// The lines of a block scalar's body from `start`, in a collection `indent` columns in.
    fn block_lines(&self, start: usize, indent: usize, folded: bool) -> Option<BlockBody> {
        let mut lines: Vec<Option<Line>> = Vec::new();
        let mut body_indent = None;
        let mut at = start;
        let mut next = None;
        while at < self.bytes.len() {
            let line = self.line_at(at);
            let blank = line.start + line.indent == line.end;
            match body_indent {
                _ if blank => {
                    // Left to saphyr: spaces beyond the body's indentation (content, or an
                    // error before the first line), and spaces on a last line without a line
                    // feed (saphyr counts a break there).
                    let last_spaces = line.end == self.bytes.len() && line.indent > 0;
                    if line.indent > body_indent.unwrap_or(indent + 1) || last_spaces {
                        return None;
                    }
                    lines.push(None);
                }
                None if line.indent > indent => {
                    body_indent = Some(line.indent);
                    lines.push(Some(line));
                }
                // A folded scalar's more indented lines keep their breaks: saphyr's.
                Some(body) if line.indent > body && folded => return None,
                Some(body) if line.indent >= body => lines.push(Some(line)),
                _ => {
                    next = self.next_content(line.start);
                    break;
                }
            }
            at = line.end + 1;
        }
        let body_indent = body_indent?;
        while lines.last().is_some_and(Option::is_none) {
            lines.pop();
        }
        let first = lines.first().copied().flatten()?;
        let last = lines.last().copied().flatten()?;
        if next.is_some_and(|line| line.indent > indent) {
            return None;
        }
        Some(BlockBody {
            start: first.start + body_indent,
            end: last.end,
            indent: body_indent,
            lines,
            next,
        })
    }
}

/// A block scalar's body: its lines (None for blank ones), their indentation, and the first
/// line with content after it.
struct BlockBody {
    start: usize,
    end: usize,
    indent: usize,
    lines: Vec<Option<Line>>,
    next: Option<Line>,
}

/// A quoted scalar's value over several lines: each break folds into a space, blank lines
/// into line feeds, and the spaces around breaks go. None when a line is not deeper than the
/// collection (`indent`) or the first or last line holds nothing (saphyr's).
fn fold_quoted_lines(inner: &str, indent: usize) -> Option<String> {
    let mut lines = inner.split('\n');
    let first = lines.next()?.trim_end_matches(' ');
    if first.is_empty() {
        return None;
    }
    let mut value = first.to_string();
    let mut blank_lines = 0;
    let mut rest = lines.peekable();
    while let Some(line) = rest.next() {
        let last = rest.peek().is_none();
        let content = line.trim_start_matches(' ');
        if content.is_empty() && !last {
            blank_lines += 1;
            continue;
        }
        if content.is_empty() || line.len() - content.len() <= indent {
            return None;
        }
        match blank_lines {
            0 => value.push(' '),
            blank => value.extend(std::iter::repeat_n('\n', blank)),
        }
        blank_lines = 0;
        value.push_str(if last {
            content
        } else {
            content.trim_end_matches(' ')
        });
    }
    Some(value)
}

/// Characters that cannot start a plain scalar (`-` is handled apart).
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'?' | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::random_text::{PIECES, Rng};

    /// Whether the fast path took `text`; when it did, its tree must be saphyr's, without error.
    fn taken_as_saphyr_does(text: &str) -> bool {
        let Some(fast) = parse(text) else {
            return false;
        };
        let (saphyr, error) = SpanTree::parse_saphyr_events(text);
        assert!(
            error.is_none(),
            "the fast path took text saphyr rejects ({error:?}):\n{text}"
        );
        assert_eq!(fast.roots, saphyr.roots, "{text}");
        for (index, (a, b)) in fast.nodes.iter().zip(&saphyr.nodes).enumerate() {
            assert_eq!(a, b, "node {index} of\n{text}");
        }
        assert_eq!(fast.nodes.len(), saphyr.nodes.len(), "{text}");
        assert_eq!(fast.values, saphyr.values, "{text}");
        assert_eq!(fast.tags, saphyr.tags, "{text}");
        true
    }

    #[test]
    fn block_manifests_take_the_fast_path_and_the_rest_is_left_to_saphyr() {
        let taken = [
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web # the name\n  labels: {}\n",
            "---\n# c\nspec:\n  containers:\n  - name: a\n    args: [] \n  -\n  - 'it''s'\n",
            "a:\n  - x\n  -   b: \"q\"\n      c:\n  - |\n    one\n\n    two\nd: >-\n  p\n  q\n",
            "  b: 1\n  c:\n    - x\n",
            "key: value#not-a-comment\nurl: http://x:80/y\nnote: café\n",
            "description: one\n  two\n\n  three # c\nnext:\n- a\n  b\n- 'c''s\n  d'\n- e\n  - \"f\" [g]\n",
            "# only a comment\n",
            "",
        ];
        for text in taken {
            assert!(taken_as_saphyr_does(text), "not taken:\n{text}");
        }
        let left = [
            "a: &x 1\nb: *x\n",
            "a: !t 1\n",
            "a: [1, 2]\n",
            "a: \"b\n\n  c\\\"\"\n",
            "a: b # c\n  d\n",
            "a: \"x\\ty\"\n",
            "a:\tb\n",
            "a: b\r\n",
            "%YAML 1.2\n---\na: 1\n",
            "a: 1\n---\nb: 2\n",
            "---\n",
            "a: 1\nb\n",
            "a: b: c\n",
            "a:\n    b: 1\n  c: 2\n",
            "? a\n: b\n",
            "- - a\n",
            "a: |+\n  x\n",
            "a: |2\n  x\n",
            "just a scalar\n",
        ];
        for text in left {
            assert!(parse(text).is_none(), "taken:\n{text}");
        }
    }

    #[test]
    fn the_fast_path_builds_saphyrs_tree_for_the_corpus_documents_it_takes() {
        let documents = crate::yaml::corpus::documents();
        let taken = documents
            .iter()
            .filter(|(_, text)| taken_as_saphyr_does(text))
            .count();
        // Most real manifests are block YAML: the fast path must not quietly give them up.
        assert!(
            taken * 10 >= documents.len() * 9,
            "{taken} of {} taken",
            documents.len()
        );
    }

    #[test]
    fn every_document_of_the_real_manifests_takes_the_fast_path() {
        for file in ["real/argocd-install.yaml", "real/microservices-demo.yaml"] {
            let text = crate::yaml::corpus::read(file);
            for range in crate::yaml::split::split(&text).documents {
                let document = &text[range.clone()];
                assert!(taken_as_saphyr_does(document), "{file}@{range:?} not taken");
            }
        }
    }

    /// Lines the fast path reads or must give up on, at random indentations.
    const LINES: &[&str] = &[
        "a: 1",
        "b:",
        "c: x y",
        "- d",
        "-",
        "- e: f",
        "- g:",
        "h: 'i''j'",
        "k: \"l m\"",
        "n: []",
        "o: {}",
        "p: |",
        "q: >-",
        "r: |-",
        "text",
        "  more",
        "# c",
        "s: t # c",
        "u: v#w",
        "",
        "-x",
        ".y: z",
        "a.b/c-d: e",
        "f: -1",
        "g: :x",
        "h: \"x",
        "i: 'x",
        "j: [",
        "k: x:",
        "l: \"a\" b",
        "m: 'a'#",
        "---",
        "...",
        "n: >",
        "- |",
        "- []",
        "- 'q'",
        "o:   ",
        "p: |  # c",
        "ü: ö",
    ];

    #[test]
    fn the_fast_path_builds_saphyrs_tree_or_gives_up_on_random_text() {
        let seed = std::env::var("KUBE_LSP_FAST_SEED").map_or(7, |s| s.parse().unwrap());
        let mut rng = Rng::new(seed);
        let cases = std::env::var("KUBE_LSP_FAST_CASES").map_or(40_000, |s| s.parse().unwrap());
        let mut taken = 0;
        for _ in 0..cases {
            let mut text = String::new();
            let mut indent = 0usize;
            for _ in 0..1 + rng.below(10) {
                // Mostly a step of two from the line before, as manifests are written.
                indent = match rng.below(8) {
                    0 => rng.below(7),
                    1 | 2 => indent.saturating_sub(2 + 2 * rng.below(2)),
                    3 | 4 => indent + 2,
                    _ => indent,
                };
                text.push_str(&" ".repeat(indent));
                text.push_str(LINES[rng.below(LINES.len())]);
                if rng.below(12) == 0 {
                    text.push_str(PIECES[rng.below(PIECES.len())]);
                }
                if rng.below(10) != 0 {
                    text.push('\n');
                }
            }
            taken += usize::from(taken_as_saphyr_does(&text));
        }
        assert!(taken * 20 > cases, "only {taken} of {cases} taken");
    }

    /// Block YAML printed from a random tree, in the styles manifests use.
    fn random_block(rng: &mut Rng, out: &mut String, indent: usize, depth: usize) {
        let pad = " ".repeat(indent);
        let sequence = rng.below(3) == 0;
        for entry in 0..1 + rng.below(4) {
            match rng.below(10) {
                0 => out.push_str(&format!("{pad}# note\n")),
                1 => out.push('\n'),
                _ => {}
            }
            let (head, inner) = if sequence {
                (format!("{pad}-"), indent + 2)
            } else {
                (format!("{pad}k{entry}.x/y-{}:", rng.below(3)), indent + 2)
            };
            out.push_str(&head);
            if depth < 4 && rng.below(3) == 0 {
                match (sequence, rng.below(3)) {
                    // A mapping on the dash's line.
                    (true, 0) => {
                        out.push(' ');
                        let mut item = String::new();
                        random_block(rng, &mut item, inner, depth + 1);
                        out.push_str(item.trim_start());
                    }
                    // An indentless sequence.
                    (false, 0) if !item_is_blank_start(rng) => {
                        out.push('\n');
                        random_sequence_items(rng, out, indent, depth + 1);
                    }
                    _ => {
                        out.push_str(if rng.below(4) == 0 { "  # c\n" } else { "\n" });
                        let deeper = inner + 2 * rng.below(2);
                        random_block(rng, out, deeper, depth + 1);
                    }
                }
                continue;
            }
            let scalar = [
                " plain value",
                " \"quoted\"",
                " 'it''s'",
                "",
                " []",
                " {}  # empty",
                " 80",
                " café # note",
                " a#b",
                " -1",
                "   ",
            ];
            match rng.below(14) {
                3 => {
                    let body = " ".repeat(inner + rng.below(2));
                    let blank = ["", "\n", "\n  \n"][rng.below(3)];
                    let quote = ["'", "\""][rng.below(2)];
                    out.push_str(&format!(
                        " {quote}first 'words \n{blank}{body}second line {quote}\n"
                    ));
                }
                2 => {
                    let body = " ".repeat(inner + rng.below(2));
                    let blank = ["", "\n", "\n  \n"][rng.below(3)];
                    let starts = [
                        "second",
                        "\"2m\", x",
                        "- dash",
                        "-x",
                        "[x]",
                        "&a",
                        "*b",
                        "!t",
                        "|",
                        ">",
                        "%",
                        "@",
                        "'q'",
                        "{y}",
                        "? q",
                        ": c",
                        ",d",
                        "---",
                        "...",
                        "# c",
                    ];
                    let start = starts[rng.below(starts.len())];
                    out.push_str(&format!(" first words\n{blank}{body}{start} line  \n"));
                }
                0 | 1 => {
                    let header = ["|", "|-", ">", ">-"][rng.below(4)];
                    let body = " ".repeat(inner + rng.below(2));
                    out.push_str(&format!(" {header}\n{body}line one\n{body}line: two # x\n"));
                    if rng.below(2) == 0 {
                        out.push_str(&format!("\n{body}after a blank\n\n"));
                    }
                }
                _ => {
                    out.push_str(scalar[rng.below(scalar.len())]);
                    out.push('\n');
                }
            }
        }
    }

    fn item_is_blank_start(rng: &mut Rng) -> bool {
        rng.below(5) == 0
    }

    fn random_sequence_items(rng: &mut Rng, out: &mut String, indent: usize, depth: usize) {
        let pad = " ".repeat(indent);
        for _ in 0..1 + rng.below(3) {
            out.push_str(&format!("{pad}- "));
            if depth < 4 && rng.below(2) == 0 {
                let mut item = String::new();
                random_block(rng, &mut item, indent + 2, depth + 1);
                out.push_str(item.trim_start());
            } else {
                out.push_str("item\n");
            }
        }
    }

    #[test]
    fn the_fast_path_builds_saphyrs_tree_or_gives_up_on_random_block_yaml() {
        let seed = std::env::var("KUBE_LSP_FAST_SEED").map_or(11, |s| s.parse().unwrap());
        let cases = std::env::var("KUBE_LSP_FAST_CASES").map_or(20_000, |s| s.parse().unwrap());
        let mut rng = Rng::new(seed);
        let (mut taken, mut mutated) = (0, 0);
        for _ in 0..cases {
            let mut text = String::new();
            if rng.below(4) == 0 {
                text.push_str("---\n");
            }
            let indent = 2 * rng.below(2);
            random_block(&mut rng, &mut text, indent, 0);
            if rng.below(3) == 0 {
                let at = crate::text::random_text::boundary(&text, rng.below(text.len() + 1));
                match rng.below(2) {
                    0 => text.insert_str(at, PIECES[rng.below(PIECES.len())]),
                    _ => {
                        let end = crate::text::random_text::boundary(&text, at + rng.below(8));
                        text.replace_range(at..end.max(at), "");
                    }
                }
                mutated += 1;
            }
            taken += usize::from(taken_as_saphyr_does(&text));
        }
        assert!(
            taken * 2 > cases,
            "only {taken} of {cases} taken ({mutated} mutated)"
        );
    }
}
