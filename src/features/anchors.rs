//! Anchors and aliases of a YAML document, for navigation: the anchor an alias `*x` refers to,
//! an anchor's aliases, renaming an anchor with its aliases, and what an alias expands to. Ranges
//! are byte offsets into the file; an alias refers to an anchor of its own YAML document.

use std::ops::Range;

use crate::features::hover::Hover;
use crate::yaml::anchors::{AnchorName, Anchors, valid_name};

/// The expansion hover shows at most this many lines and bytes of the anchored node.
const HOVER_LINES: usize = 40;
const HOVER_BYTES: usize = 2048;

/// The anchors of the document holding `offset`, offset to file positions, and the name at it.
struct Located {
    anchors: Anchors,
    name: AnchorName,
}

impl Located {
    fn anchor(&self) -> usize {
        self.anchors.anchor_of(self.name)
    }

    fn anchor_name(&self) -> Range<usize> {
        self.anchors.anchors[self.anchor()].name.clone()
    }

    fn alias_names(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.anchors
            .aliases_of(self.anchor())
            .map(|alias| alias.name.clone())
    }
}

/// The anchor or alias at `offset` of `text`, whose YAML documents span `documents`. Text that
/// has no `&` or `*` token at the cursor is not parsed.
fn locate(text: &str, documents: &[Range<usize>], offset: usize) -> Option<Located> {
    if !on_anchor_or_alias(text, offset) {
        return None;
    }
    let document = documents
        .iter()
        .find(|d| d.start <= offset && offset <= d.end)?;
    let mut anchors = Anchors::find(text.get(document.clone())?);
    let shift = |range: &mut Range<usize>| {
        *range = range.start + document.start..range.end + document.start
    };
    for anchor in &mut anchors.anchors {
        shift(&mut anchor.name);
        shift(&mut anchor.node);
    }
    for alias in &mut anchors.aliases {
        shift(&mut alias.name);
    }
    let name = anchors.at(offset)?;
    Some(Located { anchors, name })
}

/// Whether the token around `offset` starts with `&` or `*` (a cheap look before parsing).
pub fn on_anchor_or_alias(text: &str, offset: usize) -> bool {
    let Some(before) = text.get(..offset) else {
        return false;
    };
    let start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
        .map_or(0, |i| i + 1);
    matches!(text.as_bytes().get(start), Some(b'&' | b'*'))
}

/// The anchor of the alias at `offset` (its name), or the anchor itself.
pub fn definition(text: &str, documents: &[Range<usize>], offset: usize) -> Option<Range<usize>> {
    Some(locate(text, documents, offset)?.anchor_name())
}

/// The anchor at `offset`, or of the alias there, with its aliases (names only); the anchor
/// first, when `declaration` asks for it.
pub fn references(
    text: &str,
    documents: &[Range<usize>],
    offset: usize,
    declaration: bool,
) -> Option<Vec<Range<usize>>> {
    let located = locate(text, documents, offset)?;
    let anchor = declaration.then(|| located.anchor_name());
    Some(anchor.into_iter().chain(located.alias_names()).collect())
}

/// The name at `offset` that a rename would change, with its text.
pub fn prepare_rename(
    text: &str,
    documents: &[Range<usize>],
    offset: usize,
) -> Option<(Range<usize>, String)> {
    let located = locate(text, documents, offset)?;
    let name = match located.name {
        AnchorName::Anchor(index) => located.anchors.anchors[index].name.clone(),
        AnchorName::Alias(index) => located.anchors.aliases[index].name.clone(),
    };
    let placeholder = text[name.clone()].to_string();
    Some((name, placeholder))
}

/// The names to replace by `new_name` to rename the anchor at `offset` (or of the alias
/// there): the anchor's and its aliases'. An error when `new_name` cannot be an anchor's name.
pub fn rename(
    text: &str,
    documents: &[Range<usize>],
    offset: usize,
    new_name: &str,
) -> Option<Result<Vec<Range<usize>>, String>> {
    let located = locate(text, documents, offset)?;
    if !valid_name(new_name) {
        return Some(Err(format!(
            "`{new_name}` cannot name an anchor: it must not be empty nor hold spaces or any of , [ ] {{ }}"
        )));
    }
    let anchor = located.anchor_name();
    Some(Ok(std::iter::once(anchor)
        .chain(located.alias_names())
        .collect()))
}

/// On an alias: the node it expands to, as written at its anchor (at most [`HOVER_LINES`]
/// lines and [`HOVER_BYTES`] bytes, saying so when cut).
pub fn hover(text: &str, documents: &[Range<usize>], offset: usize) -> Option<Hover> {
    let located = locate(text, documents, offset)?;
    let AnchorName::Alias(index) = located.name else {
        return None;
    };
    let alias = located.anchors.aliases[index].name.clone();
    let anchor = &located.anchors.anchors[located.anchor()];
    let name = &text[anchor.name.clone()];
    let line = text[..anchor.name.start].matches('\n').count() + 1;
    let (shown, cut) = expansion(&text[anchor.name.end..anchor.node.end]);
    let mut markdown = format!(
        "Alias `*{name}` expands to the node of anchor `&{name}` (line {line}):\n\n```yaml\n{shown}\n```\n"
    );
    if cut > 0 {
        markdown.push_str(&format!("\n*(cut: {cut} more lines not shown)*\n"));
    }
    Some(Hover {
        markdown,
        range: alias.start - 1..alias.end,
    })
}

/// The anchored node's text after the anchor's name, readable on its own: a block collection
/// unindented, trailing blank and comment lines dropped, bounded. Returns it with the number of
/// lines left out.
fn expansion(after_name: &str) -> (String, usize) {
    let after_name = after_name.trim_start_matches([' ', '\t']);
    let mut lines: Vec<&str> = after_name.lines().collect();
    while lines
        .last()
        .is_some_and(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        lines.pop();
    }
    // A block collection starts on the next line.
    let first_is_empty = lines.first().is_some_and(|l| l.trim().is_empty());
    if first_is_empty {
        lines.remove(0);
    }
    let indent = lines
        .iter()
        .skip(usize::from(!first_is_empty))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let keep = if first_is_empty { 0 } else { 2 };
    let mut shown = String::new();
    let mut kept = 0;
    for (i, line) in lines.iter().enumerate() {
        let line = if i == 0 && !first_is_empty {
            line.to_string()
        } else {
            let cut = indent.min(line.len() - line.trim_start().len());
            format!("{}{}", " ".repeat(keep), &line[cut..])
        };
        if kept == HOVER_LINES || shown.len() + line.len() + 1 > HOVER_BYTES {
            break;
        }
        if kept > 0 {
            shown.push('\n');
        }
        shown.push_str(&line);
        kept += 1;
    }
    (shown, lines.len() - kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> Vec<Range<usize>> {
        std::iter::once(0..text.len()).collect()
    }

    #[test]
    fn definition_references_and_rename_stay_in_the_document() {
        let text = "a: &x 1\nb: *x\n---\na: &x 2\nb: *x\nc: *x\n";
        let docs = vec![0..14, 14..text.len()];
        let second_alias = text.rfind("*x").unwrap();
        let second_anchor = text.rfind("&x").unwrap();
        assert_eq!(
            definition(text, &docs, second_alias + 1),
            Some(second_anchor + 1..second_anchor + 2)
        );
        assert_eq!(definition(text, &docs, 12), Some(4..5));
        let all = references(text, &docs, second_anchor, true).unwrap();
        assert_eq!(all.len(), 3);
        let aliases = references(text, &docs, 4, false).unwrap();
        assert_eq!(aliases.len(), 1);
        assert_eq!(aliases[0], 12..13);
        let edits = rename(text, &docs, 12, "y").unwrap().unwrap();
        assert_eq!(edits, [4..5, 12..13]);
        assert!(rename(text, &docs, 12, "a b").unwrap().is_err());
        assert_eq!(prepare_rename(text, &docs, 11), Some((12..13, "x".into())));
        assert_eq!(definition(text, &docs, 0), None);
    }

    #[test]
    fn hover_shows_the_expansion_unindented() {
        let text = "base: &b\n  a: 1\n  b:\n    - 2\n# after\nuse: *b\n";
        let at = text.find("*b").unwrap();
        let found = hover(text, &whole(text), at).unwrap();
        assert!(
            found.markdown.contains("```yaml\na: 1\nb:\n  - 2\n```"),
            "{}",
            found.markdown
        );
        assert!(found.markdown.contains("(line 1)"));
        assert_eq!(found.range, at..at + 2);
        assert!(hover(text, &whole(text), text.find("&b").unwrap()).is_none());
    }

    #[test]
    fn hover_is_bounded() {
        let mut text = String::from("big: &big\n");
        for i in 0..100 {
            text.push_str(&format!("  key{i}: value\n"));
        }
        text.push_str("use: *big\n");
        let found = hover(&text, &whole(&text), text.find("*big").unwrap()).unwrap();
        assert!(found.markdown.contains("key39: value"));
        assert!(!found.markdown.contains("key40:"));
        assert!(
            found.markdown.contains("cut: 60 more lines"),
            "{}",
            found.markdown
        );
        let mut wide = String::from("big: &w\n");
        for _ in 0..30 {
            wide.push_str(&format!("  - {}\n", "x".repeat(200)));
        }
        wide.push_str("use: *w\n");
        let found = hover(&wide, &whole(&wide), wide.find("*w").unwrap()).unwrap();
        assert!(found.markdown.len() < HOVER_BYTES + 300);
        assert!(found.markdown.contains("cut:"));
    }
}
