//! Turning findings off where they are meant: kube-linter's annotations on the object
//! (`ignore-check.kube-linter.io/<check>`, `kube-linter.io/ignore-all`), and comments
//! `# kube-lsp-ignore: <check>[, <check>]` on the line of the finding, on the comment lines right
//! above it, or at the top of the document (before its first content line). `all` names every
//! check. The same comments turn off any other finding by its code (`yaml-duplicate-key`,
//! `schema-unknown-field`, …: [`without_ignored`]). The quick fixes that write such a comment
//! are here too.

use std::ops::Range;

use ropey::Rope;

use crate::diagnostic::{Diagnostic, Fix};

/// The comment's marker.
pub const MARKER: &str = "kube-lsp-ignore:";
/// kube-linter's annotation prefix for one check, and its annotation for all of them.
const ANNOTATION_PREFIX: &str = "ignore-check.kube-linter.io/";
const ANNOTATION_ALL: &str = "kube-linter.io/ignore-all";

/// The suppressions of one document's text.
pub struct Suppressions<'t> {
    text: &'t str,
    /// Names in comments at the top of the document.
    top: Vec<&'t str>,
}

impl<'t> Suppressions<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut top = Vec::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with("---") || trimmed.starts_with('%') {
                continue;
            }
            match trimmed.strip_prefix('#') {
                Some(comment) => top.extend(names_in(comment)),
                None => break,
            }
        }
        Suppressions { text, top }
    }

    /// Whether a finding of `check` at `at` is turned off by a comment.
    pub fn by_comment(&self, check: &str, at: usize) -> bool {
        fn named<'n>(mut names: impl Iterator<Item = &'n str>, check: &str) -> bool {
            names.any(|n| n == check || n == "all")
        }
        if named(self.top.iter().copied(), check) {
            return true;
        }
        let at = at.min(self.text.len());
        let line_start = self.text[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |i| at + i);
        // A comment at the end of the finding's own line.
        if let Some(i) = self.text[line_start..line_end].find('#')
            && named(names_in(&self.text[line_start + i + 1..line_end]), check)
        {
            return true;
        }
        // The comment lines right above it.
        let mut above = self.text[..line_start].lines().rev();
        for line in above.by_ref() {
            let Some(comment) = line.trim().strip_prefix('#') else {
                break;
            };
            if named(names_in(comment), check) {
                return true;
            }
        }
        false
    }
}

/// `diagnostics` (file offsets) without those a `# kube-lsp-ignore: <code>` comment turns off:
/// on their line, on the comment lines right above, or at the top of their document
/// (`documents`: the documents' ranges, in order); and without those a
/// `# yaml-language-server-disable` comment turns off ([`disabled_by_yaml_language_server`]).
/// Cheap when no such comment exists.
pub fn without_ignored(
    rope: &Rope,
    documents: &[Range<usize>],
    diagnostics: Vec<Diagnostic>,
) -> Vec<Diagnostic> {
    let markers = crate::features::markers::Markers::of(rope);
    if diagnostics.is_empty() || !(markers.ignore || markers.disable) {
        return diagnostics;
    }
    let mut ignored = Ignored::new(rope, documents, markers.ignore, markers.disable);
    diagnostics
        .into_iter()
        .filter(|d| !ignored.hides(d.range.start, d.code.as_str(), &d.message))
        .collect()
}

/// Which findings [`without_ignored`] drops, asked one at a time: a document's comments are
/// read from its own text (not a copy of the file's) when one of its findings is first asked
/// about.
pub struct Ignored<'r> {
    rope: &'r Rope,
    documents: &'r [Range<usize>],
    /// Whether the text has `# kube-lsp-ignore:` comments, `# yaml-language-server-disable` ones.
    ignore: bool,
    disable: bool,
    texts: Vec<Option<std::borrow::Cow<'r, str>>>,
}

impl<'r> Ignored<'r> {
    /// For the documents `documents` (their ranges, in order) of `rope`, which has ignore
    /// comments when `ignore`, disable comments when `disable`.
    pub fn new(rope: &'r Rope, documents: &'r [Range<usize>], ignore: bool, disable: bool) -> Self {
        Ignored {
            rope,
            documents,
            ignore,
            disable,
            texts: vec![None; documents.len()],
        }
    }

    /// Whether a finding of `code` with `message` at `at` (a file offset) is dropped.
    pub fn hides(&mut self, at: usize, code: &str, message: &str) -> bool {
        let at = at.min(self.rope.len_bytes());
        if self.disable && self.disabled_at(at, message) {
            return true;
        }
        if !self.ignore {
            return false;
        }
        let index = self
            .documents
            .partition_point(|range| range.end <= at)
            .min(self.documents.len().saturating_sub(1));
        let Some(range) = self.documents.get(index) else {
            return false;
        };
        let rope = self.rope;
        let text = self.texts[index]
            .get_or_insert_with(|| crate::features::modeline::document_text(rope, range));
        Suppressions::new(text).by_comment(code, at.saturating_sub(range.start))
    }

    /// [`disabled_by_yaml_language_server`], reading only the line above `at`'s and `at`'s own.
    fn disabled_at(&self, at: usize, message: &str) -> bool {
        let Some(line_start) = after_newline_before(self.rope, at) else {
            return false;
        };
        let from = after_newline_before(self.rope, line_start - 1).unwrap_or(0);
        let window = std::borrow::Cow::from(self.rope.byte_slice(from..at));
        disabled_by_yaml_language_server(&window, at - from, message)
    }
}

/// The offset right after the last `\n` before `at`; `None` when there is none.
fn after_newline_before(rope: &Rope, at: usize) -> Option<usize> {
    let mut bytes = rope.bytes_at(at);
    let mut offset = at;
    while let Some(byte) = bytes.prev() {
        offset -= 1;
        if byte == b'\n' {
            return Some(offset + 1);
        }
    }
    None
}

/// yaml-language-server's comment that turns off the diagnostics of the next line.
pub const YAML_LANGUAGE_SERVER_DISABLE: &str = "yaml-language-server-disable";

/// Whether a `# yaml-language-server-disable [substring, …]` comment turns off a diagnostic
/// with `message` starting at `at` of `text`, as yaml-language-server reads it: the comment is
/// the whole line right above the diagnostic's first line; without substrings it turns off
/// every diagnostic there, else those whose message holds one of them (ignoring case).
pub fn disabled_by_yaml_language_server(text: &str, at: usize, message: &str) -> bool {
    let Some(line_start) = text[..at].rfind('\n') else {
        return false;
    };
    let above = &text[..line_start];
    let above = above[above.rfind('\n').map_or(0, |i| i + 1)..].trim_end_matches('\r');
    let Some(rest) = above.trim_start().strip_prefix('#').and_then(|comment| {
        comment
            .trim_start()
            .strip_prefix(YAML_LANGUAGE_SERVER_DISABLE)
    }) else {
        return false;
    };
    // The marker must end at a word boundary.
    if rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return false;
    }
    let substrings: Vec<String> = rest
        .split(',')
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let message = message.to_lowercase();
    substrings.is_empty() || substrings.iter().any(|s| message.contains(s.as_str()))
}

/// The checks an object's annotations turn off (`all` for kube-linter's ignore-all).
pub fn by_annotations<'t>(annotations: &[(&'t str, &'t str)]) -> Vec<&'t str> {
    annotations
        .iter()
        .filter_map(|(key, _)| {
            if *key == ANNOTATION_ALL {
                Some("all")
            } else {
                key.strip_prefix(ANNOTATION_PREFIX)
            }
        })
        .collect()
}

/// The checks a comment's text (after `#`) names.
fn names_in(comment: &str) -> impl Iterator<Item = &str> {
    comment
        .trim_start()
        .strip_prefix(MARKER)
        .into_iter()
        .flat_map(|list| list.split(','))
        .filter_map(|part| part.split_whitespace().next())
}

/// Quick fixes that turn `d` (a rule's finding, in file offsets) off with a comment: above its
/// line, and at the top of its document (`document`: the document's range).
pub fn fixes(rope: &Rope, document: Range<usize>, d: &Diagnostic) -> Vec<Fix> {
    let check = d.code.as_str();
    let mut fixes = Vec::new();
    let line = rope.byte_to_line(d.range.start.min(rope.len_bytes()));
    let line_start = rope.line_to_byte(line);
    let text: String = rope.line(line).chars().collect();
    let eol = if text.ends_with("\r\n") { "\r\n" } else { "\n" };
    let indent: String = text.chars().take_while(|c| *c == ' ').collect();
    let add = |existing: Option<(usize, String)>, at: usize, indent: &str| match existing {
        Some((start, comment)) => {
            let end = start + comment.trim_end_matches(['\r', '\n']).len();
            (end..end, format!(", {check}"))
        }
        None => (at..at, format!("{indent}# {MARKER} {check}{eol}")),
    };
    // An existing comment right above gets the check added to its list.
    let above = (line > 0)
        .then(|| {
            let start = rope.line_to_byte(line - 1);
            let text: String = rope.line(line - 1).chars().collect();
            (start, text)
        })
        .filter(|(start, text)| *start >= document.start && is_marker_comment(text));
    fixes.push(Fix {
        title: format!("Ignore {check} here (# {MARKER} comment)"),
        edits: vec![add(above, line_start, &indent)],
    });
    // The top of the document: after its `---` line and directives.
    let first_line = rope.byte_to_line(document.start.min(rope.len_bytes()));
    let mut top = first_line;
    let mut existing = None;
    while top < rope.len_lines() && rope.line_to_byte(top) < document.end {
        let text: String = rope.line(top).chars().collect();
        let trimmed = text.trim();
        if is_marker_comment(&text) {
            existing = Some((rope.line_to_byte(top), text));
            break;
        }
        if !(trimmed.starts_with("---") || trimmed.starts_with('%')) {
            break;
        }
        top += 1;
    }
    let at = rope.line_to_byte(top.min(rope.len_lines()));
    fixes.push(Fix {
        title: format!("Ignore {check} in this whole document"),
        edits: vec![add(existing, at, "")],
    });
    fixes
}

fn is_marker_comment(line: &str) -> bool {
    line.trim()
        .strip_prefix('#')
        .is_some_and(|comment| comment.trim_start().starts_with(MARKER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_turns_off_any_code_on_its_line_above_it_or_for_its_document() {
        use crate::diagnostic::codes;
        let text = "a: 1\na: 2 # kube-lsp-ignore: yaml-duplicate-key\nb: 1\nb: 2\n---\n# kube-lsp-ignore: yaml-duplicate-key\nc: 1\nc: 2\n";
        let rope = Rope::from_str(text);
        let documents = crate::yaml::split::split(text).documents;
        let at = |needle: &str| text.find(needle).unwrap();
        let found =
            |offset: usize| Diagnostic::error(offset..offset + 1, codes::DUPLICATE_KEY, "x");
        let kept = without_ignored(
            &rope,
            &documents,
            vec![found(at("a: 2")), found(at("b: 2")), found(at("c: 2"))],
        );
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].range.start, at("b: 2"));
    }

    #[test]
    fn yaml_language_server_disable_turns_off_the_next_line_as_it_does() {
        let text = "a: 1\n# yaml-language-server-disable\nb: 2\n  #  yaml-language-server-disable Incorrect TYPE, unknown\nc: 3\nd: 4 # yaml-language-server-disable\ne: 5\n# yaml-language-server-disabled\nf: 6\n";
        let at = |needle: &str| text.find(needle).unwrap();
        let off = |needle: &str, message: &str| {
            disabled_by_yaml_language_server(text, at(needle), message)
        };
        assert!(off("b: 2", "anything"));
        assert!(off("c: 3", "incorrect type: expected string"));
        assert!(off("c: 3", "Unknown field"));
        assert!(!off("c: 3", "duplicate key"));
        // Only a comment that is the whole line above, and only that line.
        assert!(!off("e: 5", "anything"));
        assert!(!off("d: 4", "anything"));
        assert!(!off("f: 6", "anything"));
        assert!(!off("a: 1", "anything"));
        let rope = Rope::from_str(text);
        let documents = crate::yaml::split::split(text).documents;
        let found = |needle: &str| {
            let offset = at(needle);
            Diagnostic::error(
                offset..offset + 1,
                crate::diagnostic::codes::DUPLICATE_KEY,
                "x",
            )
        };
        let kept = without_ignored(&rope, &documents, vec![found("b: 2"), found("e: 5")]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].range.start, at("e: 5"));
    }

    #[test]
    fn comments_on_the_line_above_and_at_the_top() {
        let text = "# kube-lsp-ignore: latest-tag\napiVersion: v1\nkind: Pod\nspec:\n  # why: legacy\n  # kube-lsp-ignore: host-pid, host-ipc (needed)\n  hostPID: true\n  hostIPC: true  # kube-lsp-ignore: host-ipc\n\n  hostNetwork: true\n";
        let s = Suppressions::new(text);
        let at = |needle: &str| text.find(needle).unwrap();
        assert!(s.by_comment("latest-tag", at("hostNetwork")));
        assert!(s.by_comment("host-pid", at("hostPID")));
        assert!(s.by_comment("host-ipc", at("hostPID")));
        assert!(s.by_comment("host-ipc", at("hostIPC")));
        assert!(!s.by_comment("host-pid", at("hostIPC")));
        assert!(!s.by_comment("host-network", at("hostNetwork")));
        assert!(Suppressions::new("---\n# kube-lsp-ignore: all\na: 1\n").by_comment("x", 10));
        assert_eq!(
            by_annotations(&[("ignore-check.kube-linter.io/latest-tag", "ok"), ("a", "b")]),
            ["latest-tag"]
        );
    }
}
