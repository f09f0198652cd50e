//! Anchors, aliases and web links (issue 23): what a request on an alias costs (its YAML document
//! parsed for anchors: the file's biggest document, the worst case) and the document links of
//! the whole file (every http(s) URL).
//!
//! `cargo bench --bench anchors [-- FILE]` (default: the corpus' argocd install.yaml). Prints the
//! first run, the median and the slowest of 20; nothing is asserted.

use std::time::{Duration, Instant};

use kube_lsp::features::links::url_links;
use kube_lsp::yaml::anchors::Anchors;
use kube_lsp::yaml::split::split;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/input.rs"]
mod input;

const RUNS: usize = 20;

fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The first, median and slowest of `RUNS` runs of `run`.
fn samples(mut run: impl FnMut()) -> String {
    let mut samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let started = Instant::now();
        run();
        samples.push(started.elapsed());
    }
    let first = samples[0];
    samples.sort();
    format!(
        "first {:.1} ms, median {:.1} ms, slowest {:.1} ms",
        milliseconds(first),
        milliseconds(samples[RUNS / 2]),
        milliseconds(samples[RUNS - 1]),
    )
}

fn main() {
    let (path, text) = input::file_argument();
    println!(
        "{path}: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
    let documents = split(&text).documents;
    let biggest = documents
        .iter()
        .max_by_key(|range| range.len())
        .cloned()
        .unwrap_or(0..text.len());
    let document = &text[biggest.clone()];
    let mut found = 0;
    let timing = samples(|| found = Anchors::find(document).anchors.len());
    println!(
        "anchors of the biggest document ({} bytes, {found} anchors): {timing}",
        biggest.len()
    );
    let mut links = 0;
    let timing = samples(|| links = url_links(&text).len());
    println!("web links of the file ({links} URLs): {timing}");
}
