//! documentSymbol and foldingRange results written as JSON text straight from the features'
//! answers (handed around tower-lsp-server's response path, see `results`): the bytes
//! tower-lsp-server writes for the `ls_types` values `convert` makes of them, without those
//! values (serde_json's `Value` sorts an object's keys). A symbol read from an outline is placed with its kept lines and columns and its
//! document's first line; one read from a tree-sitter tree is converted with the rope.

use std::io::Write;

use ropey::Rope;
use tower_lsp_server::ls_types as lsp;

use super::results::FRAME_ROOM;
use crate::features::folding::Fold;
use crate::features::symbols::{Symbol, SymbolAnswer, SymbolKind, SymbolLines};
use crate::text::lines::LinePosition;
use crate::text::{self, Position, PositionEncoding};

/// The JSON of `convert::symbol` of every symbol of `answer`, as an array.
pub fn symbols(answer: &SymbolAnswer, rope: &Rope, encoding: PositionEncoding) -> Vec<u8> {
    let mut out = Vec::with_capacity(answer.documents.len() * 256 + FRAME_ROOM);
    out.push(b'[');
    let mut first = true;
    for document in &answer.documents {
        let mut lines = document.lines().map(|lines| lines.iter());
        for (index, symbol) in document.symbols().iter().enumerate() {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            let with_children = index < document.with_children();
            let mut at = Placing {
                rope,
                encoding,
                start: document.start,
                first_line: document.first_line,
                lines: lines.as_mut(),
            };
            write_symbol(&mut out, symbol, with_children, &mut at);
        }
    }
    out.push(b']');
    out
}

/// Where a document's symbols are: from their kept lines (taken in order) or the rope.
struct Placing<'a, 'l> {
    rope: &'a Rope,
    encoding: PositionEncoding,
    start: usize,
    first_line: usize,
    lines: Option<&'a mut std::slice::Iter<'l, SymbolLines>>,
}

impl Placing<'_, '_> {
    /// The next symbol's range and selection range.
    fn next(&mut self, symbol: &Symbol) -> [Position; 4] {
        match self.lines.as_mut().and_then(|lines| lines.next()) {
            Some(lines) => {
                let [start, end] = lines.range;
                let [selection_start, selection_end] = lines.selection;
                [start, end, selection_start, selection_end].map(|p| self.placed(p))
            }
            None => [
                symbol.range.start,
                symbol.range.end,
                symbol.selection_range.start,
                symbol.selection_range.end,
            ]
            .map(|offset| text::position_at(self.rope, self.start + offset, self.encoding)),
        }
    }

    fn placed(&self, position: LinePosition) -> Position {
        let character = match self.encoding {
            PositionEncoding::Utf8 => position.utf8,
            PositionEncoding::Utf16 => position.utf16,
        };
        Position::new(self.first_line as u32 + position.line, character)
    }

    /// Passes over the lines of symbols left out.
    fn skip(&mut self, symbols: &[Symbol]) {
        for symbol in symbols {
            if let Some(lines) = self.lines.as_mut() {
                lines.next();
            }
            self.skip(&symbol.children);
        }
    }
}

/// One symbol; serde_json's `Value` keeps an object's keys sorted, and so does this.
fn write_symbol(out: &mut Vec<u8>, symbol: &Symbol, with_children: bool, at: &mut Placing) {
    let [start, end, selection_start, selection_end] = at.next(symbol);
    out.extend_from_slice(b"{\"children\":[");
    match with_children {
        true => {
            for (index, child) in symbol.children.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_symbol(out, child, true, at);
            }
        }
        false => at.skip(&symbol.children),
    }
    out.push(b']');
    if let Some(detail) = &symbol.detail {
        out.extend_from_slice(b",\"detail\":");
        write_string(out, detail);
    }
    out.extend_from_slice(b",\"kind\":");
    let _ = serde_json::to_writer(&mut *out, &kind(symbol.kind));
    out.extend_from_slice(b",\"name\":");
    write_string(out, &symbol.name);
    out.extend_from_slice(b",\"range\":");
    write_range(out, start, end);
    out.extend_from_slice(b",\"selectionRange\":");
    write_range(out, selection_start, selection_end);
    out.push(b'}');
}

fn kind(kind: SymbolKind) -> lsp::SymbolKind {
    match kind {
        SymbolKind::Object => lsp::SymbolKind::OBJECT,
        SymbolKind::Module => lsp::SymbolKind::MODULE,
        SymbolKind::Array => lsp::SymbolKind::ARRAY,
        SymbolKind::Field => lsp::SymbolKind::FIELD,
    }
}

fn write_string(out: &mut Vec<u8>, text: &str) {
    let _ = serde_json::to_writer(&mut *out, text);
}

fn write_range(out: &mut Vec<u8>, start: Position, end: Position) {
    let _ = write!(
        out,
        "{{\"end\":{{\"character\":{},\"line\":{}}},\"start\":{{\"character\":{},\"line\":{}}}}}",
        end.character, end.line, start.character, start.line
    );
}

/// How a fold's JSON starts, what comes between its end and start lines, and how it ends.
const FOLD_JSON: [&str; 3] = ["{\"endLine\":", ",\"kind\":\"region\",\"startLine\":", "}"];

/// The JSON of `convert::fold` of every fold, as an array, in a buffer of its exact length and
/// the frame's room (a big answer is hundreds of KB: grown by doubling, it was copied once more).
pub fn folds(folds: &[Fold]) -> Vec<u8> {
    let fixed: usize = FOLD_JSON.iter().map(|part| part.len()).sum();
    let length = 2
        + folds.len().saturating_sub(1)
        + folds
            .iter()
            .map(|fold| fixed + digits(fold.end_line as u32) + digits(fold.start_line as u32))
            .sum::<usize>();
    let mut out = Vec::with_capacity(length + FRAME_ROOM);
    out.push(b'[');
    for (index, fold) in folds.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let [start, middle, end] = FOLD_JSON;
        let _ = write!(
            out,
            "{start}{}{middle}{}{end}",
            fold.end_line as u32, fold.start_line as u32
        );
    }
    out.push(b']');
    out
}

/// How many decimal digits `n` is written with.
fn digits(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// A documentSymbol result standing for a handed-off one (see `results`).
#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be set.
pub fn symbols_placeholder(marker: String) -> lsp::DocumentSymbolResponse {
    let nowhere = lsp::Range::default();
    lsp::DocumentSymbolResponse::Nested(vec![lsp::DocumentSymbol {
        name: marker,
        detail: None,
        kind: lsp::SymbolKind::NULL,
        tags: None,
        deprecated: None,
        range: nowhere,
        selection_range: nowhere,
        children: None,
    }])
}

/// A foldingRange result standing for a handed-off one (see `results`).
pub fn folds_placeholder(marker: String) -> Vec<lsp::FoldingRange> {
    vec![lsp::FoldingRange {
        collapsed_text: Some(marker),
        ..Default::default()
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::outline::OutlineCache;
    use crate::features::symbols::answer_symbols;
    use crate::text::cancel::Cancel;
    use crate::yaml::file::YamlFile;

    /// The `ls_types` values the server answered with before it wrote the JSON itself.
    mod convert {
        use super::*;

        #[allow(deprecated)] // `DocumentSymbol::deprecated` must still be set.
        pub fn symbol(rope: &Rope, s: &Symbol, encoding: PositionEncoding) -> lsp::DocumentSymbol {
            let range = |range: &std::ops::Range<usize>| {
                let at = |offset| {
                    let p = text::position_at(rope, offset, encoding);
                    lsp::Position::new(p.line, p.character)
                };
                lsp::Range::new(at(range.start), at(range.end))
            };
            lsp::DocumentSymbol {
                name: s.name.to_string(),
                detail: s.detail.as_deref().map(str::to_string),
                kind: kind(s.kind),
                tags: None,
                deprecated: None,
                range: range(&s.range),
                selection_range: range(&s.selection_range),
                children: Some(
                    s.children
                        .iter()
                        .map(|c| symbol(rope, c, encoding))
                        .collect(),
                ),
            }
        }

        pub fn fold(f: Fold) -> lsp::FoldingRange {
            lsp::FoldingRange {
                start_line: f.start_line as u32,
                end_line: f.end_line as u32,
                kind: Some(lsp::FoldingRangeKind::Region),
                ..Default::default()
            }
        }
    }

    /// What the `ls_types` values make through tower-lsp-server (a `Value`, then its text).
    fn through_values<T: serde::Serialize>(values: &T) -> Vec<u8> {
        serde_json::to_vec(&serde_json::to_value(values).unwrap()).unwrap()
    }

    fn texts() -> Vec<String> {
        let mut texts: Vec<String> = crate::yaml::corpus::yaml_files(&crate::yaml::corpus::root())
            .iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .collect();
        texts.push(
            "kind: ConfigMap\r\nmetadata:\r\n  name: \"é\\u00e9 \\\"q\\\"\"\r\n  namespace: 日本\r\ndata:\r\n  🚀: x\r\n---\rkind: A\rmetadata: {name: b}\r---\na: [1\n---\n\"k\": {é: 1}\n".to_string(),
        );
        texts
    }

    #[test]
    fn symbols_are_written_as_tower_lsp_server_writes_them() {
        let mut compared = 0;
        for text in texts() {
            let rope = Rope::from_str(&text);
            for limit in [usize::MAX, 5_000, 40, 3] {
                let mut file = YamlFile::open(&rope);
                let mut outlines = OutlineCache::default();
                let cancel = Cancel::default();
                let answer =
                    answer_symbols(&mut file, &rope, &mut outlines, limit, &cancel).unwrap();
                for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
                    let expected: Vec<lsp::DocumentSymbol> = answer
                        .to_symbols()
                        .iter()
                        .map(|s| convert::symbol(&rope, s, encoding))
                        .collect();
                    let written = symbols(&answer, &rope, encoding);
                    assert_eq!(
                        String::from_utf8(written).unwrap(),
                        String::from_utf8(through_values(&expected)).unwrap(),
                        "{encoding:?}, limit {limit}:\n{text}"
                    );
                    compared += expected.len();
                }
                let without_lines =
                    symbols(&answer.without_kept_lines(), &rope, PositionEncoding::Utf16);
                let answer =
                    answer_symbols(&mut file, &rope, &mut outlines, limit, &cancel).unwrap();
                assert_eq!(
                    without_lines,
                    symbols(&answer, &rope, PositionEncoding::Utf16)
                );
            }
        }
        assert!(compared > 1_000, "{compared} symbols compared");
    }

    #[test]
    fn folds_are_written_as_tower_lsp_server_writes_them() {
        let fold = |start_line, end_line| Fold {
            start_line,
            end_line,
        };
        for folds in [
            vec![],
            vec![fold(0, 3)],
            vec![fold(1, 20), fold(2, 4), fold(70_000, 80_000)],
            vec![fold(9, 10), fold(99, 100), fold(999, 4_294_967_295)],
        ] {
            let expected: Vec<lsp::FoldingRange> =
                folds.iter().copied().map(convert::fold).collect();
            let json = folds_json(&folds);
            assert_eq!(json, through_values(&expected));
            // Written into a buffer of its length and the frame's room: never grown (and
            // copied) on the way.
            assert_eq!(json.capacity(), json.len() + FRAME_ROOM);
        }
    }

    fn folds_json(folds: &[Fold]) -> Vec<u8> {
        super::folds(folds)
    }

    #[test]
    fn placeholders_are_results_of_the_request_s_type() {
        let symbols: lsp::DocumentSymbolResponse =
            serde_json::from_value(serde_json::to_value(symbols_placeholder("m".into())).unwrap())
                .unwrap();
        assert!(matches!(symbols, lsp::DocumentSymbolResponse::Nested(_)));
        let folds: Vec<lsp::FoldingRange> =
            serde_json::from_value(serde_json::to_value(folds_placeholder("m".into())).unwrap())
                .unwrap();
        assert_eq!(folds[0].collapsed_text.as_deref(), Some("m"));
    }
}
