//! Tests of `YamlFile`: edits stay local and match fresh checks.

use super::*;
use crate::text::{Position, PositionEncoding, TextDocument};

pub(super) fn manifest(i: usize) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\ndata:\n  key: value-{i}\n")
}

fn ten_documents() -> String {
    (0..10).map(manifest).collect::<Vec<_>>().join("---\n")
}

pub(super) struct Fixture {
    pub(super) text: TextDocument,
    pub(super) file: YamlFile,
}

impl Fixture {
    pub(super) fn new(text: &str) -> Self {
        let text = TextDocument::new(text, 0);
        let file = YamlFile::open(text.rope());
        Self { text, file }
    }

    pub(super) fn edit(&mut self, line: u32, from: u32, to: u32, insert: &str) {
        let range = Position::new(line, from)..Position::new(line, to);
        let edit = self
            .text
            .apply_change(Some(range), insert, PositionEncoding::Utf8);
        self.file.apply_edit(self.text.rope(), &edit);
    }

    /// The file as it would be if opened afresh, to compare with the incremental result.
    pub(super) fn reopened(&self) -> YamlFile {
        YamlFile::open(self.text.rope())
    }

    fn diagnostics(&self) -> Vec<Diagnostic> {
        self.file.diagnostics().collect()
    }
}

#[test]
fn an_edit_reparses_only_the_document_it_touches() {
    let mut fx = Fixture::new(&ten_documents());
    assert_eq!(fx.file.documents().len(), 10);
    let line = 7 * 7 + 3; // metadata.name of document 7
    fx.file.tree(fx.text.rope(), 7);
    let before = fx.file.stats();
    fx.edit(line, 8, 8, "x");
    fx.edit(line, 8, 9, "");
    let after = fx.file.stats();
    assert_eq!(
        after.full, before.full,
        "no document was parsed from scratch"
    );
    assert_eq!(after.incremental, before.incremental + 2);
    assert_eq!(after.resplits, 0);
}

#[test]
fn the_first_edit_of_a_document_builds_its_tree_and_later_ones_reuse_it() {
    let mut fx = Fixture::new(&ten_documents());
    let before = fx.file.stats();
    fx.edit(3, 8, 8, "x");
    assert_eq!(fx.file.stats().full, before.full + 1);
    fx.edit(3, 8, 9, "");
    assert_eq!(fx.file.stats().full, before.full + 1);
    assert_eq!(fx.file.stats().incremental, before.incremental + 1);
}

#[test]
fn adding_a_marker_resplits_and_keeps_untouched_documents() {
    let mut fx = Fixture::new(&ten_documents());
    let before = fx.file.stats();
    // Split document 2 in two, between `metadata` and `data`.
    fx.edit(2 * 7 + 4, 0, 0, "---\n");
    assert_eq!(fx.file.documents().len(), 11);
    let after = fx.file.stats();
    assert_eq!(after.resplits, 1);
    assert_eq!(
        after.full - before.full,
        2,
        "only the two halves are checked again"
    );
    let ranges: Vec<_> = fx.file.documents().iter().map(|d| d.range()).collect();
    let fresh: Vec<_> = fx
        .reopened()
        .documents()
        .iter()
        .map(|d| d.range())
        .collect();
    assert_eq!(ranges, fresh);
}

#[test]
fn removing_a_marker_merges_documents() {
    let mut fx = Fixture::new(&ten_documents());
    fx.edit(6, 0, 3, "");
    assert_eq!(fx.file.documents().len(), 9);
    // The merged document has duplicate keys now.
    assert!(
        fx.diagnostics()
            .iter()
            .any(|d| d.code == codes::DUPLICATE_KEY)
    );
}

#[test]
fn diagnostics_follow_edits_in_other_documents() {
    let mut fx = Fixture::new(&format!("{}---\na: 1\na: 2\n", manifest(0)));
    let before = fx.diagnostics();
    assert_eq!(before.len(), 1);
    fx.edit(3, 8, 8, "longer-");
    let after = fx.diagnostics();
    assert_eq!(after[0].range.start, before[0].range.start + 7);
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
}

/// A document over the whole-recheck limit, so edits take the incremental path.
fn big_document() -> String {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    for i in 0..5000 {
        text.push_str(&format!("  key-{i}: value {i}\n"));
    }
    text
}

#[test]
fn incremental_recheck_of_a_big_document_matches_a_fresh_check() {
    let mut fx = Fixture::new(&big_document());
    fx.file.tree(fx.text.rope(), 0);
    // Make key-10 a duplicate of key-11, then change it back, then break the syntax.
    fx.edit(15, 6, 8, "11");
    assert_eq!(fx.diagnostics().len(), 1);
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
    fx.edit(15, 6, 8, "10");
    assert!(fx.diagnostics().is_empty());
    fx.edit(20, 0, 0, "\t");
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
    fx.edit(20, 0, 1, "");
    assert!(fx.diagnostics().is_empty(), "{:?}", fx.diagnostics());
    assert_eq!(fx.file.stats().resplits, 0);
}

#[test]
fn a_nul_in_a_big_document_stays_an_error_after_edits_elsewhere() {
    let mut fx = Fixture::new(&big_document());
    fx.file.tree(fx.text.rope(), 0);
    // `  key-10: value 10`: a NUL in the value, which tree-sitter reads without an error.
    fx.edit(15, 16, 16, "\0");
    assert!(!fx.file.existing_tree(0).unwrap().root_node().has_error());
    let unprintable = fx.reopened().diagnostics().collect::<Vec<_>>();
    assert_eq!(unprintable.len(), 1);
    assert_eq!(unprintable[0].message, "Found unprintable character");
    assert_eq!(fx.diagnostics(), unprintable);
    // Edits far from it, in a value and on a line of its own, keep it.
    fx.edit(3000, 4, 4, "x");
    assert_eq!(fx.diagnostics(), unprintable);
    fx.edit(4000, 0, 0, "  key-x: 1\n");
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
    // Deleted, it is gone.
    fx.edit(15, 16, 17, "");
    assert!(fx.diagnostics().is_empty(), "{:?}", fx.diagnostics());
    assert!(fx.reopened().diagnostics().next().is_none());
}

#[test]
fn a_mended_document_is_reparsed_against_its_last_clean_tree() {
    // A duplicate key far from the edit, which the broken and the mended states both keep, and
    // a quoted value that ends the string a quote typed above it opens.
    let text = big_document()
        .replace("  key-4000:", "  key-3999:")
        .replace("value 200\n", "\"value 200\"\n");
    let mut fx = Fixture::new(&text);
    fx.file.tree(fx.text.rope(), 0);
    // `  key-100: value 100`: an opening quote before the value makes the rest a string.
    let line = 5 + 100;
    fx.file.take_changes(0);
    let before = fx.file.stats();
    fx.edit(line, 11, 11, "\"");
    assert!(fx.file.is_broken(0));
    let after = fx.file.stats();
    assert_eq!(after.checked_around, before.checked_around + 1);
    assert_eq!(
        after.whole_rechecks, before.whole_rechecks,
        "the broken document is checked around the edit"
    );
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
    // What the broken state changed is taken (and not validated), as the layer above does.
    fx.file.take_changes(0);
    // Typed inside the string, then the quote deleted: the document parses again.
    fx.edit(line, 12, 12, "x");
    let before = fx.file.stats();
    fx.edit(line, 11, 12, "");
    let after = fx.file.stats();
    assert!(!fx.file.is_broken(0));
    assert_eq!(after.mended, before.mended + 1);
    assert_eq!(after.full, before.full);
    assert_eq!(
        after.whole_rechecks, before.whole_rechecks,
        "the mended document is not checked whole"
    );
    // Since the clean state, only the edited value changed.
    let line_start = fx.text.rope().line_to_byte(line as usize);
    match fx.file.take_changes(0) {
        Changes::Within(changed) => {
            assert!(changed.start >= line_start - 40, "{changed:?}");
            assert!(changed.end <= line_start + 40, "{changed:?}");
        }
        other => panic!("{other:?}"),
    }
    let diagnostics = fx.diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].code, codes::DUPLICATE_KEY);
    assert_eq!(diagnostics, fx.reopened().diagnostics().collect::<Vec<_>>());
    assert_eq!(
        fx.file.existing_tree(0).unwrap().root_node().to_sexp(),
        fresh_tree_of(&fx, 0)
    );
}

#[test]
fn breaking_and_mending_edits_anywhere_match_fresh_checks() {
    let text = big_document().replace("  key-4000:", "  key-3999:");
    let mut fx = Fixture::new(&text);
    fx.file.tree(fx.text.rope(), 0);
    // Quotes, brackets and colons opened and closed at lines spread over the document, with
    // edits elsewhere while it is broken.
    let mut mended = 0;
    for (round, line) in (5..5000).step_by(397).enumerate() {
        let line = line as u32;
        let opener = ["\"", "'", "[", "{", ": :"][round % 5];
        let width = opener.len() as u32;
        fx.edit(line, 11, 11, opener);
        fx.edit(line + 3, 2, 2, "z");
        if round % 2 == 0 {
            fx.edit(line + 1, 0, 0, "  other: 1\n");
            fx.edit(line + 1, 0, 11, "");
        }
        assert_eq!(
            fx.diagnostics(),
            fx.reopened().diagnostics().collect::<Vec<_>>(),
            "broken at line {line} by {opener:?}"
        );
        let before = fx.file.stats().mended;
        fx.edit(line, 11, 11 + width, "");
        fx.edit(line + 3, 2, 3, "");
        mended += fx.file.stats().mended - before;
        assert!(!fx.file.is_broken(0), "mended at line {line}");
        assert_eq!(
            fx.diagnostics(),
            fx.reopened().diagnostics().collect::<Vec<_>>(),
            "mended at line {line} from {opener:?}"
        );
        assert_eq!(
            fx.file.existing_tree(0).unwrap().root_node().to_sexp(),
            fresh_tree_of(&fx, 0)
        );
    }
    assert!(mended >= 10, "{mended} mended");
}

/// A ConfigMap over [`BACKGROUND_TREE_MIN`] after a small document.
fn huge_document() -> String {
    let mut text = manifest(0) + "---\n" + &big_document().replace("name: big", "name: huge");
    for i in 5000..14_000 {
        text.push_str(&format!("  key-{i}: value {i}\n"));
    }
    assert!(text.len() > BACKGROUND_TREE_MIN);
    text
}

/// The tree tree-sitter gives the document's current text from scratch.
fn fresh_tree_of(fx: &Fixture, index: usize) -> String {
    let range = fx.file.documents()[index].range();
    syntax::parse(fx.text.rope(), range, None)
        .root_node()
        .to_sexp()
}

#[test]
fn a_big_documents_first_tree_is_parsed_in_the_background_and_catches_up_with_edits() {
    let mut fx = Fixture::new(&huge_document());
    let big_line = 7 + 5 + 100; // key-100 of the big document
    // The first edit checks the document with saphyr and leaves the tree to its thread.
    fx.edit(big_line, 2, 2, "x");
    assert!(fx.file.existing_tree(1).is_none());
    assert!(fx.file.documents()[1].building.is_some());
    assert!(fx.file.tree_in_progress(1) && !fx.file.tree_in_progress(0));
    // Edits while it is parsed: one in the big document making a duplicate key, one in the
    // small document before it (which moves the big one), one on the big one's first line.
    fx.edit(big_line + 1, 2, 9, "xkey-100");
    fx.edit(5, 2, 5, "k");
    fx.edit(7, 0, 0, "# first line\n");
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
    assert_eq!(fx.diagnostics().len(), 1, "{:?}", fx.diagnostics());
    // Asked for, the tree is the one a fresh parse of the current text gives.
    let tree = fx
        .file
        .tree(fx.text.rope(), 1)
        .expect("a tree")
        .root_node()
        .to_sexp();
    assert_eq!(tree, fresh_tree_of(&fx, 1));
    assert!(fx.file.documents()[1].building.is_none());
    assert!(!fx.file.tree_in_progress(1));
    // From then on edits are incremental and still right.
    let before = fx.file.stats();
    // `  xkey-100: value 101` (one line lower now) becomes `  key-1000: …`, another duplicate.
    fx.edit(big_line + 2, 2, 9, "key-100");
    assert_eq!(fx.file.stats().incremental, before.incremental + 1);
    assert_eq!(fx.file.stats().full, before.full);
    assert_eq!(
        fx.diagnostics(),
        fx.reopened().diagnostics().collect::<Vec<_>>()
    );
    let messages: Vec<String> = fx.diagnostics().into_iter().map(|d| d.message).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("`key-1000`"), "{messages:?}");
}

#[test]
fn a_big_documents_first_tree_is_parsed_from_a_clean_text() {
    // No span tree kept (as for a document validation does not read): its tree is started on
    // an edit.
    let mut fx = Fixture::new(&huge_document());
    let big_line = 7 + 5 + 100; // `  key-100: value 100` of the big document
    // An opening quote makes the rest of the document a string: no tree is started from that.
    fx.edit(big_line, 11, 11, "\"");
    assert!(!fx.diagnostics().is_empty());
    assert!(!fx.file.tree_in_progress(1) && fx.file.existing_tree(1).is_none());
    // Deleted again, the document is clean: its tree is started.
    fx.edit(big_line, 11, 12, "");
    assert!(fx.diagnostics().is_empty());
    assert!(fx.file.tree_in_progress(1));
    fx.assert_fresh("mended");
}

#[test]
fn a_big_document_on_its_kept_span_tree_gets_no_tree_sitter_tree_from_edits() {
    let mut fx = Fixture::keeping_spans(&huge_document());
    let big_line = 7 + 5 + 100;
    let line_start = fx.text.rope().line_to_byte(big_line);
    // A character typed, an opening quote that breaks the document, the quote deleted.
    for (range, insert) in [(2..2, "x"), (11..11, "\""), (11..12, "")] {
        fx.edit_bytes(line_start + range.start..line_start + range.end, insert);
        assert!(!fx.file.tree_in_progress(1) && fx.file.existing_tree(1).is_none());
    }
    assert!(fx.file.kept_spans(1).is_some());
    fx.assert_fresh("edited on the kept span tree");
}

#[test]
fn a_broken_big_document_on_its_kept_span_tree_gets_a_tree_of_its_text_until_mended() {
    // On its kept span tree, argocd's big CRD document is broken by two edits: a key typed on a
    // line, then `x` after `jsonnet:` (a plain scalar for a key line); deleting the `x` mends it.
    let (mut fx, index, end) = Fixture::at_argocds_jsonnet_key(Fixture::keeping_spans);
    let line_start = end - "jsonnet:".len() - 54;
    let new_line = format!("{}new-key: 1\n", " ".repeat(54));
    fx.edit_bytes(line_start..line_start, &new_line);
    assert!(!fx.file.is_broken(index));
    let end = end + new_line.len();
    fx.edit_bytes(end..end, "x");
    assert!(fx.file.is_broken(index) && fx.file.kept_spans(index).is_none());
    // Its folds ask for its tree: the broken text's, as a fresh parse gives it, beside the span
    // tree; the document itself gets no tree.
    let tree = fx.file.tree(fx.text.rope(), index).expect("a tree");
    assert_eq!(tree.root_node().to_sexp(), fresh_tree_of(&fx, index));
    // Edited while broken, it is brought up to date when asked for again.
    fx.edit_bytes(end + 1..end + 1, "y");
    let tree = fx.file.tree(fx.text.rope(), index).expect("a tree");
    assert_eq!(tree.root_node().to_sexp(), fresh_tree_of(&fx, index));
    assert!(fx.file.existing_tree(index).is_none() && fx.has_broken_tree(index));
    // The edit that mends it splices the span tree again, with no tree-sitter parse, and the tree
    // of the broken text is dropped.
    let (steps, before) = (syntax::parse_steps(), fx.file.stats());
    fx.edit_bytes(end..end + 2, "");
    assert_eq!(syntax::parse_steps(), steps, "no tree-sitter parse");
    assert_eq!(fx.file.stats().spliced, before.spliced + 1);
    assert!(!fx.file.is_broken(index) && fx.file.kept_spans(index).is_some());
    assert!(fx.file.existing_tree(index).is_none() && !fx.has_broken_tree(index));
    fx.assert_fresh("mended");
}

#[test]
fn an_edit_after_the_background_tree_arrived_adopts_it() {
    let mut fx = Fixture::new(&huge_document());
    let big_line = 7 + 5 + 200;
    fx.edit(big_line, 2, 2, "x");
    // Wait for the parse without taking the tree, then edit again: the tree is adopted.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let document = &mut fx.file.documents[1];
        let mut building = document.building.take().expect("still in progress");
        match building.parsed.try_recv() {
            Ok(tree) => {
                document.building = Some(Box::new(TreeInProgress::ready(
                    tree,
                    std::mem::take(&mut building.edits),
                )));
                break;
            }
            Err(_) if std::time::Instant::now() < deadline => {
                document.building = Some(building);
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(error) => panic!("no tree: {error:?}"),
        }
    }
    fx.edit(big_line, 2, 3, "");
    assert!(fx.file.documents()[1].building.is_none());
    let tree = fx
        .file
        .existing_tree(1)
        .expect("adopted")
        .root_node()
        .to_sexp();
    assert_eq!(tree, fresh_tree_of(&fx, 1));
    assert!(fx.diagnostics().is_empty(), "{:?}", fx.diagnostics());
}

impl Fixture {
    /// Opened as the server opens a file: each document's span tree read by validation, then
    /// given back (big documents keep it until their first tree-sitter tree).
    fn keeping_spans(text: &str) -> Self {
        let mut fx = Fixture::new(text);
        for index in 0..fx.file.documents().len() {
            if let Some(spans) = fx.file.take_spans(index) {
                fx.file.keep_spans(index, spans);
            }
            fx.file.take_changes(index);
        }
        fx
    }

    /// Replaces a byte range of the text.
    fn edit_bytes(&mut self, range: Range<usize>, insert: &str) {
        let rope = self.text.rope();
        let position = |offset: usize| {
            let line = rope.byte_to_line(offset);
            Position::new(line as u32, (offset - rope.line_to_byte(line)) as u32)
        };
        let range = position(range.start)..position(range.end);
        let edit = self
            .text
            .apply_change(Some(range), insert, PositionEncoding::Utf8);
        self.file.apply_edit(self.text.rope(), &edit);
        // What validation does after each edit: a whole check's span tree read and given back.
        for index in 0..self.file.documents().len() {
            if let Some(spans) = self.file.take_spans(index) {
                self.file.keep_spans(index, spans);
            }
        }
    }

    fn assert_fresh(&self, what: &str) {
        let fresh: Vec<Diagnostic> = self.reopened().diagnostics().collect();
        assert_eq!(self.diagnostics(), fresh, "{what}");
    }
}

/// `key: value` lines of argocd's 1.4 MB ApplicationSet CRD, deep inside it.
fn argocd_deep_lines(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut offset = 0;
    text.split_inclusive('\n')
        .map(move |line| {
            let start = offset;
            offset += line.len();
            (start, line.trim_end().len())
        })
        .skip(17_000)
        .filter(|&(start, length)| {
            text[start..start + length]
                .trim_start()
                .starts_with("type: ")
        })
}

#[test]
fn the_first_edits_of_a_big_document_parse_only_the_entries_around_them() {
    let text = crate::yaml::corpus::read("real/argocd-install.yaml");
    let mut fx = Fixture::keeping_spans(&text);
    let (line, length) = argocd_deep_lines(&text).next().expect("a `type:` line");
    let end = line + length;
    let document = fx.file.document_index_at(end);
    assert!(fx.file.documents()[document].range().len() > 1_000_000);
    assert!(fx.file.kept_spans(document).is_some(), "kept from the open");
    let before = fx.file.stats();
    fx.edit_bytes(end..end, "x");
    let after = fx.file.stats();
    assert_eq!(after.full, before.full, "no document checked whole");
    assert_eq!(after.spliced, before.spliced + 1);
    assert!(
        after.spliced_bytes - before.spliced_bytes < 16 * 1024,
        "{} bytes parsed",
        after.spliced_bytes - before.spliced_bytes
    );
    let start = fx.file.documents()[document].range().start;
    match fx.file.take_changes(document) {
        Changes::Within(changed) => {
            assert!(
                changed.contains(&(end - start)) && changed.len() < 16 * 1024,
                "{changed:?}"
            )
        }
        other => panic!("changed {other:?}"),
    }
    fx.assert_fresh("a character typed");
}

#[test]
fn edits_of_a_big_document_before_its_tree_match_fresh_checks() {
    let text = crate::yaml::corpus::read("real/argocd-install.yaml");
    let mut fx = Fixture::keeping_spans(&text);
    fx.file.keep_spans_without_trees(BACKGROUND_TREE_MIN);
    let lines: Vec<(usize, usize)> = argocd_deep_lines(&text).step_by(400).take(6).collect();
    let before = fx.file.stats();
    // Each round as the benchmark's edit mix: typed and deleted, a line added and removed, a
    // key made a duplicate of its neighbour's and back, the YAML broken and mended.
    for &(line, length) in lines.iter().rev() {
        let end = line + length;
        let key = line + text[line..].find("type").unwrap();
        let value = key + "type: ".len();
        let pad = " ".repeat(key - line);
        let steps: [(Range<usize>, String); 8] = [
            (end..end, "x".into()),
            (end..end + 1, String::new()),
            (end..end, format!("\n{pad}# a note")),
            (end..end + pad.len() + 9, String::new()),
            (end..end, format!("\n{pad}type: object")),
            (end..end + pad.len() + 13, String::new()),
            (value..value, "\"".into()),
            (value..value + 1, String::new()),
        ];
        for (range, insert) in steps {
            fx.edit_bytes(range.clone(), &insert);
            fx.assert_fresh(&format!("{insert:?} at {range:?}"));
        }
    }
    let after = fx.file.stats();
    assert_eq!(after.spliced - before.spliced, 7 * lines.len());
    assert_eq!(after.full, before.full, "no document checked whole");
    assert_eq!(
        after.checked_around - before.checked_around,
        lines.len(),
        "the breaks checked from the mapping around them"
    );
    assert!(fx.file.existing_tree(1).is_none());
}

#[test]
fn edits_of_documents_on_their_kept_span_trees_match_fresh_checks_on_the_corpus() {
    let (mut tried, mut spliced) = (0, 0);
    for (at, text) in crate::yaml::corpus::documents() {
        if text.len() > 64 * 1024 {
            continue;
        }
        let mut fx = Fixture::new(&text);
        fx.file.keep_spans_without_trees(0);
        for index in 0..fx.file.documents().len() {
            if let Some(spans) = fx.file.take_spans(index) {
                fx.file.keep_spans(index, spans);
            }
        }
        let lines: Vec<Range<usize>> = text
            .split_inclusive('\n')
            .scan(0, |offset, line| {
                let start = *offset;
                *offset += line.len();
                Some(start..start + line.trim_end_matches(['\n', '\r']).len())
            })
            .filter(|line| text[line.clone()].contains(": "))
            .collect();
        let step = lines.len().div_ceil(6).max(1);
        for line in lines.into_iter().step_by(step) {
            let content = &text[line.clone()];
            let colon = line.start + content.find(": ").unwrap();
            let indent = content.len() - content.trim_start_matches([' ', '-']).len();
            let previous_key = text[..line.start]
                .lines()
                .last()
                .and_then(|l| l.trim_start_matches([' ', '-']).split(':').next())
                .unwrap_or("x")
                .to_string();
            // Each edit, then its undoing (a break, then its mend).
            let edits = [
                (line.end..line.end, "x".to_string()),
                (line.end..line.end, format!("\n{}k: 1", " ".repeat(indent))),
                (line.start + indent..colon, previous_key),
                (colon + 2..colon + 2, "\"".to_string()),
                (colon + 2..colon + 2, "[".to_string()),
            ];
            for (range, insert) in edits {
                let removed = fx.text.rope().byte_slice(range.clone()).to_string();
                let before = fx.file.stats().spliced;
                fx.edit_bytes(range.clone(), &insert);
                fx.assert_fresh(&format!("{at}: {insert:?} at {range:?}"));
                fx.edit_bytes(range.start..range.start + insert.len(), &removed);
                fx.assert_fresh(&format!("{at}: {insert:?} at {range:?} undone"));
                tried += 2;
                spliced += fx.file.stats().spliced - before;
            }
        }
    }
    assert!(
        tried > 2000 && spliced * 2 > tried,
        "{spliced} of {tried} edits spliced"
    );
}

#[test]
fn a_finished_background_tree_is_adopted_without_an_edit_and_frees_the_kept_span_tree() {
    // Its tree started on the first edit (no span tree kept then), its span tree kept after it.
    let mut fx = Fixture::new(&huge_document());
    let big_line = 7 + 5 + 300;
    let line_start = fx.text.rope().line_to_byte(big_line);
    fx.edit_bytes(line_start + 2..line_start + 2, "x");
    assert!(fx.file.kept_spans(1).is_some() && fx.file.tree_in_progress(1));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while fx.file.kept_spans(1).is_some() {
        assert!(std::time::Instant::now() < deadline, "no tree");
        std::thread::sleep(std::time::Duration::from_millis(5));
        fx.file.adopt_ready_tree(fx.text.rope(), 1);
    }
    let tree = fx.file.existing_tree(1).expect("adopted");
    assert_eq!(tree.root_node().to_sexp(), fresh_tree_of(&fx, 1));
    assert!(!fx.file.tree_in_progress(1));
}

#[test]
fn a_document_keeps_its_seldom_used_state_out_of_line() {
    // Kept for every document of an open file (16,730 in the benchmarks' 10 MB file), while the
    // span tree, the last clean state, the kept spans and the background tree are held by few.
    let size = std::mem::size_of::<YamlDocument>();
    eprintln!("YamlDocument: {size} bytes");
    assert!(size <= 128, "YamlDocument is {size} bytes");
}

#[test]
fn the_edit_that_mends_a_big_document_reparses_only_around_it() {
    // `jsonnet:x` ends a mapping key's line of argocd's big CRD document with a plain scalar: the
    // edit breaks the document, deleting the `x` mends it.
    let (mut fx, index, end) = Fixture::at_argocds_jsonnet_key(Fixture::new);
    let steps = syntax::parse_steps();
    fx.file.tree(fx.text.rope(), index);
    let whole_parse = syntax::parse_steps() - steps;
    fx.edit_bytes(end..end, "x");
    assert!(fx.file.is_broken(index));
    let (steps, before) = (syntax::parse_steps(), fx.file.stats());
    fx.edit_bytes(end..end + 1, "");
    let mending = syntax::parse_steps() - steps;
    assert!(!fx.file.is_broken(index));
    assert_eq!(fx.file.stats().mended, before.mended + 1);
    assert!(
        mending * 100 < whole_parse,
        "the mend took {mending} parse steps, a whole parse {whole_parse}"
    );
    let tree = fx
        .file
        .existing_tree(index)
        .expect("a tree")
        .root_node()
        .to_sexp();
    assert_eq!(tree, fresh_tree_of(&fx, index));
    fx.assert_fresh("mended");
}

#[test]
fn a_key_an_edit_repeats_in_an_ancestor_of_a_broken_document_is_reported() {
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
    text.push_str("  labels:\n    x: y\n    z: w\ndata:\n");
    for i in 0..400 {
        text.push_str(&format!("  key-{i}: value {i}\n"));
    }
    let labels_end = text.find("x: y\n").unwrap() + "x: y\n".len();
    let value = text.find("value 300").unwrap();
    // On its kept span tree (checked from the mapping around the edits) and on its tree-sitter
    // tree (from its last clean tree's mapping): an opening quote breaks the document at its
    // end, then lines inside the labels repeat `metadata`'s `name` (and take `z` under a new
    // key), which a whole check sees.
    for on_kept_spans in [true, false] {
        let mut fx = Fixture::keeping_spans(&text);
        fx.file.recheck_whole_up_to(0);
        if on_kept_spans {
            fx.file.keep_spans_without_trees(0);
            fx.edit_bytes(0..0, "");
        } else {
            fx.file.tree(fx.text.rope(), 0);
        }
        let before = fx.file.stats();
        fx.edit_bytes(value..value, "\"");
        fx.edit_bytes(labels_end..labels_end, "  name: b\n  more:\n");
        assert_eq!(fx.file.stats().checked_around, before.checked_around + 2);
        let codes: Vec<_> = fx.diagnostics().into_iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [codes::DUPLICATE_KEY, codes::SYNTAX],
            "{on_kept_spans}"
        );
        fx.assert_fresh("a key repeated in an ancestor");
    }
}

#[test]
fn a_cancelled_request_stops_the_parse_of_a_broken_documents_tree() {
    use crate::text::cancel::{Cancel, Cancelled};
    let (mut fx, index, end) = Fixture::at_argocds_jsonnet_key(Fixture::keeping_spans);
    fx.edit_bytes(end..end, "x");
    let cancelled = Cancel::default();
    cancelled.cancel();
    // Stopped before its first tree, then before the tree catches up with an edit: the stale
    // tree stays for the next request, which answers with the current text's tree.
    let rope = fx.text.rope().clone();
    let answer = fx.file.tree_unless(&rope, index, &cancelled).map(|_| ());
    assert_eq!(answer, Err(Cancelled));
    assert!(!fx.has_broken_tree(index) && fx.file.is_broken(index));
    assert!(fx.file.tree(fx.text.rope(), index).is_some());
    fx.edit_bytes(end + 1..end + 1, "y");
    let rope = fx.text.rope().clone();
    let answer = fx.file.tree_unless(&rope, index, &cancelled).map(|_| ());
    assert_eq!(answer, Err(Cancelled));
    assert!(fx.has_broken_tree(index));
    let tree = fx.file.tree(fx.text.rope(), index).expect("a tree");
    assert_eq!(tree.root_node().to_sexp(), fresh_tree_of(&fx, index));
}

impl Fixture {
    /// argocd's install.yaml opened with `open`, the index of its big CRD document, and where
    /// `jsonnet:` ends on a key line of it (column 54): the tests append `x` there to break the
    /// document (a plain scalar on a key line) and delete it to mend it.
    fn at_argocds_jsonnet_key(open: fn(&str) -> Fixture) -> (Fixture, usize, usize) {
        let text = crate::yaml::corpus::read("real/argocd-install.yaml");
        let key_line = format!("\n{}jsonnet:\n", " ".repeat(54));
        let end = text.find(&key_line).expect("a jsonnet key") + key_line.len() - 1;
        let fx = open(&text);
        let index = fx.file.document_index_at(end);
        (fx, index, end)
    }

    /// Whether document `index` keeps a tree of its broken text beside its span tree.
    fn has_broken_tree(&self, index: usize) -> bool {
        (self.file.documents[index].kept.as_deref()).is_some_and(KeptSpans::has_broken_tree)
    }
}
