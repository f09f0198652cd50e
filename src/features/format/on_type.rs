//! The indentation of a new line, after Enter: that of the mapping or sequence the line above
//! leaves the cursor in.

use std::ops::Range;

use super::FormatOptions;

/// The edit that gives the line holding `offset` (just after a typed line break) the
/// indentation it belongs at; none when it has it already or there is no line above.
pub fn newline_indent(
    text: &str,
    offset: usize,
    options: &FormatOptions,
) -> Vec<(Range<usize>, String)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return Vec::new();
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    if line_start == 0 {
        return Vec::new();
    }
    let Some(above) = text[..line_start - 1]
        .lines()
        .rev()
        .find(|line| !line.trim().is_empty())
    else {
        return Vec::new();
    };
    let wanted = " ".repeat(indent_after(above, options.indent));
    let rest = &text[line_start..];
    let current = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let current = current.min(rest.find('\n').unwrap_or(rest.len()));
    if rest[..current] == wanted {
        return Vec::new();
    }
    vec![(line_start..line_start + current, wanted)]
}

/// The column a line following `line` starts at: deeper after a key with its value to come
/// (`spec:`) or a block scalar header (`script: |`), at the key of a sequence item's mapping
/// (`- name: web`), at the dash of a scalar item (`- web`), else at `line`'s own column.
fn indent_after(line: &str, indent: usize) -> usize {
    let column = line.len() - line.trim_start_matches(' ').len();
    let content = without_comment(line.trim()).trim_end();
    let (item_column, entry) = match content.strip_prefix('-') {
        Some(after) if after.is_empty() || after.starts_with(' ') => {
            let entry = after.trim_start();
            (column + (content.len() - entry.len()), entry)
        }
        _ => (column, content),
    };
    if entry.is_empty() {
        // A bare `-`: its item goes under it, indented.
        return column + indent;
    }
    let opens_block = entry.ends_with(':')
        || entry
            .rsplit_once(": ")
            .is_some_and(|(_, value)| is_block_scalar_header(value))
        || is_block_scalar_header(entry);
    if opens_block {
        return item_column + indent;
    }
    let is_pair = entry.contains(": ");
    if item_column != column && !is_pair {
        // `- web`: the next line is likely another item of the same sequence.
        return column;
    }
    item_column
}

/// `|`, `>-`, `|2+`…
fn is_block_scalar_header(value: &str) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>')) && chars.all(|c| matches!(c, '-' | '+' | '1'..='9'))
}

/// `line` without a trailing `# comment` (a `#` after a blank, outside quotes).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '#') if previous == ' ' || previous == '\t' => return &line[..i],
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if q == c => quote = None,
            _ => {}
        }
        previous = c;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indent_of_new_line(before: &str) -> Option<String> {
        let text = format!("{before}\n");
        let edits = newline_indent(&text, text.len(), &FormatOptions::default());
        edits.into_iter().next().map(|(_, indentation)| indentation)
    }

    #[test]
    fn a_new_line_keeps_the_mapping_or_sequence_it_is_in() {
        assert_eq!(indent_of_new_line("spec:").as_deref(), Some("  "));
        assert_eq!(
            indent_of_new_line("spec:\n  replicas: 1").as_deref(),
            Some("  ")
        );
        assert_eq!(
            indent_of_new_line("spec:\n  containers:\n    - name: web").as_deref(),
            Some("      ")
        );
        assert_eq!(
            indent_of_new_line("args:\n  - --verbose  # loud").as_deref(),
            Some("  ")
        );
        assert_eq!(
            indent_of_new_line("  - name: web\n    ports:").as_deref(),
            Some("      ")
        );
        assert_eq!(
            indent_of_new_line("data:\n  run.sh: |").as_deref(),
            Some("    ")
        );
        assert_eq!(
            indent_of_new_line("a:\n  b: 'x: #y'  # c:").as_deref(),
            Some("  ")
        );
        assert_eq!(indent_of_new_line("kind: Pod"), None, "already right");
        assert!(newline_indent("", 0, &FormatOptions::default()).is_empty());
    }

    #[test]
    fn only_the_leading_blanks_before_the_cursor_line_content_change() {
        let text = "spec:\n        replicas: 1\n";
        let edits = newline_indent(text, 6, &FormatOptions::default());
        assert_eq!(edits, [(6..14, "  ".to_string())]);
    }
}
