//! Writing a rule's remediation where it is mechanical: set a value at a path (replacing a
//! scalar, or adding the missing keys at the end of the deepest block mapping on the way, at its
//! keys' column, with its line breaks: `yaml::insert`), remove a `key: value` line or a `- item`
//! line. Flow collections and unusual layouts get no fix. Offsets are the document's.

use std::ops::Range;

use super::object::Node;
use crate::yaml::insert::end_of_block_mapping;
use crate::yaml::spans::SpanKind;

pub type Edits = Vec<(Range<usize>, String)>;

/// What goes at the end of a path.
#[derive(Clone, Copy, Debug)]
pub enum Leaf<'a> {
    /// A scalar, written as is (`true`, `100m`).
    Scalar(&'a str),
    /// A block under the last key: lines relative to its children's column.
    Block(&'a [&'a str]),
}

/// Edits that make `path` under `mapping` hold `leaf`.
pub fn set(mapping: Node<'_>, path: &[&str], leaf: Leaf<'_>) -> Option<Edits> {
    count_work!(WORKED_OUT);
    let mut node = mapping;
    for (depth, key) in path.iter().enumerate() {
        let last = depth + 1 == path.len();
        match node.entry(key) {
            Some((key_node, value)) if last => {
                return match (leaf, value.0.kind()) {
                    (Leaf::Scalar(text), SpanKind::Scalar(_)) if !value.0.is_empty_scalar() => {
                        Some(vec![(value.range(), text.to_string())])
                    }
                    _ if value.0.is_empty_scalar() => after_key(key_node, &[], leaf),
                    _ => None,
                };
            }
            Some((key_node, value)) => {
                if value.is_mapping() {
                    node = value;
                } else if value.0.is_empty_scalar() {
                    return after_key(key_node, &path[depth + 1..], leaf);
                } else {
                    return None;
                }
            }
            None => {
                let at = end_of_block_mapping(node.0)?;
                let step = indent_step(node.source());
                let lines = lines(&path[depth..], leaf, at.column, step);
                return Some(vec![(at.at..at.at, at.text(&lines))]);
            }
        }
    }
    None
}

/// How far the document indents a mapping under its key: the indentation of the first line
/// under a top-level `key:` (2 when there is none).
fn indent_step(text: &str) -> usize {
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    while let Some(line) = lines.next() {
        if line.starts_with(|c: char| c.is_ascii_alphabetic()) && line.trim_end().ends_with(':') {
            let next = lines.next().unwrap_or_default();
            let indent = next.len() - next.trim_start().len();
            if indent > 0 {
                return indent;
            }
        }
    }
    2
}

/// The lines of `path` holding `leaf`, the first key at `column`, each level `step` deeper.
fn lines(path: &[&str], leaf: Leaf<'_>, column: usize, step: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for (depth, key) in path.iter().enumerate() {
        let indent = " ".repeat(column + step * depth);
        if depth + 1 < path.len() {
            lines.push(format!("{indent}{key}:"));
            continue;
        }
        match leaf {
            Leaf::Scalar(text) => lines.push(format!("{indent}{key}: {text}")),
            Leaf::Block(block) => {
                lines.push(format!("{indent}{key}:"));
                let inner = " ".repeat(step);
                lines.extend(
                    block
                        .iter()
                        .map(|line| format!("{indent}{inner}{}", reindent(line, step))),
                );
            }
        }
    }
    lines
}

/// A block line written with 2-space steps, with `step`-space ones.
fn reindent(line: &str, step: usize) -> String {
    let spaces = line.len() - line.trim_start().len();
    format!("{}{}", " ".repeat(spaces / 2 * step), line.trim_start())
}

/// Edits for `key:` with no value: `rest` and `leaf` go after it (on the same line for a scalar
/// and no `rest`, else on new lines below it).
fn after_key(key: Node<'_>, rest: &[&str], leaf: Leaf<'_>) -> Option<Edits> {
    let text = key.source();
    let end = key.range().end;
    let line_end = text[end..]
        .find(['\r', '\n'])
        .map_or(text.len(), |i| end + i);
    let after = text[end..line_end].trim_start();
    // Only `key:` (and maybe a comment) on the line.
    if !after.starts_with(':')
        || !after[1..].trim_start().is_empty() && !after[1..].trim_start().starts_with('#')
    {
        return None;
    }
    let colon = end + text[end..].find(':')? + 1;
    if let (Leaf::Scalar(value), true) = (leaf, rest.is_empty()) {
        return Some(vec![(colon..colon, format!(" {value}"))]);
    }
    let line_start = text[..key.range().start].rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..key.range().start].chars().count();
    let eol = if text[line_end..].starts_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let step = indent_step(text);
    let lines = match (rest, leaf) {
        ([], Leaf::Block(block)) => block
            .iter()
            .map(|l| format!("{}{}", " ".repeat(column + step), reindent(l, step)))
            .collect(),
        _ => self::lines(rest, leaf, column + step, step),
    };
    let inserted: String = lines.iter().map(|l| format!("{eol}{l}")).collect();
    Some(vec![(line_end..line_end, inserted)])
}

/// Edits that remove `key` and its value from a block mapping: its whole lines, when the pair
/// starts its line (not the first pair of a `- ` item) and nothing but a comment follows it.
pub fn remove_line(mapping: Node<'_>, key: &str) -> Option<Edits> {
    count_work!(WORKED_OUT);
    let (key_node, value) = mapping.entry(key)?;
    let text = mapping.source();
    let start = key_node.range().start;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..start].chars().all(|c| c == ' ') {
        return None;
    }
    through_line_end(line_start, value.range().end, text)
}

/// Edits that remove a `- item` of a block sequence: its whole lines.
pub fn remove_item(item: Node<'_>) -> Option<Edits> {
    let text = item.source();
    let start = item.range().start;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..start];
    if before.trim_start() != "- " {
        return None;
    }
    through_line_end(line_start, item.range().end, text)
}

/// Edits that add `value` as an item after `last`, the last `- item` of a block sequence, on
/// a line of its own written like `last`'s.
pub fn append_item(last: Node<'_>, value: &str) -> Option<Edits> {
    let text = last.source();
    let start = last.range().start;
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &text[line_start..start];
    if prefix.trim_start() != "- " {
        return None;
    }
    let end = last.range().end;
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let rest = text[end..line_end].trim();
    if !rest.is_empty() && !rest.starts_with('#') {
        return None;
    }
    let (at, eol) = match text[..line_end].strip_suffix('\r') {
        Some(before) => (before.len(), "\r\n"),
        None => (line_end, "\n"),
    };
    Some(vec![(at..at, format!("{eol}{prefix}{value}"))])
}

/// `start` to the end of the line holding `end` (its line break included), if nothing but a
/// comment follows `end` there.
fn through_line_end(start: usize, end: usize, text: &str) -> Option<Edits> {
    let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
    let rest = text[end..line_end].trim();
    if !rest.is_empty() && !rest.starts_with('#') {
        return None;
    }
    Some(vec![(start..line_end, String::new())])
}

#[cfg(test)]
mod tests {
    use super::super::tests::apply;
    use super::*;
    use crate::yaml::spans::SpanTree;

    fn with_root(text: &str, run: impl Fn(Node<'_>) -> Option<Edits>) -> Option<String> {
        let (tree, _) = SpanTree::parse(text);
        let root = Node(tree.root().unwrap());
        run(root).map(|edits| apply(text, &edits))
    }

    #[test]
    fn set_replaces_or_adds_keys_at_the_mappings_column() {
        let text = "name: a\nsecurityContext:\n  privileged: false # keep\n";
        let set_ro = |root: Node<'_>| {
            set(
                root,
                &["securityContext", "readOnlyRootFilesystem"],
                Leaf::Scalar("true"),
            )
        };
        assert_eq!(
            with_root(text, set_ro).unwrap(),
            "name: a\nsecurityContext:\n  privileged: false # keep\n  readOnlyRootFilesystem: true\n"
        );
        let text = "name: a\nsecurityContext:\n    readOnlyRootFilesystem: false\n";
        assert_eq!(
            with_root(text, set_ro).unwrap(),
            "name: a\nsecurityContext:\n    readOnlyRootFilesystem: true\n"
        );
        let text = "name: a\r\nimage: x\r\n";
        assert_eq!(
            with_root(text, set_ro).unwrap(),
            "name: a\r\nimage: x\r\nsecurityContext:\r\n  readOnlyRootFilesystem: true\r\n"
        );
        let text = "name: a\nsecurityContext:\nimage: b\n";
        assert_eq!(
            with_root(text, set_ro).unwrap(),
            "name: a\nsecurityContext:\n  readOnlyRootFilesystem: true\nimage: b\n"
        );
        let probe = |root: Node<'_>| {
            set(
                root,
                &["livenessProbe"],
                Leaf::Block(&["tcpSocket:", "  port: http"]),
            )
        };
        assert_eq!(
            with_root("name: a", probe).unwrap(),
            "name: a\nlivenessProbe:\n  tcpSocket:\n    port: http"
        );
        assert_eq!(with_root("{name: a}", set_ro), None);
    }

    #[test]
    fn lines_are_removed_whole() {
        let text = "a: 1\nprivileged: true  # x\nb: 2\n";
        assert_eq!(
            with_root(text, |root| remove_line(root, "privileged")).unwrap(),
            "a: 1\nb: 2\n"
        );
        let text = "add:\n- NET_RAW\n- CHOWN\n";
        let removed = with_root(text, |root| remove_item(root.get("add")?.items().next()?));
        assert_eq!(removed.unwrap(), "add:\n- CHOWN\n");
        assert_eq!(
            with_root("add: [NET_RAW]\n", |root| remove_item(
                root.get("add")?.items().next()?
            )),
            None
        );
    }
}

work_counter!(
    /// How many edits [`set`] and [`remove_line`] worked out on this thread so far.
    pub fn worked_out() => WORKED_OUT
);
