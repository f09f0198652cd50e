//! Formatting YAML files: pretty_yaml (dprint's YAML formatter) on each document, behind guards
//! that keep a document as it is unless its formatted text means the same (the same JSON value),
//! keeps every comment and formats to itself again. A file with a syntax error or with Helm
//! template actions is never formatted. Answers are minimal edits (changed lines only).

mod cache;
mod edits;
mod guard;
mod on_type;
mod post;

use std::ops::Range;

pub use cache::Cache;
pub use edits::line_edits;
pub use on_type::newline_indent;

/// How a formatted document is printed (the `format` settings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatOptions {
    /// Spaces per indentation level.
    pub indent: usize,
    /// `key:` followed by `  - item` (true) or `- item` under the key's column (false).
    pub indent_sequences: bool,
    pub quotes: QuoteStyle,
    /// The width flow collections and long lines are fitted to.
    pub line_width: usize,
    /// Whether a blank line between entries stays (runs of them become one).
    pub keep_blank_lines: bool,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            indent: 2,
            indent_sequences: true,
            quotes: QuoteStyle::Preserve,
            line_width: 80,
            keep_blank_lines: true,
        }
    }
}

/// Which quotes quoted scalars get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuoteStyle {
    /// Each keeps its own.
    Preserve,
    /// Double quotes where the content allows the change without escaping.
    Double,
    /// Single quotes where the content allows the change without escaping.
    Single,
}

impl QuoteStyle {
    pub fn from_name(name: &str) -> Option<QuoteStyle> {
        match name {
            "preserve" => Some(QuoteStyle::Preserve),
            "double" => Some(QuoteStyle::Double),
            "single" => Some(QuoteStyle::Single),
            _ => None,
        }
    }
}

/// What formatting a file gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Formatted {
    /// The file's formatted text; documents the formatter could not be trusted with are as
    /// they were (their start offsets in the original text are listed in `kept`); `changed`
    /// holds each document that changed: its range in the original text and its new text.
    Text {
        text: String,
        kept: Vec<usize>,
        changed: Vec<(Range<usize>, String)>,
    },
    /// Left alone as a whole, and why.
    LeftAlone(&'static str),
}

/// Formats `text` (a whole file) document by document.
pub fn format(text: &str, options: &FormatOptions) -> Formatted {
    format_with(text, options, None)
}

/// [`format`], with the outcomes of documents formatted before kept in `cache`.
pub fn format_with(text: &str, options: &FormatOptions, cache: Option<&Cache>) -> Formatted {
    if crate::yaml::detect::template_action_in(text).is_some() {
        return Formatted::LeftAlone("Helm template actions");
    }
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(body) => ("\u{feff}", body),
        None => ("", text),
    };
    let documents = crate::yaml::split::split(body).documents;
    let last = documents.len().saturating_sub(1);
    let outcomes = each_document(body, &documents, |document| match cache {
        Some(cache) => cache.outcome(document, options),
        None => guard::format_document(document, options),
    });
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    out.push_str(bom);
    let mut kept = Vec::new();
    let mut changed = Vec::new();
    for (index, (range, outcome)) in documents.into_iter().zip(outcomes).enumerate() {
        let document = &body[range.clone()];
        match outcome {
            guard::Outcome::Formatted(mut formatted) => {
                if index != last && !formatted.ends_with('\n') {
                    formatted.push('\n');
                }
                out.push_str(&formatted);
                if formatted != document {
                    let at = range.start + bom.len()..range.end + bom.len();
                    changed.push((at, formatted));
                }
            }
            guard::Outcome::Kept => {
                kept.push(range.start + bom.len());
                out.push_str(document);
            }
            guard::Outcome::SyntaxError => return Formatted::LeftAlone("a syntax error"),
        }
    }
    Formatted::Text {
        text: out,
        kept,
        changed,
    }
}

/// Files at least this big have their documents formatted on several threads.
const PARALLEL_MIN: usize = 128 * 1024;

/// `f` on each document of `text` (`documents`: their ranges), in order: on up to four threads
/// for a big file, each taking the biggest document left.
fn each_document<T: Send>(
    text: &str,
    documents: &[Range<usize>],
    f: impl Fn(&str) -> T + Sync,
) -> Vec<T> {
    if text.len() < PARALLEL_MIN {
        return documents
            .iter()
            .map(|range| f(&text[range.clone()]))
            .collect();
    }
    let sizes: Vec<usize> = documents.iter().map(|range| range.len()).collect();
    crate::text::threads::biggest_first(&sizes, |index| f(&text[documents[index].clone()]))
}

/// The edits that format `text`: none when it is left alone or already formatted. Only the
/// documents that changed are compared, line by line.
pub fn format_edits(text: &str, options: &FormatOptions) -> Vec<(Range<usize>, String)> {
    format_edits_with(text, options, None)
}

/// [`format_edits`], with the outcomes of documents formatted before kept in `cache`.
pub fn format_edits_with(
    text: &str,
    options: &FormatOptions,
    cache: Option<&Cache>,
) -> Vec<(Range<usize>, String)> {
    match format_with(text, options, cache) {
        Formatted::Text { changed, .. } => changed
            .into_iter()
            .flat_map(|(range, formatted)| {
                let start = range.start;
                line_edits(&text[range], &formatted)
                    .into_iter()
                    .map(move |(at, new)| (at.start + start..at.end + start, new))
            })
            .collect(),
        Formatted::LeftAlone(_) => Vec::new(),
    }
}

/// The edits of [`format_edits`] that touch the lines of `range`.
pub fn range_edits(
    text: &str,
    range: Range<usize>,
    options: &FormatOptions,
    cache: Option<&Cache>,
) -> Vec<(Range<usize>, String)> {
    let lines = whole_lines(text, range);
    format_edits_with(text, options, cache)
        .into_iter()
        .filter(|(at, _)| {
            if at.is_empty() {
                (lines.start..=lines.end).contains(&at.start)
            } else {
                at.start <= lines.end && at.end > lines.start
            }
        })
        .collect()
}

/// `range` widened to the starts and ends of its lines.
fn whole_lines(text: &str, range: Range<usize>) -> Range<usize> {
    let end = range.end.min(text.len());
    let start = range.start.min(end);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    line_start..line_end
}

#[cfg(test)]
mod tests;
