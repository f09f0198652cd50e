//! Anchors, aliases and web links (issue 23): what a request on an alias costs (its YAML document
//! parsed for anchors: the file's biggest document, the worst case) and the document links of
//! the whole file (every http(s) URL).
//!
//! `cargo bench --bench anchors [-- FILE]` (default: the corpus' argocd install.yaml). Prints the
//! first run, the median and the slowest of 20; nothing is asserted.

use kube_lsp::features::links::url_links;
use kube_lsp::yaml::anchors::Anchors;
use kube_lsp::yaml::split::split;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/input.rs"]
mod input;
#[path = "common/runs.rs"]
mod runs;

use runs::samples;

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
