//! The incremental state of an open document equals a fresh open of the same text: random edits
//! (seeded, within a time budget) on corpus files — inserts, deletes, pastes of other lines,
//! multi-byte text, CRLF, edits on `---` lines and around comments, typing a character and
//! deleting it again, control characters — and after each batch the diagnostics (validated),
//! symbols, folds, the document split and completion at random positions compared with those
//! of `OpenDocument::open` of the text. A divergence
//! prints the seed, the file and the edits that led to it.
//!
//! `KUBE_LSP_PROP_SECS` (default 3) is the budget, `KUBE_LSP_PROP_SEED` the first seed,
//! `KUBE_LSP_PROP_FILE` (optional) a part of the names of the corpus files to edit;
//! `scripts/fuzz` runs it longer.

use super::*;
use crate::features::completion::completions;
use crate::text::position_at;
use crate::text::random_text::{PIECES, Rng, boundary};

/// One random edit of `text` near `near`: the byte range replaced and the new text.
fn edit(rng: &mut Rng, text: &str, near: usize) -> (Range<usize>, String) {
    let start = if rng.below(4) == 0 || text.is_empty() {
        rng.below(text.len() + 1)
    } else {
        let spread = 200.min(text.len());
        near.saturating_sub(spread / 2) + rng.below(spread + 1)
    };
    let start = boundary(text, start);
    let end = match rng.below(3) {
        0 => start,
        1 => boundary(text, start + rng.below(4)),
        _ => boundary(text, start + rng.below(80)),
    };
    let inserted = match rng.below(6) {
        0 => String::new(),
        1 => {
            // A paste of another piece of the text.
            let from = boundary(text, rng.below(text.len() + 1));
            text[from..boundary(text, from + rng.below(120))].to_string()
        }
        _ => PIECES[rng.below(PIECES.len())].to_string(),
    };
    (start..end, inserted)
}

/// Runs `batches` batches of `per_batch` edits on `text`; panics at the first divergence.
/// Returns the edits made and the completion items compared.
fn run(seed: u64, name: &str, text: &str, batches: usize, per_batch: usize) -> (usize, usize) {
    let catalog = Catalog::with_builtin(std::iter::empty());
    let mut rng = Rng::new(seed);
    let mut model = text.to_string();
    let mut document = OpenDocument::open(&model, 1, &catalog);
    let mut history: Vec<(Range<usize>, String, String)> = Vec::new();
    let mut near = rng.below(model.len() + 1);
    let (mut edits, mut items) = (0, 0);
    for batch in 0..batches {
        for _ in 0..per_batch {
            let (range, inserted) = match history.last() {
                // Undo the last edit (typing `{` then deleting it).
                Some((range, inserted, removed)) if rng.below(5) == 0 => {
                    (range.start..range.start + inserted.len(), removed.clone())
                }
                _ => edit(&mut rng, &model, near),
            };
            let encoding = if rng.below(2) == 0 {
                PositionEncoding::Utf16
            } else {
                PositionEncoding::Utf8
            };
            let rope = document.text().rope();
            let change = Change {
                range: Some(
                    position_at(rope, range.start, encoding)
                        ..position_at(rope, range.end, encoding),
                ),
                text: &inserted,
            };
            document.change(document.version() + 1, [change], encoding);
            let removed = model[range.clone()].to_string();
            model.replace_range(range.clone(), &inserted);
            near = range.start;
            history.push((range, inserted, removed));
            edits += 1;
            // A request between edits builds trees and outlines as an editor's would.
            if rng.below(4) == 0 {
                document.symbols();
            }
        }
        document.validate(&catalog);
        let fresh_text = document.text().rope().to_string();
        assert_eq!(
            fresh_text, model,
            "seed {seed} {name}: the text itself diverged"
        );
        let mut fresh = OpenDocument::open(&fresh_text, document.version(), &catalog);
        let context = || {
            let recent: Vec<_> = history.iter().rev().take(per_batch).rev().collect();
            format!("seed {seed}, {name}, batch {batch}, last edits {recent:?}")
        };
        assert_eq!(
            document.diagnostics(),
            fresh.diagnostics(),
            "diagnostics: {}",
            context()
        );
        assert_eq!(
            document.symbols(),
            fresh.symbols(),
            "symbols: {}",
            context()
        );
        assert_eq!(
            document.folds(usize::MAX),
            fresh.folds(usize::MAX),
            "folds: {}",
            context()
        );
        // Completion at random positions (near the edits and anywhere) sees the same document
        // split as a fresh open's.
        let (edited, opened) = (document.snapshot(), fresh.snapshot());
        assert_eq!(
            edited.documents,
            opened.documents,
            "documents: {}",
            context()
        );
        for _ in 0..4 {
            let at = if rng.below(2) == 0 {
                near
            } else {
                rng.below(model.len() + 1)
            };
            let at = boundary(&model, at);
            let complete =
                |s: &TextSnapshot| completions(&s.rope, &s.documents, at, None, &catalog, true);
            let answer = complete(&edited);
            assert_eq!(
                answer,
                complete(&opened),
                "completion at byte {at}: {}",
                context()
            );
            items += answer.len();
        }
    }
    (edits, items)
}

fn budget() -> f64 {
    std::env::var("KUBE_LSP_PROP_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0)
}

/// Random edits on corpus files, until the budget is spent.
#[test]
fn incremental_state_equals_a_fresh_open() {
    let first: u64 = std::env::var("KUBE_LSP_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let files = [
        "real/microservices-demo.yaml",
        "seed/nginx.yml",
        "real/argocd-install.yaml",
    ];
    let texts: Vec<(String, String)> = files
        .iter()
        .filter(|f| std::env::var("KUBE_LSP_PROP_FILE").map_or(true, |only| f.contains(&only)))
        .filter_map(|f| {
            let path = crate::yaml::corpus::root().join(f);
            Some((f.to_string(), std::fs::read_to_string(path).ok()?))
        })
        .collect();
    assert!(!texts.is_empty(), "the corpus is beside the repository");
    let started = std::time::Instant::now();
    let (mut seed, mut edits, mut items) = (first, 0, 0);
    while started.elapsed().as_secs_f64() < budget() {
        let (name, text) = &texts[seed as usize % texts.len()];
        // Big files get fewer, smaller batches: a fresh open per batch is the cost.
        let (batches, per_batch) = if text.len() > 500_000 {
            (2, 16)
        } else {
            (6, 20)
        };
        let (made, compared) = run(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            name,
            text,
            batches,
            per_batch,
        );
        (edits, items) = (edits + made, items + compared);
        seed += 1;
    }
    eprintln!(
        "incremental vs fresh: {edits} edits, {items} completion items compared, seeds {first}..{seed}"
    );
}

/// Typing `{` inside a mapping and deleting it again leaves the outline a fresh open gives.
#[test]
fn a_brace_typed_and_deleted_leaves_the_outline_of_a_fresh_open() {
    let catalog = Catalog::with_builtin(std::iter::empty());
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  # note\nspec:\n  ports:\n  - port: 80\n";
    let mut document = OpenDocument::open(text, 1, &catalog);
    document.symbols();
    let at = Position::new(3, 9);
    let brace = Change {
        range: Some(at..at),
        text: "{",
    };
    document.change(2, [brace], PositionEncoding::Utf16);
    document.symbols();
    let after = Position::new(3, 10);
    let delete = Change {
        range: Some(at..after),
        text: "",
    };
    document.change(3, [delete], PositionEncoding::Utf16);
    document.validate(&catalog);
    let mut fresh = OpenDocument::open(text, 3, &catalog);
    assert_eq!(document.symbols(), fresh.symbols());
    assert_eq!(document.folds(usize::MAX), fresh.folds(usize::MAX));
    assert_eq!(document.diagnostics(), fresh.diagnostics());
}
