//! yaml-language-server's modeline: a comment line `# yaml-language-server: $schema=<value>`
//! (or `# $schema: <value>`) in a YAML document names the JSON schema the document follows;
//! `none` turns schema validation off for it. Read as yaml-language-server reads it: the first
//! full-line comment that is a modeline, and its first `$schema=` or `$schema:` value.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// A document's `$schema` modeline: its value and where the value is (document offsets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaModeline<'t> {
    pub value: &'t str,
    pub range: Range<usize>,
}

impl SchemaModeline<'_> {
    /// `$schema=none`: no schema validation for the document.
    pub fn is_none(&self) -> bool {
        self.value == "none"
    }

    /// A schema to download (`http://`, `https://`).
    pub fn is_url(&self) -> bool {
        let scheme = self.value.split("://").next().unwrap_or("");
        self.value.contains("://")
            && (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
    }
}

static MODELINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^#\s+(?:yaml-language-server\s*:|\$schema:)").expect("modeline pattern")
});
static SCHEMA: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$schema(?:=|:\s*)(\S+)").expect("schema pattern"));

/// The `$schema` modeline of one YAML document's text, if it has one.
pub fn schema_modeline(document: &str) -> Option<SchemaModeline<'_>> {
    if !document.contains("yaml-language-server") && !document.contains("$schema:") {
        return None;
    }
    let mut line_start = 0;
    for line in document.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let comment = line.trim_start();
        if !MODELINE.is_match(comment) {
            continue;
        }
        let comment_at = start + (line.len() - comment.len());
        let value = SCHEMA.captures(comment)?.get(1)?;
        let range = comment_at + value.start()..comment_at + value.end();
        return Some(SchemaModeline {
            value: &document[range.clone()],
            range,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_modeline_like_yaml_language_server() {
        let text = "# a comment\n# yaml-language-server: $schema=none\nkind: A\n";
        let found = schema_modeline(text).unwrap();
        assert!(found.is_none());
        assert_eq!(&text[found.range], "none");
        let text = "a: 1\n  #   yaml-language-server :  $schema=./schemas/a.json extra\n";
        assert_eq!(schema_modeline(text).unwrap().value, "./schemas/a.json");
        let text = "# $schema: https://example.com/s.json\n";
        let found = schema_modeline(text).unwrap();
        assert!(found.is_url() && !found.is_none());
        // `#` must be followed by a space; a value is needed; only comment lines count.
        assert_eq!(
            schema_modeline("#yaml-language-server: $schema=none\n"),
            None
        );
        assert_eq!(schema_modeline("# yaml-language-server: nothing\n"), None);
        assert_eq!(
            schema_modeline("a: '# yaml-language-server: $schema=none'\n"),
            None
        );
        assert!(!schema_modeline("# $schema: ./x.json").unwrap().is_url());
    }
}
