//! What pretty_yaml has no option for, done on its output's syntax tree: quotes kept as written
//! (`QuoteStyle::Preserve`) and blank lines dropped (`keep_blank_lines: false`).

use std::ops::Range;

use yaml_parser::{SyntaxKind, SyntaxNode, SyntaxToken};

use super::{FormatOptions, QuoteStyle};

/// `printed` (pretty_yaml's text for the document whose tree is `input`) with the options it has
/// no setting for applied; `None` when the two texts' scalars cannot be matched up.
pub fn finish(input: &SyntaxNode, printed: String, options: &FormatOptions) -> Option<String> {
    let restore_quotes =
        options.quotes == QuoteStyle::Preserve && quoted(input).any(|t| is_single_quoted(&t));
    if !restore_quotes && options.keep_blank_lines {
        return Some(printed);
    }
    let output = super::guard::parse(&printed)?;
    let mut replacements: Vec<(Range<usize>, String)> = Vec::new();
    if restore_quotes {
        replacements.extend(single_quotes_back(input, &output)?);
    }
    if !options.keep_blank_lines {
        replacements.extend(blank_lines_dropped(&output));
    }
    replacements.sort_by_key(|(range, _)| range.start);
    let mut text = String::with_capacity(printed.len());
    let mut at = 0;
    for (range, replacement) in replacements {
        text.push_str(&printed[at..range.start]);
        text.push_str(&replacement);
        at = range.end;
    }
    text.push_str(&printed[at..]);
    Some(text)
}

fn quoted(tree: &SyntaxNode) -> impl Iterator<Item = SyntaxToken> + '_ {
    tree.descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| {
            matches!(
                token.kind(),
                SyntaxKind::SINGLE_QUOTED_SCALAR | SyntaxKind::DOUBLE_QUOTED_SCALAR
            )
        })
}

fn is_single_quoted(token: &SyntaxToken) -> bool {
    token.kind() == SyntaxKind::SINGLE_QUOTED_SCALAR
}

/// The quotes of every scalar pretty_yaml turned from single to double put back. It does that
/// only where the content holds no quote and no backslash, so the content stays as it is.
fn single_quotes_back(
    input: &SyntaxNode,
    output: &SyntaxNode,
) -> Option<Vec<(Range<usize>, String)>> {
    let before: Vec<SyntaxToken> = quoted(input).collect();
    let after: Vec<SyntaxToken> = quoted(output).collect();
    if before.len() != after.len() {
        return None;
    }
    let mut replacements = Vec::new();
    for (was, now) in before.iter().zip(&after) {
        if is_single_quoted(was) && !is_single_quoted(now) {
            let text = now.text();
            let content = text.get(1..text.len().checked_sub(1)?)?;
            let range = now.text_range();
            replacements.push((
                usize::from(range.start())..usize::from(range.end()),
                format!("'{content}'"),
            ));
        }
    }
    Some(replacements)
}

/// Whitespace spanning blank lines becomes one line break (with the next line's indentation).
/// Blank lines inside block and multi-line scalars are part of their values, never touched.
fn blank_lines_dropped(output: &SyntaxNode) -> Vec<(Range<usize>, String)> {
    output
        .descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| token.kind() == SyntaxKind::WHITESPACE)
        .filter_map(|token| {
            let text = token.text();
            let first = text.find('\n')?;
            let last = text.rfind('\n')?;
            (first != last).then(|| {
                let range = token.text_range();
                (
                    usize::from(range.start())..usize::from(range.end()),
                    format!("{}{}", &text[..=first], &text[last + 1..]),
                )
            })
        })
        .collect()
}
