//! Formatting's hard rules over every YAML file of the shared corpus: the formatted file means the
//! same (each document's JSON as kubectl reads it is unchanged), keeps every comment, formats to
//! itself again, and a file with a syntax error or Helm template actions is left alone.

mod common;

use common::corpus;
use kube_lsp::features::format::{FormatOptions, Formatted, QuoteStyle, format, format_edits};
use kube_lsp::yaml::split::split;
use kube_lsp::yaml::value::{Limits, document_to_json};
use serde_json::Value;

/// Every document's JSON value (`Err` for a document kubectl could not read).
fn values(text: &str) -> Vec<Result<Option<Value>, String>> {
    split(text)
        .documents
        .into_iter()
        .map(|range| {
            document_to_json(&text[range], &Limits::default()).map_err(|error| error.message)
        })
        .collect()
}

/// The comments of `text` in order, found by line: a `#` starting a line's content or after a
/// blank, outside quotes (a rough reading on purpose, independent of the formatter's parser;
/// block scalars' lines are read as text too, which is the same before and after).
fn comments(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let mut quote = None;
        let mut previous = ' ';
        for (i, c) in line.char_indices() {
            match (quote, c) {
                (None, '#') if previous == ' ' || previous == '\t' => {
                    found.push(line[i..].trim_end().to_string());
                    break;
                }
                (None, '"' | '\'') if previous == ' ' || previous == ':' || previous == '-' => {
                    quote = Some(c)
                }
                (Some(q), _) if q == c => quote = None,
                _ => {}
            }
            previous = c;
        }
    }
    found
}

/// `text` with `edits` (sorted, not overlapping) applied.
fn apply(text: &str, edits: &[(std::ops::Range<usize>, String)]) -> String {
    let mut out = text.to_string();
    for (range, replacement) in edits.iter().rev() {
        out.replace_range(range.clone(), replacement);
    }
    out
}

fn option_sets() -> Vec<FormatOptions> {
    vec![
        FormatOptions::default(),
        FormatOptions {
            indent: 4,
            indent_sequences: false,
            quotes: QuoteStyle::Double,
            line_width: 120,
            keep_blank_lines: false,
        },
        FormatOptions {
            quotes: QuoteStyle::Single,
            ..Default::default()
        },
    ]
}

#[test]
fn formatting_the_corpus_keeps_meaning_and_comments_and_is_idempotent() {
    let files = corpus::yaml_files(&corpus::root());
    assert!(files.len() > 100, "only {} corpus files", files.len());
    let mut formatted_files = 0;
    let mut kept_documents = Vec::new();
    let mut left_alone = Vec::new();
    for options in option_sets() {
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let name = path.strip_prefix(corpus::root()).unwrap().display();
            let before = values(&text);
            let templated = text.contains("{{");
            let broken = before.iter().any(Result::is_err);
            match format(&text, &options) {
                Formatted::LeftAlone(why) => {
                    assert!(
                        templated || broken,
                        "{name} left alone ({why}) though it is valid YAML without actions"
                    );
                    assert!(format_edits(&text, &options).is_empty(), "{name}");
                    left_alone.push(format!("{name}: {why}"));
                }
                Formatted::Text {
                    text: out, kept, ..
                } => {
                    assert!(
                        !templated && !broken,
                        "{name} formatted though it should not be"
                    );
                    assert_eq!(values(&out), before, "{name}: the meaning changed");
                    assert_eq!(comments(&out), comments(&text), "{name}: comments changed");
                    match format(&out, &options) {
                        Formatted::Text { text: again, .. } => {
                            assert!(again == out, "{name}: formatting twice changes it")
                        }
                        Formatted::LeftAlone(why) => panic!("{name} formatted is {why}"),
                    }
                    assert!(format_edits(&out, &options).is_empty(), "{name}");
                    let edits = format_edits(&text, &options);
                    assert!(
                        apply(&text, &edits) == out,
                        "{name}: the edits make another text"
                    );
                    formatted_files += 1;
                    kept_documents.extend(kept.iter().map(|at| format!("{name}@{at}")));
                }
            }
        }
    }
    eprintln!(
        "formatted {formatted_files} files; left alone: {left_alone:#?}; documents the formatter was not trusted with: {kept_documents:#?}"
    );
    assert!(formatted_files > 300, "{formatted_files}");
}

#[test]
fn helm_chart_templates_are_left_alone() {
    let templates = corpus::root().join("helm/hello-world/templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(templates).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("{{") {
            assert!(
                format_edits(&text, &FormatOptions::default()).is_empty(),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "{checked}");
}
