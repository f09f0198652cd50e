//! Links to the web: every `http://` and `https://` URL of a file (in comments, in scalar values,
//! in block scalars), found by `linkify` (which leaves out trailing punctuation and unbalanced
//! closing brackets). URLs with Helm template actions in them are not links.

use std::ops::Range;

use linkify::{LinkFinder, LinkKind};

/// A URL and where it is written (byte offsets into the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlLink {
    pub range: Range<usize>,
    pub url: String,
}

/// The http(s) URLs of `text`.
pub fn url_links(text: &str) -> Vec<UrlLink> {
    if !text.contains("://") {
        return Vec::new();
    }
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    finder
        .links(text)
        .filter(|link| is_web(link.as_str()) && !link.as_str().contains("{{"))
        .map(|link| UrlLink {
            range: link.start()..link.end(),
            url: link.as_str().to_string(),
        })
        .collect()
}

fn is_web(url: &str) -> bool {
    let scheme = url.split("://").next().unwrap_or("");
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        url_links(text)
            .into_iter()
            .map(|link| {
                assert_eq!(&text[link.range.clone()], link.url);
                &text[link.range]
            })
            .collect()
    }

    #[test]
    fn finds_web_urls_in_comments_and_values() {
        let text = "# See https://kubernetes.io/docs/concepts/ (the docs).\nmetadata:\n  annotations:\n    docs: \"http://example.com/a?b=c#d\"\n    other: 'https://x.example/path'\n    ftp: ftp://example.com/file\n    text: |\n      Read https://example.org/long_(thing) now.\n    tpl: https://{{ .Values.host }}/x\n";
        assert_eq!(
            urls(text),
            [
                "https://kubernetes.io/docs/concepts/",
                "http://example.com/a?b=c#d",
                "https://x.example/path",
                "https://example.org/long_(thing)",
            ]
        );
        assert!(url_links("a: b\n").is_empty());
    }
}
