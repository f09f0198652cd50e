//! Formatting (issue 23): the whole-file formatting request as the server answers it
//! (`format_edits`: pretty_yaml on each document, the guards, the line edits), on a file that
//! needs formatting (as written) and on its formatted text (the common case: nothing to change).
//!
//! `cargo bench --bench format [-- FILE]` (default: the corpus' argocd install.yaml). Prints the
//! first run, the median and the slowest of 20; nothing is asserted.

use kube_lsp::features::format::{FormatOptions, Formatted, format, format_edits};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/input.rs"]
mod input;
#[path = "common/runs.rs"]
mod runs;

use runs::samples;

/// Times `RUNS` whole-file formattings of `text` (the edits, and the formatted text alone);
/// prints them with how many edits they gave.
fn measure(label: &str, text: &str, options: &FormatOptions) {
    let mut edits = 0;
    let with_edits = samples(|| edits = format_edits(text, options).len());
    let text_alone = samples(|| {
        format(text, options);
    });
    println!("{label}: {edits} edits; edits {with_edits}; formatted text alone {text_alone}");
}

fn main() {
    let (path, text) = input::file_argument();
    let options = FormatOptions::default();
    println!(
        "{path}: {} bytes, {} lines",
        text.len(),
        text.lines().count()
    );
    let formatted = match format(&text, &options) {
        Formatted::Text { text, kept, .. } => {
            println!("documents kept as written by the guards: {}", kept.len());
            text
        }
        Formatted::LeftAlone(why) => {
            println!("left alone: {why}");
            return;
        }
    };
    measure("as written", &text, &options);
    measure("formatted already", &formatted, &options);
}
