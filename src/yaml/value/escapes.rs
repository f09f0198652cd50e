//! The two double-quoted escapes on which libyaml (YAML 1.1, kubectl's) and saphyr (YAML 1.2)
//! disagree, made to read as kubectl reads them.

use std::borrow::Cow;
use std::ops::Range;

/// libyaml (YAML 1.1) and saphyr (YAML 1.2) disagree on two double-quoted
/// escapes: kubectl rejects `\/` and accepts `\'`. saphyr parses a copy of the
/// text in which each `\'` kubectl would accept is replaced by `\_` (same
/// length, decodes to U+00A0); those characters are turned back into `'`.
#[derive(Default)]
pub(super) struct EscapeShim {
    /// Byte offsets of the `'` of replaced `\'` escapes, ascending.
    replaced: Vec<usize>,
}

/// Enough rounds for any real manifest; a hostile one just keeps the error.
const MAX_SHIM_ROUNDS: usize = 64;

impl EscapeShim {
    pub(super) fn apply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.replaced.is_empty() {
            return Cow::Borrowed(text);
        }
        let mut bytes = text.as_bytes().to_vec();
        for &offset in &self.replaced {
            bytes[offset] = b'_';
        }
        Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned()))
    }

    /// Replaces the `\'` escapes of the double-quoted scalar starting at or
    /// after `start`; false when there are none (the error is real).
    pub(super) fn substitute_in_scalar_at(&mut self, text: &str, start: usize) -> bool {
        if self.replaced.len() >= MAX_SHIM_ROUNDS {
            return false;
        }
        let Some(escapes) = double_quoted_escapes(text, start) else {
            return false;
        };
        let before = self.replaced.len();
        for escape in escapes {
            if escape.letter == '\'' && !self.replaced.contains(&escape.offset) {
                self.replaced.push(escape.offset);
            }
        }
        self.replaced.sort_unstable();
        self.replaced.len() > before
    }

    /// Applies libyaml's rules to saphyr's `decoded` value of the double-quoted scalar at `range`
    /// of `text`: `\/` is an error (its message and range), and each replaced `\'` is a `'` again.
    pub(super) fn check_double_quoted<'e>(
        &self,
        text: &str,
        decoded: Cow<'e, str>,
        range: &Range<usize>,
    ) -> Result<Cow<'e, str>, (&'static str, Range<usize>)> {
        if !text
            .get(range.clone())
            .is_some_and(|raw| raw.contains('\\'))
        {
            return Ok(decoded);
        }
        let escapes = double_quoted_escapes(text, range.start).unwrap_or_default();
        if let Some(slash) = escapes.iter().find(|escape| escape.letter == '/') {
            let message = "found unknown escape character '\\/' (YAML 1.1, which kubectl uses, has no \\/ escape)";
            return Err((message, slash.offset - 1..slash.offset + 1));
        }
        let substituted = |escape: &&Escape| self.replaced.binary_search(&escape.offset).is_ok();
        if !escapes.iter().any(|escape| substituted(&escape)) {
            return Ok(decoded);
        }
        // Each U+00A0 in the decoded text comes, in order, from one of these sources.
        let mut sources = escapes.iter().filter(|escape| {
            escape.letter == '\u{a0}'
                || escape.letter == '_'
                || substituted(escape)
                || escape.code_point == Some(0xA0)
        });
        let restored = decoded
            .chars()
            .map(|c| match c {
                '\u{a0}' if sources.next().is_some_and(|escape| substituted(&escape)) => '\'',
                c => c,
            })
            .collect();
        Ok(Cow::Owned(restored))
    }
}

/// One escape of a double-quoted scalar: the byte offset of the character
/// after the backslash, that character, and for `\x`/`\u`/`\U` its code point.
struct Escape {
    offset: usize,
    letter: char,
    code_point: Option<u32>,
}

/// The escapes of the double-quoted scalar whose opening quote is the first
/// `"` at or after `start`, plus raw U+00A0 characters (reported with letter
/// U+00A0), in source order. None if there is no such scalar.
fn double_quoted_escapes(text: &str, start: usize) -> Option<Vec<Escape>> {
    let open = start + text.get(start..)?.find('"')?;
    let mut escapes = Vec::new();
    let mut chars = text[open + 1..].char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '"' => return Some(escapes),
            '\u{a0}' => escapes.push(Escape {
                offset: open + 1 + index,
                letter: c,
                code_point: None,
            }),
            '\\' => {
                let Some((letter_index, letter)) = chars.next() else {
                    break;
                };
                let width = match letter {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    _ => 0,
                };
                let rest = &text[open + 1 + letter_index + 1..];
                let code_point = (width > 0)
                    .then(|| rest.get(..width))
                    .flatten()
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                escapes.push(Escape {
                    offset: open + 1 + letter_index,
                    letter,
                    code_point,
                });
            }
            _ => {}
        }
    }
    Some(escapes)
}
