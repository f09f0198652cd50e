//! In-process timings of what opening a big file costs, phase by phase (no LSP, no I/O after the
//! read): saphyr's bare event stream, `check_text` (lint), `YamlFile::open` for the whole file, and
//! open followed by schema validation of every document (what complete diagnostics cost).
//!
//! `cargo bench --bench yaml_open [-- FILE]` (default: the corpus' argocd install.yaml). Prints the
//! median of several runs per phase and the first run's time; nothing is asserted.

use std::time::{Duration, Instant};

use kube_lsp::features::schema_diagnostics::SchemaDiagnostics;
use kube_lsp::schema::{Catalog, validate};
use kube_lsp::text::TextDocument;
use kube_lsp::yaml::{file::YamlFile, lint, split, syntax};

const RUNS: usize = 15;

#[path = "common/edit_line.rs"]
mod edit_line;
#[path = "common/edit_mix.rs"]
mod edit_mix;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(label: &str, mut run: impl FnMut()) {
    let before = counting::ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    run();
    let first = started.elapsed();
    let allocations = counting::ALLOCATIONS.load(std::sync::atomic::Ordering::Relaxed) - before;
    let samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            run();
            started.elapsed()
        })
        .collect();
    println!(
        "{label:<44} {:>8.2} ms (first {:>6.2} ms) {allocations:>9} allocations",
        median(samples).as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0
    );
}

#[path = "common/input.rs"]
mod input;

fn main() {
    let (path, text) = input::file_argument();
    let documents = split::split(&text).documents;
    let biggest = documents
        .iter()
        .max_by_key(|r| r.len())
        .cloned()
        .expect("at least one document");
    let big = &text[biggest.clone()];
    println!(
        "{path}: {} bytes, {} documents, biggest {} bytes",
        text.len(),
        documents.len(),
        big.len()
    );

    time("saphyr events, biggest document", || {
        let mut parser = saphyr_parser::Parser::new_from_str(big);
        while let Some(Ok(_)) = parser.next_event() {}
    });
    time("lint::check_text, biggest document", || {
        std::hint::black_box(lint::check_text(big));
    });
    let document = TextDocument::new(&text, 1);
    time("YamlFile::open, whole file", || {
        std::hint::black_box(YamlFile::open(document.rope()));
    });
    let catalog = Catalog::builtin();
    // As the server does at start: first runs below then cost what a first open costs there.
    kube_lsp::schema::store::Store::builtin().preload_common();
    // First on a fresh catalog: its first run loads the schemas it needs, as an open does.
    let spans = lint::check(big).tree.expect("the biggest document parses");
    time("validation on the span tree, biggest document", || {
        std::hint::black_box(validate::validate_spans(&catalog, &spans));
    });
    let big_rope = ropey::Rope::from_str(big);
    let tree = syntax::parse(&big_rope, 0..big.len(), None);
    time(
        "validation on the tree-sitter tree, biggest document",
        || {
            std::hint::black_box(validate::validate(&catalog, &tree, big));
        },
    );
    time("open + schema validation, whole file", || {
        let mut file = YamlFile::open(document.rope());
        let mut schema = SchemaDiagnostics::default();
        schema.refresh(&mut file, document.rope(), &catalog);
        std::hint::black_box(schema.diagnostics().count());
    });
    edits(&text, &catalog);
    if std::env::args().any(|a| a == "--mix") {
        mix(&text, &catalog);
    }
}

/// The lsp bench's edit mix in process, each edit's YAML update and schema validation timed
/// apart, with the parse and validation counters (`-- --mix`; one line per edit).
fn mix(text: &str, catalog: &Catalog) {
    let mut document = TextDocument::new(text, 1);
    let text = std::sync::Arc::new(text.to_string());
    let (mut file, mut schema) = SchemaDiagnostics::open_text(&text, split::split(&text), catalog);
    let mut by_kind: std::collections::BTreeMap<&str, Vec<Duration>> = Default::default();
    for (round, edits) in edit_mix::rounds(&text, 25).into_iter().enumerate() {
        for edit in edits {
            let position = |(line, character): (usize, usize)| {
                kube_lsp::text::Position::new(line as u32, character as u32)
            };
            let started = Instant::now();
            let range = position(edit.start)..position(edit.end);
            let change = document.apply_change(
                Some(range),
                &edit.text,
                kube_lsp::text::PositionEncoding::Utf16,
            );
            let before = file.stats();
            file.apply_edit(document.rope(), &change);
            let yaml = started.elapsed();
            schema.note_edit(&change);
            schema.refresh(&mut file, document.rope(), catalog);
            std::hint::black_box(schema.diagnostics().count());
            let total = started.elapsed();
            let after = file.stats();
            println!(
                "{round:>2} {:<18} yaml {:>7.2} ms, schema {:>7.2} ms; full {} incremental {}, validated {} patched {}",
                edit.kind,
                yaml.as_secs_f64() * 1000.0,
                (total - yaml).as_secs_f64() * 1000.0,
                after.full - before.full,
                after.incremental - before.incremental,
                schema.last_validated,
                schema.last_patched,
            );
            by_kind.entry(edit.kind).or_default().push(total);
        }
    }
    for (kind, mut samples) in by_kind {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        println!(
            "{kind:<18} p50 {:>7.2} ms, max {:>7.2} ms",
            at(0.5).as_secs_f64() * 1000.0,
            at(1.0).as_secs_f64() * 1000.0
        );
    }
}

/// One-character edits at the end of the line benches/lsp.rs edits: the YAML layer's update and
/// schema validation, per edit.
fn edits(text: &str, catalog: &Catalog) {
    let lines: Vec<&str> = text.lines().collect();
    let Some(line) = edit_line::pick_edit_line(text) else {
        return;
    };
    let mut document = TextDocument::new(text, 1);
    let mut file = YamlFile::open(document.rope());
    let mut schema = SchemaDiagnostics::default();
    schema.refresh(&mut file, document.rope(), catalog);
    let end = lines[line].len() as u32;
    let line = line as u32;
    let (mut samples, mut patched) = (Vec::new(), 0);
    for column in end..=end + (RUNS * 2) as u32 {
        let started = Instant::now();
        let at = kube_lsp::text::Position::new(line, column);
        let edit = document.apply_change(Some(at..at), "x", kube_lsp::text::PositionEncoding::Utf8);
        file.apply_edit(document.rope(), &edit);
        schema.note_edit(&edit);
        schema.refresh(&mut file, document.rope(), catalog);
        std::hint::black_box(schema.diagnostics().count());
        samples.push(started.elapsed());
        patched += schema.last_patched;
    }
    // The first edit of a document builds its tree-sitter tree.
    let first = samples.remove(0);
    println!(
        "{:<44} {:>8.2} ms (first {:.1} ms; {patched} of {} validated around the edit)",
        "edit + schema validation (the lsp bench's line)",
        median(samples).as_secs_f64() * 1000.0,
        first.as_secs_f64() * 1000.0,
        RUNS * 2 + 1,
    );
}

/// Counts heap allocations, to see what each phase asks of the allocator (mimalloc, as in the
/// server).
mod counting {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicUsize, Ordering};

    use mimalloc::MiMalloc;

    pub static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

    pub struct Counting;

    // SAFETY: forwards to mimalloc unchanged.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            unsafe { MiMalloc.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { MiMalloc.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            unsafe { MiMalloc.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;
}
