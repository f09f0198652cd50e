//! The line both benchmarks edit (benches/lsp.rs over LSP, benches/yaml_open.rs in process), so
//! their numbers describe the same edit.

/// The line to edit: a `key: plain scalar` line at or after the middle of the
/// file, not inside a block scalar, with no trailing comment. Within 500 lines
/// it prefers keys whose values are free text (so the edit keeps the file
/// valid), else takes the first such line.
pub fn pick_edit_line(text: &str) -> Option<usize> {
    const FREE_TEXT_KEYS: &[&str] = &["description", "name", "image"];
    let lines: Vec<&str> = text.lines().collect();
    let middle = lines.len() / 2;
    let editable = |index: &usize| {
        is_plain_scalar_entry(lines[*index]) && !inside_block_scalar(&lines, *index)
    };
    let key_of = |index: usize| {
        lines[index]
            .trim_start()
            .trim_start_matches("- ")
            .split(':')
            .next()
            .unwrap_or_default()
    };
    let nearby: Vec<usize> = (middle..lines.len().min(middle + 500))
        .filter(editable)
        .collect();
    FREE_TEXT_KEYS
        .iter()
        .find_map(|key| nearby.iter().copied().find(|index| key_of(*index) == *key))
        .or_else(|| (middle..lines.len()).find(editable))
}

pub fn is_plain_scalar_entry(line: &str) -> bool {
    let entry = line.trim_start().trim_start_matches("- ");
    let Some((key, value)) = entry.split_once(": ") else {
        return false;
    };
    let key_is_plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    let value_is_plain =
        value.starts_with(|c: char| c.is_ascii_alphanumeric()) && !value.contains(" #");
    key_is_plain && value_is_plain
}

/// Whether a less-indented line above `index` opens a block scalar (`|`, `>`).
pub fn inside_block_scalar(lines: &[&str], index: usize) -> bool {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let own_indent = indent(lines[index]);
    lines[..index]
        .iter()
        .rev()
        .filter(|line| !line.trim().is_empty())
        .find(|line| indent(line) < own_indent)
        .is_some_and(|parent| {
            let value = parent.trim_end();
            value.ends_with('|')
                || value.ends_with('>')
                || value.ends_with("|-")
                || value.ends_with(">-")
        })
}
