//! One document through pretty_yaml, kept only when the result can be trusted: the same JSON
//! value as kubectl reads it, every comment still there in the same order, and formatting the
//! result again changes nothing.

use rowan::ast::AstNode;
use yaml_parser::SyntaxKind;
use yaml_parser::ast::Root;

use super::FormatOptions;
use super::post;
use crate::yaml::value::{Limits, document_to_json};

#[derive(Clone)]
pub enum Outcome {
    Formatted(String),
    /// The formatter's text is not trusted (or it could not read the document): kept as is.
    Kept,
    /// The document is not valid YAML: the whole file is left alone.
    SyntaxError,
}

impl Outcome {
    /// The bytes the outcome holds.
    pub fn bytes(&self) -> usize {
        match self {
            Outcome::Formatted(text) => text.len(),
            Outcome::Kept | Outcome::SyntaxError => 0,
        }
    }
}

pub fn format_document(document: &str, options: &FormatOptions) -> Outcome {
    let limits = Limits::default();
    let Ok(before) = document_to_json(document, &limits) else {
        return Outcome::SyntaxError;
    };
    if before
        .as_ref()
        .is_some_and(|value| depth(value) > MAX_DEPTH)
    {
        return Outcome::Kept;
    }
    let Some(tree) = parse(document) else {
        return Outcome::Kept;
    };
    let Some(formatted) = print(&tree, options) else {
        return Outcome::Kept;
    };
    if formatted == document {
        return Outcome::Formatted(formatted);
    }
    // Each text is parsed once: its tree gives its comments and, for the result, the text it
    // formats to again.
    let Some(formatted_tree) = parse(&formatted) else {
        return Outcome::Kept;
    };
    let trusted = document_to_json(&formatted, &limits).is_ok_and(|after| after == before)
        && comments_of(&tree).eq(comments_of(&formatted_tree))
        && print(&formatted_tree, options).as_deref() == Some(formatted.as_str());
    if trusted {
        Outcome::Formatted(formatted)
    } else {
        Outcome::Kept
    }
}

/// Deeper documents are not given to pretty_yaml, whose parser descends recursively.
const MAX_DEPTH: usize = 48;

/// yaml_parser's tree for `text`, unless its parser would fail on it: it tracks indentation
/// columns in a 64-bit set, so a text indented 64 columns or more is not given to it.
pub fn parse(text: &str) -> Option<yaml_parser::SyntaxNode> {
    const MAX_INDENT: usize = 63;
    let shallow = text
        .lines()
        .all(|line| line.len() - line.trim_start_matches([' ', '\t']).len() <= MAX_INDENT);
    shallow.then(|| yaml_parser::parse(text).ok()).flatten()
}

/// How deeply `value` nests arrays and objects (a scalar is 0), without recursion.
fn depth(value: &serde_json::Value) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0)];
    while let Some((value, level)) = pending.pop() {
        deepest = deepest.max(level);
        match value {
            serde_json::Value::Array(items) => pending.extend(items.iter().map(|v| (v, level + 1))),
            serde_json::Value::Object(map) => pending.extend(map.values().map(|v| (v, level + 1))),
            _ => {}
        }
    }
    deepest
}

/// pretty_yaml's text for the document whose tree is `tree`, with the options applied.
fn print(tree: &yaml_parser::SyntaxNode, options: &FormatOptions) -> Option<String> {
    let root = Root::cast(tree.clone())?;
    let printed = pretty_yaml::print_tree(&root, &pretty_options(options));
    post::finish(tree, printed, options)
}

fn pretty_options(options: &FormatOptions) -> pretty_yaml::config::FormatOptions {
    use pretty_yaml::config::{LanguageOptions, LayoutOptions, Quotes};
    let quotes = match options.quotes {
        // Single quotes become double only where nothing inside needs escaping; `post` turns
        // them back.
        super::QuoteStyle::Preserve | super::QuoteStyle::Double => Quotes::PreferDouble,
        super::QuoteStyle::Single => Quotes::PreferSingle,
    };
    pretty_yaml::config::FormatOptions {
        layout: LayoutOptions {
            print_width: options.line_width.clamp(20, 1_000),
            indent_width: options.indent.clamp(1, 8),
            ..Default::default()
        },
        language: LanguageOptions {
            quotes,
            indent_block_sequence_in_map: options.indent_sequences,
            // The formatter's own ignore comment still works, under kube-lsp's name too.
            ignore_comment_directive: "kube-lsp-format-ignore".into(),
            ..Default::default()
        },
    }
}

/// The comments of a parsed text, in order, without trailing blanks.
fn comments_of(tree: &yaml_parser::SyntaxNode) -> impl Iterator<Item = String> + '_ {
    tree.descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| token.kind() == SyntaxKind::COMMENT)
        .map(|token| token.text().trim_end().to_string())
}
