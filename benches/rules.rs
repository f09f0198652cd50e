//! In-process timings of the rules (issue 20): what they add to an edit's diagnostics, on the
//! open document as the server keeps it (`OpenDocument`: change, rules, schema validation,
//! merged diagnostics), with kube-linter's default rules and with none, alternating, plus the
//! rules' share alone and their first check of the whole file.
//!
//! `cargo bench --bench rules [-- FILE]` (default: the corpus' argocd install.yaml). Two series of
//! one-character edits: at the end of the line benches/lsp.rs edits (deep in argocd's 1.4 MB CRD)
//! and of the `image:` line of a Deployment (a document the rules check again). Prints medians
//! and 95th percentiles; nothing is asserted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube_lsp::features::document::{Change, OpenDocument};
use kube_lsp::features::rules::{Config, Context};
use kube_lsp::schema::Catalog;
use kube_lsp::text::{Position, PositionEncoding};
use kube_lsp::workspace::Workspace;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/edit_line.rs"]
mod edit_line;
#[path = "common/input.rs"]
mod input;

const EDITS: usize = 200;

fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let at = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

struct Series {
    /// change + rules + validation + diagnostics, per edit.
    total: Vec<Duration>,
    /// `check_rules` alone.
    rules: Vec<Duration>,
}

/// `EDITS` edits appending and removing a character at the end of `line`, on a document opened
/// with `config`; the workspace index holds the file, as in the server.
fn series(text: &str, line: usize, config: Config, catalog: &Catalog) -> Series {
    let workspace = Workspace::default();
    let path = std::path::Path::new("/bench/argocd-install.yaml");
    workspace.open_text(path, text);
    let index = workspace.read();
    let context = Context {
        config: Arc::new(config),
        index: Some(&index),
        path: Some(path),
        cluster: None,
    };
    let mut document = OpenDocument::open(text, 1, catalog);
    document.check_rules(&context);
    document.validate(catalog);
    let end = text.lines().nth(line).expect("the line").len() as u32;
    let mut series = Series {
        total: Vec::new(),
        rules: Vec::new(),
    };
    for edit in 0..EDITS + 2 {
        let column = end;
        let change = if edit % 2 == 0 {
            let at = Position::new(line as u32, column);
            Change {
                range: Some(at..at),
                text: "x",
            }
        } else {
            let range = Position::new(line as u32, column)..Position::new(line as u32, column + 1);
            Change {
                range: Some(range),
                text: "",
            }
        };
        let started = Instant::now();
        document.change(2 + edit as i32, [change], PositionEncoding::Utf8);
        let rules_started = Instant::now();
        document.check_rules(&context);
        let rules = rules_started.elapsed();
        document.validate(catalog);
        std::hint::black_box(document.diagnostics().len());
        let total = started.elapsed();
        // The first edits of a big document build its tree-sitter tree.
        if edit >= 2 {
            series.total.push(total);
            series.rules.push(rules);
        }
    }
    series
}

fn report(label: &str, text: &str, line: usize, catalog: &Catalog) {
    println!(
        "{label} (line {}: {})",
        line + 1,
        text.lines().nth(line).unwrap_or("").trim()
    );
    // Alternate the two configurations so that both see the same machine load.
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let mut rules = Vec::new();
    for _ in 0..3 {
        let on = series(text, line, Config::default(), catalog);
        with.extend(on.total);
        rules.extend(on.rules);
        without.extend(series(text, line, Config::none(), catalog).total);
    }
    println!(
        "  edit → diagnostics, default rules  p50 {:>7.3} ms  p95 {:>7.3} ms",
        percentile(&with, 0.5),
        percentile(&with, 0.95)
    );
    println!(
        "  edit → diagnostics, no rules       p50 {:>7.3} ms  p95 {:>7.3} ms",
        percentile(&without, 0.5),
        percentile(&without, 0.95)
    );
    println!(
        "  difference of the p50s             {:>+7.3} ms",
        percentile(&with, 0.5) - percentile(&without, 0.5)
    );
    println!(
        "  check_rules alone                  p50 {:>7.3} ms  p95 {:>7.3} ms",
        percentile(&rules, 0.5),
        percentile(&rules, 0.95)
    );
}

fn main() {
    let (path, text) = input::file_argument();
    println!(
        "{path}: {} bytes, {EDITS} edits per series, 3 series per configuration",
        text.len()
    );
    kube_lsp::schema::store::Store::builtin().preload_common();
    let catalog = Catalog::builtin();

    // The first check of every document of the file (after an open, which keeps no span tree).
    let mut samples = Vec::new();
    for _ in 0..5 {
        let mut document = OpenDocument::open(&text, 1, &catalog);
        let started = Instant::now();
        document.check_rules(&Context::alone(Arc::new(Config::default())));
        samples.push(started.elapsed());
    }
    println!(
        "first check_rules of the whole file      p50 {:>7.3} ms",
        percentile(&samples, 0.5)
    );

    if let Some(line) = edit_line::pick_edit_line(&text) {
        report("the lsp bench's edit", &text, line, &catalog);
    }
    let image = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("image: "))
        .map(|(i, _)| i)
        .last();
    if let Some(line) = image {
        report("an edit in a Deployment", &text, line, &catalog);
    }
}
