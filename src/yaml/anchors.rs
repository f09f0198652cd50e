//! Anchors (`&name`) and aliases (`*name`) of one YAML document, with byte ranges: which anchor
//! each alias refers to (saphyr resolves that, a redefined anchor included), and the text of the
//! node each anchor marks. An alias whose anchor is not defined stops saphyr: the value layer
//! reports it (`alias *x is not defined`), and what follows it is not read here.

use std::collections::HashMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, Span};

use super::spans::CharToByte;

/// An anchor: its name (after the `&`) and the node it marks (from its first property, `&` or
/// tag, to the node's end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub name: Range<usize>,
    pub node: Range<usize>,
}

/// An alias: its name (after the `*`) and the anchor it refers to (an index into
/// [`Anchors::anchors`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub name: Range<usize>,
    pub anchor: usize,
}

/// The anchors and aliases of one text, in document order.
#[derive(Debug, Default)]
pub struct Anchors {
    pub anchors: Vec<Anchor>,
    pub aliases: Vec<Alias>,
}

/// What a name under the cursor is: an anchor, or an alias of one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnchorName {
    Anchor(usize),
    Alias(usize),
}

impl Anchors {
    /// The anchors and aliases of `text` (one document), up to its first syntax error.
    pub fn find(text: &str) -> Anchors {
        let mut finder = Finder {
            text,
            offsets: CharToByte::new(text),
            found: Anchors::default(),
            by_id: HashMap::new(),
            open: Vec::new(),
        };
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok((event, span))) = parser.next_event() {
            finder.event(event, span);
        }
        finder.found
    }

    /// The anchor or alias whose name (or `&`/`*`) is at `offset`, if any.
    pub fn at(&self, offset: usize) -> Option<AnchorName> {
        let holds = |name: &Range<usize>| name.start - 1 <= offset && offset <= name.end;
        if let Some(index) = self.anchors.iter().position(|a| holds(&a.name)) {
            return Some(AnchorName::Anchor(index));
        }
        let index = self.aliases.iter().position(|a| holds(&a.name))?;
        Some(AnchorName::Alias(index))
    }

    /// The anchor a name refers to.
    pub fn anchor_of(&self, name: AnchorName) -> usize {
        match name {
            AnchorName::Anchor(index) => index,
            AnchorName::Alias(index) => self.aliases[index].anchor,
        }
    }

    /// The aliases of anchor `anchor`.
    pub fn aliases_of(&self, anchor: usize) -> impl Iterator<Item = &Alias> {
        self.aliases.iter().filter(move |a| a.anchor == anchor)
    }
}

/// saphyr's error for an alias whose anchor is not defined (before it, in its document).
pub const UNKNOWN_ANCHOR: &str = "while parsing node, found unknown anchor";

/// The name of the alias `*name` at `start` of `text`.
pub fn alias_name_at(text: &str, start: usize) -> &str {
    let rest = text.get(start..).unwrap_or_default();
    let rest = rest.strip_prefix('*').unwrap_or(rest);
    let end = rest.find(ends_name).unwrap_or(rest.len());
    &rest[..end]
}

/// Whether `name` can be an anchor's name: not empty, no spaces, no flow indicators.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(ends_name)
}

fn ends_name(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}')
}

struct Finder<'t> {
    text: &'t str,
    offsets: CharToByte<'t>,
    found: Anchors,
    /// saphyr's anchor ids, to the anchors found.
    by_id: HashMap<usize, usize>,
    /// The open collections: their anchor, if they have one.
    open: Vec<Option<usize>>,
}

impl Finder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) {
        let start = self.offsets.byte(span.start.index());
        let end = self.offsets.byte(span.end.index()).max(start);
        match event {
            Event::Alias(id) => {
                if let Some(&anchor) = self.by_id.get(&id) {
                    let name = (start + 1).min(end)..end;
                    self.found.aliases.push(Alias { name, anchor });
                }
            }
            Event::Scalar(_, _, id, _) => {
                self.anchor(id, start, end);
            }
            Event::MappingStart(id, _) | Event::SequenceStart(id, _) => {
                let anchor = self.anchor(id, start, end);
                self.open.push(anchor);
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(Some(anchor)) = self.open.pop() {
                    let node = &mut self.found.anchors[anchor].node;
                    node.end = end.max(node.start);
                }
            }
            _ => {}
        }
    }

    /// Notes the anchor of a node starting at `start` (its properties), if it has one.
    fn anchor(&mut self, id: usize, start: usize, end: usize) -> Option<usize> {
        if id == 0 {
            return None;
        }
        let name = anchor_name(self.text, start)?;
        let index = self.found.anchors.len();
        self.found.anchors.push(Anchor {
            name,
            node: start..end,
        });
        self.by_id.insert(id, index);
        Some(index)
    }
}

/// The range of the anchor's name among the properties (`&a !t`, `!t &a`) starting at `at`.
fn anchor_name(text: &str, mut at: usize) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    while let Some(&first) = bytes.get(at) {
        let token_end = text[at..].find(ends_name).map_or(text.len(), |i| at + i);
        match first {
            b'&' => return Some(at + 1..token_end),
            b'!' => {
                at = token_end;
                while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
                    at += 1;
                }
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'t>(text: &'t str, found: &Anchors) -> (Vec<&'t str>, Vec<(&'t str, usize)>) {
        let anchors = found.anchors.iter().map(|a| &text[a.name.clone()]);
        let aliases = found
            .aliases
            .iter()
            .map(|a| (&text[a.name.clone()], a.anchor));
        (anchors.collect(), aliases.collect())
    }

    #[test]
    fn finds_anchors_aliases_and_their_nodes() {
        let text = "base: &base\n  a: 1\n  b: 2\nlist: !!seq &l [1, 2]\none: &o x\nuse: *base\nmore: [*l, *o]\n";
        let found = Anchors::find(text);
        let (anchors, aliases) = names(text, &found);
        assert_eq!(anchors, ["base", "l", "o"]);
        assert_eq!(aliases, [("base", 0), ("l", 1), ("o", 2)]);
        assert_eq!(
            text[found.anchors[0].node.clone()].trim_end(),
            "&base\n  a: 1\n  b: 2"
        );
        assert_eq!(&text[found.anchors[1].node.clone()], "!!seq &l [1, 2]");
        assert_eq!(&text[found.anchors[2].node.clone()], "&o x");
    }

    #[test]
    fn a_redefined_anchor_takes_the_aliases_after_it() {
        let text = "a: &x 1\nb: *x\nc: &x 2\nd: *x\n";
        let found = Anchors::find(text);
        assert_eq!(names(text, &found).1, [("x", 0), ("x", 1)]);
        assert_eq!(found.aliases_of(1).count(), 1);
    }

    #[test]
    fn the_name_under_the_cursor() {
        let text = "a: &x 1\nb: *x\n";
        let found = Anchors::find(text);
        assert_eq!(found.at(3), Some(AnchorName::Anchor(0)));
        assert_eq!(found.at(5), Some(AnchorName::Anchor(0)));
        assert_eq!(found.at(11), Some(AnchorName::Alias(0)));
        assert_eq!(found.at(13), Some(AnchorName::Alias(0)));
        assert_eq!(found.at(0), None);
        assert_eq!(found.anchor_of(AnchorName::Alias(0)), 0);
    }

    #[test]
    fn non_ascii_text_and_errors() {
        let text = "é: &ü 1\nb: *ü\nc: *missing\nd: *ü\n";
        let found = Anchors::find(text);
        // Reading stops at the alias that is not defined.
        assert_eq!(names(text, &found), (vec!["ü"], vec![("ü", 0)]));
        assert!(valid_name("a-b.1") && !valid_name("a b") && !valid_name("") && !valid_name("a,"));
    }
}
