//! Snippet syntax (`$1`, `${1:text}`, `${1|a,b|}`) for clients without snippet support.

/// Snippet syntax as plain text: tab stops dropped, placeholders and first choices kept.
pub fn snippet_to_plain(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len());
    let mut chars = snippet.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '$' if chars.peek().is_some_and(|c| c.is_ascii_digit()) => {
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
            }
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                while chars.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                }
                match chars.next() {
                    // `${1:placeholder}`: keep the placeholder.
                    Some(':') => {}
                    // `${1|a,b|}`: keep nothing (the value is the user's choice).
                    Some('|') => {
                        for c in chars.by_ref() {
                            if c == '}' {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
            '}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_become_plain_text() {
        assert_eq!(snippet_to_plain("a: ${1|x,y|}"), "a: ");
        assert_eq!(snippet_to_plain("name: ${1:name}\n$0"), "name: name\n");
        assert_eq!(snippet_to_plain("cost: \\$5"), "cost: $5");
    }
}
