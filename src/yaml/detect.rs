//! Cheap looks at a text before anything parses it: whether it may hold Kubernetes objects, and
//! whether it is a Helm chart template (Go template actions, which no YAML reading makes sense
//! of until the chart is rendered).

use std::ops::Range;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;
use ropey::{Rope, RopeSlice};

/// Which of the two keys every Kubernetes object has a text mentions. A word search, no parse: a
/// comment or a value counts too, so a text can look like a manifest and not be one; a text
/// that mentions neither is surely none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TypeKeys {
    pub api_version: bool,
    pub kind: bool,
}

impl TypeKeys {
    pub fn in_rope(slice: RopeSlice<'_>) -> Self {
        TypeKeys {
            api_version: crate::text::contains(slice, "apiVersion"),
            kind: crate::text::contains(slice, "kind"),
        }
    }

    pub fn in_text(text: &[u8]) -> Self {
        static API_VERSION: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("apiVersion"));
        static KIND: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("kind"));
        TypeKeys {
            api_version: API_VERSION.find(text).is_some(),
            kind: KIND.find(text).is_some(),
        }
    }

    /// May be a Kubernetes object, a complete one or not: worth validating (validation says
    /// which key is missing).
    pub fn any(self) -> bool {
        self.api_version || self.kind
    }

    /// May be a complete Kubernetes object: worth sending to a cluster.
    pub fn both(self) -> bool {
        self.api_version && self.kind
    }
}

/// Whether a file's path names YAML of another tool, which holds no Kubernetes objects: GitHub
/// workflows (`.github/workflows/*`) and actions (`action.yml`), Docker Compose files, Helm's
/// `Chart.yaml` and values files, GitLab CI. kube-lsp offers no Kubernetes completion there
/// unless a document names an apiVersion or kind.
pub fn other_tool_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    let folder = |at: usize| {
        path.ancestors()
            .nth(at)
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
    };
    let workflow = folder(1) == Some("workflows") && folder(2) == Some(".github");
    let compose = ["docker-compose", "compose"]
        .iter()
        .any(|base| stem == *base || stem.starts_with(&format!("{base}.")));
    let values = stem == "values" || stem.starts_with("values-") || stem.starts_with("values.");
    workflow
        || compose
        || values
        || matches!(stem, "action" | "Chart" | ".gitlab-ci" | "dependabot")
}

/// The `{{` of the first Go template action in the text (`{{ .Values.x }}`, `{{- if … }}`): the
/// text is a Helm chart template. Braces that open no action (`"{{ not closed"`, `{{x}}`) do
/// not count. Over the rope's chunks with one searcher and no copies: the server asks after
/// every edit.
pub fn template_action(rope: &Rope) -> Option<Range<usize>> {
    first_template_action(rope.chunks(), |at| {
        rope.bytes_at(at).take(ACTION_PEEK).collect()
    })
}

/// [`template_action`] on a text as one string.
pub fn template_action_in(text: &str) -> Option<Range<usize>> {
    first_template_action(std::iter::once(text), |at| {
        text.as_bytes()[at..]
            .iter()
            .take(ACTION_PEEK)
            .copied()
            .collect()
    })
}

/// Whether the bytes `start..end` of `rope`, just written by an edit, may have made a template
/// action in a text that had none: one whose `{{`, or the bytes after it that tell it opens an
/// action, lie in or next to them. Reads only that neighbourhood.
pub fn template_action_near(rope: &Rope, start: usize, end: usize) -> bool {
    let len = rope.len_bytes();
    let from = rope.byte_to_char(start.saturating_sub(ACTION_PEEK + 2).min(len));
    let to = rope.byte_to_char((end + ACTION_PEEK + 2).min(len));
    template_action_in(&rope.slice(from..to).to_string()).is_some()
}

/// How many bytes after a `{{` tell whether it opens a template action.
const ACTION_PEEK: usize = 64;

/// The first `{{` in `chunks` (the text in order) that opens a template action; `after(at)`
/// gives the text's next [`ACTION_PEEK`] bytes from offset `at`.
fn first_template_action<'a>(
    chunks: impl Iterator<Item = &'a str>,
    after: impl Fn(usize) -> Vec<u8>,
) -> Option<Range<usize>> {
    static OPENING: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("{{"));
    let mut offset = 0;
    let mut previous = 0u8;
    for chunk in chunks {
        let bytes = chunk.as_bytes();
        let straddling = (previous == b'{' && bytes.first() == Some(&b'{')).then(|| offset - 1);
        let found = straddling
            .into_iter()
            .chain(OPENING.find_iter(bytes).map(|i| offset + i))
            .find(|&at| is_template_action(&after(at + 2)));
        if let Some(at) = found {
            return Some(at..at + 2);
        }
        offset += bytes.len();
        previous = bytes.last().copied().unwrap_or(previous);
    }
    None
}

/// Whether the text right after a `{{` opens a Go template action (`{{ .Values.x }}`,
/// `{{- if ... }}`), as opposed to text that happens to hold braces.
fn is_template_action(after: &[u8]) -> bool {
    let after = String::from_utf8_lossy(after);
    let inner = after.trim_start_matches('-').trim_start();
    let closes = after.contains("}}");
    closes
        && (inner.starts_with(['.', '$'])
            || [
                "if ",
                "else",
                "end",
                "range ",
                "with ",
                "include ",
                "template ",
                "define ",
                "toYaml",
                "tpl ",
                "printf ",
                "default ",
                "quote ",
                "/*",
            ]
            .iter()
            .any(|word| inner.starts_with(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_tools_files_by_path() {
        for path in [
            "/repo/.github/workflows/ci.yml",
            "/repo/.github/workflows/release.yaml",
            "/repo/docker-compose.yml",
            "/repo/docker-compose.override.yaml",
            "/repo/compose.yaml",
            "/repo/chart/Chart.yaml",
            "/repo/chart/values.yaml",
            "/repo/values-prod.yaml",
            "/repo/.gitlab-ci.yml",
            "/repo/action.yml",
        ] {
            assert!(other_tool_file(Path::new(path)), "{path}");
        }
        for path in [
            "/repo/deploy/deployment.yaml",
            "/repo/workflows/argo.yaml",
            "/repo/composer.yaml",
            "/repo/values.json",
            "/repo/k8s/compose-app.yaml",
        ] {
            assert!(!other_tool_file(Path::new(path)), "{path}");
        }
    }

    #[test]
    fn type_keys_are_words_anywhere_in_the_text() {
        let check = |text: &str| {
            let found = TypeKeys::in_text(text.as_bytes());
            assert_eq!(
                found,
                TypeKeys::in_rope(Rope::from_str(text).slice(..)),
                "{text}"
            );
            found
        };
        let both = check("apiVersion: v1\nkind: Pod\n");
        assert!(both.any() && both.both());
        let kind_only = check("# a comment\nkind: Pod\n");
        assert!(kind_only.any() && !kind_only.both());
        assert!(check("metadata: {note: apiVersion}\n").any());
        let neither = check("name: web\nreplicas: 2\n");
        assert!(!neither.any() && !neither.both());
    }

    #[test]
    fn an_action_an_edit_made_is_found_near_it() {
        let padding = "# padding\n".repeat(100);
        // The `{{` written before the edit, the rest of the action by it.
        let text = format!("{padding}a: {{{{ .Values.a }}}}\n{padding}");
        let rope = Rope::from_str(&text);
        let dot = text.find(".Values").unwrap();
        assert!(template_action_near(&rope, dot, dot + 1));
        // Far from the edit, the action is not looked at.
        assert!(!template_action_near(&rope, 0, 10));
        assert!(!template_action_near(&rope, text.len() - 5, text.len()));
        // Braces that open no action.
        let text = format!("{padding}a: \"{{{{x\"\n");
        let rope = Rope::from_str(&text);
        assert!(!template_action_near(&rope, 0, text.len()));
        // Multi-byte characters where the window ends.
        let text = format!("{}a: {{{{ .b }}}}", "é".repeat(100));
        let rope = Rope::from_str(&text);
        assert!(template_action_near(&rope, 151, 152));
        assert!(!template_action_near(&rope, 101, 102));
        assert!(template_action_near(&rope, text.len(), text.len()));
        let text = format!("a: {{{{ .b }}}}{}", "é".repeat(100));
        let rope = Rope::from_str(&text);
        assert!(template_action_near(&rope, 0, 2));
    }

    #[test]
    fn helm_actions_are_found_after_other_braces_and_next_to_any_text() {
        let after_braces =
            "data:\n  t: \"{{ not closed\"\n  u: \"{{x}}\"\nname: {{ .Release.Name }}\n";
        // Multi-byte characters where the look past `{{` ends.
        let wide = format!("a: \"{{{{x{}\"\nb: {{{{ .Values.b }}}}\n", "é".repeat(40));
        for text in [after_braces, wide.as_str()] {
            let rope = Rope::from_str(text);
            let expected = text.rfind("{{").unwrap();
            for found in [template_action(&rope), template_action_in(text)] {
                assert_eq!(found, Some(expected..expected + 2), "{text}");
            }
        }
        // Braces split between two chunks of a big rope.
        let text = format!("{}a: {{{{ .Values.a }}}}\n", "# padding\n".repeat(5_000));
        let rope = Rope::from_str(&text);
        assert!(rope.chunks().count() > 10);
        assert!(template_action(&rope).is_some());
        // Braces that open no action.
        let text = "data:\n  t: \"{{ not closed\"\n  argo: \"{{inputs.parameters.x}}\"\n";
        assert_eq!(template_action(&Rope::from_str(text)), None);
        assert_eq!(template_action_in(text), None);
    }
}
